"""Watch one corrupted sentence being denoised: the corrupted seed, the trajectory as a token grid
(animated), the model's entropy at each step, and where the run ended — back at x0, in another
training sentence's basin, or somewhere new. Side by side, two models start from the very same seed."""
import math

import streamlit as st

from explorer import data, partners, state, widgets
from explorer import trajectory as tj

SOURCES = {"train": "a training example", "test": "a test example", "text": "my own sentence"}


def bound(key: str, name: str, value=None) -> dict:
    """Widget arguments that show the shared selection ``name`` (or ``value``) and write changes back."""
    st.session_state[key] = state.get(name) if value is None else value
    return dict(key=key, on_change=lambda: state.update(**{name: st.session_state[key]}))


def slider_level(t: float) -> float:
    """The shared level t as a value of the slider (0.01 .. 1 in steps of 0.01); the default level
    for one that is not a finite number."""
    t = float(t) if math.isfinite(t) else state.DEFAULTS["t"]
    return min(max(round(t, 2), 0.01), 1.0)


def kept(key: str, default) -> dict:
    """Widget arguments that keep a page-local value across page switches (Streamlit forgets widgets
    that were not drawn in a run)."""
    st.session_state[key] = st.session_state.get(f"{key}_kept", default)
    return dict(key=key, on_change=lambda: st.session_state.update({f"{key}_kept": st.session_state[key]}))


def choose_source(source: str) -> None:
    """The example source: a train/test example is part of the shared selection, typed text is not
    (it is kept with the selection it replaced, so that choosing an example elsewhere wins)."""
    if source in ("train", "test"):
        state.update(split=source)
    st.session_state["dn_source_kept"] = (source, state.get("split"), state.get("example"))


def current_source() -> str:
    """Typed text if it was chosen and the shared example has not changed since, else the shared split."""
    shared = state.get("split") if state.get("split") in ("train", "test") else "train"
    kept = st.session_state.get("dn_source_kept")
    return "text" if kept == ("text", state.get("split"), state.get("example")) else shared


def show_outcome(b, r: tj.Run) -> None:
    """Where the run ended, in words, with x̂ (its tokens that differ from x0 in red)."""
    sentence = data.sentences(str(b.path), "train")
    out = tj.classify(r.x_hat, r.x0, b.train_ids.numpy())
    if out.kind == "recovered" and not r.changed()[r.content()].any():
        st.info("**Nothing to recover**: the seed changed none of x0's words, and x̂ = x0. This says nothing "
                "about the basin.", icon=":material/block:")
    elif out.kind == "recovered":
        where = f"x0 is training example {out.index}" if out.index is not None else "x0 is not a training sentence"
        st.success(f"**Recovered x0 exactly** ({where}).", icon=":material/check_circle:")
    elif out.kind == "other_basin":
        st.warning(f"**Fell into another training sentence's basin**: x̂ is training example {out.index}, "
                   f"“{tj.escape_markdown(sentence[out.index])}”.", icon=":material/call_split:")
    elif out.index is None:
        st.info("**Ended somewhere new** (this model has no training sentences to compare with).",
                icon=":material/explore:")
    else:
        st.info(f"**Ended somewhere new.** Nearest training sentence by Hamming distance: example {out.index}, "
                f"“{tj.escape_markdown(sentence[out.index])}” ({out.distance} of {len(r.x0)} positions differ).",
                icon=":material/explore:")
    st.markdown(f"x̂: {tj.tokens_markdown(r.x_hat, b.tokenizer.itos, r.x_hat != r.x0)}")


st.title("Denoise one sentence")
st.caption("Corrupt a sentence at level t, then run the model's reverse diffusion step by step. Each row of "
           "the grid is the whole sequence at one step (top: the corrupted seed; bottom: the final x̂); "
           "press ▶ or drag the slider to replay it. Hover a cell for the true token and the model's "
           "entropy there.")
entry = widgets.sidebar()
b = widgets.guard(data.bundle, entry.path)
L, V = b.config.seq_len, b.config.vocab_size

c1, c2 = st.columns([1, 2])
st.session_state["dn_source"] = current_source()
source = c1.radio("Start from", list(SOURCES), format_func=SOURCES.get, key="dn_source",
                  on_change=lambda: choose_source(st.session_state["dn_source"]))
if source == "text":
    text = c2.text_input("Your sentence", placeholder="e.g. a poet admires the pilots",
                         help=f"At most {L - 1} words and punctuation marks; words outside the model's "
                              "vocabulary become `<unk>`.", **kept("dn_text", ""))
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
else:
    sentences = data.sentences(entry.path, source)
    if not sentences:
        st.error(f"This model has no {source} sentences.")
        st.stop()
    example = min(max(int(state.get("example")), 0), len(sentences) - 1)
    example = c2.number_input(f"Example (0 – {len(sentences) - 1})", min_value=0, max_value=len(sentences) - 1,
                              step=1, **bound("dn_example", "example", example))
    c2.markdown(f"x0 = “{tj.escape_markdown(sentences[example])}”")
    ids = (b.train_ids if source == "train" else b.test_ids)[int(example)].tolist()

c1, c2, c3, c4 = st.columns([3, 1, 1, 2])
t = c1.slider("Corruption level t", 0.01, 1.0, step=0.01,
              help="The level of the forward process, not a share of tokens: each position is redrawn "
                   "uniformly with probability 1 - alpha_t (and may draw itself again).",
              **bound("dn_t", "t", slider_level(state.get("t"))))
seed = c2.number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, **bound("dn_seed", "seed"))
greedy = c3.radio("Steps", ["stochastic", "greedy"], **kept("dn_mode", "stochastic"),
                  help="stochastic: sample each reverse step; greedy: take its most likely value.") == "greedy"
compare = c4.toggle("Side by side with a second model", **kept("dn_compare", False))
only_changes = c4.checkbox("Only rows where a token changed", **kept("dn_only_changes", True))

second = None   # (name, the bundle whose tokenizer and training set judge the run, ideal reference or None)
if compare:
    cands = partners.candidates(entry)
    labels = dict(zip(cands["key"], cands["label"]))
    pick = st.selectbox("Second model", list(labels), format_func=labels.get, index=partners.default_choice(entry, cands),
                        key=f"dn_partner_{entry.path}", help="Another model, or an exact ideal denoiser: the ideal "
                        "memorizer knows only these N training sentences, the ideal generalizer the whole language.")
    reference = partners.reference_of(pick)
    if reference is not None:
        second = (f"{partners.IDEAL_LABELS[reference]}, N = {b.n:,}" if reference == "memorizer"
                  else partners.IDEAL_LABELS[reference], b, reference)
    else:
        other = widgets.guard(data.bundle, pick)
        if not tj.same_vocabulary(b.tokenizer, other.tokenizer) or other.config.seq_len != L:
            st.error(f"{labels[pick]} has a different vocabulary or sequence length than "
                     f"{widgets.entry_label(entry)}: they cannot start from the same corrupted sequence. "
                     "Choose a model trained on the same corpus.")
        else:
            second = (f"N = {other.n:,}", other, None)

r = partners.denoise_run(entry.path, ids, t, seed, greedy)
alpha = float(b.noise.alpha(t))
changed, content = r.changed(), r.content()
st.markdown(
    f"**Level t = {t:.2f}.** Each position was redrawn with probability 1 − α_t = {1 - alpha:.3f}, so on average "
    f"(1 − α_t)(1 − 1/V) = {b.noise.changed_fraction(t):.1%} of positions change (V = {V}). "
    f"**This seed changed {int(changed.sum())} of {L} positions ({changed.mean():.0%})**, "
    f"{int(changed[content].sum())} of them among the {int(content.sum())} content positions (words and end token).")
st.markdown(f"x0: {tj.tokens_markdown(r.x0, b.tokenizer.itos)}  \n"
            f"z_t: {tj.tokens_markdown(r.zt, b.tokenizer.itos, changed)}")
if not changed[content].any():
    nxt = tj.next_corrupting_seed(r.x0, t, b.noise, seed)
    st.warning("**This seed corrupted nothing**: none of x0's words changed, so there is nothing to recover. "
               + ("Try another seed." if nxt is not None else "Raise t."), icon=":material/block:")
    if nxt is not None:
        st.button(f"Use seed {nxt} (the next that changes a word)", on_click=state.update, kwargs={"seed": nxt})

if second is None:
    show_outcome(b, r)
    widgets.figure(tj.token_grid_figure(r, b.tokenizer.itos, only_changes=only_changes),
                   f"dn_grid_{b.corpus}_n{b.n}", key="dn_grid")
    runs = {f"N = {b.n}": r}
else:
    label, judge, reference = second
    r2 = partners.denoise_run(str(judge.path), ids, t, seed, greedy, reference)
    names = {"A": f"{b.corpus} · N = {b.n:,}", "B": f"{judge.corpus} · {label}"}
    for col, (name, model, run_) in zip(st.columns(2), (("A", b, r), ("B", judge, r2))):
        with col:
            st.markdown(f"**{name}: {names[name]}**")
            show_outcome(model, run_)
    for name, model, run_ in (("A", b, r), ("B", judge, r2)):   # full width: the tokens stay legible
        fig = tj.token_grid_figure(run_, model.tokenizer.itos, title=f"{name}: {names[name]}",
                                   only_changes=only_changes)
        widgets.figure(fig, f"dn_grid_{name}_{model.corpus}_n{model.n}", key=f"dn_grid_{name}")
    runs = {f"A (N = {b.n})": r, f"B ({label})": r2}

st.subheader("Model entropy along the way")
st.caption("Mean entropy of x_θ (nats) over all positions and over x0's content positions at each reverse "
           "step. A memorizing model is certain (≈ 0) once it has recognised a training sentence.")
widgets.figure(tj.entropy_figure(runs), f"entropy_steps_{entry.corpus}_n{entry.n}", key="dn_entropy")
