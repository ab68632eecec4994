"""The whole view in the link (issue 21.4): Denoise's side by side, its second model and its steps,
Transition's metric, the Entropy map's selection tool, rows per split and the sequences chosen on its
projection travel in the URL (``explorer.state.LINKED``): a link restores each widget, changing the
widget writes the URL, and a bad value leaves a note and the default — with AppTest on the tiny zoo."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from explorer import state
from test_state import APP, go

pytestmark = pytest.mark.usefixtures("single_thread")


def run(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def notes(at: AppTest) -> list[str]:
    return [w.value for w in at.sidebar.warning if w.value.startswith("Ignored ")]


def heatmap_rows(at: AppTest) -> list[str]:
    spec = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"heatmap"' in c.proto.spec][-1]
    return spec["data"][0]["y"]


# ------------------------------------------------------------------------------------- the text form

@pytest.mark.parametrize("points, text", [
    ([("train", 0), ("train", 1), ("train", 2), ("train", 3), ("train", 7), ("test", 2)], "train:0-3,7;test:2"),
    ([("test", 5), ("test", 3), ("generated", 0), ("test", 4)], "test:5,3-4;generated:0"),
    ([("train", 9)], "train:9")])
def test_a_selection_as_text_and_back(points, text):
    assert state._points_text(points) == text
    expected = [p for split in dict.fromkeys(s for s, _ in points) for p in points if p[0] == split]
    assert state._points(text) == expected        # grouped by split, each split's order kept


@pytest.mark.parametrize("raw", ["", "train", "train:", "valid:1", "train:3-1", "train:-1", "train:a", "train:1-",
                                 f"train:0-{state.MAX_SELECTED}", "train:1;test"])
def test_a_bad_selection_text_is_refused(raw):
    with pytest.raises(ValueError):
        state._points(raw)


def test_link_names_do_not_clash():
    names = [link.name for link in state.LINKED.values()]
    assert len(set(names)) == len(names) and not set(names) & (set(state.KEYS) | set(state.VIEW) | {"page"})
    assert set(state.LINKED) <= set(state.PRIVATE)


def test_a_partner_in_the_zoo_travels_relative_to_it(runs_dir, zoo):
    at = AppTest.from_string(
        "from explorer import state\n"
        f"assert state._model_text({str(zoo / 'grammar' / 'n00032')!r}) == 'grammar/n00032'\n"
        f"assert state._model_key('grammar/n00032') == {str(zoo / 'grammar' / 'n00032')!r}\n"
        f"assert state._model_text({str(runs_dir / 'grammar' / 'n00016')!r}) == 'run:grammar/n00016'\n"
        f"assert state._model_key('run:grammar/n00016') == {str(runs_dir / 'grammar' / 'n00016')!r}\n"
        "assert state._model_key('ideal:memorizer') == state._model_text('ideal:memorizer') == 'ideal:memorizer'\n")
    at.run()
    assert not at.exception, [e.message for e in at.exception]


# ------------------------------------------------------------------------------------------- Denoise

def test_denoise_view_from_a_link(runs_dir):
    at = run(page="denoise", n=8, compare=1, partner="ideal:memorizer", mode="greedy", step="plugin")
    assert not notes(at)
    assert at.toggle(key="dn_compare").value is True
    assert at.selectbox(key="dn_partner").value == "ideal:memorizer"
    assert at.radio(key="dn_mode").value == "greedy" and at.sidebar.radio(key="w_step").value == "plugin"
    assert "**B: grammar · ideal memorizer, N = 8**" in [m.value for m in at.markdown]
    link = dict(at.query_params)
    assert {k: link[k] for k in ("compare", "partner", "mode", "step")} == {
        "compare": "1", "partner": "ideal:memorizer", "mode": "greedy", "step": "plugin"}


def test_denoise_widgets_write_the_link(runs_dir, zoo):
    at = run(page="denoise", n=8)
    assert not {"compare", "partner", "mode"} & set(at.query_params)     # defaults stay out of the link
    at.toggle(key="dn_compare").set_value(True).run()
    assert at.query_params["compare"] == "1" and "partner" not in at.query_params
    at.selectbox(key="dn_partner").set_value("ideal:generalizer").run()
    assert at.query_params["partner"] == "ideal:generalizer"
    at.selectbox(key="dn_partner").set_value(str(zoo / "grammar" / "n00032")).run()
    assert at.query_params["partner"] == "grammar/n00032"                # relative to the zoo: works elsewhere
    at.radio(key="dn_mode").set_value("greedy").run()
    assert at.query_params["mode"] == "greedy"
    go(at, "transition")                                                  # kept in the link on other pages
    assert at.query_params["compare"] == "1" and at.query_params["partner"] == "grammar/n00032"
    again = run(**dict(at.query_params) | {"page": "denoise"})
    assert again.selectbox(key="dn_partner").value == str(zoo / "grammar" / "n00032") and not notes(again)
    go(at, "denoise")
    at.radio(key="dn_mode").set_value("stochastic").run()
    at.toggle(key="dn_compare").set_value(False).run()
    assert "mode" not in at.query_params and "compare" not in at.query_params


@pytest.mark.parametrize("query, words, fallback", [
    ({"compare": "maybe"}, "compare must be 1 (on) or 0 (off)", "side by side off"),
    ({"mode": "fast"}, "mode must be 'stochastic' or 'greedy'", "stochastic steps")])
def test_a_bad_denoise_value_is_a_note(runs_dir, query, words, fallback):
    at = run(page="denoise", n=8, **query)
    assert len(notes(at)) == 1 and words in notes(at)[0] and notes(at)[0].endswith(f"Using {fallback}.")
    assert at.toggle(key="dn_compare").value is False and at.radio(key="dn_mode").value == "stochastic"
    assert not set(query) & set(at.query_params)


@pytest.mark.parametrize("partner", ["grammar/n00008", "grammar/n99999", "ideal:nothing", "../../etc"])
def test_a_partner_the_page_does_not_offer_is_a_note(runs_dir, partner):
    """n00008 is the model itself, never its own partner; the others do not exist."""
    at = run(page="denoise", n=8, compare=1, partner=partner)
    assert len(notes(at)) == 1, notes(at)
    assert "second models Denoise lists" in notes(at)[0] and notes(at)[0].endswith("Using the default second model.")
    assert at.selectbox(key="dn_partner").value.endswith("n00032")     # the default: the largest N
    assert "partner" not in at.query_params and at.query_params["compare"] == "1"
    at.radio(key="dn_mode").set_value("greedy").run()                   # said once
    assert not notes(at)


# ---------------------------------------------------------------------------------------- Transition

def test_the_metric_from_a_link_and_into_it(runs_dir):
    at = run(page="transition", n=8, metric="exact_match")
    assert at.sidebar.radio(key="tr_metric").value == "exact_match" and at.query_params["metric"] == "exact_match"
    at.sidebar.radio(key="tr_metric").set_value("recovery_rate").run()
    assert "metric" not in at.query_params
    at.sidebar.radio(key="tr_metric").set_value("exact_match").run()
    assert at.query_params["metric"] == "exact_match"
    bad = run(page="transition", n=8, metric="bleu")
    assert len(notes(bad)) == 1 and "metric must be 'recovery_rate' or 'exact_match'" in notes(bad)[0]
    assert bad.sidebar.radio(key="tr_metric").value == "recovery_rate" and "metric" not in bad.query_params


# ------------------------------------------------------------------------------------------ Entropy map

def test_tool_and_rows_from_a_link_and_into_it(runs_dir):
    at = run(page="entropy-map", n=32, tool="box", rows=8)
    assert at.radio(key="em_tool").value == "box" and at.sidebar.slider(key="em_rows").value == 8
    assert heatmap_rows(at)[:9] == [f"train #{i}" for i in range(8)] + ["test #0"]
    at.sidebar.slider(key="em_rows").set_value(12).run()
    at.radio(key="em_tool").set_value("click").run()
    assert at.query_params["rows"] == "12" and at.query_params["tool"] == "click"
    at.radio(key="em_tool").set_value("lasso").run()
    assert "tool" not in at.query_params


@pytest.mark.parametrize("query, words", [({"tool": "pen"}, "tool must be 'lasso', 'box' or 'click'"),
                                          ({"rows": "10"}, "rows must be a number of rows from 4 to 128"),
                                          ({"rows": "1e9"}, "rows must be a number of rows from 4 to 128"),
                                          ({"sel": "train:1-"}, "sel must be a list like")])
def test_a_bad_entropy_map_value_is_a_note(runs_dir, query, words):
    at = run(page="entropy-map", n=32, **query)
    assert len(notes(at)) == 1 and words in notes(at)[0]
    assert at.radio(key="em_tool").value == "lasso" and at.sidebar.slider(key="em_rows").value == 24
    assert not set(query) & set(at.query_params) and not any(b.key == "em_clear" for b in at.button)


def test_a_selection_from_a_link(runs_dir):
    """The heatmap shows the selected sequences, the map marks them selected (the rest dimmed), and
    'Clear the selection' takes them out of the view and the link."""
    at = run(page="entropy-map", n=32, sel="train:5,1-2;test:3", rows=4)
    assert not notes(at) and at.query_params["sel"] == "train:5,1-2;test:3"
    assert heatmap_rows(at) == ["train #5", "train #1", "train #2", "test #3"]
    projection = json.loads(at.get("plotly_chart")[0].proto.spec)
    marked = {tr["name"]: [tr["customdata"][i][1] for i in tr["selectedpoints"]]
              for tr in projection["data"] if "selectedpoints" in tr}
    assert {k: sorted(map(int, v)) for k, v in marked.items()} == {"train": [1, 2, 5], "test": [3], "generated": []}
    assert any("4 sequences selected" in c.value for c in at.caption)
    at.button(key="em_clear").click().run()
    assert "sel" not in at.query_params and heatmap_rows(at)[0] == "train #0"
    assert not any(b.key == "em_clear" for b in at.button)


def test_a_selection_belongs_to_its_model(runs_dir):
    at = run(page="entropy-map", n=32, sel="train:1")
    at.sidebar.selectbox(key="w_n").set_value(8).run()
    assert "sel" not in at.query_params and not any(b.key == "em_clear" for b in at.button)
