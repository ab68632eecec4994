"""The app in a real browser: ``streamlit run`` on a tiny zoo, every page opened in headless Chromium
through Playwright, a what-if training that goes on while another page is open, then cancelled, and
another one run to the end through the UI, the
shared step control of side by side, the denoising path on the Entropy map and a point's neighbours,
and presenter mode from a link. Fails on any exception the page shows, and on any request that leaves
the server (the favicon included). Screenshots go to a temporary directory, and to $SHOTS_DIR if set.

Needs /usr/bin/chromium (never ``playwright install``); skipped without it, except in CI.
"""
from __future__ import annotations

import json
import os
import re
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
def page(browser, shots, server):
    """A fresh browser tab; its last state is saved as last.png beside the screenshots (on failure
    too). Every request must go to the app's own server: nothing is fetched from the internet."""
    tab = browser.new_page(viewport={"width": 1400, "height": 1800})
    outside = []
    tab.on("request", lambda r: outside.append(r.url) if not r.url.startswith((server["url"], "data:", "blob:"))
           else None)
    yield tab
    screenshot(tab, shots, "last")
    tab.close()
    assert not outside, f"requests that left the server: {outside[:5]}"


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
    lap("long training started")

    # ... it belongs to the server: it goes on while the user looks at another page (the sidebar shows
    # it advancing) and is still there, with its settings, on coming back through the sidebar ...
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("Denoise", exact=True).click()
    page.wait_for_selector(".js-plotly-plot")
    status = page.locator('[data-testid="stSidebar"] [data-testid="stProgress"]')
    status.get_by_text("Training grammar N = 16").wait_for()
    first = step_of(status.inner_text())
    page.wait_for_function("""first => {
        const bar = document.querySelector('[data-testid="stSidebar"] [data-testid="stProgress"]');
        const m = bar && bar.innerText.match(/step ([0-9,]+)/);
        return m && Number(m[1].replace(/,/g, '')) > first; }""", arg=first)
    assert_clean(page, "Denoise while a what-if run trains")
    screenshot(page, shots, "denoise-while-training")
    nav.get_by_text("What-if", exact=True).click()
    page.get_by_role("button", name="Cancel").wait_for()
    assert page.get_by_label("Steps (0: use the budget)", exact=True).input_value() == "5000"
    assert "Training was cancelled" not in page.inner_text('[data-testid="stMain"]')
    lap("training survived navigation")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Training was cancelled: nothing was written.").wait_for(timeout=RUN_TIMEOUT)
    settle(page)
    assert_clean(page, "What-if after cancel")
    assert not any(server["runs"].iterdir())
    lap("cancelled training")

    # ... and a tiny one runs to the end (so the lock was released) and is filed beside the zoo
    if not page.get_by_label("Steps (0: use the budget)", exact=True).is_visible():
        page.get_by_text("Advanced", exact=True).click()   # the expander closed with the page
    fill(page, "Steps (0: use the budget)", "20")
    page.get_by_role("button", name="Train and measure").click()
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("Trained and measured").wait_for(timeout=TRAIN_TIMEOUT)
    page.locator('[data-testid="stSidebar"]').get_by_text("Trained and measured grammar N = 16").wait_for()
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
    assert any(str(n).startswith("what-if train (") for n in names), names   # marked zoo's / another setting
    screenshot(page, shots, "transition-with-run")
    lap("transition with the run")


def step_of(text: str) -> int:
    """The step in a status line 'Training grammar N = 16 · step 1,200/5,000 · ...' (0 before the first)."""
    m = re.search(r"step ([0-9,]+)", text)
    return int(m.group(1).replace(",", "")) if m else 0


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


# ------------------------------------------------------------------------------------------ issue 14

def plot(page, index: int, what: str):
    """``what`` (a JS expression of ``p``, the index-th plotly chart element) evaluated in the page."""
    return page.evaluate(f"() => {{ const p = document.querySelectorAll('.js-plotly-plot')[{index}]; return {what}; }}")


def test_side_by_side_one_step_control_drives_both_grids(server, page, shots):
    """Both grids sit in one figure with one slider and one play button: playing it moves both
    'current state' strips together, to the last row of each run."""
    page.set_default_timeout(RUN_TIMEOUT)
    page.goto(f"{server['url']}/denoise?n=8&t=0.5&seed=1")
    page.wait_for_selector(".js-plotly-plot")
    settle(page)
    page.get_by_text("Side by side with a second model").click()
    settle(page)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length == 2")
    assert plot(page, 0, "p.layout.sliders.length") == 1 and plot(page, 0, "p.layout.updatemenus.length") == 1
    last = plot(page, 0, "[p._transitionData._frames.at(-1).data[0].text, p._transitionData._frames.at(-1).data[1].text]")
    assert plot(page, 0, "JSON.stringify(p.data[0].text)") == plot(page, 0, "JSON.stringify(p.data[1].text)")
    page.get_by_text("▶ play").first.click()
    page.wait_for_function(f"""() => {{ const p = document.querySelector('.js-plotly-plot');
        return JSON.stringify([p.data[0].text, p.data[1].text]) === {json.dumps(json.dumps(last, separators=(",", ":")))}; }}""",
                           timeout=30_000)
    assert plot(page, 0, "p.layout.sliders[0].active") == plot(page, 0, "p._transitionData._frames.length") - 1
    assert_clean(page, "Denoise side by side")
    screenshot(page, shots, "denoise-side-by-side")


# page coordinates of a train point inside the projection's axes (zoomed to the path), and its example
VISIBLE_POINT = """() => { const p = document.querySelector('.js-plotly-plot'), r = p.getBoundingClientRect();
  const xa = p._fullLayout.xaxis, ya = p._fullLayout.yaxis, cd = p.calcdata[0];
  for (let i = 0; i < cd.length; i++) {
    const px = xa.c2p(cd[i].x), py = ya.c2p(cd[i].y);
    if (px > 8 && px < xa._length - 8 && py > 8 && py < ya._length - 8)
      return [r.left + xa._offset + px, r.top + ya._offset + py, Number(p._fullData[0].customdata[i][1])]; }
  return null; }"""


def test_denoising_path_on_the_map_and_a_points_neighbours(server, page, shots):
    page.set_default_timeout(RUN_TIMEOUT)
    page.goto(f"{server['url']}/entropy-map?n=32&split=test&example=2&t=0.5&seed=3")
    page.wait_for_selector(".js-plotly-plot")
    settle(page)
    names = plot(page, 0, "p.data.map(t => t.name)")
    assert {"denoising path", "training sentences it passes near"} <= set(names)
    path = plot(page, 0, "p.data.find(t => t.name === 'denoising path')")
    assert len(path["x"]) >= 2 and all(c[0] == "path" for c in path["customdata"])
    page.get_by_text("Path of test #2").wait_for()
    screenshot(page, shots, "entropy-map-path")
    # an empty box (the corner of the whole map, inside autorange's padding): a message, nothing dimmed
    page.get_by_text("Zoom to the path").click()
    settle(page)
    page.get_by_text("box", exact=True).click()
    settle(page)
    x0, y0 = page.evaluate("""() => { const p = document.querySelector('.js-plotly-plot'), r = p.getBoundingClientRect();
        return [r.left + p._fullLayout.xaxis._offset, r.top + p._fullLayout.yaxis._offset]; }""")
    page.mouse.move(x0 + 3, y0 + 3)
    page.mouse.down()
    page.mouse.move(x0 + 18, y0 + 14, steps=8)
    page.mouse.up()
    page.get_by_text("That selection caught no sequence").wait_for(timeout=RUN_TIMEOUT)
    settle(page)
    assert plot(page, 0, "p.data.every(t => !t.selectedpoints || t.selectedpoints.length !== 0)")
    page.get_by_text("Zoom to the path").click()
    settle(page)
    # 'click one point': a click on a training sentence selects it — its path is drawn, its nearest
    # neighbours are listed beside the map and ringed on it
    page.get_by_text("click one point", exact=True).click()
    settle(page)
    x, y, i = page.evaluate(VISIBLE_POINT)
    page.mouse.click(x, y)
    page.get_by_text(f"Nearest to train #{i}").wait_for(timeout=RUN_TIMEOUT)
    settle(page)
    assert_clean(page, "Entropy map after a click")
    page.get_by_text(f"Path of train #{i}").wait_for()
    assert {"nearest neighbours", "selected"} <= set(plot(page, 0, "p.data.map(t => t.name)"))
    assert f"example={i}" in page.url and "split=train" in page.url
    screenshot(page, shots, "entropy-map-neighbours")


def test_presenter_mode_from_a_link(server, page, shots):
    page.set_default_timeout(RUN_TIMEOUT)
    page.goto(f"{server['url']}/denoise?n=8&present=1")
    page.wait_for_selector(".js-plotly-plot")
    settle(page)
    assert page.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "true"
    assert plot(page, 0, "p.layout.font.size") == 20
    assert float(page.evaluate("() => parseFloat(getComputedStyle(document.querySelector("
                               "'[data-testid=\"stMain\"] h1')).fontSize)")) > 50
    page.get_by_role("button", name="See this run as a path on the Entropy map").click()
    page.wait_for_selector('[data-testid="stMain"] h1:has-text("Entropy map")')
    settle(page)
    assert "present=1" in page.url and plot(page, 0, "p.layout.font.size") == 20
    assert_clean(page, "Entropy map in presenter mode")
    screenshot(page, shots, "entropy-map-presenter")


# ------------------------------------------------------------------------------------ issue 21.4

def shown(page) -> dict:
    """What the Denoise and Transition widgets show on the current page: each checked radio and
    toggle by its label, and the text of each selectbox."""
    return page.evaluate("""() => {
        const out = {};
        const kinds = ['stRadio', 'stCheckbox', 'stSelectbox'].map(k => `[data-testid="${k}"]`).join();
        for (const w of document.querySelectorAll(kinds)) {
            const label = w.querySelector('[data-testid="stWidgetLabel"]')?.innerText.trim() || '';
            if (w.dataset.testid === 'stSelectbox') out[label] = w.querySelector('input').value;
            else if (w.dataset.testid === 'stCheckbox') out[label] = w.querySelector('input').checked;
            else out[label] = [...w.querySelectorAll('label')].filter(l => l.querySelector('input')?.checked)
                                                                  .map(l => l.innerText.trim()).join();
        }
        return out; }""")


def open_page(page, name: str, path: str) -> None:
    """Go to page ``name`` through the sidebar, as a user would (Streamlit drops the query string; the
    app writes it again from the session)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
    page.wait_for_url(re.compile(f"[?&]page={path}(&|$)"))
    page.wait_for_selector(".js-plotly-plot")
    settle(page)


def test_a_link_restores_the_whole_view(server, browser, page, shots):
    """Side by side with the ideal memorizer, greedy steps and the plug-in sampler on Denoise, exact
    match on Transition: the page's URL, opened in a fresh browser context (no session, no cookies),
    shows every one of them again."""
    page.set_default_timeout(RUN_TIMEOUT)
    page.goto(f"{server['url']}/denoise?n=8&t=0.5&seed=1")
    page.wait_for_selector(".js-plotly-plot")
    settle(page)
    page.get_by_text("Side by side with a second model").click()
    settle(page)
    choose(page, "Second model", "ideal memorizer")
    page.get_by_text("greedy", exact=True).click()
    settle(page)
    page.locator('[data-testid="stSidebar"]').get_by_text("Plug-in step (the paper's sampler)").click()
    settle(page)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length == 2")
    denoise = shown(page)
    assert denoise["Second model"].startswith("ideal memorizer") and denoise["Steps"] == "greedy"
    assert denoise["Side by side with a second model"] is True and denoise["Sampler"].startswith("Plug-in")
    open_page(page, "Transition", "transition")
    page.locator('[data-testid="stSidebar"]').get_by_text("exact match", exact=True).click()
    settle(page)
    transition, link = shown(page), page.url
    assert transition["Recovery measure"] == "exact match"
    for part in ("compare=1", "partner=ideal%3Amemorizer", "mode=greedy", "step=plugin", "metric=exact_match"):
        assert part in link, link

    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    try:
        fresh = context.new_page()
        fresh.set_default_timeout(RUN_TIMEOUT)
        fresh.goto(link)
        fresh.wait_for_selector(".js-plotly-plot")
        settle(fresh)
        assert_clean(fresh, "Transition from the link")
        assert shown(fresh) == transition
        open_page(fresh, "Denoise", "denoise")
        fresh.wait_for_function("document.querySelectorAll('.js-plotly-plot').length == 2")
        assert_clean(fresh, "Denoise from the link")
        assert shown(fresh) == denoise
        assert not fresh.locator('[data-testid="stSidebar"]').get_by_text("Ignored").count()
        screenshot(fresh, shots, "denoise-from-a-link")
    finally:
        context.close()


def test_a_link_restores_a_box_selection(server, browser, page, shots):
    """A box drawn on the Entropy map's projection (rows per split 4): the fresh context shows the same
    heatmap rows and the same points selected on the map."""
    page.set_default_timeout(RUN_TIMEOUT)
    page.goto(f"{server['url']}/entropy-map?n=32&rows=4&tool=box")
    page.wait_for_selector(".js-plotly-plot")
    settle(page)
    page.get_by_text("Zoom to the path").click()
    settle(page)
    box = page.evaluate("""() => { const p = document.querySelector('.js-plotly-plot'), r = p.getBoundingClientRect();
        const xa = p._fullLayout.xaxis, ya = p._fullLayout.yaxis;
        return [r.left + xa._offset, r.top + ya._offset, xa._length, ya._length]; }""")
    x0, y0, w, h = box
    page.mouse.move(x0 + w * 0.05, y0 + h * 0.05)
    page.mouse.down()
    page.mouse.move(x0 + w * 0.6, y0 + h * 0.6, steps=10)
    page.mouse.up()
    page.wait_for_url(re.compile(r"sel="))
    settle(page)
    heat = "[...document.querySelectorAll('.js-plotly-plot')].find(p => p.data[0].type === 'heatmap').data[0].y"
    marked = ("document.querySelector('.js-plotly-plot').data.filter(t => t.selectedpoints)"
              ".map(t => [t.name, t.selectedpoints.map(i => t.customdata[i][1]).sort()])")
    rows, points, link = page.evaluate(f"() => {heat}"), page.evaluate(f"() => {marked}"), page.url
    assert rows and sum(len(p) for _, p in points) >= len(rows)
    assert page.get_by_role("button", name=re.compile("Clear the selection")).count() == 1

    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    try:
        fresh = context.new_page()
        fresh.set_default_timeout(RUN_TIMEOUT)
        fresh.goto(link)
        fresh.wait_for_selector(".js-plotly-plot")
        settle(fresh)
        assert_clean(fresh, "Entropy map from the link")
        assert fresh.evaluate(f"() => {heat}") == rows and fresh.evaluate(f"() => {marked}") == points
        screenshot(fresh, shots, "entropy-map-selection-from-a-link")
    finally:
        context.close()


# ------------------------------------------------------------------------------------ issue 21.5

PROJECTOR = {"width": 1280, "height": 720}
# Every chart's box, and every text that can collide inside it: the chart's title, axis titles,
# annotations (subplot titles included), legend entries and legend title, and the labels of vertical
# marker lines (N*, selected N: scatter traces drawn as 'lines+text'). Tick labels are left out:
# plotly itself thins or rotates them.
CHART_TEXTS = """() => {
  const header = document.querySelector('[data-testid="stHeader"]').getBoundingClientRect().height;
  const out = [];
  document.querySelectorAll('.js-plotly-plot').forEach((p, i) => {
    const r = p.getBoundingClientRect(), texts = [];
    const keep = e => { const b = e.getBoundingClientRect();
      if (b.width > 0 && b.height > 0 && e.textContent.trim())
        texts.push([e.textContent.trim().slice(0, 40), b.left, b.top, b.right, b.bottom]); };
    p.querySelectorAll('.infolayer text').forEach(e => {
      if (/^(g|[xy][0-9]*)title$/.test(e.getAttribute('class') || '') || e.classList.contains('legendtext')
          || e.classList.contains('legendtitletext') || e.closest('.annotation-text-g')) keep(e); });
    p.querySelectorAll('.scatterlayer .trace').forEach(g => {
      const t = g.__data__ && g.__data__[0] && g.__data__[0].trace;
      if (t && /lines/.test(t.mode || '') && /text/.test(t.mode || '')) g.querySelectorAll('.textpoint text').forEach(keep); });
    out.push({index: i, key: (p.closest('[class*="st-key-"]')?.className.match(/st-key-(\\S+)/) || [])[1] || '',
              box: [r.left, r.top, r.width, r.height], texts}); });
  return {header, width: window.innerWidth, height: window.innerHeight, charts: out}; }"""


def crowded(texts: list) -> list[tuple[str, str]]:
    """Pairs of texts whose boxes overlap by more than a pixel each way."""
    out = []
    for i, (a, *ba) in enumerate(texts):
        for b, *bb in texts[i + 1:]:
            if min(ba[2], bb[2]) - max(ba[0], bb[0]) > 1 and min(ba[3], bb[3]) - max(ba[1], bb[1]) > 1:
                out.append((a, b))
    return out


def fits_the_projector(page, where: str) -> int:
    """Assert that every chart on the page fits a 1280 × 720 screen below Streamlit's top bar and that
    no two of its texts overlap; returns the number of charts checked."""
    seen = page.evaluate(CHART_TEXTS)
    room = seen["height"] - seen["header"]
    for chart in seen["charts"]:
        left, _, width, height = chart["box"]
        name = f"{where}, chart {chart['index']} ({chart['key']})"
        assert left >= 0 and left + width <= seen["width"] + 0.5, f"{name} leaves the screen sideways: {chart['box']}"
        assert height <= room + 0.5, f"{name} is {height:.0f} px high; {room:.0f} px fit below the top bar"
        assert not crowded(chart["texts"]), f"{name}: overlapping labels {crowded(chart['texts'])}"
    return len(seen["charts"])


def test_presenter_mode_fits_a_projector(server, browser, shots):
    """Every page in presenter mode at 1280 × 720, Denoise side by side too: every chart fits the
    screen below the top bar, no two labels of a chart overlap, and the two runs' grids stand side by
    side. The Tour's 'Show me' lands on the step's figure."""
    from explorer.widgets import PAGES

    context = browser.new_context(viewport=PROJECTOR)
    try:
        page = context.new_page()
        page.set_default_timeout(RUN_TIMEOUT)
        url, counted = server["url"], {}
        views = [(path, f"{url}/{path if i else ''}?present=1&n=32") for i, (_, _, path, _) in enumerate(PAGES)]
        views.append(("denoise-side-by-side", f"{url}/denoise?present=1&n=32&compare=1"))
        for name, link in views:
            page.goto(link)
            page.wait_for_selector('[data-testid="stMain"] h1')
            settle(page)
            page.wait_for_timeout(500)   # plotly draws its texts after the script run
            assert_clean(page, f"{name} in presenter mode")
            page.screenshot(path=str(shots[0] / f"projector-{name}.png"))
            counted[name] = fits_the_projector(page, name)
        assert counted["transition"] >= 3 and counted["basins"] >= 2 and counted["denoise-side-by-side"] >= 2, counted
        grid = page.locator(".js-plotly-plot").first
        xaxes = grid.evaluate("p => Object.keys(p._fullLayout).filter(k => /^xaxis[0-9]*$/.test(k))"
                              ".map(k => p._fullLayout[k].domain)")
        assert any(d[0] >= 0.5 for d in xaxes) and any(d[1] <= 0.5 for d in xaxes), xaxes   # A | B
        # the Tour: each step opens its page scrolled to the step's figure, whole below the top bar
        page.goto(f"{url}/tour?present=1")
        page.wait_for_selector('[data-testid="stMain"] h1')
        settle(page)
        page.locator('[class*="st-key-tour_3"] button').click()
        page.wait_for_selector('[data-testid="stMain"] h1:has-text("Entropy map")')
        settle(page)
        page.wait_for_timeout(1500)
        top = page.evaluate("""() => { const p = document.querySelector('.js-plotly-plot').getBoundingClientRect();
            return [p.top, p.bottom, document.querySelector('[data-testid="stHeader"]').getBoundingClientRect().bottom]; }""")
        assert top[2] - 1 <= top[0] and top[1] <= PROJECTOR["height"] + 1, top
        page.screenshot(path=str(shots[0] / "projector-tour-step-4.png"))
        for d in shots[1:]:
            for f in shots[0].glob("projector-*.png"):
                shutil.copy(f, d / f.name)
    finally:
        context.close()
