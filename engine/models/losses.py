"""Conditional-likelihood objectives for uniform-noise diffusion (PROTOCOL §4).

Both take logits of x_theta(z_t, t) (B, L, V), the clean x0 (B, L), z_t (B, L) and t (B,), and
return the mean loss per token in nats.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.diffusion.noise import UniformNoise


def cross_entropy(logits: torch.Tensor, x0: torch.Tensor, zt: torch.Tensor, t: torch.Tensor,
                  noise: UniformNoise) -> torch.Tensor:
    """-log x_theta(z_t, t)[x0], averaged over all positions (t ~ U(t_min, 1) is drawn by the caller)."""
    return F.cross_entropy(logits.flatten(0, 1).float(), x0.flatten())


def nelbo_per_token(logits: torch.Tensor, x0: torch.Tensor, zt: torch.Tensor, t: torch.Tensor,
                    noise: UniformNoise) -> torch.Tensor:
    """Continuous-time NELBO integrand of UDLM for uniform noise, per token (B, L), >= 0.

    With xb = V alpha_t x + (1 - alpha_t) 1, xbt = V alpha_t x_theta + (1 - alpha_t) 1 and i = z_t:

        L = (alpha'_t / (V alpha_t)) [ V/xb_i - V/xbt_i - sum_j (xb_j/xb_i) log(xbt_i xb_j / (xbt_j xb_i)) ]

    Since sum_j xb_j = V the sum is (1/xb_i)[V (log xbt_i - log xb_i) + sum_j xb_j (log xb_j - log xbt_j)].
    It is zero exactly when x_theta = x. Evaluated in float64 for stability near t -> 0.
    """
    V = noise.V
    alpha_t = noise.alpha(t).to(logits.device)[:, None, None]                     # (B, 1, 1)
    x = F.one_hot(x0, V).to(torch.float64)
    x_theta = torch.softmax(logits.to(torch.float64), dim=-1)
    xb = V * alpha_t * x + (1 - alpha_t)                                          # (B, L, V)
    xbt = V * alpha_t * x_theta + (1 - alpha_t)
    i = zt.unsqueeze(-1)
    xb_i, xbt_i = xb.gather(-1, i).squeeze(-1), xbt.gather(-1, i).squeeze(-1)     # (B, L)
    log_xbt = torch.log(xbt)
    cross = (xb * (torch.log(xb) - log_xbt)).sum(-1)                              # sum_j xb_j log(xb_j/xbt_j)
    bracket = V / xb_i - V / xbt_i - (V * (log_xbt.gather(-1, i).squeeze(-1) - torch.log(xb_i)) + cross) / xb_i
    weight = noise.dalpha() / (V * alpha_t[..., 0])                               # (B, 1), negative
    return weight * bracket


def nelbo(logits, x0, zt, t, noise) -> torch.Tensor:
    """Mean NELBO integrand over tokens; t ~ U(t_min, 1) makes it a Monte Carlo estimate of the NELBO / L."""
    return nelbo_per_token(logits, x0, zt, t, noise).mean()


OBJECTIVES = {"ce": cross_entropy, "nelbo": nelbo}
