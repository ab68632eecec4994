"""Headless Chromium for the browser test, the app benchmark and the README figures: Debian's
binary (never ``playwright install``) and the one set of launch arguments they all use.

Not a test module: ``tests/test_browser.py`` imports it directly, ``benchmarks/bench_app.py`` and
``scripts/render_figures.py`` put this folder on ``sys.path`` first.
"""
from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
# no sandbox: CI runs as root in a container; no background traffic: nothing may reach the network
ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run")


def launch(playwright):
    """A headless Chromium browser from a started ``sync_playwright()`` context."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=list(ARGS))
