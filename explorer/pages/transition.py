"""Home: train vs test recovery against N with the memorization -> generalization transition marked,
and the entropy curve beside it. Clicking a point selects that N everywhere."""
import numpy as np
import streamlit as st

from explorer import data, figures, state, widgets

st.title("From memorizing to generalizing")
st.caption(
    "Each point is a small diffusion language model trained on the first N sentences of a corpus. "
    "We corrupt sentences at level t, let the model denoise them, and count how many corrupted words "
    "come back. With few training sentences the model memorizes: its own training sentences come back "
    "almost perfectly, unseen test sentences do not, and it is certain of every word (entropy ≈ 0). "
    "With more data the two curves meet — the model has learned the language rather than the list — "
    "its entropy stays finite, and it starts writing sentences it never saw.")

entry = widgets.sidebar()
results = widgets.guard(data.transition, entry.root, entry.corpus)
index = data.entries(entry.root).query("corpus == @entry.corpus")
if results.empty or "recovery_rate" not in results:
    st.warning(f"No measured models for '{entry.corpus}' yet: run `python -m engine measure` on its entries.")
    st.stop()
levels = results.loc[results["recovery_rate"].notna(), "t"].unique()
V = widgets.guard(data.vocab_size, entry.path)
t = widgets.level_select(levels, key="w_t_transition", V=V)
metric = st.sidebar.radio("Recovery measure", ["recovery_rate", "exact_match"], horizontal=True,
                          format_func=lambda m: m.replace("_", " "),
                          help="recovery rate: share of corrupted words restored; exact match: whole sentence.")
show_exact = metric == "recovery_rate" and st.sidebar.checkbox("Also show exact match", value=False)
clean = st.sidebar.checkbox("Entropy on clean input too", value=False,
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

curves = figures.recovery_by_n(results, t, metric)
n_star = figures.transition_n(curves)
left, right = st.columns([3, 2])
fig = figures.transition_figure(results, t, metric=metric, show_exact=show_exact, runs=runs,
                                selected_n=entry.n, V=V)
# the charts' keys change with N, so a click that selected an N does not fire again afterwards
event = widgets.figure(fig, f"transition_{entry.corpus}_t{t:g}", container=left,
                       key=f"transition_chart_{entry.n}", select="points")
entropy_event = widgets.figure(figures.entropy_figure(results, t, selected_n=entry.n, transition=n_star, clean=clean,
                                                      V=V),
                               f"entropy_{entry.corpus}_t{t:g}", container=right, key=f"entropy_chart_{entry.n}",
                               select="points")
measured = figures.entropy_levels(results)
right.caption("Entropy of the denoiser's x0 prediction from z_t, per content token: 0 = certain. The ideal "
              "curves are the conditional entropy of x0 given z_t when the data are exactly the N training "
              "sentences (memorizer) or the grammar's whole language (generalizer)."
              + ("" if any(np.isclose(measured, t)) else " The model's own entropy was measured at t = "
                 + ", ".join(f"{m:g}" for m in measured) + " only: choose that level to see it."))
refs = [r for r in figures.REFERENCES if r == "memorizer" or entry.corpus == "grammar"]
lacking = {r: set(figures.reference_missing(results, r)) for r in refs}
widgets.backfill_note([f"{r}_recovery" for r in refs if lacking[r]],
                      index.loc[index["n"].isin(set().union(*lacking.values())), "path"],
                      "The ideal denoisers' curves", container=left)
clicked = figures.clicked_n(event) or figures.clicked_n(entropy_event)
if clicked is not None and clicked != entry.n:
    index = data.entries(entry.root)
    if clicked in set(index.loc[index["corpus"] == entry.corpus, "n"]):
        state.update(n=clicked)
        st.rerun()
    else:
        st.info(f"N = {clicked} is a what-if run: open it on the What-if page.")

if n_star is None:
    st.info("Train and test recovery do not meet within this sweep (or never separate): no transition "
            "is marked. Try another level t, or add larger N.")
else:
    st.markdown(f"**Transition N\\* ≈ {n_star:,.0f}**: the smallest N at which train and test "
                f"{metric.replace('_', ' ')} come within {figures.TRANSITION_TOL} of each other after "
                "having been apart (or, if they never get that close, where the curves cross). "
                "Click a point to select its N on every page.")

with st.expander("Data behind the figures"):
    used = np.isclose(results["t"], t) | (results["t"] < figures.CLEAN_T) | results["split"].eq("generated")
    shown = results[used]
    st.dataframe(shown, hide_index=True)
    widgets.download_table(shown, f"sweep_{entry.corpus}_t{t:g}")
