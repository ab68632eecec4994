"""Watch one corrupted sentence being denoised: the corrupted seed, the trajectory as a token grid
(animated), the model's entropy at each step, and where the run ended — back at x0, in another
training sentence's basin, or somewhere new (and, for the grammar, whether x̂ is a sentence). Side by
side, two models start from the very same seed, one step control drives both grids, and a button
finds a seed on which they end differently."""
import streamlit as st

from engine.diffusion.step import STEP_LABELS
from explorer import model, state, widgets
from explorer.views import partners
from explorer.views import denoise as dv
from explorer.figures import grid as gf
from explorer import trajectory as tj

st.title("Denoise one sentence")
widgets.caption("Corrupt a sentence at level t, then run the model's reverse diffusion step by step. Each row of "
                "the grid is the whole sequence at one step (top: the corrupted seed; bottom: the final x̂); "
                "press ▶ or drag the slider to replay it. Hover a cell for the true token and the model's "
                "entropy there.", "Corrupt, then denoise step by step: press ▶ to replay.")
entry = widgets.sidebar()
b = widgets.guard(model.load, entry.path)   # the one look-up of the checkpoint: handed down from here
L, V = b.config.seq_len, b.config.vocab_size
ids = dv.choose_x0(b)

c1, c2, c3, c4 = st.columns([3, 1, 1, 2])
t = c1.slider("Corruption level t", 0.01, 1.0, step=0.01,
              help="The level of the forward process, not a share of tokens: each position is redrawn "
                   "uniformly with probability 1 - alpha_t (and may draw itself again).",
              **state.bind("dn_t", "t", shown=dv.slider_level(state.get("t"))))
seed = c2.number_input("Seed", min_value=0, max_value=state.MAX_INT, step=1, **state.bind("dn_seed", "seed"))
greedy = c3.radio("Steps", ["stochastic", "greedy"], **state.bind("dn_mode", options=["stochastic", "greedy"]),
                  help="stochastic: sample each reverse step; greedy: take its most likely value.") == "greedy"
compare = c4.toggle("Side by side with a second model", **state.bind("dn_compare"),
                    help="A second model, or this one with the other sampler, from the very same corrupted seed.")
only_changes = c4.checkbox("Only rows where a token changed", **state.bind("dn_only_changes"))
step = widgets.step_select()
second = dv.choose_partner(entry, b, step) if compare else None

r = partners.denoise_run(b, ids, t, seed, greedy, step=step)
alpha = float(b.noise.alpha(t))
changed, content = r.changed(), r.content()
widgets.caption(
    f"**Level t = {t:.2f}.** Each position was redrawn with probability 1 − α_t = {1 - alpha:.3f}, so on average "
    f"(1 − α_t)(1 − 1/V) = {b.noise.changed_fraction(t):.1%} of positions change (V = {V}). "
    f"**This seed changed {int(changed.sum())} of {L} positions ({changed.mean():.0%})**, "
    f"{int(changed[content].sum())} of them among the {int(content.sum())} content positions (words and end token).",
    f"**Level t = {t:.2f}. This seed changed {int(changed.sum())} of {L} positions ({changed.mean():.0%})**.",
    small=False)
st.markdown(f"x0: {tj.tokens_markdown(r.x0, b.tokenizer.itos)}  \n"
            f"z_t: {tj.tokens_markdown(r.zt, b.tokenizer.itos, changed)}")
if not changed[content].any():
    nxt = tj.next_corrupting_seed(r.x0, t, b.noise, seed)
    st.warning("**This seed corrupted nothing**: none of x0's words changed, so there is nothing to recover. "
               + ("Try another seed." if nxt is not None else "Raise t."), icon=":material/block:")
    if nxt is not None:
        st.button(f"Use seed {nxt} (the next that changes a word)", on_click=state.update, kwargs={"seed": nxt},
                  key="dn_next_seed")

if second is None:
    out = dv.show_outcome(b, r)
    widgets.figure(gf.token_grid_figure(r, b.tokenizer.itos, only_changes=only_changes, accepted=out.valid is True,
                                        fit=widgets.fit_box()),
                   f"dn_grid_{b.corpus}_n{b.n}", key="dn_grid")
    runs = {f"N = {b.n}": r}
else:
    label, judge, reference, step2 = second
    r2 = partners.denoise_run(judge, ids, t, seed, greedy, reference, step2)
    names = (f"{b.corpus} · N = {b.n:,}" + (f", {STEP_LABELS[step]}" if step2 != step else ""), f"{judge.corpus} · {label}")
    valid = []
    for col, letter, name, m, run_ in zip(st.columns(2), "AB", names, (b, judge), (r, r2)):
        col.markdown(f"**{letter}: {name}**")
        valid.append(dv.show_outcome(m, run_, container=col).valid is True)
    dv.find_seed((b, None, step), (judge, reference, step2), ids, t, greedy)
    widgets.figure(gf.pair_grid_figure(r, r2, b.tokenizer.itos, judge.tokenizer.itos, names, only_changes=only_changes,
                                       accepted=tuple(valid), fit=widgets.fit_box()),
                   f"dn_grid_pair_{b.corpus}_n{b.n}", key="dn_grid_pair")
    runs = {f"A (N = {b.n})": r, f"B ({label})": r2}

st.subheader("Model entropy along the way")
widgets.caption("Mean entropy of x_θ (nats) over all positions and over x0's content positions at each reverse "
                "step. A memorizing model is certain (≈ 0) once it has recognised a training sentence.",
                "0 nats: the model is certain.")
widgets.figure(gf.entropy_figure(runs), f"entropy_steps_{entry.corpus}_n{entry.n}", key="dn_entropy")
if state.get("source") != "text":
    widgets.page_link("entropy-map", "See this run as a path on the Entropy map", icon=":material/route:")
