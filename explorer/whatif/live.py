"""What-if's view of the server's job (``explorer.whatif.jobs``): start it, watch it live (also after leaving
the page and coming back), cancel it, and say how it ended."""
from __future__ import annotations

import streamlit as st

from engine.text.corpus import Corpus
from explorer import data
from explorer.whatif import jobs, runs
from explorer.figures import loss_curve

LIVE_EVERY = 3   # seconds between refreshes of the live panel (as jobs.STATUS_EVERY)


def start(corpus: Corpus, settings: runs.Settings) -> None:
    """Start the run on the server and rerun the whole script, so that the sidebar's status line (drawn
    before the page) shows it at once; or say who is running one and how far along it is."""
    try:
        jobs.registry().start(corpus, settings, data.runs_root(), owner=jobs.session_id())
    except jobs.Busy as e:
        st.warning(f"One training at a time on this server: {jobs.who(e.job)} started one "
                   f"{e.job.elapsed():.0f} s ago — {e.job.line()} ({e.job.fraction():.0%}). "
                   "Wait for it to finish (the sidebar shows its progress).", icon=":material/hourglass_top:")
        return
    st.rerun()


def panel() -> None:
    """The server's what-if job as this session sees it: live progress (refreshed every ``LIVE_EVERY``
    seconds while it runs), the loss curve and a Cancel button; how it ended."""
    job = jobs.registry().current()
    if job is None:
        return
    if job.running:
        st.session_state["wi_watch"] = job.id
        st.fragment(run_every=LIVE_EVERY)(_live)()
        return
    if st.session_state.pop("wi_watch", None) == job.id:   # it ended since this session last looked
        st.session_state["wi_ended"] = job.id
        if job.state == "done":
            st.session_state["wi_last"] = job.path
    if st.session_state.get("wi_ended") == job.id:
        _ended(job)


def _live() -> None:
    job = jobs.registry().current()
    if job is None or not job.running:
        if job is not None and st.session_state.get("wi_watch") == job.id:
            st.rerun()   # the whole page: the result, the runs list, the sidebar's announcement
        return
    with st.container(border=True):
        st.markdown(f"**{job.line()}** · started by {jobs.who(job)}, {job.elapsed():.0f} s ago")
        st.progress(job.fraction(), text="training" if job.stage == "training" else
                    f"measuring: {', '.join(runs.MEASURED)}")
        if job.history:
            st.image(loss_curve.loss_svg(job.history, job.total or job.settings.steps))
        st.caption("The run belongs to the server: it goes on if you open another page (the sidebar shows "
                   "how far it is). Cancelling stops training at once (nothing is written) or measuring "
                   "between two tables (the trained model is kept, unmeasured).")
        if st.button("Cancel", icon=":material/stop_circle:", key="wi_cancel"):
            job.cancel()
            st.toast("Cancelling...")


def _ended(job: jobs.Job) -> None:
    seconds = f"{job.elapsed():.0f} s"
    if job.state == "done":
        t = job.timings
        split = f"train {t.get('train', 0):.0f} s + measure {sum(v for k, v in t.items() if k != 'train'):.0f} s"
        st.success(f"Trained and measured {job.corpus}, N = {job.n:,} in {seconds} ({split}).",
                   icon=":material/check_circle:")
    elif job.state == "cancelled":
        st.info("Training was cancelled: nothing was written." if job.stage == "training" else
                "Measuring was cancelled: the trained model is kept, unmeasured (see 'Your runs').",
                icon=":material/stop_circle:")
    else:
        st.error(f"The run failed: {job.error}")
