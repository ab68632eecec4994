"""What-if at a larger N is honest (issue 21, item 2), under AppTest on the tiny zoo: above the N the
default budget fits the form says so and offers the zoo's budget (with its measured time) and the
zoo's own model; an uploaded file survives a page switch; a run on an uploaded file reaches every
page through the sidebar's corpus selector."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.text.corpus import corpus_from_bytes
from explorer.whatif import runs

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")
PAGES = {"transition": "explorer/pages/transition.py", "whatif": "explorer/pages/whatif.py",
         "denoise": "explorer/pages/denoise.py", "basins": "explorer/pages/basins.py",
         "entropy-map": "explorer/pages/entropy_map.py", "generate": "explorer/pages/generate.py"}
TEXT = "\n".join(f"the {a} sees the {b}." for a in ("cat", "dog", "cow", "owl", "fox", "bee")
                 for b in ("sun", "moon", "sea", "tree", "hill", "rock")).encode()

pytestmark = pytest.mark.usefixtures("single_thread")


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def app(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = str(v)
    return ok(at.run())


def test_above_what_the_default_fits_the_form_offers_the_zoo(runs_dir):
    at = app(page="what-if")
    at.number_input(key="wi_n").set_value(runs.DEFAULT_FITS_N).run()
    assert not any("does not fit" in w.value for w in at.warning)
    at.number_input(key="wi_n").set_value(200).run()
    ok(at)
    assert any("This budget does not fit N = 200" in w.value for w in at.warning)
    budget = at.radio(key="wi_budget")
    assert runs.ZOO_BUDGET in budget.options or any(o.startswith("zoo —") for o in budget.options)
    zoo_label = next(o for o in budget.options if o.startswith("zoo —"))
    assert "6,000 steps of 128" in zoo_label and "to train" in zoo_label     # the zoo's budget, with its time
    budget.set_value(runs.ZOO_BUDGET).run()
    ok(at)
    assert not any("does not fit" in w.value for w in at.warning)
    at.button(key="wi_train")                                                  # offered (not clicked: 6,000 steps)
    budget.set_value("standard").run()
    at.button(key="wi_zoo_model").click().run()                                # the zoo's own model nearest N
    ok(at)
    assert at.query_params["page"] == "transition" and at.query_params["n"] == "32"


def test_the_zoo_settings_are_the_zoos():
    s = runs.zoo_settings("grammar", 2048)
    assert (s.size, s.steps, s.batch_size) == ("deep", 6000, 128)
    assert runs.zoo_settings("file:notes.txt", 64) is None


def test_an_upload_survives_a_page_switch(runs_dir):
    at = app(page="what-if")
    at.radio(key="wi_source").set_value("upload").run()
    at.file_uploader(key="wi_file").set_value(("animals.txt", TEXT, "text/plain")).run()
    ok(at)
    assert any("file:animals.txt" in c.value for c in at.caption)
    at.switch_page(PAGES["transition"]).run()
    at.switch_page(PAGES["whatif"]).run()
    ok(at)
    assert any("Using **animals.txt**" in c.value for c in at.caption)
    assert any("file:animals.txt" in c.value for c in at.caption)              # the corpus is read again
    assert any(b.key == "wi_train" for b in at.button)


def test_a_run_on_an_uploaded_file_reaches_every_page(runs_dir):
    corpus = corpus_from_bytes("animals.txt", TEXT, 16)
    runs.train_and_measure(corpus, runs.Settings(n=20, steps=20, size="tiny", measure="light"), runs_dir)
    at = app(corpus="file:animals.txt", n=20)
    assert at.sidebar.selectbox(key="w_corpus").value == "file:animals.txt"
    assert not at.sidebar.warning
    for page in PAGES.values():
        if page.endswith("whatif.py"):
            continue
        ok(at.switch_page(page).run())
        assert at.query_params["corpus"] == "file:animals.txt", page
