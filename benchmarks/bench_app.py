"""App benchmark on the shipped zoo (assets/zoo), in a real browser (headless Chromium, Playwright):

1. cold start to first chart: from launching ``streamlit run`` (the browser is already open, as a
   user's is) to the first plotly chart being visible on the home page, split into: server answering,
   page opened -> its title shown, title -> chart (mostly the browser loading plotly.js); target <= 4 s;
2. the background warm-up (``explorer.warmup``: torch, the default model, the Denoise page's first
   run), started once the home page has painted: how long it took, read from the server's log;
3. page switches: clicking each page in the sidebar, time until its script run has finished and its
   first chart (if it draws one) is visible — the first round is each page's first visit (Denoise
   first: target <= 2 s once the app is up, i.e. after the warm-up; ``--no-wait`` clicks it at once
   instead), the second round is served from the caches;
   With ``--while-training`` a standard what-if run (grammar, N = 64, the What-if page's defaults) is
   started from the What-if page first, and every page is visited while it trains (target: Denoise
   still <= 2 s); the status line in the sidebar before and after says how far the run got;
   The floor: the same cold start of a Streamlit app holding only a title and one 3-point plotly
   chart, in the same browser and run — what Streamlit and plotly.js cost on this machine before the
   app does anything;
4. the UMAP/numba import does not block first paint: the home page is run under AppTest in this
   process and ``umap`` / ``numba`` are looked up in sys.modules; the cost that was avoided (a fresh
   ``import umap``) is timed in a subprocess.

Prints the figures; asserts nothing about wall time. Exits 1 when the zoo is missing. Timings on a
machine shared with other work mean little: run it on an idle one.

Run: python benchmarks/bench_app.py [--port PORT] [--no-wait] [--while-training]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # `python benchmarks/bench_app.py` from anywhere

from browser import CHROMIUM, launch  # noqa: E402  (tests/browser.py: the one Chromium set-up)

ZOO = REPO / "assets" / "zoo"
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CHART = ".js-plotly-plot"
H1 = '[data-testid="stMain"] h1'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_health(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("streamlit exited before serving")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"streamlit did not answer within {timeout} s")


FLOOR_APP = """import plotly.graph_objects as go
import streamlit as st

st.title("Floor")
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))
"""


def serve(script: str, cwd: Path, port: int, env: dict, out) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def floor(browser) -> float:
    """Cold start to first chart of a Streamlit app with only a title and one small plotly chart, timed
    like the app's (the browser already open, a fresh page with an empty cache)."""
    folder = Path(tempfile.mkdtemp(prefix="bench_app_floor_"))
    (folder / "floor.py").write_text(FLOOR_APP)
    port = free_port()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    t0 = time.perf_counter()
    proc = serve("floor.py", folder, port, dict(os.environ), subprocess.DEVNULL)
    try:
        wait_health(f"http://127.0.0.1:{port}", proc)
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}")
        page.locator(CHART).first.wait_for(state="visible", timeout=120_000)
        return time.perf_counter() - t0
    finally:
        context.close()
        proc.terminate()
        proc.wait(timeout=10)


def settle(page, timeout_ms: int = 120_000) -> None:
    """Wait for the script run the last action started (if it started) to finish."""
    try:
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=1500)
    except Exception:
        pass
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def switch(page, title: str) -> float:
    """Click a page in the sidebar; seconds until its title is shown, its run is over and its first
    chart (if it draws one) is visible."""
    old = page.locator(H1).first.inner_text()
    start = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    page.wait_for_function(
        """([h1, old]) => {
            const h = document.querySelector(h1), app = document.querySelector('[data-testid="stApp"]');
            return h && h.innerText !== old && app.dataset.testScriptState === 'notRunning';
        }""", arg=[H1, old], timeout=120_000)
    if page.locator(CHART).count():
        page.locator(CHART).first.wait_for(state="visible")
    return time.perf_counter() - start


def warmup_seconds(log: Path, timeout: float) -> float | None:
    """The warm-up's own duration from the server log ('warm-up done in X s'), waiting up to
    ``timeout`` seconds for it; None if it did not finish (or was skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"warm-up done in ([0-9.]+) s", log.read_text(errors="replace"))
        if found:
            return float(found.group(1))
        if "warm-up skipped" in log.read_text(errors="replace"):
            return None
        time.sleep(0.1)
    return None


def sidebar_status(page) -> str:
    """The what-if status line in the sidebar (empty if none)."""
    bar = page.locator('[data-testid="stSidebar"] [data-testid="stProgress"]')
    return bar.first.inner_text().strip() if bar.count() else ""


def live_status(page) -> str:
    """The first line of the What-if page's live panel ('Training grammar N = 64 · step ... · started by you')."""
    line = page.locator('[data-testid="stMain"] [data-testid="stMarkdownContainer"]', has_text="started by")
    return line.first.inner_text().strip() if line.count() else "(no live panel)"


def start_training(page) -> str:
    """Start the What-if page's default run (grammar, N = 64, its default model and budget) and wait
    until it has trained 50 steps; returns the line of the page's live panel then (on What-if the
    sidebar only names the run)."""
    page.locator('[data-testid="stSidebarNav"] a', has_text="What-if").first.click()
    page.get_by_role("button", name="Train and measure").click()
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stMarkdownContainer"]')]
        .some(e => { const m = e.innerText.match(/step ([0-9,]+)/);
                     return m && Number(m[1].replace(/,/g, '')) >= 50; })""", timeout=120_000)
    return live_status(page)


def umap_report() -> tuple[bool, bool, float]:
    """(umap imported by the home page?, numba imported?, seconds a fresh `import umap` takes)."""
    os.environ["BASIN_ZOO"] = str(ZOO)
    from streamlit.testing.v1 import AppTest

    AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=300).run()
    umap_loaded, numba_loaded = "umap" in sys.modules, "numba" in sys.modules
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import umap"], check=False, capture_output=True)
    return umap_loaded, numba_loaded, time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--no-wait", action="store_true",
                    help="click Denoise as soon as the home page has painted, without waiting for the warm-up")
    ap.add_argument("--while-training", action="store_true",
                    help="start a standard what-if run (grammar, N = 64) first and visit the pages while it trains")
    args = ap.parse_args()
    if not (ZOO / "index.json").exists():
        print(f"The shipped zoo is missing: no {ZOO / 'index.json'}. Build it with `python -m engine zoo`.")
        return 1
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: install Debian's chromium package.")
        return 1
    from playwright.sync_api import sync_playwright

    from explorer.widgets import PAGES

    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}"
    scratch = Path(tempfile.mkdtemp(prefix="bench_app_"))
    # what-if runs get a folder of their own: a runs folder holding anything else (this log) is refused
    env = {**os.environ, "BASIN_ZOO": str(ZOO), "BASIN_RUNS": str(scratch / "runs")}
    log = scratch / "streamlit.log"
    first_visits, cached = {}, {}
    warm = waited = None
    status = []
    with sync_playwright() as p:
        browser = launch(p)          # the user's browser is open before the server starts: not timed
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t0 = time.perf_counter()
        with open(log, "wb") as out:
            proc = serve("streamlit_app.py", REPO, port, env, out)
        try:
            wait_health(url, proc)
            t_health = time.perf_counter() - t0
            t_open = time.perf_counter()
            page.goto(url)
            page.locator(H1).first.wait_for(timeout=300_000)
            t_title = time.perf_counter()
            page.locator(CHART).first.wait_for(state="visible", timeout=300_000)
            t_chart = time.perf_counter()
            settle(page)
            if not args.no_wait:
                warm = warmup_seconds(log, 120)
                waited = time.perf_counter() - t_chart
            if args.while_training:
                status.append(start_training(page))
            for round_ in (first_visits, cached):
                for _, title, _, _ in PAGES[1:] + PAGES[:1]:
                    round_[title] = switch(page, title)
                if args.while_training and round_ is first_visits:
                    status.append(sidebar_status(page))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        try:
            floors = [floor(browser) for _ in range(2)]
        finally:
            browser.close()

    entries = json.loads((ZOO / "index.json").read_text())
    print(f"zoo: {ZOO} ({len(entries)} models: "
          f"{', '.join(sorted({e['corpus'] for e in entries}))})")
    print(f"cold start to first chart: {t_chart - t0:6.2f} s  (target <= 4 s; from `streamlit run` with the "
          f"browser already open: server healthy after {t_health:.2f} s; page opened -> title "
          f"{t_title - t_open:.2f} s -> first chart {t_chart - t_title:.2f} s)")
    print(f"floor: a Streamlit app with only a title and one plotly chart starts in "
          f"{', '.join(f'{f:.2f}' for f in floors)} s here (the same steps; the app takes "
          f"{(t_chart - t0) / min(floors):.2f}x the faster)")
    if args.no_wait:
        print("warm-up: not waited for (--no-wait): Denoise was clicked as soon as the home page had painted")
    else:
        print(f"warm-up (torch, default model, Denoise's first run) took {warm if warm is None else f'{warm:.2f} s'}; "
              f"it was over {waited:.2f} s after the first chart")
    print(f"Denoise first visit: {first_visits['Denoise']:.2f} s (target <= 2 s once the app is up"
          f"{', also while a what-if run trains' if args.while_training else ''})")
    if args.while_training:
        print(f"while training: the run was at '{status[0]}' (What-if's live panel) before the Denoise click "
              f"and at '{status[1]}' (the sidebar) once every page had been visited")
    print("page switch (sidebar click -> run finished and first chart visible):")
    print(f"  {'page':<14}{'first visit':>12}{'cached':>10}")
    for title in first_visits:
        print(f"  {title:<14}{first_visits[title]:>11.2f}s{cached[title]:>9.2f}s")
    umap_loaded, numba_loaded, umap_cost = umap_report()
    print(f"home page imports umap: {umap_loaded}; numba: {numba_loaded} "
          f"(a fresh `import umap` takes {umap_cost:.1f} s here, so first paint "
          f"{'waited for it' if umap_loaded else 'did not wait for it'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
