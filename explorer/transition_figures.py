"""The Transition page's figures: train vs test recovery against N with the transition N* and the
ideal denoisers, and the conditional entropy against N beside it. The numbers (curves, intervals,
N*) come from ``engine.transition``; these functions only draw them."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from engine.transition import CLEAN_T, by_seed, entropy_by_n, entropy_levels, n_star_at, recovery_by_n

from .figures import RUN_COLOR, SPLIT_COLORS, SPLIT_SYMBOLS, label_side, level_label, log_ticks, vline

REFERENCES = {"memorizer": ("ideal memorizer", "dash"), "generalizer": ("ideal generalizer", "dot")}
N_STAR_COLOR, SELECTED_COLOR = "black", "#666666"


def error_bars(curves: pd.DataFrame, split: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(plus, minus, what) error bars of one split of ``recovery_by_n``: the 95 % interval where it is
    known, else ± 1 std; ``what`` says which ('95 %', '± 1 std' or 'mixed')."""
    y = curves[split].to_numpy(dtype=float)
    low, high = curves[f"{split}_low"].to_numpy(dtype=float), curves[f"{split}_high"].to_numpy(dtype=float)
    std = curves[f"{split}_std"].to_numpy(dtype=float)
    has = np.isfinite(low) & np.isfinite(high)
    what = "95 %" if has.all() else ("± 1 std" if not has.any() else "mixed")
    return np.where(has, high - y, std), np.where(has, y - low, std), what


def interval_legend(whats: list[str], metric: str) -> str:
    """The legend title that says what the error bars are."""
    ci = "Wilson 95 % interval" if metric == "exact_match" else "95 % interval of the mean"
    if all(w == "95 %" for w in whats):
        return f"bars: {ci}"
    if all(w == "± 1 std" for w in whats):
        return "bars: ± 1 std"
    return f"bars: {ci} (± 1 std where no count was stored)"


def _marks(fig: go.Figure, ns, top: float, n_star: float | None, selected_n: int | None) -> None:
    """The labelled N* (dashed) and selected-N (dotted) lines, labels at the top; when the two lines
    are close (within a factor 3) their labels point away from each other, and when both labels still
    point the same way the selected N's sits lower, so that one never covers the other."""
    sides = {"n_star": label_side(n_star or 0, ns), "selected": label_side(selected_n or 0, ns)}
    both = n_star is not None and bool(selected_n)
    if both and abs(math.log(selected_n / n_star)) < math.log(3):
        sides = {"n_star": "right", "selected": "left"} if selected_n < n_star else {"n_star": "left", "selected": "right"}
    if n_star is not None:
        fig.add_trace(vline(n_star, 0, top, "transition", N_STAR_COLOR, "dash", f"N* ≈ {n_star:,.0f}",
                            sides["n_star"]))
    if selected_n:
        lower = both and sides["selected"] == sides["n_star"]
        fig.add_trace(vline(selected_n, 0, top * (0.9 if lower else 1), f"selected N = {selected_n}", SELECTED_COLOR,
                            "dot", f"selected N = {selected_n:,}", sides["selected"]))


def transition_figure(results: pd.DataFrame, t: float, *, metric: str = "recovery_rate",
                      show_exact: bool = False, runs: pd.DataFrame | None = None,
                      selected_n: int | None = None, V: int | None = None, references: bool = True) -> go.Figure:
    """Train vs test ``metric`` against N (log axis) at level t with 95 % error bars (± 1 std only
    for summaries with no count; the legend title says which), the ideal memorizer's (dashed) and
    ideal generalizer's (dotted) curves where measured (``references``), the transition N* of the
    table (``engine.transition.n_star_at``) and the selected N as labelled lines, optional exact-match
    curves, and the what-if runs of ``runs`` (same table layout) as diamonds. Where N has models of
    several seeds, the curves are their mean and each seed's value is a short horizontal tick."""
    curves = recovery_by_n(results, t, metric)
    fig = go.Figure()
    whats = []
    seeds = by_seed(results, t, metric)
    for split in ("train", "test") if len(seeds) else ():
        own = seeds[seeds["split"] == split]
        fig.add_trace(go.Scatter(
            x=own["n"], y=own["value"], name=f"{split} · each seed", mode="markers", customdata=own["n"],
            marker=dict(symbol="line-ew", size=14, opacity=0.8, line=dict(width=2, color=SPLIT_COLORS[split])),
            legendgroup="seeds",
            text=[f"seed {s}" for s in own["seed"]],
            hovertemplate="N = %{x:,} · %{text}<br>%{y:.3f}<extra>" + split + "</extra>"))
    for split in ("train", "test"):
        plus, minus, what = error_bars(curves, split)
        whats.append(what)
        fig.add_trace(go.Scatter(
            x=curves["n"], y=curves[split], name=f"{split} {metric.replace('_', ' ')}",
            mode="lines+markers", customdata=curves["n"], marker=dict(size=9, color=SPLIT_COLORS[split]),
            line=dict(color=SPLIT_COLORS[split]), legendgroup="model",
            error_y=dict(type="data", array=plus, arrayminus=minus, thickness=1, width=3),
            hovertemplate="N = %{x:,}<br>%{y:.3f} (+%{error_y.array:.3f} / −%{error_y.arrayminus:.3f})<extra>"
                          + split + "</extra>"))
    if references:
        for ref, (label, dash) in REFERENCES.items():
            rc = recovery_by_n(results, t, f"{ref}_{metric}")
            for split in ("train", "test"):
                if rc[split].notna().any():
                    fig.add_trace(go.Scatter(
                        x=rc["n"], y=rc[split], name=f"{label} · {split}", mode="lines", customdata=rc["n"],
                        line=dict(color=SPLIT_COLORS[split], dash=dash, width=2), opacity=0.75,
                        legendgroup=ref, connectgaps=False,
                        hovertemplate="N = %{x:,}<br>%{y:.3f}<extra>" + f"{label} · {split}" + "</extra>"))
    if show_exact and metric != "exact_match":
        exact = recovery_by_n(results, t, "exact_match")
        for split in ("train", "test"):
            fig.add_trace(go.Scatter(
                x=exact["n"], y=exact[split], name=f"{split} exact match", mode="lines+markers",
                customdata=exact["n"], line=dict(color=SPLIT_COLORS[split], dash="dashdot", width=1),
                marker=dict(symbol="x", color=SPLIT_COLORS[split]),
                hovertemplate="N = %{x:,}<br>exact match %{y:.3f}<extra>" + split + "</extra>"))
    if runs is not None and len(runs):
        rc = recovery_by_n(runs, t, metric)
        for split in ("train", "test"):
            fig.add_trace(go.Scatter(
                x=rc["n"], y=rc[split], name=f"what-if {split}", mode="markers", customdata=rc["n"],
                marker=dict(symbol="diamond-open" if split == "test" else "diamond", size=13,
                            color=RUN_COLOR, line=dict(width=2, color=RUN_COLOR)),
                hovertemplate="what-if run<br>N = %{x:,}<br>%{y:.3f}<extra>" + split + "</extra>"))
    _marks(fig, curves["n"], 1.05, n_star_at(results, t, metric), selected_n)
    fig.update_layout(
        title=f"Recovery of corrupted sequences at {level_label(t, V)}", hovermode="closest",
        xaxis=dict(**log_ticks(list(curves["n"]) + ([] if runs is None else list(runs["n"]))),
                   title="training-set size N (log scale)"),
        yaxis=dict(title=f"{metric.replace('_', ' ')} (content tokens)", range=[-0.02, 1.12]),
        legend=dict(orientation="h", y=-0.22, title=dict(
            text=interval_legend(whats, metric) + ("; curves: mean over seeds" if len(seeds) else ""), side="top")),
        margin=dict(t=60, b=10), clickmode="event+select")
    return fig


def entropy_figure(results: pd.DataFrame, t: float = 0.25, *, selected_n: int | None = None,
                   transition: float | None = None, clean: bool = False, V: int | None = None) -> go.Figure:
    """The entropy curve beside the transition, at level t: mean content-token entropy (nats) of x_theta
    given z_t ~ q(z_t | x0) against N — the network's on train and test sequences (solid) and on
    generated ones, where measured at t; the ideal memorizer's (dashed) and ideal generalizer's
    (dotted), i.e. the conditional entropy of x0 given z_t under their data distributions. With
    ``clean`` also the network's on the clean, uncorrupted input (t ≈ 0, faint). N* and the selected
    N are labelled lines."""
    series = [("entropy", split, False, "model · ", "solid") for split in ("train", "test", "generated")]
    series += [(f"{ref}_entropy", split, False, f"{label} · ", dash) for ref, (label, dash) in REFERENCES.items()
               for split in ("train", "test")]
    if clean:
        series += [("entropy", split, True, "clean input · ", "longdash") for split in ("train", "test", "generated")]
    fig = go.Figure()
    top = 0.0
    for column, split, at_clean, prefix, dash in series:
        e = entropy_by_n(results, column)
        at = (e["t"] < CLEAN_T) if at_clean else np.isclose(e["t"].astype(float), t)
        rows = e[(e["split"] == split) & at]
        if rows.empty:
            continue
        top = max(top, float(rows["entropy"].max()))
        label = f"{prefix}{split}"
        fig.add_trace(go.Scatter(
            x=rows["n"], y=rows["entropy"], name=label, customdata=rows["n"],
            mode="lines+markers" if column == "entropy" else "lines",
            opacity=0.45 if at_clean else (1.0 if column == "entropy" else 0.75),
            line=dict(color=SPLIT_COLORS[split], dash=dash, width=2), legendgroup=column + prefix,
            marker=dict(symbol=SPLIT_SYMBOLS[split], size=8, color=SPLIT_COLORS[split]),
            hovertemplate="N = %{x:,}<br>H = %{y:.3f} nats/token<extra>" + label + "</extra>"))
    top = top or 1.0
    if not any(tr.name.startswith("model") for tr in fig.data):
        levels = ", ".join(f"{m:g}" for m in entropy_levels(results)) or "no level"
        fig.add_annotation(text=f"the model's entropy: measured at t = {levels} only", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=1.0, yanchor="bottom", font=dict(size=11, color="gray"))
    _marks(fig, results["n"].dropna() if "n" in results else [], top * 1.08, transition, selected_n)
    fig.update_layout(
        title=f"Conditional entropy at {level_label(t, V, short=True)}", hovermode="closest",
        xaxis=dict(**log_ticks(results["n"].dropna() if "n" in results else []),
                   title="training-set size N (log scale)"),
        yaxis=dict(title="mean entropy (nats per content token)", rangemode="tozero"),
        legend=dict(orientation="h", y=-0.22), margin=dict(t=60, b=10), clickmode="event+select")
    return fig
