"""A tiny zoo for app tests: two grammar models (N = 8 and 32), a few training steps, small
measurements, built once per test session into a temporary directory."""
from __future__ import annotations

from pathlib import Path

from engine.corpus import grammar_corpus
from engine.evaluation import MeasureConfig
from engine.model import ModelConfig
from engine.sweep import run_sweep
from engine.train import TrainConfig

SIZES = (8, 32)


def build_tiny_zoo(root: Path, projection: bool = True) -> Path:
    corpus = grammar_corpus()
    model_cfg = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=corpus.seq_len,
                            d_model=32, n_layers=1, n_heads=2)
    train_cfg = TrainConfig(steps=30, batch_size=16, seed=0)
    measure_cfg = MeasureConfig(n_train=8, n_test=8, trials=2, levels=(0.1, 0.25, 0.5), n_generate=8,
                                steps_per_unit=20)
    run_sweep(corpus, list(SIZES), root, model_cfg, train_cfg, measure_cfg, half=True, projection=projection)
    return root
