"""Shared fixtures: a tiny untrained denoiser, fake models with known outputs, a brute-force
reference for the reverse posterior built from explicit V x V transition matrices (Bayes' rule), a
binomial tolerance for Monte Carlo counts, and the tiny zoo the app tests run on.

Test tiers (pytest.ini): every test of a module that drives the browser is marked ``browser``, of one
that runs pages with AppTest ``app``, and of the modules in ``SLOW_MODULES`` ``slow``, so that
``pytest -m "not app and not browser and not slow"`` is the fast engine tier."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.models.model import Denoiser, ModelConfig

SLOW_MODULES = {"test_sweep_backends.py", "test_end_to_end.py"}   # Ray, whole sweeps, real training


def pytest_collection_modifyitems(config, items):
    kinds: dict[str, str | None] = {}
    for item in items:
        path = Path(str(item.fspath))
        if path.name not in kinds:
            text = path.read_text(encoding="utf-8")
            kinds[path.name] = ("browser" if "playwright" in text or "from browser import" in text
                                else "app" if "AppTest" in text else None)
        if kinds[path.name]:
            item.add_marker(kinds[path.name])
        if path.name in SLOW_MODULES:
            item.add_marker("slow")


TINY = ModelConfig(vocab_size=7, seq_len=5, d_model=16, n_layers=1, n_heads=2)
SIGMAS = 5.0  # Monte Carlo tolerance in binomial standard deviations


@pytest.fixture
def tiny_cfg() -> ModelConfig:
    return TINY


@pytest.fixture
def tiny_model() -> Denoiser:
    """An untrained Denoiser with a fixed initialisation (eval mode)."""
    torch.manual_seed(0)
    return Denoiser(TINY).eval()


class FixedLogits(torch.nn.Module):
    """A fake x_theta whose logits (L, V) ignore the input: forward(z (B, L), t) -> (B, L, V).

    Holds one dummy parameter because ``denoise`` reads the device from ``model.parameters()``.
    """

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.register_buffer("logits", logits.float())
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.logits.expand(z.shape[0], *self.logits.shape).clone()


def oracle_model(target, V: int, margin: float = 50.0) -> FixedLogits:
    """A fake model that is certain of ``target`` (L,) whatever it is shown."""
    target = torch.as_tensor(target)
    return FixedLogits(margin * torch.nn.functional.one_hot(target, V).float())


@pytest.fixture
def fixed_logits():
    return FixedLogits


@pytest.fixture
def oracle():
    return oracle_model


def bayes_posterior(prior_x: np.ndarray, zt: int, t: float, s: float, V: int, eps: float = 1e-3) -> np.ndarray:
    """p(z_s | z_t) ∝ sum_x prior_x(x) q(z_s | x) q(z_t | z_s), with q written as explicit matrices.

    prior_x: (V,) probability vector over x (one-hot for the true posterior). Returns (V,) in float64.
    """
    a_t, a_s = 1 - (1 - eps) * t, 1 - (1 - eps) * s
    a_ts = a_t / a_s
    eye = np.eye(V)
    q_s_given_x = a_s * eye + (1 - a_s) / V          # [x, z_s]
    q_t_given_s = a_ts * eye + (1 - a_ts) / V        # [z_s, z_t]
    joint = np.zeros(V)                              # over z_s
    for x in range(V):
        for zs in range(V):
            joint[zs] += prior_x[x] * q_s_given_x[x, zs] * q_t_given_s[zs, zt]
    return joint / joint.sum()


def mixture_posterior(x_theta: np.ndarray, zt: int, t: float, s: float, V: int, eps: float = 1e-3) -> np.ndarray:
    """The exact step's reference: sum_v x_theta(v) · q(z_s | z_t, x = e_v), each term by Bayes' rule
    on explicit matrices (``bayes_posterior`` with a one-hot prior). Returns (V,) in float64."""
    return sum(x_theta[v] * bayes_posterior(np.eye(V)[v], zt, t, s, V, eps) for v in range(V))


@pytest.fixture
def bayes():
    return bayes_posterior


@pytest.fixture
def mixture():
    return mixture_posterior


def binomial_within(count: int, n: int, p: float) -> bool:
    """Whether ``count`` successes in ``n`` draws are within SIGMAS binomial standard deviations (+1)
    of the expected n p."""
    return abs(count - n * p) <= SIGMAS * math.sqrt(n * p * (1 - p)) + 1


@pytest.fixture
def binomial_ok():
    return binomial_within


@pytest.fixture(scope="session")
def zoo(tmp_path_factory) -> Path:
    """The tiny zoo (``tinyzoo.app_zoo``: grammar, N = 8 and 32), built once per test session for every
    app test module (AppTest and the browser)."""
    from tinyzoo import app_zoo  # the engine's training and sweep: only for the sessions that need them

    return app_zoo(tmp_path_factory.mktemp("tiny_zoo") / "zoo")


@pytest.fixture
def single_thread():
    """torch on one thread for the test (``tinyzoo.one_thread``): AppTest pages run small models."""
    from tinyzoo import one_thread

    with one_thread():
        yield


@pytest.fixture
def runs_dir(zoo, monkeypatch, tmp_path) -> Path:
    """The tiny zoo as BASIN_ZOO and a fresh what-if folder as BASIN_RUNS (returned, not created)."""
    monkeypatch.setenv("BASIN_ZOO", str(zoo))
    monkeypatch.setenv("BASIN_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"

