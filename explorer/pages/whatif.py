"""What if the model saw N sentences? Train one model on a corpus of your choice (the shipped ones or
your own text file), at a sequence length of your choice, watch the loss fall, then see its
train/test recovery beside the zoo's."""
import streamlit as st

from engine import corpora
from engine.corpus import MAX_SEQ_LEN, MIN_SEQ_LEN, SEQ_LEN, Corpus, corpus_from_bytes, load_corpus
from engine.train import TrainConfig
from explorer import data, jobs, runs, widgets
from explorer import transition_figures as tf

SOURCES = {**{name: spec.label for name, spec in corpora.CORPORA.items()}, "upload": "my own text file"}


@st.cache_resource(show_spinner="Reading the corpus...", max_entries=4)
def named_corpus(spec: str, seq_len: int) -> Corpus:
    return load_corpus(spec, seq_len)


@st.cache_resource(show_spinner="Reading your file...", max_entries=4)
def uploaded_corpus(name: str, file_id: str, seq_len: int, _data: bytes) -> Corpus:
    """A corpus from an upload, cached per upload (``file_id``) rather than by hashing its bytes."""
    return corpus_from_bytes(name, _data, seq_len)


def choose_source() -> tuple[str, object]:
    """The chosen source and, for 'upload', the uploaded file (None until there is one)."""
    source = st.radio("Corpus", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="wi_source")
    if source != "upload":
        return source, None
    f = st.file_uploader("A UTF-8 text file: one sentence per line, prose, Markdown or CSV", key="wi_file",
                         max_upload_size=64,
                         help="Sentences longer than L - 1 tokens (words and punctuation marks; L is the "
                              "sequence length in Advanced) are cut at clause boundaries; at least 16 "
                              "distinct sequences are needed. A CSV file's sentences are its wordiest column.")
    if f is None:
        st.info("Upload a text file to train on your own sentences.")
    return source, f


def choose_seq_len(source: str) -> int:
    """The sequence length L, one widget per source so that each starts at its corpus's default."""
    spec = corpora.CORPORA.get(source)
    default = spec.seq_len if spec is not None else SEQ_LEN
    return int(st.number_input("Sequence length L", min_value=MIN_SEQ_LEN, max_value=MAX_SEQ_LEN,
                               value=default, step=1, key=f"wi_seq_len_{source}",
                               help=f"Tokens per sequence, the end token included (default {default}). "
                                    "Longer sentences are cut into pieces at clause boundaries; a model "
                                    "trained at another L is its own curve (named corpus@L32)."))


def load(source: str, upload, seq_len: int) -> Corpus | None:
    try:
        if source != "upload":
            return named_corpus(source, seq_len)
        return None if upload is None else uploaded_corpus(upload.name, upload.file_id, seq_len, upload.getvalue())
    except ValueError as e:  # engine messages say what is wrong with the file and what to do
        st.error(str(e))
        return None


def job_panel() -> None:
    """The server's what-if job as this session sees it: live progress (refreshed every second while
    it runs, also after leaving and coming back), the loss curve and a Cancel button; how it ended."""
    job = jobs.registry().current()
    if job is None:
        return
    if job.running:
        st.session_state["wi_watch"] = job.id
        st.fragment(run_every=1)(live)()
        return
    if st.session_state.pop("wi_watch", None) == job.id:   # it ended since this session last looked
        st.session_state["wi_ended"] = job.id
        if job.state == "done":
            st.session_state["wi_last"] = job.path
    if st.session_state.get("wi_ended") == job.id:
        ended(job)


def live() -> None:
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
            st.plotly_chart(runs.loss_figure(job.history, job.total or job.settings.steps), key="wi_loss")
        st.caption("The run belongs to the server: it goes on if you open another page (the sidebar shows "
                   "how far it is). Cancelling stops training at once (nothing is written) or measuring "
                   "between two tables (the trained model is kept, unmeasured).")
        if st.button("Cancel", icon=":material/stop_circle:", key="wi_cancel"):
            job.cancel()
            st.toast("Cancelling...")


def ended(job) -> None:
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


def start(corpus: Corpus, settings: runs.Settings) -> None:
    """Start the run on the server, or say who is running one and how far along it is."""
    try:
        jobs.registry().start(corpus, settings, data.runs_root(), owner=jobs.session_id())
    except jobs.Busy as e:
        st.warning(f"One training at a time on this server: {jobs.who(e.job)} started one "
                   f"{e.job.elapsed():.0f} s ago — {e.job.line()} ({e.job.fraction():.0%}). "
                   "Wait for it to finish (the sidebar shows its progress).", icon=":material/hourglass_top:")


def show_run(path: str) -> None:
    """Headline numbers of a run beside the zoo's models of the same corpus, marked as the zoo's
    setting or another one (``runs.compare``), with the runs' 95 % intervals."""
    try:
        summary = data.summary(path)
    except ValueError as e:
        st.warning(f"Could not read the run in {path}: {e}")
        return
    corpus, n, t = summary["corpus"], summary["n"], runs.HEADLINE_T
    head = runs.headline(summary, t)
    st.subheader(f"Your model: {corpus}, N = {n:,}")
    cols = st.columns(3)
    for c, split in zip(cols, ("train", "test")):
        value = head.get(split, {}).get("recovery_rate")
        c.metric(f"{split} recovery at t = {t:g}", "n/a" if value is None else f"{value:.3f}")
    cols[2].markdown("Recovery: share of corrupted content tokens the model restores. Memorizing: train ≫ "
                     "test. Generalizing: the two meet.")
    runs_root, zoo_root = str(data.runs_root()), str(data.zoo_root())
    mine = widgets.guard(data.transition, runs_root, corpus)
    comparison = runs.compare(runs_root, zoo_root, corpus)
    this = comparison[comparison["n"] == n]
    try:
        has_zoo = corpus in set(data.entries(zoo_root)["corpus"])
    except ValueError:
        has_zoo = False
    if len(this):
        row = this.iloc[0]
        say = st.caption if row["matches"] else st.warning
        say(f"Your model: {row['label']}." + ("" if row["matches"] or not has_zoo else
            " Its point is drawn in orange: compare it with the zoo's curve as a different setting, not as "
            "the zoo's model at this N (fewer steps or a smaller model memorize less of the same N)."))
    measured = summary.get("measure_config", {})
    st.caption(f"Measured on fewer sentences than the zoo ({runs.measure_about(_preset(measured))}): the "
               "bars are 95 % intervals of the mean, wider for what-if runs.")
    base = widgets.guard(data.transition, zoo_root, corpus) if has_zoo else mine
    fig = tf.transition_figure(base, t, selected_n=n)
    runs.run_traces(fig, mine, comparison, t)
    widgets.figure(fig, f"whatif_{corpus}_n{n}", key="wi_transition")
    where = "beside the zoo's models" if has_zoo else "(there is no zoo for this corpus)"
    st.info(f"Your run now appears on the **Transition** page {where} as a diamond when "
            f"'{corpus}' is selected. Open it on the **Denoise** page with 'Side by side' to compare it "
            "with a zoo model on the same corrupted sentence.", icon=":material/info:")


def _preset(measured: dict) -> str:
    """The MEASURES preset a summary's measure_config came from ('standard' if none matches)."""
    for name, cfg in runs.MEASURES.items():
        if measured.get("n_train") == cfg.n_train and list(measured.get("levels", [])) == list(cfg.levels):
            return name
    return "standard"


def show_runs() -> None:
    """Every what-if run on disk; measure those without measurements (with a progress bar by table)."""
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
                    bar = st.progress(0.0, text="Measuring...")
                    runs.measure(row.path, st.session_state.get("wi_measure", "standard"),
                                 progress=lambda name, i, count: bar.progress(
                                     i / count, text=f"Measuring {i + 1}/{count}: {name}"))
                    st.session_state["wi_last"] = row.path
                    st.rerun()


st.title("What if...?")
st.caption("Train your own model on the first N sentences of a corpus and see where it lands between "
           "memorizing and generalizing. Training runs on this server's CPU, one run at a time: the "
           "standard run (d = {}, {} layers, {:,} steps of {} sentences) takes about a minute on two cores, "
           "measurements included; a smaller model is faster but learns less.".format(
               *runs.MODEL_SIZES["standard"][:2], runs.BUDGETS["standard"], TrainConfig().batch_size))
source, upload = choose_source()
main, advanced = st.container(), st.expander("Advanced")
with advanced:   # drawn below the main settings, read first: the corpus depends on L
    a0, a1, a2, a3, a4 = st.columns(5)
    with a0:
        seq_len = choose_seq_len(source)
with main:
    corpus = load(source, upload, seq_len)
if corpus is not None:
    main.caption(f"{corpus.name}: {len(corpus.pool):,} training sentences available, {len(corpus.test):,} "
                 f"held-out test sentences, vocabulary of {corpus.tokenizer.vocab_size:,} tokens.")
    if corpus.report:
        main.caption(corpus.report)
    c1, c2 = main.columns(2)
    n = c1.number_input("N: training sentences", min_value=1, value=min(64, len(corpus.pool)), step=1,
                        key="wi_n", help="The first N sentences of the shuffled pool (as in the zoo).")
    budget = c2.radio("Budget", list(runs.BUDGETS), key="wi_budget", format_func=runs.budget_label)
    with advanced:
        size = a1.selectbox("Model size", list(runs.MODEL_SIZES), key="wi_size",
                            format_func=lambda s: "{} (d={}, {} layer{})".format(
                                s, *runs.MODEL_SIZES[s][:2], "s" if runs.MODEL_SIZES[s][1] > 1 else ""))
        steps = a2.number_input("Steps (0: use the budget)", min_value=0, max_value=20_000, value=0, step=50,
                                key="wi_steps")
        seed = a3.number_input("Seed", min_value=0, value=0, step=1, key="wi_seed")
        measure = a4.selectbox("Measurement", list(runs.MEASURES), key="wi_measure",
                               help="; ".join(f"{m}: {runs.measure_about(m)}" for m in runs.MEASURES))
    settings = runs.Settings(n=int(n), steps=int(steps) or runs.BUDGETS[budget], size=size, seed=int(seed),
                             measure=measure)
    try:
        corpus.subset(int(n))
        fits = True
    except ValueError as e:
        st.error(str(e))
        fits = False
    if fits and st.button("Train and measure", type="primary", icon=":material/play_arrow:", key="wi_train"):
        start(corpus, settings)

job_panel()
if st.session_state.get("wi_last"):
    show_run(st.session_state["wi_last"])
show_runs()
