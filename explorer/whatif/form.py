"""What-if's form: the corpus (a shipped one or the user's own text file), its sequence length L, N,
the training budget and the Advanced settings, read into ``runs.Settings``.

Every widget is bound with ``state.bind``, so the choices are still there when the user comes back
from another page; Streamlit forgets an uploaded file with its page, so its bytes are kept in session
state (``wi_upload``) and used until another file is uploaded.

Above the N the default budget fits (``runs.DEFAULT_FITS_N``, measured: ``engine.measures.underfit``) the form
says so and offers the zoo's model and budget (with the time the zoo's model took to train) or the
zoo's own model nearest that N.
"""
from __future__ import annotations

import streamlit as st

from engine.text import corpora
from engine.text.corpus import MAX_SEQ_LEN, MIN_SEQ_LEN, Corpus, corpus_from_bytes, load_corpus
from engine.models.train import MAX_SEED
from explorer import data, state, widgets
from explorer.whatif import compare as run_compare, runs

SOURCES = {**{name: spec.label for name, spec in corpora.CORPORA.items()}, "upload": "my own text file"}
DEFAULT_N = 64


@st.cache_resource(show_spinner="Reading the corpus...", max_entries=4)
def named_corpus(spec: str, seq_len: int) -> Corpus:
    return load_corpus(spec, seq_len)


@st.cache_resource(show_spinner="Reading your file...", max_entries=4)
def uploaded_corpus(name: str, file_id: str, seq_len: int, _data: bytes) -> Corpus:
    """A corpus from an upload, cached per upload (``file_id``) rather than by hashing its bytes."""
    return corpus_from_bytes(name, _data, seq_len)


def choose_source() -> tuple[str, tuple[str, str, bytes] | None]:
    """The chosen source and, for 'upload', the uploaded file as (name, file id, bytes): the one just
    uploaded, else the one kept from earlier in this session (None until there is one)."""
    source = st.radio("Corpus", list(SOURCES), format_func=SOURCES.get, horizontal=True,
                      **state.bind("wi_source", options=list(SOURCES)))
    if source != "upload":
        return source, None
    f = st.file_uploader("A UTF-8 text file: one sentence per line, prose, Markdown or CSV", key="wi_file",
                         max_upload_size=64,
                         help="Sentences longer than L - 1 tokens (words and punctuation marks; L is the "
                              "sequence length in Advanced) are cut at clause boundaries; at least 16 "
                              "distinct sequences are needed. A CSV file's sentences are its wordiest column.")
    if f is not None:
        st.session_state["wi_upload"] = (f.name, f.file_id, f.getvalue())
    kept = st.session_state.get("wi_upload")
    if kept is None:
        st.info("Upload a text file to train on your own sentences.")
    elif f is None:
        st.caption(f"Using **{kept[0]}**, uploaded earlier in this session (upload another file to replace it).")
    return source, kept


def choose_seq_len(source: str) -> int:
    """The sequence length L, one widget per source so that each starts at its corpus's default."""
    default = state.PRIVATE[f"wi_seq_len_{source}"]
    return int(st.number_input("Sequence length L", min_value=MIN_SEQ_LEN, max_value=MAX_SEQ_LEN, step=1,
                               help=f"Tokens per sequence, the end token included (default {default}). "
                                    "Longer sentences are cut into pieces at clause boundaries; a model "
                                    "trained at another L is its own curve (named corpus@L32).",
                               **state.bind(f"wi_seq_len_{source}")))


def load(source: str, upload: tuple[str, str, bytes] | None, seq_len: int) -> Corpus | None:
    try:
        if source != "upload":
            return named_corpus(source, seq_len)
        return None if upload is None else uploaded_corpus(*upload[:2], seq_len, upload[2])
    except ValueError as e:  # engine messages say what is wrong with the file and what to do
        st.error(str(e))
        return None


def _minutes(seconds: float) -> str:
    return f"{seconds:,.0f} s" + (f" ≈ {seconds / 60:.0f} min" if seconds >= 120 else "")


def zoo_budget_label(corpus: str, n: int) -> str:
    """The 'zoo' budget's option: the zoo's model and budget, with the measured training time of the
    zoo's model nearest N."""
    s = runs.zoo_settings(corpus, n)
    d, layers, _ = runs.MODEL_SIZES[s.size]
    ref = run_compare.zoo_reference(str(data.zoo_root()), corpus, n)
    took = (f"; the zoo's N = {ref['n']:,} took {_minutes(ref['train_seconds'])} to train"
            if ref and ref.get("train_seconds") else "")
    return f"zoo — the zoo's model (d={d}, {layers} layers), {s.steps:,} steps of {s.batch_size}{took}"


def underfit_note(corpus: str, n: int, has_zoo: bool) -> None:
    """Above ``runs.DEFAULT_FITS_N``: say that the budget underfits, and offer the zoo's budget or the
    zoo's own model nearest N (a button that opens it on Transition)."""
    ref = run_compare.zoo_reference(str(data.zoo_root()), corpus, n) if has_zoo else None
    offer = (" Choose the **zoo** budget above to train as the zoo did, or look at the zoo's own model:"
             if ref else " There is no zoo for this corpus to compare with.")
    st.warning(f"**This budget does not fit N = {n:,} sentences.** Measured on grammar, the default run fits "
               f"up to N = {runs.DEFAULT_FITS_N}, but at N = 256 it ends at train loss 0.92 against the zoo's 0.54 "
               "and at N = 2,048 at 1.11 against 0.94: low train and test recovery that "
               f"looks like generalizing but is undertraining. Its result will be marked *underfit — not "
               f"comparable* when it is.{offer}", icon=":material/warning:")
    if ref and st.button(f"Show the zoo's model at N = {ref['n']:,} on Transition (already trained and measured)",
                         icon=":material/trending_up:", key="wi_zoo_model"):
        state.update(corpus=corpus, n=ref["n"])
        widgets.go_to("transition")


def form() -> tuple[Corpus, runs.Settings] | None:
    """Draw the form; the corpus and the settings once a corpus is loaded and N fits it, else None."""
    source, upload = choose_source()
    main, advanced = st.container(), st.expander("Advanced")
    with advanced:   # drawn below the main settings, read first: the corpus depends on L
        a0, a1, a2, a3, a4 = st.columns(5)
        with a0:
            seq_len = choose_seq_len(source)
    with main:
        corpus = load(source, upload, seq_len)
    if corpus is None:
        return None
    main.caption(f"{corpus.name}: {len(corpus.pool):,} training sentences available, {len(corpus.test):,} "
                 f"held-out test sentences, vocabulary of {corpus.tokenizer.vocab_size:,} tokens.")
    if corpus.report:
        main.caption(corpus.report)
    c1, c2 = main.columns(2)
    n = c1.number_input("N: training sentences", min_value=1, step=1,
                        help="The first N sentences of the shuffled pool (as in the zoo).",
                        **state.bind("wi_n", default=min(DEFAULT_N, len(corpus.pool))))
    has_zoo = corpus.name in _zoo_corpora() and runs.zoo_settings(corpus.name, int(n)) is not None
    budgets = list(runs.BUDGETS) + ([runs.ZOO_BUDGET] if has_zoo else [])
    budget = c2.radio("Budget", budgets, **state.bind("wi_budget", options=budgets),
                      format_func=lambda b: zoo_budget_label(corpus.name, int(n)) if b == runs.ZOO_BUDGET
                      else runs.budget_label(b))
    size = a1.selectbox("Model size", list(runs.MODEL_SIZES), **state.bind("wi_size", options=list(runs.MODEL_SIZES)),
                        format_func=runs.size_label)
    if size in runs.SIZE_NOTES:
        advanced.warning(f"The {size} model {runs.SIZE_NOTES[size]}.", icon=":material/warning:")
    steps = a2.number_input("Steps (0: use the budget)", min_value=0, max_value=20_000, step=50,
                            **state.bind("wi_steps"))
    # max_value: seeds are 32-bit (engine.models.train.MAX_SEED), so the browser's float64 number keeps them
    # exact; above 2^53 it would round, and Streamlit would replace the value by the minimum, 0.
    seed = a3.number_input("Seed", min_value=0, max_value=MAX_SEED, **state.bind("wi_seed"), step=1,
                           help=f"A whole number from 0 to {MAX_SEED:,}.")
    measure = a4.selectbox("Measurement", list(runs.MEASURES), **state.bind("wi_measure", options=list(runs.MEASURES)),
                           help="; ".join(f"{m}: {runs.measure_about(m)}" for m in runs.MEASURES))
    try:
        corpus.subset(int(n))
    except ValueError as e:
        st.error(str(e))
        return None
    if budget == runs.ZOO_BUDGET:
        main.caption("The zoo's budget sets the model size and the steps (Advanced's are not used).")
        return corpus, runs.zoo_settings(corpus.name, int(n), seed=int(seed), measure=measure)
    if int(n) > runs.DEFAULT_FITS_N:
        with main:
            underfit_note(corpus.name, int(n), has_zoo)
    return corpus, runs.Settings(n=int(n), steps=int(steps) or runs.BUDGETS[budget], size=size, seed=int(seed),
                                 measure=measure)


def _zoo_corpora() -> set[str]:
    try:
        return set(data.entries(str(data.zoo_root()))["corpus"])
    except (ValueError, OSError):
        return set()
