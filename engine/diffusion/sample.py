"""Ancestral denoising with the model step p_theta(z_s | z_t) (PROTOCOL §3).

``denoise`` is a plain function handed the model: from z_t0 it walks a uniform time grid
t0 = t_n > ... > t_0 = t_min with n = ceil(t0 · steps_per_unit) steps, then removes the last noise
with x_hat = argmax x_theta(z, t_min). Each step is ``engine.diffusion.step.reverse_step``: the exact mixture
step by default, the paper's plug-in step with ``step="plugin"``; stochastic steps draw from its
float64 distribution, greedy steps take its argmax ("deterministic posterior"). Batched over
sequences; optionally returns the trajectory (tokens and per-position entropy of x_theta at every step).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from engine.diffusion.noise import UniformNoise, check_ids
from engine.diffusion.schedule import T_MIN
from engine.diffusion.step import DEFAULT_STEP, check_step, reverse_step

STEPS_PER_UNIT = 100  # the paper uses 1000; benchmarks/bench_engine.py compares the two
CHUNK = 128           # sequences per forward pass on the CPU; chosen by benchmarks/bench_engine.py


@dataclass
class Trajectory:
    """Result of one batched denoising run.

    x_hat:   LongTensor (B, L), the final prediction.
    times:   (n + 1,) the grid t0 .. t_min; ``tokens[k]`` is z at ``times[k]``.
    tokens:  LongTensor (n + 2, B, L): z_t0, the n intermediate/last states, then x_hat (or None).
    entropy: FloatTensor (n + 1, B, L), entropy of x_theta(z, t) in nats at each grid time (or None).
    """

    x_hat: torch.Tensor
    times: torch.Tensor
    tokens: torch.Tensor | None = None
    entropy: torch.Tensor | None = None


def time_grid(t0: float, steps_per_unit: int = STEPS_PER_UNIT, t_min: float = T_MIN) -> torch.Tensor:
    """Uniform grid from t0 down to t_min with ceil(t0 · steps_per_unit) steps (at least one)."""
    if not t_min < t0 <= 1.0:
        raise ValueError(f"t0 must be in ({t_min}, 1], got {t0}")
    if not isinstance(steps_per_unit, int) or isinstance(steps_per_unit, bool) or steps_per_unit < 1:
        raise ValueError(f"steps_per_unit must be a positive integer, got {steps_per_unit!r}")
    n = max(1, math.ceil(round(t0 * steps_per_unit, 9)))  # round: 0.07 * 100 = 7.000000000000001
    return torch.linspace(t0, t_min, n + 1, dtype=torch.float64)


def entropy_nats(logits: torch.Tensor) -> torch.Tensor:
    """H = -sum_v p log p of softmax(logits) over the last dim, in nats."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(-1)


@torch.no_grad()
def denoise(model: torch.nn.Module, zt: torch.Tensor, t0: float, noise: UniformNoise, *,
            greedy: bool = False, steps_per_unit: int = STEPS_PER_UNIT, t_min: float = T_MIN,
            generator: torch.Generator | None = None, return_trajectory: bool = False,
            chunk: int | None = None, step: str = DEFAULT_STEP) -> Trajectory:
    """Run the reverse diffusion from z_t0 (B, L) at level t0 and return the denoised x_hat (B, L).

    greedy: take argmax of p_theta(z_s | z_t) at every step instead of sampling it.
    step: "exact" (the mixture, default) or "plugin" (the paper's code); see ``engine.diffusion.step``.
    generator: the torch.Generator used for every categorical draw (ignored when greedy).
    chunk: sequences walked together through the whole grid; a larger batch is cut into chunks of
        this size, one after the other, so that the activations of a step stay in the CPU's cache.
        None: CHUNK on the CPU, the whole batch at once on an accelerator.
    """
    check_ids(zt, noise.V, "zt")
    check_step(step)
    if zt.dim() != 2:
        raise ValueError(f"zt must be (B, L), got shape {tuple(zt.shape)}")
    if chunk is None:
        chunk = CHUNK if next(model.parameters()).device.type == "cpu" else max(1, len(zt))
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    was_training = model.training
    model.eval()
    times = time_grid(t0, steps_per_unit, t_min)
    if len(zt) == 0:  # an empty batch has an empty result
        empty = torch.empty((len(times) + 1, 0, zt.shape[1]), dtype=torch.long)
        return Trajectory(x_hat=zt.new_empty((0, zt.shape[1])).cpu(), times=times,
                          tokens=empty if return_trajectory else None,
                          entropy=torch.empty((len(times), 0, zt.shape[1])) if return_trajectory else None)
    try:
        parts = [_walk(model, zt[i:i + chunk], times, noise, greedy, generator, return_trajectory, step)
                 for i in range(0, len(zt), chunk)]
    finally:
        model.train(was_training)
    if len(parts) == 1:
        return parts[0]
    cat = (lambda field: torch.cat([getattr(p, field) for p in parts], dim=-2)) if return_trajectory else None
    return Trajectory(x_hat=torch.cat([p.x_hat for p in parts]), times=times,
                      tokens=cat("tokens") if cat else None, entropy=cat("entropy") if cat else None)


@torch.no_grad()
def denoise_from_levels(model: torch.nn.Module, zt: torch.Tensor, t0: torch.Tensor, noise: UniformNoise, *,
                        greedy: bool = False, steps_per_unit: int = STEPS_PER_UNIT, t_min: float = T_MIN,
                        generator: torch.Generator | None = None, chunk: int | None = None,
                        step: str = DEFAULT_STEP) -> tuple[torch.Tensor, torch.Tensor]:
    """x_hat (B, L) for rows that each start at their own level t0 (B,), in one batch.

    All rows walk the one grid ``time_grid(1, steps_per_unit)``; a row starts at the grid point at or
    just above its t0 (at most 1/steps_per_unit higher) and joins the walk when it gets there, so every
    step is one shared level for the whole active batch (the network's fast path). Returns x_hat and
    the start levels used (B,) in float64. Same steps as ``denoise`` otherwise."""
    check_ids(zt, noise.V, "zt")
    check_step(step)
    t0 = torch.as_tensor(t0, dtype=torch.float64).reshape(-1)
    if zt.dim() != 2 or len(t0) != len(zt):
        raise ValueError(f"zt must be (B, L) with one level per row, got {tuple(zt.shape)} and {tuple(t0.shape)}")
    if len(t0) and not bool(((t0 > t_min) & (t0 <= 1)).all()):
        raise ValueError(f"every t0 must be in ({t_min}, 1]")
    grid = time_grid(1.0, steps_per_unit, t_min)                          # 1 = g_0 > ... > g_M = t_min
    # index of the grid point at or just above each t0 (a hair of slack for float rounding)
    start = (torch.searchsorted(-grid, -t0 + 1e-12, right=True) - 1).clamp_(min=0)
    order = torch.argsort(start, stable=True)
    device = next(model.parameters()).device
    chunk = chunk or (CHUNK if device.type == "cpu" else max(1, len(zt)))
    z = zt[order].to(device)
    sorted_start = start[order]
    was_training = model.training
    model.eval()
    try:
        for m in range(1, len(grid)):
            active = int((sorted_start <= m - 1).sum())
            t, s = float(grid[m - 1]), float(grid[m])
            for i in range(0, active, chunk):
                part = z[i:min(i + chunk, active)]
                logits = model(part, torch.full((len(part),), t, device=device))
                z[i:i + len(part)] = reverse_step(noise, logits, part, t, s, step=step, greedy=greedy,
                                                  generator=generator)
        x_hat = torch.cat([model(z[i:i + chunk], torch.full((len(z[i:i + chunk]),), float(grid[-1]),
                                                             device=device)).argmax(-1)
                           for i in range(0, len(z), chunk)] or [z])
    finally:
        model.train(was_training)
    out = torch.empty_like(x_hat.cpu())
    out[order] = x_hat.cpu()
    return out, grid[start]


def _walk(model, zt: torch.Tensor, times: torch.Tensor, noise: UniformNoise, greedy: bool,
          generator: torch.Generator | None, return_trajectory: bool, step: str) -> Trajectory:
    """``denoise`` for one chunk: every step of the grid on the whole of zt (B, L)."""
    device = next(model.parameters()).device
    z = zt.to(device)
    B = z.shape[0]
    tokens, entropies = [z.cpu()], []
    for k in range(len(times) - 1):
        t, s = float(times[k]), float(times[k + 1])
        logits = model(z, torch.full((B,), t, device=device))          # (B, L, V)
        if return_trajectory:
            entropies.append(entropy_nats(logits).cpu())
        z = reverse_step(noise, logits, z, t, s, step=step, greedy=greedy, generator=generator)
        if return_trajectory:
            tokens.append(z.cpu())
    logits = model(z, torch.full((B,), float(times[-1]), device=device))
    x_hat = logits.argmax(-1)
    if return_trajectory:
        entropies.append(entropy_nats(logits).cpu())
        tokens.append(x_hat.cpu())
    return Trajectory(x_hat=x_hat.cpu(), times=times,
                      tokens=torch.stack(tokens) if return_trajectory else None,
                      entropy=torch.stack(entropies) if return_trajectory else None)


def generate(model: torch.nn.Module, n: int, noise: UniformNoise, seq_len: int, *,
             generator: torch.Generator | None = None, greedy: bool = False,
             steps_per_unit: int = STEPS_PER_UNIT, step: str = DEFAULT_STEP) -> torch.Tensor:
    """Generation from scratch: denoise from t0 = 1 starting at uniform random tokens. Returns (n, L)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"the number of samples must be a non-negative integer, got {n!r}")
    z1 = torch.randint(0, noise.V, (n, seq_len), generator=generator,
                       device=generator.device if generator is not None else "cpu")
    return denoise(model, z1, 1.0, noise, greedy=greedy, steps_per_unit=steps_per_unit,
                   generator=generator, step=step).x_hat
