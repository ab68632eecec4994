"""Reading a person's text file, the sentence splitter, and the committed Python-docs corpus.

Expected outputs are written out by hand; the corpus is checked against its own stated invariants
and against a fresh rebuild.
"""
from __future__ import annotations

import gzip
import importlib.util
import platform
import sys
from pathlib import Path

import pytest

from engine.text import textfile
from engine.text.textfile import (MAX_BYTES, PYDOCS_PATH, TextFileError, load_pydocs, read_sentences,
                             split_sentences)
from engine.text.tokenizer import split_words

REPO = Path(__file__).resolve().parent.parent


def _build_script():
    spec = importlib.util.spec_from_file_location("build_pydocs", REPO / "scripts" / "build_pydocs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- rejections ---------------------------------------------------------------------------------

@pytest.mark.parametrize("data, fragment", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"ab\x01\x02\x03\x04\x05cd efgh.", "binary"),  # control characters, no NUL
    (b"Un caf\xe9 au lait.\n", "not valid UTF-8"),  # Latin-1, not UTF-8
    (b"\xff\xfeH\x00i\x00", "UTF-16"),
    (b"", "empty"),
    (b"  \n\t\n\r\n   ", "only blank space"),
])
def test_unusable_bytes_are_refused_with_a_reason(data, fragment):
    with pytest.raises(TextFileError, match=fragment):
        read_sentences(data)


def test_invalid_utf8_message_says_how_to_fix_it():
    with pytest.raises(TextFileError) as e:
        read_sentences("Déjà vu.".encode("latin-1"))
    assert "Re-save it as UTF-8" in str(e.value) and "byte 1" in str(e.value)


def test_too_big_bytes_and_paths(tmp_path):
    data = b"One short line.\n" * 10  # 160 bytes
    with pytest.raises(TextFileError, match="limit"):
        read_sentences(data, max_bytes=100)
    path = tmp_path / "big.txt"
    path.write_bytes(data)
    with pytest.raises(TextFileError, match="limit"):
        read_sentences(path, max_bytes=100)
    assert read_sentences(path, max_bytes=160) == ["one short line ."]
    assert MAX_BYTES == 20 * 1024 * 1024


def test_size_is_checked_before_the_file_is_opened(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 1000)

    def no_open(*args, **kwargs):
        raise AssertionError("the file was opened although its size is over the limit")

    monkeypatch.setattr(textfile, "open", no_open, raising=False)
    with pytest.raises(TextFileError, match="limit"):
        read_sentences(path, max_bytes=999)


def test_missing_path_directory_and_unreadable_file(tmp_path, monkeypatch):
    with pytest.raises(TextFileError, match="no file at"):
        read_sentences(tmp_path / "nope.txt")
    with pytest.raises(TextFileError, match="folder"):
        read_sentences(str(tmp_path))
    path = tmp_path / "locked.txt"
    path.write_text("A fine sentence.\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(textfile, "open", denied, raising=False)
    with pytest.raises(TextFileError, match="Could not read .*Permission denied"):
        read_sentences(path)


def test_no_usable_sentence():
    with pytest.raises(TextFileError, match="No usable sentence: the file has no words"):
        read_sentences("\u200b\n\u200b \u200b\n".encode())   # zero-width spaces only


def test_a_long_sentence_is_cut_not_dropped():
    reading = textfile.read_text((" ".join(["word"] * 20) + ".\n").encode())
    assert reading.sentences == [" ".join(["word"] * 15), "word word word word word ."]
    assert "each of the 1 sentences found has more than 15 words" in reading.summary()


def test_non_ascii_words_are_kept_whole():
    assert read_sentences("Всё хорошо.\nCafé déjà vu.\n".encode()) == ["всё хорошо .", "café déjà vu ."]


def test_seq_len_must_leave_room_for_a_word():
    with pytest.raises(ValueError, match="seq_len"):
        read_sentences(b"Hi there.", seq_len=1)


# --- splitting ----------------------------------------------------------------------------------

def test_split_sentences_handles_abbreviations_numbers_and_dotted_names():
    text = ("Use e.g. lists or tuples. See os.path for details. Pi is 3.14 or so. "
            "Dr. Who arrived, etc. Then he left. It is one, i.e. The Only One! "
            'Really? Yes. He said "stop." Then it ended')
    assert split_sentences(text) == [
        "Use e.g. lists or tuples.",
        "See os.path for details.",
        "Pi is 3.14 or so.",
        "Dr. Who arrived, etc.",
        "Then he left.",
        "It is one, i.e. The Only One!",
        "Really?",
        "Yes.",
        'He said "stop."',
        "Then it ended",
    ]


def test_split_sentences_blank_line_ends_a_sentence_and_lowercase_continues():
    text = "A title without a stop\n\nThe body runs\non. version 3.8. is\nfine.\n\n\n"
    assert split_sentences(text) == ["A title without a stop", "The body runs on. version 3.8. is fine."]


def test_line_mode_keeps_each_line_a_sentence():
    data = b"The cat sat.\r\nA dog ran! It barked.\n\nthe bird flew\nWhy not?\n"
    assert read_sentences(data) == ["the cat sat .", "a dog ran !", "it barked .", "the bird flew",
                                    "why not ?"]


def test_prose_mode_joins_wrapped_lines_into_sentences():
    data = (b"When the rain stopped the children ran out to play in the wet\n"
            b"garden and the yard. They found frogs, e.g. small green ones, under\n"
            b"stones. Dr. Smith counted 3.5 frogs on every single stone in\n"
            b"the garden\n"
            b"\n"
            b"Nobody believed him and the frogs were never counted again by\n"
            b"anyone at all.\n")
    assert read_sentences(data) == [
        # "When the rain stopped ... yard." has 18 tokens: cut before "and" to fit seq_len 16.
        "when the rain stopped the children ran out to play in the wet garden",
        "and the yard .",
        "they found frogs , e . g . small green ones , under stones .",
        "dr . smith counted 3 . 5 frogs on every single stone in the garden",  # paragraph end
        "nobody believed him and the frogs were never counted again by anyone at all .",
    ]
    assert read_sentences(data, seq_len=19)[0] == (
        "when the rain stopped the children ran out to play in the wet garden and the yard .")


def test_long_sentences_are_cut_at_seq_len_minus_one():
    fifteen = " ".join(f"w{i}" for i in range(14)) + "."
    sixteen = " ".join(f"w{i}" for i in range(15)) + "."
    data = f"{sixteen}\n{fifteen}\nShort one.\n".encode()
    # no clause boundary: the latest cut that leaves no piece under three tokens
    assert read_sentences(data) == [" ".join(f"w{i}" for i in range(13)), "w13 w14 .",
                                    " ".join(split_words(fifteen)), "short one ."]
    pieces = read_sentences(data, seq_len=4)
    assert all(len(p.split()) <= 3 for p in pieces) and "short one ." in pieces
    assert pieces[:5] == ["w0 w1 w2", "w3 w4 w5", "w6 w7 w8", "w9 w10 w11", "w12 w13 w14"]


def test_duplicates_dropped_keeping_first_occurrence_and_bom_ignored(tmp_path):
    data = "\ufeffA cat.\nThe dog.\na  CAT.\nThe dog.\nZebra.\n".encode()
    expected = ["a cat .", "the dog .", "zebra ."]
    assert read_sentences(data) == expected
    path = tmp_path / "mine.txt"
    path.write_bytes(data)
    assert read_sentences(path) == expected  # paths and raw bytes read alike


# --- the committed Python-docs corpus -----------------------------------------------------------

def test_pydocs_corpus_invariants():
    sentences = load_pydocs()
    assert len(sentences) > 1000
    assert sentences == sorted(set(sentences))
    for s in sentences:
        tokens = split_words(s)
        assert 4 <= len(tokens) <= 15, s
        assert " ".join(tokens) == s, s
    vocab = {w for s in sentences for w in s.split()}
    assert len(vocab) <= 1000


def test_load_pydocs_missing_file(tmp_path):
    with pytest.raises(TextFileError, match="missing.*build_pydocs"):
        load_pydocs(tmp_path / "gone.txt.gz")


def test_limit_vocabulary_drops_the_rarest_words_with_their_sentences():
    build = _build_script()
    # counts a2 b2 c2 d1 e1: "e" goes first (tie with "d", alphabetically last) and takes "d e",
    # and with it the only "d".
    assert build.limit_vocabulary(["a b", "a c", "b c", "d e"], 3) == ["a b", "a c", "b c"]
    # "x" is in one sentence and "y" in two: dropping "x" alone loses least.
    assert build.limit_vocabulary(["p x", "p y", "q y", "p q"], 3) == ["p y", "q y", "p q"]


def test_prose_paragraphs_drop_literal_blocks_tables_and_titles():
    build = _build_script()
    topic = ("The Title\n*********\n\nSome prose that wraps\nonto a second line:\n\n"
             "   x = compute(1)\n   print(x)\n\n+----+\n| a  |\n+----+\n\n"
             "* An item that\n  wraps.\n\nNote:\n\n  A note in prose.\n")
    assert build.prose_paragraphs(topic) == [
        "Some prose that wraps onto a second line:", "An item that wraps.", "Note:", "A note in prose."]


def test_rebuilding_reproduces_the_committed_corpus_byte_for_byte(tmp_path):
    build = _build_script()
    if platform.python_version() != build.BUILT_WITH_PYTHON or sys.flags.optimize >= 2:
        pytest.skip(f"the corpus was built with Python {build.BUILT_WITH_PYTHON} (without -OO); "
                    f"this is {platform.python_version()}, whose documentation text differs")
    out = tmp_path / "pydocs.txt.gz"
    counts = build.build(out)
    assert counts["sentences"] == len(load_pydocs())
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(PYDOCS_PATH.read_bytes())
    assert out.read_bytes() == PYDOCS_PATH.read_bytes()
