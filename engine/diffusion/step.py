"""The reverse step p_theta(z_s | z_t) of the ancestral sampler (PROTOCOL §3), and its categorical draw.

For 0 <= s < t, alpha_{t|s} = alpha_t / alpha_s, the true posterior of one position given its clean
token x (one-hot) is

    q(z_s | z_t, x) = [ V alpha_t x*z_t + (alpha_{t|s} - alpha_t) z_t + (alpha_s - alpha_t) x
                        + (1 - alpha_{t|s})(1 - alpha_s)/V · 1 ]  /  [ V alpha_t <x, z_t> + 1 - alpha_t ]

(``UniformNoise.posterior``). A denoiser gives, per position i, a distribution x_theta^i(z_t, t) over
the clean token. Two steps are built from it:

* ``"exact"`` (the default) — the mixture over the clean token,

      p_theta(z_s^i | z_t) = sum_v x_theta^i(v) · q(z_s^i | z_t^i, x^i = e_v).

  Its normaliser takes two values, D1 = V alpha_t + 1 - alpha_t where v = z_t^i and D0 = 1 - alpha_t
  elsewhere, so with a = x_theta^i(z_t^i) and c = (1 - alpha_{t|s})(1 - alpha_s)/V it is

      p = (alpha_s - alpha_t)/D0 · x_theta + [a/D1 + (1 - a)/D0] c · 1
          + [ a (V alpha_t + alpha_{t|s} + alpha_s - 2 alpha_t)/D1
              + (1 - a)(alpha_{t|s} - alpha_t)/D0 - a (alpha_s - alpha_t)/D0 ] z_t

  — O(V) per position, like the plug-in step. With a one-hot x_theta it is the posterior; driven by
  the exact posterior mean of a language (the ideal generalizer) it samples only sentences of it.
* ``"plugin"`` — the posterior formula with x replaced by the probability vector x_theta: the step of
  the paper's code (DUO/UDLM). Its normaliser depends on x_theta, so it is not the mixture and is
  biased: driven by the ideal generalizer it writes about a fifth ungrammatical sentences.

Greedy dynamics take the argmax of the same distribution. Everything is float64: low-precision
sampling biases discrete samplers. The module imports torch only when a step is taken, so the app's
torch-free pages can name the steps (``STEPS``, ``STEP_LABELS``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from engine.diffusion.noise import UniformNoise

STEPS = ("exact", "plugin")
DEFAULT_STEP = "exact"
STEP_LABELS = {"exact": "exact step", "plugin": "plug-in step (the paper's sampler)"}


def check_step(step: str) -> str:
    """``step`` if it names a reverse step, else a ValueError listing them."""
    if step not in STEPS:
        raise ValueError(f"step must be one of {', '.join(STEPS)}, got {step!r}")
    return step


def reverse_probs(noise: UniformNoise, x_theta: torch.Tensor, zt: torch.Tensor, t: float, s: float,
                  step: str = DEFAULT_STEP) -> torch.Tensor:
    """p_theta(z_s | z_t) as probabilities (B, L, V) in float64, for 0 <= s < t <= 1.

    x_theta: per-position distributions over the clean token (B, L, V); zt: LongTensor (B, L)."""
    import torch

    if check_step(step) == "plugin":
        return noise.posterior(x_theta, zt, t, s)
    if not 0.0 <= s < t <= 1.0:
        raise ValueError(f"the reverse step needs 0 <= s < t <= 1, got s={s}, t={t}")
    x = x_theta.to(torch.float64)
    V = noise.V
    alpha_t, alpha_s = float(noise.alpha(t)), float(noise.alpha(s))
    alpha_ts = alpha_t / alpha_s
    D1, D0 = V * alpha_t + 1.0 - alpha_t, 1.0 - alpha_t
    c = (1.0 - alpha_ts) * (1.0 - alpha_s) / V
    a = torch.gather(x, -1, zt.unsqueeze(-1))                                   # (B, L, 1) = x_theta(z_t)
    probs = x * ((alpha_s - alpha_t) / D0) + (a / D1 + (1.0 - a) / D0) * c
    on_zt = (a * ((V * alpha_t + alpha_ts + alpha_s - 2.0 * alpha_t) / D1 - (alpha_s - alpha_t) / D0)
             + (1.0 - a) * ((alpha_ts - alpha_t) / D0))
    return probs.scatter_add_(-1, zt.unsqueeze(-1), on_zt)


def categorical(probs: torch.Tensor, generator=None) -> torch.Tensor:
    """One draw per row of probs (..., V) by inverting the float64 CDF with one uniform variate per row.

    generator: a torch.Generator (or None), or a sequence of them, one per sequence of probs (B, L, V):
    sequence i then draws from generator[i] exactly as it would alone, whatever the batch around it."""
    import torch

    if isinstance(generator, (list, tuple)):
        if len(generator) != len(probs):
            raise ValueError(f"one generator per sequence: got {len(generator)} for {len(probs)} sequences")
        return torch.cat([categorical(probs[i:i + 1], g) for i, g in enumerate(generator)])
    cdf = probs.cumsum(-1)
    u = torch.rand(probs.shape[:-1] + (1,), generator=generator, dtype=torch.float64,
                   device=generator.device if generator is not None else probs.device)
    u = u.to(probs.device) * cdf[..., -1:]
    return torch.searchsorted(cdf, u).squeeze(-1).clamp_(max=probs.shape[-1] - 1)


def reverse_step(noise: UniformNoise, logits: torch.Tensor, zt: torch.Tensor, t: float, s: float, *,
                 step: str = DEFAULT_STEP, greedy: bool = False,
                 generator=None) -> torch.Tensor:
    """z_s (B, L) from z_t (B, L) and the denoiser's logits (B, L, V) at level t: a draw from
    p_theta(z_s | z_t) (``reverse_probs``), or its argmax when ``greedy``. ``generator``: one
    torch.Generator for the batch, or one per sequence (``categorical``)."""
    import torch

    probs = reverse_probs(noise, torch.softmax(logits, dim=-1, dtype=torch.float64), zt, t, s, step)
    return probs.argmax(-1) if greedy else categorical(probs, generator)
