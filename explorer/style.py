"""How the app looks: numbers written for people, and presenter mode (larger type and markers for
a projector, every figure fitting a 1280 × 720 screen). Pure functions: nothing here calls ``st.*``;
``explorer.widgets`` applies them.
"""
from __future__ import annotations

import math

import plotly.graph_objects as go

PRESENT_FONT = 20          # base font of a figure in presenter mode (plotly's default is 12)
PRESENT_SCALE = 1.6        # markers, lines and cell text in presenter mode
# Presenter mode is laid out for a 1280 × 720 projector with the sidebar closed: Streamlit's wide layout
# leaves 1280 - 2 × 80 px for the page, and its top bar takes 60 px, so a figure scrolled to just below
# the bar must be at most 720 - 60 px high to be seen whole; 40 px stay free for its download button.
PRESENT_VIEWPORT = (1280, 720)
PRESENT_HEADER = 60
PRESENT_WIDTH = PRESENT_VIEWPORT[0] - 2 * 80                      # 1120 px
PRESENT_HEIGHT = PRESENT_VIEWPORT[1] - PRESENT_HEADER - 40       # 620 px: the tallest figure
PRESENT_LEGEND_ROW = PRESENT_FONT + 10                            # px per row of a horizontal legend
PRESENT_ROWS = 12          # sequences in the Entropy map's heatmap: 12 rows of words still fit 620 px
PRESENT_CSS = """<style>
[data-testid="stMain"] h1 { font-size: 3.4rem; }
[data-testid="stMain"] h2, [data-testid="stMain"] h3 { font-size: 2.2rem; }
[data-testid="stMain"] [data-testid="stMarkdown"] p,
[data-testid="stMain"] [data-testid="stMarkdown"] li,
[data-testid="stMain"] [data-testid="stAlertContainer"] p { font-size: 1.35rem; }
[data-testid="stMain"] [data-testid="stMetricValue"] div { font-size: 2.8rem; }
[data-testid="stMain"] [data-testid="stMetricLabel"] p,
[data-testid="stMain"] [data-testid="stRadio"] label p,
[data-testid="stMain"] [data-testid="stCheckbox"] label p { font-size: 1.2rem; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] { font-size: 1.25rem; }
[data-testid="stMain"] [data-testid="stWidgetLabel"] p { font-size: 1.2rem; }
</style>"""


def number(x: float, digits: int = 3) -> str:
    """``x`` rounded to ``digits`` decimals with trailing zeros dropped, never '-0' ('0.25', '0.003',
    '1'); 'n/a' for NaN or None."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    text = f"{float(x):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def nats(x: float, digits: int = 3) -> str:
    """An entropy in nats: tiny negatives (float error) clipped to 0 ('0.012 nats')."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{max(float(x), 0.0):.{digits}f} nats"


def share(value) -> str:
    """A share as a whole percentage, 'n/a' for a missing or NaN one."""
    return "n/a" if value is None or value != value else f"{value:.0%}"


def signed(x: float, digits: int = 3) -> str:
    """A difference with its sign, where a value that rounds to zero is written '0.000', not '-0.000'."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    r = round(float(x), digits)
    return f"{0.0:.{digits}f}" if r == 0 else f"{r:+.{digits}f}"


def present(fig: go.Figure, width: int = PRESENT_WIDTH) -> go.Figure:
    """A copy of ``fig`` for a projector: every text (title, axes, ticks, legend, colour bars, hover,
    annotations) at least ``PRESENT_FONT`` — set explicitly, as the app's plotly theme sets its own
    sizes — and every marker, line and cell text ``PRESENT_SCALE`` times larger. It fits the screen:
    at most ``PRESENT_HEIGHT`` px high (1.4 times its height where that fits, as bigger type needs
    room), and a legend that sat below the plot (where, with large type, it ran into the axis title
    or off the figure) is pinned to the figure's bottom edge with the room it needs reserved there.
    ``width``: the px width the figure is drawn at (a column's, for a figure beside another)."""
    fig = go.Figure(fig)
    big, small = dict(size=PRESENT_FONT + 4), dict(size=PRESENT_FONT)
    fig.update_layout(font=small, title_font=big, legend_font=small, legend_title_font=small,
                      hoverlabel=dict(font=small), margin=dict(t=(fig.layout.margin.t or 60) + 30))
    fitted = isinstance(fig.layout.meta, dict) and fig.layout.meta.get("fitted")   # sized for the screen already
    fig.update_xaxes(tickfont=small, title_font=small)
    fig.update_yaxes(tickfont=small, title_font=small)
    fig.update_coloraxes(colorbar_tickfont=small, colorbar_title_font=small)
    fig.update_layout(height=min(int((fig.layout.height or 450) * (1 if fitted else 1.4)), PRESENT_HEIGHT))
    for annotation in fig.layout.annotations or ():
        annotation.font.size = max(annotation.font.size or 12, PRESENT_FONT)
    _place_legend(fig, width)
    for trace in fig.data:
        _scale(trace, fitted)
    for frame in fig.frames or ():
        for trace in frame.data:
            _scale(trace, fitted)
    for slider in fig.layout.sliders or ():
        slider.currentvalue.font.size = PRESENT_FONT
    return fig


def _place_legend(fig: go.Figure, width: int) -> None:
    """Room above and below the plot, in px: the title pinned to the figure's top, then a legend that
    sat above the plot, then the annotations that sit on the plot's top edge (subplot titles, notes);
    a legend that sat below the plot pinned to the figure's bottom edge, under the x axis's ticks and
    title. In paper coordinates a legend's place moves with the plot's height, and with large type it
    ran into the axis title (below) or the title (above)."""
    legend, height = fig.layout.legend, fig.layout.height
    shown = legend.orientation == "h" and legend.y is not None and fig.layout.showlegend is not False
    rows = legend_rows(fig, width) + (1 if legend.title.text else 0)
    title = PRESENT_FONT + 4 + 20 if fig.layout.title.text else 0
    notes = max([_lines(a) * (a.font.size or PRESENT_FONT) * 1.3 for a in fig.layout.annotations or ()
                 if (a.yref or "paper").endswith("paper") and (a.y or 0) >= 1 and (a.yanchor or "") == "bottom"]
                or [0])
    top = title + notes + 20
    if title:
        fig.update_layout(title=dict(yref="container", y=1 - 8 / height, yanchor="top"))
    if shown and legend.y > 1:
        fig.update_layout(legend=dict(yref="container", y=1 - title / height, yanchor="top"))
        top += rows * PRESENT_LEGEND_ROW
    if shown and legend.y < 0:   # below: x axis ticks and title, then the legend's rows
        fig.update_layout(legend=dict(yref="container", y=0, yanchor="bottom"),
                          margin=dict(b=rows * PRESENT_LEGEND_ROW + 3 * PRESENT_FONT + 20))
    fig.update_layout(margin=dict(t=max(fig.layout.margin.t or 0, int(top))))


def _lines(annotation) -> int:
    return str(annotation.text or "").count("<br>") + 1


def text_px(text: str, size: float = PRESENT_FONT) -> float:
    """An upper estimate of the width in px of ``text`` at font ``size`` (Source Sans and plotly's
    Open Sans average about 0.5 em per character; 0.55 em leaves room for wide letters)."""
    return 0.55 * size * len(text)


def legend_rows(fig: go.Figure, width: int = PRESENT_WIDTH) -> int:
    """How many rows a horizontal legend of ``fig`` wraps into at ``width`` px (an upper estimate:
    each item is its symbol, 40 px, and its text)."""
    names = [str(t.name) for t in fig.data if t.showlegend is not False and t.name and
             not (t.legendgroup and t.showlegend is None and any(
                 u.legendgroup == t.legendgroup and u is not t and u.showlegend for u in fig.data))]
    rows, used = 1, 0.0
    for name in names:
        item = 40 + text_px(name)
        if used and used + item > width - 20:
            rows, used = rows + 1, 0.0
        used += item
    return rows


def _scale(trace, fitted: bool = False) -> None:
    if trace.type == "heatmap" and fitted:   # its cell text and colour key were sized to fit
        return
    if trace.type == "heatmap" and trace.showscale is not False:
        trace.colorbar.tickfont.size = PRESENT_FONT
    marker = getattr(trace, "marker", None)
    if marker is not None and isinstance(getattr(marker, "size", None), (int, float)):
        marker.size = marker.size * PRESENT_SCALE
    elif marker is not None and hasattr(marker, "size") and marker.size is None and trace.type == "scatter":
        marker.size = 6 * PRESENT_SCALE
    line = getattr(trace, "line", None)
    if line is not None and isinstance(getattr(line, "width", None), (int, float)):
        line.width = line.width * PRESENT_SCALE
    textfont = getattr(trace, "textfont", None)
    if textfont is not None:
        textfont.size = (textfont.size or 12) * PRESENT_SCALE if trace.type != "heatmap" else \
            max(textfont.size or 12, 12) * 1.3
