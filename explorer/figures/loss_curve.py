"""The training-loss curve of a running what-if job, as a small SVG drawn by the browser as an image.

The live panel redraws it every few seconds while the job trains. A plotly chart there held the
browser's main thread at every redraw, long enough to hold back a click that came meanwhile (a page
switch waited for it); an image costs next to nothing. A pure
function: history in, SVG text out.
"""
from __future__ import annotations

WIDTH, HEIGHT = 560, 170
LEFT, RIGHT, TOP, BOTTOM = 46, 14, 12, 30   # room for the axis labels
COLOR, AXIS, FONT = "#1f77b4", "#888888", "font-family:sans-serif;font-size:11px"


def loss_svg(history: list[tuple[int, float]], total: int) -> str:
    """The loss (nats per token, mean over each logging window) against the step, on an x axis from
    0 to ``total`` steps and a y axis from 0 to the largest loss so far; the last value is labelled."""
    if total < 1:
        raise ValueError(f"total must be a positive number of steps, got {total}")
    top = max((loss for _, loss in history), default=1.0) * 1.05 or 1.0
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(step: float) -> float:
        return LEFT + w * min(max(step / total, 0.0), 1.0)

    def y(loss: float) -> float:
        return TOP + h * (1 - min(max(loss / top, 0.0), 1.0))

    points = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in history)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">',
        f'<path d="M{LEFT},{TOP} V{TOP + h} H{LEFT + w}" fill="none" stroke="{AXIS}"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end" fill="{AXIS}" style="{FONT}">{top:.2f}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + h}" text-anchor="end" fill="{AXIS}" style="{FONT}">0</text>',
        f'<text x="{LEFT}" y="{HEIGHT - 14}" text-anchor="middle" fill="{AXIS}" style="{FONT}">0</text>',
        f'<text x="{LEFT + w}" y="{HEIGHT - 14}" text-anchor="end" fill="{AXIS}" style="{FONT}">{total:,}</text>',
        f'<text x="{LEFT + w / 2}" y="{HEIGHT - 2}" text-anchor="middle" fill="{AXIS}" style="{FONT}">'
        'step · loss in nats per token</text>',
    ]
    if history:
        last_step, last = history[-1]
        parts += [f'<polyline points="{points}" fill="none" stroke="{COLOR}" stroke-width="1.8"/>',
                  f'<circle cx="{x(last_step):.1f}" cy="{y(last):.1f}" r="3" fill="{COLOR}"/>',
                  f'<text x="{min(x(last_step) + 6, LEFT + w - 40):.1f}" y="{max(y(last) - 6, TOP + 10):.1f}" '
                  f'fill="{COLOR}" style="{FONT}">{last:.3f}</text>']
    return "".join(parts) + "</svg>"
