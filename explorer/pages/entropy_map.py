"""Entropy map of one model: per-position conditional entropy of train, test and generated sequences
as a heatmap, and a UMAP projection of the same sequences with the denoising path of the selected
sentence drawn through it; a box or lasso on the projection filters the heatmap, a click lists the
point's nearest neighbours."""
import numpy as np
import streamlit as st

from engine.measures.measure import mean_entropy
from explorer import data, model, state, style, widgets
from explorer.views import map as map_view
from explorer.figures import maps as mf

SPLITS = ["train", "test", "generated"]

st.title("Entropy map")
entry = widgets.sidebar()
widgets.caption(
    f"{widgets.entry_label(entry)}. Each cell is the model's uncertainty H_i (nats) about the word at "
    "one position, given the sentence corrupted at level t. A memorizing model is certain (dark) on its "
    "training sentences; a generalizing one stays uncertain where several words would fit. Entropy has "
    "the same colours at every N (0 – 2 nats; higher values take the top colour), so two models compare "
    "by colour. On the map, the red path is one denoising run falling into a basin.",
    f"{widgets.entry_label(entry)}. Dark = certain. Red path: one denoising run.")

m = widgets.guard(model.load, entry.path)   # the one look-up of the checkpoint: handed down from here
tables = widgets.guard(data.tables, entry.path)
if "entropy" not in tables:
    st.error("This model has no entropy measurements: run `python -m engine measure` on it.")
    st.stop()
entropy = tables["entropy"]
V = m.config.vocab_size
t = widgets.level_select(entropy["t"].unique(), key="w_t_entropy", label="Entropy measured at", V=V)
splits = st.sidebar.multiselect("Sequences", SPLITS, **state.bind("em_splits", options=SPLITS))
content_only = st.sidebar.toggle("Hide padding positions", **state.bind("em_padding"))
per_split = st.sidebar.slider("Rows per split (heatmap)", 4, 128, step=4, **state.bind("em_rows"))
if state.presenting():   # the heatmap must fit a 720-px-high screen: a few readable rows of words
    per_split = min(per_split, max(1, style.PRESENT_ROWS // max(len(splits), 1)))
tokens = {s: m.tokens(s) for s in SPLITS}
sentences = {s: m.sentences(s) for s in SPLITS}

# ---- projection (optional): colour, space, path, neighbours, and the selection that filters the heatmap
chosen = []
proj = tables.get("projection")
if proj is not None and not map_view.PROJECTION_COLUMNS <= set(proj.columns):
    st.warning("The stored projection table is incomplete; compute it again below.")
    proj = None
if proj is None:
    st.info("This model has no UMAP projection yet (it is computed once and saved next to the model).")
    if st.button("Compute the projection (UMAP)", icon=":material/scatter_plot:",
                 key="em_compute"):
        from engine.measures.evaluation import MeasureConfig  # umap itself is imported in a child process, only now
        from engine.runs.sweep import measure_entry

        with st.spinner("Running UMAP..."):
            try:
                measure_entry(entry.path, MeasureConfig(), only=["projection"])
            except (ValueError, OSError, ImportError) as e:
                st.error(f"The projection failed: {e}")
                st.stop()
        st.rerun()   # the tables are keyed by the files' times: the new projection is read now
else:
    c1, c2 = st.columns(2)
    space = c1.radio("Projection from", ["tok", "ent"], horizontal=True, **state.bind("em_space", options=["tok", "ent"]),
                     format_func={"tok": "tokens (Hamming)", "ent": "entropy profiles"}.get)
    colour = c2.radio("Colour by", ["entropy", "radius"], horizontal=True,
                      format_func={"entropy": "mean entropy", "radius": "basin radius"}.get,
                      **state.bind("em_colour", options=["entropy", "radius"]))
    if colour == "radius" and "basins" not in tables:
        st.warning("No basin measurements for this model: colouring by mean entropy instead.")
        colour = "entropy"
    if colour == "entropy":
        means = mean_entropy(entropy)
        values = means[np.isclose(means["t"], t)].set_index(["split", "example"])["entropy"].clip(lower=0.0)
        label = "mean entropy (nats)"
    else:
        values, label = tables["basins"].set_index(["split", "example"])["radius"], "basin radius"
    points = mf.projection_points(proj, space, values, sentences)
    chosen = map_view.panel(entry, m, proj, points[points["split"].isin(splits)], label, space, sentences,
                            mf.ENTROPY_RANGE if colour == "entropy" else None)
    if chosen:
        st.caption(f"{len(chosen)} sequences selected on the projection: the heatmap shows only them, "
                   f"{per_split} per split at most; the link keeps the selection.")
    else:
        widgets.caption("Drag a box or a lasso on the projection to show only those sequences in the heatmap; "
                        "with 'click one point', click a sequence to list its nearest neighbours.",
                        "Lasso or box: filter the heatmap. Click one point: its neighbours.")

# ---- heatmap: the selection (or the first rows of each split), at most "Rows per split" of each split
present = entropy[np.isclose(entropy["t"], t)].groupby("split")["example"].unique()
pool = [r for r in chosen if r[0] in splits] if chosen else \
    [(s, int(i)) for s in splits if s in present for i in sorted(present[s])]
rows = [r for s in splits for r in [r for r in pool if r[0] == s][:per_split]]
if not rows:
    st.warning("No sequences to show: choose at least one kind of sequence in the sidebar.")
    st.stop()
matrix = mf.entropy_rows(entropy, t, rows, content_only=content_only)
if matrix.empty:
    st.warning(f"No entropy was measured at t = {t:g} for these sequences.")
    st.stop()
widgets.figure(mf.entropy_heatmap_figure(matrix, tokens, t, V=V), f"entropy_heatmap_{entry.corpus}_n{entry.n}",
               key="entropy_heatmap")
table = matrix.reset_index()
table.columns = [str(c) for c in table.columns]
with st.expander("Data behind the heatmap"):
    st.dataframe(table, hide_index=True)
widgets.download_table(table, f"entropy_{entry.corpus}_n{entry.n}_t{t:g}")
