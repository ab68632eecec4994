"""What models write from pure noise: memorized copies, novel valid sentences or spurious ones, with
either sampler; the categories and the fluency against N; the entropy gap; fresh samples on demand."""
import numpy as np
import streamlit as st

from engine.measures import transition as tr
from engine.measures.measure import entropy_gap
from engine.diffusion.step import STEP_LABELS
from engine.text import corpora
from explorer import data, model, state, style, widgets
from explorer.figures import generations as gfig
from explorer.figures import level_label

st.title("Generations")
entry = widgets.sidebar()
step = widgets.step_select()
oracle = corpora.has_oracle(entry.corpus)
widgets.caption(
    f"{widgets.entry_label(entry)}, {STEP_LABELS[step]}. Each sentence was denoised from uniformly random tokens "
    "(t = 1). It is *memorized* when it is a training sentence, or much closer to one training sentence than to "
    "any other (d1/d2 < 1/3, Hamming distances as a share of positions); otherwise it is novel — "
    "*novel-valid* when the grammar accepts it, *spurious* when not"
    + ("." if oracle else "; this corpus has no grammar, so a novel sentence gets *no validity check*: its "
       "fluency below says how much of it a reader has seen before."),
    f"{widgets.entry_label(entry)}, {STEP_LABELS[step]}: memorized, novel-valid or spurious.")

tables = widgets.guard(data.tables, entry.path)
gens = widgets.guard(data.generations, entry.path, step)
if gens is None or gens.empty:
    st.error(f"This model has no stored generations with the {STEP_LABELS[step]}: run "
             "`python -m engine measure` on it.")
    st.stop()
train_sentences = widgets.guard(model.load, entry.path).sentences("train")

columns = {"d1": st.column_config.NumberColumn("d1", help="distance to the nearest training sentence",
                                               format="%.3f"),
           "d2": st.column_config.NumberColumn("d2", help="distance to the second nearest", format="%.3f")}
left, right = st.columns([2, 3])
widgets.figure(gfig.category_figure(gens), f"generation_categories_{entry.corpus}_n{entry.n}_{step}",
               container=left, key="categories")
with right:
    measured = widgets.guard(data.summary, entry.path)
    main_step = widgets.guard(data.table_step, entry.path, "generations")
    fluency = measured.get("fluency", {})
    split = "generated" if step == main_step else "generated_plugin"
    if fluency.get(split) and fluency.get("test"):
        f, ceiling = fluency[split], fluency["test"]
        c1, c2 = st.columns(2)
        for c, order in zip((c1, c2), ("bigram", "trigram")):
            c.metric(f"word {order}s seen in the corpus", style.share(f.get(order)),
                     help=f"held-out test sentences: {style.share(ceiling.get(order))}")
        st.caption(f"**Fluency**: of the word pairs and triples in these generations, the share that occurs in the "
                   f"corpus's training text. Held-out test sentences reach {style.share(ceiling.get('bigram'))} and "
                   f"{style.share(ceiling.get('trigram'))}: the ceiling for real, unseen sentences. Word salad scores "
                   "far lower; n/a: no sentence had two (or three) known words in a row.")
    if "entropy" in tables and step == main_step:   # the entropy of generations was measured on the main step's
        for t in sorted(tables["entropy"]["t"].unique()):
            gap = entropy_gap(tables["entropy"], t)
            st.metric(f"entropy gap, {level_label(t)}", f"{style.signed(gap)} nats" if np.isfinite(gap) else "n/a")
        st.caption("**Entropy gap** = mean per-token entropy on the model's own generations minus on its "
                   "training sentences: how much less sure the model is of what it writes than of what it "
                   "was taught.")
shown = gfig.generation_table(gens, train_sentences)
st.dataframe(shown, hide_index=True, column_config=columns)
widgets.download_table(shown, f"generations_{entry.corpus}_n{entry.n}_{step}")

st.subheader("Across N, with both samplers")
results = widgets.guard(data.transition, entry.root, entry.corpus)
shares = tr.generations_by_n(results)
if shares["step"].nunique() > 1:
    widgets.figure(gfig.categories_by_n_figure(shares, selected_n=entry.n), f"categories_by_n_{entry.corpus}",
                   key="categories_by_n")
    widgets.caption("The same models and the same initial noise; only the reverse step differs. The paper's sampler "
                    "plugs x_θ into the posterior formula, whose normaliser depends on x, and writes more spurious "
                    "sentences than the models have learned to avoid.", "Same models, same noise: only the step differs.")
fl = tr.fluency_by_n(results)
if len(fl):
    widgets.figure(gfig.fluency_figure(fl, selected_n=entry.n), f"fluency_by_n_{entry.corpus}", key="fluency_by_n")

st.subheader("Sample fresh sentences")
c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
seed = c1.number_input("seed", min_value=0, max_value=state.MAX_INT, step=1, **state.bind("gen_seed", "seed"))
count = c2.slider("how many", 1, 64, **state.bind("gen_count"))
if c3.button("Sample", type="primary", icon=":material/casino:", key="gen_sample",
             help=f"Draw from the {len(gens)} generations stored with this model and sampler: instant."):
    st.session_state["live_generation"] = (entry.path, int(seed), int(count), step, "pool", None)
if c4.button("Denoise new ones from noise", icon=":material/blur_on:", key="gen_live",
             help=f"Run the model now, {data.LIVE_CHUNK} samples at a time, each one the "
                  "whole reverse walk from noise; the time per sample is shown as it goes."):
    st.session_state["live_generation"] = (entry.path, int(seed), int(count), step, "live", None)
job = st.session_state.get("live_generation")
if job and len(job) == 6 and job[0] == entry.path:
    path, job_seed, job_count, job_step, source, seconds = job
    if source == "pool":
        fresh = widgets.guard(data.pool_draw, path, job_step, job_seed, job_count)
        st.caption(f"{len(fresh)} of the {len(data.generations(path, job_step))} generations stored with the "
                   f"{STEP_LABELS[job_step]}, drawn with seed {job_seed} (same seed, same draw). "
                   "“Denoise new ones from noise” runs the model for sentences nobody has seen yet.")
    else:
        slot = st.empty()
        bar = slot.progress(0.0, text=f"Denoising {job_count} samples from noise...")
        measured = [0.0]

        def report(done: int, total: int, elapsed: float) -> None:
            measured[0] = elapsed
            bar.progress(done / total, text=f"{done} of {total} samples · {elapsed / done:.2f} s per sample")

        fresh = widgets.guard(data.live_generations, path, job_seed, job_count, job_step, report)
        slot.empty()
        if seconds is None:   # the run that denoised them; a rerun reads them from the cache
            seconds = measured[0]
            st.session_state["live_generation"] = (*job[:5], seconds)
        st.caption(f"{job_count} samples denoised from noise with seed {job_seed} and the {STEP_LABELS[job_step]} in "
                   f"{seconds:.1f} s ({seconds / job_count:.2f} s per sample). One generator, seeded once, denoises "
                   f"{data.LIVE_CHUNK} at a time: the same seed gives the same sentences, and more samples only add "
                   "to them.")
    fresh_shown = gfig.generation_table(fresh, train_sentences)
    st.dataframe(fresh_shown, hide_index=True, column_config=columns)
    name = f"{'fresh' if source == 'live' else 'drawn'}_generations_{entry.corpus}_n{entry.n}_seed{job_seed}_{job_step}"
    widgets.download_table(fresh_shown, name)
    widgets.figure(gfig.category_figure(fresh, "Fresh samples" if source == "live" else "Drawn from the stored ones"),
                   f"{name}_categories", key="fresh_categories", container=st.columns([2, 3])[0])
