"""The ancestral sampler: time grid, entropy, and denoising with real and fake models.

References: closed forms (log V, grid spacing), fake models whose x_theta is known exactly (an oracle
certain of one sequence, fixed softmax outputs), Monte Carlo frequencies against brute-force Bayes'
rule and against the forward marginal q(z_s | x) that an exact reverse chain must reproduce, and
per-sequence runs as the reference for a batched run.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine.diffusion.noise import UniformNoise
from engine.diffusion.sample import T_MIN, Trajectory, denoise, entropy_nats, generate, time_grid

@pytest.mark.parametrize("t0,spu,n", [(1.0, 100, 100), (0.5, 100, 50), (0.25, 10, 3), (0.05, 100, 5),
                                      (0.013, 100, 2), (1.0, 1, 1), (0.001, 100, 1), (0.3, 1000, 300)])
def test_time_grid(t0, spu, n):
    grid = time_grid(t0, spu)
    assert grid.dtype == torch.float64 and len(grid) == n + 1
    assert float(grid[0]) == t0 and float(grid[-1]) == pytest.approx(T_MIN, abs=1e-15)
    steps = grid[:-1] - grid[1:]
    assert (steps > 0).all()
    assert torch.allclose(steps, torch.full_like(steps, (t0 - T_MIN) / n), rtol=1e-9)


@pytest.mark.parametrize("t0", [0.0, T_MIN, -0.5, 1.01])
def test_time_grid_rejects_bad_start(t0):
    with pytest.raises(ValueError):
        time_grid(t0)


def test_entropy_nats():
    V = 7
    assert torch.allclose(entropy_nats(torch.zeros(3, 4, V)), torch.full((3, 4), math.log(V)), atol=1e-6)
    assert float(entropy_nats(50.0 * torch.nn.functional.one_hot(torch.arange(V), V).float()).max()) < 1e-6
    g = torch.Generator().manual_seed(0)
    logits = 2 * torch.randn(5, V, generator=g)
    H = entropy_nats(logits)
    for r in range(5):
        z = [math.exp(float(v)) for v in logits[r]]
        p = [v / sum(z) for v in z]
        assert float(H[r]) == pytest.approx(-sum(q * math.log(q) for q in p), rel=1e-5)


@pytest.mark.parametrize("greedy", [True, False])
def test_oracle_model_recovers_target_from_pure_noise(oracle, greedy):
    V, L, B = 7, 5, 32
    target = torch.tensor([3, 6, 0, 2, 5])
    noise = UniformNoise(V)
    g = torch.Generator().manual_seed(0)
    z1 = torch.randint(0, V, (B, L), generator=g)
    traj = denoise(oracle(target, V), z1, 1.0, noise, greedy=greedy, steps_per_unit=20, generator=g,
                   return_trajectory=True)
    assert torch.equal(traj.x_hat, target.expand(B, L))
    if greedy:  # the deterministic posterior has already landed on the target before noise removal
        assert torch.equal(traj.tokens[-2], target.expand(B, L))
    else:       # and the stochastic chain almost surely too (per-position miss rate ~1e-3)
        assert (traj.tokens[-2] == target).float().mean() > 0.95
    assert torch.equal(generate(oracle(target, V), 4, noise, L, generator=g, steps_per_unit=10), target.expand(4, L))


def test_oracle_chain_reproduces_forward_marginals(oracle, binomial_ok):
    """With x_theta = x the reverse chain is exact: starting from z_1 ~ q(z_1 | x), the state at every
    grid time s is distributed as q(z_s | x) = alpha_s x + (1 - alpha_s)/V."""
    V, L, B = 5, 5, 4000
    target = torch.tensor([0, 1, 2, 3, 4])
    noise = UniformNoise(V)
    g = torch.Generator().manual_seed(1)
    z1 = noise.sample_xt(target.expand(B, L), 1.0, generator=g)
    traj = denoise(oracle(target, V), z1, 1.0, noise, steps_per_unit=10, generator=g, return_trajectory=True)
    for k in (3, 6, 9):                                      # times 0.7, 0.4, ~0.1
        s = float(traj.times[k])
        a = 1 - (1 - 1e-3) * s
        hits = int((traj.tokens[k] == target).sum())
        assert binomial_ok(hits, B * L, a + (1 - a) / V), (k, s, hits / (B * L))


def test_trajectory_shapes_and_ends(tiny_model):
    V, L, B = 7, 5, 3
    noise = UniformNoise(V)
    zt = torch.randint(0, V, (B, L), generator=torch.Generator().manual_seed(0))
    traj = denoise(tiny_model, zt, 0.1, noise, steps_per_unit=50, generator=torch.Generator().manual_seed(1),
                   return_trajectory=True)
    n = 5
    assert isinstance(traj, Trajectory)
    assert traj.tokens.shape == (n + 2, B, L) and traj.entropy.shape == (n + 1, B, L)
    assert torch.equal(traj.times, time_grid(0.1, 50))
    assert torch.equal(traj.tokens[0], zt) and torch.equal(traj.tokens[-1], traj.x_hat)
    with torch.no_grad():
        for k in (0, n):
            logits = tiny_model(traj.tokens[k], torch.full((B,), float(traj.times[k])))
            assert torch.allclose(traj.entropy[k], entropy_nats(logits), atol=1e-6)
        assert torch.equal(traj.x_hat, tiny_model(traj.tokens[n], torch.full((B,), T_MIN)).argmax(-1))
    plain = denoise(tiny_model, zt, 0.1, noise, steps_per_unit=50, generator=torch.Generator().manual_seed(1))
    assert plain.tokens is None and plain.entropy is None
    assert torch.equal(plain.x_hat, traj.x_hat)


def test_batched_greedy_equals_per_sequence(tiny_model):
    V, L, B = 7, 5, 6
    noise = UniformNoise(V)
    zt = torch.randint(0, V, (B, L), generator=torch.Generator().manual_seed(2))
    batched = denoise(tiny_model, zt, 0.5, noise, greedy=True, steps_per_unit=40)
    for b in range(B):
        single = denoise(tiny_model, zt[b:b + 1], 0.5, noise, greedy=True, steps_per_unit=40)
        assert torch.equal(single.x_hat[0], batched.x_hat[b]), b



def test_chunks_are_stitched_in_order(tiny_model):
    """Cutting a batch into chunks changes nothing for greedy dynamics: tokens, entropy and x_hat
    of chunk=4 (three chunks, the last one short) equal those of the whole batch at once."""
    V, L, B = 7, 5, 10
    noise = UniformNoise(V)
    zt = torch.randint(0, V, (B, L), generator=torch.Generator().manual_seed(4))
    whole = denoise(tiny_model, zt, 0.3, noise, greedy=True, steps_per_unit=20, return_trajectory=True)
    parts = denoise(tiny_model, zt, 0.3, noise, greedy=True, steps_per_unit=20, return_trajectory=True,
                    chunk=4)
    assert torch.equal(parts.x_hat, whole.x_hat)
    assert torch.equal(parts.tokens, whole.tokens) and parts.tokens.shape == (6 + 2, B, L)
    assert torch.allclose(parts.entropy, whole.entropy, atol=1e-6)
    with pytest.raises(ValueError, match="chunk"):
        denoise(tiny_model, zt, 0.3, noise, chunk=0)

def test_denoise_restores_training_mode(tiny_model):
    tiny_model.train()
    denoise(tiny_model, torch.zeros(1, 5, dtype=torch.long), 0.1, UniformNoise(7), greedy=True)
    assert tiny_model.training


def test_stochastic_seeding(tiny_model):
    V, L, B = 7, 5, 8
    noise = UniformNoise(V)
    zt = torch.randint(0, V, (B, L), generator=torch.Generator().manual_seed(3))

    def run(seed):
        return denoise(tiny_model, zt, 1.0, noise, steps_per_unit=15, return_trajectory=True,
                       generator=torch.Generator().manual_seed(seed)).tokens

    assert torch.equal(run(5), run(5))
    assert not torch.equal(run(5), run(6))


@pytest.mark.parametrize("step", ["exact", "plugin"])
def test_one_stochastic_step_samples_the_posterior(step, fixed_logits, bayes, mixture, binomial_ok):
    """One step t0 = 0.6 -> s = 0.3 with fixed, known x_theta: frequencies match the step's reference,
    the mixture of one-hot posteriors (exact) or Bayes' rule with x_theta as the prior (plug-in)."""
    V, L, B = 4, 4, 40000
    t0, s = 0.6, 0.3
    noise = UniformNoise(V)
    logits = torch.tensor([[2.0, 0.0, -1.0, 0.5], [0.0, 0.0, 0.0, 0.0], [-3.0, 1.0, 1.0, 0.0], [5.0, -5.0, 0.0, 1.0]])
    model = fixed_logits(logits)
    zt = torch.tensor([0, 1, 2, 3]).expand(B, L)
    traj = denoise(model, zt, t0, noise, steps_per_unit=1, t_min=s, return_trajectory=True,
                   generator=torch.Generator().manual_seed(7), step=step)
    assert traj.tokens.shape == (3, B, L)
    x_theta = torch.softmax(logits.double(), -1).numpy()
    for i in range(L):
        p = (mixture if step == "exact" else bayes)(x_theta[i], i, t0, s, V)
        drawn = traj.tokens[1, :, i]
        for v in range(V):
            assert binomial_ok(int((drawn == v).sum()), B, p[v]), (i, v, p[v])
        greedy = denoise(model, zt[:1], t0, noise, greedy=True, steps_per_unit=1, t_min=s,
                         return_trajectory=True, step=step)
        assert int(greedy.tokens[1, 0, i]) == int(np.argmax(p))
