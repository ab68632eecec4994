"""What-if runs as server jobs (``explorer.whatif.jobs``): a run started on What-if survives opening another
page, shows in the sidebar there and is announced when it ends; Cancel leaves nothing on disk; a
second start is refused with who runs and how far along; measuring reports its tables in order.
A gate holds the (real, tiny) training at its first progress report, so the tests see it running."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.text.corpus import grammar_corpus
from engine.measures.registry import plan
from explorer.whatif import jobs, runs
from explorer import priority
from whatif_settings import tiny_settings

REPO = Path(__file__).resolve().parent.parent
APP, WHATIF = str(REPO / "streamlit_app.py"), "explorer/pages/whatif.py"

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture
def gate(monkeypatch):
    """Holds every job at its first training progress report until ``gate.set()``; a fresh registry."""
    registry = jobs.registry()
    registry.wait(timeout=300)
    registry.job = None
    opened = threading.Event()
    real = runs.train_and_measure

    def held(corpus, settings, root, *, progress=None, **hooks):
        def first(*args):
            opened.wait(timeout=120)
            progress(*args)
        return real(corpus, settings, root, progress=first, **hooks)

    monkeypatch.setattr(runs, "train_and_measure", held)
    yield opened
    opened.set()
    registry.wait(timeout=300)


def no_exception(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def whatif_in_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(WHATIF).run()
    return no_exception(at)


def test_a_run_survives_navigation_and_is_announced(runs_dir, gate):
    at = tiny_settings(whatif_in_app())
    at.button(key="wi_train").click().run()
    no_exception(at)
    job = jobs.registry().current()
    assert job is not None and job.running and job.corpus == "grammar" and job.n == 16
    # at once, on What-if: the sidebar names the run; the page's own live panel shows its progress
    assert any("Training grammar N = 16 · started by you" in c.value for c in at.sidebar.caption)
    assert not at.sidebar.get("progress") and at.main.get("progress")
    assert any("Training grammar N = 16" in m.value for m in at.main.markdown)
    at.switch_page("explorer/pages/denoise.py").run()                 # leave the page
    no_exception(at)
    assert at.title[0].value == "Denoise one sentence"
    assert job.running                                                # not cancelled by navigating
    bars = [p for p in at.sidebar.get("progress")]
    assert bars and "Training grammar N = 16" in bars[0].proto.text and "started by you" in bars[0].proto.text
    gate.set()
    assert jobs.registry().wait(timeout=300).state == "done"
    assert (runs_dir / "grammar" / "n00016" / "measure" / "summary.json").exists()
    at.run()                                                          # still on Denoise
    no_exception(at)
    assert any("What-if run finished: grammar, N = 16" in t.proto.body for t in at.get("toast"))
    assert any("Trained and measured grammar N = 16" in c.value for c in at.sidebar.caption)
    at.run()
    assert not at.get("toast")                                        # announced once per session
    at.switch_page(WHATIF).run()                                      # the result is on What-if
    no_exception(at)
    assert [m.label for m in at.metric] == ["train recovery at t = 0.25", "test recovery at t = 0.25"]


def test_cancel_leaves_nothing_on_disk(runs_dir, gate):
    at = tiny_settings(AppTest.from_file(str(REPO / WHATIF), default_timeout=120).run())
    at.button(key="wi_train").click().run()
    no_exception(at)
    assert jobs.registry().current().running
    at.button(key="wi_cancel").click().run()
    gate.set()
    job = jobs.registry().wait(timeout=300)
    assert job.state == "cancelled" and job.stage == "training"
    assert not runs_dir.exists()
    at.run()
    no_exception(at)
    assert any("Training was cancelled: nothing was written." in i.value for i in at.info)


def test_a_second_start_is_refused_with_who_and_how_far(runs_dir, gate):
    mine = tiny_settings(AppTest.from_file(str(REPO / WHATIF), default_timeout=120).run())
    mine.button(key="wi_train").click().run()
    mine.button(key="wi_train").click().run()
    no_exception(mine)
    assert any("One training at a time" in w.value and "you started one" in w.value
               and "Training grammar N = 16 · step 0/20" in w.value for w in mine.warning)
    jobs.registry().current().owner = "another"     # AppTest sessions share one id: stand in for another
    other = tiny_settings(AppTest.from_file(str(REPO / WHATIF), default_timeout=120).run(), n=32)
    other.button(key="wi_train").click().run()
    no_exception(other)
    assert any("another session started one" in w.value for w in other.warning)
    assert jobs.registry().current().n == 16                          # the first run goes on
    gate.set()
    assert jobs.registry().wait(timeout=300).state == "done"
    assert not (runs_dir / "grammar" / "n00032").exists()


def test_measuring_reports_its_stages(tmp_path):
    corpus = grammar_corpus()
    job = jobs.Job(corpus.name, runs.Settings(n=8, steps=20, size="tiny", measure="light"))
    stages = []
    real = runs.train_and_measure

    def spy(*args, on_measure=None, **kw):
        def record(name, i, count):
            stages.append((name, i, count, job.fraction()))
            on_measure(name, i, count)
        return real(*args, on_measure=record, **kw)

    jobs.execute(job, corpus, tmp_path / "runs", work=spy)
    assert job.state == "done", job.error
    expected = plan(runs.MEASURED)                                    # dependency order of the registry
    assert [s[:3] for s in stages] == [(name, i, len(expected)) for i, name in enumerate(expected)]
    assert list(job.timings) == ["train", *expected]
    assert 0.7 <= stages[0][3] < stages[-1][3] < 1
    assert job.line() == "Trained and measured grammar N = 8"


def test_cancel_while_measuring_keeps_the_checkpoint_unmeasured(tmp_path):
    corpus = grammar_corpus()
    job = jobs.Job(corpus.name, runs.Settings(n=8, steps=20, size="tiny", measure="light"))
    real = runs.train_and_measure

    def cancel_at_third(*args, on_measure=None, **kw):
        def hook(name, i, count):
            if i == 2:
                job.cancel()
            on_measure(name, i, count)
        return real(*args, on_measure=hook, **kw)

    root = tmp_path / "runs"
    jobs.execute(job, corpus, root, work=cancel_at_third)
    assert job.state == "cancelled" and job.stage == "measuring"
    assert (root / "grammar" / "n00008" / "meta.json").exists()
    assert not (root / "grammar" / "n00008" / "measure" / "summary.json").exists()
    assert '"n": 8' in (root / "index.json").read_text()             # listed: What-if offers to measure it


def test_busy_names_the_running_job(tmp_path):
    registry = jobs.Jobs()
    registry.job = jobs.Job("grammar", runs.Settings(n=64), owner="someone", step=600, total=1200,
                            history=[(600, 0.41)])
    with pytest.raises(jobs.Busy, match=r"Training grammar N = 64 · step 600/1,200 · loss 0.410"):
        registry.start(grammar_corpus(), runs.Settings(n=8), tmp_path)
    assert registry.job.fraction() == pytest.approx(0.35)


def nice_values() -> dict[int, int]:
    """Thread id -> nice value, for every thread of this process (Linux)."""
    out = {}
    for tid in (int(p.name) for p in Path("/proc/self/task").iterdir()):
        try:
            out[tid] = os.getpriority(os.PRIO_PROCESS, tid)
        except OSError:   # the thread ended meanwhile
            pass
    return out


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="per-thread nice values are Linux's")
def test_a_job_yields_the_cpu_to_the_pages(tmp_path):
    """The job's thread, and the torch worker threads it starts, run at nice NICE, so the scheduler
    prefers the threads that serve pages; the server's own threads keep their priority."""
    import torch

    main_tid = threading.get_native_id()
    before = nice_values()
    seen = {}

    def work(corpus, settings, root, **hooks):
        torch.set_num_threads(2)                                   # let torch start a worker of its own
        a = torch.randn(400, 400)
        for _ in range(10):
            (a @ a).sum()
        seen["job"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        seen["threads"] = nice_values()
        return tmp_path

    threads = torch.get_num_threads()
    try:
        job = jobs.Jobs().start(grammar_corpus(), runs.Settings(n=8), tmp_path, work=work)
        while job.running:
            threading.Event().wait(0.05)
    finally:
        torch.set_num_threads(threads)
    assert job.state == "done", job.error
    assert seen["job"] == priority.NICE
    assert os.getpriority(os.PRIO_PROCESS, main_tid) == before[main_tid]       # the server's threads: unchanged
    started = {tid: nice for tid, nice in seen["threads"].items() if tid not in before}
    assert started and set(started.values()) == {priority.NICE}, started          # the job and its workers
