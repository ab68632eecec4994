"""Ideal-denoiser benchmark: the exact references measured with the trained models' protocol.

For the grammar corpus (``corpus.grammar_corpus()``, seq_len 16, V = 131):

1. the ideal memorizer over the first N pool sentences (default N = 8192, the whole pool) and
2. the ideal generalizer of the grammar's language,

each measured by ``measure.recovery_table`` exactly as ``evaluation.evaluate`` measures a checkpoint:
128 train examples (the first 128 of the pool) + 128 test examples, 4 trials, levels
(0.05, 0.1, 0.25, 0.5, 1.0), default steps_per_unit, stochastic steps, generator seeded with 0.
Prints the load average first (the machine is shared; the timings move with it), then the wall
time of each measurement (target: within 60 s each on 2 cores), the time of one 128-row forward
pass, and the mean recovery_rate / exact_match per split and level (content positions).

Run: python benchmarks/bench_ideal.py [--n N] [--threads T]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/bench_ideal.py` from anywhere

from engine.text.corpus import grammar_corpus  # noqa: E402
from engine.models.ideal import ideal_generalizer, ideal_memorizer  # noqa: E402
from engine.measures.measure import LEVELS, recovery_table  # noqa: E402
from engine.diffusion.noise import UniformNoise  # noqa: E402
from engine.diffusion.sample import CHUNK, STEPS_PER_UNIT  # noqa: E402

N_TRAIN = N_TEST = 128
TRIALS = 4


def forward_ms(model, z: torch.Tensor, t: float = 0.5, repeats: int = 10) -> float:
    """Best wall time of one forward pass on z (B, L), in milliseconds."""
    tt = torch.full((len(z),), t)
    model(z, tt)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model(z, tt)
        best = min(best, time.perf_counter() - start)
    return 1e3 * best


def measure(name: str, model, noise, splits, train_ids) -> None:
    """Time recovery_table on ``splits`` and print its means per split and level."""
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    table = recovery_table(model, noise, splits, LEVELS, TRIALS, generator=gen,
                           steps_per_unit=STEPS_PER_UNIT, train_ids=train_ids)
    seconds = time.perf_counter() - start
    print(f"\n{name}: recovery_table {seconds:.1f} s ({len(table)} denoising runs, "
          f"one {CHUNK}-row forward {forward_ms(model, splits['train'][:CHUNK]):.1f} ms)")
    means = table.groupby(["t", "split"])[["recovery_rate", "exact_match"]].mean().unstack("split")
    print(means.round(3).to_string())
    at = table[table["t"] == 0.25].groupby("split")[["recovery_rate", "exact_match"]].mean()
    for split, row in at.iterrows():
        print(f"  t = 0.25 {split:5s}: recovery_rate {row['recovery_rate']:.3f}  exact_match {row['exact_match']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8192,
                        help="training sequences of the memorizer (the first N of the pool)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"uptime: {uptime}\ncpus: {os.cpu_count()}, torch threads: {torch.get_num_threads()}, torch {torch.__version__}")

    corpus = grammar_corpus()
    train_ids = corpus.encode(corpus.subset(args.n))                             # (N, L)
    splits = {"train": train_ids[:N_TRAIN], "test": corpus.encode(corpus.test[:N_TEST])}
    noise = UniformNoise(corpus.tokenizer.vocab_size)
    print(f"grammar corpus: N = {len(train_ids)}, L = {corpus.seq_len}, V = {noise.V}, "
          f"levels {LEVELS}, {TRIALS} trials, steps_per_unit {STEPS_PER_UNIT}")

    start = time.perf_counter()
    memorizer = ideal_memorizer(train_ids, noise)
    print(f"memorizer built in {time.perf_counter() - start:.2f} s")
    measure(f"ideal memorizer (N = {len(train_ids)})", memorizer, noise, splits, train_ids)

    start = time.perf_counter()
    generalizer = ideal_generalizer(noise, corpus.seq_len)
    assert generalizer.tokenizer.itos == corpus.tokenizer.itos, "the generalizer's ids differ from the corpus's"
    print(f"\ngeneralizer built in {time.perf_counter() - start:.2f} s ({generalizer.emit.shape[0]} automaton states)")
    measure("ideal generalizer", generalizer, noise, splits, train_ids)


if __name__ == "__main__":
    main()
