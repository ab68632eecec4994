"""Honest comparisons of what-if runs with the zoo (torch-free: the Transition page imports it).

``compare`` says for each run whether it was trained with the zoo's architecture and budget, reading
both checkpoints' meta.json, and whether it is underfit (``engine.measures.underfit.verdict``: its final loss
against the zoo's at its N, its train against its test recovery); ``run_traces`` draws the runs on a
transition figure in colours of their own (never a split's): the zoo's setting in one, any other
setting in another, an underfit run in grey, the shape saying the split; each labelled with its
setting, steps and final train loss. ``zoo_reference`` is the zoo's model nearest a run's N, with its
loss and measured training time.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from engine.measures import underfit
from engine.measures.transition import recovery_by_n
from engine.runs.zoo import read_index

HEADLINE_T = 0.25   # the level of What-if's headline numbers and of the underfit verdict
SETTING_KEYS = {"model_config": ("d_model", "n_layers", "n_heads", "seq_len"),
                "train_config": ("objective", "steps", "batch_size", "lr")}


def setting(path: str | Path) -> dict:
    """The architecture and training budget of a checkpoint, read from its meta.json (no torch), with
    its final train loss (nats/token, the last logging window)."""
    meta = json.loads((Path(path) / "meta.json").read_text())
    out = {k: meta[part][k] for part, keys in SETTING_KEYS.items() for k in keys}
    out["final_loss"] = underfit.final_loss(meta.get("loss_history") or [])
    return out


def _extra(path: str | Path) -> dict:
    try:
        return json.loads((Path(path) / "meta.json").read_text()).get("extra") or {}
    except (OSError, ValueError):
        return {}


def zoo_losses(zoo_root: str | Path, corpus: str) -> dict[int, float]:
    """{N: final train loss} of the zoo's models of ``corpus`` (read from their meta.json)."""
    out = {}
    for e in _index(zoo_root):
        if e["corpus"] == corpus:
            try:
                out[int(e["n"])] = setting(Path(zoo_root) / e["path"])["final_loss"]
            except (OSError, ValueError, KeyError):
                continue
    return out


def zoo_reference(zoo_root: str | Path, corpus: str, n: int) -> dict | None:
    """The zoo's model of ``corpus`` nearest N (in log N): n, path, its final loss, its measured
    training time (seconds, None where meta.json lacks it) and its setting; None without a zoo."""
    entries = [e for e in _index(zoo_root) if e["corpus"] == corpus]
    if not entries:
        return None
    e = min(entries, key=lambda e: (abs(math.log(e["n"]) - math.log(max(n, 1))), e["n"]))
    path = Path(zoo_root) / e["path"]
    try:
        s = setting(path)
    except (OSError, ValueError, KeyError):
        return None
    seconds = _extra(path).get("train_seconds")
    return {"n": int(e["n"]), "path": str(path), "final_loss": s["final_loss"], "setting": s,
            "train_seconds": None if seconds is None else float(seconds)}


def headline_gap(summary: dict, t: float) -> tuple[float | None, float | None]:
    """(train, test) recovery rate at level t of a summary.json (the exact step's rows; None where
    not measured)."""
    rows = {r["split"]: r.get("recovery_rate") for r in summary.get("levels", [])
            if abs(float(r["t"]) - t) < 1e-9 and r.get("step", "exact") == "exact"}
    return rows.get("train"), rows.get("test")


def _summary(path: str | Path) -> dict:
    try:
        return json.loads((Path(path) / "measure" / "summary.json").read_text())
    except (OSError, ValueError):
        return {}


def run_verdict(path: str | Path, n: int, zoo_root: str | Path, corpus: str, t: float = HEADLINE_T) -> underfit.Verdict:
    """``engine.measures.underfit.verdict`` of the run at ``path`` (N = n) against the zoo's models of
    ``corpus``, at the headline level t."""
    loss = setting(path)["final_loss"]
    train, test = headline_gap(_summary(path), t)
    ref = zoo_reference(zoo_root, corpus, n)
    gap = None
    if ref is not None:
        z_train, z_test = headline_gap(_summary(ref["path"]), t)
        gap = None if z_train is None or z_test is None else z_train - z_test
    return underfit.verdict(n, loss, train, test, zoo_losses(zoo_root, corpus), gap)


def describe_setting(s: dict) -> str:
    return (f"d = {s['d_model']}, {s['n_layers']} layer{'s' if s['n_layers'] > 1 else ''}, "
            f"{s['steps']:,} steps of {s['batch_size']}, L = {s['seq_len']}")


def compare(runs_root: str | Path, zoo_root: str | Path, corpus: str) -> pd.DataFrame:
    """One row per what-if run of ``corpus``: n, path, ``matches`` (trained with the zoo's
    architecture and budget, seed aside), its final train loss, ``underfit`` (``run_verdict``) with
    its reasons, and a ``label`` for people saying all that or naming its setting against the zoo's.
    No zoo for the corpus: nothing matches, and only a run's own recovery can make it underfit."""
    zoo = [e for e in _index(zoo_root) if e["corpus"] == corpus]
    zoo_setting = setting(Path(zoo_root) / zoo[0]["path"]) if zoo else None
    rows = []
    for e in _index(runs_root):
        if e["corpus"] != corpus:
            continue
        path = Path(runs_root) / e["path"]
        try:
            s = setting(path)
            verdict = run_verdict(path, int(e["n"]), zoo_root, corpus)
        except (OSError, ValueError, KeyError):
            continue
        same = zoo_setting is not None and all(s[k] == zoo_setting[k] for k in zoo_setting if k != "final_loss")
        loss = f"train loss {s['final_loss']:.3f} nats/token after {s['steps']:,} steps"
        if same:
            label = f"what-if, the zoo's setting ({loss})"
        else:
            label = (f"what-if, another setting: {describe_setting(s)}; {loss}"
                     + (f" (zoo: {describe_setting(zoo_setting)})" if zoo_setting else " (no zoo)"))
        if verdict.underfit:
            label = f"{underfit.LABEL}: " + "; ".join(verdict.reasons) + f" — {label}"
        rows.append({"n": e["n"], "path": str(path), "matches": same, "final_loss": s["final_loss"],
                     "steps": s["steps"], "underfit": verdict.underfit, "reasons": list(verdict.reasons),
                     "label": label})
    return pd.DataFrame(rows, columns=COLUMNS)


COLUMNS = ["n", "path", "matches", "final_loss", "steps", "underfit", "reasons", "label"]


def _index(root: str | Path) -> list[dict]:
    try:
        return read_index(root)
    except (OSError, ValueError):
        return []


# a what-if point's colour says how it compares, its shape the split (filled diamond: train, open:
# test); none is a split's colour (figures.SPLIT_COLORS), so a run never reads as the test curve
RUN_MARKS = {True: ("#7b2cbf", "the zoo's setting"), False: ("#8c564b", "another setting")}
UNDERFIT_MARK = ("#8a8a8a", underfit.LABEL)


def _group(row) -> tuple[str, str]:
    return UNDERFIT_MARK if row["underfit"] else RUN_MARKS[bool(row["matches"])]


def run_traces(fig: go.Figure, results: pd.DataFrame, comparison: pd.DataFrame, t: float,
               metric: str = "recovery_rate") -> go.Figure:
    """Add the what-if runs of ``results`` (the runs' transition table) to a transition figure as
    diamonds (filled: train, open: test) with their 95 % intervals: purple for runs trained with the
    zoo's setting, brown (and named so in the legend) for the others, grey for underfit runs (named
    'underfit — not comparable'); the hover gives each run's verdict, setting, steps and train loss
    (``compare``). The figure's own curves (the zoo's, the ideal denoisers') are left as they are."""
    if results is None or not len(results) or comparison is None or not len(comparison):
        return fig
    curves = recovery_by_n(results, t, metric)
    labels = comparison.drop_duplicates("n").set_index("n")
    groups = {n: _group(labels.loc[n]) for n in labels.index}
    for color, what in (RUN_MARKS[True], RUN_MARKS[False], UNDERFIT_MARK):
        part = curves[curves["n"].map(lambda n: groups.get(n) == (color, what))]
        if part.empty:
            continue
        text = [labels.at[n, "label"] for n in part["n"]]
        for split in ("train", "test"):
            y = part[split].to_numpy(dtype=float)
            plus, minus = part[f"{split}_high"].to_numpy(dtype=float) - y, y - part[f"{split}_low"].to_numpy(dtype=float)
            fig.add_trace(go.Scatter(
                x=part["n"], y=y, name=f"what-if {split} ({what})", mode="markers", customdata=part["n"],
                text=text, legendgroup=f"what-if {what}",
                marker=dict(symbol="diamond-open" if split == "test" else "diamond", size=13,
                            color=color, line=dict(width=2, color=color)),
                error_y=dict(type="data", array=plus, arrayminus=minus, thickness=1.5, width=4, color=color),
                hovertemplate="%{text}<br>N = %{x:,}<br>%{y:.3f} (95 %: +%{error_y.array:.3f} / "
                              "−%{error_y.arrayminus:.3f})<extra>" + split + "</extra>"))
    return fig
