"""What-if's form: the corpus (a shipped one or the user's own text file), its sequence length L, N,
the training budget and the Advanced settings, read into ``runs.Settings``.

Every widget is bound with ``state.bind``, so the choices are still there when the user comes back
from another page (an uploaded file is the one exception: Streamlit forgets it with its page).
"""
from __future__ import annotations

import streamlit as st

from engine import corpora
from engine.corpus import MAX_SEQ_LEN, MIN_SEQ_LEN, Corpus, corpus_from_bytes, load_corpus
from explorer import runs, state

SOURCES = {**{name: spec.label for name, spec in corpora.CORPORA.items()}, "upload": "my own text file"}
DEFAULT_N = 64


@st.cache_resource(show_spinner="Reading the corpus...", max_entries=4)
def named_corpus(spec: str, seq_len: int) -> Corpus:
    return load_corpus(spec, seq_len)


@st.cache_resource(show_spinner="Reading your file...", max_entries=4)
def uploaded_corpus(name: str, file_id: str, seq_len: int, _data: bytes) -> Corpus:
    """A corpus from an upload, cached per upload (``file_id``) rather than by hashing its bytes."""
    return corpus_from_bytes(name, _data, seq_len)


def choose_source() -> tuple[str, object]:
    """The chosen source and, for 'upload', the uploaded file (None until there is one)."""
    source = st.radio("Corpus", list(SOURCES), format_func=SOURCES.get, horizontal=True,
                      **state.bind("wi_source", options=list(SOURCES)))
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
    default = state.PRIVATE[f"wi_seq_len_{source}"]
    return int(st.number_input("Sequence length L", min_value=MIN_SEQ_LEN, max_value=MAX_SEQ_LEN, step=1,
                               help=f"Tokens per sequence, the end token included (default {default}). "
                                    "Longer sentences are cut into pieces at clause boundaries; a model "
                                    "trained at another L is its own curve (named corpus@L32).",
                               **state.bind(f"wi_seq_len_{source}")))


def load(source: str, upload, seq_len: int) -> Corpus | None:
    try:
        if source != "upload":
            return named_corpus(source, seq_len)
        return None if upload is None else uploaded_corpus(upload.name, upload.file_id, seq_len, upload.getvalue())
    except ValueError as e:  # engine messages say what is wrong with the file and what to do
        st.error(str(e))
        return None


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
    budget = c2.radio("Budget", list(runs.BUDGETS), format_func=runs.budget_label,
                      **state.bind("wi_budget", options=list(runs.BUDGETS)))
    size = a1.selectbox("Model size", list(runs.MODEL_SIZES), **state.bind("wi_size", options=list(runs.MODEL_SIZES)),
                        format_func=runs.size_label)
    if size in runs.SIZE_NOTES:
        advanced.warning(f"The {size} model {runs.SIZE_NOTES[size]}.", icon=":material/warning:")
    steps = a2.number_input("Steps (0: use the budget)", min_value=0, max_value=20_000, step=50,
                            **state.bind("wi_steps"))
    seed = a3.number_input("Seed", min_value=0, **state.bind("wi_seed"), step=1)
    measure = a4.selectbox("Measurement", list(runs.MEASURES), **state.bind("wi_measure", options=list(runs.MEASURES)),
                           help="; ".join(f"{m}: {runs.measure_about(m)}" for m in runs.MEASURES))
    try:
        corpus.subset(int(n))
    except ValueError as e:
        st.error(str(e))
        return None
    return corpus, runs.Settings(n=int(n), steps=int(steps) or runs.BUDGETS[budget], size=size, seed=int(seed),
                                 measure=measure)
