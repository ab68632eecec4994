"""The Transition page's figures: train vs test recovery against N with the transition N* and the
ideal denoisers, the conditional entropy against N beside it, and below them the three measures by
which unseen sentences become attractors (``basin_growth_figure``). The numbers (curves, intervals,
N*) come from ``engine.measures.transition`` and ``engine.measures.basin_growth``; these functions only draw them."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.measures.basin_growth import MEASURES
from engine.measures.transition import CLEAN_T, by_seed, entropy_by_n, entropy_levels, n_star_at, recovery_by_n

from explorer.figures import RUN_COLOR, SPLIT_COLORS, SPLIT_SYMBOLS, label_side, level_label, log_ticks, vline

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
    """The labelled N* (dashed) and selected-N (dotted) lines, labels at the top. Each label points
    towards the middle of the sweep (``label_side``), so it never runs off the plot whatever the font;
    two labels that both point inwards could meet, so when both lines are drawn the selected N's
    label sits one row lower (10 % of the axis): one never covers the other at any font or width."""
    sides = {"n_star": label_side(n_star or 0, ns), "selected": label_side(selected_n or 0, ns)}
    if n_star is not None:
        fig.add_trace(vline(n_star, 0, top, "transition", N_STAR_COLOR, "dash", f"N* ≈ {n_star:,.0f}",
                            sides["n_star"]))
    if selected_n:
        lower = n_star is not None
        fig.add_trace(vline(selected_n, 0, top * (0.9 if lower else 1), f"selected N = {selected_n}", SELECTED_COLOR,
                            "dot", f"selected N = {selected_n:,}", sides["selected"]))


def transition_figure(results: pd.DataFrame, t: float, *, metric: str = "recovery_rate",
                      show_exact: bool = False, runs: pd.DataFrame | None = None,
                      selected_n: int | None = None, V: int | None = None, references: bool = True) -> go.Figure:
    """Train vs test ``metric`` against N (log axis) at level t with 95 % error bars (± 1 std only
    for summaries with no count; the legend title says which), the ideal memorizer's (dashed) and
    ideal generalizer's (dotted) curves where measured (``references``), the transition N* of the
    table (``engine.measures.transition.n_star_at``) and the selected N as labelled lines, optional exact-match
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


GROWTH_TITLES = {"fixed": "fixed points (clean sentence kept)", "p_k1": "p(k = 1): one word changed",
                 "exact_match": "exact match at t = {t:g}"}
GROWTH_STYLE = {"test": dict(width=2.5, opacity=1.0, band=0.25), "train": dict(width=1.5, opacity=0.55, band=0.12)}


def _rgba(color: str, alpha: float) -> str:
    h = color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def basin_growth_figure(growth: pd.DataFrame, t: float | None = None, *, selected_n: int | None = None,
                        splits: tuple[str, ...] = ("test", "train")) -> go.Figure:
    """Three panels against N (log axis), one per measure of ``engine.measures.basin_growth.basin_growth``
    (its tidy table ``growth``): the fixed-point share, p(k = 1) and exact match at level t. The
    network's value per split is a line with its Wilson 95 % band (test bold, train faint for
    contrast); the ideal memorizer (dashed) and ideal generalizer (dotted) where measured, in the
    split's colour. The selected N is a dotted grey line in every panel."""
    measures = [m for m in MEASURES if m in set(growth["measure"])] or list(MEASURES)
    titles = [GROWTH_TITLES[m].format(t=t) if t is not None else GROWTH_TITLES[m].split(" at ")[0] for m in measures]
    fig = make_subplots(rows=1, cols=len(measures), shared_yaxes=True, subplot_titles=titles,
                        horizontal_spacing=0.04)
    shown = set()
    for col, measure in enumerate(measures, start=1):
        for split in splits:
            color, look = SPLIT_COLORS[split], GROWTH_STYLE[split]
            rows = growth[(growth["measure"] == measure) & (growth["split"] == split)]
            model = rows[rows["denoiser"] == "model"].sort_values("n")
            band = model.dropna(subset=["low", "high"])
            if len(band):
                fig.add_trace(go.Scatter(
                    x=np.r_[band["n"], band["n"][::-1]], y=np.r_[band["high"], band["low"][::-1]],
                    fill="toself", mode="lines", line=dict(width=0), fillcolor=_rgba(color, look["band"]),
                    name=f"{split} · 95 %", legendgroup=f"{split} · 95 %", showlegend=f"{split} · 95 %" not in shown,
                    hoverinfo="skip"), row=1, col=col)
                shown.add(f"{split} · 95 %")
            if len(model):
                fig.add_trace(go.Scatter(
                    x=model["n"], y=model["value"], name=split, mode="lines+markers", customdata=model["n"],
                    legendgroup=split, showlegend=split not in shown, opacity=look["opacity"],
                    line=dict(color=color, width=look["width"]),
                    marker=dict(symbol=SPLIT_SYMBOLS[split], size=8, color=color),
                    text=[f"95 %: {lo:.3f}–{hi:.3f}" if np.isfinite(lo) else "no interval"
                          for lo, hi in zip(model["low"], model["high"])],
                    hovertemplate="N = %{x:,}<br>%{y:.3f} (%{text})<extra>" + f"{split} · {measure}" + "</extra>"),
                    row=1, col=col)
                shown.add(split)
            for ref, (label, dash) in REFERENCES.items():
                r = rows[rows["denoiser"] == ref].sort_values("n")
                if r.empty:
                    continue
                name = f"{label} · {split}"
                fig.add_trace(go.Scatter(
                    x=r["n"], y=r["value"], name=name, mode="lines", customdata=r["n"], legendgroup=name,
                    showlegend=name not in shown, opacity=0.75 * look["opacity"],
                    line=dict(color=color, dash=dash, width=1.8),
                    hovertemplate="N = %{x:,}<br>%{y:.3f}<extra>" + f"{name} · {measure}" + "</extra>"),
                    row=1, col=col)
                shown.add(name)
        if selected_n:
            fig.add_trace(go.Scatter(x=[selected_n, selected_n], y=[0, 1.04], mode="lines", hoverinfo="skip",
                                     name=f"selected N = {selected_n:,}", legendgroup="selected",
                                     showlegend="selected" not in shown,
                                     line=dict(color=SELECTED_COLOR, dash="dot", width=1)), row=1, col=col)
            shown.add("selected")
    ticks = log_ticks(growth["n"]) if len(growth) else dict(type="log")
    for col in range(1, len(measures) + 1):
        fig.update_xaxes(**ticks, tickangle=-45, row=1, col=col)
    fig.update_xaxes(title="training-set size N (log scale)", row=1, col=(len(measures) + 1) // 2)
    fig.update_yaxes(range=[-0.03, 1.06], row=1, col=1, title="share of sentences (p: of trials)")
    fig.update_layout(
        title="Do unseen sentences become attractors? Test sentences against N", hovermode="closest",
        legend=dict(orientation="h", y=-0.32, title=dict(text="bands: Wilson 95 %", side="top")),
        margin=dict(t=80, b=10), clickmode="event+select")
    return fig
