"""Home: train vs test recovery against N with the memorization -> generalization transition marked,
and the entropy curve beside it. Clicking a point selects that N everywhere."""
import numpy as np
import streamlit as st

from engine.measures import basin_growth, transition as tr
from engine.text.corpora import has_oracle, references_for
from engine.diffusion.step import STEP_LABELS
from explorer import data, figures, state, widgets
from explorer.whatif import compare as run_compare
from explorer.figures import generations as gfig
from explorer.figures import transition as tf

GROWTH_TABLES = {"model": "basin_profile", "memorizer": "memorizer_basin_profile",
                 "generalizer": "generalizer_basin_profile"}


def steps_note(steps: dict[int, str]) -> str:
    """Which reverse step the panel's tables were measured with, per N where the zoo is mixed."""
    kinds = sorted(set(steps.values()))
    if len(kinds) == 1:
        return f"Measured with the {STEP_LABELS.get(kinds[0], kinds[0])}."
    return "Measured with " + "; ".join(f"the {STEP_LABELS.get(k, k)} at N = " + ", ".join(
        f"{n:,}" for n in sorted(n for n, s in steps.items() if s == k)) for k in kinds) + "."


st.title("From memorizing to generalizing")
widgets.caption(
    "Each point is a small diffusion language model trained on the first N sentences of a corpus. "
    "We corrupt sentences at level t, let the model denoise them, and count how many corrupted words "
    "come back. With few training sentences the model memorizes: its own training sentences come back "
    "almost perfectly, unseen test sentences do not, and it is certain of every word of its training "
    "sentences (entropy ≈ 0; of a test sentence it is already unsure, since it never saw it). "
    "With more data the two curves meet — the model has learned the language rather than the list — "
    "its entropy stays finite, and it starts writing sentences it never saw.",
    "Few sentences: the model memorizes them. Many: train and test curves meet — it has learned the language.")

entry = widgets.sidebar()
step = widgets.step_select()
both_steps = widgets.guard(data.transition, entry.root, entry.corpus)
results = tr.for_step(both_steps, step)
index = data.entries(entry.root).query("corpus == @entry.corpus")
if results.empty or "recovery_rate" not in results:
    st.warning(f"No measured models for '{entry.corpus}' yet: run `python -m engine measure` on its entries.")
    st.stop()
levels = results.loc[results["recovery_rate"].notna(), "t"].unique()
V = widgets.guard(data.vocab_size, entry.path)
t = widgets.level_select(levels, key="w_t_transition", V=V)
metric = st.sidebar.radio("Recovery measure", list(tr.METRICS), horizontal=True, format_func=lambda m: m.replace("_", " "),
                          help="recovery rate: share of corrupted words restored; exact match: whole sentence.",
                          **state.bind("tr_metric", options=list(tr.METRICS)))
show_exact = metric == "recovery_rate" and st.sidebar.checkbox("Also show exact match", **state.bind("tr_exact"))
clean = st.sidebar.checkbox("Entropy on clean input too", **state.bind("tr_clean"),
                            help="The model's entropy when it is handed the uncorrupted sentence itself (measured "
                                 "at t = 1e-5): how sure it is of each word of a sentence it sees whole. ≈ 0 on "
                                 "memorized sentences.")

runs_root = data.runs_root()
runs = None
try:
    if entry.corpus in set(data.entries(str(runs_root))["corpus"]):
        runs = data.transition(str(runs_root), entry.corpus)
except ValueError as e:
    st.warning(f"What-if runs in {runs_root} could not be read: {e}")

n_star = tr.n_star_at(results, t, metric)
left, right = widgets.columns([3, 2])
fig = tf.transition_figure(results, t, metric=metric, show_exact=show_exact, runs=None, selected_n=entry.n, V=V)
if runs is not None:  # what-if runs: purple with the zoo's setting, orange (named so) otherwise
    run_compare.run_traces(fig, runs, run_compare.compare(str(runs_root), entry.root, entry.corpus), t, metric)
# the charts' keys change with N, so a click that selected an N does not fire again afterwards
event = widgets.figure(fig, f"transition_{entry.corpus}_t{t:g}", container=left,
                       key=f"transition_chart_{entry.n}", select="points")
entropy_event = widgets.figure(tf.entropy_figure(results, t, selected_n=entry.n, transition=n_star, clean=clean, V=V),
                               f"entropy_{entry.corpus}_t{t:g}", container=right, key=f"entropy_chart_{entry.n}",
                               select="points")
measured = tr.entropy_levels(results)
widgets.caption("Entropy of the denoiser's x0 prediction from z_t, per content token: 0 = certain. The ideal "
                "curves are the conditional entropy of x0 given z_t when the data are exactly the N training "
                "sentences (memorizer) or the grammar's whole language (generalizer)."
                + ("" if any(np.isclose(measured, t)) else " The model's own entropy was measured at t = "
                   + ", ".join(f"{m:g}" for m in measured) + " only: choose that level to see it."),
                "0 nats = certain of every word.", container=right)
refs = [r for r in tf.REFERENCES if r in references_for(entry.corpus)]
lacking = {r: set(tr.reference_missing(results, r)) for r in refs}
widgets.backfill_note([f"{r}_recovery" for r in refs if lacking[r]],
                      index.loc[index["n"].isin(set().union(*lacking.values())), "path"],
                      "The ideal denoisers' curves", container=left)
general = "generalizer" in refs
widgets.caption("Ideal references, exact and untrained: the ideal memorizer (dashed) denoises as if the data were only "
                "the N training sentences, the best a pure memorizer can do"
                + ("; the ideal generalizer (dotted) as if they were the grammar's whole language, the best any "
                   "model of the language can do." if general else "."),
                "Dashed: ideal memorizer (only the N sentences)."
                + (" Dotted: ideal generalizer (the whole language)." if general else ""), container=left)

st.subheader("Do unseen sentences become attractors?")
tables = {name: widgets.guard(data.zoo_table, entry.root, entry.corpus, name)
          for d, name in [*GROWTH_TABLES.items(), ("fixed", "fixed_points")] if d in ("model", "fixed", *refs)}
growth_t = basin_growth.exact_level(both_steps)
profiles = {d: tables[name][0] for d, name in GROWTH_TABLES.items() if name in tables}
growth = basin_growth.basin_growth(both_steps, profiles, tables["fixed_points"][0], growth_t)
growth_event = widgets.figure(tf.basin_growth_figure(growth, growth_t, selected_n=entry.n),
                              f"test_basins_{entry.corpus}", key=f"test_basins_{entry.n}", select="points")
widgets.backfill_note(["basin_profile"], [e["path"] for e in tables["basin_profile"][1]], "p(k = 1)")
widgets.caption("A test sentence's basin *size* is 0 for almost every sentence at every N: a memorizing model pulls "
                "an unseen sentence with one swapped word to a training sentence, and a generalizing one keeps the "
                "swap, which usually leaves a plausible sentence (for the grammar, a valid one) that is not x0. The "
                "frequencies behind that 0 do grow with N: the share of unseen sentences the model keeps unchanged "
                "(fixed points), how often one changed word is put back (p(k = 1)), and exact recovery at a low level. "
                "Bands: Wilson 95 %. " + steps_note(basin_growth.measured_steps(both_steps)),
                "Unseen sentences: kept unchanged, one word put back, exact recovery — against N.")

clicked = figures.clicked_n(event) or figures.clicked_n(entropy_event) or figures.clicked_n(growth_event)
if clicked is not None and clicked != entry.n:
    if clicked in set(index["n"]):
        state.update(n=clicked)
        st.rerun()
    else:
        st.info(f"N = {clicked} is a what-if run: open it on the What-if page.")

st.subheader("What the models write from pure noise")
shares = tr.generations_by_n(both_steps)
if len(shares):
    widgets.figure(gfig.categories_by_n_figure(shares, selected_n=entry.n), f"categories_by_n_{entry.corpus}",
                   key="categories_by_n")
    widgets.caption("Memorized: a training sentence (or much closer to one than to any other); novel-valid: new and "
                    "accepted by the grammar; spurious: new and rejected"
                    + ("." if has_oracle(entry.corpus) else "; this corpus has no grammar, so new sentences are "
                       "*novel* with no validity check (their fluency is on the Generate page).")
                    + " Left the exact step, right the paper's sampler, on the same models and the same noise.",
                    "Same models, same noise: only the sampler differs.")
if step == "plugin" and "step" in both_steps and (both_steps["step"] == "exact").any():
    widgets.caption("**The paper's sampler** was measured at t = 0.25 only (recovery and exact match); the ideal "
                    "curves and the entropy are the exact step's.", small=False)

if n_star is None:
    st.info("Train and test recovery do not meet within this sweep (or never separate): no transition "
            "is marked. Try another level t, or add larger N.")
else:
    widgets.caption(f"**Transition N\\* ≈ {n_star:,.0f}**: the smallest N at which train and test "
                    f"{metric.replace('_', ' ')} come within {tr.TRANSITION_TOL} of each other after having been "
                    "apart (or, if they never get that close, where the curves cross). Error bars: 95 % interval "
                    "of the mean over the measured sentences. Click a point to select its N on every page.",
                    f"**Transition N\\* ≈ {n_star:,.0f}**. Click a point to select its N.", small=False)

used = np.isclose(results["t"], t) | (results["t"] < tr.CLEAN_T) | results["split"].eq("generated")
shown = results[used]
# a toggle, not an expander: an expander's table is sent (and its grid code loaded) while it is closed
if st.toggle("Show the data behind the figures", **state.bind("tr_data")):
    st.dataframe(shown, hide_index=True)
widgets.download_table(shown, f"sweep_{entry.corpus}_t{t:g}")
