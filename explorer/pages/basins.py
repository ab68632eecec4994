"""Basins of one model: how far each sentence can be corrupted and still come back, train vs test;
pick an example and open it on Denoise."""
import streamlit as st

from explorer import data, figures, state, widgets

st.title("Basins of attraction")
entry = widgets.sidebar()
st.caption(
    f"{widgets.entry_label(entry)}. The basin radius of a sentence is the largest corruption level t "
    "such that, at every measured level up to t, the model restores the whole sentence exactly in at "
    "least half of the trials (0 if it fails at the smallest level). Memorizing models have wide "
    "basins around their training sentences and none around unseen ones.")

tables = widgets.guard(data.tables, entry.path)
if "basins" not in tables or "recovery" not in tables:
    st.error("This model has no basin measurements: run `python -m engine measure` on it.")
    st.stop()
basins, recovery = tables["basins"], tables["recovery"]
V = widgets.guard(data.bundle, entry.path).config.vocab_size
sentences = {s: widgets.guard(data.sentences, entry.path, s) for s in ("train", "test")}
selected = (state.get("split"), state.get("example"))

left, right = st.columns(2)
event = widgets.figure(figures.basin_strip_figure(basins, sentences, selected),
                       f"basins_{entry.corpus}_n{entry.n}", container=left,
                       key=f"basin_strip_{entry.path}_{selected}", select="points")
widgets.figure(figures.recovery_vs_t_figure(recovery, V), f"recovery_vs_t_{entry.corpus}_n{entry.n}",
               container=right, key="recovery_vs_t")
for split, example in figures.selected_examples(event)[:1]:
    widgets.select_example(split, example)
    st.rerun()

st.subheader("Largest and smallest basins")
k = st.slider("examples at each end", 1, 20, 5)
extremes = figures.basin_extremes(basins, k)
extremes["sentence"] = [sentences[s][i] if i < len(sentences[s]) else "" for s, i in
                        zip(extremes["split"], extremes["example"])]
rows = st.dataframe(extremes, hide_index=True, on_select="rerun", selection_mode="single-row",
                    key=f"extremes_{entry.path}_{k}",
                    column_config={"radius": st.column_config.NumberColumn(format="%.2f"),
                                   "mean_p": st.column_config.NumberColumn("mean exact-recovery freq.",
                                                                           format="%.2f")})
widgets.download_table(extremes, f"basin_extremes_{entry.corpus}_n{entry.n}")
picked = rows.selection.rows if rows is not None else []
if picked:
    r = extremes.iloc[picked[0]]
    if (r["split"], int(r["example"])) != selected:
        widgets.select_example(r["split"], int(r["example"]))
        st.rerun()

st.subheader("Selected example")
split = st.radio("split", ["train", "test"], horizontal=True,
                 index=["train", "test"].index(selected[0]) if selected[0] in ("train", "test") else 0)
measured = sorted(basins.loc[basins["split"] == split, "example"])
if not measured:
    st.warning(f"No {split} examples were measured for this model.")
    st.stop()


def sentence(i: int) -> str:
    return sentences[split][i] if 0 <= i < len(sentences[split]) else "?"


example = selected[1] if selected[0] == split and selected[1] in measured else measured[0]
example = st.selectbox("example", measured, index=measured.index(example),
                       format_func=lambda i: f"#{i}: {sentence(i)}")
if (split, example) != selected:
    widgets.select_example(split, example)
row = basins[(basins["split"] == split) & (basins["example"] == example)]
st.markdown(f"> {sentence(example)}\n\nbasin radius **{float(row['radius'].iloc[0]):g}**; "
            "exact-recovery frequency per level: "
            + ", ".join(f"{c[2:]}: {float(row[c].iloc[0]):.2f}" for c in row.columns if c.startswith("p@")))
if st.button("Denoise this sentence", type="primary", icon=":material/blur_on:"):
    widgets.go_to("denoise")
