"""Figure builders of the Basins page: pure functions from the basin tables (``engine.measures.basin``,
``engine.measures.references``) to plotly figures; they never call ``st.*``.

* ``size_distribution_figure`` — the continuous basin size per example, one box per N and split (the
  all-zero test boxes labelled, with the reason);
* ``fixed_points_figure``      — the share of clean sequences left unchanged by greedy dynamics per N;
* ``size_length_figure``       — basin size against sentence length (n_content) for one model;
* ``hamming_profile_figure``   — one example's p(k) against k/n with Wilson 95 % bands, the network's
  beside the ideal memorizer's and ideal generalizer's profiles of the same example;
* ``basin_strip_figure``       — the older level radius per example (models measured before sizes);
* ``recovery_vs_t_figure``     — recovery and exact match against the corruption level t (trials that
  corrupted nothing left out).

Points carry ``customdata`` [split, example] (or N) so that a click can be traced back.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from engine.measures import profiles

from explorer.figures import SPLIT_COLORS, SPLIT_SYMBOLS, changed_fraction, label_side, log_ticks, vline

PROFILE_STYLES = {"model": ("#222222", "solid"), "ideal memorizer": ("#d62728", "dash"),
                  "ideal generalizer": ("#2ca02c", "dot")}
SPLIT_OFFSET = {"train": -0.15, "test": 0.15}   # side by side at one length


ALL_ZERO_REASON = ("test all 0 at N = {ns}: one swapped word is not undone (p(k = 1) < 1/2):<br>a memorizer "
                   "pulls the sentence to a training one, a generalizer keeps the swap,<br>which usually leaves a "
                   "plausible (grammar: valid) sentence ≠ x0 (Transition: what grows instead)")


def all_zero_ns(sizes: pd.DataFrame, split: str = "test") -> list[int]:
    """The N at which every measured ``split`` example has basin size 0 (a box that is a flat line)."""
    s = sizes[sizes["split"] == split] if len(sizes) else sizes
    if s.empty:
        return []
    zero = s.groupby("n")["size"].agg(lambda v: bool((v == 0).all()))
    return sorted(int(n) for n, z in zero.items() if z)


def size_distribution_figure(sizes: pd.DataFrame, selected_n: int | None = None) -> go.Figure:
    """Box (with every example as a point) of the continuous basin size per N, train beside test.
    The test boxes in which every size is 0 (flat lines) are labelled 'all 0', and the reason is
    written above the plot (``ALL_ZERO_REASON``).

    sizes: the ``basin_size`` tables of a zoo (``engine.runs.zoo.collect_table``): columns n, split,
    example, size. The x axis lists the N as categories, smallest first."""
    fig = go.Figure()
    ns = sorted(int(n) for n in sizes["n"].unique()) if len(sizes) else []
    for split in ("train", "test"):
        s = sizes[sizes["split"] == split].sort_values(["n", "example"]) if len(sizes) else sizes
        if s.empty:
            continue
        fig.add_trace(go.Box(
            x=[f"{int(n):,}" for n in s["n"]], y=s["size"], name=split, boxpoints="all", jitter=0.5,
            pointpos=0, customdata=np.column_stack([s["n"], s["example"]]), offsetgroup=split,
            marker=dict(color=SPLIT_COLORS[split], size=3, opacity=0.45), line=dict(width=1.5),
            hovertemplate="N = %{x} · " + split + " #%{customdata[1]}<br>basin size %{y:.3f}<extra></extra>"))
    zero = all_zero_ns(sizes, "test")
    if zero:
        counts = sizes[(sizes["split"] == "test") & sizes["n"].isin(zero)].groupby("n").size()
        fig.add_trace(go.Scatter(
            x=[f"{n:,}" for n in zero], y=[0.0] * len(zero), name="test: all 0", mode="text",
            text=["all 0"] * len(zero),
            textposition="top center", offsetgroup="test", textfont=dict(color=SPLIT_COLORS["test"], size=11),
            customdata=[[n, int(counts[n])] for n in zero], showlegend=False,
            hovertemplate="N = %{x} · all %{customdata[1]} test sentences: basin size 0<extra></extra>"))
        fig.add_annotation(text=ALL_ZERO_REASON.format(ns=", ".join(f"{n:,}" for n in zero)), showarrow=False,
                           xref="paper", yref="paper", x=0, xanchor="left", y=1.0, yanchor="bottom", align="left",
                           font=dict(size=10, color="gray"))
    title = "Basin size per example against N"
    if selected_n in ns:
        title += f" (selected: N = {selected_n:,})"
    fig.update_layout(
        title=title, boxmode="group", scattermode="group", hovermode="closest",
        xaxis=dict(title="training-set size N", type="category", categoryorder="array",
                   categoryarray=[f"{n:,}" for n in ns]),
        yaxis=dict(title="basin size (share of content positions)", range=[-0.04, 1.06]),
        legend=dict(orientation="h", y=-0.2), margin=dict(t=110 if zero else 60, b=10))
    return fig


def fixed_by_n(results: pd.DataFrame) -> pd.DataFrame:
    """The fixed-point share per N and split (columns n, split, fixed_fraction) from the sweep table,
    averaged over the seeds of one N where the zoo has several."""
    if "fixed_fraction" not in results:
        return pd.DataFrame(columns=["n", "split", "fixed_fraction"])
    f = results[results["split"].isin(["train", "test"])].dropna(subset=["fixed_fraction"])
    per_model = ["n", "split", "seed"] if "seed" in f else ["n", "split"]   # one value per model, every level
    f = f.groupby(per_model, as_index=False)["fixed_fraction"].first()
    return (f.groupby(["n", "split"], as_index=False)["fixed_fraction"].mean()     # mean over seeds
            .sort_values(["split", "n"], ignore_index=True))


def fixed_points_figure(results: pd.DataFrame, selected_n: int | None = None) -> go.Figure:
    """Share of clean train and test sequences that greedy dynamics leaves unchanged, against N."""
    f = fixed_by_n(results)
    fig = go.Figure()
    for split in ("train", "test"):
        rows = f[f["split"] == split]
        if rows.empty:
            continue
        fig.add_trace(go.Scatter(
            x=rows["n"], y=rows["fixed_fraction"], name=split, mode="lines+markers", customdata=rows["n"],
            line=dict(color=SPLIT_COLORS[split]), marker=dict(symbol=SPLIT_SYMBOLS[split], size=9),
            hovertemplate="N = %{x}<br>%{y:.3f} fixed<extra>" + split + "</extra>"))
    if selected_n:
        fig.add_trace(vline(selected_n, 0, 1.04, f"selected N = {selected_n}", "gray", "dot",
                            f"selected N = {selected_n:,}", label_side(selected_n, f["n"])))
    fig.update_layout(
        title="Fixed points: clean sentences left unchanged", hovermode="closest",
        xaxis=dict(**log_ticks(f["n"]), title="training-set size N (log scale)"),
        yaxis=dict(title="share of clean sequences that are fixed points", range=[-0.03, 1.06]),
        legend=dict(orientation="h", y=-0.2), margin=dict(t=60, b=10))
    return fig


def size_length_figure(ranked: pd.DataFrame, sentences: dict[str, list[str]] | None = None,
                       selected: tuple[str, int] | None = None) -> go.Figure:
    """Basin size against sentence length n_content, train and test side by side at each length
    (x = n_content ± 0.15), with the median size per length as a line; ``ranked`` has columns split,
    example, n_content, size (a ``profiles.rank`` table: its area and rank go to the hover)."""
    fig = go.Figure()
    for split in ("train", "test"):
        r = ranked[ranked["split"] == split].sort_values(["n_content", "example"])
        if r.empty:
            continue
        text = [sentences[split][i] if sentences and 0 <= i < len(sentences.get(split, [])) else ""
                for i in r["example"]]
        extra = np.column_stack([r["split"], r["example"], r["n_content"],
                                 r["rank"] if "rank" in r else np.full(len(r), -1)])
        fig.add_trace(go.Scatter(
            x=r["n_content"] + SPLIT_OFFSET[split], y=r["size"], mode="markers", name=split, customdata=extra,
            hovertext=text, marker=dict(color=SPLIT_COLORS[split], symbol=SPLIT_SYMBOLS[split], size=8, opacity=0.6),
            hovertemplate="%{customdata[0]} #%{customdata[1]} · %{customdata[2]} content positions<br>"
                          "basin size %{y:.3f} (rank %{customdata[3]})<br>%{hovertext}<extra></extra>"))
        med = r.groupby("n_content", as_index=False)["size"].median()
        fig.add_trace(go.Scatter(
            x=med["n_content"] + SPLIT_OFFSET[split], y=med["size"], mode="lines", name=f"median {split}",
            line=dict(color=SPLIT_COLORS[split], width=1.5), hoverinfo="skip"))
    if selected is not None:
        s = ranked[(ranked["split"] == selected[0]) & (ranked["example"] == selected[1])]
        if len(s):
            fig.add_trace(go.Scatter(x=s["n_content"] + SPLIT_OFFSET.get(selected[0], 0), y=s["size"],
                                     mode="markers", name="selected", hoverinfo="skip",
                                     marker=dict(symbol="star", size=16, color="black")))
    fig.update_layout(
        title="Basin size against sentence length", hovermode="closest", clickmode="event+select",
        xaxis=dict(title="sentence length n (content positions: words and end token)", dtick=1),
        yaxis=dict(title="basin size (share of content positions)", range=[-0.04, 1.06]),
        legend=dict(orientation="h", y=-0.2), margin=dict(t=60, b=10))
    return fig


def hamming_profile_figure(tables: dict[str, pd.DataFrame], split: str, example: int,
                           size: float | None = None) -> go.Figure:
    """p(k) against the share k/n of corrupted content positions for one example, with its Wilson
    95 % interval (a band for the model, bars for the references), from Hamming profiles keyed by
    label ('model', 'ideal memorizer', 'ideal generalizer'); p = 1/2 and the model's continuous basin
    ``size`` marked. k after the early stop (two k with p < 1/2) were not measured and are not drawn."""
    fig = go.Figure()
    for label, profile in tables.items():
        rows = profile[(profile["split"] == split) & (profile["example"] == example)].sort_values("k")
        if rows.empty:
            continue
        f = profiles.frequencies(rows)
        color, dash = PROFILE_STYLES.get(label, ("gray", "solid"))
        custom = np.column_stack([f["k"], f["n_content"], f["recovered"], f["trials"], f["t"], f["low"], f["high"]])
        if label == "model":
            fig.add_trace(go.Scatter(
                x=np.r_[f["share"], f["share"][::-1]], y=np.r_[f["high"], f["low"][::-1]], fill="toself", mode="lines",
                name="model · Wilson 95 %", line=dict(width=0), fillcolor="rgba(34,34,34,0.15)", hoverinfo="skip"))
        fig.add_trace(go.Scatter(
            x=f["share"], y=f["p"], name=label, mode="lines+markers", customdata=custom,
            line=dict(color=color, dash=dash, width=2.5 if label == "model" else 1.8),
            marker=dict(color=color, size=8 if label == "model" else 6),
            error_y=None if label == "model" else dict(type="data", array=f["high"] - f["p"],
                                                       arrayminus=f["p"] - f["low"], thickness=1, width=2),
            hovertemplate="k = %{customdata[0]} of %{customdata[1]} (t_k = %{customdata[4]:.3f})<br>p = %{y:.2f}"
                          " (%{customdata[2]}/%{customdata[3]}; 95 %: %{customdata[5]:.2f}–%{customdata[6]:.2f})"
                          "<extra>" + label + "</extra>"))
    fig.add_hline(y=0.5, line=dict(color="gray", dash="dot", width=1))
    if size is not None and np.isfinite(size):
        fig.add_trace(vline(size, 0, 1.04, "basin size", "#222222", "dash", f"size {size:.2f}",
                             "left" if size > 0.5 else "right"))
    fig.update_layout(
        title=f"Hamming profile of {split} #{example}", hovermode="closest",
        xaxis=dict(title="share k/n of content positions changed", range=[0, 1.02]),
        yaxis=dict(title="exact-recovery frequency p(k)", range=[-0.04, 1.08]),
        legend=dict(orientation="h", y=-0.2), margin=dict(t=60, b=10))
    return fig


def basin_strip_figure(basins: pd.DataFrame, sentences: dict[str, list[str]] | None = None,
                       selected: tuple[str, int] | None = None) -> go.Figure:
    """Basin radius r(x0) of every measured example, one jittered strip (with its box) per split.

    Points carry customdata [split, example]; ``sentences`` (split -> decoded sentences) feed the hover.
    """
    fig = go.Figure()
    for split in ("train", "test"):
        b = basins[basins["split"] == split]
        if b.empty:
            continue
        text = [sentences[split][i] if sentences and i < len(sentences.get(split, [])) else ""
                for i in b["example"]]
        fig.add_trace(go.Box(
            y=b["radius"], x=[split] * len(b), name=split, boxpoints="all", jitter=0.6, pointpos=0,
            customdata=np.column_stack([[split] * len(b), b["example"]]), hovertext=text,
            marker=dict(color=SPLIT_COLORS[split], size=8, opacity=0.7), line=dict(width=1),
            fillcolor="rgba(0,0,0,0)",
            hovertemplate="%{x} #%{customdata[1]}<br>radius %{y:.3~f}<br>%{hovertext}<extra></extra>"))
    if selected is not None:
        s = basins[(basins["split"] == selected[0]) & (basins["example"] == selected[1])]
        if len(s):
            fig.add_trace(go.Scatter(x=[selected[0]], y=s["radius"], mode="markers", name="selected",
                                     marker=dict(symbol="star", size=18, color="black"), hoverinfo="skip"))
    fig.update_layout(title="Basin radius per example", showlegend=False, hovermode="closest",
                      yaxis=dict(title="basin radius r(x0) (largest level t recovered)",
                                 range=[-0.05, max(1.0, float(basins["radius"].max() or 0)) + 0.05]),
                      margin=dict(t=60, b=10), clickmode="event+select")
    return fig


def recovery_by_level(recovery: pd.DataFrame) -> pd.DataFrame:
    """Mean recovery rate and exact match per split × t over the trials that corrupted a content
    position (``n_corrupted > 0``), as ``engine.measures.measure.summarize_recovery`` scores them: a trial that
    changed nothing comes back trivially and is never counted as a recovery (PROTOCOL §5)."""
    if "n_corrupted" in recovery:
        recovery = recovery[recovery["n_corrupted"] > 0]
    return (recovery.groupby(["split", "t"], as_index=False)
            .agg(recovery_rate=("recovery_rate", "mean"), exact_match=("exact_match", "mean"))
            .sort_values(["split", "t"], ignore_index=True))


def recovery_vs_t_figure(recovery: pd.DataFrame, V: int | None = None) -> go.Figure:
    """Recovery rate (solid) and exact match (dotted) against the corruption level t, train vs test."""
    r = recovery_by_level(recovery)
    fig = go.Figure()
    for split in ("train", "test"):
        rows = r[r["split"] == split]
        for col, dash in (("recovery_rate", "solid"), ("exact_match", "dot")):
            fig.add_trace(go.Scatter(
                x=rows["t"], y=rows[col], name=f"{split} {col.replace('_', ' ')}", mode="lines+markers",
                line=dict(color=SPLIT_COLORS[split], dash=dash), marker=dict(color=SPLIT_COLORS[split]),
                hovertemplate="t = %{x:.3~f}<br>%{y:.3f}<extra>" + f"{split} {col.replace('_', ' ')}" + "</extra>"))
    levels = sorted(r["t"].unique())
    ticks = [f"{t:g}" + (f"<br>≈{100 * changed_fraction(t, V):.0f}%" if V else "") for t in levels]
    fig.update_layout(
        title="Recovery against corruption level", hovermode="closest",
        xaxis=dict(title="corruption level t, log scale" + (" (share of tokens actually changed)" if V else ""),
                   type="log", tickvals=levels, ticktext=ticks, tickangle=0),
        yaxis=dict(title="fraction (content tokens)", range=[-0.02, 1.05]),
        legend=dict(orientation="h", y=-0.3), margin=dict(t=60, b=10))
    return fig


def basin_extremes(basins: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """The ``k`` examples with the largest and the ``k`` with the smallest basins (ties broken by the
    mean exact-recovery frequency over levels): columns rank, split, example, radius, mean_p."""
    p_cols = [c for c in basins.columns if c.startswith("p@")]
    b = basins.assign(mean_p=basins[p_cols].mean(axis=1) if p_cols else np.nan)
    order = b.sort_values(["radius", "mean_p"], ascending=False, kind="stable")
    top, bottom = order.head(k), order.tail(min(k, max(len(order) - k, 0))).iloc[::-1]
    out = pd.concat([top.assign(rank="largest"), bottom.assign(rank="smallest")], ignore_index=True)
    return out[["rank", "split", "example", "radius", "mean_p"]]
