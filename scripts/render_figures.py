"""Render the README's transition figures from the zoo with the app's own figure builders.

For each corpus in the zoo: train vs test recovery against N at every level t
(explorer.figures.transition.transition_figure) beside the conditional-entropy curve (entropy_figure),
laid out in one HTML page and photographed by headless Chromium (Debian's /usr/bin/chromium, driven
by Playwright) into docs/transition-<corpus>.png.

Run: python scripts/render_figures.py [--zoo assets/zoo] [--out docs]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from playwright.sync_api import sync_playwright  # noqa: E402

from browser import launch  # noqa: E402  (tests/browser.py: the one Chromium set-up)
from engine.measures.measure import LEVELS  # noqa: E402
from engine.runs.sweep import read_index, results_table  # noqa: E402
from engine.measures.transition import n_star_at  # noqa: E402
from explorer.figures.transition import entropy_figure, transition_figure  # noqa: E402


def page_html(corpus: str, results) -> str:
    figs = [transition_figure(results, t) for t in LEVELS]
    n_star = n_star_at(results, 0.25)
    figs.append(entropy_figure(results, transition=n_star))
    divs = []
    for i, fig in enumerate(figs):
        fig.update_layout(width=520, height=400, title_font_size=13)
        divs.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"staticPlot": True}))
    cells = "".join(f"<div style='display:inline-block'>{d}</div>" for d in divs)
    return (f"<html><body style='margin:0;background:white;font-family:sans-serif'>"
            f"<h3 style='margin:8px'>Basin Explorer zoo — corpus '{corpus}'</h3>"
            f"<div style='width:1580px'>{cells}</div></body></html>")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--zoo", default=str(ROOT / "assets" / "zoo"))
    p.add_argument("--out", default=str(ROOT / "docs"))
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    corpora = sorted({e["corpus"] for e in read_index(args.zoo)})
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        for corpus in corpora:
            html = Path(tmp) / f"{corpus}.html"
            html.write_text(page_html(corpus, results_table(args.zoo, corpus)), encoding="utf-8")
            page.goto(html.as_uri())
            page.wait_for_selector(".js-plotly-plot")
            page.screenshot(path=str(out / f"transition-{corpus}.png"), full_page=True)
            print(f"wrote {out / f'transition-{corpus}.png'}")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
