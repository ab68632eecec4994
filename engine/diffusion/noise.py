"""Uniform-noise forward process and its exact posterior (PROTOCOL §2-3).

Tokens live in {0..V-1}; one-hot vectors are written x. Time t in [0, 1].

* schedule (log-linear):  alpha_t = 1 - (1 - eps) t,  d alpha_t / dt = -(1 - eps)
* marginal:               q(z_t | x) = Cat(alpha_t x + (1 - alpha_t) / V · 1)
* posterior, 0 <= s < t, alpha_{t|s} = alpha_t / alpha_s:

      q(z_s | z_t, x) = [ V alpha_t x*z_t + (alpha_{t|s} - alpha_t) z_t + (alpha_s - alpha_t) x
                          + (1 - alpha_{t|s})(1 - alpha_s)/V · 1 ] / [ V alpha_t <x, z_t> + 1 - alpha_t ]

  The model step p_theta(z_s | z_t) is the same expression with x replaced by the probability
  vector x_theta(z_t, t); it is linear in x up to the normaliser and still sums to one.
No network lives here.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.diffusion import schedule


@dataclass(frozen=True)
class UniformNoise:
    """The uniform forward process on a vocabulary of ``V`` tokens with schedule parameter ``eps``."""

    V: int
    eps: float = schedule.EPS

    def __post_init__(self):
        if not isinstance(self.V, int) or isinstance(self.V, bool) or self.V < 2:
            raise ValueError(f"V must be an integer >= 2, got {self.V!r}")
        if not isinstance(self.eps, (int, float)) or isinstance(self.eps, bool) or not 0 < self.eps < 1:
            raise ValueError(f"eps must be a number in (0, 1), got {self.eps!r}")

    def alpha(self, t: torch.Tensor | float) -> torch.Tensor:
        """alpha_t = 1 - (1 - eps) t: probability that a token is untouched at time t."""
        return schedule.alpha(torch.as_tensor(t, dtype=torch.float64), self.eps)

    def dalpha(self) -> float:
        """d alpha_t / dt = -(1 - eps), constant for the log-linear schedule."""
        return -(1.0 - self.eps)

    def changed_fraction(self, t: float) -> float:
        """Expected fraction of positions whose token actually changes at level t: (1-alpha_t)(1-1/V)
        (``engine.diffusion.schedule.changed_fraction``)."""
        return schedule.changed_fraction(float(t), self.V, self.eps)

    def marginal(self, x0: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """q(z_t | x0) as probabilities (..., V) in float64; ``t`` is a scalar or broadcasts to x0[..., None]."""
        alpha_t = _expand(self.alpha(t), x0.dim())
        onehot = torch.nn.functional.one_hot(x0, self.V).to(torch.float64)
        return alpha_t * onehot + (1.0 - alpha_t) / self.V

    def sample_xt(self, x0: torch.Tensor, t: torch.Tensor | float,
                  generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw z_t ~ q(z_t | x0): each position independently, with probability 1 - alpha_t, is replaced
        by a token drawn uniformly from all V tokens (which may equal the original).

        x0: LongTensor (B, L); t: scalar or (B,), in [0, 1]. Returns LongTensor (B, L).
        """
        check_ids(x0, self.V, "x0")
        t_ = torch.as_tensor(t, dtype=torch.float64)
        if t_.dim() > 1 or (t_.dim() == 1 and len(t_) != len(x0)):
            raise ValueError(f"t must be a scalar or one level per row ({len(x0)},), got shape {tuple(t_.shape)}")
        if not bool(torch.isfinite(t_).all()) or bool((t_ < 0).any()) or bool((t_ > 1).any()):
            raise ValueError(f"t must be in [0, 1], got {t_.tolist() if t_.dim() else float(t_)}")
        alpha_t = self.alpha(t).to(x0.device)
        if alpha_t.dim() == 1:
            alpha_t = alpha_t[:, None]
        dev = generator.device if generator is not None else x0.device  # draws follow the generator
        u = torch.rand(x0.shape, generator=generator, dtype=torch.float64, device=dev).to(x0.device)
        resample = u >= alpha_t
        uniform = torch.randint(0, self.V, x0.shape, generator=generator, device=dev).to(x0.device)
        return torch.where(resample, uniform, x0)

    def posterior(self, x: torch.Tensor, zt: torch.Tensor, t: float, s: float) -> torch.Tensor:
        """q(z_s | z_t, x) for 0 <= s < t, as probabilities (B, L, V) in float64.

        x: probability vectors (B, L, V) — a one-hot x0 for the true posterior, x_theta(z_t, t) for the
        model step; zt: LongTensor (B, L). Computed in float64 because low-precision sampling biases
        discrete samplers.
        """
        if not 0.0 <= s < t <= 1.0:
            raise ValueError(f"posterior needs 0 <= s < t <= 1, got s={s}, t={t}")
        x = x.to(torch.float64)
        V = self.V
        alpha_t, alpha_s = float(self.alpha(t)), float(self.alpha(s))
        alpha_ts = alpha_t / alpha_s
        x_at_zt = torch.gather(x, -1, zt.unsqueeze(-1))                   # (B, L, 1) = <x, z_t>
        # dense terms (alpha_s - alpha_t) x + (1 - alpha_{t|s})(1 - alpha_s)/V, then the two terms
        # that live on the z_t coordinate only: V alpha_t x*z_t + (alpha_{t|s} - alpha_t) z_t
        numer = x * (alpha_s - alpha_t) + (1.0 - alpha_ts) * (1.0 - alpha_s) / V
        numer.scatter_add_(-1, zt.unsqueeze(-1), V * alpha_t * x_at_zt + (alpha_ts - alpha_t))
        return numer.div_(V * alpha_t * x_at_zt + 1.0 - alpha_t)


def check_ids(ids, V: int, name: str = "ids") -> None:
    """TypeError unless ``ids`` is an integer tensor; ValueError unless every id is in [0, V)."""
    if not isinstance(ids, torch.Tensor) or ids.dtype not in (torch.int64, torch.int32):
        what = ids.dtype if isinstance(ids, torch.Tensor) else type(ids).__name__
        raise TypeError(f"{name} must be a LongTensor of token ids, got {what}")
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= V):
        raise ValueError(f"{name} holds token ids outside the vocabulary [0, {V}): "
                         f"min {int(ids.min())}, max {int(ids.max())}")


def _expand(a: torch.Tensor, dims: int) -> torch.Tensor:
    """Broadcast a scalar or (B,) tensor against (B, ...) with ``dims`` leading dims plus the vocab dim."""
    if a.dim() == 0:
        return a
    return a.reshape(a.shape + (1,) * dims)
