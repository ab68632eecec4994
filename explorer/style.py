"""How the app looks: numbers written for people, and presenter mode (larger type and markers for
a projector). Pure functions: nothing here calls ``st.*``; ``explorer.widgets`` applies them.
"""
from __future__ import annotations

import math

import plotly.graph_objects as go

PRESENT_FONT = 20          # base font of a figure in presenter mode (plotly's default is 12)
PRESENT_SCALE = 1.6        # markers, lines and cell text in presenter mode
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


def present(fig: go.Figure) -> go.Figure:
    """A copy of ``fig`` for a projector: every text (title, axes, ticks, legend, colour bars, hover,
    annotations) at least ``PRESENT_FONT`` — set explicitly, as the app's plotly theme sets its own
    sizes — and every marker, line and cell text ``PRESENT_SCALE`` times larger; taller, with room
    above the plot for the bigger title."""
    fig = go.Figure(fig)
    big, small = dict(size=PRESENT_FONT + 4), dict(size=PRESENT_FONT)
    fig.update_layout(font=small, title_font=big, legend_font=small, legend_title_font=small,
                      hoverlabel=dict(font=small), margin=dict(t=(fig.layout.margin.t or 60) + 30))
    fig.update_xaxes(tickfont=small, title_font=small)
    fig.update_yaxes(tickfont=small, title_font=small)
    fig.update_coloraxes(colorbar_tickfont=small, colorbar_title_font=small)
    fig.update_layout(height=int((fig.layout.height or 450) * 1.4))
    if fig.layout.legend.orientation == "h" and fig.layout.legend.y is not None and fig.layout.legend.y < 0:
        fig.update_layout(legend_y=fig.layout.legend.y * 1.25)
    for trace in fig.data:
        _scale(trace)
    for frame in fig.frames or ():
        for trace in frame.data:
            _scale(trace)
    for annotation in fig.layout.annotations or ():
        annotation.font.size = max(annotation.font.size or 12, PRESENT_FONT)
    for slider in fig.layout.sliders or ():
        slider.currentvalue.font.size = PRESENT_FONT
    return fig


def _scale(trace) -> None:
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
