"""Fluency of generations (engine.measures.fluency): word n-grams seen in a reference text, against a
brute-force count, with the unknown-word token and everything after the end token left out."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from engine.measures.fluency import fluency_table, ngrams, seen_share, summarize_fluency, words
from engine.text.tokenizer import EOS_ID, PAD_ID, UNK_ID

A, B, C, D, E = 3, 4, 5, 6, 7


def seq(*ids, L=8):
    row = list(ids) + [EOS_ID]
    return row + [PAD_ID] * (L - len(row))


def test_words_stop_at_the_end_or_padding_token():
    assert words(seq(A, B, C)) == [A, B, C]
    assert words([A, PAD_ID, B, EOS_ID]) == [A]      # a generated sequence may have junk after padding


def test_ngrams_leave_out_the_unknown_word():
    assert ngrams(seq(A, B, C, D), 2) == [(A, B), (B, C), (C, D)]
    assert ngrams(seq(A, UNK_ID, C, D), 2) == [(C, D)]
    assert ngrams(seq(A, B, UNK_ID, D, E), 3) == []
    assert ngrams(seq(A), 2) == []


def test_fluency_table_against_a_brute_force_count():
    rng = np.random.default_rng(0)
    reference = torch.tensor([seq(*rng.integers(3, 9, size=rng.integers(1, 7))) for _ in range(30)])
    generated = torch.tensor([seq(*rng.integers(1, 9, size=rng.integers(0, 7))) for _ in range(40)])
    table = fluency_table({"generated": generated}, reference)
    ref_rows = [words(r) for r in reference.tolist()]
    for _, row in table.iterrows():
        w = words(generated[row["example"]].tolist())
        n = row["order"]
        grams = [tuple(w[i:i + n]) for i in range(len(w) - n + 1) if UNK_ID not in w[i:i + n]]
        seen = sum(any(tuple(r[j:j + n]) == g for r in ref_rows for j in range(len(r) - n + 1)) for g in grams)
        assert (row["ngrams"], row["seen"]) == (len(grams), seen)


def test_seen_share_is_pooled_and_its_interval_brackets_it():
    table = pd.DataFrame({"split": "g", "example": range(4), "order": 3, "ngrams": [4, 0, 2, 4], "seen": [4, 0, 1, 0]})
    share, low, high = seen_share(table)
    assert share == pytest.approx(5 / 10) and low <= share <= high
    assert np.isnan(seen_share(table.assign(ngrams=0))[0])


def test_summary_names_each_split_and_order():
    reference = torch.tensor([seq(A, B, C), seq(B, C, D)])
    table = fluency_table({"generated": torch.tensor([seq(A, B, C), seq(C, B, A)]),
                           "test": torch.tensor([seq(B, C, D, E)])}, reference)
    out = summarize_fluency(table)["fluency"]
    assert out["generated"]["bigram"] == pytest.approx(2 / 4) and out["generated"]["trigram"] == pytest.approx(1 / 2)
    assert out["test"]["bigram"] == pytest.approx(2 / 3) and out["test"]["trigram"] == pytest.approx(1 / 2)
    assert out["test"]["sequences"] == 1
