"""What-if runs: train one model on a chosen corpus and N, measure it, and file it next to the zoo.

A run is an ordinary sweep entry under ``data.runs_root()`` (``engine.sweep.entry_dir``, listed in
that directory's ``index.json``), so every page that reads sweep directories shows it beside the zoo.
The What-if page calls ``train_and_measure`` with callbacks that draw progress; nothing here calls
``st.*`` except ``training_lock``, the one lock per server process.

Cancelling: the page's callbacks are Streamlit calls, and Streamlit stops a script (a click on any
button, or the session closing) by raising from inside its next ``st.*`` call — that is, from inside
``progress`` or ``on_stage``. Both fire before anything is written, so a stopped run leaves nothing on
disk; once measuring starts, saving, measuring and indexing run with no callback in between.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from engine import atomic, outputs
from engine.corpus import Corpus
from engine.evaluation import MeasureConfig
from engine.model import ModelConfig
from engine.sweep import entry_dir, measure_entry, train_entry, update_index
from engine.train import Progress, TrainConfig

_DEFAULT = ModelConfig(vocab_size=4)  # the architecture's defaults; vocab_size is per corpus
MODEL_SIZES = {  # name -> (d_model, n_layers, n_heads); the pydocs zoo is "standard", the grammar zoo "deep"
    "standard": (_DEFAULT.d_model, _DEFAULT.n_layers, _DEFAULT.n_heads),
    "deep": (_DEFAULT.d_model, 6, _DEFAULT.n_heads),   # the grammar zoo's --layers 6 (engine.cli.ZOO_SWEEPS)
    "small": (64, 2, 4),
    "tiny": (32, 1, 2),
}
# optimisation steps; "standard" is TrainConfig's default (memorizes N = 64 grammar sentences),
# the zoo's budgets are in engine.cli.ZOO_SWEEPS
BUDGETS = {"standard": TrainConfig().steps, "quick": 300}
MEASURES = {
    "standard": MeasureConfig(n_train=64, n_test=64, trials=2, levels=(0.05, 0.1, 0.25, 0.5, 1.0),
                              n_generate=32),
    "light": MeasureConfig(n_train=16, n_test=16, trials=1, levels=(0.1, 0.25, 0.5), n_generate=8,
                           steps_per_unit=20),
}
HEADLINE_T = 0.25


@dataclass(frozen=True)
class Settings:
    """What the user chose: N, optimisation steps, model size, seed and measurement preset."""

    n: int
    steps: int = BUDGETS["standard"]
    size: str = "standard"
    seed: int = 0
    measure: str = "standard"

    def configs(self, corpus: Corpus) -> tuple[ModelConfig, TrainConfig]:
        d, layers, heads = MODEL_SIZES[self.size]
        model_cfg = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=corpus.seq_len,
                                d_model=d, n_layers=layers, n_heads=heads)
        return model_cfg, TrainConfig(steps=self.steps, seed=self.seed, warmup=min(50, self.steps // 4))


@st.cache_resource(show_spinner=False)
def training_lock() -> threading.Lock:
    """The lock that allows one training at a time on this server (shared by every session)."""
    return threading.Lock()


def train_and_measure(corpus: Corpus, settings: Settings, root: str | Path, *,
                      progress: Progress | None = None,
                      on_stage: Callable[[str], None] | None = None) -> Path:
    """Train on the first N sentences of ``corpus``, then save, measure and index the run under
    ``root``; returns its directory. A run with the same corpus and N replaces the earlier one.

    ValueError (before any training) when N does not fit the corpus, or ``root`` is not a folder this
    project may write (``engine.outputs``: a user's folder, a file, a run busy elsewhere).
    ``on_stage("measure")`` is called once training is over and before anything is written."""
    corpus.subset(settings.n)  # ValueError before any training when N does not fit
    model_cfg, train_cfg = settings.configs(corpus)
    with outputs.claim(root, outputs.SWEEP) as root:  # held while training: a stopped run writes nothing
        path = entry_dir(root, corpus.name, settings.n)
        train_entry(corpus, settings.n, path, model_cfg, train_cfg, progress=progress,
                    on_trained=(lambda: on_stage("measure")) if on_stage is not None else None,
                    extra={"what_if": True, "size": settings.size}, overwrite=True)
        if not (root / outputs.SWEEP_MARKER).exists():
            atomic.write_text(root / outputs.SWEEP_MARKER, "Basin Explorer what-if runs\n")
        measure(path, settings.measure)
        update_index(root, corpus.name, settings.n, path)
    return path


def measure(path: str | Path, preset: str = "standard") -> Path:
    """Measure a run directory with a preset of ``MEASURES`` and write its tables (atomically)."""
    measure_entry(path, MEASURES[preset])
    return Path(path) / "measure"


def headline(summary: dict, t: float = HEADLINE_T) -> dict[str, dict[str, float]]:
    """{split: {'recovery_rate', 'exact_match'}} at level t from a summary.json (empty if not measured there)."""
    return {r["split"]: {"recovery_rate": r["recovery_rate"], "exact_match": r["exact_match"]}
            for r in summary.get("levels", []) if abs(r["t"] - t) < 1e-9}


def loss_figure(history: list[tuple[int, float]], total: int | None = None) -> go.Figure:
    """Training loss (nats per token, mean over each logging window) against the optimisation step."""
    steps = [s for s, _ in history]
    fig = go.Figure(go.Scatter(x=steps, y=[v for _, v in history], mode="lines+markers", marker=dict(size=4),
                               hovertemplate="step %{x}<br>loss %{y:.3f} nats/token<extra></extra>"))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="step",
                      yaxis_title="loss (nats/token)",
                      xaxis=dict(range=[0, total]) if total else {})
    return fig
