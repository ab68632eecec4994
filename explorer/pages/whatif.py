"""What if the model saw N sentences? Train one model on a corpus of your choice (the shipped ones or
your own text file), watch the loss fall, then see its train/test recovery beside the zoo's."""
import streamlit as st

from engine.corpus import Corpus, corpus_from_bytes, load_corpus
from engine.train import TrainConfig
from explorer import data, figures, runs, widgets

SOURCES = {"grammar": "grammar (synthetic language)", "pydocs": "pydocs (Python documentation)",
           "upload": "my own text file"}


@st.cache_resource(show_spinner="Reading the corpus...", max_entries=4)
def named_corpus(spec: str) -> Corpus:
    return load_corpus(spec)


@st.cache_resource(show_spinner="Reading your file...", max_entries=4)
def uploaded_corpus(name: str, file_id: str, _data: bytes) -> Corpus:
    """A corpus from an upload, cached per upload (``file_id``) rather than by hashing its bytes."""
    return corpus_from_bytes(name, _data)


def choose_corpus() -> Corpus | None:
    source = st.radio("Corpus", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="wi_source")
    try:
        if source != "upload":
            return named_corpus(source)
        f = st.file_uploader("A UTF-8 plain-text file: one sentence per line, or prose", key="wi_file",
                             max_upload_size=64,
                             help="Sentences longer than 15 words are skipped; at least 16 are needed.")
        if f is None:
            st.info("Upload a text file to train on your own sentences.")
            return None
        return uploaded_corpus(f.name, f.file_id, f.getvalue())
    except ValueError as e:  # engine messages say what is wrong with the file and what to do
        st.error(str(e))
        return None


def forget(path: str, corpus: str) -> None:
    """Drop what the caches hold about the runs directory and this run (it may replace an older one),
    so that every page and session sees it."""
    root = str(data.runs_root())
    data.entries.clear(root)
    data.transition.clear(root, corpus)
    for fn in (data.bundle, data.tables, data.summary):
        fn.clear(path)
    for split in ("train", "test", "generated"):
        data.sentences.clear(path, split)
    data.live_generations.clear()


def train(corpus: Corpus, settings: runs.Settings) -> None:
    """Train with a live status, progress bar and loss curve; releases the lock however it ends.

    Clicking Cancel (or any widget) stops this run: Streamlit raises inside its next st.* call (in
    ``progress`` below) — reading st.session_state counts as one too — so the ``finally`` touches only
    the plain ``job`` dict and the lock, and nothing has been written to disk at that point."""
    lock = runs.training_lock()
    if not lock.acquire(blocking=False):
        st.warning("another training is running on this server; wait for it to finish")
        return
    job = {"state": "running", "path": None, "corpus": corpus.name}
    try:
        st.session_state["wi_job"] = job
        cancel = st.empty()
        cancel.button("Cancel", icon=":material/stop_circle:", key="wi_cancel")
        history = []
        with st.status(f"Training on {settings.n:,} sentences of {corpus.name}...", expanded=True) as status:
            bar = st.progress(0.0, text="starting...")
            chart = st.empty()

            def progress(step: int, total: int, loss: float) -> None:
                history.append((step, loss))
                bar.progress(step / total, text=f"step {step:,} / {total:,} · loss {loss:.3f} nats/token")
                if len(history) % 4 == 1 or step == total:
                    chart.plotly_chart(runs.loss_figure(history, total), key=f"wi_loss_{step}")

            def on_stage(stage: str) -> None:
                status.update(label="Measuring recovery, entropy and generations (this finishes even if "
                                    "cancelled)...")

            try:
                path = runs.train_and_measure(corpus, settings, data.runs_root(), progress=progress,
                                              on_stage=on_stage)
            except (ValueError, OSError) as e:
                job["state"] = "failed"
                cancel.empty()
                status.update(label="Training failed", state="error")
                st.error(str(e))
                return
            job.update(state="done", path=str(path))
            forget(str(path), corpus.name)
            st.session_state["wi_last"] = str(path)
            cancel.empty()
            status.update(label=f"Trained and measured: {corpus.name}, N = {settings.n:,}", state="complete",
                          expanded=False)
    finally:
        if job["state"] == "running":
            job["state"] = "cancelled"
        lock.release()


def settle_previous_run(notice) -> None:
    """Say how this session's last training ended. When a click stops a training, Streamlit starts the
    new run at once while the old one is still winding down in its own thread: wait for it first."""
    job = st.session_state.get("wi_job")
    if job is None:
        return
    if job["state"] == "running":
        with notice, st.spinner("Stopping the training..."):
            lock = runs.training_lock()
            if lock.acquire(timeout=120):
                lock.release()
    if job["state"] == "running":   # still going (measuring a large run): look again next time
        return
    del st.session_state["wi_job"]
    if job["state"] == "cancelled":
        notice.info("Training was cancelled: nothing was written.", icon=":material/stop_circle:")
    elif job["state"] == "done":   # stopped after saving: the run is complete on disk
        forget(job["path"], job["corpus"])
        st.session_state["wi_last"] = job["path"]


def describe(b) -> str:
    c = b.config
    return f"d = {c.d_model}, {c.n_layers} layer{'s' if c.n_layers > 1 else ''}, {b.train_config.steps:,} steps"


def show_run(path: str) -> None:
    """Headline numbers of a run beside the zoo's models of the same corpus."""
    try:
        summary, b = data.summary(path), data.bundle(path)
        zoo_index = data.entries(str(data.zoo_root()))
    except ValueError as e:
        st.warning(f"Could not read the run in {path}: {e}")
        return
    corpus, n, t = summary["corpus"], summary["n"], runs.HEADLINE_T
    zoo_paths = list(zoo_index.loc[zoo_index["corpus"] == corpus, "path"])
    head = runs.headline(summary, t)
    st.subheader(f"Your model: {corpus}, N = {n:,}")
    cols = st.columns(3)
    for c, split in zip(cols, ("train", "test")):
        value = head.get(split, {}).get("recovery_rate")
        c.metric(f"{split} recovery at t = {t:g}", "n/a" if value is None else f"{value:.3f}")
    cols[2].markdown("Recovery: share of corrupted content tokens the model restores. Memorizing: train ≫ "
                     "test. Generalizing: the two meet.")
    mine = widgets.guard(data.transition, str(data.runs_root()), corpus)
    if zoo_paths:
        zoo = widgets.guard(data.transition, str(data.zoo_root()), corpus)
        st.caption(f"Your model: {describe(b)}. The zoo's: {describe(widgets.guard(data.bundle, zoo_paths[0]))}. "
                   "A smaller model, or fewer steps, memorizes less of the same N.")
        fig = figures.transition_figure(zoo, t, runs=mine, selected_n=n)
        where = "beside the zoo's models"
    else:
        st.caption(f"Your model: {describe(b)}. There is no zoo for this corpus: the figure shows your runs.")
        fig = figures.transition_figure(mine, t, selected_n=n)
        where = "(there is no zoo for this corpus)"
    widgets.figure(fig, f"whatif_{corpus}_n{n}", key="wi_transition")
    st.info(f"Your run now appears on the **Transition** page {where} as a purple diamond when "
            f"'{corpus}' is selected. Open it on the **Denoise** page with 'Side by side' to compare it "
            "with a zoo model on the same corrupted sentence.", icon=":material/info:")


def show_runs() -> None:
    """Every what-if run on disk; measure those without measurements."""
    index = widgets.guard(data.entries, str(data.runs_root()))
    if index.empty:
        return
    with st.expander(f"Your runs ({len(index)})", expanded=False):
        for row in index.itertuples():
            c1, c2 = st.columns([3, 1])
            try:
                head = runs.headline(data.summary(row.path))
                c1.markdown(f"**{row.corpus}**, N = {row.n:,}: train recovery "
                            f"{head.get('train', {}).get('recovery_rate', float('nan')):.3f}, test "
                            f"{head.get('test', {}).get('recovery_rate', float('nan')):.3f} (t = {runs.HEADLINE_T:g})")
                if c2.button("Show", key=f"wi_show_{row.path}"):
                    st.session_state["wi_last"] = row.path
            except ValueError:
                c1.markdown(f"**{row.corpus}**, N = {row.n:,}: not measured yet")
                if c2.button("Measure", key=f"wi_measure_{row.path}"):
                    with st.spinner("Measuring..."):
                        runs.measure(row.path, st.session_state.get("wi_measure", "standard"))
                    forget(row.path, row.corpus)
                    st.session_state["wi_last"] = row.path
                    st.rerun()


st.title("What if...?")
st.caption("Train your own model on the first N sentences of a corpus and see where it lands between "
           "memorizing and generalizing. Training runs on this server's CPU: the standard run (d = {}, "
           "{} layers, {:,} steps of {} sentences) takes about a minute on two cores, plus its measurements; "
           "'quick' or a smaller model is faster but learns less.".format(
               *runs.MODEL_SIZES["standard"][:2], runs.BUDGETS["standard"], TrainConfig().batch_size))
settle_previous_run(st.empty())   # always drawn, so that the widgets below keep their place
corpus = choose_corpus()
if corpus is not None:
    st.caption(f"{corpus.name}: {len(corpus.pool):,} training sentences available, {len(corpus.test):,} "
               f"held-out test sentences, vocabulary of {corpus.tokenizer.vocab_size:,} tokens.")
    c1, c2 = st.columns(2)
    n = c1.number_input("N: training sentences", min_value=1, value=min(64, len(corpus.pool)), step=1,
                        key="wi_n", help="The first N sentences of the shuffled pool (as in the zoo).")
    budget = c2.radio("Budget", list(runs.BUDGETS), horizontal=True, key="wi_budget",
                      format_func=lambda b: f"{b} — {runs.BUDGETS[b]:,} steps")
    with st.expander("Advanced"):
        a1, a2, a3, a4 = st.columns(4)
        size = a1.selectbox("Model size", list(runs.MODEL_SIZES), key="wi_size",
                            format_func=lambda s: "{} (d={}, {} layer{})".format(
                                s, *runs.MODEL_SIZES[s][:2], "s" if runs.MODEL_SIZES[s][1] > 1 else ""))
        steps = a2.number_input("Steps (0: use the budget)", min_value=0, max_value=20_000, value=0, step=50,
                                key="wi_steps")
        seed = a3.number_input("Seed", min_value=0, value=0, step=1, key="wi_seed")
        measure = a4.selectbox("Measurement", list(runs.MEASURES), key="wi_measure",
                               help="standard: 64 train + 64 test sentences, 2 trials, 5 levels; "
                                    "light: 16 + 16, 1 trial, 3 levels (faster).")
    settings = runs.Settings(n=int(n), steps=int(steps) or runs.BUDGETS[budget], size=size, seed=int(seed),
                             measure=measure)
    try:
        corpus.subset(int(n))
        fits = True
    except ValueError as e:
        st.error(str(e))
        fits = False
    if fits and st.button("Train and measure", type="primary", icon=":material/play_arrow:", key="wi_train"):
        train(corpus, settings)

if st.session_state.get("wi_last"):
    show_run(st.session_state["wi_last"])
show_runs()
