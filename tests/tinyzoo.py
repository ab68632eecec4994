"""A tiny zoo for app tests: two grammar models (N = 8 and 32), a few training steps, small
measurements. ``tests/conftest.py`` builds it once per test session (fixture ``zoo``)."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from engine.text.corpus import grammar_corpus
from engine.measures.evaluation import MeasureConfig
from engine.models.model import ModelConfig
from engine.runs.sweep import run_sweep
from engine.models.train import TrainConfig

SIZES = (8, 32)


@contextmanager
def one_thread():
    """Run torch on one thread: as fast for these tiny models, and on a busy machine two threads that
    spin-wait for each other can be a hundred times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def build_tiny_zoo(root: Path, projection: bool = True) -> Path:
    corpus = grammar_corpus()
    model_cfg = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=corpus.seq_len,
                            d_model=32, n_layers=1, n_heads=2)
    train_cfg = TrainConfig(steps=30, batch_size=16, seed=0)
    measure_cfg = MeasureConfig(n_train=8, n_test=8, trials=2, levels=(0.1, 0.25, 0.5), n_generate=8,
                                steps_per_unit=20, profile_trials=2, profile_steps_per_unit=10, level_trials=1,
                                level_grid=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0))
    run_sweep(corpus, list(SIZES), root, model_cfg, train_cfg, measure_cfg, half=True, projection=projection)
    return root


def app_zoo(root: Path) -> Path:
    """The tiny zoo without UMAP (its numba compile costs ~15 s): N = 32 gets a fabricated projection
    table so that the Entropy map's projection view is exercised, N = 8 stays without one."""
    with one_thread():
        build_tiny_zoo(root, projection=False)
    measure = root / "grammar" / "n00032" / "measure"
    entropy = pd.read_parquet(measure / "entropy.parquet")
    keys = entropy[entropy["position"] == 0][["split", "example"]].drop_duplicates()
    rng = np.random.default_rng(0)
    proj = keys.assign(**{c: rng.normal(size=len(keys)) for c in ("x_tok", "y_tok", "x_ent", "y_ent")})
    proj.to_parquet(measure / "projection.parquet", index=False)
    return root
