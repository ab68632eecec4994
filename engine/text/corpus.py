"""Corpora: fixed-length token sequences with a training pool, a disjoint test set and nested subsets.

Every source shares one shape (PROTOCOL §6): the pool is shuffled once with a fixed seed and the
training subset of size N is its first N sequences, so subsets are nested; the test set is fixed and
disjoint from the pool. The sources are the registered corpora (``engine.text.corpora``: grammar, pydocs,
...) and a user's own UTF-8 text file (``engine.text.textfile``). Sentences longer than L - 1 tokens are
cut into pieces at clause boundaries (``engine.text.clauses``), so a corpus exists at every sequence
length L in [MIN_SEQ_LEN, MAX_SEQ_LEN]; away from its default L its name carries the length
(``grammar@L32``).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.text import clauses, corpora, textfile
from engine.text.corpora import MAX_SEQ_LEN, MIN_SEQ_LEN, SEQ_LEN, SHUFFLE_SEED, base_name  # noqa: F401 (re-exported)
from engine.text.tokenizer import WordTokenizer

TEST_MAX = 512
USER_VOCAB = 2000
MIN_SENTENCES = 16


@dataclass(frozen=True)
class Corpus:
    """A named corpus: ``pool`` (training candidates, already shuffled) and a disjoint ``test`` set;
    ``report`` says in one sentence how its text became sequences (what was cut and dropped)."""

    name: str
    pool: tuple[str, ...]
    test: tuple[str, ...]
    tokenizer: WordTokenizer
    seq_len: int = SEQ_LEN
    report: str = ""

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


def check_seq_len(seq_len: int) -> int:
    """``seq_len`` if it is an integer in [MIN_SEQ_LEN, MAX_SEQ_LEN], else ValueError saying so."""
    if not isinstance(seq_len, int) or isinstance(seq_len, bool) or not MIN_SEQ_LEN <= seq_len <= MAX_SEQ_LEN:
        raise ValueError(f"the sequence length must be a whole number between {MIN_SEQ_LEN} and "
                         f"{MAX_SEQ_LEN}, got {seq_len!r}")
    return seq_len


def oracle_for(corpus_name: str, tokenizer: WordTokenizer):
    """The membership oracle ``ids -> bool`` where the corpus's language has one (grammar), else None."""
    spec = corpora.get(corpus_name)
    return spec.oracle(tokenizer) if spec is not None and spec.oracle is not None else None


def load_corpus(spec: str, seq_len: int | None = None) -> Corpus:
    """A registered corpus by name (``engine.text.corpora``) or the path of a UTF-8 text file, at sequence
    length ``seq_len`` (None: the corpus's default). ValueError with a clear message when it cannot."""
    entry = corpora.CORPORA.get(spec)
    if entry is not None:
        return _registered(entry, check_seq_len(seq_len or entry.seq_len))
    seq_len = check_seq_len(seq_len or SEQ_LEN)
    path = Path(spec)
    return _user(path.name, textfile.read_text(path, seq_len=seq_len), seq_len)


def corpus_from_bytes(name: str, data: bytes, seq_len: int | None = None) -> Corpus:
    """A corpus from uploaded bytes (the app's what-if page); same checks as a file path."""
    seq_len = check_seq_len(seq_len or SEQ_LEN)
    return _user(name, textfile.read_text(data, seq_len=seq_len, name=name), seq_len)


def grammar_corpus(seq_len: int | None = None) -> Corpus:
    return load_corpus("grammar", seq_len)


def _registered(entry: corpora.CorpusSpec, seq_len: int) -> Corpus:
    name = corpora.named(entry.name, seq_len, entry.seq_len)
    fitted = clauses.fit(entry.sentences(), seq_len)
    test = list(clauses.fit(entry.test(), seq_len).sentences) if entry.test is not None else None
    tokenizer = WordTokenizer(entry.lexicon()) if entry.lexicon is not None else None
    return _split(name, list(fitted.sentences), seq_len, entry.max_vocab, fitted.summary(),
                  test=test, tokenizer=tokenizer)


def _user(file_name: str, reading: textfile.Reading, seq_len: int) -> Corpus:
    name = corpora.named(f"file:{file_name}", seq_len, SEQ_LEN)
    return _split(name, reading.sentences, seq_len, USER_VOCAB, reading.summary())


def _split(name: str, sentences: list[str], seq_len: int, max_vocab: int, report: str, *,
           test: list[str] | None = None, tokenizer: WordTokenizer | None = None) -> Corpus:
    """Shuffle once with the fixed seed; the test set is ``test`` or the last ``n_test`` sentences.
    The tokenizer is ``tokenizer`` or the ``max_vocab`` most frequent words of every sentence."""
    sentences = list(dict.fromkeys(sentences))
    if test is not None:
        held = set(test)
        sentences = [s for s in sentences if s not in held]
    if len(sentences) < MIN_SENTENCES:
        raise ValueError(f"corpus '{name}' has only {len(sentences)} usable sentences of at most "
                         f"{seq_len - 1} words; at least {MIN_SENTENCES} are needed. {report}")
    random.Random(SHUFFLE_SEED).shuffle(sentences)
    if test is None:
        n_test = min(TEST_MAX, max(4, len(sentences) // 10))
        sentences, test = sentences[:-n_test], sentences[-n_test:]
    if tokenizer is None:
        tokenizer = WordTokenizer.fit(sentences + test, max_vocab)
    return Corpus(name, tuple(sentences), tuple(test), tokenizer, seq_len, report)
