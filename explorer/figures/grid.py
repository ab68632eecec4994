"""One denoising run drawn as a token grid (steps × positions, coloured by what happened to each
cell, ``trajectory.cell_categories``) with a 'current state' strip on top that a step slider and a
play button move down the grid — alone, or two runs from the same corrupted seed in one figure driven
by one shared slider and play button — and the model's entropy at each step. For a projector (``fit``) the grids fit a given box: positions
that are padding in every row are left out, each cell is as wide as the longest word at the chosen
font, and two runs stand side by side. Pure functions of ``trajectory.Run``: no ``st.*`` here.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.trajectory import CATEGORIES, Run, cell_categories, kept_rows

# correct, wrong, fixed here, broken here, differs from x0 in an x̂ the oracle accepts (trajectory.CATEGORIES)
COLOURS = ("#dcefdc", "#f6d2d2", "#2e9d44", "#e8710a", "#bcd4f6")
ROW_PX, STRIP_PX, CONTROLS_PX = 22, 45, 170
FIT_CONTROLS_PX, FIT_LABELS_PX, FIT_MAX_FONT = 130, 170, 20   # a projector: slider, row labels, cell text
CHAR_EM = 0.6           # width of a character in em: an upper estimate for the cell fonts
PAD = "<pad>"
ENTROPY_MIN_TOP = 0.5   # nats: the step-entropy axis spans at least 0 .. 0.5, so noise is not drawn as spikes


def row_labels(times: np.ndarray, rows: np.ndarray) -> list[str]:
    """'seed t=0.250', 'step 3 t=0.220', ..., 'x̂ (final)' for the chosen rows of a trajectory."""
    last = len(times)
    out = []
    for k in rows:
        if k == 0:
            out.append(f"seed t={times[0]:.3f}")
        elif k == last:
            out.append("x̂ (final)")
        else:
            out.append(f"step {k} t={times[k]:.3f}")
    return out


def _cell_hover(run_: Run, itos: list[str], rows: np.ndarray) -> np.ndarray:
    """customdata (rows, L, 3): x0's token, the entropy (nats, clipped at 0) of x_theta at that cell
    and the cell's position in the sequence."""
    L = run_.tokens.shape[1]
    ent = np.full((len(run_.tokens), L), np.nan)
    ent[: len(run_.entropy)] = np.clip(run_.entropy, 0.0, None)
    truth = np.array([itos[int(i)] for i in run_.x0], dtype=object)
    data = np.empty((len(rows), L, 3), dtype=object)
    for r, k in enumerate(rows):
        data[r, :, 0] = truth
        data[r, :, 1] = ["—" if np.isnan(h) else f"{h:.3f}" for h in ent[k]]
        data[r, :, 2] = np.arange(L)
    return data


def shown_columns(texts: list[np.ndarray]) -> np.ndarray:
    """The positions to draw on a projector: all but those that are padding in every row of every
    grid of ``texts`` (each (rows, L) of token strings); all of them if none is."""
    pad = np.logical_and.reduce([np.all(t == PAD, axis=0) for t in texts])
    return np.flatnonzero(~pad) if (~pad).any() else np.arange(texts[0].shape[1])


def fitted_font(texts: list[np.ndarray], cell_px: float, row_px: float) -> float:
    """The largest cell font (px, at most ``FIT_MAX_FONT``) at which the longest word of ``texts``
    fits a cell ``cell_px`` wide (with 6 px to spare) and one line fits a row ``row_px`` high."""
    longest = max(max((len(str(w)) for w in t.ravel()), default=1) for t in texts)
    return float(max(6.0, min(FIT_MAX_FONT, (cell_px - 6) / (CHAR_EM * longest), row_px * 0.75)))


def _colorscale() -> list:
    """A step colour scale for the integer categories 0 .. len(COLOURS) - 1 (zmin -0.5, zmax n - 0.5)."""
    n = len(COLOURS)
    scale = []
    for i, c in enumerate(COLOURS):
        scale += [[i / n, c], [(i + 1) / n, c]]
    return scale


_COMMON = dict(zmin=-0.5, zmax=len(COLOURS) - 0.5, colorscale=_colorscale(), texttemplate="%{text}", xgap=1, ygap=1,
               hovertemplate="position %{customdata[2]}<br>token <b>%{text}</b><br>x0: %{customdata[0]}"
                             "<br>entropy of x_θ: %{customdata[1]} nats<extra>%{y}</extra>")


class _Panel:
    """One run's cells on the kept rows (and ``cols``, all positions by default): categories, token
    text, hover data and row labels; ``font``: the cell text size (the strip's a bit larger)."""

    def __init__(self, run_: Run, itos: list[str], rows: np.ndarray, prefix: str = "", accepted: bool = False,
                 cols: np.ndarray | None = None, font: float | None = None):
        cols = np.arange(run_.tokens.shape[1]) if cols is None else cols
        self.cats = cell_categories(run_.tokens, run_.x0, accepted)[rows][:, cols]
        self.text = np.vectorize(lambda i: itos[int(i)])(run_.tokens[rows])[:, cols]
        self.hover = _cell_hover(run_, itos, rows)[:, cols]
        self.labels = [prefix + s for s in row_labels(run_.times, rows)]
        self.L = len(cols)
        self.fonts = (13, 10) if font is None else (font, font)

    def strip(self, r: int) -> go.Heatmap:
        return go.Heatmap(z=self.cats[r:r + 1], text=self.text[r:r + 1], customdata=self.hover[r:r + 1],
                          y=[self.labels[r]], x=list(range(self.L)), showscale=False,
                          textfont=dict(size=self.fonts[0]), **_COMMON)

    def grid(self, colorbar: dict | None) -> go.Heatmap:
        return go.Heatmap(z=self.cats, text=self.text, customdata=self.hover, x=list(range(self.L)),
                          y=list(range(len(self.cats))), textfont=dict(size=self.fonts[1]),
                          showscale=colorbar is not None, colorbar=colorbar, **_COMMON)

    def box(self, r: int) -> go.Scatter:
        L = self.L
        return go.Scatter(x=[-0.5, L - 0.5, L - 0.5, -0.5, -0.5], y=[r - 0.5, r - 0.5, r + 0.5, r + 0.5, r - 0.5],
                          mode="lines", line=dict(color="#1f3b73", width=3), hoverinfo="skip", showlegend=False)


def _controls(labels: list[str], n_rows: int) -> tuple[dict, dict]:
    """The step slider and the play / pause buttons (one set, whatever the number of grids)."""
    slider = dict(active=0, y=0, yanchor="top", x=0.17, len=0.83, pad=dict(t=50, b=10),
                  currentvalue=dict(prefix="step: ", xanchor="right", font=dict(size=12, color="#333")),
                  # many rows: the step labels would overlap, the current value names the row instead
                  font=dict(color="rgba(0,0,0,0)") if n_rows > 12 else {},
                  steps=[dict(label=labels[r].split(" t=")[0], method="animate",
                              args=[[str(r)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                   transition=dict(duration=0))]) for r in range(n_rows)])
    play = dict(type="buttons", direction="left", x=0, y=0, yanchor="top", xanchor="left", pad=dict(t=60),
                buttons=[dict(label="▶ play", method="animate",
                              args=[None, dict(frame=dict(duration=350, redraw=True), fromcurrent=True,
                                               transition=dict(duration=0))]),
                         dict(label="❚❚", method="animate",
                              args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])])
    return slider, play


def _colorbar(grid_h: int) -> dict:
    return dict(tickvals=list(range(len(CATEGORIES))), ticktext=list(CATEGORIES), len=min(1.0, 160 / grid_h),
                y=1, yanchor="top", thickness=12)


def token_grid_figure(run_: Run, itos: list[str], *, title: str = "", only_changes: bool = True,
                      accepted: bool = False, fit: tuple[int, int] | None = None) -> go.Figure:
    """The trajectory as a token grid (steps × positions, coloured by category) with an animated
    'current state' strip on top: a step slider and a play button move a frame over the grid. Traces:
    0 the strip, 1 the grid, 2 the frame; row labels on the grid's y axis (kept in an HTML export).
    ``accepted``: the grammar's oracle accepts x̂ (its tokens that differ from x0 get their own colour).
    ``fit``: (width, height) in px of a projector's box to fit (``fitted_grids``)."""
    rows = kept_rows(run_.tokens, only_changes)
    if fit is not None:
        return fitted_grids([run_], [itos], rows, ("",), (accepted,), fit, title)
    p = _Panel(run_, itos, rows, accepted=accepted)
    n_rows = len(rows)
    grid_h = ROW_PX * n_rows + 40
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06 * 240 / (grid_h + 240),
                        row_heights=[90 / (grid_h + 90), grid_h / (grid_h + 90)])
    fig.add_trace(p.strip(0), row=1, col=1)
    fig.add_trace(p.grid(_colorbar(grid_h)), row=2, col=1)
    fig.add_trace(p.box(0), row=2, col=1)
    fig.frames = [go.Frame(name=str(r), data=[p.strip(r), p.box(r)], traces=[0, 2]) for r in range(n_rows)]
    fig.update_yaxes(tickvals=list(range(n_rows)), ticktext=p.labels, autorange="reversed", row=2, col=1)
    fig.update_yaxes(tickfont=dict(size=11), automargin=True)
    fig.update_xaxes(title_text="position", row=2, col=1)
    slider, play = _controls(p.labels, n_rows)
    fig.update_layout(title=title or None, height=grid_h + 90 + CONTROLS_PX, sliders=[slider], updatemenus=[play],
                      margin=dict(l=10, r=10, t=40 if title else 10, b=10))
    return fig


def pair_grid_figure(a: Run, b: Run, itos_a: list[str], itos_b: list[str], names: tuple[str, str], *,
                     only_changes: bool = True, accepted: tuple[bool, bool] = (False, False),
                     fit: tuple[int, int] | None = None) -> go.Figure:
    """Two runs from the same corrupted seed in one figure, driven by ONE step slider and play button:
    the current state of A and of B one above the other (so they can be compared word by word), then
    A's grid and B's grid. Rows kept: those where either run changed a token (with ``only_changes``).
    Traces: 0 strip A, 1 strip B, 2 grid A, 3 grid B, 4 frame A, 5 frame B. ``accepted``: whether the
    grammar's oracle accepts A's and B's x̂ (as in ``token_grid_figure``). ``fit``: (width, height) in
    px of a projector's box; A and B then stand side by side (``fitted_grids``), in the same trace order."""
    if a.tokens.shape != b.tokens.shape:
        raise ValueError(f"the two runs differ in shape: {a.tokens.shape} and {b.tokens.shape}")
    rows = np.union1d(kept_rows(a.tokens, only_changes), kept_rows(b.tokens, only_changes))
    if fit is not None:
        return fitted_grids([a, b], [itos_a, itos_b], rows, (f"A: {names[0]}", f"B: {names[1]}"), accepted, fit)
    pa, pb = _Panel(a, itos_a, rows, "A · ", accepted[0]), _Panel(b, itos_b, rows, "B · ", accepted[1])
    n_rows = len(rows)
    grid_h = ROW_PX * n_rows + 30
    heights = [STRIP_PX, STRIP_PX, grid_h, grid_h]
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=30 / sum(heights),
                        row_heights=[h / sum(heights) for h in heights],
                        subplot_titles=("", "", f"A: {names[0]}", f"B: {names[1]}"))
    fig.add_trace(pa.strip(0), row=1, col=1)
    fig.add_trace(pb.strip(0), row=2, col=1)
    fig.add_trace(pa.grid(_colorbar(2 * grid_h)), row=3, col=1)
    fig.add_trace(pb.grid(None), row=4, col=1)
    fig.add_trace(pa.box(0), row=3, col=1)
    fig.add_trace(pb.box(0), row=4, col=1)
    fig.frames = [go.Frame(name=str(r), data=[pa.strip(r), pb.strip(r), pa.box(r), pb.box(r)], traces=[0, 1, 4, 5])
                  for r in range(n_rows)]
    for row, panel in ((3, pa), (4, pb)):
        fig.update_yaxes(tickvals=list(range(n_rows)), ticktext=[s[4:] for s in panel.labels], autorange="reversed",
                         row=row, col=1)
    fig.update_yaxes(tickfont=dict(size=11), automargin=True)
    fig.update_xaxes(title_text="position", row=4, col=1)
    slider, play = _controls([s[4:] for s in pa.labels], n_rows)
    fig.update_layout(height=sum(heights) + 60 + CONTROLS_PX, sliders=[slider], updatemenus=[play],
                      margin=dict(l=10, r=10, t=30, b=10))
    return fig


def fitted_grids(runs: list[Run], itos: list[list[str]], rows: np.ndarray, names: tuple[str, ...],
                 accepted: tuple[bool, ...], fit: tuple[int, int], title: str = "") -> go.Figure:
    """One or two runs' token grids fitted to a projector's box ``fit`` = (width, height) px, side by
    side (one column each: the current-state strip on top of the grid), driven by one step slider and
    play button. Positions that are padding in every row of every run are left out (the x ticks keep
    the true positions); every cell is as wide as the longest word shown at the cell font, which is
    the largest up to ``FIT_MAX_FONT`` that fits both the cells' width and the rows' height. The
    colour key is a horizontal bar at the top. Row labels are the first run's (both runs take the
    same steps). Traces: the strips, then the grids, then the frames, one of each per run."""
    width, height = fit
    n, n_rows = len(runs), len(rows)
    texts = [np.vectorize(lambda i, s=s: s[int(i)])(r.tokens[rows]) for r, s in zip(runs, itos)]
    cols = shown_columns(texts)
    top, bottom = 60 + (30 if any(names) else 0) + (40 if title else 0), 60 + FIT_CONTROLS_PX
    grid_px = max(height - top - bottom - STRIP_PX - 20, 10 * n_rows)
    gap = 0.04
    cell_px = (width - FIT_LABELS_PX - 20) * (1 - gap * (n - 1)) / n / len(cols)
    font = fitted_font([t[:, cols] for t in texts], cell_px, min(grid_px / n_rows, STRIP_PX))
    panels = [_Panel(r, s, rows, "", acc, cols, font) for r, s, acc in zip(runs, itos, accepted)]
    fig = make_subplots(rows=2, cols=n, shared_xaxes=True, horizontal_spacing=gap, vertical_spacing=20 / height,
                        row_heights=[STRIP_PX / (STRIP_PX + grid_px), grid_px / (STRIP_PX + grid_px)],
                        subplot_titles=(*names, *[""] * n) if any(names) else None)
    key = dict(orientation="h", yref="container", y=1 - (40 if title else 0) / height, yanchor="top", x=0.5,
               xanchor="center", len=0.9, thickness=12, tickvals=list(range(len(CATEGORIES))),
               ticktext=list(CATEGORIES), tickfont=dict(size=15))
    for k, p in enumerate(panels):
        fig.add_trace(p.strip(0), row=1, col=k + 1)
    for k, p in enumerate(panels):
        fig.add_trace(p.grid(key if k == 0 else None), row=2, col=k + 1)
    for k, p in enumerate(panels):
        fig.add_trace(p.box(0), row=2, col=k + 1)
    fig.frames = [go.Frame(name=str(r), data=[p.strip(r) for p in panels] + [p.box(r) for p in panels],
                           traces=[*range(n), *range(2 * n, 3 * n)]) for r in range(n_rows)]
    labels = panels[0].labels
    every = max(1, int(np.ceil(n_rows * (FIT_MAX_FONT + 4) / grid_px)))   # row labels that do not overlap
    for k in range(1, n + 1):
        fig.update_yaxes(tickvals=list(range(0, n_rows, every)), ticktext=labels[::every] if k == 1 else None,
                         showticklabels=k == 1, autorange="reversed", row=2, col=k)
        fig.update_yaxes(showticklabels=k == 1, row=1, col=k)
        fig.update_xaxes(tickvals=list(range(len(cols))), ticktext=[str(c) for c in cols], row=2, col=k)
        fig.update_xaxes(title_text="position", row=2, col=k)
    fig.update_yaxes(automargin=True)
    slider, play = _controls(labels, n_rows)
    slider["pad"], play["pad"] = dict(t=70, b=10), dict(t=80)
    fig.update_layout(title=title or None, height=height, sliders=[slider], updatemenus=[play],
                      margin=dict(l=10, r=10, t=top, b=10), meta=dict(fitted=True))
    return fig


def entropy_figure(runs: dict[str, Run]) -> go.Figure:
    """Mean entropy of x_theta (nats, clipped at 0) over all positions and over x0's content
    positions at each step; the axis starts at 0 and spans at least 0 .. ENTROPY_MIN_TOP."""
    fig = go.Figure()
    top = 0.0
    for name, r in runs.items():
        steps = np.arange(len(r.entropy))
        content = r.content()
        ent = np.clip(r.entropy, 0.0, None)
        for label, h, dash in ((f"{name}: all positions", ent.mean(axis=1), "solid"),
                               (f"{name}: content positions", ent[:, content].mean(axis=1), "dot")):
            top = max(top, float(np.nanmax(h)) if len(h) else 0.0)
            fig.add_trace(go.Scatter(x=steps, y=h, name=label, mode="lines+markers", marker=dict(size=4),
                                     line=dict(dash=dash), customdata=r.times,
                                     hovertemplate="step %{x} (t=%{customdata:.3f})<br>%{y:.3f} nats"))
    fig.update_layout(xaxis_title="reverse step (t decreasing →)", yaxis_title="mean entropy of x_θ (nats)",
                      yaxis=dict(range=[0, max(ENTROPY_MIN_TOP, 1.1 * top)]),
                      height=300, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.25))
    return fig
