"""A synthetic English-like language: a fixed probabilistic grammar with an exact membership oracle.

The language (``n``, ``m`` range over the grammatical numbers ``sg``/``pl``; ``[x]`` is optional)::

    S      -> NP_n VP_n                     the subject and its verb agree in number n
    NP_n   -> Det_n Adj^k Noun_n [PP]        k in {0, 1, 2} (an adjective may repeat)
    PP     -> Prep Det_m Noun_m              m free; no adjective and no PP inside, to bound length
    VP_n   -> IVerb_n [Adv] | TVerb_n NP_m   the object's number m is free

An NP has 2..7 words, so a sentence has 3 (``det noun verb``) .. 7 + 1 + 7 = 15 = ``MAX_WORDS`` words,
which fits a sequence of length 16 with its end token. Only syntax is constrained, no semantics.

**Unambiguous.** Every word belongs to exactly one class (Det, Adj, Noun, IVerb, TVerb, Prep, Adv), and
within a class carries one number, except that a determiner may serve both numbers (``the``); its
number in a derivation is the number of the noun that closes its NP. So a word string fixes its class
sequence and numbers, and then the parse is forced: a PP starts exactly at a Prep, the VP at the first
verb. Each string has exactly one derivation, hence counting derivations (``length_counts``) counts
distinct sentences exactly.

**Probabilities** (fixed, ``P_*`` below): every word is uniform within its class and number; the
subject is plural with P_PLURAL, an NP gets 0/1/2 adjectives with ADJ_COUNT_WEIGHTS and a PP with
P_PP (then the PP's noun number is uniform); the verb is transitive with P_TRANSITIVE (object number
uniform), an intransitive verb takes an adverb with P_ADVERB. Mean length is 7.03 words
(E[NP] = 2 + 0.65 + 3 * 0.3 = 3.55; E[S] = E[NP] + 1 + 0.65 * E[NP] + 0.35 * 0.5).
"""
from __future__ import annotations

import random
import re
from collections.abc import Sequence

from engine.text.tokenizer import EOS_ID, PAD_ID, SPECIALS, UNK_ID

MAX_WORDS = 15
NUMBERS = ("sg", "pl")

P_PLURAL = 0.5                       # subject (and object, PP noun) is plural
ADJ_COUNT_WEIGHTS = (0.5, 0.35, 0.15)  # P(0, 1, 2 adjectives) in a subject or object NP
P_PP = 0.3                           # a subject or object NP carries a prepositional phrase
P_TRANSITIVE = 0.65                  # the verb is transitive (takes an object NP)
P_ADVERB = 0.5                       # an intransitive verb is followed by an adverb

# The lexicon. Nouns and adjectives begin with a consonant so that "a" always reads well.
# "the" comes first in both determiner lists so that a truncated grammar keeps the shared word.
DETERMINERS = {"sg": ("the", "a", "this", "that", "every", "each"),
               "pl": ("the", "some", "these", "those", "many", "two", "three", "several")}
NOUNS = (("dog", "dogs"), ("cat", "cats"), ("bird", "birds"), ("horse", "horses"),
         ("farmer", "farmers"), ("teacher", "teachers"), ("child", "children"), ("woman", "women"),
         ("king", "kings"), ("queen", "queens"), ("baker", "bakers"), ("doctor", "doctors"),
         ("pilot", "pilots"), ("sailor", "sailors"), ("poet", "poets"), ("wolf", "wolves"),
         ("fox", "foxes"), ("mouse", "mice"), ("tiger", "tigers"), ("rabbit", "rabbits"))
ADJECTIVES = ("big", "small", "happy", "quiet", "clever", "tired", "brave", "lazy", "young",
              "gentle", "proud", "strange", "tall", "nervous", "silly")
INTRANSITIVE = (("sleeps", "sleep"), ("runs", "run"), ("laughs", "laugh"), ("sings", "sing"),
                ("waits", "wait"), ("dances", "dance"), ("smiles", "smile"), ("cries", "cry"),
                ("jumps", "jump"), ("swims", "swim"))
TRANSITIVE = (("sees", "see"), ("likes", "like"), ("follows", "follow"), ("helps", "help"),
              ("chases", "chase"), ("finds", "find"), ("watches", "watch"), ("knows", "know"),
              ("visits", "visit"), ("pushes", "push"), ("admires", "admire"), ("greets", "greet"))
PREPOSITIONS = ("near", "behind", "beside", "under", "with", "from", "above", "without")
ADVERBS = ("quickly", "slowly", "loudly", "softly", "happily", "often", "rarely", "today")

_WORD = re.compile(r"[a-z]+")


def _by_number(pairs: Sequence[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    return {"sg": tuple(p[0] for p in pairs), "pl": tuple(p[1] for p in pairs)}


# Length polynomials: {number of words: number of distinct word strings of that length}.
def _add(*polys: dict[int, int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for p in polys:
        for k, c in p.items():
            out[k] = out.get(k, 0) + c
    return out


def _mul(*polys: dict[int, int]) -> dict[int, int]:
    out = {0: 1}
    for p in polys:
        nxt: dict[int, int] = {}
        for i, a in out.items():
            for j, b in p.items():
                nxt[i + j] = nxt.get(i + j, 0) + a * b
        out = nxt
    return out


class Grammar:
    """The language above. ``per_class=k`` keeps only the first k words of every class (and the
    first k lemmas of nouns and verbs) — a small language for brute-force checks; None keeps all."""

    def __init__(self, per_class: int | None = None):
        if per_class is not None and per_class < 1:
            raise ValueError(f"per_class must be at least 1 (or None for the full lexicon), got {per_class}")
        cut = slice(None, per_class)
        self.det = {n: DETERMINERS[n][cut] for n in NUMBERS}
        self.noun = _by_number(NOUNS[cut])
        self.iverb = _by_number(INTRANSITIVE[cut])
        self.tverb = _by_number(TRANSITIVE[cut])
        self.adj, self.prep, self.adv = ADJECTIVES[cut], PREPOSITIONS[cut], ADVERBS[cut]

        # Oracle tables: word -> set of numbers it may carry, per class.
        def index(table: dict[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
            return {w: frozenset(n for n in NUMBERS if w in table[n]) for n in NUMBERS for w in table[n]}
        self._det_of, self._noun_of = index(self.det), index(self.noun)
        self._iverb_of, self._tverb_of = index(self.iverb), index(self.tverb)
        self._adjs, self._preps, self._advs = frozenset(self.adj), frozenset(self.prep), frozenset(self.adv)

        classes = [set(self._det_of), set(self._noun_of), set(self._iverb_of), set(self._tverb_of),
                   set(self._adjs), set(self._preps), set(self._advs)]
        words = [w for c in classes for w in c]
        if len(words) != len(set(words)):
            raise ValueError("word classes overlap; the grammar would be ambiguous")
        for table in (self._noun_of, self._iverb_of, self._tverb_of):
            if any(len(ns) != 1 for ns in table.values()):
                raise ValueError("a noun or verb form is both singular and plural")
        bad = [w for w in words if not _WORD.fullmatch(w) or w in SPECIALS]
        if bad:
            raise ValueError(f"words must be lower-case ASCII letters only: {bad}")
        self._words = sorted(words)
        lengths = self.length_counts()
        assert max(lengths) <= MAX_WORDS and min(lengths) >= 3, lengths

    def lexicon(self) -> list[str]:
        """All words of the language, sorted and distinct (no special tokens)."""
        return list(self._words)

    # ----- sampler ---------------------------------------------------------------------------------
    def _sample_np(self, rng: random.Random, n: str, head: bool) -> list[str]:
        """A subject/object NP of number n (head=True) or the inner NP of a PP (head=False)."""
        words = [rng.choice(self.det[n])]
        if head:
            k = rng.choices((0, 1, 2), weights=ADJ_COUNT_WEIGHTS)[0]
            words += [rng.choice(self.adj) for _ in range(k)]
        words.append(rng.choice(self.noun[n]))
        if head and rng.random() < P_PP:
            m = "pl" if rng.random() < P_PLURAL else "sg"
            words += [rng.choice(self.prep)] + self._sample_np(rng, m, head=False)
        return words

    def sample(self, rng: random.Random) -> str:
        """One sentence drawn from the weights above, words joined by single spaces."""
        n = "pl" if rng.random() < P_PLURAL else "sg"
        words = self._sample_np(rng, n, head=True)
        if rng.random() < P_TRANSITIVE:
            words.append(rng.choice(self.tverb[n]))
            m = "pl" if rng.random() < P_PLURAL else "sg"
            words += self._sample_np(rng, m, head=True)
        else:
            words.append(rng.choice(self.iverb[n]))
            if rng.random() < P_ADVERB:
                words.append(rng.choice(self.adv))
        return " ".join(words)

    # ----- oracle (recursive descent over the word tables, not the sampler) ---------------------------
    def _parse_np(self, w: Sequence[str], i: int, head: bool) -> tuple[int, str] | None:
        """Parse an NP starting at w[i]: (index after it, its number), or None if there is none."""
        if i >= len(w) or w[i] not in self._det_of:
            return None
        det_numbers = self._det_of[w[i]]
        i += 1
        n_adj = 0
        while i < len(w) and w[i] in self._adjs:
            i, n_adj = i + 1, n_adj + 1
        if n_adj > (2 if head else 0) or i >= len(w) or w[i] not in self._noun_of:
            return None
        (number,) = self._noun_of[w[i]]
        if number not in det_numbers:
            return None
        i += 1
        if head and i < len(w) and w[i] in self._preps:
            inner = self._parse_np(w, i + 1, head=False)
            if inner is None:
                return None
            i = inner[0]
        return i, number

    def accepts(self, words: Sequence[str]) -> bool:
        """Exact membership: is ``words`` (a sequence of word strings) a sentence of the language?"""
        w = list(words)
        subject = self._parse_np(w, 0, head=True)
        if subject is None or subject[0] >= len(w):
            return False
        i, n = subject
        verb = w[i]
        if n in self._iverb_of.get(verb, ()):
            i += 1
            if i < len(w) and w[i] in self._advs:
                i += 1
            return i == len(w)
        if n in self._tverb_of.get(verb, ()):
            obj = self._parse_np(w, i + 1, head=True)
            return obj is not None and obj[0] == len(w)
        return False

    # ----- counting ----------------------------------------------------------------------------------
    def length_counts(self) -> dict[int, int]:
        """{sentence length in words: number of distinct sentences of that length} (exact DP)."""
        adjs = {k: len(self.adj) ** k for k in range(3)}
        pp = {0: 1, 3: len(self.prep) * sum(len(self.det[m]) * len(self.noun[m]) for m in NUMBERS)}
        np_ = {n: _mul({1: len(self.det[n])}, adjs, {1: len(self.noun[n])}, pp) for n in NUMBERS}
        np_any = _add(*np_.values())
        vp = {n: _add(_mul({1: len(self.iverb[n])}, {0: 1, 1: len(self.adv)}),
                      _mul({1: len(self.tverb[n])}, np_any)) for n in NUMBERS}
        return dict(sorted(_add(*(_mul(np_[n], vp[n]) for n in NUMBERS)).items()))

    def count_sentences(self) -> int:
        """Exact number of distinct sentences in the language (the grammar is unambiguous)."""
        return sum(self.length_counts().values())


_GRAMMAR = Grammar()  # the full language, built once; read-only


def sample_distinct(n: int, seed: int, exclude: set[str] | frozenset = frozenset()) -> list[str]:
    """n distinct sentences of the full language, none in ``exclude``, in draw order.

    Deterministic for a given seed: draws from ``random.Random(seed)`` and skips repeats/excluded.
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    if n > _GRAMMAR.count_sentences() - len(exclude):
        raise ValueError(f"cannot draw {n} distinct sentences outside an exclusion set of {len(exclude)}")
    rng = random.Random(seed)
    out: list[str] = []
    seen = set(exclude)
    misses = 0
    while len(out) < n:
        s = _GRAMMAR.sample(rng)
        if s in seen:
            misses += 1
            if misses > 100_000:  # the language has ~1e17 sentences; this means a broken exclusion set
                raise RuntimeError(f"gave up after {misses} consecutive repeated or excluded draws")
            continue
        misses = 0
        seen.add(s)
        out.append(s)
    return out


def accepts_ids(ids: Sequence[int], tokenizer) -> bool:
    """Sequence-level oracle for a fixed-length id sequence ``w_1 .. w_k <eos> <pad>*`` (k >= 1).

    Rejects: no ``<eos>``; no word before it; any special or out-of-vocabulary id among the words
    (``<unk>``, a ``<pad>`` before the end); anything but ``<pad>`` after it. The words must then be a
    sentence of ``Grammar()``. ``tokenizer`` needs ``.itos`` (list of strings, specials first).
    """
    ids = [int(i) for i in ids]
    if EOS_ID not in ids:
        return False
    end = ids.index(EOS_ID)
    body, tail = ids[:end], ids[end + 1:]
    if not body or any(i != PAD_ID for i in tail):
        return False
    if any(i in (PAD_ID, UNK_ID) or not 0 <= i < len(tokenizer.itos) for i in body):
        return False
    return _GRAMMAR.accepts([tokenizer.itos[i] for i in body])
