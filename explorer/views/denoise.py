"""The Denoise page's parts: where the sentence comes from (a training or test example, or a typed
sentence kept in the URL), the second model of side by side, the words for where a run ended (with
the grammar's verdict on x̂), and the search for a seed on which two models end differently. Each part
is handed the loaded model (``explorer.model.Model``) the page loaded; widgets keep their values with
``state.bind``."""
from __future__ import annotations

import dataclasses
import math

import streamlit as st

from engine.measures import outcome as oc
from engine.diffusion.step import STEP_LABELS

from explorer import model, state, widgets
from explorer.model import Model
from explorer.views import partners
from explorer import trajectory as tj

SOURCES = {"train": "a training example", "test": "a test example", "text": "my own sentence"}


def slider_level(t: float) -> float:
    """The shared level t as a value of the slider (0.01 .. 1 in steps of 0.01); the default level
    for one that is not a finite number."""
    t = float(t) if math.isfinite(t) else state.DEFAULTS["t"]
    return min(max(round(t, 2), 0.01), 1.0)


def choose_x0(b: Model) -> list[int]:
    """The clean sequence x0 (L token ids): the shared example of the chosen split, or the typed
    sentence (``?text=...``); stops the page with a message when there is none."""
    L = b.config.seq_len
    c1, c2 = st.columns([1, 2])
    source = c1.radio("Start from", list(SOURCES), format_func=SOURCES.get, **state.bind("dn_source", "source"))
    if source == "text":
        text = c2.text_input("Your sentence", placeholder="e.g. a poet admires the pilots",
                             help=f"At most {L - 1} words and punctuation marks; words outside the model's "
                                  "vocabulary become `<unk>`. The link keeps the sentence.", **state.bind("dn_text", "text"))
        if not text.strip():
            st.info("Type a sentence to corrupt and denoise.")
            st.stop()
        try:
            ids, unknown = tj.encode_sentence(b.tokenizer, text, L)
        except ValueError as e:
            st.error(f"This sentence cannot be used: {e}.")
            st.stop()
        if unknown:
            st.warning("Not in this model's vocabulary (each becomes `<unk>`, which the model never saw in a "
                       f"sentence): {', '.join(f'“{tj.escape_markdown(tj.shorten(w))}”' for w in unknown)}.",
                       icon=":material/help:")
        return ids
    sentences = b.sentences(source)
    if not sentences:
        st.error(f"This model has no {source} sentences.")
        st.stop()
    shown = min(max(int(state.get("example")), 0), len(sentences) - 1)
    example = c2.number_input(f"Example (0 – {len(sentences) - 1})", min_value=0, max_value=len(sentences) - 1,
                              step=1, **state.bind("dn_example", "example", shown=shown))
    c2.markdown(f"x0 = “{tj.escape_markdown(sentences[example])}”")
    return (b.train_ids if source == "train" else b.test_ids)[int(example)].tolist()


def choose_partner(entry: widgets.Entry, b: Model, step: str) -> tuple[str, Model, str | None, str] | None:
    """The second run of side by side as (label, loaded model, ideal reference or None, its reverse
    step), or None (with an error) when it cannot start from the same corrupted sequence. ``step`` is
    the first run's step; ``b`` the model of ``entry``."""
    cands = partners.candidates(entry, step)
    labels = dict(zip(cands["key"], cands["label"]))
    pick = st.selectbox("Second model", list(labels), format_func=labels.get,
                        help="The same model with the other reverse step, another model, or an exact ideal "
                             "denoiser: the ideal memorizer knows only these N training sentences, the ideal "
                             "generalizer the whole language.",
                        **state.bind("dn_partner", options=list(labels), default=partners.default_choice(entry, cands)))
    other_step = partners.step_of(pick)
    if other_step is not None:
        return f"N = {b.n:,}, {STEP_LABELS[other_step]}", b, None, other_step
    reference = partners.reference_of(pick)
    if reference is not None:
        label = partners.IDEAL_LABELS[reference] + (f", N = {b.n:,}" if reference == "memorizer" else "")
        return label, b, reference, step
    other = widgets.guard(model.load, pick)
    if not tj.same_vocabulary(b.tokenizer, other.tokenizer) or other.config.seq_len != b.config.seq_len:
        st.error(f"{labels[pick]} has a different vocabulary or sequence length than {widgets.entry_label(entry)}: "
                 "they cannot start from the same corrupted sequence. Choose a model trained on the same corpus.")
        return None
    return f"N = {other.n:,}", other, None, step


def verdict(out: oc.Outcome) -> str:
    """The membership oracle's verdict on x̂ in words ('' where the corpus has no oracle)."""
    if out.valid is None:
        return ""
    return " · ✓ **a sentence of the grammar**" if out.valid else " · ✗ **not a sentence of the grammar**"


def show_outcome(b: Model, r: tj.Run, container=None) -> oc.Outcome:
    """Where the run of the model ``b`` ended, in words, with x̂ (its tokens that differ from x0 in red)
    and, for the grammar, whether x̂ is a sentence of the language; returns the outcome."""
    c = container or st
    out = partners.outcome(b, r)
    sentence = b.sentences("train")
    if out.kind == "recovered" and not r.changed()[r.content()].any():
        c.info("**Nothing to recover**: the seed changed none of x0's words, and x̂ = x0. This says nothing "
               "about the basin.", icon=":material/block:")
    elif out.kind == "recovered":
        where = f"x0 is training example {out.index}" if out.index is not None else "x0 is not a training sentence"
        c.success(f"**Recovered x0 exactly** ({where}).", icon=":material/check_circle:")
    elif out.kind == "other_basin":
        c.warning(f"**Fell into another training sentence's basin**: x̂ is training example {out.index}, "
                  f"“{tj.escape_markdown(sentence[out.index])}”.", icon=":material/call_split:")
    elif out.index is None:
        c.info("**Ended somewhere new** (this model has no training sentences to compare with).", icon=":material/explore:")
    else:
        c.info(f"**Ended somewhere new.** Nearest training sentence by Hamming distance: example {out.index}, "
               f"“{tj.escape_markdown(sentence[out.index])}” ({out.distance} of {len(r.x0)} positions differ).",
               icon=":material/explore:")
    c.markdown(f"x̂: {tj.tokens_markdown(r.x_hat, b.tokenizer.itos, r.x_hat != r.x0)}{verdict(out)}")
    return out


def find_seed(a: partners.Spec, b: partners.Spec, x0: list[int], t: float, greedy: bool) -> None:
    """The 'find a seed where they differ' button: searches the next ``dn_search`` seeds after the
    shared one, within ``partners.SEARCH_SECONDS`` with a progress bar, and makes the first on which
    the two models end differently the shared seed. When the budget runs out first, it says how far
    it got, and the button goes on from there while nothing else changes."""
    limit = partners.SEARCH_SECONDS
    found = st.session_state.pop("dn_found", None)
    if found is not None:
        r = partners.Search(*found)
        if r.seed is not None:
            st.success(f"Seed {r.seed}: the first of {r.start} – {r.stop} on which the two models end differently.")
        elif r.ran_out:
            st.warning(f"The {limit} s budget ran out after seeds {r.start} – {r.resume - 1} of {r.start} – {r.stop}: "
                       f"the two models end alike on all of them. Click again to go on from seed {r.resume}.",
                       icon=":material/timer:")
        else:
            st.info(f"The two models end alike on every seed from {r.start} to {r.stop}. Try another level t or example.")
    where = tuple((m.key, ref, step) for m, ref, step in (a, b)) + (tuple(x0), float(t), bool(greedy), state.get("seed"))
    resume = st.session_state.get("dn_resume")
    start = resume[1] if resume and resume[0] == where else state.get("seed") + 1
    c1, c2 = st.columns([1, 3])
    count = c1.number_input("seeds to try", 10, 1000, step=10, **state.bind("dn_search"))
    label = (f"Go on from seed {start} (next {count} seeds, at most {limit} s)" if start != state.get("seed") + 1
             else f"Find a seed where they differ (next {count} seeds, at most {limit} s)")
    if c2.button(label, icon=":material/search:", key="dn_find"):
        bar = st.progress(0.0, text=f"Denoising seeds {start} – {start + count - 1} with both models...")

        def report(tried: int, total: int, seconds: float) -> None:
            bar.progress(tried / total, text=f"{tried} of {total} seeds tried · {seconds:.1f} s of {limit} s")

        r = partners.first_differing_seed(a, b, x0, t, start, int(count), greedy, limit, report=report)
        st.session_state["dn_found"] = dataclasses.astuple(r)
        st.session_state["dn_resume"] = (where, r.resume) if r.ran_out else None
        if r.seed is not None:
            state.update(seed=r.seed)
        st.rerun()
