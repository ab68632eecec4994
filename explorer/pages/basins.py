"""Basins of attraction per example: the Hamming basin size across N and within one model (against
sentence length), the fixed points, and one example's profile p(k) against the two ideal denoisers;
pick an example and open it on Denoise."""
import streamlit as st

from engine.measures import profiles, stats
from engine.text.corpora import references_for
from engine.diffusion.step import STEP_LABELS
from explorer.figures import basins as bf
from explorer import data, figures, model, state, style, widgets

BASIN_TABLES = ["basin_profile", "basin_size"]

st.title("Basins of attraction")
entry = widgets.sidebar()
widgets.caption(
    "The Hamming basin of a sentence with n content positions (words and end token): change exactly k of "
    "them to other tokens, start the reverse diffusion at the level that changes k/n of the tokens on "
    "average, and count how often the whole sentence comes back exactly: p(k). Its **basin size** is the "
    "share k/n at which p first drops below 1/2 (interpolated; 1 if it never does). Trials that corrupt "
    "nothing do not exist here: every trial changes exactly k positions.",
    "Basin size: the share of a sentence's words that can be changed and still come back (p ≥ 1/2).")

step = widgets.step_select()
measured_step = widgets.guard(data.table_step, entry.path, "basin_profile")
if step != measured_step:
    st.info(f"The basin tables of this zoo were measured with the {STEP_LABELS[measured_step]} only; a run opened "
            f"on Denoise from here uses the {STEP_LABELS[step]} you chose. Transition and Generate show both "
            "samplers side by side.", icon=":material/info:")

st.subheader(f"Across N · {entry.corpus}")
sizes, lacking = widgets.guard(data.zoo_table, entry.root, entry.corpus, "basin_size")
results = widgets.guard(data.transition, entry.root, entry.corpus)
left, right = widgets.columns(2)
if len(sizes):
    widgets.figure(bf.size_distribution_figure(sizes, entry.n), f"basin_sizes_{entry.corpus}", container=left,
                   key="size_distribution")
    if bf.all_zero_ns(sizes):
        left.caption("A test box labelled *all 0*: no unseen sentence comes back exactly even with one word changed "
                     "(p(k = 1) < 1/2), so every test size is 0 at that N. A memorizing model pulls it to a training "
                     "sentence; a generalizing one keeps the swap, since one swapped word usually leaves a plausible "
                     "sentence (for the grammar, a valid one) that is not x0. Transition shows what does grow with N: "
                     "unseen sentences kept as fixed points, and p(k = 1).")
widgets.backfill_note(BASIN_TABLES, [e["path"] for e in lacking], "The basin-size distribution", container=left)
widgets.figure(bf.fixed_points_figure(results, entry.n), f"fixed_points_{entry.corpus}", container=right,
               key="fixed_points")
right.caption("Greedy dynamics from the clean sentence (no corruption): a fixed point comes back unchanged. "
              "A generalizing model holds unseen test sentences as fixed points too, not only its own.")

st.subheader(f"This model · N = {entry.n:,}")
tables = widgets.guard(data.tables, entry.path)
m = widgets.guard(model.load, entry.path)
sentences = {s: m.sentences(s) for s in ("train", "test")}
selected = (state.get("split"), state.get("example"))
have = all(name in tables for name in BASIN_TABLES)
if have:
    ranked = profiles.rank(tables["basin_size"], tables["basin_profile"])
    cols = st.columns(4)
    for i, split in enumerate(("train", "test")):
        part = ranked[ranked["split"] == split]
        rho = stats.spearman(part["size"], part["n_content"])
        cols[i].metric(f"Spearman ρ(size, length) · {split}", "n/a" if rho != rho else f"{rho:+.2f}",
                       help="Rank correlation of basin size with sentence length n over the measured examples "
                            "(n/a: too few or all equal). Negative: shorter sentences have wider basins.")
        cols[2 + i].metric(f"distinct sizes · {split}", f"{part['size'].round(9).nunique()} of {len(part)}")
    lengths = sorted(int(n) for n in ranked["n_content"].unique())
    length = st.selectbox("Sentence length", ["all", *lengths], **state.bind("basin_length", options=["all", *lengths]),
                          format_func=lambda n: "all lengths" if n == "all" else f"n = {n} content positions",
                          help="Compare basins within one length: at a given share k/n a longer sentence "
                               "has more positions to restore.")
    shown = ranked if length == "all" else ranked[ranked["n_content"] == length]
    left, right = widgets.columns(2)
    event = widgets.figure(bf.size_length_figure(shown, sentences, selected), f"size_length_{entry.corpus}_n{entry.n}",
                           container=left, key=f"size_length_{entry.path}_{selected}_{length}", select="points")
    for split, example in figures.selected_examples(event)[:1]:
        widgets.select_example(split, example)
        st.rerun()
    among = right.selectbox("Rank among", ["train and test", "train", "test"],
                            **state.bind("basin_among", options=["train and test", "train", "test"]))
    k = right.slider("examples at each end", 1, 20, **state.bind("basin_k"))
    pool = shown if among == "train and test" else shown[shown["split"] == among]
    ext = profiles.extremes(pool, k)
    ext["sentence"] = [sentences[s][i] if i < len(sentences[s]) else "" for s, i in zip(ext["split"], ext["example"])]
    ext = ext[["end", "rank", "split", "example", "n_content", "size", "area", "tied", "sentence"]]
    right.caption("Ranked by basin size, ties broken by the area under p(k) (the mean of p over k = 1 … n), then "
                  "by length; `tied` counts the examples that still share all three.")
    rows = st.dataframe(ext, hide_index=True, on_select="rerun", selection_mode="single-row",
                        key=f"extremes_{entry.path}_{k}_{length}_{among}",
                        column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("size", "area")})
    widgets.download_table(ranked, f"basin_ranking_{entry.corpus}_n{entry.n}", label="Download the whole ranking (CSV)")
    picked = rows.selection.rows if rows is not None else []
    if picked and (ext["split"].iloc[picked[0]], int(ext["example"].iloc[picked[0]])) != selected:
        widgets.select_example(ext["split"].iloc[picked[0]], int(ext["example"].iloc[picked[0]]))
        st.rerun()
else:
    widgets.backfill_note([n for n in BASIN_TABLES if n not in tables], [entry.path], "The per-example basin size")
    if "basins" in tables:
        widgets.figure(bf.basin_strip_figure(tables["basins"], sentences, selected),
                       f"basins_{entry.corpus}_n{entry.n}", key="basin_strip")

st.subheader("Selected example")
split = st.radio("split", ["train", "test"], horizontal=True,
                 **state.bind("basin_split", "split", shown=selected[0] if selected[0] in ("train", "test") else "train"))
per_example = tables["basin_size"] if have else tables.get("basins")
measured = [] if per_example is None else sorted(per_example.loc[per_example["split"] == split, "example"])
if not measured:
    st.warning(f"No {split} examples were measured for this model.")
    st.stop()


def sentence(i: int) -> str:
    return sentences[split][i] if 0 <= i < len(sentences[split]) else "?"


example = selected[1] if selected[0] == split and selected[1] in measured else measured[0]
example = st.selectbox("example", measured, format_func=lambda i: f"#{i}: {sentence(i)}",
                       **state.bind("basin_example", "example", shown=example))
if (split, example) != selected:
    widgets.select_example(split, example)
st.markdown(f"> {sentence(example)}")
if have:
    r = ranked[(ranked["split"] == split) & (ranked["example"] == example)].iloc[0]
    st.markdown(f"basin size **{r['size']:.3f}** (k\\* = {r['k_star']} of n = {r['n_content']} content positions; "
                f"rank {r['rank']} of {len(ranked)}; area under p(k) {r['area']:.3f})")
    refs = {f"ideal {r}": f"{r}_basin_profile" for r in references_for(entry.corpus)}
    shown_profiles = {"model": tables["basin_profile"]} | {k: tables[v] for k, v in refs.items() if v in tables}
    widgets.figure(bf.hamming_profile_figure(shown_profiles, split, example, float(r["size"])),
                   f"hamming_profile_{entry.corpus}_n{entry.n}_{split}{example}", key="hamming_profile")
    widgets.backfill_note([v for v in refs.values() if v not in tables], [entry.path], "The reference profiles")
elif "basins" in tables:
    r = tables["basins"][(tables["basins"]["split"] == split) & (tables["basins"]["example"] == example)].iloc[0]
    st.markdown(f"level radius **{style.number(r['radius'])}** (the older measurement: the largest level t recovered "
                "exactly)")
if st.button("Denoise this sentence", type="primary", icon=":material/blur_on:", key="basin_denoise"):
    widgets.go_to("denoise")
with st.expander("Recovery against the corruption level t (this model)"):
    if "recovery" in tables:
        widgets.figure(bf.recovery_vs_t_figure(tables["recovery"], m.config.vocab_size),
                       f"recovery_vs_t_{entry.corpus}_n{entry.n}", key="recovery_vs_t")
