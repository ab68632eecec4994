"""Figure builders for the explorer's pages: pure functions from measurement tables to plotly figures.

They never call ``st.*`` and never load anything; the pages hand them the tables of
``explorer.data`` and render what they return. Every trace keeps the numbers of its table unchanged
(tests compare them), and points carry ``customdata`` so that a click can be traced back to an N or
to a (split, example).

Corruption levels: the x axes show the level t of the forward process. The fraction of positions
whose token actually changes at level t is (1 - alpha_t)(1 - 1/V), not t; where V is known the tick
labels say both (see ``level_label``).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go


SPLIT_COLORS = {"train": "#1f77b4", "test": "#ff7f0e", "generated": "#2ca02c"}
SPLIT_SYMBOLS = {"train": "circle", "test": "square", "generated": "diamond"}
CATEGORY_COLORS = {"memorized": "#1f77b4", "novel-valid": "#2ca02c", "spurious": "#d62728",
                   "novel": "#9467bd"}
RUN_COLOR = "#9467bd"
TRANSITION_TOL = 0.05
CLEAN_T = 1e-4          # levels below this are "clean input" (the engine measures them at t = 1e-5)


def changed_fraction(t: float, V: int, eps: float = 1e-3) -> float:
    """Expected fraction of positions whose token changes at level t: (1 - alpha_t)(1 - 1/V)."""
    return (1.0 - eps) * t * (1.0 - 1.0 / V)  # 1 - alpha_t = (1 - eps) t; no torch on the home page


def level_label(t: float, V: int | None = None, short: bool = False) -> str:
    """'t = 0.25 (≈ 25% of tokens changed)' ('t = 0.25 · ≈25% changed' when ``short``), or
    'clean (t ≈ 0)' for the clean-input level."""
    if t < CLEAN_T:
        return "clean (t ≈ 0)"
    if V is None:
        return f"t = {t:g}"
    pct = 100 * changed_fraction(t, V)
    return f"t = {t:g} · ≈{pct:.0f}% changed" if short else f"t = {t:g} (≈ {pct:.0f}% of tokens changed)"


# ---------------------------------------------------------------------------------------- transition

INTERVALS = {"recovery_rate": ("recovery_std", "recovery_low", "recovery_high"),
             "exact_match": ("exact_std", "exact_low", "exact_high")}
REFERENCES = {"memorizer": ("ideal memorizer", "dash"), "generalizer": ("ideal generalizer", "dot")}


def recovery_by_n(results: pd.DataFrame, t: float, metric: str = "recovery_rate") -> pd.DataFrame:
    """One row per N at level t: columns n, train, test (mean ``metric``), train_std, test_std and the
    95 % interval train_low, train_high, test_low, test_high (95 % interval of the mean for the
    recovery rate, Wilson for exact match; NaN where the summary has none — written before them).

    results: the sweep table (``data.transition``); missing splits or columns give NaN columns.
    ``metric`` may name a reference column too (``memorizer_recovery_rate``: no spread).
    """
    spread = dict(zip(("std", "low", "high"), INTERVALS.get(metric, (None,) * 3)))
    rows = results[results["split"].isin(["train", "test"]) & np.isclose(results["t"], t)]
    out = pd.DataFrame({"n": sorted(rows["n"].unique())})
    for split in ("train", "test"):
        part = rows[rows["split"] == split].groupby("n")
        out[split] = out["n"].map(part[metric].mean()) if metric in rows else np.nan
        for key, col in spread.items():
            out[f"{split}_{key}"] = out["n"].map(part[col].mean()) if col in rows else np.nan
    return out


def reference_missing(results: pd.DataFrame, ref: str) -> list[int]:
    """The N whose train and test rows carry no value of the ideal ``ref``'s recovery (its table was
    not measured for that model)."""
    rows = results[results["split"].isin(["train", "test"]) & results["recovery_rate"].notna()] \
        if "recovery_rate" in results else results.iloc[:0]
    col = f"{ref}_recovery_rate"
    has = set(rows.loc[rows[col].notna(), "n"]) if col in rows else set()
    return sorted(int(n) for n in set(rows["n"]) - has)


def error_bars(curves: pd.DataFrame, split: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(plus, minus, what) error bars of one split of ``recovery_by_n``: the 95 % interval where the
    summary has one, else ± 1 std; ``what`` says which ('95 %', '± 1 std' or 'mixed')."""
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
    return f"bars: {ci} (± 1 std for summaries written before intervals)"


def transition_n(curves: pd.DataFrame, tol: float = TRANSITION_TOL) -> float | None:
    """Where train and test recovery meet, from ``recovery_by_n`` rows (n, train, test).

    N* is the smallest N at which |train - test| <= tol *after* the curves were apart (gap > tol) at
    some smaller N — meeting again after having separated, not both being equally bad at the start.
    If they never come within tol, N* is the first sign change of train - test, interpolated linearly
    in log N between the two sizes around it. None when neither happens within the sweep.
    """
    c = curves.dropna(subset=["train", "test"]).sort_values("n")
    n, gap = c["n"].to_numpy(dtype=float), (c["train"] - c["test"]).to_numpy(dtype=float)
    apart = np.abs(gap) > tol
    for i in range(1, len(n)):
        if not apart[i] and apart[:i].any():
            return float(n[i])
    for i in range(1, len(n)):
        if gap[i - 1] * gap[i] < 0:
            f = gap[i - 1] / (gap[i - 1] - gap[i])
            return float(math.exp(math.log(n[i - 1]) + f * (math.log(n[i]) - math.log(n[i - 1]))))
    return None


def _vline(x: float, y0: float, y1: float, name: str, color: str, dash: str, label: str | None = None,
           side: str = "right"):
    """A vertical line as a trace (data coordinates on any axis type, log included), its label at the
    top on ``side`` of the line."""
    return go.Scatter(x=[x, x], y=[y0, y1], mode="lines+text" if label else "lines", name=name,
                      line=dict(color=color, dash=dash, width=1.5), text=["", label or ""],
                      textposition=f"top {side}", hoverinfo="name", showlegend=False)


def _log_ticks(ns) -> dict:
    """Log-axis ticks at the sizes of the sweep only (no minor-decade clutter)."""
    ns = sorted({int(n) for n in ns if np.isfinite(n)})
    if not ns:
        return dict(type="log")
    pad = 0.08 * max(math.log10(ns[-1] / ns[0]), 1.0)   # the whole sweep, whatever a trace leaves out
    return dict(type="log", tickvals=ns, ticktext=[f"{n:,}" for n in ns],
                range=[math.log10(ns[0]) - pad, math.log10(ns[-1]) + pad])


def transition_figure(results: pd.DataFrame, t: float, *, metric: str = "recovery_rate",
                      show_exact: bool = False, runs: pd.DataFrame | None = None,
                      selected_n: int | None = None, tol: float = TRANSITION_TOL,
                      V: int | None = None, references: bool = True) -> go.Figure:
    """Train vs test ``metric`` against N (log axis) at level t with 95 % error bars (± 1 std for
    summaries without intervals; the legend title says which), the ideal memorizer's (dashed) and
    ideal generalizer's (dotted) train and test curves where measured (``references``), the
    transition N* (``transition_n``) as a labelled dashed line, optional exact-match curves, the
    what-if runs of ``runs`` (same table layout) as diamonds, and the selected N as a dotted line."""
    curves = recovery_by_n(results, t, metric)
    fig = go.Figure()
    whats = []
    for split in ("train", "test"):
        plus, minus, what = error_bars(curves, split)
        whats.append(what)
        fig.add_trace(go.Scatter(
            x=curves["n"], y=curves[split], name=f"{split} {metric.replace('_', ' ')}",
            mode="lines+markers", customdata=curves["n"], marker=dict(size=9, color=SPLIT_COLORS[split]),
            line=dict(color=SPLIT_COLORS[split]), legendgroup="model",
            error_y=dict(type="data", array=plus, arrayminus=minus, thickness=1, width=3),
            hovertemplate="N = %{x}<br>%{y:.3f} (+%{error_y.array:.3f} / −%{error_y.arrayminus:.3f})<extra>"
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
                        hovertemplate="N = %{x}<br>%{y:.3f}<extra>" + f"{label} · {split}" + "</extra>"))
    if show_exact and metric != "exact_match":
        exact = recovery_by_n(results, t, "exact_match")
        for split in ("train", "test"):
            fig.add_trace(go.Scatter(
                x=exact["n"], y=exact[split], name=f"{split} exact match", mode="lines+markers",
                customdata=exact["n"], line=dict(color=SPLIT_COLORS[split], dash="dashdot", width=1),
                marker=dict(symbol="x", color=SPLIT_COLORS[split]),
                hovertemplate="N = %{x}<br>exact match %{y:.3f}<extra>" + split + "</extra>"))
    if runs is not None and len(runs):
        rc = recovery_by_n(runs, t, metric)
        for split in ("train", "test"):
            fig.add_trace(go.Scatter(
                x=rc["n"], y=rc[split], name=f"what-if {split}", mode="markers", customdata=rc["n"],
                marker=dict(symbol="diamond-open" if split == "test" else "diamond", size=13,
                            color=RUN_COLOR, line=dict(width=2, color=RUN_COLOR)),
                hovertemplate="what-if run<br>N = %{x}<br>%{y:.3f}<extra>" + split + "</extra>"))
    n_star = transition_n(curves, tol)
    if n_star is not None:
        ns = curves["n"].to_numpy(dtype=float)
        side = "left" if math.log(n_star) > (math.log(ns.min()) + math.log(ns.max())) / 2 else "right"
        fig.add_trace(_vline(n_star, 0, 1.05, "transition", "black", "dash", f"transition N* ≈ {n_star:,.0f}",
                             side))
    if selected_n:
        fig.add_trace(_vline(selected_n, 0, 1.05, f"selected N = {selected_n}", "gray", "dot"))
    fig.update_layout(
        title=f"Recovery of corrupted sequences at {level_label(t, V)}", hovermode="closest",
        xaxis=dict(**_log_ticks(list(curves["n"]) + ([] if runs is None else list(runs["n"]))),
                   title="training-set size N (log scale)"),
        yaxis=dict(title=f"{metric.replace('_', ' ')} (content tokens)", range=[-0.02, 1.12]),
        legend=dict(orientation="h", y=-0.22, title=dict(text=interval_legend(whats, metric), side="top")),
        margin=dict(t=60, b=10), clickmode="event+select")
    return fig


def entropy_by_n(results: pd.DataFrame, column: str = "entropy") -> pd.DataFrame:
    """Mean per-token conditional entropy (nats) against N: one row per N × split × level measured
    (``column``: the network's ``entropy`` or a reference's ``memorizer_entropy`` ...)."""
    if column not in results:
        return pd.DataFrame(columns=["n", "split", "t", "entropy"])
    e = results.dropna(subset=[column])
    return (e.groupby(["n", "split", "t"], as_index=False)[column].mean().rename(columns={column: "entropy"})
            .sort_values(["split", "t", "n"], ignore_index=True))


def entropy_levels(results: pd.DataFrame) -> list[float]:
    """The levels t (clean input excluded) at which the network's entropy of train sequences was measured."""
    e = entropy_by_n(results)
    return sorted(float(t) for t in e.loc[(e["split"] == "train") & (e["t"] >= CLEAN_T), "t"].unique())


def entropy_figure(results: pd.DataFrame, t: float = 0.25, *, selected_n: int | None = None,
                   transition: float | None = None, clean: bool = False, V: int | None = None) -> go.Figure:
    """The entropy curve beside the transition, at level t: mean content-token entropy (nats) of x_theta
    given z_t ~ q(z_t | x0) against N — the network's on train and test sequences (solid) and on
    generated ones, where measured at t; the ideal memorizer's (dashed) and ideal generalizer's
    (dotted), i.e. the conditional entropy of x0 given z_t under their data distributions. With
    ``clean`` also the network's on the clean, uncorrupted input (t ≈ 0, faint)."""
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
            hovertemplate="N = %{x}<br>H = %{y:.3f} nats/token<extra>" + label + "</extra>"))
    top = top or 1.0
    if not any(tr.name.startswith("model") for tr in fig.data):
        levels = ", ".join(f"{m:g}" for m in entropy_levels(results)) or "no level"
        fig.add_annotation(text=f"the model's entropy: measured at t = {levels} only", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=1.0, yanchor="bottom", font=dict(size=11, color="gray"))
    if transition is not None:
        fig.add_trace(_vline(transition, 0, top * 1.08, "transition", "black", "dash"))
    if selected_n:
        fig.add_trace(_vline(selected_n, 0, top * 1.08, f"selected N = {selected_n}", "gray", "dot"))
    fig.update_layout(
        title=f"Conditional entropy at {level_label(t, V, short=True)}", hovermode="closest",
        xaxis=dict(**_log_ticks(results["n"].dropna() if "n" in results else []),
                   title="training-set size N (log scale)"),
        yaxis=dict(title="mean entropy (nats per content token)", rangemode="tozero"),
        legend=dict(orientation="h", y=-0.22), margin=dict(t=60, b=10), clickmode="event+select")
    return fig


# -------------------------------------------------------------------------------------------- basins

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
            hovertemplate="%{x} #%{customdata[1]}<br>radius %{y:g}<br>%{hovertext}<extra></extra>"))
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
    """Mean recovery rate (over rows with a corrupted content token) and exact match per split × t."""
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
                hovertemplate="t = %{x:g}<br>%{y:.3f}<extra>" + f"{split} {col}" + "</extra>"))
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


# --------------------------------------------------------------------------------------- entropy map

def entropy_rows(entropy: pd.DataFrame, t: float, rows: list[tuple[str, int]] | None = None,
                 content_only: bool = True) -> pd.DataFrame:
    """The heatmap matrix: index (split, example), columns positions, values H_i in nats at level t
    (NaN on padding positions when ``content_only``); ``rows`` keeps and orders a subset."""
    e = entropy[np.isclose(entropy["t"], t)]
    if content_only:
        e = e.assign(entropy=e["entropy"].where(e["content"]))
    m = e.pivot_table(index=["split", "example"], columns="position", values="entropy", dropna=False)
    order = {"train": 0, "test": 1, "generated": 2}
    m = m.iloc[sorted(range(len(m)), key=lambda i: (order.get(m.index[i][0], 9), m.index[i][1]))]
    if rows is not None:
        m = m.reindex(pd.MultiIndex.from_tuples(rows, names=["split", "example"])).dropna(how="all")
    return m


def entropy_heatmap_figure(matrix: pd.DataFrame, tokens: dict[str, list[list[str]]] | None = None,
                           t: float | None = None, show_words: bool = True, V: int | None = None) -> go.Figure:
    """Heatmap sequences × positions of H_i (nats) from ``entropy_rows``; ``tokens`` (split -> token
    strings per sequence) become the hover text and, with ``show_words``, the cell labels (blank where
    H is hidden). With V the colour scale spans 0 .. ln V, the entropy of a uniform guess."""
    labels = [f"{s} #{i}" for s, i in matrix.index]
    z = matrix.to_numpy(dtype=float)
    text = [[(tokens[s][i][p] if tokens and i < len(tokens.get(s, [])) and p < len(tokens[s][i])
              and np.isfinite(z[r, c]) else "") for c, p in enumerate(matrix.columns)]
            for r, (s, i) in enumerate(matrix.index)]
    scale = dict(zmin=0.0, zmax=math.log(V)) if V else {}
    fig = go.Figure(go.Heatmap(
        z=z, x=list(matrix.columns), y=labels, text=text, colorscale="Viridis", **scale,
        colorbar=dict(title="H (nats)"), xgap=1, ygap=1,
        texttemplate="%{text}" if show_words else None, textfont=dict(size=10),
        hovertemplate="%{y} · position %{x}<br>token: %{text}<br>H = %{z:.3f} nats<extra></extra>"))
    fig.update_layout(
        title="Per-position conditional entropy" + (f" at {level_label(t, V)}" if t is not None else ""),
        xaxis=dict(title="position", dtick=1), yaxis=dict(autorange="reversed", type="category"),
        height=min(160 + 22 * len(labels), 2400), margin=dict(t=60, b=10))
    return fig


def projection_points(projection: pd.DataFrame, space: str, values: pd.Series,
                      sentences: dict[str, list[str]]) -> pd.DataFrame:
    """The projection table as points to draw: split, example, x, y from ``x_<space>``/``y_<space>``
    (space 'tok' or 'ent'), color from ``values`` (indexed by split, example; NaN where absent) and
    the decoded sentence as text."""
    keys = list(zip(projection["split"], projection["example"]))
    return pd.DataFrame({
        "split": projection["split"].to_numpy(), "example": projection["example"].to_numpy(),
        "x": projection[f"x_{space}"].to_numpy(), "y": projection[f"y_{space}"].to_numpy(),
        "color": [float(values.get(k, np.nan)) for k in keys],
        "text": [sentences.get(s, [])[i] if 0 <= i < len(sentences.get(s, [])) else "" for s, i in keys]})


def projection_figure(points: pd.DataFrame, color_label: str = "mean entropy (nats)",
                      title: str = "UMAP projection") -> go.Figure:
    """Scatter of the projection: ``points`` has columns split, example, x, y, color, text. One trace
    per split (its own symbol), all coloured on one scale; customdata [split, example]."""
    fig = go.Figure()
    finite = points["color"].dropna()
    cmin, cmax = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    for i, split in enumerate(s for s in ("train", "test", "generated") if s in set(points["split"])):
        p = points[points["split"] == split]
        fig.add_trace(go.Scatter(
            x=p["x"], y=p["y"], mode="markers", name=split, hovertext=p["text"],
            customdata=np.column_stack([p["split"], p["example"]]),
            marker=dict(symbol=SPLIT_SYMBOLS[split], size=10, color=p["color"], coloraxis="coloraxis",
                        line=dict(width=1, color=SPLIT_COLORS[split])),
            hovertemplate="%{customdata[0]} #%{customdata[1]}<br>%{hovertext}<br>"
                          + color_label + ": %{marker.color:.3f}<extra></extra>"))
    fig.update_layout(
        title=title, hovermode="closest", dragmode="lasso",
        coloraxis=dict(colorscale="Plasma", cmin=cmin, cmax=cmax, colorbar=dict(title=color_label)),
        xaxis=dict(showticklabels=False, title=""), yaxis=dict(showticklabels=False, title=""),
        legend=dict(orientation="h", y=-0.08), margin=dict(t=60, b=10))
    return fig


# ------------------------------------------------------------------------------------------ generate

def category_fractions(generations: pd.DataFrame) -> pd.DataFrame:
    """Fraction of generations per category (memorized, novel-valid, spurious, novel)."""
    frac = generations["category"].value_counts(normalize=True)
    order = [c for c in CATEGORY_COLORS if c in frac.index]
    order += [c for c in frac.index if c not in CATEGORY_COLORS]
    return pd.DataFrame({"category": order, "fraction": [float(frac[c]) for c in order]})


def category_figure(generations: pd.DataFrame, title: str = "What the model generates") -> go.Figure:
    """Bar chart of ``category_fractions``."""
    f = category_fractions(generations)
    fig = go.Figure(go.Bar(x=f["category"], y=f["fraction"],
                           marker_color=[CATEGORY_COLORS.get(c, "gray") for c in f["category"]],
                           text=[f"{100 * v:.0f}%" for v in f["fraction"]], textposition="outside",
                           hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    fig.update_layout(title=title, yaxis=dict(title="fraction of generations", range=[0, 1.15]),
                      margin=dict(t=60, b=10))
    return fig


def generation_table(generations: pd.DataFrame, train_sentences: list[str]) -> pd.DataFrame:
    """The generations as shown: sentence, category, d1, d2 and the nearest training sentence (its twin)."""
    twin = [train_sentences[int(i)] if 0 <= int(i) < len(train_sentences) else "" for i in generations["twin"]]
    text = ["(empty: only padding)" if not str(x).strip() else str(x) for x in generations["text"]]
    return pd.DataFrame({"sentence": text, "category": generations["category"].to_numpy(),
                         "d1": generations["d1"].to_numpy(), "d2": generations["d2"].to_numpy(),
                         "nearest training sentence": twin})


def selected_points(event) -> list[dict]:
    """The selected points of an ``st.plotly_chart`` selection event (empty list when none)."""
    try:
        return list(event["selection"]["points"])
    except (KeyError, TypeError):
        return []


def selected_examples(event) -> list[tuple[str, int]]:
    """(split, example) of every point selected on a chart whose points carry customdata [split, example]."""
    return [(str(p["customdata"][0]), int(p["customdata"][1])) for p in selected_points(event)
            if isinstance(p.get("customdata"), (list, tuple)) and len(p["customdata"]) == 2]


def clicked_n(event) -> int | None:
    """The N (customdata) of the first selected point of a transition/entropy chart event, if any."""
    for p in selected_points(event):
        v = p.get("customdata")
        if isinstance(v, (list, tuple)):
            v = v[0] if v else None
        if isinstance(v, (int, float)) and math.isfinite(v):
            return int(v)
    return None
