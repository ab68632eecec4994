"""The log-linear schedule in closed form, torch-free (PROTOCOL §2): what the app's home page and the
results table need to know about the forward process without importing torch.

* alpha_t = 1 - (1 - eps) t: the probability that a token is untouched at time t;
* changed fraction = (1 - alpha_t)(1 - 1/V) = (1 - eps) t (1 - 1/V): the expected share of positions
  whose token actually changes at level t (a resampled token may equal the original), not t;
* T_MIN: the smallest time the sampler reaches, where the final argmax removes the last noise and
  where "clean input" is measured;
* CLEAN_T: levels below it are the clean input (tables store them at t = T_MIN).

``engine.diffusion.noise.UniformNoise`` is the same process with tensors; its ``alpha`` and
``changed_fraction`` call these.
"""
from __future__ import annotations

EPS = 1e-3      # the schedule's eps (PROTOCOL §2)
T_MIN = 1e-5    # the sampler's last time; "clean input" is measured here
CLEAN_T = 1e-4  # levels below this are the clean input


def alpha(t, eps: float = EPS):
    """alpha_t = 1 - (1 - eps) t for a float or an array/tensor of levels t in [0, 1] (same type back)."""
    return 1.0 - (1.0 - eps) * t


def changed_fraction(t: float, V: int, eps: float = EPS) -> float:
    """Expected fraction of positions whose token changes at level t on a vocabulary of V tokens:
    (1 - alpha_t)(1 - 1/V)."""
    return float((1.0 - alpha(t, eps)) * (1.0 - 1.0 / V))
