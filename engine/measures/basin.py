"""Basin size per example (PROTOCOL §5): the Hamming profile p(k) and the level profile p(t).

*Hamming profile.* For an example x0 with n content positions (its words and the end token) and
k = 1 … n, exactly k content positions are replaced by uniformly drawn *different* tokens; the reverse
diffusion starts at the level t_k whose expected share of changed positions is k/n,

    (1 - alpha_t)(1 - 1/V) = k/n   =>   t_k = min(1, (k/n) / ((1 - eps)(1 - 1/V))),

and p(k) is the exact-recovery frequency over ``trials`` corruptions. All examples of one k walk one
batch (``sample.denoise_from_levels``), each starting at the sampler's grid point at or just above its
t_k (at most 1/steps_per_unit higher); the table's ``t`` is that start level. Padding must not give the answer
away (with clean padding the length alone singles out a training sentence among few): by default each
padding position is also replaced by a different token with probability k/n, the same share as the
content, so the corrupted sequence no longer shows where the sentence ends (``pad_noise=False`` keeps
the padding clean; ``benchmarks/bench_basins.py`` measures the difference).

k* = the largest k with p(j) >= 1/2 for every j <= k; the continuous size is the k/n at which p first
crosses 1/2, linearly interpolated between the last k with p >= 1/2 and the first with p < 1/2 (0 when
p(1) < 1/2, 1 when p never drops below 1/2). Because only that first crossing matters, an example
stops being measured after two consecutive k with p(k) < 1/2 (``early_stop``); its later k are absent
from the profile, not zero.

*Level profile.* The exact-recovery frequency p(t) on a fine grid of levels with z_t ~ q(z_t | x0),
counting only trials in which at least one content position changed (the others are counted in
``no_corruption``, never scored); r(x0) = the largest grid level t with p >= 1/2 at every level <= t.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from engine.measures import stats
from engine.diffusion.noise import UniformNoise
from engine.measures.registry import measurement
from engine.diffusion.sample import STEPS_PER_UNIT, denoise, denoise_from_levels
from engine.diffusion.step import DEFAULT_STEP
from engine.text.tokenizer import content_mask

LEVEL_GRID = (0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.8, 1.0)
PROFILE_COLUMNS = ("split", "example", "n_content", "k", "t", "trials", "recovered")
SIZE_COLUMNS = ("split", "example", "n_content", "k_star", "radius", "size")
LEVEL_COLUMNS = ("split", "example", "n_content", "t", "trials", "no_corruption", "recovered")


def level_for_share(share: float, noise: UniformNoise) -> float:
    """t whose expected share of changed positions (1 - alpha_t)(1 - 1/V) is ``share`` (at most 1)."""
    return float(min(1.0, share / ((1.0 - noise.eps) * (1.0 - 1.0 / noise.V))))


def corrupt_exactly(x0: torch.Tensor, k: int, noise: UniformNoise, generator: torch.Generator,
                    pad_share: float | None = None) -> torch.Tensor:
    """Replace exactly k content positions of each row of x0 (B, L) by uniformly drawn different tokens;
    each padding position too, independently with probability ``pad_share`` (a float, or (B, 1) per row;
    None: padding stays clean)."""
    content = content_mask(x0)
    if bool((content.sum(1) < k).any()):
        raise ValueError(f"every row needs at least k = {k} content positions")
    keys = torch.rand(x0.shape, generator=generator)
    keys[~content] = 2.0                                              # never among the k smallest
    chosen = torch.zeros_like(content)
    chosen.scatter_(1, keys.argsort(1)[:, :k], True)
    if pad_share is not None:
        chosen |= ~content & (torch.rand(x0.shape, generator=generator) < pad_share)
    shift = torch.randint(1, noise.V, x0.shape, generator=generator)  # uniform over the V - 1 others
    return torch.where(chosen, (x0 + shift) % noise.V, x0)


def hamming_profile(model, noise: UniformNoise, splits: dict[str, torch.Tensor], *, trials: int = 8,
                    generator: torch.Generator, steps_per_unit: int = STEPS_PER_UNIT, pad_noise: bool = True,
                    early_stop: bool = True, greedy: bool = False, step: str = DEFAULT_STEP) -> pd.DataFrame:
    """p(k) per example: one row per split × example × measured k (columns PROFILE_COLUMNS)."""
    examples = [(name, i, x0) for name, ids in splits.items() for i, x0 in enumerate(ids)]
    n_content = [int(content_mask(x0).sum()) for _, _, x0 in examples]
    failed = [0] * len(examples)          # consecutive k with p(k) < 1/2
    rows = []
    for k in range(1, max(n_content, default=0) + 1):
        live = [j for j, n in enumerate(n_content) if n >= k and not (early_stop and failed[j] >= 2)]
        if not live:
            break
        x0 = torch.stack([examples[j][2] for j in live]).repeat(trials, 1)           # (trials·G, L)
        share = torch.tensor([k / n_content[j] for j in live], dtype=torch.float64).repeat(trials)
        zt = corrupt_exactly(x0, k, noise, generator, pad_share=share[:, None] if pad_noise else None)
        t_k = torch.tensor([level_for_share(float(f), noise) for f in share], dtype=torch.float64)
        x_hat, t_used = denoise_from_levels(model, zt, t_k, noise, greedy=greedy, steps_per_unit=steps_per_unit,
                                            generator=generator, step=step)
        hits = (x_hat == x0).all(1).view(trials, len(live)).sum(0).tolist()
        for j, h, t in zip(live, hits, t_used[:len(live)].tolist()):
            failed[j] = failed[j] + 1 if 2 * h < trials else 0
            rows.append((examples[j][0], examples[j][1], n_content[j], k, t, trials, h))
    return pd.DataFrame(rows, columns=list(PROFILE_COLUMNS))


def basin_sizes(profile: pd.DataFrame) -> pd.DataFrame:
    """k*, k*/n (``radius``) and the continuous size per example from a Hamming profile (SIZE_COLUMNS)."""
    out = []
    for (split, example), g in profile.groupby(["split", "example"], sort=True):
        g = g.sort_values("k")
        n = int(g["n_content"].iloc[0])
        p = (g["recovered"] / g["trials"]).to_numpy()
        k = g["k"].to_numpy()
        below = np.flatnonzero(p < 0.5)
        if len(below) == 0:
            k_star, size = n, 1.0                    # every k up to n measured, never below 1/2
        elif below[0] == 0:
            k_star, size = 0, 0.0
        else:
            i = below[0]
            k_star = int(k[i - 1])
            frac = (p[i - 1] - 0.5) / (p[i - 1] - p[i])
            size = (k[i - 1] + frac * (k[i] - k[i - 1])) / n
        out.append((split, int(example), n, k_star, k_star / n, float(size)))
    return pd.DataFrame(out, columns=list(SIZE_COLUMNS))


def level_profile(model, noise: UniformNoise, splits: dict[str, torch.Tensor], levels=LEVEL_GRID, *,
                  trials: int = 4, generator: torch.Generator, steps_per_unit: int = STEPS_PER_UNIT,
                  early_stop: bool = True, step: str = DEFAULT_STEP) -> pd.DataFrame:
    """p(t) per example on ``levels``: one row per split × example × measured level (LEVEL_COLUMNS).

    Trials in which no content position changed are counted in ``no_corruption`` and left out of
    ``trials`` and ``recovered``. With ``early_stop`` an example is not measured at higher levels after
    two consecutive levels with p < 1/2 (its radius is already known)."""
    examples = [(name, i, x0) for name, ids in splits.items() for i, x0 in enumerate(ids)]
    failed = [0] * len(examples)
    rows = []
    for t in levels:
        live = [j for j in range(len(examples)) if not (early_stop and failed[j] >= 2)]
        if not live:
            break
        x0 = torch.stack([examples[j][2] for j in live]).repeat(trials, 1)            # (trials·G, L)
        zt = noise.sample_xt(x0, float(t), generator=generator)
        x_hat = denoise(model, zt, float(t), noise, steps_per_unit=steps_per_unit, generator=generator, step=step).x_hat
        content = content_mask(x0)
        touched = ((zt != x0) & content).any(1).view(trials, len(live))
        exact = (x_hat == x0).all(1).view(trials, len(live))
        n_touched, hits = touched.sum(0).tolist(), (exact & touched).sum(0).tolist()
        n_content = content.view(trials, len(live), -1)[0].sum(1).tolist()
        for j, m, h, n in zip(live, n_touched, hits, n_content):
            if m:
                failed[j] = failed[j] + 1 if 2 * h < m else 0
            rows.append((examples[j][0], examples[j][1], n, float(t), m, trials - m, h))
    return pd.DataFrame(rows, columns=list(LEVEL_COLUMNS))


def level_radius(profile: pd.DataFrame) -> pd.DataFrame:
    """r(x0) per example: the largest grid level t with p >= 1/2 at every measured level <= t (levels
    where every trial left the content untouched carry no information and are skipped)."""
    out = []
    for (split, example), g in profile.groupby(["split", "example"], sort=True):
        g = g[g["trials"] > 0].sort_values("t")
        ok = (2 * g["recovered"] >= g["trials"]).to_numpy()
        prefix = int(np.cumprod(ok).sum())
        out.append((split, int(example), float(g["t"].iloc[prefix - 1]) if prefix else 0.0))
    return pd.DataFrame(out, columns=["split", "example", "radius"])


# ---------------------------------------------------------------- registered measurements (engine.measures.registry)

@measurement("level_profile", LEVEL_COLUMNS,
             summarize=lambda t, ctx: {"level_radius": {k: float(v) for k, v in
                                                        level_radius(t).groupby("split")["radius"].mean().items()}})
def measure_level_profile(ctx) -> pd.DataFrame:
    """p(t) per example on the fine level grid, untouched trials counted apart."""
    b, cfg = ctx.bundle, ctx.cfg
    return level_profile(b.model, b.noise, ctx.splits(), cfg.level_grid, trials=cfg.level_trials,
                         generator=ctx.generator("level_profile"), steps_per_unit=cfg.profile_steps_per_unit,
                         step=cfg.step)


@measurement("basin_profile", PROFILE_COLUMNS)
def measure_basin_profile(ctx) -> pd.DataFrame:
    """The Hamming profile p(k) per example (exactly k content positions changed)."""
    b, cfg = ctx.bundle, ctx.cfg
    return hamming_profile(b.model, b.noise, ctx.splits(), trials=cfg.profile_trials,
                           generator=ctx.generator("basin_profile"), steps_per_unit=cfg.profile_steps_per_unit,
                           pad_noise=cfg.pad_noise, step=cfg.step)


def summarize_sizes(sizes: pd.DataFrame, ctx=None) -> dict:
    """Per split: median, quartiles, mean and count of the continuous basin size, its number of distinct
    values, and Spearman's correlation between size and the number of content positions."""
    out = {}
    for split, g in sizes.groupby("split"):
        q1, med, q3 = (float(v) for v in g["size"].quantile([0.25, 0.5, 0.75]))
        out[split] = {"median": med, "q1": q1, "q3": q3, "mean": float(g["size"].mean()), "count": len(g),
                      "distinct": int(g["size"].round(9).nunique()),
                      "spearman_length": stats.spearman(g["size"], g["n_content"])}
    return {"basin_size": out}


@measurement("basin_size", SIZE_COLUMNS, needs=("basin_profile",), summarize=summarize_sizes)
def measure_basin_size(ctx) -> pd.DataFrame:
    """k*, k*/n and the continuous basin size per example, from the Hamming profile."""
    return basin_sizes(ctx.tables["basin_profile"])
