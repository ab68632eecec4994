"""The Entropy map's projection panel: the UMAP map with a lasso or box (a visible choice), the
denoising path of the selected sentence drawn through it, and the nearest neighbours of a clicked
point listed beside it (as in the Embedding Projector).

Placement: the stored projection keeps coordinates, not the fitted UMAP model, so a state of the
trajectory cannot be put through ``UMAP.transform``; it is placed among its k nearest projected
sequences by Hamming distance (``engine.measures.neighbours.place``: exactly on a sequence it equals, else the
1/d²-weighted mean of their coordinates). The path is drawn on the token projection only: the
entropy-profile projection has no token space to place states in.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from engine.measures import neighbours as nb

from explorer import figures, state, widgets
from explorer.model import Model, cached, measure_folder
from explorer.views import partners
from explorer.figures import maps as mf
from explorer import trajectory as tj

PROJECTION_COLUMNS = {"split", "example", "x_tok", "y_tok", "x_ent", "y_ent"}
NEAR_LABELS = 5     # training sentences labelled along a path
NEIGHBOURS = 8


def _projected_ids(m: Model, proj: pd.DataFrame) -> np.ndarray:
    """Token ids (M, L) of the projected sequences, in the projection table's row order."""
    ids = {s: m.ids(s) for s in set(proj["split"])}
    return np.array([ids[s][int(i)] for s, i in zip(proj["split"], proj["example"])])


@cached(st.cache_data(show_spinner="Placing the trajectory on the map...", max_entries=32), files=measure_folder)
def trajectory_path(m: Model, x0: tuple[int, ...], t: float, seed: int, greedy: bool, step: str,
                    _proj: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The denoising run of (x0, t, seed) placed on the token projection: one row per distinct state
    (step, t, x, y, text, nearest, distance), and the training sentences it passes near (x, y, example,
    distance, label = the sentence: the nearest projected training sentence of some state, in the order
    the path meets them, with its closest distance). ``_proj``: the model's stored projection table
    (read from its measure/ folder, whose modification time keys the cache)."""
    proj = _proj   # (named with '_': the cache does not hash it)
    r = partners.denoise_run(m, list(x0), t, seed, greedy, step=step)
    keep = [0] + [k for k in range(1, len(r.tokens)) if not np.array_equal(r.tokens[k], r.tokens[k - 1])]
    if keep[-1] != len(r.tokens) - 1:
        keep.append(len(r.tokens) - 1)
    states = r.tokens[keep]
    seqs = _projected_ids(m, proj)
    xy, nearest, dist = nb.place(states, seqs, proj[["x_tok", "y_tok"]].to_numpy())
    times = np.append(r.times, r.times[-1])
    steps = pd.DataFrame({
        "step": keep, "t": times[keep], "x": xy[:, 0], "y": xy[:, 1],
        "text": [tj.shorten(m.tokenizer.decode(s.tolist()), 60) or "(only padding)" for s in states],
        "nearest": [f"{proj['split'].iloc[j]} #{proj['example'].iloc[j]} ({d} positions differ)" for j, d in zip(nearest, dist)],
        "distance": dist})
    train = np.flatnonzero(proj["split"].to_numpy() == "train")
    near = pd.DataFrame(columns=["x", "y", "label", "example", "distance"])
    if len(train):
        d = nb.distances(states, seqs[train])                      # (S, train)
        best = d.argmin(axis=1)
        sentences = m.sentences("train")
        seen = list(dict.fromkeys(int(j) for j in best))[:NEAR_LABELS]
        rows = [train[j] for j in seen]
        near = pd.DataFrame({"x": proj["x_tok"].iloc[rows].to_numpy(), "y": proj["y_tok"].iloc[rows].to_numpy(),
                             "example": proj["example"].iloc[rows].to_numpy(),
                             "distance": [int(d[:, j].min()) for j in seen]})
        near["label"] = [tj.shorten(sentences[int(e)], 60) for e in near["example"]]
    return steps, near


def neighbours(m: Model, proj: pd.DataFrame, space: str, split: str, example: int,
               sentences: dict[str, list[str]]) -> pd.DataFrame:
    """The NEIGHBOURS projected sequences nearest (Hamming, in token space) to (split, example):
    split, example, distance, sentence, and its map coordinates x, y in ``space``."""
    me = np.flatnonzero((proj["split"].to_numpy() == split) & (proj["example"].to_numpy() == example))[0]
    keys = pd.DataFrame({"split": proj["split"].to_numpy(), "example": proj["example"].to_numpy(),
                         "x": proj[f"x_{space}"].to_numpy(), "y": proj[f"y_{space}"].to_numpy()})
    out = nb.neighbours_table(_projected_ids(m, proj), int(me), keys, NEIGHBOURS)
    out["sentence"] = [sentences.get(s, [])[i] if i < len(sentences.get(s, [])) else ""
                       for s, i in zip(out["split"], out["example"])]
    return out


def picked(proj: pd.DataFrame) -> tuple[str, int] | None:
    """The point whose neighbours are listed: a generated sequence clicked while the shared selection
    was what it still is, else the shared selection (train or test) — when it is on the map."""
    shared = (state.get("split"), state.get("example"))
    pick = st.session_state.get("em_picked")
    point = pick[:2] if pick is not None and pick[2:] == shared else shared
    on_map = ((proj["split"] == point[0]) & (proj["example"] == point[1])).any()
    return (str(point[0]), int(point[1])) if on_map else None


def panel(entry: widgets.Entry, m: Model, proj: pd.DataFrame, points: pd.DataFrame, label: str, space: str,
          sentences: dict[str, list[str]], crange: tuple[float, float] | None = None) -> list[tuple[str, int]]:
    """The map with the path and the neighbours; returns the (split, example) chosen with the lasso or
    the box for the heatmap (empty: none, or an empty selection that was reset). With 'click one
    point', a click makes that point the selected sentence (its path is drawn, its nearest neighbours
    listed and ringed) and the heatmap is not filtered. ``m``: the model of ``entry``; ``crange``: the
    colour scale (fixed for entropy)."""
    tool = st.radio("Select with", list(mf.DRAG), horizontal=True, **state.bind("em_tool", options=list(mf.DRAG)),
                    format_func={"lasso": "lasso", "box": "box", "click": "click one point"}.get,
                    help="Lasso or box: drag on the map to choose the sequences the heatmap shows. Click one "
                         "point: it becomes the selected sentence, its nearest neighbours are listed beside the map.")
    fig = mf.projection_figure(points, label, "UMAP of the sequences from "
                               + ("tokens" if space == "tok" else "entropy profiles"), tool, crange)
    c1, c2 = st.columns(2)
    show_path = c1.toggle("Show the denoising path of the selected sentence", **state.bind("em_path"))
    c2.toggle("Zoom to the path", disabled=not show_path or space != "tok", **state.bind("em_zoom"),
              help="Show the path's neighbourhood; double-click the map to see all of it.")
    left, right = widgets.columns([3, 2])
    point = picked(proj) if tool == "click" else None
    nbrs = neighbours(m, proj, space, *point, sentences) if point is not None else None
    if nbrs is not None:
        me = proj[(proj["split"] == point[0]) & (proj["example"] == point[1])]
        mf.add_neighbours(fig, (float(me[f"x_{space}"].iloc[0]), float(me[f"y_{space}"].iloc[0])), nbrs)
    with right:
        if show_path and space == "tok":
            _path(m, proj, fig, state.get("split"), state.get("example"))
        elif show_path:
            st.caption("The path is drawn on the token projection: choose 'tokens (Hamming)'.")
        if nbrs is not None:
            st.markdown(f"**Nearest to {point[0]} #{point[1]}** (Hamming distance: positions that differ): "
                        f"“{sentences.get(point[0], [''])[point[1]]}”")
            st.dataframe(nbrs[["split", "example", "distance", "sentence"]], hide_index=True)
    # a chart whose figure changes is a new chart (its selection starts empty): the key only needs to
    # change to clear a selection on an unchanged figure
    key = f"projection_{entry.path}_{space}_{tool}_{st.session_state.get('em_resets', 0)}"
    kept = _kept_selection(key) if tool != "click" else []
    if kept:
        _show_selection(fig, kept)
    event = widgets.figure(fig, f"projection_{space}_{entry.corpus}_n{entry.n}", container=left, key=key,
                           select=("points", "box", "lasso"))
    chosen = figures.selected_examples(event)
    if tool == "click":
        if len(chosen) == 1 and chosen[0] != point:
            if chosen[0][0] in ("train", "test"):
                st.session_state.pop("em_picked", None)
                widgets.select_example(*chosen[0])
            else:
                st.session_state["em_picked"] = (*chosen[0], state.get("split"), state.get("example"))
            st.rerun()
        return []
    if not chosen and figures.has_selection(event):     # an empty lasso: a message, and nothing stays dimmed
        st.session_state["em_resets"] = st.session_state.get("em_resets", 0) + 1
        st.session_state["em_empty"] = True
        st.rerun()
    if st.session_state.pop("em_empty", False):
        left.info("That selection caught no sequence: the heatmap shows all of them.", icon=":material/select:")
    if kept:
        left.button(f"Clear the selection ({len(kept)} sequences)", on_click=_clear, key="em_clear",
                    icon=":material/deselect:")
        if not state.in_link("em_selected"):
            left.caption("This selection is too long for the link: a link opens without it.")
    return kept


def _kept_selection(key: str) -> list[tuple[str, int]]:
    """The sequences chosen on the projection (kept in ``em_selected``, and in the link): those of the
    chart's own selection when it has one; none once the user cleared it (a double click, or an empty
    box or lasso); else the kept ones (from a link, or from before a page switch or another tool)."""
    event = st.session_state.get(key)   # the chart's selection as the browser sent it, before it is drawn
    drawn = figures.selected_examples(event)
    if drawn:
        st.session_state["em_drawn"] = key
        state.keep("em_selected", drawn)
    elif figures.has_selection(event) or st.session_state.get("em_drawn") == key:
        st.session_state.pop("em_drawn", None)
        state.keep("em_selected", [])
    return [tuple(p) for p in state.kept("em_selected")]


def _show_selection(fig, chosen: list[tuple[str, int]]) -> None:
    """Mark ``chosen`` as the selected points of the projection's sequence traces (the others are
    dimmed), as a lasso or box would: a selection restored from a link looks as it did when drawn."""
    wanted = set(chosen)
    for trace in fig.data:
        custom = trace.customdata
        if trace.name in ("train", "test", "generated") and custom is not None:
            trace.selectedpoints = [i for i, (s, e) in enumerate(custom) if (str(s), int(e)) in wanted]


def _clear() -> None:
    """The 'Clear the selection' button: nothing kept, and a new chart (its own selection starts empty)."""
    state.keep("em_selected", [])
    st.session_state.pop("em_drawn", None)
    st.session_state["em_resets"] = st.session_state.get("em_resets", 0) + 1


def _path(b: Model, proj: pd.DataFrame, fig, split: str, example: int) -> None:
    """Draw the denoising path of the shared selection (the example or typed sentence, t, seed; the
    Denoise page's step mode) of the model ``b`` on ``fig`` (its projection ``proj``) and say what it
    is, with the training sentences it passes near."""
    if state.get("source") == "text":
        try:
            x0, name = tj.encode_sentence(b.tokenizer, state.get("text"), b.config.seq_len)[0], "your sentence"
        except ValueError as e:
            st.caption(f"The sentence typed on Denoise cannot be drawn: {e}.")
            return
    else:
        pool = b.train_ids if split == "train" else b.test_ids
        x0, name = pool[min(example, len(pool) - 1)].tolist(), f"{split} #{example}"
    mode = state.kept("dn_mode")
    steps, near = trajectory_path(b, tuple(int(i) for i in x0), float(state.get("t")), int(state.get("seed")),
                                  mode == "greedy", state.get("step"), _proj=proj)
    mf.add_path(fig, steps, near.assign(label=[f"#{e}" for e in near["example"]]), zoom=state.kept("em_zoom"))
    st.markdown(f"**Path of {name}**, corrupted at t = {state.get('t'):g} with seed {state.get('seed')} "
                f"({mode} steps, {state.get('step')} sampler; all set on Denoise): {len(steps)} distinct states from the corrupted seed (open star) "
                "to x̂ (filled star). Training sentences it passes near:")
    st.dataframe(near[["example", "distance", "label"]].rename(
        columns={"example": "train #", "distance": "closest (positions differ)", "label": "sentence"}), hide_index=True)
    widgets.page_link("denoise", "Open this run on Denoise", icon=":material/blur_on:")
