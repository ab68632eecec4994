"""The dataset-size sweep (PROTOCOL §6): one model per N on nested subsets, each measured.

Layout of a sweep directory (the model zoo in ``assets/zoo`` is one)::

    DIR/index.json                     [{"corpus": ..., "n": ..., "path": "grammar/n00016"}, ...]
    DIR/<corpus>/n<N>/                 a checkpoint (engine.load) + measure/ tables + projection
    DIR/<corpus>/sweep.csv             the results table: one row per N × split × level

Resumable: a size whose checkpoint loads is not retrained, one whose summary exists is not re-measured.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from . import atomic, checkpoint
from .corpus import Corpus, oracle_for
from .evaluation import Evaluation, MeasureConfig, evaluate, load_evaluation, save_evaluation
from .model import ModelConfig
from .projection import projection_table
from .sample import T_MIN
from .train import TrainConfig, default_device, train
from .zoo import INDEX, entry_dir, read_index, results_table, slug, update_index  # noqa: F401 (re-exported)

def run_sweep(corpus: Corpus, sizes: list[int], root: str | os.PathLike, model_cfg: ModelConfig,
              train_cfg: TrainConfig, measure_cfg: MeasureConfig, *, half: bool = False,
              projection: bool = True, on_train_progress: Callable | None = None,
              on_size: Callable[[int, str], None] | None = None) -> pd.DataFrame:
    """Train, measure and project one model per N in ``sizes``; returns (and writes) the results table.

    on_size(n, stage) is told each stage ("train", "measure", "project", "done") for progress display.
    """
    sizes = sorted(set(sizes))
    for n in sizes:
        corpus.subset(n)  # fail early on an N larger than the pool
    root = Path(root)
    for n in sizes:
        path = entry_dir(root, corpus.name, n)
        if not _loads(path):
            _report(on_size, n, "train")
            train_entry(corpus, n, path, model_cfg, train_cfg, half=half, progress=on_train_progress)
        if not (path / "measure" / "summary.json").exists():
            _report(on_size, n, "measure")
            measure_entry(path, measure_cfg)
        if projection and not (path / "measure" / "projection.parquet").exists():
            _report(on_size, n, "project")
            write_projection(checkpoint.load(path), path)
        update_index(root, corpus.name, n, path)
        _report(on_size, n, "done")
    table = results_table(root, corpus.name)
    atomic.write_file(root / slug(corpus.name) / "sweep.csv", lambda p: table.to_csv(p, index=False))
    return table


def train_entry(corpus: Corpus, n: int, path: str | os.PathLike, model_cfg: ModelConfig,
                train_cfg: TrainConfig, *, half: bool = False, progress: Callable | None = None,
                on_trained: Callable[[], None] | None = None, extra: dict | None = None) -> float:
    """Train on the first n sentences of ``corpus`` and save the checkpoint at ``path`` (atomically).

    ``on_trained()`` runs after training and before anything is written (the app stops a cancelled
    run there). Returns the training time in seconds, also stored in meta.json's ``extra``."""
    train_ids, test_ids = corpus.encode(corpus.subset(n)), corpus.encode(corpus.test)
    start = time.perf_counter()
    model, history = train(train_ids, model_cfg, train_cfg, progress=progress)
    seconds = time.perf_counter() - start
    if on_trained is not None:
        on_trained()
    checkpoint.save(path, model, corpus.tokenizer, train_ids, test_ids, train_cfg, corpus.name,
                    loss_history=history, half=half,
                    extra={"device": str(default_device()), "train_seconds": round(seconds, 2), **(extra or {})})
    return seconds


def measure_entry(path: str | os.PathLike, cfg: MeasureConfig) -> Evaluation:
    """Measure the checkpoint at ``path`` (with its corpus's oracle) and write the tables next to it."""
    b = checkpoint.load(path)
    ev = evaluate(b, cfg, oracle_for(b.corpus, b.tokenizer))
    save_evaluation(ev, path)
    return ev


def write_projection(b: checkpoint.Bundle, path: Path) -> Path:
    """UMAP coordinates of the measured train, test and generated sequences -> measure/projection.parquet."""
    ev = load_evaluation(path)
    ent = ev.tables["entropy"]
    counts = ent[ent["position"] == 0].groupby("split")["example"].nunique()
    ids = {"train": b.train_ids[:counts.get("train", 0)].numpy(),
           "test": b.test_ids[:counts.get("test", 0)].numpy()}
    if "generations" in ev.tables and len(ev.tables["generations"]):
        ids["generated"] = torch.tensor(ev.tables["generations"]["ids"].tolist()).numpy()
    table = projection_table(ids, ent, T_MIN, seed=b.seed)
    return atomic.write_file(path / "measure" / "projection.parquet",
                             lambda p: table.to_parquet(p, index=False))


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
