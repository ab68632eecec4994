"""The measurement registry: every table a checkpoint's ``measure/`` folder holds is one entry.

An entry names the table (``measure/<name>.parquet``), how it is computed from a ``Context`` (the
loaded checkpoint, the MeasureConfig, the corpus's oracle and the tables computed so far), the tables
it needs first, its columns (checked on every computation) and how it is summarised into summary.json.
The CLI (``measure --only``), the sweep (resume per table), back-fill and the loaders all read this
registry; a module adds a measurement by decorating its compute function with ``@measurement``.

Each entry draws its randomness from its own generator, seeded by the MeasureConfig's seed and the
entry's name, so a table computed alone (a back-fill) has the same numbers as one computed with all
the others.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import import_module

import pandas as pd

# the modules that register measurements, in the order their tables are listed
MODULES = ("measure", "novelty", "plugin", "fluency", "basin", "references", "projection")


@dataclass(frozen=True)
class Measurement:
    name: str
    columns: tuple[str, ...]                       # required columns of the table
    compute: Callable[["Context"], pd.DataFrame]
    summarize: Callable[[pd.DataFrame, "Context"], dict] | None = None   # -> top-level summary keys
    needs: tuple[str, ...] = ()                    # tables that must exist first
    applies: Callable[[object], bool] = lambda bundle: True             # e.g. grammar only
    about: str = ""


@dataclass
class Context:
    """What a measurement sees: ``bundle`` (engine.Bundle), ``cfg`` (MeasureConfig), the corpus's
    membership ``oracle`` (or None) and ``tables`` computed or loaded so far."""

    bundle: object
    cfg: object
    oracle: Callable | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def generator(self, name: str):
        """A torch.Generator seeded by (cfg.seed, name): each table's randomness is its own."""
        import torch

        return torch.Generator().manual_seed((self.cfg.seed * 1_000_003 + zlib.crc32(name.encode())) % 2**63)

    def splits(self) -> dict:
        """The measured examples: the first n_train training and n_test test sequences."""
        b = self.bundle
        return {"train": b.train_ids[:self.cfg.n_train], "test": b.test_ids[:self.cfg.n_test]}


REGISTRY: dict[str, Measurement] = {}


def measurement(name: str, columns: Iterable[str], *, needs: Iterable[str] = (), summarize=None,
                applies=None, about: str = ""):
    """Decorator: register ``compute(ctx) -> DataFrame`` as the measurement ``name``."""
    def register(compute):
        REGISTRY[name] = Measurement(name, tuple(columns), compute, summarize, tuple(needs),
                                     applies or (lambda bundle: True), about or (compute.__doc__ or "").split("\n")[0])
        return compute
    return register


def load_all() -> dict[str, Measurement]:
    """The registry with every measurement module imported."""
    for module in MODULES:
        import_module(f".{module}", __package__)
    return REGISTRY


def names() -> list[str]:
    return list(load_all())


def plan(wanted: Iterable[str] | None, have: Iterable[str] = (), bundle=None) -> list[str]:
    """The tables to compute, in dependency order: ``wanted`` (None: every registered one that
    applies to ``bundle``) plus whatever they need that is not in ``have``. ValueError for an
    unknown name, listing the known ones."""
    registry = load_all()
    wanted = [n for n in registry if bundle is None or registry[n].applies(bundle)] if wanted is None else list(wanted)
    unknown = [n for n in wanted if n not in registry]
    if unknown:
        raise ValueError(f"unknown measurement {unknown[0]!r}; the measurements are {', '.join(registry)}")
    foreign = [n for n in wanted if bundle is not None and not registry[n].applies(bundle)]
    if foreign:
        raise ValueError(f"measurement {foreign[0]!r} does not apply to corpus {bundle.corpus!r}")
    have, out = set(have), []

    def visit(name, chain=()):
        if name in out:
            return
        if name in chain:
            raise ValueError(f"measurement dependencies form a cycle: {' -> '.join(chain + (name,))}")
        for dep in registry[name].needs:
            if dep not in have:
                visit(dep, chain + (name,))
        out.append(name)

    for name in wanted:
        visit(name)
    return out  # each table after what it needs, whatever order the modules were imported in


def check_columns(name: str, table: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REGISTRY[name].columns if c not in table.columns]
    if missing:
        raise ValueError(f"measurement {name!r} produced a table without columns {missing}")
    return table
