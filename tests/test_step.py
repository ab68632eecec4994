"""The reverse step (engine.diffusion.step) against independent references: the explicit sum over one-hot
posteriors, the true posterior, the forward marginals of a brute-force chain, and the grammar."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from engine.diffusion.noise import UniformNoise
from engine.diffusion.step import STEPS, categorical, check_step, reverse_probs, reverse_step

LEVEL_PAIRS = [(1.0, 0.99), (1.0, 0.5), (0.7, 0.3), (0.3, 0.29), (0.25, 0.0), (0.05, 0.01), (2e-5, 1e-5)]


@pytest.mark.parametrize("t,s", LEVEL_PAIRS)
def test_exact_step_is_the_mixture_of_one_hot_posteriors(t, s, mixture):
    V = 6
    noise = UniformNoise(V)
    g = torch.Generator().manual_seed(int(t * 1000))
    x_theta = torch.softmax(3 * torch.randn(4, 5, V, generator=g, dtype=torch.float64), -1)
    zt = torch.randint(0, V, (4, 5), generator=g)
    p = reverse_probs(noise, x_theta, zt, t, s, "exact")
    assert torch.allclose(p.sum(-1), torch.ones(4, 5, dtype=torch.float64), atol=1e-12) and (p >= 0).all()
    for b, i in itertools.product(range(4), range(5)):
        np.testing.assert_allclose(p[b, i].numpy(), mixture(x_theta[b, i].numpy(), int(zt[b, i]), t, s, V),
                                   rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("t,s", LEVEL_PAIRS[1:])
def test_the_two_steps_differ_on_a_soft_x_theta(t, s):
    """The plug-in step is not the mixture (else the exact step would be a rename). Near t = 1 the two
    normalisers are almost equal (alpha_t = eps), so the steps nearly coincide there."""
    V = 6
    noise = UniformNoise(V)
    x_theta = torch.softmax(torch.randn(2, 3, V, generator=torch.Generator().manual_seed(1), dtype=torch.float64), -1)
    zt = torch.randint(0, V, (2, 3), generator=torch.Generator().manual_seed(2))
    gap = (reverse_probs(noise, x_theta, zt, t, s, "exact") - reverse_probs(noise, x_theta, zt, t, s, "plugin")).abs()
    assert float(gap.max()) > 1e-4


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("t,s", LEVEL_PAIRS)
def test_one_hot_x_gives_the_true_posterior(step, t, s):
    V = 5
    noise = UniformNoise(V)
    g = torch.Generator().manual_seed(4)
    x0 = torch.randint(0, V, (3, 7), generator=g)
    zt = torch.randint(0, V, (3, 7), generator=g)
    onehot = torch.nn.functional.one_hot(x0, V).double()
    assert torch.allclose(reverse_probs(noise, onehot, zt, t, s, step), noise.posterior(onehot, zt, t, s),
                          rtol=0, atol=1e-13)


def test_greedy_takes_the_argmax_of_the_same_distribution():
    V = 8
    noise = UniformNoise(V)
    g = torch.Generator().manual_seed(5)
    logits = 2 * torch.randn(16, 6, V, generator=g)
    zt = torch.randint(0, V, (16, 6), generator=g)
    for step in STEPS:
        p = reverse_probs(noise, torch.softmax(logits, -1, dtype=torch.float64), zt, 0.5, 0.4, step)
        assert torch.equal(reverse_step(noise, logits, zt, 0.5, 0.4, step=step, greedy=True), p.argmax(-1))


def test_categorical_draws_the_given_frequencies(binomial_ok):
    p = torch.tensor([0.1, 0.0, 0.6, 0.3], dtype=torch.float64)
    draws = categorical(p.expand(20000, 4), torch.Generator().manual_seed(0))
    for v in range(4):
        assert binomial_ok(int((draws == v).sum()), 20000, float(p[v]))


def test_one_generator_per_sequence_draws_each_as_it_would_alone():
    V, noise = 6, UniformNoise(6)
    g = torch.Generator().manual_seed(7)
    logits, zt = torch.randn(3, 5, V, generator=g), torch.randint(0, V, (3, 5), generator=g)
    batch = reverse_step(noise, logits, zt, 0.5, 0.3, generator=[torch.Generator().manual_seed(i) for i in range(3)])
    alone = [reverse_step(noise, logits[i:i + 1], zt[i:i + 1], 0.5, 0.3, generator=torch.Generator().manual_seed(i))
             for i in range(3)]
    assert torch.equal(batch, torch.cat(alone))
    with pytest.raises(ValueError, match="one generator per sequence"):
        categorical(torch.full((3, 5, V), 1 / V, dtype=torch.float64), [torch.Generator()])


def test_an_unknown_step_is_refused():
    with pytest.raises(ValueError, match="exact, plugin"):
        check_step("euler")
    with pytest.raises(ValueError, match="step must be one of"):
        reverse_probs(UniformNoise(3), torch.full((1, 1, 3), 1 / 3, dtype=torch.float64),
                      torch.zeros(1, 1, dtype=torch.long), 0.5, 0.1, "exact ")


# ------------------------------------------------------------------ the whole chain, by brute force

def _chain_error(step: str, steps: int) -> float:
    """Total variation between the law of z_s and the forward marginal q(z_s) = sum_x p(x) q(z_s | x)
    at s = 0.1 after ``steps`` reverse steps from z_1 ~ q(z_1), on sequences of length 2 over V = 3
    with a correlated data law p, the denoiser being the exact per-position posterior E_p[x | z_t].
    Every law is a vector over the 9 sequences, propagated exactly (no sampling)."""
    V, L = 3, 2
    noise = UniformNoise(V)
    seqs = torch.tensor(list(itertools.product(range(V), repeat=L)))                # (9, 2)
    p_data = torch.tensor([0.3, 0.0, 0.05, 0.0, 0.3, 0.0, 0.05, 0.0, 0.3], dtype=torch.float64)

    def forward(t):          # q(z_t = row | x = column) over whole sequences, (9, 9)
        a = float(noise.alpha(t))
        per = a * torch.eye(V, dtype=torch.float64) + (1 - a) / V                     # [x, z]
        return (per[seqs[:, None, 0], seqs[None, :, 0]] * per[seqs[:, None, 1], seqs[None, :, 1]]).T

    def x_theta(t):          # E_p[onehot(x_l) | z_t] for every z_t, (9, L, V)
        joint = forward(t) * p_data[None, :]                                          # [z, x]
        post = joint / joint.sum(1, keepdim=True)
        return torch.stack([post @ torch.nn.functional.one_hot(seqs[:, l], V).double() for l in range(L)], 1)

    law = forward(1.0) @ p_data                                                       # q(z_1)
    grid = torch.linspace(1.0, 0.1, steps + 1, dtype=torch.float64)
    for k in range(steps):
        t, s = float(grid[k]), float(grid[k + 1])
        probs = reverse_probs(noise, x_theta(t), seqs, t, s, step)                    # (9, L, V)
        kernel = probs[:, 0, seqs[:, 0]] * probs[:, 1, seqs[:, 1]]                    # [z_t, z_s]
        law = law @ kernel
    return 0.5 * float((law - forward(0.1) @ p_data).abs().sum())


def test_the_exact_chain_reproduces_the_forward_marginals_better_than_the_plugin_chain():
    exact, plugin = _chain_error("exact", 200), _chain_error("plugin", 200)
    assert exact < 0.01                      # only the per-position factorisation remains, O(1/steps)
    assert plugin > 5 * exact and plugin > 0.02
    assert _chain_error("exact", 400) < exact  # and it vanishes as the grid refines


def test_the_ideal_generalizer_writes_only_grammatical_sentences_with_the_exact_step():
    from engine.text.corpus import grammar_corpus, oracle_for
    from engine.models.ideal import ideal_generalizer
    from engine.diffusion.sample import generate

    corpus = grammar_corpus()
    noise = UniformNoise(corpus.tokenizer.vocab_size)
    model = ideal_generalizer(noise, corpus.seq_len)
    oracle = oracle_for("grammar", corpus.tokenizer)
    shares = {}
    for step in STEPS:
        samples = generate(model, 32, noise, corpus.seq_len, generator=torch.Generator().manual_seed(0),
                           steps_per_unit=50, step=step)
        shares[step] = sum(bool(oracle(r)) for r in samples.tolist()) / len(samples)
    assert shares["exact"] == 1.0
    assert shares["plugin"] < 0.95          # the plug-in step's bias, seen on the same initial noise
