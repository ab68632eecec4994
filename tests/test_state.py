"""The app's state (``explorer.state``, issue 14): one way to keep widget values across pages, every
page-private session key named, presenter mode and the typed sentence kept in the URL (checked like
every other value of a link) — with AppTest on the tiny zoo, and by reading the pages' source."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import state, style

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")
PAGES = {"transition": "explorer/pages/transition.py", "denoise": "explorer/pages/denoise.py",
         "entropy-map": "explorer/pages/entropy_map.py", "basins": "explorer/pages/basins.py"}

pytestmark = pytest.mark.usefixtures("single_thread")


def run(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(PAGES[page]).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


# ------------------------------------------------------------------- every key named in explorer/state

def sources() -> list[Path]:
    """The app's modules but the state package (whose own session keys are its internals)."""
    files = sorted((REPO / "explorer").rglob("*.py"))
    return [f for f in files if (REPO / "explorer" / "state") not in f.parents]


def named(key: str) -> bool:
    return (key in state.PRIVATE or key in state.SESSION or key in state.ELEMENTS
            or any(key.startswith(e + "_") for e in state.ELEMENTS))


def test_every_page_key_is_named_in_state():
    found = {}
    patterns = [r"""\bkey\s*=\s*f?["']([A-Za-z_]+)""", r"""state\.bind\(\s*["']([A-Za-z_]+)""",
                r"""session_state(?:\.get|\.pop|\.setdefault)?[\[(]\s*f?["']([A-Za-z_]+)"""]
    for f in sources():
        text = f.read_text(encoding="utf-8")
        for pattern in patterns:
            for key in re.findall(pattern, text):
                found.setdefault(key.rstrip("_"), f.name)
    assert found, "the patterns found no key at all"
    unnamed = {k: f for k, f in found.items() if not named(k)}
    assert not unnamed, f"page-private keys not named in explorer/state/keys.py: {unnamed}"
    assert {"tr_metric", "dn_mode", "em_rows", "em_resets", "dn_grid_pair", "projection", "wi_n", "wi_watch",
            "jobs_seen"} <= set(found)


def test_bind_refuses_an_unnamed_private_key():
    at = AppTest.from_string("import streamlit as st\nfrom explorer import state\nst.checkbox('x', **state.bind('nope'))")
    at.run()
    assert at.exception and "not a page-private key named in explorer.state.PRIVATE" in at.exception[0].message


# ------------------------------------------------------------------------ one way to keep widget state

def test_private_widgets_keep_their_values_across_pages(runs_dir):
    at = run(n=8)
    at.sidebar.radio(key="tr_metric").set_value("exact_match").run()
    go(at, "entropy-map")
    at.sidebar.slider(key="em_rows").set_value(4).run()
    at.sidebar.multiselect(key="em_splits").set_value(["test"]).run()
    go(at, "denoise")
    at.radio(key="dn_mode").set_value("greedy").run()
    go(at, "transition")
    assert at.sidebar.radio(key="tr_metric").value == "exact_match"
    go(at, "entropy-map")
    assert at.sidebar.slider(key="em_rows").value == 4 and at.sidebar.multiselect(key="em_splits").value == ["test"]
    heatmap = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"heatmap"' in c.proto.spec][-1]
    assert heatmap["data"][0]["y"] == [f"test #{i}" for i in range(4)]           # Rows per split respected
    go(at, "denoise")
    assert at.radio(key="dn_mode").value == "greedy"


def test_shared_widgets_follow_the_selection_on_every_page(runs_dir):
    at = run(n=8)
    go(at, "denoise")
    at.number_input(key="dn_seed").set_value(5).run()
    at.slider(key="dn_t").set_value(0.5).run()
    go(at, "transition")
    assert at.query_params["seed"] == "5" and at.sidebar.selectbox(key="w_t_transition").value == 0.5
    go(at, "basins")
    assert at.query_params["t"] == "0.5"


# ------------------------------------------------------------------------------------ presenter mode

def test_presenter_mode_from_a_link(runs_dir):
    at = run(present=1, n=8)
    assert at.session_state["view_present"] is True and at.query_params["present"] == "1"
    assert at.sidebar.toggle(key="w_present").value is True
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["font"]["size"] == style.PRESENT_FONT
    assert any(c.value.startswith("Few sentences") for c in at.main.caption)    # the short caption
    go(at, "denoise")
    assert at.query_params["present"] == "1"                                  # kept across pages
    at.sidebar.toggle(key="w_present").set_value(False).run()
    assert "present" not in at.query_params
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"].get("font", {}).get("size") != style.PRESENT_FONT


@pytest.mark.parametrize("raw", ["2", "yes please", "", "nan"])
def test_bad_present_value_is_a_note(runs_dir, raw):
    at = run(present=raw)
    notes = [w.value for w in at.sidebar.warning if w.value.startswith("Ignored ")]
    assert len(notes) == 1 and "present must be 1 (on) or 0 (off)" in notes[0]
    assert notes[0].endswith("Using presenter mode off.") and "present" not in at.query_params


# --------------------------------------------------------------------------- the typed sentence in the URL

def test_the_typed_sentence_is_kept_in_the_url(runs_dir):
    at = run(page="denoise", n=8)
    at.radio(key="dn_source").set_value("text").run()
    at.text_input(key="dn_text").input("the poet admires the pilots").run()
    assert at.query_params["text"] == "the poet admires the pilots"
    link = dict(at.query_params)
    again = run(**link)                                                     # the link opens the same view
    assert again.radio(key="dn_source").value == "text"
    assert again.text_input(key="dn_text").value == "the poet admires the pilots"
    assert len(again.get("plotly_chart")) == 2 and not again.error
    again.radio(key="dn_source").set_value("test").run()                    # an example again: no text in the URL
    assert "text" not in again.query_params and again.query_params["split"] == "test"
    again.radio(key="dn_source").set_value("text").run()                    # ... and back: the sentence returns
    assert again.text_input(key="dn_text").value == "the poet admires the pilots"


def test_choosing_an_example_elsewhere_leaves_the_typed_sentence(runs_dir):
    at = run(page="basins", n=32, text="the poet admires the pilots")
    assert at.session_state["view_text"] == "the poet admires the pilots"
    next(s for s in at.selectbox if s.label == "example").select(3).run()
    assert "text" not in at.query_params and at.query_params["example"] == "3"


def test_an_overlong_text_in_a_link_is_a_note(runs_dir):
    at = run(page="denoise", text="word " * 100)
    notes = [w.value for w in at.sidebar.warning if w.value.startswith("Ignored ")]
    assert len(notes) == 1 and f"at most {state.MAX_TEXT} characters" in notes[0]
    assert at.radio(key="dn_source").value == "train"


# ------------------------------------------------------------------------------------------- numbers

@pytest.mark.parametrize("fn,x,text", [
    (style.number, -0.0001, "0"), (style.number, 0.25, "0.25"), (style.number, 0.2500001, "0.25"),
    (style.number, 1.0, "1"), (style.number, float("nan"), "n/a"), (style.nats, -3e-7, "0.000 nats"),
    (style.nats, 0.0123, "0.012 nats"), (style.signed, -0.0004, "0.000"), (style.signed, -0.012, "-0.012"),
    (style.signed, 0.5, "+0.500"), (style.signed, None, "n/a")])
def test_values_are_written_for_people(fn, x, text):
    assert fn(x) == text


# ------------------------------------------------------------------------------------------- warm-up

def test_the_warm_up_serves_the_denoise_pages_first_run(runs_dir, zoo, monkeypatch):
    """After the background warm-up, the Denoise page's first run denoises nothing itself: its
    trajectory is the one the warm-up put in the cache."""
    import os
    import threading

    from explorer import priority
    from explorer import trajectory as tj
    from explorer import warmup

    done = {}

    def in_thread():   # as the server runs it: in a thread of its own, which it lowers to nice NICE
        done["took"] = warmup.warm(str(zoo))
        done["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    assert done["took"] is not None
    assert done["nice"] >= priority.NICE

    def no_run(*args, **kwargs):
        raise AssertionError("the Denoise page ran the model: the warm-up did not fill its cache")

    monkeypatch.setattr(tj, "run", no_run)
    at = AppTest.from_file(str(REPO / "explorer" / "pages" / "denoise.py"), default_timeout=60).run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.get("plotly_chart")) == 2


# ------------------------------------------------------------------------------------- cached loaders

def test_loaders_read_a_changed_file_again_without_being_cleared(zoo, tmp_path):
    """A back-fill (a new table, a rewritten summary) is read on the next call: the caches are keyed
    by the files' modification times, and nothing clears them by name."""
    import os
    import shutil

    import pandas as pd

    from explorer import data

    root = tmp_path / "zoo"
    shutil.copytree(zoo, root)
    path = str(root / "grammar" / "n00008")
    assert "projection" not in data.tables(path)
    before = data.transition(str(root), "grammar")
    proj = pd.DataFrame({"split": ["train"], "example": [0], "x_tok": [0.0], "y_tok": [0.0], "x_ent": [0.0],
                         "y_ent": [0.0]})
    proj.to_parquet(Path(path) / "measure" / "projection.parquet")
    assert "projection" in data.tables(path)
    summary = Path(path) / "measure" / "summary.json"
    s = json.loads(summary.read_text())
    s["levels"][0]["recovery_rate"] = 0.123
    summary.write_text(json.dumps(s))
    stat = summary.stat()
    os.utime(summary, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))   # a coarse clock: a later time
    after = data.transition(str(root), "grammar")
    row = (after["n"] == 8) & (after["split"] == s["levels"][0]["split"]) & (after["t"] == s["levels"][0]["t"])
    assert after.loc[row, "recovery_rate"].iloc[0] == 0.123 and not before.equals(after)
    assert not hasattr(data.tables, "clear")


def test_no_warm_up_thread_under_apptest(zoo):
    """AppTest runs the app with a stand-in runtime: the warm-up must not start there (a torch
    thread still running when the test process exits aborts it)."""
    import threading

    from explorer import warmup

    warmup.start.clear()
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120).run()
    assert not at.exception
    assert "basin-warmup" not in [t.name for t in threading.enumerate()]
