"""One entry of a sweep: train it (``train_entry``), measure it (``measure_entry``), and find what of it
is missing or damaged, so that a resumed sweep redoes only that (``valid_tables``, ``to_measure``).

``fit`` and ``measure_bundle`` are the two tasks a sweep hands its backend (``engine.runs.sweep``):
they compute and return, and write nothing. ``train_entry`` and ``measure_entry`` do the same work in
this process and write the result (atomically), for the CLI's ``train`` and ``measure`` and What-if.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engine.store import atomic, outputs
from engine.models import checkpoint
from engine.measures import registry
from engine.text.corpus import Corpus, oracle_for
from engine.measures.evaluation import Evaluation, MeasureConfig, evaluate, load_tables, missing, save_evaluation
from engine.models.model import ModelConfig
from engine.measures.summary import Summary
from engine.models.train import TrainConfig, check_fits, default_device, train


@dataclass
class Trained:
    """What a training task returns: the model (CPU, eval mode), its loss history, the seconds it
    took and the device it ran on."""

    model: object
    history: list
    seconds: float
    device: str


def fit(train_ids, model_cfg: ModelConfig, train_cfg: TrainConfig, progress: Callable | None = None) -> Trained:
    """Train on ``train_ids`` (N, L) and time it: the training task, on whichever backend."""
    start = time.perf_counter()
    model, history = train(train_ids, model_cfg, train_cfg, progress=progress)
    return Trained(model, history, time.perf_counter() - start, str(default_device()))


def measure_bundle(b, tables: dict, cfg: MeasureConfig, only: list[str]) -> Evaluation:
    """Compute the measurements ``only`` of the checkpoint ``b`` next to the ``tables`` it already
    has: the measurement task. Returns the new tables and the summary of all of them."""
    ev = evaluate(b, cfg, oracle_for(b.corpus, b.tokenizer), only=only, tables=tables)
    return Evaluation({k: v for k, v in ev.tables.items() if k not in tables}, ev.summary)


def train_entry(corpus: Corpus, n: int, path: str | os.PathLike, model_cfg: ModelConfig,
                train_cfg: TrainConfig, *, half: bool = False, progress: Callable | None = None,
                on_trained: Callable[[], None] | None = None, extra: dict | None = None,
                overwrite: bool = False) -> float:
    """Train on the first n sentences of ``corpus`` and save the checkpoint at ``path`` (atomically).

    Refused before training (ValueError) when N does not fit the corpus, the model is larger than
    ``engine.load`` accepts or needs more memory than is free, or ``path`` may not be written
    (``outputs.check``; ``overwrite`` allows replacing a checkpoint).

    ``on_trained()`` runs after training and before anything is written (the app stops a cancelled
    run there). Returns the training time in seconds, also stored in meta.json's ``extra``."""
    outputs.check(path, outputs.CHECKPOINT, overwrite=overwrite)
    train_ids, test_ids = corpus.encode(corpus.subset(n)), corpus.encode(corpus.test)
    check_fits(model_cfg, train_cfg)
    trained = fit(train_ids, model_cfg, train_cfg, progress)
    if on_trained is not None:
        on_trained()
    checkpoint.save(path, trained.model, corpus.tokenizer, train_ids, test_ids, train_cfg, corpus.name,
                    loss_history=trained.history, half=half, overwrite=overwrite,
                    extra={"device": trained.device, "train_seconds": round(trained.seconds, 2), **(extra or {})})
    return trained.seconds


def measure_entry(path: str | os.PathLike, cfg: MeasureConfig, only=None, *,
                  progress: Callable[[str, int, int], None] | None = None) -> Evaluation:
    """Measure the checkpoint at ``path`` (with its corpus's oracle) and write the tables next to it.

    ``only``: names of registered measurements to compute or back-fill (with what they need that is
    missing); the other tables already there are kept, and summary.json is rebuilt from all of them.
    None: every measurement that applies."""
    no_link(Path(path), Path(path) / "measure")
    b = checkpoint.load(path)
    remove_abandoned(Path(path))
    existing = {k: v for k, v in load_tables(path).items() if k not in only} if only is not None else {}
    ev = evaluate(b, cfg, oracle_for(b.corpus, b.tokenizer), only=only, tables=existing, progress=progress)
    save_evaluation(ev, path, names=[n for n in ev.tables if n not in existing])
    return ev


def valid_tables(path: Path) -> dict[str, pd.DataFrame]:
    """The registered tables of ``path``/measure that read and have the registry's columns (a
    truncated or foreign table is left out, so a resume measures it again)."""
    out = {}
    for name, m in registry.load_all().items():
        f = path / "measure" / f"{name}.parquet"
        if not f.is_file() or f.is_symlink():
            continue
        try:
            df = pd.read_parquet(f)
        except Exception:  # noqa: BLE001 (pyarrow raises many kinds for a damaged file)
            continue
        if all(c in df.columns for c in m.columns):
            out[name] = df
    return out


def to_measure(path: Path, b, cfg: MeasureConfig, valid: dict) -> list[str]:
    """The tables of the checkpoint ``path`` to (re-)measure: missing, damaged (not in ``valid``) or
    measured with another config. Every one when summary.json is missing or unreadable (what the
    tables were measured with is then unknown). Removes a killed write's scratch files first."""
    remove_abandoned(path)
    wanted = registry.plan(None, bundle=b)
    try:
        Summary.read(path)
    except ValueError:
        return wanted
    redo = set(missing(path, b, cfg=cfg)) | (set(wanted) - set(valid))
    return [n for n in wanted if n in redo]


def remove_abandoned(path: Path) -> None:
    """Remove the scratch files a killed ``measure`` left in ``path``/measure (``atomic.remove_abandoned``)."""
    for name in [f"{n}.parquet" for n in registry.names()] + ["summary.json"]:
        atomic.remove_abandoned(path / "measure" / name)


def no_link(*paths: Path) -> None:
    """OutputError if any of ``paths`` is a symbolic link: tables are never written through one."""
    for p in paths:
        if p.is_symlink():
            raise outputs.OutputError(f"refusing to write into '{p}': it is a symbolic link; Basin Explorer "
                                      "writes only into real folders (replace the link by a folder)")


def loads(path: Path) -> bool:
    if not (path / "meta.json").exists():
        return False
    try:
        checkpoint.load(path)
        return True
    except ValueError:
        return False
