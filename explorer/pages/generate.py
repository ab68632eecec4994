"""What one model writes from pure noise: memorized copies, novel valid sentences or spurious ones,
the entropy gap, and fresh samples on demand."""
import numpy as np
import streamlit as st

from engine.measure import entropy_gap
from explorer import data, state, style, widgets
from explorer import generation_figures as gfig
from explorer.figures import level_label

st.title("Generations")
entry = widgets.sidebar()
widgets.caption(
    f"{widgets.entry_label(entry)}. Each sentence was denoised from uniformly random tokens (t = 1). "
    "It is *memorized* when it is a training sentence, or much closer to one training sentence than to "
    "any other (d1/d2 < 1/3, Hamming distances as a share of positions); otherwise it is novel — "
    "*novel-valid* when the grammar accepts it, *spurious* when not (*novel* if the corpus has no grammar).",
    f"{widgets.entry_label(entry)}. Written from pure noise: memorized, novel-valid or spurious.")

tables = widgets.guard(data.tables, entry.path)
gens = tables.get("generations")
if gens is None or gens.empty:
    st.error("This model has no stored generations: run `python -m engine measure` on it.")
    st.stop()
train_sentences = widgets.guard(data.sentences, entry.path, "train")

columns = {"d1": st.column_config.NumberColumn("d1", help="distance to the nearest training sentence",
                                               format="%.3f"),
           "d2": st.column_config.NumberColumn("d2", help="distance to the second nearest", format="%.3f")}
left, right = st.columns([2, 3])
widgets.figure(gfig.category_figure(gens), f"generation_categories_{entry.corpus}_n{entry.n}",
               container=left, key="categories")
with right:
    if "entropy" in tables:
        for t in sorted(tables["entropy"]["t"].unique()):
            gap = entropy_gap(tables["entropy"], t)
            st.metric(f"entropy gap, {level_label(t)}", f"{style.signed(gap)} nats" if np.isfinite(gap) else "n/a")
        st.caption("**Entropy gap** = mean per-token entropy on the model's own generations minus on its "
                   "training sentences: how much less sure the model is of what it writes than of what it "
                   "was taught.")
shown = gfig.generation_table(gens, train_sentences)
st.dataframe(shown, hide_index=True, column_config=columns)
widgets.download_table(shown, f"generations_{entry.corpus}_n{entry.n}")

st.subheader("Sample fresh sentences")
c1, c2, c3 = st.columns([1, 1, 2])
seed = c1.number_input("seed", min_value=0, max_value=state.MAX_INT, step=1, **state.bind("gen_seed", "seed"))
count = c2.slider("how many", 1, 64, **state.bind("gen_count"))
if c3.button("Sample", type="primary", icon=":material/casino:", key="gen_sample"):
    st.session_state["live_generation"] = (entry.path, int(seed), int(count))
job = st.session_state.get("live_generation")
if job and job[0] == entry.path:
    with st.spinner("Denoising from noise..."):
        fresh = widgets.guard(data.live_generations, *job)
    st.caption(f"{job[2]} samples with seed {job[1]} (same seed, same sentences).")
    fresh_shown = gfig.generation_table(fresh, train_sentences)
    st.dataframe(fresh_shown, hide_index=True, column_config=columns)
    widgets.download_table(fresh_shown, f"fresh_generations_{entry.corpus}_n{entry.n}_seed{job[1]}")
    widgets.figure(gfig.category_figure(fresh, "Fresh samples"),
                   f"fresh_categories_{entry.corpus}_n{entry.n}_seed{job[1]}", key="fresh_categories",
                   container=st.columns([2, 3])[0])
