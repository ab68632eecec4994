"""The uniform forward process: schedule, marginal, sampling, and the reverse posterior.

References: the closed forms of PROTOCOL §2 written out with Python scalars, Monte Carlo estimates
with binomial tolerances, and Bayes' rule evaluated by brute force on explicit V x V matrices.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.diffusion import schedule
from engine.diffusion.noise import UniformNoise

@pytest.mark.parametrize("eps", [1e-3, 0.05])
def test_alpha_schedule(eps):
    noise = UniformNoise(V=5, eps=eps)
    assert float(noise.alpha(0.0)) == 1.0
    assert float(noise.alpha(1.0)) == pytest.approx(eps, rel=1e-12)
    ts = torch.linspace(0, 1, 11, dtype=torch.float64)
    assert torch.allclose(noise.alpha(ts), 1 - (1 - eps) * ts, rtol=0, atol=1e-15)
    h = 1e-4
    fd = (float(noise.alpha(0.5 + h)) - float(noise.alpha(0.5 - h))) / (2 * h)
    assert fd == pytest.approx(noise.dalpha(), rel=1e-8)
    for t in (0.0, 0.3, 1.0):
        a = 1 - (1 - eps) * t
        assert noise.changed_fraction(t) == pytest.approx((1 - a) * (1 - 1 / 5), rel=1e-12, abs=1e-15)
        assert schedule.changed_fraction(t, 5, eps) == noise.changed_fraction(t)   # the torch-free home


def test_torch_free_schedule_constants():
    assert UniformNoise(5).eps == schedule.EPS == 1e-3                           # PROTOCOL §2
    assert schedule.T_MIN < schedule.CLEAN_T < 0.05          # between the clean input and the lowest level


@pytest.mark.parametrize("t", [0.0, 0.1, 0.5, 1.0])
def test_marginal_matches_closed_form(t):
    V, noise = 6, UniformNoise(6)
    x0 = torch.arange(V).repeat(2, 1)                           # (2, V): every token as x0
    q = noise.marginal(x0, t)
    assert q.shape == (2, V, V) and q.dtype == torch.float64
    a = 1 - (1 - 1e-3) * t
    for b in range(2):
        for i in range(V):
            for v in range(V):
                expected = a * (v == int(x0[b, i])) + (1 - a) / V
                assert float(q[b, i, v]) == pytest.approx(expected, rel=1e-12)
    assert torch.allclose(q.sum(-1), torch.ones(2, V, dtype=torch.float64), atol=1e-12)


def test_marginal_per_sequence_levels_and_chapman_kolmogorov():
    V, noise = 5, UniformNoise(5)
    x0 = torch.tensor([[0, 1, 4], [3, 3, 2]])
    t = torch.tensor([0.2, 0.9])
    q = noise.marginal(x0, t)
    for b in range(2):
        assert torch.allclose(q[b], noise.marginal(x0[b:b + 1], float(t[b]))[0], atol=1e-15)
    # q(z_t | x) = sum_{z_s} q(z_s | x) q(z_t | z_s) with the transition alpha_{t|s} z_s + (1 - alpha_{t|s})/V
    s, tt = 0.3, 0.7
    a_ts = float(noise.alpha(tt) / noise.alpha(s))
    Q = torch.tensor(a_ts * np.eye(V) + (1 - a_ts) / V)
    assert torch.allclose(noise.marginal(x0, s) @ Q, noise.marginal(x0, tt), atol=1e-12)


@pytest.mark.parametrize("t", [0.3, 0.8])
def test_sample_xt_frequencies_match_marginal(t, binomial_ok):
    V, noise = 5, UniformNoise(5)
    B, L = 2000, 100                                            # 200k draws, 40k per x0 value
    x0 = (torch.arange(L) % V).repeat(B, 1)
    zt = noise.sample_xt(x0, t, generator=torch.Generator().manual_seed(1))
    assert zt.shape == x0.shape and zt.dtype == torch.long
    a = 1 - (1 - 1e-3) * t
    for k in range(V):
        drawn = zt[x0 == k]
        for v in range(V):
            p = a * (v == k) + (1 - a) / V
            assert binomial_ok(int((drawn == v).sum()), len(drawn), p), (k, v)
    p_changed = (1 - a) * (1 - 1 / V)
    assert schedule.changed_fraction(t, V) == pytest.approx(p_changed, rel=1e-12)
    assert binomial_ok(int((zt != x0).sum()), zt.numel(), schedule.changed_fraction(t, V))


def test_sample_xt_per_sequence_levels(binomial_ok):
    V, noise = 7, UniformNoise(7)
    B, L = 2000, 50
    x0 = torch.randint(0, V, (B, L), generator=torch.Generator().manual_seed(0))
    t = torch.where(torch.arange(B) < B // 2, 0.1, 0.9).double()
    zt = noise.sample_xt(x0, t, generator=torch.Generator().manual_seed(2))
    for rows, level in ((slice(0, B // 2), 0.1), (slice(B // 2, B), 0.9)):
        a = 1 - (1 - 1e-3) * level
        changed = (zt[rows] != x0[rows])
        assert binomial_ok(int(changed.sum()), changed.numel(), (1 - a) * (1 - 1 / V)), level


def test_sample_xt_extremes():
    noise = UniformNoise(7)
    x0 = torch.randint(0, 7, (50, 20), generator=torch.Generator().manual_seed(0))
    assert torch.equal(noise.sample_xt(x0, 0.0, generator=torch.Generator().manual_seed(0)), x0)


def test_sample_xt_seeding():
    noise = UniformNoise(7)
    x0 = torch.randint(0, 7, (16, 20), generator=torch.Generator().manual_seed(0))
    a = noise.sample_xt(x0, 0.5, generator=torch.Generator().manual_seed(11))
    b = noise.sample_xt(x0, 0.5, generator=torch.Generator().manual_seed(11))
    c = noise.sample_xt(x0, 0.5, generator=torch.Generator().manual_seed(12))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("t,s", [(1.0, 0.99), (1.0, 0.0), (0.5, 0.25), (0.3, 0.0), (0.05, 1e-5), (0.9, 0.1)])
def test_true_posterior_is_bayes_rule(t, s):
    """q(z_s | z_t, x) = q(z_s | x) q(z_t | z_s) / q(z_t | x), looped over every x and z_t."""
    V, eps = 4, 1e-3
    noise = UniformNoise(V, eps)
    a_t, a_s = 1 - (1 - eps) * t, 1 - (1 - eps) * s
    a_ts = a_t / a_s
    eye = np.eye(V)
    q_s_x = a_s * eye + (1 - a_s) / V                 # [x, z_s]
    q_t_s = a_ts * eye + (1 - a_ts) / V               # [z_s, z_t]
    q_t_x = a_t * eye + (1 - a_t) / V                 # [x, z_t]
    xs, zts = np.meshgrid(np.arange(V), np.arange(V), indexing="ij")
    x = torch.nn.functional.one_hot(torch.tensor(xs.reshape(1, -1)), V).double()   # (1, V*V, V)
    zt = torch.tensor(zts.reshape(1, -1))
    got = noise.posterior(x, zt, t, s)[0].numpy()
    for n, (xi, zi) in enumerate(zip(xs.ravel(), zts.ravel())):
        expected = np.array([q_s_x[xi, zs] * q_t_s[zs, zi] for zs in range(V)]) / q_t_x[xi, zi]
        np.testing.assert_allclose(got[n], expected, rtol=1e-10, atol=1e-14)


def test_model_posterior_is_bayes_with_mixture_prior(bayes):
    """With a probability vector x_theta the step is Bayes' rule with prior sum_x x_theta(x) q(z_s | x)."""
    V = 5
    noise = UniformNoise(V)
    g = torch.Generator().manual_seed(3)
    x_theta = torch.softmax(3 * torch.randn(3, 4, V, generator=g, dtype=torch.float64), -1)
    zt = torch.randint(0, V, (3, 4), generator=g)
    for t, s in ((1.0, 0.5), (0.4, 0.39), (0.2, 0.0)):
        p = noise.posterior(x_theta, zt, t, s)
        assert (p >= 0).all()
        assert torch.allclose(p.sum(-1), torch.ones(3, 4, dtype=torch.float64), atol=1e-12)
        for b in range(3):
            for i in range(4):
                ref = bayes(x_theta[b, i].numpy(), int(zt[b, i]), t, s, V)
                np.testing.assert_allclose(p[b, i].numpy(), ref, rtol=1e-10, atol=1e-14)


def test_posterior_nonnegative_and_normalised_on_random_vectors():
    V = 9
    noise = UniformNoise(V)
    g = torch.Generator().manual_seed(4)
    for scale in (0.1, 1.0, 30.0):
        x = torch.softmax(scale * torch.randn(8, 6, V, generator=g, dtype=torch.float64), -1)
        zt = torch.randint(0, V, (8, 6), generator=g)
        for t, s in ((1.0, 0.0), (0.7, 0.69), (1e-3, 1e-5)):
            p = noise.posterior(x, zt, t, s)
            assert (p >= 0).all() and torch.isfinite(p).all()
            assert torch.allclose(p.sum(-1), torch.ones(8, 6, dtype=torch.float64), atol=1e-12)


@pytest.mark.parametrize("t,s", [(0.5, 0.5), (0.5, 0.6), (1.2, 0.5), (0.5, -0.1)])
def test_posterior_rejects_bad_times(t, s):
    noise = UniformNoise(4)
    x = torch.full((1, 2, 4), 0.25, dtype=torch.float64)
    with pytest.raises(ValueError):
        noise.posterior(x, torch.zeros(1, 2, dtype=torch.long), t, s)
