"""The one reader of ``measure/summary.json`` (torch-free): a typed view of the headline numbers that
each registered measurement contributes (engine.measures.registry). A field is empty where the
checkpoint has no table for it (``measure --only``, or a measurement that does not apply to its corpus).

The fields are listed by hand so that reading a summary never imports the measurements (and torch);
``tests/test_measure.py`` checks them against the keys the registry's summaries write.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from engine.diffusion.step import DEFAULT_STEP   # torch-free at import


@dataclass(frozen=True)
class Summary:
    corpus: str
    n: int
    seed: int = 0
    measure_config: dict = field(default_factory=dict)
    levels: list = field(default_factory=list)            # recovery: one dict per split × t
    entropy: list = field(default_factory=list)           # one dict per split × t
    entropy_gap: dict = field(default_factory=dict)       # "t" -> nats
    generations: dict = field(default_factory=dict)       # category -> share
    plugin_generations: dict = field(default_factory=dict)  # category -> share, with the paper's plug-in step
    plugin_levels: list = field(default_factory=list)     # like ``levels``, plug-in step, t = 0.25
    fluency: dict = field(default_factory=dict)           # split -> {bigram, trigram: seen share, ...}
    basin_radius: dict = field(default_factory=dict)      # split -> mean level radius (recovery levels)
    fixed_fraction: dict = field(default_factory=dict)    # split -> share of fixed points
    level_radius: dict = field(default_factory=dict)      # split -> mean radius on the fine level grid
    basin_size: dict = field(default_factory=dict)        # split -> {median, q1, q3, mean, distinct, ...}
    ideal_memorizer: list = field(default_factory=list)   # like ``levels``, plus "entropy"
    ideal_generalizer: list = field(default_factory=list)
    tables: dict = field(default_factory=dict)            # table -> MeasureConfig it was computed with

    @classmethod
    def from_dict(cls, d: dict) -> "Summary":
        if not isinstance(d, dict):
            raise ValueError("a summary must be a JSON object")
        try:
            kw = {f.name: d[f.name] for f in fields(cls) if f.name in d}
            kw["corpus"], kw["n"], kw["seed"] = str(d["corpus"]), int(d["n"]), int(d.get("seed", 0))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"the summary lacks a valid corpus or n ({e})") from None
        for f in fields(cls):
            if f.name in kw and f.name not in ("corpus", "n", "seed") and not isinstance(kw[f.name], type(f.default_factory())):
                raise ValueError(f"the summary's {f.name!r} has the wrong type")
        return cls(**kw)

    @classmethod
    def read(cls, checkpoint_dir: str | os.PathLike) -> "Summary":
        """The summary of the checkpoint at ``checkpoint_dir``; ValueError if missing or unreadable."""
        p = Path(checkpoint_dir) / "measure" / "summary.json"
        try:
            return cls.from_dict(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            raise ValueError(f"no readable measurements in {p.parent} ({e}); run `python -m engine measure`") from None

    @property
    def step(self) -> str:
        """The reverse step the main tables were measured with (``measure_config``; the default step
        for a summary written by hand without one)."""
        return str(self.measure_config.get("step", DEFAULT_STEP))

    def table_step(self, name: str) -> str:
        """The reverse step the table ``name`` was measured with: its own record in ``tables`` (a
        back-filled table keeps the config it was computed with), else the summary's config."""
        record = self.tables.get(name) or self.measure_config
        return str(record.get("step", DEFAULT_STEP))

    def level(self, split: str, t: float, rows: str = "levels") -> dict | None:
        """The row of ``rows`` (levels, plugin_levels, ideal_memorizer, ideal_generalizer, entropy) at split
        and level t."""
        for r in getattr(self, rows):
            if r.get("split") == split and math.isclose(float(r.get("t", math.nan)), t, rel_tol=1e-6, abs_tol=1e-9):
                return r
        return None
