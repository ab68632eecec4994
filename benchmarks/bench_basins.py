"""Basin-profile figures for the README (issue 12), on the shipped grammar zoo.

1. Speed: the Hamming profile of 128 train + 128 test examples at 8 trials (MeasureConfig defaults)
   on the N = 1024 model, and the ideal memorizer of N = 8192 through the same measurement.
2. Grid: profiles of ``--sub`` examples per split at 25 steps per unit time (the default for
   profiles) and at 100 (the recovery measurement's grid): median sizes, per-example differences
   and the rank correlation of per-example sizes.
3. Padding: the N = 16 and N = 64 models and their ideal memorizers with padding corrupted at the
   content's share (the default) and with clean padding: median train / test basin size.

    python benchmarks/bench_basins.py [--threads 1] [--examples 128]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine.models import checkpoint  # noqa: E402
from engine.measures.basin import basin_sizes, hamming_profile  # noqa: E402
from engine.measures.evaluation import MeasureConfig  # noqa: E402
from engine.models.ideal import ideal_memorizer  # noqa: E402
from engine.measures.stats import spearman  # noqa: E402

ZOO = Path(__file__).resolve().parent.parent / "assets" / "zoo" / "grammar"


def profile(model, b, m: int, *, steps: int, pad_noise: bool = True, seed: int = 0):
    cfg = MeasureConfig()
    splits = {"train": b.train_ids[:m], "test": b.test_ids[:m]}
    start = time.perf_counter()
    prof = hamming_profile(model, b.noise, splits, trials=cfg.profile_trials, generator=torch.Generator().manual_seed(seed),
                           steps_per_unit=steps, pad_noise=pad_noise)
    return basin_sizes(prof), time.perf_counter() - start, len(prof)


def medians(sizes) -> str:
    med = sizes.groupby("split")["size"].median()
    return " ".join(f"{s} {med.get(s, float('nan')):.3f}" for s in ("train", "test"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--examples", type=int, default=128, help="examples per split for the speed figures")
    p.add_argument("--sub", type=int, default=32, help="examples per split for the grid and padding comparisons")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    m, spu = args.examples, MeasureConfig().profile_steps_per_unit

    b = checkpoint.load(ZOO / "n01024")
    s25, sec, rows = profile(b.model, b, m, steps=spu)
    print(f"\n1. Hamming profile, N = 1024 network, {m} + {m} examples x 8 trials, {spu} steps/unit: "
          f"{sec:.1f} s ({rows} profile rows); median size {medians(s25)}")
    big = checkpoint.load(ZOO / "n08192")
    s_mem, sec, rows = profile(ideal_memorizer(big.train_ids, big.noise), big, m, steps=spu)
    print(f"   ideal memorizer of N = 8192, same measurement: {sec:.1f} s ({rows} rows); median size {medians(s_mem)}")

    s25, _, _ = profile(b.model, b, args.sub, steps=spu, seed=1)
    s100, sec, _ = profile(b.model, b, args.sub, steps=100, seed=1)
    both = s25.merge(s100, on=["split", "example"], suffixes=("_25", "_100"))
    diff = (both["size_25"] - both["size_100"]).abs()
    train = both[both["split"] == "train"]
    print(f"\n2. {args.sub} + {args.sub} examples at {spu} and at 100 steps/unit ({sec:.1f} s at 100): median size {medians(s100)}; "
          f"|size(25) - size(100)| median {diff.median():.3f}, mean {diff.mean():.3f}; "
          f"Spearman(train sizes) {spearman(train['size_25'], train['size_100']):.2f}")

    print("\n3. Padding: median basin size (train / test), padding corrupted vs clean")
    for n in (16, 64):
        e = checkpoint.load(ZOO / f"n{n:05d}")
        for name, model in (("network", e.model), ("ideal memorizer", ideal_memorizer(e.train_ids, e.noise))):
            noisy, _, _ = profile(model, e, args.sub, steps=spu, pad_noise=True)
            clean, _, _ = profile(model, e, args.sub, steps=spu, pad_noise=False)
            print(f"   N = {n:>3} {name:<16} corrupted padding: {medians(noisy)} | clean padding: {medians(clean)}")
    lengths = np.unique(b.train_ids.ne(0).sum(1).numpy())
    print(f"\n(sentence lengths in the grammar corpus: {lengths.min()}..{lengths.max()} positions incl. <eos>)")


if __name__ == "__main__":
    main()
