"""Pure tests of the basin views (engine.measures.profiles, engine.runs.zoo.collect_table) and the Basins page's
figure builders (explorer.figures.basins) on hand-built tables: every trace must carry the numbers of
its table, recomputed here by plain loops or closed forms."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from engine.measures import profiles
from engine.runs.zoo import collect_table
from explorer.figures import basins as bf

Z = 1.959963984540054


def profile_table() -> pd.DataFrame:
    """Hamming profiles of three examples: train #0 (n = 4), train #1 (n = 4), test #0 (n = 2)."""
    rows = [("train", 0, 4, 1, 8, 8), ("train", 0, 4, 2, 8, 6), ("train", 0, 4, 3, 8, 2), ("train", 0, 4, 4, 8, 1),
            ("train", 1, 4, 1, 8, 8), ("train", 1, 4, 2, 8, 6), ("train", 1, 4, 3, 8, 4), ("train", 1, 4, 4, 8, 0),
            ("test", 0, 2, 1, 8, 3), ("test", 0, 2, 2, 8, 0)]
    return pd.DataFrame([(s, e, n, k, min(1.0, k / n), tr, r) for s, e, n, k, tr, r in rows],
                        columns=["split", "example", "n_content", "k", "t", "trials", "recovered"])


def size_table() -> pd.DataFrame:
    return pd.DataFrame({"split": ["train", "train", "train", "test", "test"], "example": [0, 1, 2, 0, 1],
                         "n_content": [4, 4, 6, 2, 5], "k_star": [2, 2, 3, 0, 0],
                         "radius": [0.5, 0.5, 0.5, 0.0, 0.0], "size": [0.625, 0.625, 0.625, 0.0, 0.0]})


def trace(fig, name):
    found = [tr for tr in fig.data if tr.name == name]
    assert len(found) == 1, [tr.name for tr in fig.data]
    return found[0]


# ------------------------------------------------------------------------------------- engine.measures.profiles

def test_frequencies_and_wilson_closed_forms():
    f = profiles.frequencies(profile_table())
    assert np.allclose(f["share"], f["k"] / f["n_content"])
    assert np.allclose(f["p"], f["recovered"] / f["trials"])
    full, none = f.iloc[0], f.iloc[7]                                # 8 of 8 and 0 of 8
    assert full["low"] == pytest.approx(8 / (8 + Z * Z)) and full["high"] == pytest.approx(1.0)
    assert none["low"] == pytest.approx(0.0) and none["high"] == pytest.approx(Z * Z / (8 + Z * Z))
    assert (f["low"] <= f["p"]).all() and (f["p"] <= f["high"]).all()


def test_profile_area_is_the_mean_of_p_over_k():
    area = profiles.profile_area(profile_table()).set_index(["split", "example"])["area"]
    assert area[("train", 0)] == pytest.approx((1 + 0.75 + 0.25 + 0.125) / 4)
    assert area[("train", 1)] == pytest.approx((1 + 0.75 + 0.5 + 0) / 4)
    # test #0 has n = 2 but only k = 1, 2 measured; a missing k would count as 0
    assert area[("test", 0)] == pytest.approx(3 / 8 / 2)


def test_rank_breaks_ties_by_area_then_length():
    sizes, profile = size_table(), profile_table()
    ranked = profiles.rank(sizes, profile)
    # the three train examples share size 0.625: #1 has the larger area (0.5625 against 0.53125), #2 has
    # no profile (area NaN: last of them); the order recomputed here by a plain sort
    areas = {}
    for (s, e), g in profile.groupby(["split", "example"]):
        areas[(s, e)] = sum(r / tr for r, tr in zip(g["recovered"], g["trials"])) / g["n_content"].iloc[0]
    order = sorted(range(len(sizes)), key=lambda i: (-sizes["size"][i],
                                                    -areas.get((sizes["split"][i], sizes["example"][i]), -1),
                                                    -sizes["n_content"][i]))
    assert list(zip(ranked["split"], ranked["example"])) == [(sizes["split"][i], sizes["example"][i]) for i in order]
    assert list(ranked["rank"]) == [1, 2, 3, 4, 5]
    assert list(ranked["tied"]) == [1, 1, 1, 1, 1]
    # without a profile the length decides among equal sizes, and equal lengths stay tied
    no_profile = profiles.rank(sizes)
    assert list(no_profile["example"][:3]) == [2, 0, 1] and list(no_profile["tied"][:3]) == [1, 2, 2]


def test_extremes_never_list_an_example_twice():
    ranked = profiles.rank(size_table(), profile_table())
    ext = profiles.extremes(ranked, 2)
    assert list(ext["end"]) == ["largest", "largest", "smallest", "smallest"]
    assert list(ext["rank"]) == [1, 2, 5, 4]
    ext = profiles.extremes(ranked, 4)                                # 4 + 4 > 5 examples
    assert sorted(ext["rank"]) == [1, 2, 3, 4, 5]


# -------------------------------------------------------------------------------- engine.runs.zoo tables

def test_collect_table_reads_every_entry_and_names_the_missing(tmp_path):
    entries = [{"corpus": "grammar", "n": 8, "path": "grammar/n00008"},
               {"corpus": "grammar", "n": 32, "path": "grammar/n00032"},
               {"corpus": "other", "n": 8, "path": "other/n00008"}]
    (tmp_path / "index.json").write_text(json.dumps(entries))
    for e in entries:
        (tmp_path / e["path"] / "measure").mkdir(parents=True)
    size_table().to_parquet(tmp_path / "grammar/n00008/measure/basin_size.parquet")
    size_table().to_parquet(tmp_path / "other/n00008/measure/basin_size.parquet")
    table, missing = collect_table(tmp_path, "basin_size", "grammar")
    assert list(table.columns[:2]) == ["corpus", "n"] and set(table["n"]) == {8} and len(table) == 5
    assert [m["n"] for m in missing] == [32] and missing[0]["path"] == str(tmp_path / "grammar/n00032")
    table, missing = collect_table(tmp_path, "basin_size")
    assert len(table) == 10 and len(missing) == 1
    (tmp_path / "grammar/n00008/measure/basin_size.parquet").write_text("not parquet")
    with pytest.raises(ValueError, match="unreadable"):
        collect_table(tmp_path, "basin_size")


# ---------------------------------------------------------------------------------- basin figures

def zoo_sizes() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = []
    for n in (16, 256, 4096):
        for split, count in (("train", 5), ("test", 7)):
            frames.append(pd.DataFrame({"corpus": "grammar", "n": n, "split": split, "example": np.arange(count),
                                        "n_content": rng.integers(3, 12, count), "size": rng.random(count)}))
    return pd.concat(frames, ignore_index=True)


def test_size_distribution_figure_one_box_per_n_and_split():
    sizes = zoo_sizes()
    fig = bf.size_distribution_figure(sizes, selected_n=256)
    assert fig.layout.boxmode == "group" and list(fig.layout.xaxis.categoryarray) == ["16", "256", "4,096"]
    for split in ("train", "test"):
        tr = trace(fig, split)
        ref = sizes[sizes["split"] == split].sort_values(["n", "example"])
        assert list(tr.x) == [f"{n:,}" for n in ref["n"]] and np.allclose(tr.y, ref["size"])
        assert [int(n) for n, _ in tr.customdata] == list(ref["n"])
    assert "N = 256" in fig.layout.title.text


def test_fixed_points_figure_per_n():
    rows = []
    for n, train, test in ((16, 1.0, 0.0), (256, 0.9, 0.2), (4096, 0.6, 0.55)):
        for split, f in (("train", train), ("test", test)):
            for t in (0.1, 0.25):
                rows.append({"n": n, "split": split, "t": t, "fixed_fraction": f, "recovery_rate": 0.5})
        rows.append({"n": n, "split": "generated", "t": 1e-5, "fixed_fraction": None})
    rows = [{**r, "seed": 0} for r in rows]
    rows += [{"n": 256, "split": "train", "t": t, "fixed_fraction": 0.7, "seed": 1} for t in (0.1, 0.25)]
    fig = bf.fixed_points_figure(pd.DataFrame(rows), selected_n=256)
    assert list(trace(fig, "train").x) == [16, 256, 4096]
    assert np.allclose(trace(fig, "train").y, [1.0, (0.9 + 0.7) / 2, 0.6])   # two seeds at N = 256: their mean
    assert list(trace(fig, "test").y) == [0.0, 0.2, 0.55]
    assert list(trace(fig, "selected N = 256").x) == [256, 256]
    assert bf.fixed_points_figure(pd.DataFrame({"n": [8], "split": ["train"]})).data == ()


def test_size_length_figure_points_and_medians():
    sizes = zoo_sizes()
    one = profiles.rank(sizes[sizes["n"] == 256].drop(columns=["corpus", "n"]))
    fig = bf.size_length_figure(one, {"train": [f"s{i}" for i in range(5)], "test": []}, ("test", 3))
    for split, offset in (("train", -0.15), ("test", 0.15)):
        tr = trace(fig, split)
        ref = one[one["split"] == split].sort_values(["n_content", "example"])
        assert np.allclose(np.asarray(tr.x) - offset, ref["n_content"]) and np.allclose(tr.y, ref["size"])
        assert [(s, int(e)) for s, e, *_ in tr.customdata] == [(split, e) for e in ref["example"]]
        medians = {n: float(np.median(ref.loc[ref["n_content"] == n, "size"])) for n in sorted(set(ref["n_content"]))}
        med = trace(fig, f"median {split}")
        assert np.allclose(np.asarray(med.x) - offset, list(medians)) and np.allclose(med.y, list(medians.values()))
    assert list(trace(fig, "train").hovertext) == [f"s{i}" for i in one[one["split"] == "train"]
                                                  .sort_values(["n_content", "example"])["example"]]
    sel = one[(one["split"] == "test") & (one["example"] == 3)]
    assert trace(fig, "selected").y[0] == pytest.approx(float(sel["size"].iloc[0]))


def test_hamming_profile_figure_against_references():
    model = profile_table()
    memorizer = model.assign(recovered=8)                             # recovers every k
    generalizer = model.assign(recovered=model["recovered"] // 2)
    fig = bf.hamming_profile_figure({"model": model, "ideal memorizer": memorizer, "ideal generalizer": generalizer},
                                    "train", 0, size=0.625)
    ex = model[(model["split"] == "train") & (model["example"] == 0)]
    tr = trace(fig, "model")
    assert np.allclose(tr.x, ex["k"] / 4) and np.allclose(tr.y, ex["recovered"] / 8)
    band = trace(fig, "model · Wilson 95 %")
    low, high = [], []
    for r in ex["recovered"]:                                          # Wilson by its formula, one by one
        p = r / 8
        centre, half = (p + Z * Z / 16) / (1 + Z * Z / 8), Z * math.sqrt(p * (1 - p) / 8 + Z * Z / 256) / (1 + Z * Z / 8)
        low.append(max(0.0, centre - half))
        high.append(min(1.0, centre + half))
    assert np.allclose(band.y, high + low[::-1])
    mem = trace(fig, "ideal memorizer")
    assert np.allclose(mem.y, 1.0) and mem.line.dash == "dash"
    assert np.allclose(mem.error_y.arrayminus, 1.0 - 8 / (8 + Z * Z))
    assert np.allclose(trace(fig, "ideal generalizer").y, (ex["recovered"] // 2) / 8)
    assert list(trace(fig, "basin size").x) == [0.625, 0.625]
    # an example a reference did not measure is simply absent from the figure
    fig = bf.hamming_profile_figure({"model": model, "ideal memorizer": memorizer.iloc[:0]}, "test", 0)
    assert [t.name for t in fig.data] == ["model · Wilson 95 %", "model"]
