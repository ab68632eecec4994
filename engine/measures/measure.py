"""Measurements of PROTOCOL §5, returned as tidy pandas tables.

* ``recovery_table``  — one row per split × example × level × trial: recovery_rate, unstable_rate,
  exact_match. Rates are over *content positions* (words and the end token, see tokenizer.py), the
  headline the README reports; ``recovery_rate_all`` counts padding too.
* ``basin_table``     — per example: basin radius r(x0) and per-level exact-recovery frequencies.
* ``fixed_point_table`` — per example: is x0 left unchanged by greedy dynamics from a clean start.
* ``entropy_table``   — per split × example × level × position: H_i in nats (the heatmap).

The novelty of generations is ``engine.measures.novelty``; the entropy of generated sequences reads its table.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from engine.measures import stats
from engine.diffusion.noise import UniformNoise
from engine.measures.novelty import generated_ids
from engine.measures.registry import measurement
from engine.diffusion.sample import STEPS_PER_UNIT, T_MIN, denoise, entropy_nats
from engine.diffusion.step import DEFAULT_STEP
from engine.text.tokenizer import content_mask

LEVELS = (0.05, 0.1, 0.25, 0.5, 1.0)


def recovery_table(model, noise: UniformNoise, splits: dict[str, torch.Tensor], levels=LEVELS,
                   trials: int = 4, *, generator: torch.Generator, greedy: bool = False,
                   steps_per_unit: int = STEPS_PER_UNIT, train_ids: torch.Tensor | None = None,
                   batch_size: int = 2048, step: str = DEFAULT_STEP) -> pd.DataFrame:
    """Corrupt every example of every split at each level, ``trials`` times, denoise, and score.

    splits: name -> LongTensor (M, L) of clean x0. ``train_ids`` (N, L), if given, fills column
    ``landed`` with the index of the training sequence that x_hat equals exactly (-1 if none).
    recovery_rate is NaN when no content position was corrupted (counted by ``n_corrupted == 0``).
    """
    lookup = _row_lookup(train_ids) if train_ids is not None else {}
    frames = []
    for t in levels:
        names = [name for name, ids in splits.items() for _ in range(trials * len(ids))]
        x0 = torch.cat([ids.repeat(trials, 1) for ids in splits.values()])            # (S, L)
        example = np.concatenate([np.tile(np.arange(len(ids)), trials) for ids in splits.values()])
        trial = np.concatenate([np.repeat(np.arange(trials), len(ids)) for ids in splits.values()])
        zt = noise.sample_xt(x0, float(t), generator=generator)
        x_hat = torch.cat([denoise(model, zt[i:i + batch_size], float(t), noise, greedy=greedy,
                                   steps_per_unit=steps_per_unit, generator=generator, step=step).x_hat
                           for i in range(0, len(zt), batch_size)] or [zt])
        frame = score(x0, zt, x_hat)
        frame.insert(0, "split", names)
        frame.insert(1, "example", example)
        frame.insert(2, "t", float(t))
        frame.insert(3, "trial", trial)
        frame["landed"] = [lookup.get(tuple(r), -1) for r in x_hat.tolist()]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def score(x0: torch.Tensor, zt: torch.Tensor, x_hat: torch.Tensor) -> pd.DataFrame:
    """Per-sequence recovery / unstable / exact-match for clean x0, corruption zt, prediction x_hat (S, L)."""
    content = content_mask(x0)
    corrupted, kept, right = zt != x0, zt == x0, x_hat == x0
    n_cor = (corrupted & content).sum(1)
    n_kept = (kept & content).sum(1)
    rec = (corrupted & content & right).sum(1) / n_cor
    unst = (kept & content & ~right).sum(1) / n_kept
    return pd.DataFrame({
        "n_content": content.sum(1).numpy(),
        "n_corrupted": n_cor.numpy(),
        "changed_frac": corrupted.float().mean(1).numpy(),
        "recovery_rate": rec.numpy(),                              # NaN where n_corrupted == 0
        "unstable_rate": unst.numpy(),
        "recovery_rate_all": ((corrupted & right).sum(1) / corrupted.sum(1)).numpy(),
        "exact_match": right.all(1).numpy(),
    })


def basin_table(recovery: pd.DataFrame) -> pd.DataFrame:
    """Basin radius per example: the largest grid level t such that, at every level <= t, x0 is
    recovered exactly in at least half of the trials that corrupted a content position (0 if it fails
    at the smallest level; a level where every trial left the content untouched does not count).

    Returns one row per split × example with ``radius`` and a column ``p@t`` per level (success
    frequency over the corrupting trials, NaN where there were none).
    """
    scored = recovery.assign(exact_match=recovery["exact_match"].astype(float).where(recovery["n_corrupted"] > 0))
    freq = scored.groupby(["split", "example", "t"])["exact_match"].mean().unstack("t").sort_index(axis=1)
    levels = np.array(freq.columns, dtype=float)
    ok = (freq.to_numpy(dtype=float) >= 0.5) | np.isnan(freq.to_numpy(dtype=float))
    prefix = np.cumprod(ok, axis=1).astype(bool)                   # success at every level <= t
    radius = np.where(prefix.any(1), levels[np.maximum(prefix.sum(1) - 1, 0)], 0.0)
    out = freq.copy()
    out.columns = [f"p@{t:g}" for t in levels]
    out.insert(0, "radius", radius)
    return out.reset_index()


def fixed_point_table(model, noise: UniformNoise, splits: dict[str, torch.Tensor], t0: float = 0.01,
                      steps_per_unit: int = STEPS_PER_UNIT, step: str = DEFAULT_STEP) -> pd.DataFrame:
    """Greedy dynamics from the clean sequence at level t0 (no corruption); fixed = left unchanged."""
    rows = []
    for name, ids in splits.items():
        x_hat = denoise(model, ids, t0, noise, greedy=True, steps_per_unit=steps_per_unit, step=step).x_hat
        for i, same in enumerate((x_hat == ids).all(1).tolist()):
            rows.append((name, i, same))
    return pd.DataFrame(rows, columns=["split", "example", "fixed"])


@torch.no_grad()
def entropy_profile(model, noise: UniformNoise, x0: torch.Tensor, t: float, *,
                    generator: torch.Generator, batch_size: int = 4096) -> torch.Tensor:
    """H_i = -sum_v p_theta(v | z_t, t) log p_theta(v | z_t, t) in nats, z_t ~ q(z_t | x0): (M, L).

    ``t`` below T_MIN is raised to T_MIN (a clean input).
    """
    t = max(float(t), T_MIN)
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(x0), batch_size):
        zt = noise.sample_xt(x0[i:i + batch_size], t, generator=generator).to(device)
        out.append(entropy_nats(model(zt, torch.full((len(zt),), t, device=device))).cpu())
    return torch.cat(out) if out else torch.zeros(0, x0.shape[1])


def entropy_table(model, noise: UniformNoise, splits: dict[str, torch.Tensor], levels=(T_MIN, 0.25),
                  *, generator: torch.Generator) -> pd.DataFrame:
    """Tidy per-position entropy: one row per split × example × level × position (nats)."""
    frames = []
    for t in levels:
        for name, ids in splits.items():
            if len(ids) == 0:
                continue
            H = entropy_profile(model, noise, ids, t, generator=generator)               # (M, L)
            M, L = H.shape
            frames.append(pd.DataFrame({
                "split": name, "example": np.repeat(np.arange(M), L), "t": float(t),
                "position": np.tile(np.arange(L), M), "entropy": H.flatten().numpy(),
                "content": content_mask(ids).flatten().numpy()}))
    if not frames:
        return pd.DataFrame({"split": pd.Series(dtype=str), "example": pd.Series(dtype=int),
                             "t": pd.Series(dtype=float), "position": pd.Series(dtype=int),
                             "entropy": pd.Series(dtype=float), "content": pd.Series(dtype=bool)})
    return pd.concat(frames, ignore_index=True)


def mean_entropy(entropy: pd.DataFrame, content_only: bool = True) -> pd.DataFrame:
    """Per-sequence mean entropy (nats per token) over content positions: split, example, t, entropy."""
    e = entropy[entropy["content"].astype(bool)] if content_only else entropy     # an empty table stays one
    return e.groupby(["split", "example", "t"], as_index=False)["entropy"].mean()


def entropy_gap(entropy: pd.DataFrame, t: float, generated: str = "generated", real: str = "train") -> float:
    """Mean entropy on generated sequences minus mean entropy on real (training) ones, at level t."""
    m = mean_entropy(entropy)
    m = m[np.isclose(m["t"], t)]
    return float(m.loc[m["split"] == generated, "entropy"].mean() - m.loc[m["split"] == real, "entropy"].mean())


def _row_lookup(ids: torch.Tensor) -> dict[tuple, int]:
    lookup: dict[tuple, int] = {}
    for i, r in enumerate(ids.tolist()):
        lookup.setdefault(tuple(r), i)
    return lookup


# ---------------------------------------------------------------- registered measurements (engine.measures.registry)

def summarize_recovery(rec: pd.DataFrame, ctx) -> dict:
    """Per split × level: mean content recovery with its 95 % interval of the mean, exact match over the
    trials that corrupted a content position with its Wilson interval, and the untouched trials counted
    apart (``no_corruption``): they are never scored as recoveries."""
    levels = []
    for (split, t), g in rec.groupby(["split", "t"]):
        touched = g[g["n_corrupted"] > 0]
        r, r_lo, r_hi = stats.mean_ci(touched["recovery_rate"])
        hits, n = int(touched["exact_match"].sum()), len(touched)
        e_lo, e_hi = stats.wilson(hits, n)
        levels.append({"split": split, "t": float(t), "recovery_rate": r, "recovery_low": r_lo, "recovery_high": r_hi,
                       "recovery_std": float(np.nanstd(touched["recovery_rate"])) if n else float("nan"),
                       "unstable_rate": float(np.nanmean(g["unstable_rate"])) if g["unstable_rate"].notna().any()
                       else float("nan"),
                       "exact_match": hits / n if n else float("nan"), "exact_low": float(e_lo), "exact_high": float(e_hi),
                       "exact_std": float(touched["exact_match"].std(ddof=0)) if n else float("nan"),
                       "trials": n, "no_corruption": int(len(g) - n), "rows": len(g)})
    return {"levels": levels}


@measurement("recovery", ("split", "example", "t", "trial", "n_content", "n_corrupted", "recovery_rate",
                          "unstable_rate", "exact_match", "landed"), summarize=summarize_recovery)
def measure_recovery(ctx) -> pd.DataFrame:
    """Corrupt, denoise and score every measured example at each level (PROTOCOL §5)."""
    b, cfg = ctx.bundle, ctx.cfg
    return recovery_table(b.model, b.noise, ctx.splits(), cfg.levels, cfg.trials, generator=ctx.generator("recovery"),
                          steps_per_unit=cfg.steps_per_unit, train_ids=b.train_ids, step=cfg.step)


@measurement("basins", ("split", "example", "radius"), needs=("recovery",),
             summarize=lambda t, ctx: {"basin_radius": {k: float(v) for k, v in t.groupby("split")["radius"].mean().items()}})
def measure_basins(ctx) -> pd.DataFrame:
    """Level radius per example from the recovery table's levels."""
    return basin_table(ctx.tables["recovery"])


@measurement("fixed_points", ("split", "example", "fixed"),
             summarize=lambda t, ctx: {"fixed_fraction": {k: float(v) for k, v in t.groupby("split")["fixed"].mean().items()}})
def measure_fixed_points(ctx) -> pd.DataFrame:
    """Is each clean example left unchanged by greedy dynamics."""
    b = ctx.bundle
    return fixed_point_table(b.model, b.noise, ctx.splits(), steps_per_unit=ctx.cfg.steps_per_unit, step=ctx.cfg.step)


def summarize_entropy(ent: pd.DataFrame, ctx) -> dict:
    """Mean content entropy per split × level (nats per token) with its 95 % interval; the entropy gap."""
    rows = []
    for (s, t), g in mean_entropy(ent).groupby(["split", "t"]):
        mean, lo, hi = stats.mean_ci(g["entropy"])
        rows.append({"split": s, "t": float(t), "entropy": mean, "entropy_std": float(g["entropy"].std()),
                     "entropy_low": lo, "entropy_high": hi})
    has_generated = bool((ent["split"] == "generated").any()) if len(ent) else False
    return {"entropy": rows,
            "entropy_gap": {f"{t:g}": entropy_gap(ent, t) for t in sorted(ent["t"].unique())} if has_generated else {}}


@measurement("entropy", ("split", "example", "t", "position", "entropy", "content"), needs=("generations",),
             summarize=summarize_entropy)
def measure_entropy(ctx) -> pd.DataFrame:
    """Per-position conditional entropy of train, test and generated sequences."""
    b, cfg = ctx.bundle, ctx.cfg
    generated = generated_ids(ctx.tables.get("generations"), b.config.seq_len)
    return entropy_table(b.model, b.noise, {**ctx.splits(), "generated": generated}, cfg.entropy_levels,
                         generator=ctx.generator("entropy"))
