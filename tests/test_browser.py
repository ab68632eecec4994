"""The app in a real browser: ``streamlit run`` on a tiny zoo, every page opened in headless Chromium
through Playwright, a what-if training cancelled and another one run to the end through the UI. Fails
on any exception the page shows. Screenshots go to a temporary directory, and to $SHOTS_DIR if set.

Needs /usr/bin/chromium (never ``playwright install``); skipped without it, except in CI.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from browser import CHROMIUM, launch

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60      # seconds for the server to answer its health check
RUN_TIMEOUT = 60_000    # ms for a page's script run to finish
TRAIN_TIMEOUT = 180_000  # ms for the tiny what-if training and its measurement


def _require_browser():
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip(f"{CHROMIUM} is missing (CI installs it; this test never runs `playwright install`)")
    if not os.environ.get("CI"):
        pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(zoo, tmp_path_factory):
    """URL of a Streamlit server on the tiny zoo with an empty what-if directory; stopped afterwards."""
    _require_browser()
    runs = tmp_path_factory.mktemp("browser_runs")
    port = _free_port()
    log = tmp_path_factory.mktemp("browser_log") / "streamlit.log"
    # one torch thread: as fast for tiny models, and far faster when other processes share the CPU
    env = {**os.environ, "BASIN_ZOO": str(zoo), "BASIN_RUNS": str(runs), "OMP_NUM_THREADS": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
                                 "--server.headless", "true", "--server.port", str(port),
                                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        yield {"url": url, "runs": runs, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> list[Path]:
    dirs = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("SHOTS_DIR"):
        dirs.append(Path(os.environ["SHOTS_DIR"]))
        dirs[-1].mkdir(parents=True, exist_ok=True)
    return dirs


def settle(page, timeout: int = RUN_TIMEOUT) -> None:
    """Wait until the script run that the last action started (if any) has finished."""
    try:
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=1500)
    except Exception:   # the run was over before we looked, or none started
        pass
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def assert_clean(page, where: str) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, f"{where}: {errors.first.inner_text()[:2000]}"
    assert "Traceback" not in page.locator('[data-testid="stMain"]').inner_text(), where


def screenshot(page, shots: list[Path], name: str) -> None:
    first = shots[0] / f"{name}.png"
    page.screenshot(path=str(first), full_page=True)
    for d in shots[1:]:
        shutil.copy(first, d / first.name)


@pytest.fixture
def page(browser, shots):
    """A fresh browser tab; its last state is saved as last.png beside the screenshots (on failure too)."""
    tab = browser.new_page(viewport={"width": 1400, "height": 1800})
    yield tab
    screenshot(tab, shots, "last")
    tab.close()


def test_every_page_and_a_what_if_training(server, page, shots):
    from explorer.widgets import PAGES

    page.set_default_timeout(RUN_TIMEOUT)
    start = time.monotonic()

    def lap(what: str) -> None:  # progress lines, shown with `pytest -s`
        print(f"{what}: {time.monotonic() - start:.1f} s")

    url = server["url"]
    page.goto(url)
    page.wait_for_selector('[data-testid="stSidebarNav"]')
    settle(page)
    for file, title, path, _ in PAGES:
        page.goto(f"{url}/{path}")
        page.wait_for_selector('[data-testid="stMain"] h1')
        settle(page)
        if path in ("transition", "denoise"):
            page.wait_for_selector(".js-plotly-plot")
        assert_clean(page, title)
        screenshot(page, shots, path)
        lap(title)

    # the Denoise page's side-by-side view and its animation
    page.goto(f"{url}/denoise?n=8&t=0.5")
    page.wait_for_selector(".js-plotly-plot")
    page.get_by_text("Side by side with a second model").click()
    settle(page)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3")
    strip = "() => JSON.stringify(document.querySelector('.js-plotly-plot').data[0].text)"
    before = page.evaluate(strip)
    page.get_by_text("▶ play").first.click()
    page.wait_for_function(f"({strip})() !== {json.dumps(before)}", timeout=10_000)
    assert_clean(page, "Denoise side by side")
    screenshot(page, shots, "denoise-side-by-side")
    lap("side by side")

    # a bad value in a link's path form (AppTest cannot open one): a note, the default level, no traceback
    page.goto(f"{url}/denoise?t=nan")
    page.wait_for_selector(".js-plotly-plot")
    settle(page)
    assert_clean(page, "Denoise with t=nan")
    page.locator('[data-testid="stSidebar"]').get_by_text("Ignored t=nan from the link").wait_for()
    page.get_by_text("Level t = 0.25.").wait_for()
    lap("bad link")

    # What-if: a long training cancelled through the UI leaves nothing behind ...
    page.goto(f"{url}/what-if")
    page.wait_for_selector('[data-testid="stMain"] h1')
    settle(page)
    fill(page, "N: training sentences", "16")
    page.get_by_text("Advanced", exact=True).click()
    choose(page, "Model size", "tiny")
    choose(page, "Measurement", "light")
    fill(page, "Steps (0: use the budget)", "5000")
    page.get_by_role("button", name="Train and measure").click()
    page.wait_for_selector('[data-testid="stProgress"]')
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Training was cancelled: nothing was written.").wait_for(timeout=RUN_TIMEOUT)
    settle(page)
    assert_clean(page, "What-if after cancel")
    assert not any(server["runs"].iterdir())
    lap("cancelled training")

    # ... and a tiny one runs to the end (so the lock was released) and is filed beside the zoo
    fill(page, "Steps (0: use the budget)", "20")
    page.get_by_role("button", name="Train and measure").click()
    page.get_by_text("Trained and measured").wait_for(timeout=TRAIN_TIMEOUT)
    settle(page, TRAIN_TIMEOUT)
    assert_clean(page, "What-if after training")
    index = json.loads((server["runs"] / "index.json").read_text())
    assert [(e["corpus"], e["n"]) for e in index] == [("grammar", 16)]
    screenshot(page, shots, "what-if-trained")
    lap("tiny training")

    page.goto(f"{url}/transition")
    page.wait_for_selector(".js-plotly-plot")
    settle(page)
    assert_clean(page, "Transition with a what-if run")
    names = page.evaluate("() => document.querySelector('.js-plotly-plot').data.map(t => t.name)")
    assert "what-if train" in names
    screenshot(page, shots, "transition-with-run")
    lap("transition with the run")


def fill(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    settle(page)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` (a prefix of its text) in the selectbox ``label``; a rerun that lands while the
    list is open closes it, so try again a few times."""
    for attempt in range(3):
        page.get_by_label(label, exact=True).click()
        try:
            page.get_by_role("option", name=option).first.click(timeout=5_000)
            break
        except Exception:
            if attempt == 2:
                raise
            settle(page)
    settle(page)
