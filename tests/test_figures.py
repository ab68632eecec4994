"""Pure tests of the explorer's figure builders: every trace must carry the numbers of its table,
compared with values recomputed here by plain loops."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.measures import transition as et
from explorer.figures import basins as bf
from explorer import figures
from explorer.figures import generations as gfig
from explorer.figures import maps as mf
from explorer.figures import transition as tf


def sweep_table() -> pd.DataFrame:
    """A synthetic sweep results table (the layout of engine.runs.sweep.results_table)."""
    rows = []
    rec = {"train": [1.0, 0.95, 0.7, 0.62], "test": [0.05, 0.3, 0.55, 0.6]}
    for i, n in enumerate([10, 100, 1000, 10000]):
        for split in ("train", "test"):
            for t in (0.1, 0.25):
                rows.append({"corpus": "c", "n": n, "split": split, "t": t,
                             "recovery_rate": rec[split][i] - (0.1 if t == 0.25 else 0.0),
                             "recovery_std": 0.01 * (i + 1), "exact_match": rec[split][i] / 2,
                             "exact_std": 0.02, "entropy": (0.1 * i + (1 if split == "test" else 0))
                             if t == 0.25 else None})
            rows.append({"corpus": "c", "n": n, "split": split, "t": 1e-5, "entropy": 0.05 * i})
        rows.append({"corpus": "c", "n": n, "split": "generated", "t": 1e-5, "entropy": 2.0 + i,
                     "gen_memorized": 0.5})
        rows.append({"corpus": "c", "n": n, "split": "generated", "t": 0.25, "entropy": 3.0 + i})
    return pd.DataFrame(rows)


def reference_table() -> pd.DataFrame:
    """``sweep_table`` with 95 % intervals on the recovery rows and the ideal denoisers' columns (the
    layout of engine.runs.zoo.results_table); N = 10000 is an older summary: no interval, no references."""
    table = sweep_table()
    level = table["recovery_rate"].notna()
    old = table["n"] == 10000
    table["recovery_low"] = (table["recovery_rate"] - 0.02 - 0.001 * table["n"].rank()).where(level & ~old)
    table["recovery_high"] = (table["recovery_rate"] + 0.03).where(level & ~old)
    for ref, base in (("memorizer", 0.9), ("generalizer", 0.4)):
        for key in ("recovery_rate", "exact_match", "entropy"):
            value = base + 0.01 * np.log10(table["n"]) + (0.05 if key == "entropy" else 0.0) \
                + 0.1 * (table["split"] == "test") - table["t"]
            table[f"{ref}_{key}"] = value.where(level & ~old)
    return table


def trace(fig, name):
    found = [tr for tr in fig.data if tr.name == name]
    assert len(found) == 1, [tr.name for tr in fig.data]
    return found[0]


# ------------------------------------------------------------------------------------ transition point

@pytest.mark.parametrize("n, train, test, expected", [
    ([10, 100, 1000, 10000], [1, 0.9, 0.7, 0.62], [0, 0.3, 0.66, 0.6], 1000.0),   # meet within tol
    ([10, 100, 1000], [0.5, 0.4, 0.2], [0.0, 0.2, 0.4], math.sqrt(100 * 1000)),   # cross, never close
    ([10, 100, 1000], [0.3, 0.3, 0.3], [0.3, 0.31, 0.3], None),                   # never apart
    ([10, 100, 1000], [0.0, 0.9, 0.99], [0.0, 0.1, 0.96], 1000.0),                # equal at start: ignored
    ([10, 100, 1000], [1.0, 0.9, 0.8], [0.0, 0.1, 0.2], None),                    # never meet
])
def test_transition_n(n, train, test, expected):
    got = et.transition_n(pd.DataFrame({"n": n, "train": train, "test": test}))
    assert got == pytest.approx(expected) if expected is not None else got is None


def test_recovery_by_n_matches_table():
    table = sweep_table()
    c = et.recovery_by_n(table, 0.25)
    for _, r in c.iterrows():
        for split in ("train", "test"):
            ref = table[(table["n"] == r["n"]) & (table["split"] == split) & (table["t"] == 0.25)]
            assert r[split] == pytest.approx(float(ref["recovery_rate"].iloc[0]))
            assert r[f"{split}_std"] == pytest.approx(float(ref["recovery_std"].iloc[0]))


def test_transition_figure_traces_equal_table():
    table = sweep_table()
    fig = tf.transition_figure(table, 0.25, show_exact=True, selected_n=100, V=50)
    for split in ("train", "test"):
        ref = table[(table["split"] == split) & (table["t"] == 0.25)].sort_values("n")
        tr = trace(fig, f"{split} recovery rate")
        assert list(tr.x) == list(ref["n"])
        assert np.allclose(tr.y, ref["recovery_rate"])
        assert np.allclose(tr.error_y.array, ref["recovery_std"])
        assert list(tr.customdata) == list(ref["n"])
        assert np.allclose(trace(fig, f"{split} exact match").y, ref["exact_match"])
    # train 0.95-0.1 vs test 0.3-0.1 ... at n = 10000: 0.52 vs 0.50 -> within 0.05 there, apart before
    assert list(trace(fig, "transition").x) == [10000.0, 10000.0]
    assert list(trace(fig, "selected N = 100").x) == [100, 100]
    assert fig.layout.xaxis.type == "log"
    assert "24% of tokens changed" in fig.layout.title.text  # (1 - alpha_t)(1 - 1/V) = 0.24975 * 0.98, not t


def test_transition_figure_references_and_intervals():
    table = reference_table()
    fig = tf.transition_figure(table, 0.25)
    for split in ("train", "test"):
        rows = table[(table["split"] == split) & (table["t"] == 0.25)].sort_values("n")
        tr = trace(fig, f"{split} recovery rate")
        # 95 % interval of the mean where the summary has one, ± 1 std for the older N = 10000
        plus = np.where(rows["n"] < 10000, rows["recovery_high"] - rows["recovery_rate"], rows["recovery_std"])
        minus = np.where(rows["n"] < 10000, rows["recovery_rate"] - rows["recovery_low"], rows["recovery_std"])
        assert np.allclose(tr.error_y.array, plus) and np.allclose(tr.error_y.arrayminus, minus)
        for ref, label, dash in (("memorizer", "ideal memorizer", "dash"), ("generalizer", "ideal generalizer", "dot")):
            ref_tr = trace(fig, f"{label} · {split}")
            assert list(ref_tr.x) == list(rows["n"]) and ref_tr.line.dash == dash
            assert np.allclose(ref_tr.y[:3], rows[f"{ref}_recovery_rate"].iloc[:3]) and np.isnan(ref_tr.y[3])
    assert "95 % interval of the mean" in fig.layout.legend.title.text and "1 std" in fig.layout.legend.title.text
    exact = tf.transition_figure(table, 0.25, metric="exact_match", references=False)
    assert not any(tr.name.startswith("ideal") for tr in exact.data)
    assert exact.layout.legend.title.text == "bars: ± 1 std"              # no exact-match intervals stored
    only_new = table[table["n"] < 10000]
    assert tf.transition_figure(only_new, 0.25).layout.legend.title.text == "bars: 95 % interval of the mean"
    assert et.reference_missing(table, "memorizer") == [10000]
    assert et.reference_missing(only_new, "generalizer") == []


def test_transition_figure_marks_whatif_runs():
    runs = sweep_table()
    runs = runs[runs["n"] == 100].assign(n=300)
    fig = tf.transition_figure(sweep_table(), 0.1, runs=runs)
    assert list(trace(fig, "what-if train").x) == [300]
    assert trace(fig, "what-if test").y[0] == pytest.approx(0.3)


def test_entropy_figure_series():
    table = sweep_table()
    fig = tf.entropy_figure(table, 0.25, transition=1000.0)
    for name, split in (("model · train", "train"), ("model · test", "test"), ("model · generated", "generated")):
        ref = table[(table["split"] == split) & (table["t"] == 0.25)].dropna(subset=["entropy"]).sort_values("n")
        tr = trace(fig, name)
        assert list(tr.x) == list(ref["n"]) and np.allclose(tr.y, ref["entropy"])
    assert not any("clean" in tr.name for tr in fig.data)              # clean input only on request
    fig = tf.entropy_figure(table, 0.25, clean=True)
    for name, split in (("clean input · train", "train"), ("clean input · test", "test"),
                        ("clean input · generated", "generated")):
        ref = table[(table["split"] == split) & (table["t"] == 1e-5)].sort_values("n")
        tr = trace(fig, name)
        assert list(tr.x) == list(ref["n"]) and np.allclose(tr.y, ref["entropy"])


def test_entropy_figure_follows_t():
    """At t = 0.1 the network was not measured: only the ideal denoisers' entropy at 0.1 is drawn."""
    table = reference_table()
    fig = tf.entropy_figure(table, 0.1)
    assert not any(tr.name.startswith("model") for tr in fig.data)
    for ref, label in (("memorizer", "ideal memorizer"), ("generalizer", "ideal generalizer")):
        for split in ("train", "test"):
            rows = table[(table["split"] == split) & (table["t"] == 0.1)].sort_values("n")
            tr = trace(fig, f"{label} · {split}")
            assert list(tr.x) == [10, 100, 1000]                          # N = 10000 has no reference
            assert np.allclose(tr.y, rows[f"{ref}_entropy"].iloc[:3])
    assert "t = 0.1" in fig.layout.title.text
    assert et.entropy_levels(table) == [0.25]


def test_clicked_n_reads_customdata():
    assert figures.clicked_n({"selection": {"points": [{"x": 64, "customdata": 64}]}}) == 64
    assert figures.clicked_n({"selection": {"points": [{"x": 64, "customdata": [128]}]}}) == 128
    assert figures.clicked_n({"selection": {"points": [{"x": 1}]}}) is None
    assert figures.clicked_n(None) is None


def test_level_label_reports_changed_fraction():
    V, t = 10, 0.5
    alpha = 1 - (1 - 1e-3) * t
    assert f"{100 * (1 - alpha) * (1 - 1 / V):.0f}%" in figures.level_label(t, V)
    assert figures.level_label(1e-5) == "clean (t ≈ 0)"


# ---------------------------------------------------------------------------------------------- basins

def basins_table() -> pd.DataFrame:
    return pd.DataFrame({"split": ["train"] * 3 + ["test"] * 3, "example": [0, 1, 2, 0, 1, 2],
                         "radius": [0.5, 0.25, 0.5, 0.0, 0.1, 0.0],
                         "p@0.1": [1, 1, 1, 0, 0.5, 0.0], "p@0.25": [1, 0.5, 1, 0, 0.5, 0.5],
                         "p@0.5": [0.5, 0, 1, 0, 0, 0]})


def test_basin_strip_figure_and_extremes():
    b = basins_table()
    fig = bf.basin_strip_figure(b, {"train": ["a", "b", "c"], "test": ["d", "e", "f"]}, ("test", 1))
    for split in ("train", "test"):
        tr = trace(fig, split)
        assert np.allclose(tr.y, b.loc[b["split"] == split, "radius"])
        assert [int(e) for _, e in tr.customdata] == [0, 1, 2]
    assert list(trace(fig, "selected").y) == [0.1]
    ext = bf.basin_extremes(b, 2)
    assert list(ext["rank"]) == ["largest", "largest", "smallest", "smallest"]
    # largest: train #2 (r 0.5, mean p 1.0) then train #0 (r 0.5, mean p 0.83); smallest: test #0 then test #2
    assert list(zip(ext["split"], ext["example"])) == [("train", 2), ("train", 0), ("test", 0), ("test", 2)]


def test_recovery_vs_t_means():
    rng = np.random.default_rng(0)
    rec = pd.DataFrame({"split": np.repeat(["train", "test"], 20), "t": np.tile([0.1, 0.5], 20),
                        "recovery_rate": rng.random(40), "exact_match": rng.random(40) > 0.5})
    rec.loc[3, "recovery_rate"] = np.nan  # nothing corrupted: excluded from the mean, not counted as 0
    fig = bf.recovery_vs_t_figure(rec, V=20)
    for split in ("train", "test"):
        tr = trace(fig, f"{split} recovery rate")
        for t, y in zip(tr.x, tr.y):
            vals = [r for s, tt, r in zip(rec["split"], rec["t"], rec["recovery_rate"])
                    if s == split and tt == t and not np.isnan(r)]
            assert y == pytest.approx(sum(vals) / len(vals))
        ex = trace(fig, f"{split} exact match")
        for t, y in zip(ex.x, ex.y):
            vals = [e for s, tt, e in zip(rec["split"], rec["t"], rec["exact_match"]) if s == split and tt == t]
            assert y == pytest.approx(sum(vals) / len(vals))


# ----------------------------------------------------------------------------------------- entropy map

def entropy_table() -> pd.DataFrame:
    rows = []
    for split in ("train", "generated"):
        for ex in range(2):
            for pos in range(4):
                for t in (1e-5, 0.25):
                    h = 10 * ex + pos + (0.5 if t == 0.25 else 0) + (100 if split == "generated" else 0)
                    rows.append({"split": split, "example": ex, "t": t, "position": pos, "entropy": h,
                                 "content": pos < 3})
    return pd.DataFrame(rows)


def test_entropy_heatmap_values_and_tokens():
    e = entropy_table()
    m = mf.entropy_rows(e, 0.25, [("generated", 1), ("train", 0)])
    assert [tuple(i) for i in m.index] == [("generated", 1), ("train", 0)]
    assert np.allclose(m.to_numpy()[:, :3], [[110.5, 111.5, 112.5], [0.5, 1.5, 2.5]])
    assert np.isnan(m.to_numpy()[:, 3]).all()  # padding hidden
    tokens = {"train": [["a", "b", "<eos>", "<pad>"]] * 2, "generated": [["x", "y", "<eos>", "<pad>"]] * 2}
    fig = mf.entropy_heatmap_figure(m, tokens, 0.25, V=20)
    hm = fig.data[0]
    assert list(hm.y) == ["generated #1", "train #0"]
    assert [list(r) for r in hm.text] == [["x", "y", "<eos>", ""], ["a", "b", "<eos>", ""]]  # hidden: no label
    assert (hm.zmin, hm.zmax) == mf.ENTROPY_RANGE == (0.0, 2.0)        # the same scale at every N and V
    assert np.allclose(np.asarray(hm.z, dtype=float)[:, :3], m.to_numpy()[:, :3])
    full = mf.entropy_rows(e, 1e-5, content_only=False)
    assert [tuple(i) for i in full.index][0] == ("train", 0) and not np.isnan(full.to_numpy()).any()


def test_projection_points_and_selection():
    proj = pd.DataFrame({"split": ["train", "generated"], "example": [1, 0], "x_tok": [1.0, 2.0],
                         "y_tok": [3.0, 4.0], "x_ent": [5.0, 6.0], "y_ent": [7.0, 8.0]})
    values = pd.Series([0.5], index=pd.MultiIndex.from_tuples([("train", 1)], names=["split", "example"]))
    pts = mf.projection_points(proj, "ent", values, {"train": ["a", "b"], "generated": ["g"]})
    assert list(pts["x"]) == [5.0, 6.0] and list(pts["y"]) == [7.0, 8.0]
    assert pts["color"].iloc[0] == 0.5 and np.isnan(pts["color"].iloc[1])
    assert list(pts["text"]) == ["b", "g"]
    event = {"selection": {"points": [{"customdata": ["test", 3]}, {"customdata": 7}, {"x": 1}]}}
    assert figures.selected_examples(event) == [("test", 3)]


def test_projection_figure_points():
    pts = pd.DataFrame({"split": ["train", "test", "train"], "example": [0, 0, 1], "x": [1.0, 2.0, 3.0],
                        "y": [4.0, 5.0, 6.0], "color": [0.1, 0.2, np.nan], "text": ["a", "b", "c"]})
    fig = mf.projection_figure(pts)
    tr = trace(fig, "train")
    assert list(tr.x) == [1.0, 3.0] and list(tr.y) == [4.0, 6.0] and list(tr.hovertext) == ["a", "c"]
    assert [list(c) for c in tr.customdata] == [["train", 0], ["train", 1]]
    assert fig.layout.coloraxis.cmin == pytest.approx(0.1) and fig.layout.coloraxis.cmax == pytest.approx(0.2)


# -------------------------------------------------------------------------------------------- generate

def test_category_fractions_and_table():
    g = pd.DataFrame({"category": ["memorized", "spurious", "memorized", "novel-valid"],
                      "d1": [0, 0.5, 0.1, 0.4], "d2": [0.4, 0.5, 0.5, 0.6], "twin": [1, 0, 1, 2],
                      "text": ["s1", "zz", "s1'", "new"]})
    f = gfig.category_fractions(g)
    assert dict(zip(f["category"], f["fraction"])) == {"memorized": 0.5, "novel-valid": 0.25, "spurious": 0.25}
    fig = gfig.category_figure(g)
    assert list(fig.data[0].x) == list(f["category"]) and np.allclose(fig.data[0].y, f["fraction"])
    t = gfig.generation_table(g, ["a", "b", "c"])
    assert list(t["nearest training sentence"]) == ["b", "a", "b", "c"]


# ---------------------------------------------------------------------------------- issue 14: drawing

def test_n_star_and_selected_n_lines_are_labelled():
    fig = tf.transition_figure(sweep_table(), 0.25, selected_n=100)
    assert trace(fig, "transition").text[-1] == "N* ≈ 10,000"
    assert trace(fig, "selected N = 100").text[-1] == "selected N = 100"
    ent = tf.entropy_figure(sweep_table(), 0.25, selected_n=100, transition=1000.0)
    assert trace(ent, "transition").text[-1] == "N* ≈ 1,000"
    assert trace(ent, "selected N = 100").text[-1] == "selected N = 100"
    close = tf.transition_figure(sweep_table(), 0.25, selected_n=10000)     # the same N, the sweep's last:
    star, chosen = trace(close, "transition"), trace(close, "selected N = 10000")   # both inside, two rows
    assert star.textposition == chosen.textposition == "top left" and chosen.y[-1] < star.y[-1]
    far = tf.transition_figure(sweep_table(), 0.25, selected_n=10)         # the first N: its label points right
    assert trace(far, "selected N = 10").textposition == "top right" and trace(far, "transition").textposition == "top left"
    near = tf.transition_figure(sweep_table(), 0.25, selected_n=3000)      # both labels left of their lines
    star, chosen = trace(near, "transition"), trace(near, "selected N = 3000")
    assert star.textposition == chosen.textposition == "top left"
    assert chosen.y[-1] < star.y[-1]                                         # ... so one sits below the other


def test_error_bars_are_95_percent_intervals_rebuilt_from_counts():
    table = sweep_table().assign(rows=50, no_corruption=0)
    fig = tf.transition_figure(table, 0.25)
    assert fig.layout.legend.title.text == "bars: 95 % interval of the mean"
    for split in ("train", "test"):
        ref = table[(table["split"] == split) & (table["t"] == 0.25)].sort_values("n")
        half = 1.959963984540054 * ref["recovery_std"] * np.sqrt(50 / 49) / np.sqrt(50)
        assert np.allclose(trace(fig, f"{split} recovery rate").error_y.array, half)


def test_heatmap_words_stay_up_to_150_rows_and_hover_always_has_them():
    rows = [("train", i) for i in range(120)]
    m = pd.DataFrame(np.full((120, 2), 0.5), index=pd.MultiIndex.from_tuples(rows, names=["split", "example"]),
                     columns=[0, 1])
    tokens = {"train": [["a", "b"]] * 200}
    fig = mf.entropy_heatmap_figure(m, tokens, 0.25)
    assert fig.data[0].texttemplate == "%{text}" and fig.layout.height == 160 + 22 * 120
    many = pd.DataFrame(np.full((200, 2), 0.5), columns=[0, 1],
                        index=pd.MultiIndex.from_tuples([("train", i) for i in range(200)], names=["split", "example"]))
    fig = mf.entropy_heatmap_figure(many, tokens, 0.25)
    assert fig.data[0].texttemplate is None and "hover a cell for its word" in fig.layout.title.text
    assert list(fig.data[0].text[0]) == ["a", "b"] and "%{text}" in fig.data[0].hovertemplate


def test_entropy_rows_clip_float_error():
    e = entropy_table()
    first = (e["t"] == 0.25) & (e["split"] == "train") & (e["example"] == 0) & (e["position"] == 0)
    e.loc[first, "entropy"] = -1e-7
    m = mf.entropy_rows(e, 0.25)
    assert m.loc[("train", 0), 0] == 0.0


def test_path_on_the_projection_is_never_taken_for_sequences():
    pts = pd.DataFrame({"split": ["train", "test"], "example": [0, 0], "x": [0.0, 1.0], "y": [0.0, 1.0],
                        "color": [0.1, 0.2], "text": ["a", "b"]})
    path = pd.DataFrame({"step": [0, 3, 7], "t": [0.5, 0.3, 1e-5], "x": [1.0, 0.5, 0.0], "y": [1.0, 0.4, 0.0],
                         "text": ["z", "y", "a"], "nearest": ["test #0", "train #0", "train #0"], "distance": [2, 1, 0]})
    near = pd.DataFrame({"x": [0.0], "y": [0.0], "label": ["train #0: a"]})
    fig = mf.add_path(mf.projection_figure(pts, tool="box"), path, near)
    assert fig.layout.dragmode == "select"
    line = trace(fig, "denoising path")
    assert list(line.x) == [1.0, 0.5, 0.0] and list(trace(fig, "training sentences it passes near").text) == ["train #0: a"]
    event = {"selection": {"points": [{"customdata": list(c)} for c in line.customdata] + [{"customdata": ["train", 0]}]}}
    assert figures.selected_examples(event) == [("train", 0)]
    assert figures.has_selection({"selection": {"points": [], "box": [{"x": [0, 1]}]}})
    assert not figures.has_selection({"selection": {"points": [], "box": [], "lasso": []}})


def test_presenter_style_scales_fonts_and_markers():
    from explorer import style

    fig = tf.transition_figure(sweep_table(), 0.25)
    big = style.present(fig)
    assert big.layout.font.size == style.PRESENT_FONT
    assert trace(big, "train recovery rate").marker.size == pytest.approx(9 * style.PRESENT_SCALE)
    assert trace(fig, "train recovery rate").marker.size == 9                # the original is unchanged


def test_several_seeds_per_n_draw_their_mean_and_each_seed():
    """With models of two seeds per N the curve is their mean and each seed is a faint point; with
    one model per N there are no seed points (nothing to spread)."""
    one = sweep_table().assign(seed=0)
    other = one.assign(seed=1, recovery_rate=one["recovery_rate"] - 0.2)   # seed 1: 0.2 lower everywhere
    fig = tf.transition_figure(pd.concat([one, other], ignore_index=True), 0.25)
    for split in ("train", "test"):
        ref = one[(one["split"] == split) & (one["t"] == 0.25)].sort_values("n")
        seeds = trace(fig, f"{split} · each seed")
        got = sorted(zip(seeds.x, seeds.y, seeds.text))
        want = sorted([(n, v, "seed 0") for n, v in zip(ref["n"], ref["recovery_rate"])]
                      + [(n, v - 0.2, "seed 1") for n, v in zip(ref["n"], ref["recovery_rate"])])
        assert [g[0] for g in got] == [w[0] for w in want] and np.allclose([g[1] for g in got], [w[1] for w in want])
        assert [g[2] for g in got] == [w[2] for w in want]
        assert np.allclose(trace(fig, f"{split} recovery rate").y, ref["recovery_rate"] - 0.1)   # the mean
    assert fig.layout.legend.title.text.endswith("curves: mean over seeds")
    single = tf.transition_figure(one, 0.25)
    assert not [d for d in single.data if d.name.endswith("each seed")]
    assert et.by_seed(one, 0.25).empty and len(et.by_seed(pd.concat([one, other]), 0.25)) == 16
