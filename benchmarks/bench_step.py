"""The exact reverse step against the plug-in step: time per denoising step and what each generates.

Issue 20's targets, measured in this one process on the shipped zoo:

1. time per step — the full ``denoise`` walk (network forward, the step's float64 distribution, the
   categorical draw) of 128 sequences from pure noise, both steps interleaved over several rounds on
   one torch thread; the ratio exact / plug-in is the median of the per-round ratios (target <= 1.10);
   the step alone (``reverse_probs``) is timed the same way at the kjv vocabulary;
2. generations — 128 samples from pure noise at 500 steps per unit, the same initial noise for both
   steps: grammar N = 8,192 grammatical share (target >= 0.90 with the exact step), kjv N = 16,384
   word trigrams seen in the kjv training pool (target >= 0.40), and the ideal generalizer (64 samples
   at 100 steps per unit; target 1.00).

Run: python benchmarks/bench_step.py [--rounds R] [--skip-generations]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from engine.measures import fluency  # noqa: E402
from engine.text.corpus import load_corpus, oracle_for  # noqa: E402
from engine.models.ideal import ideal_generalizer  # noqa: E402
from engine.measures.novelty import novelty_table  # noqa: E402
from engine.diffusion.noise import UniformNoise  # noqa: E402
from engine.diffusion.step import STEPS, reverse_probs  # noqa: E402

ZOO = ROOT / "assets" / "zoo"


def time_walks(b, rounds: int, steps_per_unit: int = 100) -> dict[str, list[float]]:
    """Seconds per step of the whole denoising walk, per round, for each step (interleaved)."""
    out = {s: [] for s in STEPS}
    z1 = torch.randint(0, b.noise.V, (128, b.config.seq_len), generator=torch.Generator().manual_seed(0))
    for r in range(rounds + 1):
        for step in (STEPS if r % 2 else STEPS[::-1]):
            start = time.perf_counter()
            engine.denoise(b.model, z1, 1.0, b.noise, steps_per_unit=steps_per_unit, step=step,
                           generator=torch.Generator().manual_seed(r))
            if r:                                  # round 0 warms up
                out[step].append((time.perf_counter() - start) / steps_per_unit)
    return out


def time_steps(V: int, rounds: int) -> dict[str, list[float]]:
    """Seconds of ``reverse_probs`` alone on (128, 16, V), per round, for each step."""
    noise = UniformNoise(V)
    g = torch.Generator().manual_seed(0)
    x = torch.softmax(torch.randn(128, 16, V, generator=g, dtype=torch.float64), -1)
    z = torch.randint(0, V, (128, 16), generator=g)
    out = {s: [] for s in STEPS}
    for r in range(rounds):
        for step in STEPS:
            start = time.perf_counter()
            for _ in range(20):
                reverse_probs(noise, x, z, 0.5, 0.49, step)
            out[step].append((time.perf_counter() - start) / 20)
    return out


def ratio_line(name: str, times: dict[str, list[float]]) -> str:
    ratios = [e / p for e, p in zip(times["exact"], times["plugin"])]
    return (f"{name}: exact {statistics.median(times['exact']) * 1e3:.2f} ms, plug-in "
            f"{statistics.median(times['plugin']) * 1e3:.2f} ms per step; exact / plug-in median "
            f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f}, {len(ratios)} rounds)")


def generations(model, noise, seq_len: int, n: int, steps_per_unit: int, oracle=None,
                reference=None) -> dict[str, str]:
    """Per step: the grammatical share (with ``oracle``) or the seen trigram share (``reference``) of
    n samples drawn from the same initial noise, and the seconds they took."""
    out = {}
    for step in STEPS:
        start = time.perf_counter()
        s = engine.generate(model, n, noise, seq_len, generator=torch.Generator().manual_seed(0),
                            steps_per_unit=steps_per_unit, step=step)
        seconds = time.perf_counter() - start
        if oracle is not None:
            valid = sum(bool(oracle(r)) for r in s.tolist()) / len(s)
            out[step] = f"grammatical {valid:.3f}"
        else:
            share = fluency.seen_share(fluency.fluency_table({"g": s}, reference, (3,)))
            out[step] = f"trigrams seen {share[0]:.3f} (95 % {share[1]:.3f}-{share[2]:.3f})"
        out[step] += f" [{seconds:.1f} s]"
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--skip-generations", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    print(f"load average {os.getloadavg()[0]:.2f} (check nothing else runs); one torch thread")
    grammar = engine.load(ZOO / "grammar" / "n08192")
    kjv = engine.load(ZOO / "kjv" / "n16384")
    print(ratio_line(f"denoise walk, grammar N = 8,192 (V = {grammar.noise.V})", time_walks(grammar, args.rounds)))
    print(ratio_line(f"denoise walk, kjv N = 16,384 (V = {kjv.noise.V})", time_walks(kjv, args.rounds)))
    print(ratio_line(f"reverse_probs alone, V = {kjv.noise.V}", time_steps(kjv.noise.V, args.rounds)))
    if args.skip_generations:
        return 0
    oracle = oracle_for("grammar", grammar.tokenizer)
    L = grammar.config.seq_len
    for name, result in generations(grammar.model, grammar.noise, L, 128, 500, oracle=oracle).items():
        print(f"grammar N = 8,192, 128 samples, 500 steps/unit, {name} step: {result}")
    ideal = ideal_generalizer(grammar.noise, L)
    for name, result in generations(ideal, grammar.noise, L, 64, 100, oracle=oracle).items():
        print(f"ideal generalizer, 64 samples, 100 steps/unit, {name} step: {result}")
    pool = load_corpus("kjv").pool
    reference = torch.tensor([kjv.tokenizer.encode_fixed(s, kjv.config.seq_len) for s in pool], dtype=torch.long)
    for name, result in generations(kjv.model, kjv.noise, kjv.config.seq_len, 128, 500, reference=reference).items():
        print(f"kjv N = 16,384, 128 samples, 500 steps/unit, {name} step: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
