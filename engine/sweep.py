"""The dataset-size sweep (PROTOCOL §6): one model per N on nested subsets, each measured.

Layout of a sweep directory (the model zoo in ``assets/zoo`` is one)::

    DIR/index.json                     [{"corpus": ..., "n": ..., "path": "grammar/n00016"}, ...]
    DIR/<corpus>/n<N>/                 a checkpoint (engine.load) + measure/ tables + projection
    DIR/<corpus>/sweep.csv             the results table: one row per N × split × level

Resumable: a size whose checkpoint loads is not retrained, and only its missing tables are measured.
The sweep folder carries the marker ``outputs.SWEEP_MARKER``; a folder that is neither new, empty nor
a sweep is refused before any work (``outputs.claim``), and so is an entry place that holds anything
but a checkpoint.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from . import atomic, checkpoint, outputs
from .corpus import Corpus, oracle_for
from .evaluation import Evaluation, MeasureConfig, evaluate, load_tables, missing, save_evaluation
from .model import ModelConfig
from .train import TrainConfig, check_fits, default_device, train
from .zoo import INDEX, entry_dir, read_index, results_table, slug, update_index  # noqa: F401 (re-exported)

def run_sweep(corpus: Corpus, sizes: list[int], root: str | os.PathLike, model_cfg: ModelConfig,
              train_cfg: TrainConfig, measure_cfg: MeasureConfig, *, half: bool = False,
              projection: bool = True, on_train_progress: Callable | None = None,
              on_size: Callable[[int, str], None] | None = None) -> pd.DataFrame:
    """Train, measure and project one model per N in ``sizes``; returns (and writes) the results table.

    on_size(n, stage) is told each stage ("train", "measure", "done") for progress display. Every
    registered measurement is computed (``projection=False`` leaves out the UMAP projection);
    an entry whose tables all exist is skipped.
    """
    sizes = sorted(set(sizes))
    if not sizes:
        raise ValueError("no training-set sizes given: pass at least one N, e.g. --sizes 16,64")
    with outputs.claim(root, outputs.SWEEP) as root:
        for n in sizes:
            corpus.subset(n)  # fail early on an N larger than the pool
            path = entry_dir(root, corpus.name, n)
            if not _loads(path):
                outputs.check(path, outputs.CHECKPOINT, overwrite=True)  # nothing foreign in the way
        if not (root / outputs.SWEEP_MARKER).exists():
            atomic.write_text(root / outputs.SWEEP_MARKER, "Basin Explorer sweep: entries may be replaced\n")
    # one writer per corpus of a sweep; sweeps of two corpora may share the folder (index.json has its lock)
    with outputs.lock(root / slug(corpus.name)):
        return _run(corpus, sizes, root, model_cfg, train_cfg, measure_cfg, half, projection,
                    on_train_progress, on_size)


def _run(corpus, sizes, root, model_cfg, train_cfg, measure_cfg, half, projection, on_train_progress,
         on_size) -> pd.DataFrame:
    for n in sizes:
        path = entry_dir(root, corpus.name, n)
        if not _loads(path):
            _report(on_size, n, "train")
            train_entry(corpus, n, path, model_cfg, train_cfg, half=half, progress=on_train_progress,
                        overwrite=True)
        todo = [m for m in missing(path, checkpoint.load(path)) if projection or m != "projection"]
        if todo:  # resumes per table: only what is missing is measured
            _report(on_size, n, "measure")
            measure_entry(path, measure_cfg, only=todo)
        update_index(root, corpus.name, n, path)
        _report(on_size, n, "done")
    table = results_table(root, corpus.name)
    atomic.write_file(root / slug(corpus.name) / "sweep.csv", lambda p: table.to_csv(p, index=False))
    return table


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
    start = time.perf_counter()
    model, history = train(train_ids, model_cfg, train_cfg, progress=progress)
    seconds = time.perf_counter() - start
    if on_trained is not None:
        on_trained()
    checkpoint.save(path, model, corpus.tokenizer, train_ids, test_ids, train_cfg, corpus.name,
                    loss_history=history, half=half, overwrite=overwrite,
                    extra={"device": str(default_device()), "train_seconds": round(seconds, 2), **(extra or {})})
    return seconds


def measure_entry(path: str | os.PathLike, cfg: MeasureConfig, only=None, *,
                  progress: Callable[[str, int, int], None] | None = None) -> Evaluation:
    """Measure the checkpoint at ``path`` (with its corpus's oracle) and write the tables next to it.

    ``only``: names of registered measurements to compute or back-fill (with what they need that is
    missing); the other tables already there are kept, and summary.json is rebuilt from all of them.
    None: every measurement that applies."""
    b = checkpoint.load(path)
    existing = load_tables(path) if only is not None else {}
    ev = evaluate(b, cfg, oracle_for(b.corpus, b.tokenizer), only=only, tables=existing, progress=progress)
    save_evaluation(ev, path, names=[n for n in ev.tables if n not in existing])
    return ev


def _loads(path: Path) -> bool:
    if not (path / "meta.json").exists():
        return False
    try:
        checkpoint.load(path)
        return True
    except ValueError:
        return False


def _report(cb, n, stage):
    if cb is not None:
        cb(n, stage)
