"""Honest comparisons of what-if runs with the zoo (torch-free: the Transition page imports it).

``compare`` says for each run whether it was trained with the zoo's architecture and budget, reading
both checkpoints' meta.json; ``run_traces`` draws the runs on a transition figure, the zoo's setting in
one colour and any other setting in another, labelled with its settings, steps and final train loss.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from engine.transition import recovery_by_n
from engine.zoo import read_index

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
