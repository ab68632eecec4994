"""Plotly serialisation with and without orjson, on the figures the app draws from the shipped zoo.

Streamlit sends every chart to the browser as ``plotly.io.to_json(fig, validate=False)``; plotly
encodes it with its own ``json`` engine, or with ``orjson`` when that package is installed (engine
"auto"). This builds the app's figures with the explorer's own builders, on the page defaults (grammar,
t = 0.25, training example 0, seed 0; the per-model figures at ``--n``), and times that call under each
engine (``plotly.io.json.config.default_engine``), alternating the two engines in every round so that
a change in the machine's load hits both. Prints, per figure: the JSON size, the median time per
call under each engine and their ratio; then the totals. Both engines' JSON is checked to decode to
the same value.

Run: python benchmarks/bench_plotly_json.py [--n 1024] [--rounds 15]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # `python benchmarks/bench_plotly_json.py` from anywhere

ZOO = REPO / "assets" / "zoo"
CORPUS, T, EXAMPLE, SEED = "grammar", 0.25, 0, 0   # the app's defaults (explorer.state.DEFAULTS)
ENGINES = ("json", "orjson")


def app_figures(n: int) -> dict:
    """name -> plotly figure, as the pages build them (the page each comes from in the name)."""
    import numpy as np
    import torch

    from engine.measures import profiles
    from engine.models.checkpoint import load
    from engine.measures.evaluation import load_evaluation
    from engine.measures.measure import mean_entropy
    from engine.measures.transition import n_star_at
    from engine.runs.zoo import collect_table, read_index, results_table
    from explorer.figures import basins as bf, grid as gf, maps as mf
    from explorer import trajectory as tj
    from explorer.figures import transition as tf

    entries = {e["n"]: ZOO / e["path"] for e in read_index(ZOO) if e["corpus"] == CORPUS}
    if n not in entries:
        raise SystemExit(f"no {CORPUS} model with N = {n} in {ZOO}; choose one of {sorted(entries)}")
    path = entries[n]
    results = results_table(ZOO, CORPUS)
    sizes, _ = collect_table(ZOO, "basin_size", CORPUS)
    tables = dict(load_evaluation(path).tables)
    b = load(path)
    splits = ("train", "test", "generated")
    gens = tables["generations"]
    sentences = {"train": [b.tokenizer.decode(r) for r in b.train_ids.tolist()],
                 "test": [b.tokenizer.decode(r) for r in b.test_ids.tolist()],
                 "generated": [str(s) for s in gens["text"]]}
    ids = {"train": b.train_ids.tolist(), "test": b.test_ids.tolist(), "generated": [list(r) for r in gens["ids"]]}
    tokens = {s: [b.tokenizer.tokens(r) for r in ids[s]] for s in splits}
    V = b.noise.V

    figs = {
        "transition: recovery vs N": tf.transition_figure(results, T, selected_n=n, V=V),
        "transition: entropy vs N": tf.entropy_figure(results, T, selected_n=n, transition=n_star_at(results, T), V=V),
        "basins: size distribution": bf.size_distribution_figure(sizes, n),
        "basins: fixed points": bf.fixed_points_figure(results, n),
    }
    ranked = profiles.rank(tables["basin_size"], tables["basin_profile"])
    figs["basins: size vs length"] = bf.size_length_figure(ranked, sentences, ("train", EXAMPLE))
    size = float(ranked[(ranked["split"] == "train") & (ranked["example"] == EXAMPLE)]["size"].iloc[0])
    refs = {f"ideal {r}": tables[f"{r}_basin_profile"] for r in ("memorizer", "generalizer")
            if f"{r}_basin_profile" in tables}
    figs["basins: hamming profile"] = bf.hamming_profile_figure({"model": tables["basin_profile"]} | refs,
                                                                "train", EXAMPLE, size)

    entropy = tables["entropy"]
    present = entropy[np.isclose(entropy["t"], T)].groupby("split")["example"].unique()
    rows = [(s, int(i)) for s in splits if s in present for i in sorted(present[s])[:24]]   # 24 rows per split
    figs["entropy map: heatmap"] = mf.entropy_heatmap_figure(mf.entropy_rows(entropy, T, rows, content_only=True),
                                                             tokens, T, V=V)
    proj_path = Path(path) / "measure" / "projection.parquet"
    if proj_path.exists():
        import pandas as pd

        means = mean_entropy(entropy)
        values = means[np.isclose(means["t"], T)].set_index(["split", "example"])["entropy"].clip(lower=0.0)
        points = mf.projection_points(pd.read_parquet(proj_path), "tok", values, sentences)
        figs["entropy map: UMAP"] = mf.projection_figure(points)

    x0 = b.train_ids[EXAMPLE]
    r = tj.run(b.model, b.noise, x0, T, SEED)
    r2 = tj.run(b.model, b.noise, x0, T, SEED + 1)
    figs["denoise: token grid"] = gf.token_grid_figure(r, b.tokenizer.itos)
    figs["denoise: A/B grids"] = gf.pair_grid_figure(r, r2, b.tokenizer.itos, b.tokenizer.itos, ("seed 0", "seed 1"))
    figs["denoise: step entropy"] = gf.entropy_figure({"model": r})
    return figs


def to_json(fig, engine: str) -> tuple[str, float]:
    """Streamlit's call (``streamlit.elements.plotly_chart``) under ``engine``: the JSON and its seconds."""
    import plotly.io as pio

    pio.json.config.default_engine = engine
    began = time.perf_counter()
    out = pio.to_json(fig, validate=False)
    return out, time.perf_counter() - began


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1024, help="N of the grammar model whose per-model figures are drawn")
    p.add_argument("--rounds", type=int, default=15, help="timed calls per figure and engine (after one warm-up)")
    args = p.parse_args()

    import plotly

    try:
        import orjson
    except ImportError:
        raise SystemExit("orjson is not installed: pip install -r requirements.txt") from None
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(f"plotly {plotly.__version__}, orjson {orjson.__version__}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs; {CORPUS} N = {args.n}, t = {T}; median of {args.rounds} calls per engine")
    figs = app_figures(args.n)

    totals = dict.fromkeys(ENGINES, 0.0)
    print(f"{'figure':30s} {'JSON kB':>8s} {'json ms':>9s} {'orjson ms':>10s} {'json/orjson':>12s}")
    for name, fig in figs.items():
        outs = {e: to_json(fig, e)[0] for e in ENGINES}   # warm-up (imports, plotly's lazy validators)
        if json.loads(outs["json"]) != json.loads(outs["orjson"]):
            raise SystemExit(f"{name}: the two engines' JSON decode to different values")
        times = {e: [] for e in ENGINES}
        for i in range(args.rounds):
            for e in ENGINES if i % 2 == 0 else ENGINES[::-1]:   # alternate which engine goes first
                times[e].append(to_json(fig, e)[1])
        med = {e: statistics.median(times[e]) for e in ENGINES}
        for e in ENGINES:
            totals[e] += med[e]
        print(f"{name:30s} {len(outs['json'].encode()) / 1e3:8.1f} {med['json'] * 1e3:9.2f} "
              f"{med['orjson'] * 1e3:10.2f} {med['json'] / med['orjson']:11.2f}x")
    print(f"{'all figures (sum of medians)':30s} {'':8s} {totals['json'] * 1e3:9.2f} {totals['orjson'] * 1e3:10.2f} "
          f"{totals['json'] / totals['orjson']:11.2f}x")
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
