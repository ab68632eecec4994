"""The app, page by page, with Streamlit's AppTest on the tiny zoo (conftest ``zoo``): no exception,
the expected elements, the URL state, navigation, and an error (never a traceback) for a bad zoo."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
PAGES = {"basins": "explorer/pages/basins.py", "entropy-map": "explorer/pages/entropy_map.py",
         "generate": "explorer/pages/generate.py", "tour": "explorer/pages/tour.py"}


@pytest.fixture
def app(zoo, monkeypatch, tmp_path):
    """make(open_page=None, **query) -> an AppTest that has run the home page (with the URL query) and,
    if given, switched to ``page`` (a url path) and run it."""
    monkeypatch.setenv("BASIN_ZOO", str(zoo))
    monkeypatch.setenv("BASIN_RUNS", str(tmp_path / "runs"))

    def make(open_page: str | None = None, **query) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        for k, v in query.items():
            at.query_params[k] = str(v)
        at.run()
        if open_page:
            at.switch_page(PAGES[open_page]).run()
        return at

    return make


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def trace_names(at: AppTest) -> set[str]:
    return {tr.get("name") for spec in chart_specs(at) for tr in spec["data"]}


# ------------------------------------------------------------------------------------------ transition

def test_transition_page(app):
    at = ok(app())
    assert at.title[0].value == "From memorizing to generalizing"
    assert len(at.get("plotly_chart")) == 4
    expected = {"train recovery rate", "test recovery rate", "model · train", "model · test",
                "ideal memorizer · train", "ideal generalizer · test"}
    assert expected <= trace_names(at)
    # the generation categories against N, one panel per sampler, from the zoo's two generation tables
    spec = next(s for s in chart_specs(at) if "pure noise" in s["layout"]["title"]["text"])
    panels = {tr.get("xaxis", "x") for tr in spec["data"]}
    assert panels == {"x", "x2"} and {a["text"] for a in spec["layout"]["annotations"]} >= {"exact step"}
    assert len(at.get("download_button")) == 5  # four figures + the table
    # do unseen sentences become attractors: fixed points, p(k = 1) and exact match, test with its band
    spec = next(s for s in chart_specs(at) if "unseen sentences" in s["layout"]["title"]["text"])
    panels = {tr.get("xaxis", "x") for tr in spec["data"]}
    assert panels == {"x", "x2", "x3"}
    assert {"test", "test · 95 %", "train", "ideal memorizer · test"} <= {tr.get("name") for tr in spec["data"]}
    assert any("Ideal references" in c.value for c in at.caption)
    assert at.query_params["page"] == "transition" and at.query_params["n"] == "8"   # snapped to the zoo
    levels = at.sidebar.selectbox(key="w_t_transition").options   # the labels say what share changes
    assert any(o.startswith("t = 0.25 · ≈") and o.endswith("% changed") for o in levels)


def test_url_sets_selection_and_widgets_write_it_back(app):
    at = ok(app(n=32, t=0.5))
    assert at.sidebar.selectbox(key="w_n").value == 32
    assert at.sidebar.selectbox(key="w_t_transition").value == 0.5
    at.sidebar.selectbox(key="w_n").select(8).run()
    ok(at)
    assert at.query_params["n"] == "8" and at.query_params["t"] == "0.5"


def test_bad_url_values_warn_not_crash(app):
    at = app(n="lots", corpus="nonexistent", t="x", example="-")
    assert not at.exception
    assert any("not in the zoo" in w.value for w in at.sidebar.warning)
    assert at.query_params["corpus"] == "grammar" and at.query_params["n"] == "8"
    for page in PAGES:   # out-of-range values reach every page without a traceback
        at = app(page, n=5000, t="-3", example=99999, split="nowhere", seed=-5)
        assert not at.exception, (page, [e.message for e in at.exception])
        assert at.query_params["n"] == "32"


def test_whatif_runs_are_marked(app, zoo, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    rel = os.path.relpath(zoo / "grammar" / "n00032", runs)   # index paths are relative to the index
    assert rel.startswith("..") and (runs / rel).is_dir()
    (runs / "index.json").write_text(json.dumps([{"corpus": "grammar", "n": 32, "path": rel}]))
    at = ok(app())
    from explorer.whatif.compare import RUN_MARKS

    same = RUN_MARKS[True][1]                                   # the run is a zoo model: the zoo's setting
    assert {f"what-if train ({same})", f"what-if test ({same})"} <= trace_names(at)


def test_page_param_opens_that_page(app):
    at = ok(app(page="generate", n=32))
    assert at.title[0].value == "Generations"
    assert at.query_params["page"] == "generate"


# --------------------------------------------------------------------------------------------- basins

def test_basins_page_and_open_on_denoise(app):
    at = ok(app("basins", n=32))
    assert at.title[0].value == "Basins of attraction"
    assert len(at.get("plotly_chart")) == 5   # sizes by N, fixed points, size vs length, profile, recovery vs t
    assert len(at.dataframe) == 1 and "sentence" in at.dataframe[0].value.columns
    at.radio[0].set_value("test").run()
    ok(at)
    assert at.query_params["split"] == "test"
    next(s for s in at.selectbox if s.label == "example").select(3).run()
    assert at.query_params["example"] == "3"
    at.button[0].click().run()   # "Denoise this sentence"
    assert at.query_params["page"] == "denoise"
    assert (at.query_params["split"], at.query_params["example"], at.query_params["n"]) == ("test", "3", "32")


def test_the_home_page_imports_neither_torch_nor_umap(zoo, tmp_path):
    """The cold start's budget: the app script and its home page (Transition, with a what-if job
    registry and the runs' comparison) run in a fresh interpreter without importing torch, umap or
    numba, which the Denoise and Entropy map pages load when first opened."""
    code = ("import sys; from streamlit.testing.v1 import AppTest; "
            f"at = AppTest.from_file({APP!r}, default_timeout=60); at.run(); "
            "assert not at.exception, [e.message for e in at.exception]; "
            "assert at.title[0].value.startswith('From memorizing'), at.title[0].value; "
            "print(sorted(m for m in ('torch', 'umap', 'numba') if m in sys.modules))")
    env = {**os.environ, "BASIN_ZOO": str(zoo), "BASIN_RUNS": str(tmp_path / "runs")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


# ---------------------------------------------------------------------------------------- entropy map

def test_entropy_map_with_projection(app):
    umap_before = "umap" in sys.modules
    at = ok(app("entropy-map", n=32))
    names = trace_names(at)
    assert {"train", "test", "generated"} <= names                      # projection traces
    heatmap = [s for s in chart_specs(at) if s["data"][0]["type"] == "heatmap"]
    assert len(heatmap) == 1 and len(heatmap[0]["data"][0]["y"]) == 24  # 8 train + 8 test + 8 generated
    at.radio[0].set_value("ent").run()
    at.radio[1].set_value("radius").run()
    ok(at)
    at.sidebar.multiselect[0].set_value(["test"]).run()
    heatmap = [s for s in chart_specs(at) if s["data"][0]["type"] == "heatmap"]
    assert all(y.startswith("test") for y in heatmap[0]["data"][0]["y"])
    if not umap_before:
        assert "umap" not in sys.modules   # never imported unless a projection is computed


def test_entropy_map_without_projection_offers_to_compute(app):
    at = ok(app("entropy-map", n=8))
    assert any("no UMAP projection" in i.value for i in at.info)
    assert any(b.label.startswith("Compute the projection") for b in at.button)
    assert len(at.get("plotly_chart")) == 1  # the heatmap still shows


# ------------------------------------------------------------------------------------------- generate

def test_generate_page_and_live_samples(app):
    at = ok(app("generate", n=32))
    assert at.title[0].value == "Generations"
    labels = [m.label for m in at.metric]
    assert labels[:2] == ["word bigrams seen in the corpus", "word trigrams seen in the corpus"]
    assert len(labels) == 4 and all("entropy gap" in label for label in labels[2:])
    assert "nearest training sentence" in at.dataframe[0].value.columns
    # the paper's sampler: its own stored generations (same noise), no entropy gap (measured on exact ones)
    at.sidebar.radio(key="w_step").set_value("plugin").run()
    ok(at)
    assert at.query_params["step"] == "plugin"
    assert [m.label for m in at.metric][:2] == labels[:2] and not any("entropy gap" in m.label for m in at.metric)
    at.sidebar.radio(key="w_step").set_value("exact").run()
    at.number_input[0].set_value(7).run()
    assert at.query_params["seed"] == "7"
    at.button[0].click().run()
    ok(at)
    assert len(at.dataframe) == 2 and len(at.dataframe[1].value) == 8


# ----------------------------------------------------------------------------------------------- tour

def test_tour_steps_switch_pages(app):
    at = ok(app("tour", n=32))
    assert len(at.button) == 5
    at.button[0].click().run()
    assert at.title[0].value == "Basins of attraction"
    assert at.query_params["n"] == "8" and at.query_params["page"] == "basins"


# ------------------------------------------------------------------------------------------- bad zoos

@pytest.mark.parametrize("index", [None, "[not json", "[]"])
@pytest.mark.parametrize("page", [None, *PAGES])
def test_missing_or_broken_zoo_gives_an_error(monkeypatch, tmp_path, index, page):
    monkeypatch.setenv("BASIN_ZOO", str(tmp_path / "zoo"))
    monkeypatch.setenv("BASIN_RUNS", str(tmp_path / "runs"))
    if index is not None:
        (tmp_path / "zoo").mkdir()
        (tmp_path / "zoo" / "index.json").write_text(index)
    at = AppTest.from_file(APP, default_timeout=60).run()
    if page:
        at.switch_page(PAGES[page]).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.error and ("No models found" in at.error[0].value or "not a valid zoo index" in at.error[0].value)
