"""The final train loss (``engine.measures.underfit.final_loss``) of the default What-if run (explorer.whatif.runs:
small model, 1,600 steps of 64, seed 0) on grammar at the given N, beside the zoo's model at that N:
the measurements behind ``engine.measures.underfit``'s thresholds. Trains only (no measuring), one thread.

    python scripts/whatif_losses.py 64 256 2048
"""
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere
from engine.text.corpus import load_corpus  # noqa: E402
from engine.runs.sweep import fit  # noqa: E402
from engine.measures.underfit import final_loss, loss_limit  # noqa: E402
from explorer.whatif import runs  # noqa: E402

ZOO = Path(__file__).resolve().parent.parent / "assets" / "zoo" / "grammar"


def zoo_losses() -> dict[int, float]:
    return {int(p.parent.name[1:]): final_loss(json.loads(p.read_text()).get("loss_history") or [])
            for p in ZOO.glob("n*/meta.json")}


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="+", type=int, metavar="N", help="training-set sizes N")
    args = ap.parse_args()
    torch.set_num_threads(1)
    corpus, zoo = load_corpus("grammar"), zoo_losses()
    for n in args.sizes:
        model_cfg, train_cfg = runs.Settings(n=n).configs(corpus)
        start = time.time()
        trained = fit(corpus.encode(corpus.subset(n)), model_cfg, train_cfg)
        print(json.dumps({"n": n, "final_loss": round(final_loss(trained.history), 3),
                          "last_window": round(trained.history[-1][1], 3), "zoo": round(zoo.get(n, float("nan")), 3),
                          "limit": loss_limit(n, zoo) and round(loss_limit(n, zoo), 3),
                          "seconds": round(time.time() - start, 1)}), flush=True)
