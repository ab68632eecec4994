"""One denoising run drawn as a token grid (steps × positions, coloured by what happened to each
cell, ``trajectory.cell_categories``) with a 'current state' strip on top that a step slider and a
play button move down the grid — alone, or two runs from the same corrupted seed in one figure driven
by one shared slider and play button — and the model's entropy at each step.
Pure functions of ``trajectory.Run``: no ``st.*`` here.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .trajectory import CATEGORIES, Run, cell_categories, kept_rows

# correct, wrong, fixed here, broken here, differs from x0 in an x̂ the oracle accepts (trajectory.CATEGORIES)
COLOURS = ("#dcefdc", "#f6d2d2", "#2e9d44", "#e8710a", "#bcd4f6")
ROW_PX, STRIP_PX, CONTROLS_PX = 22, 45, 170
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
    """customdata (rows, L, 2): x0's token and the entropy (nats, clipped at 0) of x_theta at that cell."""
    L = run_.tokens.shape[1]
    ent = np.full((len(run_.tokens), L), np.nan)
    ent[: len(run_.entropy)] = np.clip(run_.entropy, 0.0, None)
    truth = np.array([itos[int(i)] for i in run_.x0], dtype=object)
    data = np.empty((len(rows), L, 2), dtype=object)
    for r, k in enumerate(rows):
        data[r, :, 0] = truth
        data[r, :, 1] = ["—" if np.isnan(h) else f"{h:.3f}" for h in ent[k]]
    return data


def _colorscale() -> list:
    """A step colour scale for the integer categories 0 .. len(COLOURS) - 1 (zmin -0.5, zmax n - 0.5)."""
    n = len(COLOURS)
    scale = []
    for i, c in enumerate(COLOURS):
        scale += [[i / n, c], [(i + 1) / n, c]]
    return scale


_COMMON = dict(zmin=-0.5, zmax=len(COLOURS) - 0.5, colorscale=_colorscale(), texttemplate="%{text}", xgap=1, ygap=1,
               hovertemplate="position %{x}<br>token <b>%{text}</b><br>x0: %{customdata[0]}"
                             "<br>entropy of x_θ: %{customdata[1]} nats<extra>%{y}</extra>")


class _Panel:
    """One run's cells on the kept rows: categories, token text, hover data and row labels."""

    def __init__(self, run_: Run, itos: list[str], rows: np.ndarray, prefix: str = "", accepted: bool = False):
        self.cats = cell_categories(run_.tokens, run_.x0, accepted)[rows]
        self.text = np.vectorize(lambda i: itos[int(i)])(run_.tokens[rows])
        self.hover = _cell_hover(run_, itos, rows)
        self.labels = [prefix + s for s in row_labels(run_.times, rows)]
        self.L = run_.tokens.shape[1]

    def strip(self, r: int) -> go.Heatmap:
        return go.Heatmap(z=self.cats[r:r + 1], text=self.text[r:r + 1], customdata=self.hover[r:r + 1],
                          y=[self.labels[r]], x=list(range(self.L)), showscale=False, textfont=dict(size=13), **_COMMON)

    def grid(self, colorbar: dict | None) -> go.Heatmap:
        return go.Heatmap(z=self.cats, text=self.text, customdata=self.hover, x=list(range(self.L)),
                          y=list(range(len(self.cats))), textfont=dict(size=10), showscale=colorbar is not None,
                          colorbar=colorbar, **_COMMON)

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
                      accepted: bool = False) -> go.Figure:
    """The trajectory as a token grid (steps × positions, coloured by category) with an animated
    'current state' strip on top: a step slider and a play button move a frame over the grid. Traces:
    0 the strip, 1 the grid, 2 the frame; row labels on the grid's y axis (kept in an HTML export).
    ``accepted``: the grammar's oracle accepts x̂ (its tokens that differ from x0 get their own colour)."""
    rows = kept_rows(run_.tokens, only_changes)
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
                     only_changes: bool = True, accepted: tuple[bool, bool] = (False, False)) -> go.Figure:
    """Two runs from the same corrupted seed in one figure, driven by ONE step slider and play button:
    the current state of A and of B one above the other (so they can be compared word by word), then
    A's grid and B's grid. Rows kept: those where either run changed a token (with ``only_changes``).
    Traces: 0 strip A, 1 strip B, 2 grid A, 3 grid B, 4 frame A, 5 frame B. ``accepted``: whether the
    grammar's oracle accepts A's and B's x̂ (as in ``token_grid_figure``)."""
    if a.tokens.shape != b.tokens.shape:
        raise ValueError(f"the two runs differ in shape: {a.tokens.shape} and {b.tokens.shape}")
    rows = np.union1d(kept_rows(a.tokens, only_changes), kept_rows(b.tokens, only_changes))
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
