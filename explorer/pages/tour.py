"""A guided tour for teaching: memorize -> generalize in five clicks. Each step sets the shared
selection and opens the page that shows it, scrolled to the step's figure."""
import streamlit as st

from engine.measures import profiles, transition as tr
from explorer.figures import basins as bf
from explorer import data, state, widgets

st.title("Guided tour: from memory to creativity")
entry = widgets.sidebar()
index = data.entries(entry.root)
sizes = sorted(int(n) for n in index.loc[index["corpus"] == entry.corpus, "n"])
small, large = sizes[0], sizes[-1]
results = widgets.guard(data.transition, entry.root, entry.corpus)
levels = sorted(results.loc[results["recovery_rate"].notna(), "t"].unique()) if "recovery_rate" in results \
    else []
t_tour = min(levels, key=lambda t: abs(t - 0.25)) if levels else 0.25
n_star = tr.n_star_at(results, t_tour) if levels else None
middle = min(sizes, key=lambda n: abs(n - n_star)) if n_star else sizes[len(sizes) // 2]


def largest_basin_example(n: int) -> int:
    """The training example with the widest basin in the model of size n (0 if unknown)."""
    path = index.loc[(index["corpus"] == entry.corpus) & (index["n"] == n), "path"].iloc[0]
    try:
        tables = data.tables(path)
    except ValueError:
        return 0
    if "basin_size" in tables and "basin_profile" in tables:   # the Hamming basin size, ties broken
        sizes = tables["basin_size"]
        ranked = profiles.rank(sizes[sizes["split"] == "train"], tables["basin_profile"])
    elif "basins" in tables:                                   # older models: the level radius
        ranked = bf.basin_extremes(tables["basins"][tables["basins"]["split"] == "train"], 1)
    else:
        return 0
    return int(ranked["example"].iloc[0]) if len(ranked) else 0


# title, page, the key (prefix) of the figure the page opens on, the selection it sets, the text
STEPS = [
    ("1 · A model that memorizes", "basins", "size_distribution", dict(n=small, t=t_tour),
     f"Start with the smallest training set, N = {small:,}. Every training sentence sits at the bottom of "
     "a wide basin: corrupt a good share of its words and the model walks straight back to it. Sentences "
     "it never saw have no basin at all — the model only knows its list."),
    ("2 · Watch one sentence come back", "denoise", "dn_grid", dict(n=small, t=t_tour, split="train"),
     "Take the training sentence with the widest basin, corrupt it, and run the reverse diffusion step "
     "by step. The corrupted words snap back to the stored sentence: an associative memory."),
    ("3 · The transition", "transition", "transition_chart", dict(n=middle, t=t_tour),
     "Now grow N. Training sentences get harder to recover exactly (each basin shrinks) while unseen test "
     "sentences get easier. Where the two curves meet" + (f" (N* ≈ {n_star:,.0f})" if n_star else "")
     + " the model stops storing sentences and starts modelling the language."),
    ("4 · A model that generalizes", "entropy-map", "projection", dict(n=large, t=t_tour),
     f"At N = {large:,} the model is no longer certain of every word of its training sentences: its "
     "conditional entropy stays finite where several words would fit, for training, test and generated "
     "sentences alike. Compare with the dark rows of the smallest model."),
    ("5 · Creativity", "generate", "categories", dict(n=large),
     "Ask both models to write from pure noise. The small one recites its training sentences; the large "
     "one writes sentences it never saw — and on the grammar corpus an oracle tells the grammatical "
     "ones (creativity) from the broken ones (spurious). Switch N in the sidebar to see how their shares "
     "change with N."),
]

st.caption(f"Corpus: **{entry.corpus}** (change it in the sidebar). Each button sets the model and "
           "level for you and opens the page; come back here for the next step.")
for i, (title, page, chart, selection, text) in enumerate(STEPS):
    with st.container(border=True):
        st.subheader(title)
        st.write(text)
        if st.button("Show me", key=f"tour_{i}", icon=":material/arrow_forward:"):
            if page == "denoise":
                selection["example"] = largest_basin_example(selection["n"])
            state.update(**selection)
            widgets.scroll_to_figure(chart)   # the step's figure, not the controls above it
            widgets.go_to(page)
