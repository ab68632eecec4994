"""The synthetic language: sampler, oracle, exact count, id-level oracle, seeding and weights.

References are independent of the module's code paths: perturbations whose grammaticality is
decided from word classes alone, a brute-force enumeration of all word strings through the oracle,
an exhaustive generator written here from the grammar rules, and Monte Carlo estimates.
"""
from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import pytest

from engine.text import grammar
from engine.text.grammar import MAX_WORDS, Grammar, accepts_ids, sample_distinct
from engine.text.tokenizer import EOS_ID, PAD_ID, UNK_ID, WordTokenizer

G = Grammar()
_RNG = random.Random(7)
SAMPLES = [G.sample(_RNG) for _ in range(2000)]


def _classes() -> dict[str, str]:
    """word -> coarse class, built from the lexicon tables (not from the oracle)."""
    cls = {w: "det" for n in grammar.NUMBERS for w in grammar.DETERMINERS[n]}
    for kind, table in (("noun", grammar.NOUNS), ("iverb", grammar.INTRANSITIVE), ("tverb", grammar.TRANSITIVE)):
        cls.update({w: kind for pair in table for w in pair})
    cls.update({w: "adj" for w in grammar.ADJECTIVES})
    cls.update({w: "prep" for w in grammar.PREPOSITIONS})
    cls.update({w: "adv" for w in grammar.ADVERBS})
    return cls


CLASS = _classes()
OTHER_FORM = {a: b for table in (grammar.NOUNS, grammar.INTRANSITIVE, grammar.TRANSITIVE)
              for s, p in table for a, b in ((s, p), (p, s))}


def test_lexicon_and_lengths():
    lex = G.lexicon()
    assert len(lex) >= 100 and lex == sorted(set(lex))
    assert all(w.isascii() and w.isalpha() and w.islower() for w in lex)
    assert set(lex) == set(CLASS)
    lengths = [len(s.split()) for s in SAMPLES]
    assert max(lengths) <= MAX_WORDS and min(lengths) >= 3
    assert max(G.length_counts()) == MAX_WORDS and min(G.length_counts()) == 3
    assert G.count_sentences() >= 1_000_000


def test_oracle_accepts_samples():
    assert all(s == " ".join(s.split()) for s in SAMPLES)
    assert all(G.accepts(s.split()) for s in SAMPLES)
    assert not G.accepts([]) and not G.accepts(["the"]) and not G.accepts("the dog".split())


@pytest.mark.parametrize("sentence,ok", [
    ("the dog sleeps", True),
    ("every big silly fox near some mice chases the cats with a rabbit", True),
    ("three tall tall kings under the queen swim today", True),
    ("the dog near the big cat sleeps", False),               # no adjective inside a PP
    ("the big silly tall dog sleeps", False),                 # at most two adjectives
    ("the dog near the cat near the bird sleeps", False),     # no PP inside a PP
    ("the dog sleeps quickly slowly", False),                 # at most one adverb
    ("the dog sleeps near the cat", False),                   # no PP on the verb
    ("the dog sees quickly", False),                          # transitive verb needs an object
    ("the dog sleeps the cat", False),                        # intransitive verb takes no object
    ("dog sleeps", False), ("the dog the cat sleeps", False), ("sleeps", False),
])
def test_hand_written_cases(sentence, ok):
    assert G.accepts(sentence.split()) == ok


def test_agreement_errors_rejected():
    checked = 0
    for s in SAMPLES[:500]:
        w = s.split()
        v = next(i for i, x in enumerate(w) if CLASS[x] in ("iverb", "tverb"))
        assert not G.accepts(w[:v] + [OTHER_FORM[w[v]]] + w[v + 1:])  # verb number flipped
        # the subject's head noun is the first noun; flipping it breaks verb (and maybe det) agreement
        h = next(i for i, x in enumerate(w) if CLASS[x] == "noun")
        assert not G.accepts(w[:h] + [OTHER_FORM[w[h]]] + w[h + 1:])
        checked += 1
    assert checked == 500
    assert not G.accepts("a dogs sleep".split()) and not G.accepts("these dog sleeps".split())
    assert G.accepts("the dogs sleep".split()) and G.accepts("the dog sleeps".split())


def test_dropped_word_rejected_unless_optional():
    for s in SAMPLES[:500]:
        w = s.split()
        for i in range(len(w)):
            assert G.accepts(w[:i] + w[i + 1:]) == (CLASS[w[i]] in ("adj", "adv")), (s, i)


def test_swapped_adjacent_pair_rejected_unless_two_adjectives():
    for s in SAMPLES[:500]:
        w = s.split()
        for i in range(len(w) - 1):
            v = w[:i] + [w[i + 1], w[i]] + w[i + 2:]
            expected = w[i] == w[i + 1] or CLASS[w[i]] == CLASS[w[i + 1]] == "adj"
            assert G.accepts(v) == expected, (s, i)


def test_extra_word_mostly_rejected():
    rng, lex, accepted = random.Random(3), G.lexicon(), 0
    for s in SAMPLES:
        w = s.split()
        i, x = rng.randrange(len(w) + 1), rng.choice(lex)
        if G.accepts(w[:i] + [x] + w[i:]):
            accepted += 1
            assert CLASS[x] in ("adj", "adv"), (s, i, x)  # only an optional word can be inserted
    assert accepted / len(SAMPLES) < 0.1


def test_random_substitution_mostly_rejected():
    rng, lex, accepted, n = random.Random(4), G.lexicon(), 0, 0
    for s in SAMPLES:
        w = s.split()
        i = rng.randrange(len(w))
        x = rng.choice([y for y in lex if y != w[i]])
        ok = G.accepts(w[:i] + [x] + w[i + 1:])
        n, accepted = n + 1, accepted + ok
        if ok:
            assert CLASS[x] == CLASS[w[i]], (s, i, x)
        if CLASS[x] == CLASS[w[i]] and CLASS[x] in ("adj", "prep", "adv"):
            assert ok, (s, i, x)  # number-free classes are interchangeable
    assert 0.02 < accepted / n < 0.3  # the rest (measured ~0.1) is rejected


def _enumerate(g: Grammar) -> list[str]:
    """Every sentence of g by exhaustive generation from the rules (a reference independent of the DP)."""
    nums = ("sg", "pl")

    def nps(n, head):
        adjs = [()] + [(a,) for a in g.adj] + list(itertools.product(g.adj, repeat=2)) if head else [()]
        pps = [()] + [(p, d, x) for p in g.prep for m in nums for d in g.det[m] for x in g.noun[m]] \
            if head else [()]
        return [(d, *a, x, *pp) for d in g.det[n] for a in adjs for x in g.noun[n] for pp in pps]

    out = []
    for n in nums:
        vps = [(v,) for v in g.iverb[n]] + [(v, a) for v in g.iverb[n] for a in g.adv] + \
            [(v, *o) for v in g.tverb[n] for m in nums for o in nps(m, True)]
        out += [" ".join(subj + vp) for subj in nps(n, True) for vp in vps]
    return out


def test_count_matches_exhaustive_generation():
    g = Grammar(per_class=1)
    sentences = _enumerate(g)
    assert len(set(sentences)) == len(sentences) == g.count_sentences() == 360
    assert all(g.accepts(s.split()) for s in sentences)
    assert dict(sorted(Counter(len(s.split()) for s in sentences).items())) == g.length_counts()


@pytest.mark.parametrize("per_class,max_len", [(1, 6), (2, 4)])
def test_count_matches_oracle_brute_force(per_class, max_len):
    g = Grammar(per_class=per_class)
    lex = g.lexicon()
    for k in range(1, max_len + 1):
        found = sum(g.accepts(w) for w in itertools.product(lex, repeat=k))
        assert found == g.length_counts().get(k, 0), k


def test_full_count_closed_form():
    # S = sum_n NP_n * VP_n; NP_n = D_n * (1 + A + A^2) * N_n * (1 + P * sum_m D_m N_m)
    d, nn = {"sg": 6, "pl": 8}, {"sg": 20, "pl": 20}
    np_ = {n: d[n] * (1 + 15 + 15 ** 2) * nn[n] * (1 + 8 * (6 * 20 + 8 * 20)) for n in d}
    vp = 10 * (1 + 8) + 12 * (np_["sg"] + np_["pl"])
    assert G.count_sentences() == (np_["sg"] + np_["pl"]) * vp


def test_seeding():
    a = [G.sample(random.Random(5)) for _ in range(3)]
    assert len(set(a)) == 1
    assert sample_distinct(50, seed=1) == sample_distinct(50, seed=1)
    assert sample_distinct(50, seed=1) != sample_distinct(50, seed=2)


def test_sample_distinct_excludes():
    first = sample_distinct(300, seed=3)
    assert len(set(first)) == 300 and all(G.accepts(s.split()) for s in first)
    again = sample_distinct(300, seed=3, exclude=set(first[:100]))
    assert len(set(again)) == 300 and not set(again) & set(first[:100])
    assert again[:200] == first[100:]  # same stream, excluded draws skipped
    with pytest.raises(ValueError):
        sample_distinct(-1, seed=0)


def test_weights_monte_carlo():
    rng = random.Random(11)
    n = 20000
    sents = [G.sample(rng).split() for _ in range(n)]

    def close(hits: list[bool], p: float) -> bool:  # within 4 binomial standard deviations
        return abs(sum(hits) / len(hits) - p) < 4 * math.sqrt(p * (1 - p) / len(hits))

    verbs = [next(x for x in w if CLASS[x] in ("iverb", "tverb")) for w in sents]
    assert close([CLASS[v] == "tverb" for v in verbs], grammar.P_TRANSITIVE)
    assert close([w[-1] in grammar.ADVERBS for w, v in zip(sents, verbs) if CLASS[v] == "iverb"],
                 grammar.P_ADVERB)
    subject_pp = [any(CLASS[x] == "prep" for x in w[:w.index(v)]) for w, v in zip(sents, verbs)]
    assert close(subject_pp, grammar.P_PP)
    n_adj = [sum(CLASS[x] == "adj" for x in w[:w.index(v)]) for w, v in zip(sents, verbs)]
    for k, wk in enumerate(grammar.ADJ_COUNT_WEIGHTS):
        assert close([a == k for a in n_adj], wk / sum(grammar.ADJ_COUNT_WEIGHTS))
    # the object's number is drawn independently of the subject's: P(differ) = 2 p (1 - p)
    plural = {p for _, p in grammar.NOUNS} | {p for _, p in grammar.TRANSITIVE + grammar.INTRANSITIVE}
    assert close([v in plural for v in verbs], grammar.P_PLURAL)
    diff = []  # for transitive sentences: does the object's head noun differ in number from the verb?
    for w in sents:
        v = next(i for i, x in enumerate(w) if CLASS[x] in ("iverb", "tverb"))
        if CLASS[w[v]] == "tverb":
            obj = next(x for x in w[v:] if CLASS[x] == "noun")
            diff.append((w[v] in plural) != (obj in plural))
    q = 2 * grammar.P_PLURAL * (1 - grammar.P_PLURAL)
    assert close(diff, q)
    # expected length from the weights: E[NP] = 2 + E[#adj] + 3 P_PP
    wts = grammar.ADJ_COUNT_WEIGHTS
    e_np = 2 + sum(k * p for k, p in enumerate(wts)) / sum(wts) + 3 * grammar.P_PP
    e_s = e_np + 1 + grammar.P_TRANSITIVE * e_np + (1 - grammar.P_TRANSITIVE) * grammar.P_ADVERB
    lengths = [len(w) for w in sents]
    mean = sum(lengths) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in lengths) / n)
    assert abs(mean - e_s) < 4 * sd / math.sqrt(n)
    assert 6 <= e_s <= 10


def test_accepts_ids():
    # frequency order, unlike the sorted lexicon; every word is in the vocabulary
    tok = WordTokenizer.fit(SAMPLES + G.lexicon(), max_vocab=1000)
    L = 16
    for s in SAMPLES[:200]:
        ids = tok.encode_fixed(s, L)
        assert accepts_ids(ids, tok)
        k = ids.index(EOS_ID)
        assert not accepts_ids(ids[:k] + [PAD_ID] * (L - k), tok)                 # no <eos>
        assert not accepts_ids([UNK_ID] + ids[1:], tok)                            # <unk>
        assert not accepts_ids(ids[:k - 1] + [PAD_ID, EOS_ID] + ids[k + 1:], tok)  # <pad> before <eos>
        if k + 1 < L:
            assert not accepts_ids(ids[:k + 1] + [ids[0]] + ids[k + 2:], tok)     # word after <eos>
            assert not accepts_ids(ids[:k + 1] + [EOS_ID] + ids[k + 2:], tok)     # 2nd <eos>
        assert not accepts_ids([len(tok.itos)] + ids[1:], tok)                     # out of range
        v = next(i for i in range(k) if CLASS[tok.itos[ids[i]]] in ("iverb", "tverb"))
        flip = tok.stoi[OTHER_FORM[tok.itos[ids[v]]]]
        assert not accepts_ids(ids[:v] + [flip] + ids[v + 1:], tok)                # agreement
    assert not accepts_ids([EOS_ID] + [PAD_ID] * (L - 1), tok)                     # no words
