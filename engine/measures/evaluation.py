"""Measure a checkpoint and keep the tables next to it (``DIR/measure/``).

One path for data: checkpoint -> ``evaluate`` (the measurements of ``engine.measures.registry``) -> tables
(parquet) + ``summary.json`` -> the app, the CLI, the sweep and exports all read these same files;
nothing is recomputed elsewhere. ``evaluate(..., only=[...])`` computes or back-fills chosen tables
on a checkpoint that already has the others.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from collections.abc import Callable

import pandas as pd

from engine.store import atomic
from engine.measures import registry
from engine.measures.basin import LEVEL_GRID
from engine.models.checkpoint import Bundle
from engine.measures.measure import LEVELS
from engine.diffusion.sample import STEPS_PER_UNIT, T_MIN
from engine.diffusion.step import DEFAULT_STEP, check_step


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
    profile_trials: int = 8            # Hamming profile: corruptions per example and k
    profile_steps_per_unit: int = 25   # basin profiles walk a coarser grid (README: measured against 100)
    level_grid: tuple[float, ...] = LEVEL_GRID
    level_trials: int = 4
    pad_noise: bool = True             # Hamming profile: padding corrupted at the content's share
    step: str = DEFAULT_STEP           # the reverse step of every denoising (engine.diffusion.step): exact or plugin

    def __post_init__(self):
        check_step(self.step)
        if not self.levels:
            raise ValueError("levels must hold at least one level t in (0, 1]")
        if not all(isinstance(t, (int, float)) and 0 < t <= 1 for t in self.levels) \
                or list(self.levels) != sorted(set(self.levels)):
            raise ValueError(f"levels must be increasing values in (0, 1], got {self.levels}")
        if not all(isinstance(t, (int, float)) and 0 <= t <= 1 for t in self.entropy_levels):
            raise ValueError(f"entropy_levels must be values in [0, 1], got {self.entropy_levels}")
        if not self.level_grid or not all(isinstance(t, (int, float)) and 0 < t <= 1 for t in self.level_grid) \
                or list(self.level_grid) != sorted(set(self.level_grid)):
            raise ValueError(f"level_grid must be increasing values in (0, 1], got {self.level_grid}")
        for name, low in (("n_train", 1), ("n_test", 0), ("trials", 1), ("n_generate", 0),
                          ("steps_per_unit", 1), ("gen_steps_per_unit", 1), ("seed", 0), ("profile_trials", 1),
                          ("profile_steps_per_unit", 1), ("level_trials", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 2**32 - 1:
                raise ValueError(f"{name} must be an integer in [{low}, {2**32 - 1}], got {value!r}")


@dataclass
class Evaluation:
    tables: dict[str, pd.DataFrame]
    summary: dict = field(default_factory=dict)


Progress = Callable[[str, int, int], None]   # (measurement name, index, count) before each table


def evaluate(b: Bundle, cfg: MeasureConfig = MeasureConfig(), oracle=None, *, only=None,
             tables: dict[str, pd.DataFrame] | None = None, progress: Progress | None = None) -> Evaluation:
    """Compute the registered measurements on ``b`` (engine.measures.registry): all that apply (``only=None``),
    or the names in ``only`` plus whatever they need that ``tables`` does not already hold. Returns
    every table (given and computed) and the summary of all of them."""
    tables = dict(tables or {})
    todo = registry.plan(only, have=tables if only is not None else (), bundle=b)
    ctx = registry.Context(b, cfg, oracle, tables)
    for i, name in enumerate(todo):
        if progress is not None:
            progress(name, i, len(todo))
        tables[name] = registry.check_columns(name, registry.REGISTRY[name].compute(ctx))
    summary = summarize(b, tables, cfg)
    summary["tables"] = {name: asdict(cfg) for name in todo}
    return Evaluation(tables, summary)


def summarize(b: Bundle, tables: dict[str, pd.DataFrame], cfg: MeasureConfig) -> dict:
    """summary.json: the checkpoint's identity, the config, and each present table's summary."""
    out = {"corpus": b.corpus, "n": b.n, "seed": b.seed, "measure_config": asdict(cfg)}
    ctx = registry.Context(b, cfg, None, tables)
    for name, m in registry.load_all().items():
        if name in tables and m.summarize is not None:
            out.update(m.summarize(tables[name], ctx))
    return out


def save_evaluation(ev: Evaluation, directory: str | os.PathLike, names=None) -> Path:
    """Write the tables ``names`` (default: all) as ``DIR/measure/<name>.parquet`` and ``summary.json``,
    each atomically; per-table configs of tables not rewritten are kept from the old summary."""
    out = Path(directory) / "measure"
    names = list(ev.tables) if names is None else list(names)
    for name in names:
        df = ev.tables[name]
        atomic.write_file(out / f"{name}.parquet", lambda p, df=df: df.to_parquet(p, index=False, compression="zstd"))
    old = {}
    if (out / "summary.json").exists():
        try:
            old = json.loads((out / "summary.json").read_text(encoding="utf-8")).get("tables", {}) or {}
        except (OSError, ValueError):
            old = {}
    summary = {**ev.summary, "tables": {**old, **ev.summary.get("tables", {})}}
    atomic.write_text(out / "summary.json", json.dumps(summary, indent=1))
    return out


def load_tables(directory: str | os.PathLike) -> dict[str, pd.DataFrame]:
    """Every registered table present in ``DIR/measure`` (ValueError if one is unreadable)."""
    out = Path(directory) / "measure"
    try:
        return {name: pd.read_parquet(out / f"{name}.parquet") for name in registry.names()
                if (out / f"{name}.parquet").exists()}
    except (OSError, ValueError) as e:
        raise ValueError(f"unreadable measurement table in {out} ({e}); re-measure with `python -m engine "
                         "measure`") from None


def missing(directory: str | os.PathLike, bundle=None, names=None, cfg: MeasureConfig | None = None) -> list[str]:
    """Registered measurements (of ``names``, default all that apply to ``bundle``) without a table,
    and, given ``cfg``, those whose table was measured with another MeasureConfig (``stale``)."""
    out = Path(directory) / "measure"
    wanted = registry.plan(None, bundle=bundle) if names is None else list(names)
    old = set(stale(directory, cfg)) if cfg is not None else set()
    return [n for n in wanted if n in old or not (out / f"{n}.parquet").exists()]


def stale(directory: str | os.PathLike, cfg: MeasureConfig) -> list[str]:
    """The tables of ``DIR/measure`` measured with a config other than ``cfg``, as summary.json records
    it (per table, else the summary's ``measure_config``)."""
    try:
        summary = json.loads((Path(directory) / "measure" / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    want = json.loads(json.dumps(asdict(cfg)))                  # tuples as JSON lists, like the record
    per_table = summary.get("tables") or {}
    out = []
    for name in registry.names():
        record = per_table.get(name, summary.get("measure_config"))
        if isinstance(record, dict) and (Path(directory) / "measure" / f"{name}.parquet").exists() \
                and record != want:
            out.append(name)
    return out


def load_evaluation(directory: str | os.PathLike) -> Evaluation:
    """Read what ``save_evaluation`` wrote; ValueError if it is missing or unreadable."""
    out = Path(directory) / "measure"
    tables = load_tables(directory)
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"no readable measurements in {out} ({e}); run `python -m engine measure`") from None
    return Evaluation(tables, summary)
