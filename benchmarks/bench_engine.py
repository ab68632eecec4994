"""Engine benchmark: every figure is measured in this one process, on this machine.

1. fp32 matmul peak (best of repeated square matmuls);
2. training to memorization: N = 64 grammar sentences with the default config — wall time and
   train/test exact match at t = 0.25 (target: train >= 0.95 in <= 60 s on 2 cores);
3. achieved FLOP/s of batched denoising (matmul FLOPs counted from the architecture) and its ratio
   to the peak (target >= 0.6), for several chunk sizes (``denoise(chunk=...)``) to justify CHUNK.
   The machine's speed drifts from second to second, so every ratio pairs one timed run with the
   matmul peak measured just before it, and several such rounds give a median and a range;
4. speed-up of the batched sampler over a per-example loop of the same sampler (target >= 20x), and
   its ceiling: the loop's time per sequence over the time the same FLOPs take at the matmul peak;
5. the default time grid (STEPS_PER_UNIT per unit time) against the paper's 1000 steps per unit;
6. the two training objectives (cross-entropy vs the UDLM NELBO) on the same N = 64 task and budget.

Runs on the device the engine trains on (CUDA when present, else the CPU), peak included.
Run: python benchmarks/bench_engine.py [--quick] [--batch B]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/bench_engine.py` from anywhere

from engine.text.corpus import grammar_corpus  # noqa: E402
from engine.measures.measure import recovery_table  # noqa: E402
from engine.models.model import Denoiser, ModelConfig  # noqa: E402
from engine.diffusion.noise import UniformNoise  # noqa: E402
from engine.diffusion.sample import CHUNK, STEPS_PER_UNIT, denoise, time_grid  # noqa: E402
from engine.models.train import TrainConfig, default_device, train  # noqa: E402


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device: torch.device, repeats: int = 10) -> float:
    """fp32 FLOP/s of the best of ``repeats`` square matmuls (2048^3 on the CPU, 8192^3 on a GPU)."""
    n = 8192 if device.type == "cuda" else 2048
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best


def timed(fn, device, repeats=3):
    best, out = float("inf"), None
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        out = fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best, out


def against_peak(fn, flops: float, device, rounds: int) -> list[float]:
    """``rounds`` ratios of fn's achieved FLOP/s to the matmul peak, each timed run paired with a peak
    (best of 3) measured just before it, so that the machine's drift cancels within a pair."""
    ratios = []
    for _ in range(rounds):
        peak = matmul_peak(device, repeats=3)
        sec, _ = timed(fn, device, repeats=1)
        ratios.append(flops / sec / peak)
    return ratios


def summary(ratios: list[float]) -> str:
    return f"median {statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f}, {len(ratios)} rounds)"


def batching_speedup(model, zt, t0, noise, loop_n, peak):
    """Sequences per second of a per-example loop of ``denoise`` over the first loop_n rows of zt and of
    one batched call on all of zt, and the ceiling of their ratio: the loop's time per sequence over
    the time the same matmul FLOPs would take at the peak (what batching could gain at best)."""
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(4)
    sec_loop, _ = timed(lambda: [denoise(model, zt[i:i + 1], t0, noise, generator=gen) for i in range(loop_n)],
                        device, 1)
    sec_batch, _ = timed(lambda: denoise(model, zt, t0, noise, generator=gen), device, 2)
    flops_per_seq = model.matmul_flops_per_token() * zt.shape[1] * len(time_grid(t0))
    return loop_n / sec_loop, len(zt) / sec_batch, (sec_loop / loop_n) / (flops_per_seq / peak)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller batches (a smoke run, not the figures)")
    p.add_argument("--batch", type=int, default=None, help="sequences in the batched runs (default 2048)")
    args = p.parse_args()
    torch.manual_seed(0)
    device = default_device()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {name}")
    peak = matmul_peak(device)
    print(f"[1] fp32 matmul peak: {peak / 1e9:.1f} GFLOP/s (best of 10)")

    corpus = grammar_corpus()
    train_ids, test_ids = corpus.encode(corpus.subset(64)), corpus.encode(corpus.test[:128])
    model_cfg = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=corpus.seq_len)
    cfg = TrainConfig()
    start = time.perf_counter()
    model, history = train(train_ids, model_cfg, cfg, device=device)
    seconds = time.perf_counter() - start
    model = model.to(device)  # train() hands the model back on the CPU
    noise_ = UniformNoise(model_cfg.vocab_size, model_cfg.noise_eps)
    rec = recovery_table(model, noise_, {"train": train_ids, "test": test_ids}, (0.25,), 4,
                         generator=torch.Generator().manual_seed(0))
    exact = rec.groupby("split")["exact_match"].mean()
    print(f"[2] train N=64 grammar, default config ({cfg.steps} steps, {model.n_params():,} params): "
          f"{seconds:.1f} s; exact match at t=0.25: train {exact['train']:.3f}, test {exact['test']:.3f} "
          f"(target train >= 0.95 within 60 s: {'met' if exact['train'] >= 0.95 and seconds <= 60 else 'NOT met'})")

    B = args.batch or (256 if args.quick else 2048)
    rounds = 2 if args.quick else 5
    t0 = 0.25
    x0 = corpus.encode([corpus.pool[i % len(corpus.pool)] for i in range(B)])
    zt = noise_.sample_xt(x0, t0, generator=torch.Generator().manual_seed(1))
    gen = torch.Generator(device=device).manual_seed(1)   # the sampler's draws, on the model's device
    n_steps = len(time_grid(t0))                       # n denoising steps + the final noise removal
    flops = model.matmul_flops_per_token() * model_cfg.seq_len * n_steps * B
    chunks = sorted({16, 32, 64, CHUNK, 128, 256, B}) if device.type == "cpu" else [B]  # a GPU takes it whole
    for chunk in chunks:
        ratios = against_peak(lambda: denoise(model, zt, t0, noise_, generator=gen, chunk=chunk), flops, device,
                              max(2, rounds - 2))
        print(f"[3] batched denoising B={B} in chunks of {chunk:>5}{' (default)' if chunk == CHUNK else '          '}: "
              f"{statistics.median(ratios):.2f} of the matmul peak")
    for greedy in (True, False):
        ratios = against_peak(lambda: denoise(model, zt, t0, noise_, greedy=greedy, generator=gen), flops, device,
                              rounds)
        print(f"[3] batched denoising B={B}, {n_steps - 1} steps ({'greedy' if greedy else 'stochastic'}), "
              f"achieved / peak: {summary(ratios)} (target >= 0.60)")
    with torch.no_grad():
        fwd_B = CHUNK if device.type == "cpu" else B
        xb = torch.randint(0, model_cfg.vocab_size, (fwd_B, model_cfg.seq_len), device=device)
        tb = torch.full((fwd_B,), 0.5, device=device)
        ratios = against_peak(lambda: [model(xb, tb) for _ in range(20)],
                              20 * model.matmul_flops_per_token() * fwd_B * model_cfg.seq_len, device, rounds)
    print(f"    network forward alone, B={fwd_B}: {summary(ratios)}")

    loop_n = 16 if args.quick else 64
    loop, batched, ceiling = batching_speedup(model, zt, t0, noise_, loop_n, peak)
    print(f"[4] per-example loop: {loop:.1f} seq/s; batched B={B}: {batched:.1f} seq/s; speed-up "
          f"{batched / loop:.1f}x (target >= 20x); ceiling (batched at 100% of the matmul peak): {ceiling:.1f}x")
    for d in (32, 64, 256):  # the trade-off between the two targets, on untrained networks of other widths
        m = Denoiser(replace(model_cfg, d_model=d, n_heads=max(1, d // 32))).to(device).eval()
        loop, batched, ceiling = batching_speedup(m, zt, t0, noise_, loop_n, peak)
        ratios = against_peak(lambda: denoise(m, zt, t0, noise_, generator=gen),
                              m.matmul_flops_per_token() * model_cfg.seq_len * n_steps * B, device, max(2, rounds - 2))
        print(f"    d_model {d:>3}: batched {statistics.median(ratios):.2f} of the peak; speed-up {batched / loop:.1f}x; "
              f"ceiling {ceiling:.1f}x")

    both = {"train": train_ids, "test": test_ids}
    for spu in (STEPS_PER_UNIT, 1000):
        start = time.perf_counter()
        r = recovery_table(model, noise_, both, (0.25,), 4, steps_per_unit=spu,
                           generator=torch.Generator().manual_seed(2))
        g = r.groupby("split")[["recovery_rate", "exact_match"]].mean()
        print(f"[5] steps per unit {spu:>4}: train recovery {g.loc['train', 'recovery_rate']:.3f} exact "
              f"{g.loc['train', 'exact_match']:.3f} | test recovery {g.loc['test', 'recovery_rate']:.3f} exact "
              f"{g.loc['test', 'exact_match']:.3f} ({time.perf_counter() - start:.1f} s)")

    for objective in ("ce", "nelbo"):
        ocfg = TrainConfig(objective=objective)
        start = time.perf_counter()
        m, _ = train(train_ids, model_cfg, ocfg, device=device)
        sec = time.perf_counter() - start
        r = recovery_table(m, noise_, both, (0.25,), 4, generator=torch.Generator().manual_seed(3))
        g = r.groupby("split")["exact_match"].mean()
        print(f"[6] objective {objective:<5}: {ocfg.steps} steps in {sec:.1f} s; exact match at t=0.25: "
              f"train {g['train']:.3f}, test {g['test']:.3f}")


if __name__ == "__main__":
    main()
