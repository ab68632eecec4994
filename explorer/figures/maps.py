"""The Entropy map's figures: the per-position entropy heatmap (sequences × positions), the UMAP
projection of train, test and generated sequences, a denoising trajectory drawn as a path through
that projection (placed by ``engine.measures.neighbours.place``), and the nearest neighbours of a selected
point. Pure functions: no ``st.*`` here."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from explorer.figures import SPLIT_COLORS, SPLIT_SYMBOLS, level_label

WORDS_MAX_ROWS = 150     # above this many rows the cells are too small for words: hover shows them
PATH_COLOR, NEAR_COLOR = "#d62728", "#111111"
DRAG = {"lasso": "lasso", "box": "select", "click": "pan"}   # selection tool -> plotly dragmode
# nats: one colour scale for entropy at every N and level, so that two models' maps compare by colour
# (a memorized sentence is ≈ 0; test sentences are 0.6-0.7 at N = 16; higher values share the top colour)
ENTROPY_RANGE = (0.0, 2.0)


def entropy_rows(entropy: pd.DataFrame, t: float, rows: list[tuple[str, int]] | None = None,
                 content_only: bool = True) -> pd.DataFrame:
    """The heatmap matrix: index (split, example), columns positions, values H_i in nats at level t
    (clipped at 0: float error; NaN on padding positions when ``content_only``); ``rows`` keeps and
    orders a subset."""
    e = entropy[np.isclose(entropy["t"], t)]
    e = e.assign(entropy=e["entropy"].clip(lower=0.0))
    if content_only:
        e = e.assign(entropy=e["entropy"].where(e["content"]))
    m = e.pivot_table(index=["split", "example"], columns="position", values="entropy", dropna=False)
    order = {"train": 0, "test": 1, "generated": 2}
    m = m.iloc[sorted(range(len(m)), key=lambda i: (order.get(m.index[i][0], 9), m.index[i][1]))]
    if rows is not None:
        m = m.reindex(pd.MultiIndex.from_tuples(rows, names=["split", "example"])).dropna(how="all")
    return m


def entropy_heatmap_figure(matrix: pd.DataFrame, tokens: dict[str, list[list[str]]] | None = None,
                           t: float | None = None, show_words: bool | None = None, V: int | None = None) -> go.Figure:
    """Heatmap sequences × positions of H_i (nats) from ``entropy_rows``; ``tokens`` (split -> token
    strings per sequence) become the hover text (at any row count) and the cell labels (blank where H
    is hidden) — by default up to ``WORDS_MAX_ROWS`` rows, where a row is still tall enough to read.
    The colour scale is ``ENTROPY_RANGE`` (0 .. 2 nats) at every N and level; higher values take the
    top colour (the colour bar says ≥ 2)."""
    labels = [f"{s} #{i}" for s, i in matrix.index]
    show_words = len(labels) <= WORDS_MAX_ROWS if show_words is None else show_words
    z = matrix.to_numpy(dtype=float)
    text = [[(tokens[s][i][p] if tokens and i < len(tokens.get(s, [])) and p < len(tokens[s][i])
              and np.isfinite(z[r, c]) else "") for c, p in enumerate(matrix.columns)]
            for r, (s, i) in enumerate(matrix.index)]
    lo, hi = ENTROPY_RANGE
    fig = go.Figure(go.Heatmap(
        z=z, x=list(matrix.columns), y=labels, text=text, colorscale="Viridis", zmin=lo, zmax=hi,
        colorbar=dict(title="H (nats)", tickvals=[0, 0.5, 1, 1.5, 2], ticktext=["0", "0.5", "1", "1.5", "≥ 2"]),
        xgap=1, ygap=1,
        texttemplate="%{text}" if show_words else None, textfont=dict(size=10),
        hovertemplate="%{y} · position %{x}<br>token: %{text}<br>H = %{z:.3f} nats<extra></extra>"))
    title = "Per-position conditional entropy" + (f" at {level_label(t, V)}" if t is not None else "")
    fig.update_layout(
        title=title + ("" if show_words else " (hover a cell for its word)"),
        xaxis=dict(title="position", dtick=1), yaxis=dict(autorange="reversed", type="category", automargin=True),
        height=160 + (22 if show_words else 12) * len(labels), margin=dict(t=60, b=10))
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
                      title: str = "UMAP projection", tool: str = "lasso",
                      crange: tuple[float, float] | None = None) -> go.Figure:
    """Scatter of the projection: ``points`` has columns split, example, x, y, color, text. One trace
    per split (its own symbol), all coloured on one scale: ``crange`` (``ENTROPY_RANGE`` for entropy,
    the same at every N), else the values' own range; customdata [split, example]. ``tool``: what a
    drag draws, 'lasso' or 'box', or 'click' (a drag pans; a click selects one point — Streamlit lets
    clicks select only when a drag does not)."""
    fig = go.Figure()
    finite = points["color"].dropna()
    cmin, cmax = crange or ((float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0))
    for split in (s for s in ("train", "test", "generated") if s in set(points["split"])):
        p = points[points["split"] == split]
        fig.add_trace(go.Scatter(
            x=p["x"], y=p["y"], mode="markers", name=split, hovertext=p["text"],
            customdata=np.column_stack([p["split"], p["example"]]),
            marker=dict(symbol=SPLIT_SYMBOLS[split], size=10, color=p["color"], coloraxis="coloraxis",
                        line=dict(width=1, color=SPLIT_COLORS[split])),
            hovertemplate="%{customdata[0]} #%{customdata[1]}<br>%{hovertext}<br>"
                          + color_label + ": %{marker.color:.3f}<extra></extra>"))
    fig.update_layout(
        title=title, hovermode="closest", dragmode=DRAG[tool], clickmode="event+select",
        coloraxis=dict(colorscale="Plasma", cmin=cmin, cmax=cmax,
                       colorbar=dict(title=dict(text=color_label, side="right"), thickness=12)),
        xaxis=dict(showticklabels=False, title=""), yaxis=dict(showticklabels=False, title=""),
        legend=dict(orientation="h", y=-0.04, itemsizing="constant"), margin=dict(t=60, b=10), height=620)
    return fig


def add_path(fig: go.Figure, path: pd.DataFrame, near: pd.DataFrame, zoom: bool = False) -> go.Figure:
    """Draw a denoising trajectory on a projection figure: ``path`` (columns step, t, x, y, text,
    nearest, distance; one row per distinct state, seed first, x̂ last) as a line from the corrupted
    seed (open star) to x̂ (filled star), and the training sentences it passes near (``near``: columns
    x, y, label) ringed and labelled on the map. Path points carry customdata ['path', step, nearest]
    so that a selection never takes them for sequences. ``zoom``: the axes show the path and its
    neighbourhood (a double click shows the whole map again)."""
    custom = np.column_stack([["path"] * len(path), path["step"], path["nearest"]])
    fig.add_trace(go.Scatter(
        x=path["x"], y=path["y"], mode="lines+markers", name="denoising path",
        line=dict(color=PATH_COLOR, width=3), customdata=custom, hovertext=path["text"],
        marker=dict(size=9, color=PATH_COLOR, symbol="circle", line=dict(width=1, color="white")),
        hovertemplate="step %{customdata[1]}<br>%{hovertext}<br>nearest: %{customdata[2]}<extra>path</extra>"))
    for row, symbol, label, (ax, ay) in ((path.iloc[0], "star-open", "corrupted seed z_t", (-50, -40)),
                                         (path.iloc[-1], "star", "x̂ (end)", (50, -40))):
        fig.add_trace(go.Scatter(
            x=[row["x"]], y=[row["y"]], mode="markers", name=label, hoverinfo="skip", showlegend=False,
            marker=dict(size=20, color=PATH_COLOR, symbol=symbol, line=dict(width=2, color=PATH_COLOR))))
        fig.add_annotation(x=row["x"], y=row["y"], text=label, ax=ax, ay=ay, showarrow=True, arrowhead=2,
                           arrowcolor=PATH_COLOR, font=dict(color=PATH_COLOR, size=13), bgcolor="rgba(255,255,255,0.8)")
    if len(near):
        fig.add_trace(go.Scatter(
            x=near["x"], y=near["y"], mode="markers+text", name="training sentences it passes near",
            text=near["label"], textposition="bottom center", textfont=dict(size=12, color=NEAR_COLOR),
            hoverinfo="skip", marker=dict(size=16, symbol="circle-open", color=NEAR_COLOR, line=dict(width=2))))
    if zoom:
        xs, ys = pd.concat([path["x"], near["x"]]).astype(float), pd.concat([path["y"], near["y"]]).astype(float)
        full = [tr for tr in fig.data if tr.type == "scatter" and tr.x is not None]
        allx = np.concatenate([np.asarray(tr.x, dtype=float) for tr in full])
        ally = np.concatenate([np.asarray(tr.y, dtype=float) for tr in full])
        for axis, v, whole in (("xaxis", xs, allx), ("yaxis", ys, ally)):
            span = max(float(v.max() - v.min()), 0.15 * float(np.nanmax(whole) - np.nanmin(whole)), 1e-6)
            mid = (float(v.max()) + float(v.min())) / 2
            fig.layout[axis].range = [mid - 0.8 * span, mid + 0.8 * span]
    return fig


def add_neighbours(fig: go.Figure, centre: tuple[float, float], neighbours: pd.DataFrame) -> go.Figure:
    """Mark the nearest neighbours (columns x, y) of a selected point at ``centre``: a ring round each
    and a thin spoke from the selected point to it."""
    xs, ys = [], []
    for x, y in zip(neighbours["x"], neighbours["y"]):
        xs += [centre[0], x, None]
        ys += [centre[1], y, None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="nearest neighbours", hoverinfo="skip",
                             line=dict(color="#555555", width=1, dash="dot"), showlegend=False))
    fig.add_trace(go.Scatter(x=neighbours["x"], y=neighbours["y"], mode="markers", name="nearest neighbours",
                             hoverinfo="skip", marker=dict(size=18, symbol="circle-open", color="#111111",
                                                           line=dict(width=2))))
    fig.add_trace(go.Scatter(x=[centre[0]], y=[centre[1]], mode="markers", name="selected", hoverinfo="skip",
                             marker=dict(size=22, symbol="circle-open-dot", color="#111111", line=dict(width=3))))
    return fig
