"""What-if runs: train one model on a chosen corpus and N, measure it, and file it next to the zoo.

A run is an ordinary sweep entry under ``data.runs_root()`` (``engine.sweep.entry_dir``, listed in
that directory's ``index.json``), so every page that reads sweep directories shows it beside the zoo.
The corpus fixes the sequence length (``Corpus.seq_len``; away from its default the corpus's name
carries it, e.g. ``grammar@L32``), so runs at different lengths are separate curves.
``explorer.jobs`` runs ``train_and_measure`` in a server thread; nothing here calls ``st.*``.

A run measures only what the Transition and What-if pages draw (``MEASURED``), on fewer examples,
trials and generations than the zoo (``MEASURES``), so its 95 % intervals are wider. ``compare`` says
for each run whether it was trained with the zoo's settings, and ``run_traces`` draws the runs that
were not as a different mark, labelled with their settings, steps and final train loss.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from engine import atomic, outputs
from engine.transition import recovery_by_n
from engine.zoo import read_index
from engine.corpus import Corpus
from engine.evaluation import MeasureConfig
from engine.model import ModelConfig
from engine.sweep import entry_dir, measure_entry, train_entry, update_index
from engine.train import Progress, TrainConfig

_DEFAULT = ModelConfig(vocab_size=4)  # the architecture's defaults; vocab_size is per corpus
MODEL_SIZES = {  # name -> (d_model, n_layers, n_heads); the pydocs zoo is "standard", the grammar zoo "deep"
    "standard": (_DEFAULT.d_model, _DEFAULT.n_layers, _DEFAULT.n_heads),
    "deep": (_DEFAULT.d_model, 6, _DEFAULT.n_heads),   # the grammar zoo's 6 layers (engine.corpora)
    "small": (64, 2, 4),
    "tiny": (32, 1, 2),
}
# optimisation steps; "standard" is TrainConfig's default (memorizes N = 64 grammar sentences),
# the zoo's budgets are in the corpus registry (engine.corpora)
BUDGETS = {"standard": TrainConfig().steps, "quick": 300}
# what a budget does not do, measured (grammar N = 64, standard model, train recovery at t = 0.25)
BUDGET_NOTES = {"quick": "does not memorize (N = 64 grammar: train recovery 0.44), for a first look only"}
# the tables a what-if run measures: what the Transition and What-if pages draw (not the basin profiles,
# the ideal denoisers or the projection: `python -m engine measure --only ...` adds them)
MEASURED = ("recovery", "basins", "fixed_points", "generations", "entropy")
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


def budget_label(name: str) -> str:
    note = BUDGET_NOTES.get(name)
    return f"{name} — {BUDGETS[name]:,} steps" + (f": {note}" if note else "")


def measure_about(preset: str) -> str:
    """What a preset measures, against the zoo (``python -m engine measure`` defaults), for people."""
    c, zoo = MEASURES[preset], MeasureConfig()
    return (f"{c.n_train} train + {c.n_test} test sentences (zoo: {zoo.n_train} + {zoo.n_test}), {c.trials} "
            f"trial{'s' if c.trials > 1 else ''} (zoo: {zoo.trials}) at t = {', '.join(f'{t:g}' for t in c.levels)}, "
            f"{c.n_generate} generations (zoo: {zoo.n_generate}); tables: {', '.join(MEASURED)}")


def train_and_measure(corpus: Corpus, settings: Settings, root: str | Path, *,
                      progress: Progress | None = None,
                      on_stage: Callable[[str], None] | None = None,
                      on_measure: Callable[[str, int, int], None] | None = None) -> Path:
    """Train on the first N sentences of ``corpus``, then save, measure and index the run under
    ``root``; returns its directory. A run with the same corpus and N replaces the earlier one.

    ValueError (before any training) when N does not fit the corpus, or ``root`` is not a folder this
    project may write (``engine.outputs``: a user's folder, a file, a run busy elsewhere).
    ``on_stage("measure")`` is called once training is over and before anything is written;
    ``on_measure(table, i, count)`` before each measured table. An exception from ``progress`` or
    ``on_stage`` leaves nothing on disk; one from ``on_measure`` leaves the checkpoint indexed, with
    no tables (the What-if page offers to measure it)."""
    corpus.subset(settings.n)  # ValueError before any training when N does not fit
    model_cfg, train_cfg = settings.configs(corpus)
    with outputs.claim(root, outputs.SWEEP) as root:  # held while training: a stopped run writes nothing
        path = entry_dir(root, corpus.name, settings.n)
        train_entry(corpus, settings.n, path, model_cfg, train_cfg, progress=progress,
                    on_trained=(lambda: on_stage("measure")) if on_stage is not None else None,
                    extra={"what_if": True, "size": settings.size}, overwrite=True)
        if not (root / outputs.SWEEP_MARKER).exists():
            atomic.write_text(root / outputs.SWEEP_MARKER, "Basin Explorer what-if runs\n")
        try:
            measure(path, settings.measure, progress=on_measure)
        finally:
            update_index(root, corpus.name, settings.n, path)
    return path


def measure(path: str | Path, preset: str = "standard",
            progress: Callable[[str, int, int], None] | None = None) -> Path:
    """Measure a run directory with a preset of ``MEASURES`` (the tables ``MEASURED``) and write its
    tables (atomically); ``progress(table, i, count)`` before each table."""
    measure_entry(path, MEASURES[preset], only=list(MEASURED), progress=progress)
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


# ------------------------------------------------------------------------------- honest comparisons

SETTING_KEYS = {"model_config": ("d_model", "n_layers", "n_heads", "seq_len"),
                "train_config": ("objective", "steps", "batch_size", "lr")}


def setting(path: str | Path) -> dict:
    """The architecture and training budget of a checkpoint, read from its meta.json (no torch), with
    its final train loss (nats/token, the last logging window)."""
    meta = json.loads((Path(path) / "meta.json").read_text())
    out = {k: meta[part][k] for part, keys in SETTING_KEYS.items() for k in keys}
    history = meta.get("loss_history") or []
    out["final_loss"] = float(history[-1][1]) if history else float("nan")
    return out


def describe_setting(s: dict) -> str:
    return (f"d = {s['d_model']}, {s['n_layers']} layer{'s' if s['n_layers'] > 1 else ''}, "
            f"{s['steps']:,} steps of {s['batch_size']}, L = {s['seq_len']}")


def compare(runs_root: str | Path, zoo_root: str | Path, corpus: str) -> pd.DataFrame:
    """One row per what-if run of ``corpus``: n, path, ``matches`` (trained with the zoo's
    architecture and budget, seed aside), its final train loss, and a ``label`` for people saying so
    or naming its setting against the zoo's. No zoo for the corpus: nothing matches."""
    zoo = [e for e in _index(zoo_root) if e["corpus"] == corpus]
    zoo_setting = setting(Path(zoo_root) / zoo[0]["path"]) if zoo else None
    rows = []
    for e in _index(runs_root):
        if e["corpus"] != corpus:
            continue
        path = Path(runs_root) / e["path"]
        try:
            s = setting(path)
        except (OSError, ValueError, KeyError):
            continue
        same = zoo_setting is not None and all(s[k] == zoo_setting[k] for k in zoo_setting if k != "final_loss")
        loss = f"train loss {s['final_loss']:.3f} nats/token after {s['steps']:,} steps"
        if same:
            label = f"what-if, the zoo's setting ({loss})"
        else:
            label = (f"what-if, another setting: {describe_setting(s)}; {loss}"
                     + (f" (zoo: {describe_setting(zoo_setting)})" if zoo_setting else " (no zoo)"))
        rows.append({"n": e["n"], "path": str(path), "matches": same, "final_loss": s["final_loss"],
                     "steps": s["steps"], "label": label})
    return pd.DataFrame(rows, columns=["n", "path", "matches", "final_loss", "steps", "label"])


def _index(root: str | Path) -> list[dict]:
    try:
        return read_index(root)
    except (OSError, ValueError):
        return []


RUN_MARKS = {True: ("#7b2cbf", "the zoo's setting"), False: ("#e07a00", "another setting")}


def run_traces(fig: go.Figure, results: pd.DataFrame, comparison: pd.DataFrame, t: float,
               metric: str = "recovery_rate") -> go.Figure:
    """Add the what-if runs of ``results`` (the runs' transition table) to a transition figure as
    diamonds (filled: train, open: test) with their 95 % intervals: purple for runs trained with the
    zoo's setting, orange (and named so in the legend) for the others; the hover gives each run's
    setting, steps and train loss (``compare``)."""
    if results is None or not len(results) or comparison is None or not len(comparison):
        return fig
    curves = recovery_by_n(results, t, metric)
    labels = comparison.drop_duplicates("n").set_index("n")
    for matches, (color, what) in RUN_MARKS.items():
        ns = set(labels.index[labels["matches"] == matches])
        part = curves[curves["n"].isin(ns)]
        if part.empty:
            continue
        text = [labels.at[n, "label"] for n in part["n"]]
        for split in ("train", "test"):
            y = part[split].to_numpy(dtype=float)
            plus, minus = part[f"{split}_high"].to_numpy(dtype=float) - y, y - part[f"{split}_low"].to_numpy(dtype=float)
            fig.add_trace(go.Scatter(
                x=part["n"], y=y, name=f"what-if {split} ({what})", mode="markers", customdata=part["n"],
                text=text, marker=dict(symbol="diamond-open" if split == "test" else "diamond", size=13,
                                       color=color, line=dict(width=2, color=color)),
                error_y=dict(type="data", array=plus, arrayminus=minus, thickness=1.5, width=4, color=color),
                hovertemplate="%{text}<br>N = %{x:,}<br>%{y:.3f} (95 %: +%{error_y.array:.3f} / "
                              "−%{error_y.arrayminus:.3f})<extra>" + split + "</extra>"))
    return fig
