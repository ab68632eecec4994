"""What-if's results: a run's headline numbers and its point on the transition beside the zoo's
models of the same corpus (marked as the zoo's setting or another one), and the list of every run on
disk, where one not yet measured can be measured."""
from __future__ import annotations

import streamlit as st

from explorer import data, run_compare, runs, state, widgets
from explorer import transition_figures as tf


def show(path: str) -> None:
    """Headline numbers of a run beside the zoo's models of the same corpus, marked as the zoo's
    setting or another one (``run_compare.compare``), with the runs' 95 % intervals."""
    try:
        summary = data.summary(path)
    except ValueError as e:
        st.warning(f"Could not read the run in {path}: {e}")
        return
    corpus, n, t = summary["corpus"], summary["n"], runs.HEADLINE_T
    head = runs.headline(summary, t)
    st.subheader(f"Your model: {corpus}, N = {n:,}")
    cols = st.columns(3)
    for c, split in zip(cols, ("train", "test")):
        value = head.get(split, {}).get("recovery_rate")
        c.metric(f"{split} recovery at t = {t:g}", "n/a" if value is None else f"{value:.3f}")
    cols[2].markdown("Recovery: share of corrupted content tokens the model restores. Memorizing: train ≫ "
                     "test. Generalizing: the two meet.")
    runs_root, zoo_root = str(data.runs_root()), str(data.zoo_root())
    mine = widgets.guard(data.transition, runs_root, corpus)
    comparison = run_compare.compare(runs_root, zoo_root, corpus)
    this = comparison[comparison["n"] == n]
    try:
        has_zoo = corpus in set(data.entries(zoo_root)["corpus"])
    except ValueError:
        has_zoo = False
    if len(this):
        row = this.iloc[0]
        say = st.caption if row["matches"] else st.warning
        say(f"Your model: {row['label']}." + ("" if row["matches"] or not has_zoo else
            " Its point is drawn in orange: compare it with the zoo's curve as a different setting, not as "
            "the zoo's model at this N (fewer steps or a smaller model memorize less of the same N)."))
    measured = summary.get("measure_config", {})
    st.caption(f"Measured on fewer sentences than the zoo ({runs.measure_about(_preset(measured))}): the "
               "bars are 95 % intervals of the mean, wider for what-if runs.")
    base = widgets.guard(data.transition, zoo_root, corpus) if has_zoo else mine
    fig = tf.transition_figure(base, t, selected_n=n)
    run_compare.run_traces(fig, mine, comparison, t)
    widgets.figure(fig, f"whatif_{corpus}_n{n}", key="wi_transition")
    where = "beside the zoo's models" if has_zoo else "(there is no zoo for this corpus)"
    st.info(f"Your run now appears on the **Transition** page {where} as a diamond when "
            f"'{corpus}' is selected. Open it on the **Denoise** page with 'Side by side' to compare it "
            "with a zoo model on the same corrupted sentence.", icon=":material/info:")


def _preset(measured: dict) -> str:
    """The MEASURES preset a summary's measure_config came from ('standard' if none matches)."""
    for name, cfg in runs.MEASURES.items():
        if measured.get("n_train") == cfg.n_train and list(measured.get("levels", [])) == list(cfg.levels):
            return name
    return "standard"


def listing() -> None:
    """Every what-if run on disk; measure those without measurements (with a progress bar by table)."""
    index = widgets.guard(data.entries, str(data.runs_root()))
    if index.empty:
        return
    with st.expander(f"Your runs ({len(index)})", expanded=False):
        for row in index.itertuples():
            c1, c2 = st.columns([3, 1])
            try:
                head = runs.headline(data.summary(row.path))
                c1.markdown(f"**{row.corpus}**, N = {row.n:,}: train recovery "
                            f"{head.get('train', {}).get('recovery_rate', float('nan')):.3f}, test "
                            f"{head.get('test', {}).get('recovery_rate', float('nan')):.3f} (t = {runs.HEADLINE_T:g})")
                if c2.button("Show", key=f"wi_show_{row.path}"):
                    st.session_state["wi_last"] = row.path
            except ValueError:
                c1.markdown(f"**{row.corpus}**, N = {row.n:,}: not measured yet")
                if c2.button("Measure", key=f"wi_measure_run_{row.path}"):
                    bar = st.progress(0.0, text="Measuring...")
                    runs.measure(row.path, state.kept("wi_measure"),
                                 progress=lambda name, i, count: bar.progress(
                                     i / count, text=f"Measuring {i + 1}/{count}: {name}"))
                    st.session_state["wi_last"] = row.path
                    st.rerun()
