"""The corpus registry: every corpus the project ships is one entry here.

An entry names the corpus, labels it for people, loads its sentences (and a fixed test set where the
corpus has one), says how its tokenizer is built (a fixed lexicon or the most frequent words up to a
cap), gives its membership oracle if it has one, its default sequence length, and the settings of its
zoo sweep. The CLI's ``--corpus`` help, ``python -m engine zoo``, What-if's corpus choices and
``corpus.load_corpus`` all read ``CORPORA``. Adding a corpus is one entry here plus the script that
builds its file in ``assets/corpora``.

Sentences may be of any length: ``corpus.load_corpus`` cuts long ones at clause boundaries to fit the
sequence length (``engine.text.clauses``). A corpus used at a sequence length other than its default is
named ``<name>@L<L>`` (``named``), so runs at different lengths are never mixed on one curve.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.text import grammar, textfile
from engine.text.tokenizer import WordTokenizer

SHUFFLE_SEED = 1234
SEQ_LEN = 16                       # the default sequence length of a user's file
MIN_SEQ_LEN, MAX_SEQ_LEN = 16, 64  # 16: the grammar's 15 words and <eos>; 64: attention stays cheap
GRAMMAR_POOL, GRAMMAR_TEST = 8192, 512
_LENGTH_SUFFIX = re.compile(r"@L(\d+)$")

Oracle = Callable[[Sequence[int]], bool]


@dataclass(frozen=True)
class ZooSweep:
    """The shipped sweep of one corpus: training-set sizes N, models per N, and the architecture and
    training budget every N gets (``python -m engine zoo`` builds its plan from these fields; what is
    not named here, the objective, the seed and the measurements, is the CLI's default)."""

    sizes: tuple[int, ...]
    steps: int                  # optimisation steps
    batch_size: int = 64
    lr: float = 3e-3
    layers: int = 3
    d_model: int = 128
    heads: int = 4
    seeds: int = 1              # models per N (training seeds 0 .. seeds - 1)
    half: bool = True           # fp16 weights: the zoo ships in the repository


@dataclass(frozen=True)
class CorpusSpec:
    """One registered corpus.

    ``sentences()``: the corpus text as sentences (normalised or not, any length), in a fixed order;
    ``test()``: a fixed test set disjoint from them, or None to hold out the last 10 % (at most 512)
    after the seeded shuffle; ``lexicon()``: a fixed vocabulary, or None for the ``max_vocab - 3``
    most frequent words; ``oracle(tokenizer)``: a membership test ``ids -> bool``, or None;
    ``seq_len``: the default sequence length L; ``zoo``: the shipped sweep, or None; ``references``: the
    exact reference denoisers measured beside the network (``engine.measures.references``): the ideal
    memorizer always, the ideal generalizer only where the true distribution is known."""

    name: str
    label: str
    sentences: Callable[[], list[str]]
    test: Callable[[], list[str]] | None = None
    lexicon: Callable[[], list[str]] | None = None
    max_vocab: int = 2000
    oracle: Callable[[WordTokenizer], Oracle] | None = None
    seq_len: int = SEQ_LEN
    zoo: ZooSweep | None = None
    references: tuple[str, ...] = ("memorizer",)


def _grammar_test() -> list[str]:
    return grammar.sample_distinct(GRAMMAR_TEST, seed=SHUFFLE_SEED + 1)


def _grammar_pool() -> list[str]:
    return grammar.sample_distinct(GRAMMAR_POOL, seed=SHUFFLE_SEED, exclude=frozenset(_grammar_test()))


def _grammar_oracle(tokenizer: WordTokenizer) -> Oracle:
    return lambda ids: grammar.accepts_ids(ids, tokenizer)


# Grammar needs 6 layers and batch 128 for most generations to be valid at the largest N (README:
# the zoo); pydocs gets fewer steps: its pool has only 1,227 sentences.
CORPORA: dict[str, CorpusSpec] = {spec.name: spec for spec in (
    CorpusSpec("grammar", "grammar (synthetic language)", _grammar_pool, test=_grammar_test,
               lexicon=lambda: grammar.Grammar().lexicon(), oracle=_grammar_oracle,
               references=("memorizer", "generalizer"),
               zoo=ZooSweep((16, 64, 256, 512, 1024, 2048, 4096, 8192), steps=6000, batch_size=128,
                            layers=6)),
    CorpusSpec("pydocs", "pydocs (Python documentation)", textfile.load_pydocs,
               max_vocab=1003,   # every pydocs word fits: the asset keeps at most 1000 words
               zoo=ZooSweep((16, 32, 64, 128, 256, 512, 1024), steps=1000)),
    # 81,598 distinct sequences at L = 16 (28,123 sentences, most cut at clauses); the 1,997 most
    # frequent words leave 5.5 % of tokens unknown (assets/corpora/KJV.md). Grammar's batch with half
    # its depth and steps (README: the kjv zoo).
    CorpusSpec("kjv", "kjv (King James Bible, 1611)", textfile.load_kjv, max_vocab=2000,
               zoo=ZooSweep((16, 64, 256, 1024, 4096, 16384), steps=3000, batch_size=128)),
)}


def get(name: str) -> CorpusSpec | None:
    """The entry of a registered corpus (by its name, or a ``<name>@L<L>`` variant's), else None."""
    return CORPORA.get(base_name(name))


def names() -> list[str]:
    return list(CORPORA)


def zoo_sweeps() -> dict[str, ZooSweep]:
    """Corpus name -> its shipped sweep, for every corpus that has one."""
    return {name: spec.zoo for name, spec in CORPORA.items() if spec.zoo is not None}


def named(base: str, seq_len: int, default: int) -> str:
    """The corpus's name at sequence length ``seq_len``: ``base`` at its default, else ``base@L<L>``."""
    return base if seq_len == default else f"{base}@L{seq_len}"


def references_for(name: str) -> list[str]:
    """The exact reference denoisers that exist for corpus ``name`` (any L): its entry's ``references``;
    for a user's file, whose distribution is unknown, the ideal memorizer only."""
    spec = get(name)
    return list(spec.references) if spec is not None else ["memorizer"]


def has_oracle(name: str) -> bool:
    """Whether corpus ``name`` (any L) has a membership oracle, so a novel sentence can be checked;
    a user's file has none."""
    spec = get(name)
    return spec is not None and spec.oracle is not None


def base_name(name: str) -> str:
    """``named``'s inverse: 'grammar@L32' -> 'grammar', 'file:notes.txt' -> 'file:notes.txt'."""
    return _LENGTH_SUFFIX.sub("", name)
