"""Word-level tokenizer that travels inside every checkpoint.

Ids 0, 1, 2 are reserved: ``<pad>`` fills a sequence after its end, ``<unk>`` stands for any word
outside the vocabulary, ``<eos>`` closes a sentence. A sentence of k words becomes the fixed-length
sequence ``w_1 .. w_k <eos> <pad> .. <pad>`` of length L (k <= L - 1). The *content positions* of a
sequence are the words and its end token; measurements report rates over them (PROTOCOL §5).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

PAD, UNK, EOS = "<pad>", "<unk>", "<eos>"
PAD_ID, UNK_ID, EOS_ID = 0, 1, 2
SPECIALS = (PAD, UNK, EOS)

# Lower-cased words (Unicode letters, digits, underscores, inner apostrophes) and single punctuation marks.
_WORD = re.compile(r"\w+(?:'\w+)?|[^\w\s]")
_SPACED_WORD = re.compile(r"(\s*)(\w+(?:'\w+)?|[^\w\s])")


# Invisible format characters (Unicode category Cf): soft hyphens and zero-width joiners vanish, the
# rest (zero-width spaces, left-to-right / right-to-left marks, byte-order marks...) separate words.
_VANISH = dict.fromkeys(map(ord, "\u00ad\u200c\u200d\u2060"), None)
_FORMAT = re.compile("[\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2061-\u2064\u2066-\u206f\ufeff]")


def _prepare(text: str) -> str:
    return _FORMAT.sub(" ", text.translate(_VANISH)).lower()


def split_words(text: str) -> list[str]:
    """Lower-case ``text`` and split it into word and punctuation tokens (format characters dropped)."""
    return _WORD.findall(_prepare(text))


def spaced_words(text: str) -> list[tuple[str, bool]]:
    """``split_words(text)``, each token paired with whether white space (or the start of the text)
    comes right before it: tells a dash ("a - b", "a -- b") from a hyphen ("well-known")."""
    pairs = _SPACED_WORD.findall(" " + _prepare(text))
    return [(word, bool(space)) for space, word in pairs]


class WordTokenizer:
    """Maps words to ids and back; the vocabulary is ``SPECIALS + words``."""

    def __init__(self, words: Sequence[str]):
        words = list(words)
        if len(set(words)) != len(words) or any(w in SPECIALS for w in words):
            raise ValueError("tokenizer words must be distinct and must not repeat a special token")
        self.itos: list[str] = list(SPECIALS) + words
        self.stoi: dict[str, int] = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def fit(cls, sentences: Iterable[str], max_vocab: int) -> "WordTokenizer":
        """The ``max_vocab - 3`` most frequent words (ties broken alphabetically) plus the specials."""
        if max_vocab < len(SPECIALS) + 1:
            raise ValueError(f"max_vocab must be at least {len(SPECIALS) + 1}, got {max_vocab}")
        counts = Counter(w for s in sentences for w in split_words(s))
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return cls([w for w, _ in ranked[: max_vocab - len(SPECIALS)]])

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        """Word ids of ``text`` (no end token, no padding); unknown words map to ``<unk>``."""
        return [self.stoi.get(w, UNK_ID) for w in split_words(text)]

    def encode_fixed(self, text: str, seq_len: int) -> list[int]:
        """``encode(text) + <eos> + <pad>*``, exactly ``seq_len`` ids; ValueError if it does not fit."""
        ids = self.encode(text)
        if not ids:
            raise ValueError("the sentence has no words")
        if len(ids) > seq_len - 1:
            raise ValueError(f"the sentence has {len(ids)} words; at most {seq_len - 1} fit a "
                             f"sequence of length {seq_len} (one position is the end token)")
        return ids + [EOS_ID] + [PAD_ID] * (seq_len - 1 - len(ids))

    def decode(self, ids: Iterable[int], *, stop_at_eos: bool = True) -> str:
        """Words of ``ids`` joined by spaces; stops at the first ``<eos>`` and drops ``<pad>``.

        With ``stop_at_eos=False`` every token is shown, specials included (for raw trajectories).
        """
        out = []
        for i in ids:
            i = int(i)
            if stop_at_eos and i == EOS_ID:
                break
            if stop_at_eos and i == PAD_ID:
                continue
            out.append(self.itos[i] if 0 <= i < len(self.itos) else UNK)
        return " ".join(out)

    def tokens(self, ids: Iterable[int]) -> list[str]:
        """One string per id, specials included (for token grids); ValueError for an id outside the vocabulary."""
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise ValueError(f"token id {i} is outside the vocabulary [0, {len(self.itos)})")
            out.append(self.itos[i])
        return out

    def to_dict(self) -> dict:
        return {"type": "word", "words": self.itos[len(SPECIALS):]}

    @classmethod
    def from_dict(cls, d: dict) -> "WordTokenizer":
        if not isinstance(d, dict) or d.get("type") != "word" or not isinstance(d.get("words"), list) \
                or not all(isinstance(w, str) for w in d["words"]):
            raise ValueError("tokenizer entry is not a word tokenizer written by this project")
        return cls(d["words"])


def content_mask(x0, eos_id: int = EOS_ID):
    """Boolean mask (..., L) of content positions: every position up to and including the first <eos>.

    A sequence with no end token is all content.
    """
    import torch

    is_eos = x0 == eos_id
    # positions strictly after the first eos: cumulative count of eos before this position > 0
    before = torch.cumsum(is_eos.long(), dim=-1) - is_eos.long()
    return before == 0
