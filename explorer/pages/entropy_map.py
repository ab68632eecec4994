"""Entropy map of one model: per-position conditional entropy of train, test and generated sequences
as a heatmap, and a UMAP projection of the same sequences; a box/lasso on the projection filters the
heatmap."""

import numpy as np
import streamlit as st

from engine.measure import mean_entropy
from explorer import data, figures, state, widgets

SPLITS = ("train", "test", "generated")

st.title("Entropy map")
entry = widgets.sidebar()
st.caption(
    f"{widgets.entry_label(entry)}. Each cell is the model's uncertainty H_i (nats) about the word at "
    "one position, given the sentence corrupted at level t. A memorizing model is certain (dark) on its "
    "training sentences; a generalizing one stays uncertain where several words would fit.")

tables = widgets.guard(data.tables, entry.path)
if "entropy" not in tables:
    st.error("This model has no entropy measurements: run `python -m engine measure` on it.")
    st.stop()
entropy = tables["entropy"]
V = widgets.guard(data.bundle, entry.path).config.vocab_size
t = widgets.level_select(entropy["t"].unique(), key="w_t_entropy", label="Entropy measured at", V=V)
splits = st.sidebar.multiselect("Sequences", SPLITS, default=list(SPLITS))
content_only = st.sidebar.toggle("Hide padding positions", value=True)
per_split = st.sidebar.slider("Rows per split (heatmap)", 4, 128, 24, step=4)
tokens = {s: widgets.guard(data.tokens, entry.path, s) for s in SPLITS}
sentences = {s: widgets.guard(data.sentences, entry.path, s) for s in SPLITS}

# ---- projection (optional): colour, space, and the selection that filters the heatmap
chosen = None
proj = tables.get("projection")
if proj is not None and not {"split", "example", "x_tok", "y_tok", "x_ent", "y_ent"} <= set(proj.columns):
    st.warning("The stored projection table is incomplete; compute it again below.")
    proj = None
if proj is None:
    st.info("This model has no UMAP projection yet (it is computed once and saved next to the model).")
    if st.button("Compute the projection (UMAP, about 20 s the first time)", icon=":material/scatter_plot:"):
        from engine.evaluation import MeasureConfig  # umap itself is imported in a child process, only now
        from engine.sweep import measure_entry

        with st.spinner("Running UMAP..."):
            try:
                measure_entry(entry.path, MeasureConfig(), only=["projection"])
            except (ValueError, OSError, ImportError) as e:
                st.error(f"The projection failed: {e}")
                st.stop()
        data.tables.clear()
        st.rerun()
else:
    c1, c2 = st.columns(2)
    space = c1.radio("Projection from", ["tok", "ent"], horizontal=True,
                     format_func={"tok": "tokens (Hamming)", "ent": "entropy profiles"}.get)
    colour = c2.radio("Colour by", ["entropy", "radius"], horizontal=True,
                      format_func={"entropy": "mean entropy", "radius": "basin radius"}.get)
    if colour == "radius" and "basins" not in tables:
        st.warning("No basin measurements for this model: colouring by mean entropy instead.")
        colour = "entropy"
    if colour == "entropy":
        means = mean_entropy(entropy)
        values = means[np.isclose(means["t"], t)].set_index(["split", "example"])["entropy"]
        label = "mean entropy (nats)"
    else:
        values, label = tables["basins"].set_index(["split", "example"])["radius"], "basin radius"
    points = figures.projection_points(proj, space, values, sentences)
    fig = figures.projection_figure(points[points["split"].isin(splits)], label, "UMAP of the sequences from "
                                    + ("tokens" if space == "tok" else "entropy profiles"))
    event = widgets.figure(fig, f"projection_{space}_{entry.corpus}_n{entry.n}",
                           key=f"projection_{entry.path}_{space}", select=("box", "lasso"))
    chosen = figures.selected_examples(event)
    if chosen:
        st.caption(f"{len(chosen)} sequences selected on the projection: the heatmap shows only them "
                   "(double-click the projection to clear).")
    else:
        st.caption("Draw a box or a lasso on the projection to show only those sequences in the heatmap.")

# ---- heatmap
if chosen:
    rows = [r for r in chosen if r[0] in splits]
else:
    present = entropy[np.isclose(entropy["t"], t)].groupby("split")["example"].unique()
    rows = [(s, int(i)) for s in splits if s in present for i in sorted(present[s])[:per_split]]
if not rows:
    st.warning("No sequences to show: choose at least one kind of sequence in the sidebar.")
    st.stop()
matrix = figures.entropy_rows(entropy, t, rows, content_only=content_only)
if matrix.empty:
    st.warning(f"No entropy was measured at t = {t:g} for these sequences.")
    st.stop()
widgets.figure(figures.entropy_heatmap_figure(matrix, tokens, t, show_words=len(matrix) <= 80, V=V),
               f"entropy_heatmap_{entry.corpus}_n{entry.n}", key="entropy_heatmap")
table = matrix.reset_index()
table.columns = [str(c) for c in table.columns]
with st.expander("Data behind the heatmap"):
    st.dataframe(table, hide_index=True)
widgets.download_table(table, f"entropy_{entry.corpus}_n{entry.n}_t{t:g}")
if chosen and len(chosen) == 1 and chosen[0][0] in ("train", "test") and chosen[0] != (
        state.get("split"), state.get("example")):
    widgets.select_example(*chosen[0])  # one sequence picked: it becomes the selection (for Denoise)
