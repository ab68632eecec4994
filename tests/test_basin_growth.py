"""Do unseen sentences become attractors (engine.measures.basin_growth, the Transition page's third panel), the
all-zero boxes of the Basins page's size plot, and its recovery-against-t chart: on hand-built tables
whose answers are counted here by plain loops, with the Wilson interval from its closed form."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.measures import basin_growth as bg
from explorer.figures import basins as bf
from explorer.figures import transition as tf

Z = 1.959963984540054


def wilson_ref(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval, written out from its formula."""
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def results_table() -> pd.DataFrame:
    """A sweep results table: N = 16, 256 (two seeds) and 4096; levels 0.05 and 0.25; exact match with
    Wilson bounds, the ideal denoisers' exact match (none at N = 4096), the fixed-point fraction."""
    rows = []
    exact = {16: (0.9, 0.0), 256: (0.6, 0.1), 4096: (0.3, 0.25)}
    for n in (16, 256, 4096):
        for seed in ((0, 1) if n == 256 else (0,)):
            for split, i in (("train", 0), ("test", 1)):
                for t in (0.05, 0.25):
                    e = exact[n][i] + (0.1 if seed == 1 else 0.0) - (0.05 if t == 0.25 else 0.0)
                    rows.append({"corpus": "grammar", "n": n, "seed": seed, "split": split, "t": t,
                                 "recovery_rate": 0.5, "exact_match": e, "exact_low": e - 0.1, "exact_high": e + 0.05,
                                 "memorizer_exact_match": (1.0 if split == "train" else 0.0) if n < 4096 else None,
                                 "generalizer_exact_match": 0.17 if n < 4096 else None,
                                 "fixed_fraction": {16: 0.0, 256: 0.5 + 0.1 * seed, 4096: 0.75}[n] if split == "test"
                                 else 1.0, "step": "exact" if n == 4096 else None})
        rows.append({"corpus": "grammar", "n": n, "seed": 0, "split": "generated", "t": 1e-5, "step": None})
    return pd.DataFrame(rows)


def profile_table(scale: int = 1) -> pd.DataFrame:
    """Hamming profiles of a zoo (collect_table layout): per N two train and three test sentences,
    k = 1 and 2; recovered counts chosen so that every N × split differs."""
    rows = []
    for n, base in ((16, 0), (256, 2), (4096, 5)):
        for split, count in (("train", 2), ("test", 3)):
            for ex in range(count):
                for k in (1, 2):
                    rec = min(8, (base + ex + (3 if split == "train" else 0)) * scale) if k == 1 else 8
                    rows.append({"corpus": "grammar", "n": n, "split": split, "example": ex, "n_content": 5,
                                 "k": k, "t": 0.2 * k, "trials": 8, "recovered": rec})
    return pd.DataFrame(rows)


def fixed_table() -> pd.DataFrame:
    """fixed_points tables for N = 16 and 256 only (N = 4096 lacks it: the results' value is used)."""
    rows = []
    for n, test_fixed in ((16, [0, 0, 0, 0]), (256, [1, 0, 1, 1])):
        for ex, f in enumerate(test_fixed):
            rows.append({"corpus": "grammar", "n": n, "split": "test", "example": ex, "fixed": bool(f)})
        for ex in range(3):
            rows.append({"corpus": "grammar", "n": n, "split": "train", "example": ex, "fixed": True})
    return pd.DataFrame(rows)


def value(growth, n, split, denoiser, measure):
    row = growth[(growth["n"] == n) & (growth["split"] == split) & (growth["denoiser"] == denoiser)
                 & (growth["measure"] == measure)]
    assert len(row) == 1, (n, split, denoiser, measure, row)
    return row.iloc[0]


def growth_table() -> pd.DataFrame:
    return bg.basin_growth(results_table(), {"model": profile_table(), "memorizer": profile_table(scale=0)},
                           fixed_table(), t=0.05)


# -------------------------------------------------------------------------------------------- engine

def test_p_k1_pools_recovered_over_trials_at_k1_with_wilson():
    growth = growth_table()
    prof = profile_table()
    for n in (16, 256, 4096):
        for split in ("train", "test"):
            hits = trials = 0
            for _, r in prof.iterrows():   # brute force: every row at k = 1 of this N and split
                if r["n"] == n and r["split"] == split and r["k"] == 1:
                    hits, trials = hits + r["recovered"], trials + r["trials"]
            row = value(growth, n, split, "model", "p_k1")
            assert row["value"] == pytest.approx(hits / trials)
            assert (row["low"], row["high"]) == pytest.approx(wilson_ref(hits, trials))
    # the memorizer's profile (every recovered count 0 at k = 1) is drawn beside the model's
    mem = value(growth, 4096, "test", "memorizer", "p_k1")
    assert mem["value"] == 0.0 and mem["low"] == pytest.approx(0.0, abs=1e-12)
    assert mem["high"] == pytest.approx(wilson_ref(0, 24)[1])


def test_fixed_share_counts_the_table_and_falls_back_to_the_results():
    growth = growth_table()
    row = value(growth, 256, "test", "model", "fixed")
    assert row["value"] == 0.75 and (row["low"], row["high"]) == pytest.approx(wilson_ref(3, 4))
    assert value(growth, 16, "test", "model", "fixed")["value"] == 0.0
    # N = 4096 has no fixed_points table: the summary's fixed_fraction, with no count, hence no band
    row = value(growth, 4096, "test", "model", "fixed")
    assert row["value"] == 0.75 and np.isnan(row["low"]) and np.isnan(row["high"])
    assert not ((growth["measure"] == "fixed") & (growth["denoiser"] != "model")).any()
    # without any table, the results alone: the mean over seeds at N = 256
    alone = bg.basin_growth(results_table(), {}, None, t=0.05)
    assert value(alone, 256, "test", "model", "fixed")["value"] == pytest.approx(0.55)


def test_exact_match_at_t_means_over_seeds_and_keeps_the_references():
    growth = growth_table()
    res = results_table()
    for n in (16, 256, 4096):
        rows = res[(res["n"] == n) & (res["split"] == "test") & (res["t"] == 0.05)]
        row = value(growth, n, "test", "model", "exact_match")
        assert row["value"] == pytest.approx(sum(rows["exact_match"]) / len(rows))
        assert row["low"] == pytest.approx(sum(rows["exact_low"]) / len(rows))
        assert row["high"] == pytest.approx(sum(rows["exact_high"]) / len(rows))
    assert value(growth, 256, "test", "model", "exact_match")["value"] == pytest.approx(0.15)   # (0.1 + 0.2) / 2
    assert value(growth, 16, "train", "memorizer", "exact_match")["value"] == 1.0
    assert value(growth, 16, "test", "generalizer", "exact_match")["value"] == pytest.approx(0.17)
    ref = growth[(growth["denoiser"] == "generalizer") & (growth["measure"] == "exact_match")]
    assert set(ref["n"]) == {16, 256} and ref["low"].isna().all()    # not measured at 4096; no interval


def test_table_layout_and_levels():
    growth = growth_table()
    assert list(growth.columns) == bg.COLUMNS
    assert set(growth["measure"]) == set(bg.MEASURES) and set(growth["split"]) == {"train", "test"}
    # one row per N × split × denoiser × measure
    assert not growth.duplicated(["n", "split", "denoiser", "measure"]).any()
    assert bg.exact_level(results_table()) == 0.05
    later = results_table()
    later = later[later["t"] != 0.05]
    assert bg.exact_level(later) == 0.25           # the lowest corrupted level measured
    assert bg.exact_level(later[later["split"] == "generated"]) is None
    assert bg.basin_growth(pd.DataFrame(), {}, None, None).empty
    assert bg.measured_steps(results_table()) == {16: "plugin", 256: "plugin", 4096: "exact"}


# -------------------------------------------------------------------------------------------- figure

def test_growth_figure_draws_the_table():
    growth = growth_table()
    fig = tf.basin_growth_figure(growth, 0.05, selected_n=256)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:3] == ["fixed points (clean sentence kept)", "p(k = 1): one word changed", "exact match at t = 0.05"]
    axes = {"fixed": "x", "p_k1": "x2", "exact_match": "x3"}
    for measure, axis in axes.items():
        on = [tr for tr in fig.data if (tr.xaxis or "x") == axis]
        for split in ("train", "test"):
            ref = growth[(growth["measure"] == measure) & (growth["split"] == split)
                         & (growth["denoiser"] == "model")].sort_values("n")
            line = next(tr for tr in on if tr.name == split)
            assert list(line.x) == list(ref["n"]) and np.allclose(line.y, ref["value"])
            band = next((tr for tr in on if tr.name == f"{split} · 95 %"), None)
            known = ref.dropna(subset=["low", "high"])
            if len(known):   # the polygon: high left to right, then low right to left
                assert list(band.x) == list(known["n"]) + list(known["n"])[::-1]
                assert np.allclose(band.y, list(known["high"]) + list(known["low"])[::-1])
            else:
                assert band is None
        selected = [tr for tr in on if tr.name == "selected N = 256"]
        assert len(selected) == 1 and list(selected[0].x) == [256, 256]
    mem = [tr for tr in fig.data if tr.name == "ideal memorizer · test" and tr.xaxis == "x2"]
    assert len(mem) == 1 and mem[0].line.dash == "dash" and list(mem[0].y) == [0.0, 0.0, 0.0]
    gen = [tr for tr in fig.data if tr.name == "ideal generalizer · test" and tr.xaxis == "x3"]
    assert len(gen) == 1 and gen[0].line.dash == "dot" and np.allclose(gen[0].y, [0.17, 0.17])
    # test bold, train faint; each legend entry once
    assert next(tr for tr in fig.data if tr.name == "test").line.width > next(tr for tr in fig.data
                                                                          if tr.name == "train").line.width
    names = [tr.name for tr in fig.data if tr.showlegend is not False]
    assert len(names) == len(set(names))


def test_growth_figure_on_an_empty_table():
    fig = tf.basin_growth_figure(bg.basin_growth(pd.DataFrame(), {}, None, None))
    assert fig.data == ()
    assert [a.text for a in fig.layout.annotations][2] == "exact match"    # no level measured: none named


# ------------------------------------------------------------------------------------- Basins page

def test_recovery_vs_t_leaves_out_trials_that_corrupted_nothing():
    # at t = 0.05 most trials change nothing and come back trivially: counted, exact match would be 0.8
    rec = pd.DataFrame({"split": ["test"] * 5 + ["train"] * 2, "t": [0.05] * 7,
                        "n_corrupted": [0, 0, 0, 1, 2, 0, 1],
                        "recovery_rate": [np.nan, np.nan, np.nan, 1.0, 0.5, np.nan, 0.0],
                        "exact_match": [True, True, True, True, False, True, False]})
    fig = bf.recovery_vs_t_figure(rec)
    ex = next(tr for tr in fig.data if tr.name == "test exact match")
    touched = [e for s, c, e in zip(rec["split"], rec["n_corrupted"], rec["exact_match"]) if s == "test" and c > 0]
    assert list(ex.y) == [sum(touched) / len(touched)] == [0.5]
    assert list(next(tr for tr in fig.data if tr.name == "train exact match").y) == [0.0]
    assert list(next(tr for tr in fig.data if tr.name == "test recovery rate").y) == [0.75]


def test_all_zero_test_boxes_are_labelled_with_the_reason():
    sizes = pd.DataFrame({"n": [16] * 4 + [256] * 4 + [4096] * 4, "split": ["train", "train", "test", "test"] * 3,
                          "example": [0, 1, 0, 1] * 3,
                          "size": [0.8, 0.6, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0, 0.0, 0.0]})
    assert bf.all_zero_ns(sizes) == [16, 4096] and bf.all_zero_ns(sizes, "train") == [256, 4096]
    fig = bf.size_distribution_figure(sizes)
    for split in ("train", "test"):   # every example is still a point of its box
        box = next(tr for tr in fig.data if tr.name == split and tr.type == "box")
        assert list(box.y) == list(sizes.loc[sizes["split"] == split, "size"])
    mark = next(tr for tr in fig.data if tr.name == "test: all 0")
    assert list(mark.x) == ["16", "4,096"] and list(mark.text) == ["all 0", "all 0"] and mark.offsetgroup == "test"
    assert [list(c) for c in mark.customdata] == [[16, 2], [4096, 2]]
    reasons = [a.text for a in fig.layout.annotations]
    assert len(reasons) == 1 and "N = 16, 4,096" in reasons[0] and "p(k = 1) < 1/2" in reasons[0]
    # no all-zero test box: no label, no reason
    fig = bf.size_distribution_figure(sizes[sizes["n"] == 256])
    assert not fig.layout.annotations and all(tr.name != "test: all 0" for tr in fig.data)
