"""What every figure builder of the explorer shares: the colours of the splits and categories, the
words for a corruption level, vertical marker lines and log axes over a sweep's N, and the readers of
chart selection events. The builders themselves live one concept per module:

* ``transition_figures`` — recovery and entropy against N (the Transition page);
* ``basin_figures``      — basin sizes, fixed points, Hamming profiles, recovery against t;
* ``map_figures``        — the entropy heatmap, the UMAP projection, a denoising path on it;
* ``grid_figures``       — one denoising run as an animated token grid, alone or beside another;
* ``generation_figures`` — what a model writes from noise.

They are pure functions from tables to plotly figures: they never call ``st.*`` and never load or
compute anything the engine computes (N*, outcomes, neighbours come from ``engine``). Every trace
keeps the numbers of its table unchanged (tests compare them), and points carry ``customdata`` so
that a click can be traced back to an N or to a (split, example).

Corruption levels: the x axes show the level t of the forward process. The fraction of positions
whose token actually changes at level t is (1 - alpha_t)(1 - 1/V), not t; where V is known the tick
labels say both (see ``level_label``).
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from engine.diffusion.schedule import CLEAN_T, changed_fraction  # torch-free; basins.py takes them from here

SPLIT_COLORS = {"train": "#1f77b4", "test": "#ff7f0e", "generated": "#2ca02c"}
SPLIT_SYMBOLS = {"train": "circle", "test": "square", "generated": "diamond"}
CATEGORY_COLORS = {"memorized": "#1f77b4", "novel-valid": "#2ca02c", "spurious": "#d62728",
                   "novel": "#9467bd"}
RUN_COLOR = "#9467bd"


def level_label(t: float, V: int | None = None, short: bool = False) -> str:
    """'t = 0.25 (≈ 25% of tokens changed)' ('t = 0.25 · ≈25% changed' when ``short``), or
    'clean (t ≈ 0)' for the clean-input level."""
    if t < CLEAN_T:
        return "clean (t ≈ 0)"
    if V is None:
        return f"t = {t:g}"
    pct = 100 * changed_fraction(t, V)
    return f"t = {t:g} · ≈{pct:.0f}% changed" if short else f"t = {t:g} (≈ {pct:.0f}% of tokens changed)"


def vline(x: float, y0: float, y1: float, name: str, color: str, dash: str, label: str | None = None,
          side: str = "right") -> go.Scatter:
    """A vertical line as a trace (data coordinates on any axis type, log included), its label at the
    top on ``side`` of the line, in the line's colour."""
    return go.Scatter(x=[x, x], y=[y0, y1], mode="lines+text" if label else "lines", name=name,
                      line=dict(color=color, dash=dash, width=1.5), text=["", label or ""],
                      textposition=f"top {side}", textfont=dict(color=color), hoverinfo="name", showlegend=False,
                      cliponaxis=False)


def log_ticks(ns) -> dict:
    """Log-axis ticks at the sizes of the sweep only (no minor-decade clutter)."""
    ns = sorted({int(n) for n in ns if np.isfinite(n)})
    if not ns:
        return dict(type="log")
    pad = 0.08 * max(math.log10(ns[-1] / ns[0]), 1.0)   # the whole sweep, whatever a trace leaves out
    return dict(type="log", tickvals=ns, ticktext=[f"{n:,}" for n in ns],
                range=[math.log10(ns[0]) - pad, math.log10(ns[-1]) + pad])


def label_side(x: float, ns) -> str:
    """Which side of a vertical line at x its label fits on: 'left' in the right half of the sweep."""
    ns = [float(n) for n in ns if n and np.isfinite(n)]
    if not ns or x <= 0:
        return "right"
    return "left" if math.log(x) > (math.log(min(ns)) + math.log(max(ns))) / 2 else "right"


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


def has_selection(event) -> bool:
    """Whether the event holds a drawn box or lasso (it may have caught no point)."""
    try:
        sel = event["selection"]
        return bool(sel.get("box") or sel.get("lasso") or sel.get("points"))
    except (KeyError, TypeError, AttributeError):
        return False


def clicked_n(event) -> int | None:
    """The N (customdata) of the first selected point of a transition/entropy chart event, if any."""
    for p in selected_points(event):
        v = p.get("customdata")
        if isinstance(v, (list, tuple)):
            v = v[0] if v else None
        if isinstance(v, (int, float)) and math.isfinite(v):
            return int(v)
    return None

