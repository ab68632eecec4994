"""The app's basin views with AppTest on the tiny zoo (conftest ``zoo``): the ideal denoisers as
references on Transition, the entropy panel at the chosen t, the Basins page (sizes across N, fixed
points, size against length with a length filter, ranked extremes, one example's profile against the
ideal denoisers), the ideal denoisers side by side on Denoise, a seed that corrupts nothing, and a zoo
whose models lack the new tables (an st.info with the back-fill command, never a traceback)."""
from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from engine.models import checkpoint
from engine.measures import profiles
from engine.text.tokenizer import content_mask
from engine.runs.zoo import results_table
from explorer import trajectory as tj

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")

pytestmark = pytest.mark.usefixtures("single_thread")


def page(name: str, **query) -> AppTest:
    """An AppTest that opened ``?page=name&...`` (the entry script switches to the page)."""
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in {"page": name, **query}.items():
        at.query_params[k] = str(v)
    return ok(at.run())


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def values(v) -> np.ndarray:
    """A data array of a plotly spec: a list, or plotly's base64 typed array {dtype, bdata}."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v)


def charts(at: AppTest) -> dict[str, dict]:
    """Every plotly chart of the page by its title."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return {s["layout"].get("title", {}).get("text", ""): s for s in specs}


def chart(at: AppTest, starts: str) -> dict:
    found = [s for title, s in charts(at).items() if title.startswith(starts)]
    assert len(found) == 1, list(charts(at))
    return found[0]


def trace(spec: dict, name: str) -> dict:
    found = [tr for tr in spec["data"] if tr.get("name") == name]
    assert len(found) == 1, [tr.get("name") for tr in spec["data"]]
    return found[0]


def names(spec: dict) -> set[str]:
    return {tr.get("name") for tr in spec["data"]}


def infos(at: AppTest) -> str:
    return "\n".join(i.value for i in at.info)


# ------------------------------------------------------------------------------------------ transition

def test_transition_shows_the_ideal_denoisers(runs_dir, zoo):
    at = page("transition", n=32, t=0.25)
    results = results_table(zoo, "grammar")
    spec = chart(at, "Recovery of corrupted sequences")
    for ref, label, dash in (("memorizer", "ideal memorizer", "dash"), ("generalizer", "ideal generalizer", "dot")):
        for split in ("train", "test"):
            tr = trace(spec, f"{label} · {split}")
            rows = results[(results["split"] == split) & np.isclose(results["t"], 0.25)].sort_values("n")
            assert list(values(tr["x"])) == [8, 32] and tr["line"]["dash"] == dash
            assert np.allclose(values(tr["y"]), rows[f"{ref}_recovery_rate"])
    # every summary of the tiny zoo has intervals: the bars are 95 % intervals of the mean
    assert spec["layout"]["legend"]["title"]["text"] == "bars: 95 % interval of the mean"
    train = trace(spec, "train recovery rate")
    rows = results[(results["split"] == "train") & np.isclose(results["t"], 0.25)].sort_values("n")
    assert np.allclose(values(train["error_y"]["array"]), rows["recovery_high"] - rows["recovery_rate"])
    assert "Back-fill" not in infos(at)


def test_entropy_panel_follows_t(runs_dir, zoo):
    results = results_table(zoo, "grammar")
    at = page("transition", n=32, t=0.25)
    spec = chart(at, "Conditional entropy at t = 0.25")
    for split in ("train", "test"):
        rows = results[(results["split"] == split) & np.isclose(results["t"], 0.25)].sort_values("n")
        assert np.allclose(values(trace(spec, f"model · {split}")["y"]), rows["entropy"])
        assert np.allclose(values(trace(spec, f"ideal memorizer · {split}")["y"]), rows["memorizer_entropy"])
    assert not any("clean" in n for n in names(spec))
    at.sidebar.selectbox(key="w_t_transition").set_value(0.1).run()
    ok(at)
    spec = chart(at, "Conditional entropy at t = 0.1")
    assert not any(n.startswith("model") for n in names(spec))           # the network: measured at 0.25 only
    rows = results[(results["split"] == "test") & np.isclose(results["t"], 0.1)].sort_values("n")
    assert np.allclose(values(trace(spec, "ideal generalizer · test")["y"]), rows["generalizer_entropy"])
    assert any("measured at t = 0.25 only" in c.value for c in at.caption)
    at.sidebar.checkbox[-1].check().run()                                 # entropy on clean input too
    spec = chart(at, "Conditional entropy at t = 0.1")
    clean = results[(results["split"] == "train") & (results["t"] < 1e-4)].sort_values("n")
    assert np.allclose(values(trace(spec, "clean input · train")["y"]), clean["entropy"])


# --------------------------------------------------------------------------------------------- basins

def test_basins_page_sizes_fixed_points_and_profiles(runs_dir, zoo):
    at = page("basins", n=32, split="train", example=1)
    spec = chart(at, "Basin size per example against N")
    for split in ("train", "test"):
        expected = pd.concat([pd.read_parquet(zoo / "grammar" / f"n{n:05d}" / "measure" / "basin_size.parquet")
                              .assign(n=n) for n in (8, 32)])
        expected = expected[expected["split"] == split].sort_values(["n", "example"])
        tr = trace(spec, split)
        assert list(tr["x"]) == [str(n) for n in expected["n"]] and np.allclose(values(tr["y"]), expected["size"])
    spec = chart(at, "Fixed points")
    for n, i in ((8, 0), (32, 1)):
        fixed = pd.read_parquet(zoo / "grammar" / f"n{n:05d}" / "measure" / "fixed_points.parquet")
        for split in ("train", "test"):
            assert values(trace(spec, split)["y"])[i] == pytest.approx(fixed.loc[fixed["split"] == split, "fixed"].mean())
    assert sum("Spearman" in m.label for m in at.metric) == 2
    # the selected example's Hamming profile beside both ideal denoisers' profiles of the same example
    spec = chart(at, "Hamming profile of train #1")
    measure = zoo / "grammar" / "n00032" / "measure"
    for label, table in (("model", "basin_profile"), ("ideal memorizer", "memorizer_basin_profile"),
                         ("ideal generalizer", "generalizer_basin_profile")):
        p = pd.read_parquet(measure / f"{table}.parquet")
        p = p[(p["split"] == "train") & (p["example"] == 1)].sort_values("k")
        tr = trace(spec, label)
        assert np.allclose(values(tr["x"]), p["k"] / p["n_content"])
        assert np.allclose(values(tr["y"]), p["recovered"] / p["trials"])
    # the extremes: ranked by size, then area, then length, one row per example
    ext = at.dataframe[0].value
    ranked = profiles.rank(pd.read_parquet(measure / "basin_size.parquet"), pd.read_parquet(measure / "basin_profile.parquet"))
    assert list(ext.loc[ext["end"] == "largest", "rank"]) == [1, 2, 3, 4, 5]
    assert list(ext.loc[ext["end"] == "smallest", "rank"]) == [16, 15, 14, 13, 12]
    assert not ext.duplicated(["split", "example"]).any()
    assert list(ext["example"][:5]) == list(ranked["example"][:5])


def test_basins_length_filter(runs_dir, zoo):
    at = page("basins", n=32)
    lengths = at.selectbox(key="basin_length").options
    sizes = pd.read_parquet(zoo / "grammar" / "n00032" / "measure" / "basin_size.parquet")
    assert lengths == ["all lengths"] + [f"n = {n} content positions" for n in sorted(sizes["n_content"].unique())]
    n = int(sizes["n_content"].value_counts().idxmax())
    at.selectbox(key="basin_length").set_value(n).run()
    ok(at)
    spec = chart(at, "Basin size against sentence length")
    xs = np.concatenate([values(trace(spec, s)["x"]) for s in ("train", "test") if s in names(spec)])
    assert np.allclose(np.round(xs), n)                                   # only that length is drawn
    ext = at.dataframe[0].value
    assert len(ext) == min(10, int((sizes["n_content"] == n).sum())) and (ext["n_content"] == n).all()
    at.selectbox(key="basin_among").set_value("test").run()
    assert (at.dataframe[0].value["split"] == "test").all()


def test_basins_example_opens_on_denoise(runs_dir):
    at = page("basins", n=32)
    at.radio[0].set_value("test").run()
    next(s for s in at.selectbox if s.label == "example").select(2).run()
    assert chart(at, "Hamming profile of test #2")
    at.button[0].click().run()   # "Denoise this sentence"
    assert at.query_params["page"] == "denoise"
    assert (at.query_params["split"], at.query_params["example"]) == ("test", "2")


# --------------------------------------------------------------------------------- older measurements

@pytest.fixture
def old_zoo(zoo, tmp_path, monkeypatch) -> Path:
    """A copy of the tiny zoo as measured before the new tables: N = 32 lacks the basin and ideal
    memorizer tables (and its summary the memorizer's levels), N = 8 the memorizer's profile."""
    root = tmp_path / "old_zoo"
    shutil.copytree(zoo, root)
    m32, m8 = root / "grammar" / "n00032" / "measure", root / "grammar" / "n00008" / "measure"
    for name in ("basin_profile", "basin_size", "memorizer_recovery", "memorizer_basin_profile"):
        (m32 / f"{name}.parquet").unlink()
    summary = json.loads((m32 / "summary.json").read_text())
    for key in ("ideal_memorizer", "basin_size"):
        summary.pop(key)
    (m32 / "summary.json").write_text(json.dumps(summary))
    (m8 / "memorizer_basin_profile.parquet").unlink()
    monkeypatch.setenv("BASIN_ZOO", str(root))
    monkeypatch.setenv("BASIN_RUNS", str(tmp_path / "runs"))
    return root


def test_pages_say_which_table_is_missing(old_zoo):
    at = page("transition", n=32)
    text = infos(at)
    assert "`memorizer_recovery`" in text and f"python -m engine measure {(old_zoo / 'grammar' / 'n00032').resolve()} " \
        "--only memorizer_recovery" in text and "n00008 --only" not in text
    assert list(values(trace(chart(at, "Recovery of corrupted"), "ideal memorizer · train")["x"])) == [8, 32]

    at = page("basins", n=32)
    text = infos(at)
    assert f"python -m engine measure {(old_zoo / 'grammar' / 'n00032').resolve()} --only basin_profile,basin_size" in text
    assert "basin-size distribution" in text and "per-example basin size" in text
    assert list(trace(chart(at, "Basin size per example"), "train")["x"]) == ["8"] * 8   # N = 8 still drawn
    assert chart(at, "Basin radius per example")                          # the older level radius instead
    at.radio[0].set_value("test").run()
    ok(at)

    at = page("basins", n=8)
    text = infos(at)
    assert "--only memorizer_basin_profile" in text
    assert names(chart(at, "Hamming profile")) >= {"model", "ideal generalizer"}
    assert "ideal memorizer" not in names(chart(at, "Hamming profile"))


# -------------------------------------------------------------------------------------------- denoise

def seeds_at(zoo: Path, t: float, corrupting: bool) -> int:
    """The first seed whose corruption of training example 0 of N = 8 at level t does (not) change a
    content position, by brute force."""
    x0 = checkpoint.load(zoo / "grammar" / "n00008").train_ids[0]
    noise = checkpoint.load(zoo / "grammar" / "n00008").noise
    for seed in range(10_000):
        zt = noise.sample_xt(x0[None], t, generator=torch.Generator().manual_seed(seed))[0]
        if bool(((zt != x0) & content_mask(x0)).any()) == corrupting:
            return seed
    raise AssertionError("no such seed")


def side_by_side(at: AppTest, choice: str) -> AppTest:
    at.radio(key="dn_mode").set_value("greedy").run()
    at.toggle(key="dn_compare").set_value(True).run()
    at.selectbox(key="dn_partner").set_value(choice).run()
    return ok(at)


@pytest.mark.parametrize("choice, label", [("ideal:memorizer", "ideal memorizer, N = 8"),
                                           ("ideal:generalizer", "ideal generalizer")])
def test_ideal_denoisers_run_on_the_same_seed(runs_dir, zoo, choice, label):
    seed = seeds_at(zoo, 0.25, corrupting=True)
    at = side_by_side(page("denoise", n=8, split="train", example=0, t=0.25, seed=seed), choice)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(specs) == 2                                                # both grids in one figure, the entropy
    assert specs[0]["data"][0]["text"] == specs[0]["data"][1]["text"]     # the very same corrupted seed
    assert f"B: grammar · {label}" in [a["text"] for a in specs[0]["layout"]["annotations"]]
    assert {tr["name"].split(":")[0] for tr in specs[1]["data"]} == {"A (N = 8)", f"B ({label})"}
    if choice == "ideal:memorizer":   # it knows only the 8 sentences: x0 comes back
        assert any("Recovered x0 exactly" in s.value for s in at.success)


def test_a_seed_that_corrupts_nothing_is_not_a_recovery(runs_dir, zoo):
    seed = seeds_at(zoo, 0.01, corrupting=False)
    at = side_by_side(page("denoise", n=8, split="train", example=0, t=0.01, seed=seed), "ideal:memorizer")
    assert any("corrupted nothing" in w.value for w in at.warning)
    assert not at.success                                                 # x̂ = x0, but no congratulation
    assert any("Nothing to recover" in i.value for i in at.info)
    b = checkpoint.load(zoo / "grammar" / "n00008")
    expected = tj.next_corrupting_seed(b.train_ids[0], 0.01, b.noise, seed)
    assert expected == next(s for s in range(seed + 1, 10**6) if seed_corrupts(b, s, 0.01))
    button = next(bt for bt in at.button if bt.label.startswith("Use seed"))
    assert button.label.startswith(f"Use seed {expected} ")
    button.click().run()
    ok(at)
    assert at.query_params["seed"] == str(expected) and at.number_input(key="dn_seed").value == expected
    assert not any("corrupted nothing" in w.value for w in at.warning)


def seed_corrupts(b, seed: int, t: float) -> bool:
    x0 = b.train_ids[0]
    zt = b.noise.sample_xt(x0[None], t, generator=torch.Generator().manual_seed(seed))[0]
    return bool(((zt != x0) & content_mask(x0)).any())
