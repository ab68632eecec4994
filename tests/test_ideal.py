"""Ideal denoisers against independent references.

* memorizer: a brute-force loop over training sequences with the product formula for q(z_t | x_i);
  empirical per-position frequencies at alpha_t = 0; recovery through ``sample.denoise``.
* generalizer: exact Bayes over the full enumeration of a reduced language, written here from the
  grammar rules (recursive expansion with probabilities, no automaton); a point mass at t -> 0; the
  prior marginals at alpha_t = 0 against a Monte Carlo estimate from ``Grammar.sample``.
"""
from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
import torch

from engine.text import grammar as G
from engine.models.ideal import LOG_ZERO, ideal_generalizer, ideal_memorizer
from engine.measures.measure import recovery_table
from engine.diffusion.noise import UniformNoise
from engine.diffusion.sample import denoise, generate

LEVELS = (1e-4, 0.05, 0.3, 0.7, 1.0)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small tensors: a second thread only adds synchronisation, which costs seconds on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def assert_posterior_equal(logits: torch.Tensor, ref: np.ndarray, atol: float = 1e-12) -> None:
    """softmax(logits) == ref (B, L, V) in probability, and in log-probability wherever ref > 1e-250."""
    p = torch.softmax(logits, -1).numpy()
    np.testing.assert_allclose(p, ref, rtol=0, atol=atol)
    big = ref > 1e-250
    np.testing.assert_allclose(logits.numpy()[big], np.log(ref[big]), rtol=0, atol=1e-9)
    assert (logits.numpy()[ref == 0] == LOG_ZERO).all()


def bayes(x: np.ndarray, prior: np.ndarray, z: np.ndarray, alpha: np.ndarray, V: int) -> np.ndarray:
    """sum_k p(x_k | z) onehot(x_k) with p(x_k | z) ∝ prior_k prod_l q(z_l | x_{k,l}); x (K, L), z (B, L)."""
    onehot = np.eye(V)[x]                                                                 # (K, L, V)
    out = np.zeros(z.shape + (V,))
    for b in range(len(z)):
        lik = np.ones(len(x))
        for l in range(x.shape[1]):                                                      # the product, factor by factor
            lik *= alpha[b] * (x[:, l] == z[b, l]) + (1 - alpha[b]) / V
        w = prior * lik / np.sum(prior * lik)
        out[b] = np.tensordot(w, onehot, axes=1)
    return out


# ----- memorizer ----------------------------------------------------------------------------------
def _train(N=12, L=5, V=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, V, (N, L), generator=g)
    x[-1] = x[0]                                       # a repeated row counts twice (multiset)
    return x, UniformNoise(V)


@pytest.mark.parametrize("t", LEVELS)
def test_memorizer_matches_brute_force(t):
    x, noise = _train()
    z = torch.cat([x[:3], torch.randint(0, noise.V, (5, x.shape[1]), generator=torch.Generator().manual_seed(1))])
    z[1, 0] = (z[1, 0] + 1) % noise.V
    alpha = np.full(len(z), float(noise.alpha(t)))
    ref = bayes(x.numpy(), np.ones(len(x)), z.numpy(), alpha, noise.V)
    assert_posterior_equal(ideal_memorizer(x, noise)(z, t), ref)


def test_memorizer_per_row_t_and_chunking(monkeypatch):
    x, noise = _train()
    z = torch.randint(0, noise.V, (5, x.shape[1]), generator=torch.Generator().manual_seed(2))
    t = torch.tensor(LEVELS)
    ref = bayes(x.numpy(), np.ones(len(x)), z.numpy(), noise.alpha(t).numpy(), noise.V)
    model = ideal_memorizer(x, noise)
    assert_posterior_equal(model(z, t), ref)
    monkeypatch.setattr("engine.models.ideal._CHUNK_ELEMENTS", 2 * len(x))     # two rows per pass
    assert_posterior_equal(model(z, t), ref)


def test_memorizer_concentrates_on_nearest_and_is_empirical_at_alpha_zero():
    x, noise = _train(N=32, L=8, V=20)
    z = x[3].clone()
    z[2] = (z[2] + 1) % noise.V                        # Hamming distance 1 from x_3, >= 3 from the others
    assert ((x != z).sum(1) >= 3).sum() == len(x) - 1
    p = torch.softmax(ideal_memorizer(x, noise)(z[None], 0.01), -1)[0]
    assert p[torch.arange(8), x[3]].min() > 1 - 1e-3
    freq = torch.nn.functional.one_hot(x, noise.V).double().mean(0)      # (L, V) empirical frequencies
    exact = torch.softmax(ideal_memorizer(x, UniformNoise(noise.V, eps=1e-12))(z[None], 1.0), -1)[0]
    torch.testing.assert_close(exact, freq, rtol=0, atol=1e-9)          # alpha_1 = eps = 1e-12 ~ 0
    near = torch.softmax(ideal_memorizer(x, noise)(z[None], 1.0), -1)[0]  # alpha_1 = eps: nearly empirical
    assert (near - freq).abs().max() < 0.05


def test_memorizer_drives_denoise_generate_and_measure():
    x, noise = _train(N=32, L=8, V=20)
    model = ideal_memorizer(x, noise)
    gen = torch.Generator().manual_seed(3)
    x0 = x.repeat(2, 1)
    zt = noise.sample_xt(x0, 0.25, generator=gen)
    x_hat = denoise(model, zt, 0.25, noise, greedy=True).x_hat
    assert (x_hat == x0).all(1).float().mean() >= 0.9
    samples = generate(model, 16, noise, 8, generator=gen)
    assert all(any((s == r).all() for r in x) for s in samples)        # it can only reproduce its data
    table = recovery_table(model, noise, {"train": x[:4]}, levels=(0.25,), trials=1, generator=gen)
    assert len(table) == 4 and model.training is False
    with pytest.raises(ValueError, match="t in"):
        model(x[:1], 0.0)


# ----- generalizer --------------------------------------------------------------------------------
def enumerate_language(g: G.Grammar, max_words: int) -> dict[tuple[str, ...], float]:
    """{sentence: probability} of every sentence with at most max_words words, by expanding the rules."""
    numbers = (("pl", G.P_PLURAL), ("sg", 1 - G.P_PLURAL))

    def noun_phrases(n, head):
        for det, noun in itertools.product(g.det[n], g.noun[n]):
            p0 = 1 / (len(g.det[n]) * len(g.noun[n]))
            if not head:
                yield (det, noun), p0
                continue
            for k, pk in enumerate(G.ADJ_COUNT_WEIGHTS):
                for adjs in itertools.product(g.adj, repeat=k):
                    base, p = (det, *adjs, noun), p0 * pk * len(g.adj) ** -k
                    yield base, p * (1 - G.P_PP)
                    for (m, pm), prep in itertools.product(numbers, g.prep):
                        for inner, pi in noun_phrases(m, False):
                            yield base + (prep, *inner), p * G.P_PP * pm / len(g.prep) * pi

    out: dict[tuple[str, ...], float] = {}
    objects = [(o, pm * po) for m, pm in numbers for o, po in noun_phrases(m, True)]
    for n, pn in numbers:
        vps = [((v, *o), G.P_TRANSITIVE / len(g.tverb[n]) * po) for v in g.tverb[n] for o, po in objects]
        for v in g.iverb[n]:
            pv = (1 - G.P_TRANSITIVE) / len(g.iverb[n])
            vps += [((v,), pv * (1 - G.P_ADVERB))] + [((v, a), pv * G.P_ADVERB / len(g.adv)) for a in g.adv]
        for subject, ps in noun_phrases(n, True):
            for vp, pv in vps:
                if len(subject) + len(vp) <= max_words:
                    s = subject + vp
                    out[s] = out.get(s, 0.0) + pn * ps * pv
    return out


def test_enumeration_is_the_language():
    g = G.Grammar(per_class=1)
    lang = enumerate_language(g, G.MAX_WORDS)
    assert len(lang) == g.count_sentences() and all(g.accepts(s) for s in lang)
    assert math.isclose(sum(lang.values()), 1.0, abs_tol=1e-12)


@pytest.mark.parametrize("per_class, seq_len", [(1, 16), (1, 8), (2, 9)])
def test_generalizer_matches_brute_force(per_class, seq_len):
    g = G.Grammar(per_class=per_class)
    lang = enumerate_language(g, seq_len - 1)                           # conditioned on fitting L
    model = ideal_generalizer(UniformNoise(len(g.lexicon()) + 3), seq_len, g)
    noise, tok = model.noise, model.tokenizer
    x = np.array([tok.encode_fixed(" ".join(s), seq_len) for s in lang])
    prior = np.array(list(lang.values()))
    gen = torch.Generator().manual_seed(per_class)
    x0 = torch.as_tensor(x[[0, len(x) // 2, -1] * 2])
    z = torch.cat([noise.sample_xt(x0, 0.4, generator=gen), torch.randint(0, noise.V, (2, seq_len), generator=gen)])
    for t in (*LEVELS, torch.linspace(0.01, 1.0, len(z), dtype=torch.float64)):
        alpha = noise.alpha(t).expand(len(z)).numpy()
        assert_posterior_equal(model(z, t), bayes(x, prior, z.numpy(), alpha, noise.V), atol=1e-10)


def test_generalizer_point_mass_at_small_t_and_sums_to_one():
    model = ideal_generalizer(UniformNoise(131), 16)
    rng = random.Random(5)
    z = torch.tensor([model.tokenizer.encode_fixed(G.Grammar().sample(rng), 16) for _ in range(8)])
    p = torch.softmax(model(z, 1e-6), -1)
    assert (p.argmax(-1) == z).all() and p.gather(-1, z[..., None]).min() > 1 - 1e-4
    noisy = torch.randint(0, 131, (8, 16), generator=torch.Generator().manual_seed(6))
    sums = torch.softmax(model(noisy, torch.rand(8, dtype=torch.float64) + 1e-3), -1).sum(-1)
    torch.testing.assert_close(sums, torch.ones_like(sums), rtol=0, atol=1e-12)


def test_generalizer_prior_marginals_match_the_sampler():
    model = ideal_generalizer(UniformNoise(131, eps=1e-12), 16)          # alpha_1 = 1e-12: z carries ~nothing
    rng, g = random.Random(7), G.Grammar()
    draws = torch.tensor([model.tokenizer.encode_fixed(g.sample(rng), 16) for _ in range(30_000)])
    freq = torch.nn.functional.one_hot(draws, 131).double().mean(0)       # (L, V) Monte Carlo
    z = torch.randint(0, 131, (3, 16), generator=torch.Generator().manual_seed(8))
    p = torch.softmax(model(z, 1.0), -1)
    assert (p - p[0]).abs().max() < 1e-9                                  # the same for every z
    assert (p[0] - freq).abs().max() < 0.015                              # 5 sigma of the largest cell
    the = model.tokenizer.stoi["the"]                                     # position 0 in closed form
    assert math.isclose(float(p[0, 0, the]), G.P_PLURAL / 8 + (1 - G.P_PLURAL) / 6, rel_tol=1e-9)


def test_generalizer_drives_generate():
    """Most samples are sentences (random tokens: none). Not all: the model step plugs the posterior
    mean into q(z_s | z_t, x), which is not the mixture sum_x x_theta(x) q(z_s | z_t, x); with the
    exact posterior mean about 80 % of samples are valid at 100 or 400 steps per unit."""
    noise = UniformNoise(131)
    model = ideal_generalizer(noise, 16)
    samples = generate(model, 32, noise, 16, generator=torch.Generator().manual_seed(9))
    valid = [G.accepts_ids(s, model.tokenizer) for s in samples.tolist()]
    assert sum(valid) >= 20
    with pytest.raises(ValueError, match="length 16"):
        model(samples[:, :8], 0.5)
