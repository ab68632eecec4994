"""The word tokenizer: encoding, fixed-length sequences, fitting, content positions, serialisation.

References: hand-counted word frequencies, round trips, and the content-position rule as a loop.
"""
from __future__ import annotations

import json

import pytest
import torch

from engine.text.tokenizer import EOS_ID, PAD_ID, SPECIALS, UNK_ID, WordTokenizer, content_mask, split_words

TOK = WordTokenizer(["the", "dog", "cat", "sees", "."])


def test_specials_and_vocab():
    assert SPECIALS == ("<pad>", "<unk>", "<eos>") and (PAD_ID, UNK_ID, EOS_ID) == (0, 1, 2)
    assert TOK.vocab_size == 8 and TOK.itos[3:] == ["the", "dog", "cat", "sees", "."]
    assert all(TOK.stoi[w] == i for i, w in enumerate(TOK.itos))


def test_split_words():
    assert split_words("The Dog's ball, isn't it?") == ["the", "dog's", "ball", ",", "isn't", "it", "?"]
    assert split_words("  ") == []


def test_encode_decode_round_trip():
    text = "the dog sees the cat ."
    ids = TOK.encode(text)
    assert ids == [3, 4, 6, 3, 5, 7]
    assert TOK.decode(ids) == text
    fixed = TOK.encode_fixed(text, 9)
    assert fixed == ids + [EOS_ID, PAD_ID, PAD_ID] and len(fixed) == 9
    assert TOK.decode(fixed) == text
    assert TOK.decode(fixed, stop_at_eos=False) == text + " <eos> <pad> <pad>"
    assert TOK.decode([3, 4, EOS_ID, 5, 6]) == "the dog"                 # stops at the first end token
    assert TOK.tokens([3, EOS_ID, PAD_ID]) == ["the", "<eos>", "<pad>"]
    assert TOK.encode_fixed("The DOG", 3) == [3, 4, EOS_ID]                # exactly fits: k = L - 1


def test_unknown_words():
    assert TOK.encode("the zebra sees a cat") == [3, UNK_ID, 6, UNK_ID, 5]
    assert TOK.decode(TOK.encode("the zebra")) == "the <unk>"
    assert TOK.decode([3, 99]) == "the <unk>"                              # out-of-range id


def test_encode_fixed_errors():
    with pytest.raises(ValueError, match="at most 3"):
        TOK.encode_fixed("the dog sees the cat", 4)
    with pytest.raises(ValueError, match="no words"):
        TOK.encode_fixed("   ", 4)


def test_fit_most_frequent_with_alphabetical_ties():
    sentences = ["b a c", "b a", "c d", "e"]            # a:2 b:2 c:2 d:1 e:1
    assert WordTokenizer.fit(sentences, 3 + 3).itos[3:] == ["a", "b", "c"]
    assert WordTokenizer.fit(sentences, 3 + 2).itos[3:] == ["a", "b"]
    assert WordTokenizer.fit(sentences, 3 + 4).itos[3:] == ["a", "b", "c", "d"]
    assert WordTokenizer.fit(sentences, 100).itos[3:] == ["a", "b", "c", "d", "e"]
    assert WordTokenizer.fit(["z z z y y x"], 5).itos[3:] == ["z", "y"]   # frequency beats alphabet
    with pytest.raises(ValueError):
        WordTokenizer.fit(sentences, 3)


def test_constructor_rejects_duplicates_and_specials():
    with pytest.raises(ValueError):
        WordTokenizer(["a", "a"])
    with pytest.raises(ValueError):
        WordTokenizer(["a", "<eos>"])


def test_content_mask_against_loop():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 5, (4, 6, 9), generator=g)      # extra leading dims; EOS_ID=2 appears often
    x[0, 0] = torch.tensor([3, 4, 3, 4, 3, 4, 3, 4, 3])   # no end token: all content
    x[0, 1, 0] = EOS_ID                                    # end token first: only it is content
    mask = content_mask(x)
    assert mask.shape == x.shape and mask.dtype == torch.bool
    for a in range(4):
        for b in range(6):
            row = x[a, b].tolist()
            end = row.index(EOS_ID) if EOS_ID in row else len(row) - 1
            assert mask[a, b].tolist() == [i <= end for i in range(len(row))], row
    assert mask[0, 0].all() and mask[0, 1].tolist() == [True] + [False] * 8


def test_to_dict_round_trip():
    d = json.loads(json.dumps(TOK.to_dict()))
    back = WordTokenizer.from_dict(d)
    assert back.itos == TOK.itos and back.stoi == TOK.stoi


@pytest.mark.parametrize("junk", [None, [], "word", {}, {"type": "bpe", "words": ["a"]},
                                  {"type": "word"}, {"type": "word", "words": "abc"},
                                  {"type": "word", "words": [1, 2]}, {"type": "word", "words": ["a", "a"]},
                                  {"type": "word", "words": ["<pad>"]}])
def test_from_dict_rejects_junk(junk):
    with pytest.raises(ValueError):
        WordTokenizer.from_dict(junk)
