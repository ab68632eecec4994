"""What-if's results: a run's headline numbers, its verdict (underfit — not comparable, or not;
``engine.measures.underfit``) and its point on the transition beside the zoo's models of the same corpus
(marked as the zoo's setting, another one, or underfit) with the ideal denoisers' curves as the
reference, a button that opens it on Transition, and the list of every run on disk, where one not
yet measured can be measured."""
from __future__ import annotations

import streamlit as st

from engine.measures import transition as tr
from engine.measures import underfit
from explorer import data, state, widgets
from explorer.whatif import compare as run_compare, runs
from explorer.figures import transition as tf


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
    mine = tr.for_step(widgets.guard(data.transition, runs_root, corpus), "exact")
    comparison = run_compare.compare(runs_root, zoo_root, corpus)
    this = comparison[comparison["n"] == n]
    try:
        has_zoo = corpus in set(data.entries(zoo_root)["corpus"])
    except ValueError:
        has_zoo = False
    if len(this):
        row = this.iloc[0]
        if row["underfit"]:
            st.error(f"**{underfit.LABEL.capitalize()}.** " + "; ".join(f"{r[0].upper()}{r[1:]}" for r in row["reasons"])
                     + ". Its low train and test recovery say that it is undertrained, not that it generalizes: "
                     "do not read its point against the zoo's curve (it is drawn in grey). Train it with the zoo's "
                     "budget, or look at the zoo's own model at this N.", icon=":material/report:")
        else:
            say = st.caption if row["matches"] else st.warning
            say(f"Your model: {row['label']}." + ("" if row["matches"] or not has_zoo else
                " Its point is drawn in brown: compare it with the zoo's curve as a different setting, not as "
                "the zoo's model at this N (fewer steps or a smaller model memorize less of the same N)."))
    measured = summary.get("measure_config", {})
    st.caption(f"Measured on fewer sentences than the zoo ({runs.measure_about(_preset(measured))}): the "
               "bars are 95 % intervals of the mean, wider for what-if runs.")
    base = tr.for_step(widgets.guard(data.transition, zoo_root, corpus), "exact") if has_zoo else mine
    fig = tf.transition_figure(base, t, selected_n=n)
    run_compare.run_traces(fig, mine, comparison, t)
    widgets.figure(fig, f"whatif_{corpus}_n{n}", key="wi_transition")
    st.caption("Diamonds: your runs (filled: train, open: test), purple with the zoo's setting, brown with another, "
               "grey when underfit. Lines: the zoo's models (blue train, orange test)"
               + (", the ideal memorizer (dashed) and ideal generalizer (dotted): the reference a run is read "
                  "against." if has_zoo else "."))
    where = "beside the zoo's models" if has_zoo else "on its own (there is no zoo for this corpus)"
    st.info(f"Your run appears on the **Transition** page {where} as a diamond when '{corpus}' is selected. "
            "Open it on the **Denoise** page with 'Side by side' to compare it with a zoo model on the same "
            "corrupted sentence.", icon=":material/info:")
    if st.button("Open on Transition", icon=":material/trending_up:", key="wi_open_transition"):
        state.update(corpus=corpus, n=n if not has_zoo else _nearest_zoo_n(zoo_root, corpus, n))
        widgets.go_to("transition")


def _nearest_zoo_n(zoo_root: str, corpus: str, n: int) -> int:
    ref = run_compare.zoo_reference(zoo_root, corpus, n)
    return n if ref is None else ref["n"]


def _verdict(path: str, n: int, corpus: str) -> underfit.Verdict | None:
    try:
        return run_compare.run_verdict(path, n, str(data.zoo_root()), corpus)
    except (OSError, ValueError, KeyError):
        return None


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
                verdict = _verdict(row.path, int(row.n), row.corpus)
                c1.markdown(f"**{row.corpus}**, N = {row.n:,}: train recovery "
                            f"{head.get('train', {}).get('recovery_rate', float('nan')):.3f}, test "
                            f"{head.get('test', {}).get('recovery_rate', float('nan')):.3f} (t = {runs.HEADLINE_T:g})"
                            + (f" · :red[**{underfit.LABEL}**]" if verdict and verdict.underfit else ""))
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
