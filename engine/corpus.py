"""Corpora: fixed-length token sequences with a training pool, a disjoint test set and nested subsets.

Three sources share one shape (PROTOCOL §6): the pool is shuffled once with a fixed seed and the
training subset of size N is its first N sequences, so subsets are nested; the test set is fixed and
disjoint from the pool.

* ``grammar`` — sentences of the synthetic language in ``grammar.py`` (with a membership oracle);
* ``pydocs``  — English sentences derived from the CPython documentation (``assets/corpora``);
* a path     — a user's own UTF-8 text file (one sentence per line, or prose).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from . import grammar, textfile
from .tokenizer import WordTokenizer

SEQ_LEN = 16
SHUFFLE_SEED = 1234
GRAMMAR_POOL, GRAMMAR_TEST = 8192, 512
TEST_MAX = 512
PYDOCS_VOCAB = 1003       # every pydocs word fits: the asset keeps at most 1000 words
USER_VOCAB = 2000
MIN_SENTENCES = 16


@dataclass(frozen=True)
class Corpus:
    """A named corpus: ``pool`` (training candidates, already shuffled) and a disjoint ``test`` set."""

    name: str
    pool: tuple[str, ...]
    test: tuple[str, ...]
    tokenizer: WordTokenizer
    seq_len: int = SEQ_LEN

    def subset(self, n: int) -> list[str]:
        """The nested training subset: the first n sentences of the pool."""
        if not 1 <= n <= len(self.pool):
            raise ValueError(f"N = {n} is out of range: corpus '{self.name}' has {len(self.pool)} "
                             f"training sentences (N must be between 1 and {len(self.pool)})")
        return list(self.pool[:n])

    def encode(self, sentences) -> torch.Tensor:
        """LongTensor (M, L) of fixed-length sequences ``words <eos> <pad>*``."""
        return torch.tensor([self.tokenizer.encode_fixed(s, self.seq_len) for s in sentences],
                            dtype=torch.long).reshape(-1, self.seq_len)


def oracle_for(corpus_name: str, tokenizer: WordTokenizer):
    """The membership oracle ``ids -> bool`` where the corpus's language has one (grammar), else None."""
    if corpus_name != "grammar":
        return None
    return lambda ids: grammar.accepts_ids(ids, tokenizer)


def load_corpus(spec: str) -> Corpus:
    """``"grammar"``, ``"pydocs"`` or the path of a UTF-8 text file (ValueError with a clear message)."""
    if spec == "grammar":
        return grammar_corpus()
    if spec == "pydocs":
        return _split("pydocs", textfile.load_pydocs(), PYDOCS_VOCAB)
    path = Path(spec)
    sentences = textfile.read_sentences(path, seq_len=SEQ_LEN)
    return _split(f"file:{path.name}", sentences, USER_VOCAB)


def corpus_from_bytes(name: str, data: bytes) -> Corpus:
    """A corpus from uploaded bytes (the app's what-if page); same checks as a file path."""
    return _split(f"file:{name}", textfile.read_sentences(data, seq_len=SEQ_LEN), USER_VOCAB)


def grammar_corpus() -> Corpus:
    g = grammar.Grammar()
    test = grammar.sample_distinct(GRAMMAR_TEST, seed=SHUFFLE_SEED + 1)
    pool = grammar.sample_distinct(GRAMMAR_POOL, seed=SHUFFLE_SEED, exclude=frozenset(test))
    random.Random(SHUFFLE_SEED).shuffle(pool)
    return Corpus("grammar", tuple(pool), tuple(test), WordTokenizer(g.lexicon()))


def _split(name: str, sentences: list[str], max_vocab: int) -> Corpus:
    """Shuffle once with the fixed seed; the last ``n_test`` sentences are the test set."""
    sentences = list(dict.fromkeys(sentences))
    if len(sentences) < MIN_SENTENCES:
        raise ValueError(f"corpus '{name}' has only {len(sentences)} usable sentences of at most "
                         f"{SEQ_LEN - 1} words; at least {MIN_SENTENCES} are needed")
    random.Random(SHUFFLE_SEED).shuffle(sentences)
    n_test = min(TEST_MAX, max(4, len(sentences) // 10))
    tokenizer = WordTokenizer.fit(sentences, max_vocab)
    return Corpus(name, tuple(sentences[:-n_test]), tuple(sentences[-n_test:]), tokenizer)
