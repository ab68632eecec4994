"""The dataset-size sweep (PROTOCOL §6): one model per N on nested subsets, each measured.

Layout of a sweep directory (the model zoo in ``assets/zoo`` is one)::

    DIR/index.json                     [{"corpus": ..., "n": ..., "path": "grammar/n00016"}, ...]
    DIR/<corpus>/n<N>/                 a checkpoint (engine.load) + measure/ tables + projection
    DIR/<corpus>/sweep.csv             the results table: one row per N × split × level

Resumable: a size whose checkpoint loads is not retrained, one whose summary exists is not re-measured.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from . import atomic, checkpoint
from .corpus import Corpus, oracle_for
from .evaluation import MeasureConfig, evaluate, load_evaluation, save_evaluation
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
            train_ids, test_ids = corpus.encode(corpus.subset(n)), corpus.encode(corpus.test)
            model, history = train(train_ids, model_cfg, train_cfg, progress=on_train_progress)
            checkpoint.save(path, model, corpus.tokenizer, train_ids, test_ids, train_cfg, corpus.name,
                            loss_history=history, half=half, extra={"device": str(default_device())})
        b = checkpoint.load(path)
        summary = path / "measure" / "summary.json"
        if not summary.exists():
            _report(on_size, n, "measure")
            save_evaluation(evaluate(b, measure_cfg, oracle_for(b.corpus, b.tokenizer)), path)
        if projection and not (path / "measure" / "projection.parquet").exists():
            _report(on_size, n, "project")
            write_projection(b, path)
        update_index(root, corpus.name, n, path)
        _report(on_size, n, "done")
    table = results_table(root, corpus.name)
    atomic.write_file(root / slug(corpus.name) / "sweep.csv", lambda p: table.to_csv(p, index=False))
    return table


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
