"""Measure a checkpoint end to end and keep the tables next to it (``DIR/measure/``).

One path for data: checkpoint -> ``evaluate`` -> tables (parquet) + ``summary.json`` -> the app, the
CLI, the sweep and exports all read these same files; nothing is recomputed elsewhere.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import atomic
from .checkpoint import Bundle
from .measure import (LEVELS, basin_table, entropy_gap, entropy_table, fixed_point_table,
                      mean_entropy, novelty_table, recovery_table)
from .sample import STEPS_PER_UNIT, T_MIN, generate

TABLES = ("recovery", "basins", "fixed_points", "entropy", "generations")


@dataclass(frozen=True)
class MeasureConfig:
    """What ``evaluate`` measures; saved in summary.json."""

    n_train: int = 128                 # training examples measured (all of them when N is smaller)
    n_test: int = 128
    trials: int = 4
    levels: tuple[float, ...] = LEVELS
    entropy_levels: tuple[float, ...] = (T_MIN, 0.25)
    n_generate: int = 128
    steps_per_unit: int = STEPS_PER_UNIT
    gen_steps_per_unit: int = 500      # generation from pure noise needs a finer grid (see README)
    seed: int = 0

    def __post_init__(self):
        if not self.levels:
            raise ValueError("levels must hold at least one level t in (0, 1]")
        if not all(isinstance(t, (int, float)) and 0 < t <= 1 for t in self.levels) \
                or list(self.levels) != sorted(set(self.levels)):
            raise ValueError(f"levels must be increasing values in (0, 1], got {self.levels}")
        if not all(isinstance(t, (int, float)) and 0 <= t <= 1 for t in self.entropy_levels):
            raise ValueError(f"entropy_levels must be values in [0, 1], got {self.entropy_levels}")
        for name, low in (("n_train", 1), ("n_test", 0), ("trials", 1), ("n_generate", 0),
                          ("steps_per_unit", 1), ("gen_steps_per_unit", 1), ("seed", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 2**32 - 1:
                raise ValueError(f"{name} must be an integer in [{low}, {2**32 - 1}], got {value!r}")


@dataclass
class Evaluation:
    tables: dict[str, pd.DataFrame]
    summary: dict = field(default_factory=dict)


def evaluate(b: Bundle, cfg: MeasureConfig = MeasureConfig(), oracle=None) -> Evaluation:
    """All of PROTOCOL §5 on ``b``: recovery, basins, fixed points, entropy, generations + novelty."""
    gen = torch.Generator().manual_seed(cfg.seed)
    splits = {"train": b.train_ids[:cfg.n_train], "test": b.test_ids[:cfg.n_test]}
    model, noise = b.model, b.noise
    recovery = recovery_table(model, noise, splits, cfg.levels, cfg.trials, generator=gen,
                              steps_per_unit=cfg.steps_per_unit, train_ids=b.train_ids)
    samples = generate(model, cfg.n_generate, noise, b.config.seq_len, generator=gen,
                       steps_per_unit=cfg.gen_steps_per_unit)
    generations = novelty_table(samples, b.train_ids, oracle, b.tokenizer)
    generations.insert(1, "ids", [list(r) for r in samples.tolist()])
    entropy = entropy_table(model, noise, {**splits, "generated": samples}, cfg.entropy_levels, generator=gen)
    tables = {"recovery": recovery, "basins": basin_table(recovery),
              "fixed_points": fixed_point_table(model, noise, splits, steps_per_unit=cfg.steps_per_unit),
              "entropy": entropy, "generations": generations}
    return Evaluation(tables, summarize(b, tables, cfg))


def summarize(b: Bundle, tables: dict[str, pd.DataFrame], cfg: MeasureConfig) -> dict:
    """Headline numbers: per split × level mean/std of the rates, entropy means, novelty fractions."""
    rec = tables["recovery"]
    by = rec.groupby(["split", "t"])
    levels = []
    for (split, t), g in by:
        levels.append({"split": split, "t": t, "recovery_rate": _nanmean(g["recovery_rate"]),
                       "recovery_std": _nanstd(g["recovery_rate"]),
                       "unstable_rate": _nanmean(g["unstable_rate"]),
                       "exact_match": float(g["exact_match"].mean()),
                       "exact_std": float(g["exact_match"].std(ddof=0)),
                       "no_corruption": int((g["n_corrupted"] == 0).sum()), "rows": len(g)})
    ent = mean_entropy(tables["entropy"]).groupby(["split", "t"])["entropy"].agg(["mean", "std"])
    entropy = [{"split": s, "t": t, "entropy": float(r["mean"]), "entropy_std": float(r["std"])}
               for (s, t), r in ent.iterrows()]
    gens = tables["generations"]
    cats = gens["category"].value_counts(normalize=True).to_dict() if len(gens) else {}
    basins = tables["basins"].groupby("split")["radius"].mean().to_dict()
    fixed = tables["fixed_points"].groupby("split")["fixed"].mean().to_dict()
    return {"corpus": b.corpus, "n": b.n, "seed": b.seed, "measure_config": asdict(cfg),
            "levels": levels, "entropy": entropy,
            "entropy_gap": {f"{t:g}": entropy_gap(tables["entropy"], t) for t in cfg.entropy_levels}
            if cfg.n_generate else {},
            "generations": {k: float(v) for k, v in cats.items()},
            "basin_radius": {k: float(v) for k, v in basins.items()},
            "fixed_fraction": {k: float(v) for k, v in fixed.items()}}


def save_evaluation(ev: Evaluation, directory: str | os.PathLike) -> Path:
    """Write every table as ``DIR/measure/<name>.parquet`` and ``summary.json``, each atomically."""
    out = Path(directory) / "measure"
    for name, df in ev.tables.items():
        atomic.write_file(out / f"{name}.parquet", lambda p, df=df: df.to_parquet(p, index=False,
                                                                                   compression="zstd"))
    atomic.write_text(out / "summary.json", json.dumps(ev.summary, indent=1))
    return out


def load_evaluation(directory: str | os.PathLike) -> Evaluation:
    """Read what ``save_evaluation`` wrote; ValueError if it is missing or unreadable."""
    out = Path(directory) / "measure"
    try:
        tables = {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES
                  if (out / f"{name}.parquet").exists()}
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"no readable measurements in {out} ({e}); run `python -m engine measure`") from None
    return Evaluation(tables, summary)


def _nanmean(s: pd.Series) -> float:
    v = s.to_numpy(dtype=float)
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


def _nanstd(s: pd.Series) -> float:
    v = s.to_numpy(dtype=float)
    return float(np.nanstd(v)) if np.isfinite(v).any() else float("nan")
