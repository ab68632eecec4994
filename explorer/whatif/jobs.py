"""What-if jobs: a training and its measurements run by the server, not by a page.

One process-wide ``Jobs`` object (``registry()``, behind ``st.cache_resource``) holds the running job
and the last one that ended. A job runs ``runs.train_and_measure`` in a background thread, so it
keeps going when its page is left or its session closes; pages only start it and draw its state.
That thread runs at a lower priority (``explorer.priority``), so pages stay quick while it trains.
One job at a time per server: ``Jobs.start`` raises ``Busy`` (with the running job, to say who runs
it and how far along it is) while another runs.

Cancelling sets a flag that the training's progress callback and the measuring's stage callback
read; they raise ``Cancelled`` there. Training writes nothing before it has finished
(``engine.runs.sweep.train_entry``), so a job cancelled while training leaves nothing on disk; one
cancelled while measuring stops between two tables and leaves its checkpoint indexed but unmeasured
(the What-if page offers to measure it).

``execute`` is the thread's body and runs without Streamlit (``benchmarks/bench_whatif.py``);
``sidebar_status`` is the status line the app draws on every page.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from explorer.priority import lower_priority

if TYPE_CHECKING:   # torch: imported when a job runs, not with the app (its home page is torch-free)
    from engine.text.corpus import Corpus
    from explorer.whatif import runs

WHATIF_PAGE, TRANSITION_PAGE = "explorer/pages/whatif.py", "explorer/pages/transition.py"
_ids = itertools.count(1)


class Cancelled(Exception):
    """Raised inside a job's callbacks once its cancel flag is set."""


@dataclass
class Job:
    """One what-if run: what was asked, who asked, and how far it has got.

    ``stage``: 'training' or 'measuring' while running; ``state``: 'running', 'done', 'failed' or
    'cancelled'. ``history``: (step, loss in nats/token) pairs; ``timings``: seconds per stage
    ('train', then one per measured table)."""

    corpus: str
    settings: runs.Settings
    owner: str = ""                       # the Streamlit session id that started it
    id: int = field(default_factory=lambda: next(_ids))
    started: float = field(default_factory=time.time)
    state: str = "running"
    stage: str = "training"
    step: int = 0
    total: int = 0
    history: list = field(default_factory=list)
    measuring: tuple[str, int, int] | None = None    # (table, i, count), i counted from 0
    timings: dict = field(default_factory=dict)
    error: str | None = None
    path: str | None = None
    finished: float | None = None
    cancel_flag: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def n(self) -> int:
        return self.settings.n

    def fraction(self) -> float:
        """How far along, in [0, 1]: training is the first 70 %, measuring the rest."""
        if not self.running:
            return 1.0
        if self.stage == "training":
            return 0.7 * self.step / max(self.total or self.settings.steps, 1)
        _, i, count = self.measuring or ("", 0, 1)
        return 0.7 + 0.3 * i / max(count, 1)

    def line(self) -> str:
        """One line for people: 'Training grammar N = 64 · step 600/1,200 · loss 0.410' or
        'Measuring 3/5: entropy', or how it ended."""
        what = f"{self.corpus} N = {self.n:,}"
        if self.state == "done":
            return f"Trained and measured {what}"
        if self.state == "cancelled":
            return f"Cancelled: {what}"
        if self.state == "failed":
            return f"Failed: {what}: {self.error}"
        if self.stage == "measuring":
            name, i, count = self.measuring or ("starting", 0, 1)
            return f"Measuring {what} · {i + 1}/{count}: {name}"
        loss = f" · loss {self.history[-1][1]:.3f}" if self.history else ""
        return f"Training {what} · step {self.step:,}/{self.total or self.settings.steps:,}{loss}"

    def elapsed(self) -> float:
        return (self.finished or time.time()) - self.started

    def cancel(self) -> None:
        self.cancel_flag.set()


class Busy(RuntimeError):
    """A job is already running on this server (``job``)."""

    def __init__(self, job: Job):
        self.job = job
        super().__init__(f"a what-if run is already running on this server: {job.line()}")


def execute(job: Job, corpus: Corpus, root: str | Path, work: Callable | None = None) -> Job:
    """Run ``job`` here and now (the thread's body): train, measure, index; record progress, stage
    timings and how it ended on ``job``. Never raises: the error is kept on the job."""
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        job.timings[name] = job.timings.get(name, 0.0) + now - clock[0]
        clock[0] = now

    def progress(step: int, total: int, loss: float) -> None:
        if job.cancel_flag.is_set():
            raise Cancelled
        job.step, job.total = step, total
        job.history.append((step, loss))

    def on_stage(stage: str) -> None:
        if job.cancel_flag.is_set():
            raise Cancelled
        lap("train")
        job.stage = "measuring"

    def on_measure(name: str, i: int, count: int) -> None:
        if job.measuring is not None:
            lap(job.measuring[0])
        if job.cancel_flag.is_set():
            raise Cancelled
        job.measuring = (name, i, count)

    try:
        from explorer.whatif import runs

        work = work or runs.train_and_measure   # looked up now: tests wrap it
        job.path = str(work(corpus, job.settings, root, progress=progress, on_stage=on_stage,
                            on_measure=on_measure))
        if job.measuring is not None:
            lap(job.measuring[0])
        job.state = "done"
    except Cancelled:
        job.state = "cancelled"
    except Exception as e:   # shown on the page; engine messages say what to do
        job.error, job.state = str(e) or type(e).__name__, "failed"
    finally:
        job.finished = time.time()
    return job


def _in_background(job: Job, corpus: Corpus, root: str | Path, work: Callable | None) -> Job:
    lower_priority()
    return execute(job, corpus, root, work)


class Jobs:
    """The server's what-if jobs: the running one (at most one) and the last that ended."""

    def __init__(self):
        self._lock = threading.Lock()
        self.job: Job | None = None

    def start(self, corpus: Corpus, settings: runs.Settings, root: str | Path, owner: str = "",
              work: Callable | None = None) -> Job:
        """Start a job in a background thread; Busy while another one runs."""
        with self._lock:
            if self.job is not None and self.job.running:
                raise Busy(self.job)
            job = self.job = Job(corpus.name, settings, owner=owner)
        threading.Thread(target=_in_background, args=(job, corpus, root, work), daemon=True,
                         name=f"what-if {job.id}").start()
        return job

    def current(self) -> Job | None:
        """The running job, or the last one that ended (None before the first)."""
        return self.job

    def wait(self, timeout: float | None = None) -> Job | None:
        """Wait until no job runs (tests, benchmarks); returns the last job."""
        end = None if timeout is None else time.time() + timeout
        while self.job is not None and self.job.running and (end is None or time.time() < end):
            time.sleep(0.05)
        return self.job


@st.cache_resource(show_spinner=False)
def registry() -> Jobs:
    """The one job registry of this server process (shared by every session)."""
    return Jobs()


def session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def who(job: Job) -> str:
    """'you' or 'another session', for the job's starter as seen from this session."""
    return "you" if job.owner and job.owner == session_id() else "another session"


# seconds between refreshes of the sidebar's status line: each refresh is a script run on the server
# and a redraw in the browser, and on a 2-core machine they slow the training they report on
STATUS_EVERY = 3


def sidebar_status(live: bool = True) -> None:
    """The sidebar's status line on every page: the running job with a progress bar (refreshed every
    ``STATUS_EVERY`` seconds), and once it has ended a toast (once per session that saw it run) and links
    to look at it. ``live=False`` (the What-if page, whose own panel shows the same progress) names the
    running job without a bar or a refresh of its own: a second refresh would take CPU from the training."""
    job = registry().current()
    if job is None:
        return
    with st.sidebar:
        if job.running and live:
            st.fragment(run_every=STATUS_EVERY)(_status)()
        else:
            _status(live)


def _status(live: bool = True) -> None:
    job = registry().current()
    if job is None:
        return
    seen = st.session_state.setdefault("jobs_seen", set())
    if job.running:
        seen.add(job.id)
        if live:
            st.progress(job.fraction(), text=f"{job.line()} · started by {who(job)}")
        else:
            st.caption(f"{job.stage.capitalize()} {job.corpus} N = {job.n:,} · started by {who(job)} · "
                       "its progress is on this page")
        return
    if job.id in seen:   # announced once, to the sessions that saw it run
        seen.discard(job.id)
        st.session_state["jobs_ended"] = job.id
        if job.state == "done":
            st.toast(f"What-if run finished: {job.corpus}, N = {job.n:,}. See it on What-if or Transition.",
                     icon=":material/check_circle:")
        else:
            st.toast(job.line(), icon=":material/error:" if job.state == "failed" else ":material/stop_circle:")
    if st.session_state.get("jobs_ended") == job.id:
        st.caption(f"{job.line()} ({job.elapsed():.0f} s)")
        if job.state == "done":
            st.page_link(WHATIF_PAGE, label="See it on What-if", icon=":material/science:")
            st.page_link(TRANSITION_PAGE, label="See it on Transition", icon=":material/trending_up:")
