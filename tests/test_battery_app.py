"""Bad input to the app, one case per input (issue 11): every URL parameter of every page, sentences
typed on Denoise, uploads and numbers on What-if. Each case asserts its exact outcome — never a
traceback, and either the message that names the problem or the value the app fell back to.

URL values are checked once, in ``explorer.state``: the pure ``parse`` is tried here on many values
(and on generated ones with hypothesis), and the whole app under AppTest on a representative set per
parameter and page."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

from engine.text.textfile import read_sentences
from explorer import state

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")
DENOISE = str(REPO / "explorer" / "pages" / "denoise.py")
WHATIF = str(REPO / "explorer" / "pages" / "whatif.py")
MAX_INT = 2**31 - 1
LONG = "9" * 5000          # more digits than int() converts (4,300)
TITLES = {"transition": "From memorizing to generalizing", "denoise": "Denoise one sentence",
          "basins": "Basins of attraction", "entropy-map": "Entropy map", "generate": "Generations",
          "what-if": "What if...?", "tour": "Guided tour: from memory to creativity"}
# what each parameter must be, in the words of the note the app shows when it is not
RULE = {"corpus": "corpus must be a corpus name of at most 256 characters",
        "n": "n must be a training-set size, a whole number up to 2,147,483,647",
        "split": "split must be 'train' or 'test'",
        "example": "example must be an example's index, a whole number up to 2,147,483,647",
        "t": "t must be a corruption level in (0, 1]",
        "seed": "seed must be a seed, a whole number up to 2,147,483,647"}
FALLBACK = {"corpus": "Using corpus = grammar.", "n": "Using the smallest N.", "split": "Using split = train.",
            "example": "Using example = 0.", "t": "Using t = 0.25.", "seed": "Using seed = 0."}


pytestmark = pytest.mark.usefixtures("single_thread")


def run(path: str = APP, **query) -> AppTest:
    at = AppTest.from_file(path, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def notes(at: AppTest) -> list[str]:
    return [w.value for w in at.sidebar.warning if w.value.startswith("Ignored ")]


def selection(at: AppTest) -> dict:
    return {key: at.session_state[f"sel_{key}"] for key in state.KEYS}


def assert_note(at: AppTest, key: str, raw: str) -> None:
    """Exactly one note, for ``key``: it quotes the value (as code), says what is allowed and what
    is used instead."""
    found = notes(at)
    assert len(found) == 1, found
    whole = raw.isprintable() and len(key) + 1 + len(raw) <= 40       # else escaped or shortened
    assert found[0].startswith(f"Ignored `{key}={raw}` from the link: " if whole else f"Ignored `{key}=")
    assert RULE[key] in found[0] and found[0].endswith(FALLBACK[key])
    assert len(found[0]) < 250                                         # a long value is shortened


# ------------------------------------------------------------------------------ state.parse (pure)

BAD_VALUES = {
    "t": ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "-1", "0", "-0", "0.0", "1.0000001", "2", "1e30",
          "1e400", "-1e-300", "", " ", "x", "0.25abc", "0,25", "½", "0x1p-2", "ü🙂", LONG, "None", "[0.5]"],
    "n": ["-1", "nan", "inf", "1e30", "1.5", "8.0", str(2**31), str(2**64), LONG, "", "x", "0x10"],
    "example": ["-1", "1e3", "2.5", str(2**31), str(2**64), "", "abc", "٣.٥"],
    "seed": ["-1", str(2**31), str(2**64), "1.5", "nan", "", "-0.0"],
    "split": ["", "validation", "TRAIN", "train ", "tést", "text", "x" * 5000],
    "corpus": ["", "a" * 257, "grammar\n", "\x00", "tab\there", "\u202egrammar"],
}
GOOD_VALUES = [("t", "1", 1.0), ("t", "1e-5", 1e-5), ("t", " 0.5 ", 0.5), ("t", "5e-1", 0.5), ("n", "0", 0),
               ("n", "٣", 3), ("n", "+8", 8), ("example", "1_000", 1000), ("seed", str(MAX_INT), MAX_INT),
               ("split", "test", "test"), ("corpus", "file:my notes.txt", "file:my notes.txt"),
               ("corpus", "ü🙂", "ü🙂")]


@pytest.mark.parametrize("key,raw", [pytest.param(k, v, id=f"{k}={v[:12]!r}") for k, vs in BAD_VALUES.items()
                                     for v in vs])
def test_parse_rejects(key, raw):
    assert state.parse(key, raw) is None


@pytest.mark.parametrize("key,raw,value", GOOD_VALUES, ids=[f"{k}={r!r}" for k, r, _ in GOOD_VALUES])
def test_parse_accepts(key, raw, value):
    assert state.parse(key, raw) == value


@settings(max_examples=60, deadline=None)
@given(key=hs.sampled_from(list(state.KEYS)), raw=hs.text(max_size=60))
def test_parse_never_raises_and_returns_only_valid_values(key, raw):
    value = state.parse(key, raw)
    assert value is None or (type(value) is state.KEYS[key] and state.RULES[key][0](value))


@settings(max_examples=60, deadline=None)
@given(x=hs.floats(allow_nan=True, allow_infinity=True))
def test_parse_t_accepts_exactly_the_levels_in_0_1(x):
    assert (state.parse("t", repr(x)) is not None) == (0 < x <= 1)


@settings(max_examples=60, deadline=None)
@given(i=hs.integers(min_value=-2**70, max_value=2**70), key=hs.sampled_from(["n", "example", "seed"]))
def test_parse_integers_accepts_exactly_0_to_max(i, key):
    assert state.parse(key, str(i)) == (i if 0 <= i <= MAX_INT else None)


def test_literal_shows_any_text_as_short_inline_code():
    assert state.literal("a`b\nc") == r"`a'b\nc`"
    assert state.literal("x" * 100) == "`" + "x" * 39 + "…`"
    assert state.literal("[link](http://e) **b**") == "`[link](http://e) **b**`"


# ------------------------------------------------------------------------- the URL, page by page

ALL_BAD = [
    pytest.param({"t": "nan", "n": "-1", "seed": str(2**64), "example": "-1", "split": "nowhere", "corpus": ""},
                 id="nan-negative-huge-empty"),
    pytest.param({"t": "inf", "n": "1e30", "seed": "-1", "example": "1.5", "split": "", "corpus": "x" * 300},
                 id="inf-float-long"),
]


@pytest.mark.parametrize("query", ALL_BAD)
@pytest.mark.parametrize("page", list(TITLES))
def test_every_bad_parameter_on_every_page(runs_dir, page, query):
    """All six parameters bad at once: the page draws, the sidebar names each ignored value, and the
    selection (and the address bar) holds the defaults, N snapped to the zoo's smallest."""
    at = run(page=page, **query)
    assert at.title[0].value == TITLES[page]
    assert not at.error, [e.value for e in at.error]
    found = notes(at)
    assert [n.split("=")[0] for n in found] == [f"Ignored `{k}" for k in state.KEYS]
    assert all(RULE[k] in n and n.endswith(FALLBACK[k]) for k, n in zip(state.KEYS, found))
    expected = {**state.DEFAULTS, "n": 0 if page == "what-if" else 8}   # What-if has no zoo selector
    assert selection(at) == expected
    assert {k: at.query_params[k] for k in state.KEYS} == {k: str(v) for k, v in expected.items()}


BAD_T = ["nan", "NaN", "inf", "-inf", "-1", "0", "2", "1e400", "", "0.25abc", LONG]


@pytest.mark.parametrize("raw", BAD_T, ids=[r[:12] for r in BAD_T])
def test_denoise_bad_t_falls_back_with_a_note(runs_dir, raw):
    """The reported failure: ``/?page=denoise&t=nan`` raised "t0 must be in (1e-05, 1]"."""
    at = run(page="denoise", t=raw)
    assert_note(at, "t", raw)
    assert at.slider(key="dn_t").value == 0.25 and at.session_state["sel_t"] == 0.25
    assert at.query_params["t"] == "0.25"
    assert not at.error and len(at.get("plotly_chart")) == 2           # the grid and the entropy curve


def test_denoise_page_file_with_bad_t(runs_dir):
    """``/denoise?t=nan``: the page on its own (no entry script, so no note) falls back all the same."""
    at = run(DENOISE, t="nan")
    assert at.slider(key="dn_t").value == 0.25 and not at.error


@pytest.mark.parametrize("t,slider", [(math.nan, 0.25), (-math.inf, 0.25), (-1.0, 0.01)])
def test_denoise_page_clamps_any_shared_t(runs_dir, t, slider):
    """The page's own clamp, for a shared t that the URL parser would never let in (set directly)."""
    at = AppTest.from_file(DENOISE, default_timeout=60)
    at.session_state["_state_ready"] = True
    for key, value in {**state.DEFAULTS, "n": 8, "t": t}.items():
        at.session_state[f"sel_{key}"] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.slider(key="dn_t").value == slider and len(at.get("plotly_chart")) == 2


@pytest.mark.parametrize("raw,slider", [("1e-300", 0.01), ("0.999", 1.0)])
def test_denoise_extreme_valid_t_is_clamped_to_the_slider(runs_dir, raw, slider):
    at = run(page="denoise", t=raw)
    assert not notes(at) and not at.error
    assert at.slider(key="dn_t").value == slider
    assert "Level t = " + f"{slider:.2f}" in " ".join(m.value for m in at.markdown)


@pytest.mark.parametrize("page,key", [("transition", "w_t_transition"), ("entropy-map", "w_t_entropy")])
@pytest.mark.parametrize("raw", ["nan", "-1"])
def test_level_pages_bad_t(runs_dir, page, key, raw):
    at = run(page=page, t=raw)
    assert_note(at, "t", raw)
    assert at.sidebar.selectbox(key=key).value == 0.25


@pytest.mark.parametrize("raw", ["-1", str(2**64), "", LONG])
def test_bad_n(runs_dir, raw):
    at = run(page="basins", n=raw)
    assert_note(at, "n", raw)
    assert at.session_state["sel_n"] == 8 and at.sidebar.selectbox(key="w_n").value == 8


@pytest.mark.parametrize("raw,nearest", [("5000", 32), ("7", 8), (str(MAX_INT), 32)])
def test_n_not_in_the_zoo_snaps_to_the_nearest(runs_dir, raw, nearest):
    at = run(page="generate", n=raw)
    assert not notes(at)
    assert [w.value for w in at.sidebar.warning] == [f"No model with N = {raw} for 'grammar'; showing N = {nearest}."]
    assert at.session_state["sel_n"] == nearest and at.title[0].value == "Generations"


@pytest.mark.parametrize("split,raw,shown", [("train", "99999", 7), ("test", str(MAX_INT), 511), ("train", "7", 7)])
def test_denoise_example_past_the_end_shows_the_last(runs_dir, split, raw, shown):
    at = run(page="denoise", n="8", split=split, example=raw)
    assert not notes(at) and not at.error
    assert at.number_input(key="dn_example").value == shown


@pytest.mark.parametrize("key,raw", [("example", "1e3"), ("split", "validation"), ("split", "TEST")])
def test_basins_bad_example_or_split(runs_dir, key, raw):
    at = run(page="basins", **{key: raw})
    assert_note(at, key, raw)
    assert at.radio[0].value == "train" and not at.error


def test_basins_example_not_measured_shows_the_first(runs_dir):
    at = run(page="basins", n="32", split="test", example="99999")
    assert not notes(at) and not at.error
    assert at.radio[0].value == "test" and next(s for s in at.selectbox if s.label == "example").value == 0


@pytest.mark.parametrize("page,key", [("denoise", "dn_seed"), ("generate", None)])
@pytest.mark.parametrize("raw", ["-1", str(2**31), "1.5"])
def test_bad_seed(runs_dir, page, key, raw):
    at = run(page=page, seed=raw)
    assert_note(at, "seed", raw)
    widget = at.number_input(key=key) if key else at.number_input[0]
    assert widget.value == 0 and at.session_state["sel_seed"] == 0


def test_largest_seed_is_used(runs_dir):
    at = run(page="denoise", seed=str(MAX_INT))
    assert not notes(at) and not at.error
    assert at.number_input(key="dn_seed").value == MAX_INT


@pytest.mark.parametrize("raw", ["x" * 300, "\x00", "grammar\n"])
def test_bad_corpus(runs_dir, raw):
    at = run(corpus=raw)
    assert_note(at, "corpus", raw)
    assert at.sidebar.selectbox(key="w_corpus").value == "grammar"


@pytest.mark.parametrize("raw", ["[click](http://example.com)", "ü🙂"])
def test_corpus_not_in_the_zoo(runs_dir, raw):
    at = run(page="tour", corpus=raw)
    assert not notes(at)
    assert [w.value for w in at.sidebar.warning] == [f"Corpus `{raw}` is not in the zoo; showing 'grammar'."]


@pytest.mark.parametrize("raw", ["", "../../etc/passwd", "DENOISE", "ü🙂", LONG])
def test_bad_page(runs_dir, raw):
    at = run(page=raw)
    found = notes(at)
    assert len(found) == 1 and found[0].startswith("Ignored `page=")
    assert "there is no such page (the pages are transition, denoise, basins, entropy-map" in found[0]
    assert at.title[0].value == TITLES["transition"] and at.query_params["page"] == "transition"


def test_a_note_is_shown_once(runs_dir):
    at = run(page="denoise", t="nan")
    assert len(notes(at)) == 1
    at.number_input(key="dn_seed").set_value(3).run()
    assert not notes(at) and at.query_params["seed"] == "3"


# ------------------------------------------------------------------------- typed sentences (Denoise)

def typed(text: str) -> AppTest:
    at = run(DENOISE, n="8")
    at.radio(key="dn_source").set_value("text").run()
    at.text_input(key="dn_text").input(text).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.mark.parametrize("text,message", [
    pytest.param("\u200b\u200b", "This sentence cannot be used: the sentence has no words.", id="zero-width"),
    pytest.param("!!! ??? ...", "none of its words is in this model's vocabulary", id="punctuation"),
    pytest.param("zorblax quux", "none of its words is in this model's vocabulary", id="unknown-words"),
    pytest.param("<pad> <eos> <unk>", "none of its words is in this model's vocabulary", id="special-tokens"),
    pytest.param("🙂🙂", "none of its words is in this model's vocabulary", id="emoji"),
    pytest.param("x" * 100_000, "none of its words is in this model's vocabulary", id="one-huge-word"),
    pytest.param("poet " * 16, "the sentence has 16 words; at most 15 fit", id="16-words"),
    pytest.param("word " * 100_000, "the sentence has 100000 words; at most 15 fit", id="huge-text"),
])
def test_typed_sentence_refused(runs_dir, text, message):
    at = typed(text)
    assert len(at.error) == 1 and message in at.error[0].value
    assert not at.get("plotly_chart")                                   # nothing was denoised


@pytest.mark.parametrize("text", ["", " \n\t "])
def test_typed_sentence_empty(runs_dir, text):
    at = typed(text)
    assert [i.value for i in at.info] == ["Type a sentence to corrupt and denoise."] and not at.error
    assert not at.get("plotly_chart")


@pytest.mark.parametrize("text,unknown", [
    pytest.param("the poet admires zorblax", ["“zorblax”"], id="one-unknown"),
    pytest.param("the poet\x00admires ,", ["“\x00”", "“,”"], id="nul-and-comma"),
    pytest.param("the poet " + "a" * 5000, ["“" + "a" * 39 + "…”"], id="long-word-shortened"),
])
def test_typed_sentence_unknown_words_warn(runs_dir, text, unknown):
    at = typed(text)
    assert not at.error and len(at.get("plotly_chart")) == 2
    warning = next(w.value for w in at.warning if w.value.startswith("Not in this model's vocabulary"))
    assert all(u in warning for u in unknown) and len(warning) < 300


@pytest.mark.parametrize("text", ["THE POET ADMIRES THE PILOTS", "the\u200f poet\u202e admires"])
def test_typed_sentence_case_and_format_characters(runs_dir, text):
    at = typed(text)
    assert not at.error and len(at.get("plotly_chart")) == 2
    assert not any(w.value.startswith("Not in this model's vocabulary") for w in at.warning)


# ------------------------------------------------------------------------------- What-if: uploads

GOOD_TEXT = "\n".join(f"the {a} sees the {b}." for a in ("cat", "dog", "cow", "owl", "fox", "bee")
                      for b in ("sun", "moon", "sea", "tree", "hill", "rock"))
BINARY = "This looks like a binary file"
UTF16 = "The file is saved as UTF-16 (or UTF-32). Re-save it as UTF-8"
NOT_UTF8 = "The file is not valid UTF-8 (byte"
TOO_FEW = "usable sentences of at most 15 words; at least 16 are needed"
BAD_UPLOADS = [
    pytest.param(b"", "The file is empty.", id="empty"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(200), BINARY, id="png-header"),
    pytest.param(b"hello\x00world. " * 20, BINARY, id="nul-bytes"),
    pytest.param(bytes(range(1, 32)) * 10, BINARY, id="control-bytes"),
    pytest.param(GOOD_TEXT.encode("utf-16"), UTF16, id="utf16-bom"),
    pytest.param(GOOD_TEXT.encode("utf-32"), UTF16, id="utf32-bom"),
    pytest.param(GOOD_TEXT.encode("utf-16-le"), BINARY, id="utf16-no-bom"),
    pytest.param(b"Hello \xff\xfe world.\n" * 20, NOT_UTF8 + " 6 cannot be decoded)", id="invalid-utf8"),
    pytest.param("Café crème. Très bien.\n".encode("latin-1") * 20, NOT_UTF8, id="latin1"),
    pytest.param(b"   \n\t\n  \r\n", "The file contains only blank space.", id="whitespace"),
    pytest.param(("\u200b\n" * 50).encode(), "No usable sentence: the file has no words", id="zero-width-only"),
    pytest.param(b"... !!! ???\n,,, ;;; :::\n" * 20, "holds only punctuation and symbols, no words", id="punctuation-only"),
    pytest.param(b"One sentence.\nTwo sentences.\n", "has only 2 " + TOO_FEW, id="too-few-sentences"),
    pytest.param(b"the cat sat.\n" * 100, "has only 1 " + TOO_FEW, id="one-sentence-repeated"),
    pytest.param((" ".join(["word"] * 40) + ".\n").encode() * 30,
                 "each of the 30 sentences found has more than 15 words", id="sentences-too-long"),
    pytest.param(("word " * 200_000).encode(), "each of the 1 sentences found has more than 15 words",
                 id="one-huge-line"),
]


@pytest.mark.parametrize("data,message", BAD_UPLOADS)
def test_bad_upload_is_refused_on_the_page(runs_dir, data, message):
    at = run(WHATIF)
    at.radio(key="wi_source").set_value("upload").run()
    at.file_uploader(key="wi_file").set_value(("upload.txt", data, "text/plain")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.error) == 1 and message in at.error[0].value, [e.value for e in at.error]
    assert not any(b.key == "wi_train" for b in at.button)              # no training can start
    assert not runs_dir.exists()


def test_size_limit_is_checked_before_decoding():
    """The upload limit (20 MiB, ``MAX_BYTES``) is a length check on the bytes before anything is
    decoded; the 21 MiB upload itself is test_app_denoise_whatif's. Here: the same check, small."""
    ok = ("A sentence here.\n" * 100).encode()
    assert read_sentences(ok, max_bytes=len(ok)) == ["a sentence here ."]
    with pytest.raises(ValueError, match=r"The file is 1.8 KiB; the limit is 1.7 KiB\. Use a shorter excerpt"):
        read_sentences(ok + b"x" * 100, max_bytes=len(ok))
    with pytest.raises(ValueError, match="the limit is 100 bytes"):
        read_sentences(bytes(101), max_bytes=100)                       # refused as too big, not as binary


def test_upload_smaller_than_n(runs_dir):
    at = run(WHATIF)
    at.radio(key="wi_source").set_value("upload").run()
    at.file_uploader(key="wi_file").set_value(("animals.txt", GOOD_TEXT.encode(), "text/plain")).run()
    assert not at.error and at.number_input(key="wi_n").value == 32    # min(64, the pool)
    at.number_input(key="wi_n").set_value(33).run()
    assert [e.value for e in at.error] == ["N = 33 is out of range: corpus 'file:animals.txt' has 32 training "
                                           "sentences (N must be between 1 and 32)"]
    assert not any(b.key == "wi_train" for b in at.button)


@pytest.mark.parametrize("name", ["../../etc/passwd", "**bold** <script>" + "a" * 300 + ".txt"])
def test_upload_with_an_odd_name(runs_dir, name):
    at = run(WHATIF)
    at.radio(key="wi_source").set_value("upload").run()
    at.file_uploader(key="wi_file").set_value((name, GOOD_TEXT.encode(), "text/plain")).run()
    assert not at.exception and not at.error
    assert any(c.value.startswith(f"file:{name}: 32 training sentences") for c in at.caption)
    assert any(b.key == "wi_train" for b in at.button)


@pytest.mark.parametrize("key,value,low,high", [("wi_n", 0, 1, 8192), ("wi_n", 2**64, 1, 8192),
                                                 ("wi_steps", -50, 0, 20_000), ("wi_steps", 10**9, 0, 20_000),
                                                 ("wi_seed", -1, 0, 2**32 - 1)])
def test_whatif_numbers_out_of_bounds_land_in_range(runs_dir, key, value, low, high):
    """Values the browser would not let through (below a widget's minimum, above its maximum) end up
    inside the widget's range (Streamlit clamps the kept value), on this run and the next; the page
    still offers a valid training."""
    at = run(WHATIF)
    at.number_input(key=key).set_value(value).run()
    for _ in range(2):
        assert not at.exception and not at.error
        assert low <= at.number_input(key=key).value <= high
        assert any(b.key == "wi_train" for b in at.button)
        at.run()


def test_whatif_n_one_past_the_pool(runs_dir):
    at = run(WHATIF)
    at.number_input(key="wi_n").set_value(8193).run()
    assert [e.value for e in at.error] == ["N = 8193 is out of range: corpus 'grammar' has 8192 training "
                                           "sentences (N must be between 1 and 8192)"]
    assert not any(b.key == "wi_train" for b in at.button)
