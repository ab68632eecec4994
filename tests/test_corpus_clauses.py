"""Cutting long sentences at clause boundaries (engine.text.clauses) and deciding a file's layout
(engine.text.formats), against hand-written expectations and properties that hold for any text."""
from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings, strategies as st

from engine.text import formats
from engine.text.clauses import cut, fit
from engine.text.textfile import read_text
from engine.text.tokenizer import spaced_words, split_words

# ------------------------------------------------------------------------------------------ cut


def test_a_sentence_that_fits_is_one_piece_and_an_empty_one_none():
    assert cut("The cat sat.", 15) == ["the cat sat ."]
    assert cut("  \u200b ", 15) == []
    with pytest.raises(ValueError, match="max_tokens"):
        cut("a b", 0)


def test_cuts_prefer_semicolons_and_colons_then_commas_then_conjunctions():
    s = ("And the earth was without form, and void; and darkness was upon the face of the deep "
         "and the Spirit of God moved upon the face of the waters.")
    assert cut(s, 15) == ["and the earth was without form , and void ;",        # ";" beats ","
                          "and darkness was upon the face of the deep",          # before "and"
                          "and the spirit of god moved upon the face of the waters ."]
    assert cut("We came, we saw the town and the river and the hills, we left before dawn.", 10) == [
        "we came , we saw the town and the river", "and the hills , we left before dawn ."]


def test_without_boundaries_pieces_are_full_and_none_is_tiny():
    words = [f"w{i}" for i in range(40)]
    assert cut(" ".join(words), 15) == [" ".join(words[:15]), " ".join(words[15:30]), " ".join(words[30:])]
    # 16 tokens: a 15 + 1 cut would leave one token alone; 13 + 3 does not
    assert [len(p.split()) for p in cut(" ".join(words[:15]) + ".", 15)] == [13, 3]


def test_a_spaced_or_double_dash_is_a_boundary_and_a_hyphen_is_not():
    assert spaced_words("well-known a - b c--d") == [
        ("well", True), ("-", False), ("known", False), ("a", True), ("-", True), ("b", True),
        ("c", True), ("-", False), ("-", False), ("d", False)]
    tail = " the rest goes on for a while"
    assert cut("It is a well-known fact - nobody denies it" + tail, 12)[0] == "it is a well - known fact -"
    assert cut("It was the self-same day--nobody denies it" + tail, 12)[0] == "it was the self - same day - -"
    assert cut("The long-standing well-known ever-present self-evident truth stays" + tail, 12)[0] == \
        "the long - standing well - known ever - present"   # no dash: cut between words, not inside one


def test_an_extra_piece_beats_a_cut_inside_a_clause():
    # three clauses of 8 tokens: two pieces of 12 would cut the middle clause in half
    s = "a1 a2 a3 a4 a5 a6 a7 , b1 b2 b3 b4 b5 b6 b7 , c1 c2 c3 c4 c5 c6 c7 ."
    assert cut(s, 12) == ["a1 a2 a3 a4 a5 a6 a7 ,", "b1 b2 b3 b4 b5 b6 b7 ,", "c1 c2 c3 c4 c5 c6 c7 ."]
    # two clauses that fit two pieces: no extra piece
    s = "alpha beta gamma delta epsilon , zeta eta theta iota kappa , lambda mu nu xi omicron pi"
    assert cut(s, 12) == ["alpha beta gamma delta epsilon , zeta eta theta iota kappa ,",
                          "lambda mu nu xi omicron pi"]


TEXT = st.lists(st.sampled_from(["word", "and", ",", ";", ":", "-", "--", "which", "x-y", ".", "Big",
                                 "(", ")", "'", "élan", "3.5"]), min_size=0, max_size=120)


@settings(max_examples=200, deadline=None)
@given(TEXT, st.integers(1, 40), st.sampled_from([" ", "", "  "]))
def test_pieces_fit_and_give_the_sentence_back(tokens, max_tokens, sep):
    sentence = sep.join(tokens)
    pieces = cut(sentence, max_tokens)
    assert [w for p in pieces for w in p.split()] == split_words(sentence)
    assert all(1 <= len(p.split()) <= max_tokens for p in pieces)
    assert [w for w, _ in spaced_words(sentence)] == split_words(sentence)


@pytest.mark.parametrize("n", range(16, 80, 7))
@pytest.mark.parametrize("max_tokens", [6, 15, 31, 63])
def test_without_boundaries_the_fewest_pieces(n, max_tokens):
    pieces = cut(" ".join(["word"] * n), max_tokens)
    assert len(pieces) == -(-n // max_tokens) and min(len(p.split()) for p in pieces) >= min(3, n)


def test_fit_counts_whole_split_and_repeats():
    f = fit(["A short one.", "", "A short one.", "one two three four five six , seven eight nine ten",
             "Tiny."], 8)
    assert f.sentences == ("a short one .", "one two three four five six ,", "seven eight nine ten",
                           "tiny .")
    assert (f.found, f.whole, f.split, f.pieces, f.repeats) == (4, 3, 1, 2, 1)
    assert f.summary() == ("4 sentences found: 3 kept whole, 1 longer than 7 tokens cut at clause boundaries "
                           "into 2 pieces; 1 repeat dropped: 4 sequences of at most 7 tokens.")
    with pytest.raises(ValueError, match="seq_len"):
        fit(["a"], 1)


# ------------------------------------------------------------------------------------------ layout

PROSE = ("The committee met in the old hall on a wet Tuesday evening. Nobody had expected so many people "
         "to come, and the chairs ran out long before the meeting began. The treasurer read the accounts, "
         "which showed a small surplus for the first time in years; the members applauded politely. "
         "Then the question of the new roof was raised again, and the discussion went on until late. ") * 4


@pytest.mark.parametrize("width", [30, 45, 72, 100])
def test_wrapped_prose_is_prose_at_every_width_and_every_length(width):
    text = textwrap.fill(PROSE, width)
    layouts = {read_text(text.encode(), seq_len=L).layout for L in (16, 24, 32, 48, 64)}
    assert layouts == {"prose"}
    at16 = read_text(text.encode(), seq_len=16).sentences   # 24 tokens: three clauses, no cut inside one
    assert {"the treasurer read the accounts ,", "which showed a small surplus for the first time in years ;",
            "the members applauded politely ."} <= set(at16)
    assert "the treasurer read the accounts , which showed a small surplus for the first time in years ; " \
        "the members applauded politely ." in read_text(text.encode(), seq_len=32).sentences


@pytest.mark.parametrize("text", [
    "apples\nbananas\ncherries\ndates\nelderberries\nfigs\n",                      # a list
    "Roses are red,\nViolets are blue,\nSugar is sweet,\nAnd so are you.\n",         # a verse
    "we walk along the river line and sing our song\nwe walk along the hill\n" * 5,  # lyrics
    "One sentence here.\nAnother one there.\n",
])
def test_line_layouts_do_not_depend_on_the_length(text):
    assert {formats.one_sentence_per_line(text)} == {True}
    assert {read_text(text.encode(), seq_len=L).layout for L in (16, 32, 64)} == {"lines"}


def test_a_poem_with_one_comma_per_line_is_not_a_table():
    poem = "Roses are red, my love,\nViolets are blue, my dear,\nSugar is sweet, they say,\n" \
           "And so are you, I hear.\n"
    assert formats.table(poem) is None


def test_tables_by_name_or_by_content_and_their_header():
    rows = "\n".join(f"{i};The {w} is on the table today;x" for i, w in enumerate(["cup", "pen", "key", "box"]))
    t = formats.table("id;text;flag\n" + rows, "data.csv")
    assert t.column == "'text'" and t.cells[0] == "The cup is on the table today" and len(t.cells) == 4
    tab = "\n".join(f"{i}\tA {w} sentence with several words\t{i * 2}" for i, w in enumerate("abcde"))
    t = formats.table(tab)
    assert t.column == "column 2" and len(t.cells) == 5 and t.words_per_cell == 6
    assert formats.table("plain text, with a comma\nand another line\nand a third, here\n") is None


def test_markdown_is_found_by_name_fence_or_headings():
    assert formats.is_markdown("anything", "notes.MD")
    assert formats.is_markdown("text\n```\ncode\n```\n")
    assert formats.is_markdown("# One\ntext\n## Two\n")
    assert not formats.is_markdown("# a lone comment line\nplain text\n")
    text, skipped = formats.markdown("# Title\nSee [the guide](http://x.y) and **bold** `code`.\n~~~\nx = 1\n~~~\n")
    assert text.splitlines() == ["", "Title", "See the guide and bold code."] and skipped == 3


