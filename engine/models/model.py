"""A small bidirectional transformer x_theta(z_t, t) -> logits over x0 (PROTOCOL §4).

No causal mask: every position sees the whole noisy sequence. Conditioning on time is through
sigma = -log alpha_t, embedded sinusoidally, passed through an MLP and added to every token, and used
to scale/shift each block's layer norms (adaptive layer norm, as in DiT, kept small).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.diffusion import schedule
from engine.diffusion.noise import check_ids


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the denoiser; saved inside every checkpoint."""

    vocab_size: int
    seq_len: int = 16
    d_model: int = 128
    n_layers: int = 3
    n_heads: int = 4
    mlp_ratio: int = 4
    noise_eps: float = schedule.EPS  # the schedule's eps, alpha_t = 1 - (1 - eps) t; the network sees sigma(t)

    def __post_init__(self):
        for name, low, high in (("vocab_size", 4, 1_000_000), ("seq_len", 2, 512), ("d_model", 2, 4096),
                                ("n_layers", 1, 64), ("n_heads", 1, 256), ("mlp_ratio", 1, 16)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
        if self.vocab_size < 4:
            raise ValueError(f"vocab_size must be >= 4, got {self.vocab_size}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")
        if not 2 <= self.seq_len <= 512:
            raise ValueError(f"seq_len must be in [2, 512], got {self.seq_len}")
        if not isinstance(self.noise_eps, float) or not 0.0 < self.noise_eps < 1.0:
            raise ValueError(f"noise_eps must be in (0, 1), got {self.noise_eps}")

    def to_dict(self) -> dict:
        return asdict(self)


MAX_PARAMS = 64 * 1024 * 1024  # 256 MiB of fp32 weights: far above any Basin Explorer model


def param_count(cfg: ModelConfig) -> int:
    """Parameters of the Denoiser ``cfg`` describes, counted without allocating it (meta device)."""
    with torch.device("meta"):
        return Denoiser(cfg).n_params()


def check_size(cfg: ModelConfig) -> int:
    """The parameter count, or ValueError when it exceeds MAX_PARAMS (``engine.load`` refuses those)."""
    count = param_count(cfg)
    if count > MAX_PARAMS:
        raise ValueError(f"a model with d_model {cfg.d_model}, {cfg.n_layers} layers and {cfg.vocab_size} "
                         f"tokens has {count:,} parameters; Basin Explorer loads at most {MAX_PARAMS:,}. "
                         "Use a smaller --d-model or fewer --layers")
    return count


class TanhGELU(nn.Module):
    """GELU with the tanh approximation, 0.5 x (1 + tanh(c (x + 0.044715 x^3))), c = sqrt(2/pi), computed
    through the identity 0.5 (1 + tanh u) = sigmoid(2u) at inference: the same function as
    ``F.gelu(x, approximate="tanh")`` (to float rounding, tested), about twice as fast on CPU, where
    torch's tanh kernel is slow. With autograd on it is torch's own GELU, whose backward is fused."""

    TWO_C = 2 * math.sqrt(2 / math.pi)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.requires_grad:  # training: torch's fused backward beats autograd through four ops
            return F.gelu(x, approximate="tanh")
        u = x * x  # one buffer, updated in place (fewer large allocations): x^2 -> 2c (x + 0.044715 x^3)
        u.mul_(self.TWO_C * 0.044715).add_(self.TWO_C).mul_(x).sigmoid_()   # -> 0.5 (1 + tanh(...))
        return u.mul_(x)


def ada_norm(h: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN: layer_norm(h) (1 + scale) + shift, with shift and scale (B or 1, 1, d).

    Inference with one time level for the whole batch (every denoising step): a single layer_norm
    call with (1 + scale, shift) as its affine weights. Inference with a level per row: layer_norm,
    then one fused addcmul. With autograd on: mul + add (addcmul's broadcasting backward is the
    slower one in training)."""
    d = h.shape[-1]
    if h.requires_grad:
        return F.layer_norm(h, (d,)) * (1 + scale) + shift
    if shift.shape[0] == 1:
        return F.layer_norm(h, (d,), (1 + scale).view(d), shift.view(d))
    return torch.addcmul(shift, F.layer_norm(h, (d,)), 1 + scale)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.d_model
        self.n_heads = cfg.n_heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, cfg.mlp_ratio * d), TanhGELU(),
                                 nn.Linear(cfg.mlp_ratio * d, d))
        self.ada = nn.Linear(d, 4 * d)  # time -> (shift1, scale1, shift2, scale2)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        B, L, d = h.shape
        shift1, scale1, shift2, scale2 = self.ada(c)[:, None, :].chunk(4, dim=-1)  # (B or 1, 1, d) each
        a = ada_norm(h, shift1, scale1)
        q, k, v = self.qkv(a).view(B, L, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v)                  # (B, H, L, d/H)
        h = h + self.proj(a.transpose(1, 2).reshape(B, L, d))
        m = ada_norm(h, shift2, scale2)
        return h + self.mlp(m)


class Denoiser(nn.Module):
    """x_theta: logits (B, L, V) for x0 given z_t (B, L) and t (B,) in (0, 1]."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.tok = nn.Embedding(cfg.vocab_size, d)
        self.pos = nn.Parameter(torch.randn(cfg.seq_len, d) * 0.02)
        self.time = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, cfg.vocab_size)
        nn.init.normal_(self.tok.weight, std=0.02)

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        """sigma = -log alpha_t, the noise level the network is conditioned on."""
        return -torch.log1p(-(1.0 - self.cfg.noise_eps) * t)

    def time_features(self, t: torch.Tensor) -> torch.Tensor:
        """Sinusoidal embedding of sigma(t): (B,) -> (B, d)."""
        half = self.cfg.d_model // 2
        freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device) / half)
        arg = 100.0 * self.sigma(t.float())[:, None] * freqs[None, :]
        return torch.cat([torch.cos(arg), torch.sin(arg)], dim=-1)

    def forward(self, xt: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if not isinstance(xt, torch.Tensor) or xt.dim() != 2:
            raise ValueError(f"xt must be a (B, L) tensor of token ids, got {getattr(xt, 'shape', type(xt))}")
        B, L = xt.shape
        if L != self.cfg.seq_len:
            raise ValueError(f"model expects sequences of length {self.cfg.seq_len}, got {L}")
        check_ids(xt, self.cfg.vocab_size, "xt")
        t = torch.as_tensor(t, dtype=torch.float32, device=xt.device).expand(B)
        if not bool(torch.isfinite(t).all()) or bool((t < 0).any()) or bool((t > 1).any()):
            raise ValueError("t must be in [0, 1] (the diffusion time), got values outside it")
        if not torch.is_grad_enabled() and bool((t == t[0]).all()):
            t = t[:1]  # one level for the whole batch (every denoising step): condition once
        c = self.time(self.time_features(t))                           # (B or 1, d)
        h = self.tok(xt) + self.pos[None] + c[:, None, :]               # (B, L, d)
        c = F.silu(c)
        for block in self.blocks:
            h = block(h, c)
        return self.head(self.ln_f(h))                                  # (B, L, V)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def matmul_flops_per_token(self) -> int:
        """Multiply-add FLOPs (2 per MAC) of one forward pass per sequence position, from the matmuls
        only (linear layers and attention). The time conditioning (the time MLP and each block's adaLN
        projection) is not counted: it runs once per sequence, or once per batch at inference when the
        whole batch shares one level, as in every denoising step."""
        c = self.cfg
        d, L, m = c.d_model, c.seq_len, c.mlp_ratio
        per_layer = 2 * (3 * d * d + d * d + 2 * m * d * d) + 2 * 2 * L * d
        return int(c.n_layers * per_layer + 2 * d * c.vocab_size)
