"""Training objectives: the UDLM NELBO integrand and the cross-entropy.

References: PROTOCOL §4's formula written literally with loops over j; the continuous-time limit of
KL(q(z_s | z_t, x) || p_theta(z_s | z_t)) / (t - s) with both posteriors from brute-force Bayes' rule;
-log softmax by a manual loop.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.models.losses import cross_entropy, nelbo, nelbo_per_token
from engine.diffusion.noise import UniformNoise


def _literal_nelbo(logits: torch.Tensor, x0: int, zt: int, t: float, V: int, eps: float = 1e-3) -> float:
    """L = (alpha'_t / (V alpha_t)) [V/xb_i - V/xbt_i - sum_j (xb_j/xb_i) log(xbt_i xb_j / (xbt_j xb_i))]."""
    a = 1 - (1 - eps) * t
    da = -(1 - eps)
    z = [math.exp(float(v)) for v in logits]
    x_theta = [v / sum(z) for v in z]
    xb = [V * a * (j == x0) + (1 - a) for j in range(V)]
    xbt = [V * a * x_theta[j] + (1 - a) for j in range(V)]
    i = zt
    total = 0.0
    for j in range(V):
        total += (xb[j] / xb[i]) * math.log(xbt[i] * xb[j] / (xbt[j] * xb[i]))
    return da / (V * a) * (V / xb[i] - V / xbt[i] - total)


def _random_case(B, L, V, scale, seed, t=None):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(B, L, V, generator=g, dtype=torch.float64)
    x0 = torch.randint(0, V, (B, L), generator=g)
    zt = torch.randint(0, V, (B, L), generator=g)
    if t is None:
        t = 1e-5 + (1 - 1e-5) * torch.rand(B, generator=g, dtype=torch.float64)
    return logits, x0, zt, t


@pytest.mark.parametrize("scale", [0.1, 1.0, 5.0, 30.0])
def test_nelbo_nonnegative_for_random_logits(scale):
    V = 6
    noise = UniformNoise(V)
    for seed in range(5):
        logits, x0, zt, t = _random_case(64, 8, V, scale, seed)
        t = torch.cat([t[:-4], torch.tensor([1e-5, 1e-3, 0.999, 1.0], dtype=torch.float64)])
        L = nelbo_per_token(logits, x0, zt, t, noise)
        assert L.shape == (64, 8) and torch.isfinite(L).all()
        assert L.min() >= -1e-9, float(L.min())
    # and it is not trivially zero
    assert float(nelbo_per_token(*_random_case(8, 4, V, 1.0, 9), noise).mean()) > 1e-3


@pytest.mark.parametrize("t", [1e-5, 1e-3, 0.1, 0.5, 0.9, 1.0])
def test_nelbo_zero_at_the_data(t):
    V = 7
    noise = UniformNoise(V)
    g = torch.Generator().manual_seed(0)
    x0 = torch.randint(0, V, (16, 5), generator=g)
    zt = torch.randint(0, V, (16, 5), generator=g)
    tt = torch.full((16,), t, dtype=torch.float64)
    logits = 50.0 * F.one_hot(x0, V).double()
    assert float(nelbo_per_token(logits, x0, zt, tt, noise).abs().max()) < 1e-6
    # one-hot at a wrong token is penalised
    wrong = 50.0 * F.one_hot((x0 + 1) % V, V).double()
    assert float(nelbo_per_token(wrong, x0, zt, tt, noise).min()) > 1e-3


def test_nelbo_matches_protocol_formula_written_literally():
    V = 5
    noise = UniformNoise(V)
    logits, x0, zt, t = _random_case(6, 4, V, 2.0, 1)
    t[0] = 1.0
    t[1] = 1e-4
    zt[2] = x0[2]                                       # make sure z_t == x0 is covered too
    got = nelbo_per_token(logits, x0, zt, t, noise)
    for b in range(6):
        for i in range(4):
            ref = _literal_nelbo(logits[b, i], int(x0[b, i]), int(zt[b, i]), float(t[b]), V)
            assert float(got[b, i]) == pytest.approx(ref, rel=1e-9, abs=1e-12), (b, i)
    assert float(nelbo(logits, x0, zt, t, noise)) == pytest.approx(float(got.mean()), rel=1e-12)


def test_nelbo_is_the_continuous_time_limit_of_the_reverse_kl(bayes):
    """L(z_t) = lim_{s -> t} KL(q(z_s | z_t, x) || p_theta(z_s | z_t)) / (t - s) (Richardson-extrapolated)."""
    V = 4
    noise = UniformNoise(V)
    g = torch.Generator().manual_seed(5)
    logits = 2 * torch.randn(V, generator=g, dtype=torch.float64)
    x_theta = torch.softmax(logits, -1).numpy()
    for t in (0.2, 0.6, 0.95):
        for x0 in range(V):
            for zt in range(V):
                kls = []
                for dt in (2e-5, 1e-5):
                    q = bayes(np.eye(V)[x0], zt, t, t - dt, V)
                    p = bayes(x_theta, zt, t, t - dt, V)
                    kls.append(float(np.sum(q * np.log(q / p))) / dt)
                limit = 2 * kls[1] - kls[0]
                L = float(nelbo_per_token(logits[None, None], torch.tensor([[x0]]), torch.tensor([[zt]]),
                                          torch.tensor([t], dtype=torch.float64), noise))
                assert L == pytest.approx(limit, rel=2e-5, abs=1e-7), (t, x0, zt)


def test_cross_entropy_matches_manual_loop():
    V = 7
    noise = UniformNoise(V)
    logits, x0, zt, t = _random_case(3, 5, V, 3.0, 2)
    total = 0.0
    for b in range(3):
        for i in range(5):
            z = [math.exp(float(v)) for v in logits[b, i]]
            total += -math.log(z[int(x0[b, i])] / sum(z))
    got = float(cross_entropy(logits.float(), x0, zt, t, noise))
    assert got == pytest.approx(total / 15, rel=1e-5)
    # at the data with a huge margin it is ~0
    assert float(cross_entropy(50.0 * F.one_hot(x0, V).float(), x0, zt, t, noise)) < 1e-6


