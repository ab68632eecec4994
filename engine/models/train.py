"""Training a denoiser on a fixed set of sequences (PROTOCOL §4).

``train`` draws a minibatch of training sequences, a level t ~ U(t_min, 1) per sequence, corrupts
them with q(z_t | x0) and minimises the configured objective. Seeded by ``TrainConfig.seed`` alone.
"""
from __future__ import annotations

import math

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from engine.models.losses import OBJECTIVES
from engine.models.model import Denoiser, ModelConfig, check_size
from engine.diffusion.noise import UniformNoise
from engine.diffusion.sample import T_MIN


MAX_SEED = 2**32 - 1  # seeds are 32-bit everywhere (torch, numpy, the CLI), so messages stay simple


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; saved inside every checkpoint."""

    objective: str = "ce"          # "ce" (cross-entropy on x0) or "nelbo" (UDLM continuous-time NELBO)
    steps: int = 1200              # with batch 64: memorizes N = 64 grammar sentences (bench_engine.py)
    batch_size: int = 64
    lr: float = 3e-3
    warmup: int = 50
    weight_decay: float = 0.0
    seed: int = 0

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {sorted(OBJECTIVES)}, got {self.objective!r}")
        for name in ("steps", "batch_size", "warmup", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if self.seed > MAX_SEED:
            raise ValueError(f"seed must be an integer in [0, {MAX_SEED}], got {self.seed}")
        if not 1 <= self.steps <= 10_000_000:
            raise ValueError(f"steps must be a positive integer, got {self.steps}")
        if not 1 <= self.batch_size <= 65_536:
            raise ValueError(f"batch_size must be in [1, 65536], got {self.batch_size}")
        if not isinstance(self.lr, (int, float)) or isinstance(self.lr, bool) or not 0 < self.lr < 1:
            raise ValueError(f"lr must be in (0, 1), got {self.lr}")

    def to_dict(self) -> dict:
        return asdict(self)


Progress = Callable[[int, int, float], None]  # (step, total_steps, loss) — may raise to cancel


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def memory_estimate(model_cfg: ModelConfig, cfg: TrainConfig) -> int:
    """Bytes a training run needs, roughly: fp32 weights, gradients and AdamW's two moments (16 bytes
    per parameter), plus the activations autograd keeps for one batch — per token and layer about
    (10 + 2 mlp_ratio) d floats and the attention weights (heads × L), plus the logits and their
    gradient (3 V floats per token)."""
    m, B, L = model_cfg, cfg.batch_size, model_cfg.seq_len
    per_token = m.n_layers * ((10 + 2 * m.mlp_ratio) * m.d_model + 2 * m.n_heads * L) + 3 * m.vocab_size
    return 16 * check_size(model_cfg) + 4 * B * L * per_token


def available_memory() -> int | None:
    """MemAvailable from /proc/meminfo in bytes (None where there is no such file)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_fits(model_cfg: ModelConfig, cfg: TrainConfig) -> None:
    """ValueError before any work when the model is larger than ``engine.load`` accepts or its training
    would need more memory than this machine has free."""
    need, free = memory_estimate(model_cfg, cfg), available_memory()
    if free is not None and need > free:
        raise ValueError(f"training this model needs about {need / 2**30:.1f} GiB of memory (weights, "
                         f"optimizer and a batch of {cfg.batch_size}) but only {free / 2**30:.1f} GiB is "
                         "free; use a smaller --batch-size, --d-model or fewer --layers")


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 10 % of the peak."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def train(train_ids: torch.Tensor, model_cfg: ModelConfig, cfg: TrainConfig, *,
          progress: Progress | None = None, device: torch.device | None = None,
          log_every: int = 10) -> tuple[Denoiser, list[tuple[int, float]]]:
    """Train a fresh ``Denoiser`` on ``train_ids`` (N, L). Returns the model (on CPU, eval mode) and
    the loss history as (step, mean loss over the last ``log_every`` steps) pairs, in nats per token.
    """
    if train_ids.dim() != 2 or train_ids.shape[1] != model_cfg.seq_len:
        raise ValueError(f"train_ids must be (N, {model_cfg.seq_len}), got {tuple(train_ids.shape)}")
    if len(train_ids) == 0:
        raise ValueError("cannot train on zero sequences")
    check_fits(model_cfg, cfg)
    device = device or default_device()
    torch.manual_seed(cfg.seed)  # parameter initialisation
    model = Denoiser(model_cfg).to(device)
    gen = torch.Generator(device=device).manual_seed(cfg.seed + 1)  # batches, levels, corruption
    noise = UniformNoise(model_cfg.vocab_size, model_cfg.noise_eps)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                            betas=(0.9, 0.99), fused=device.type in ("cpu", "cuda"))  # one kernel for all parameters
    objective = OBJECTIVES[cfg.objective]
    data = train_ids.to(device)
    history, running = [], []
    model.train()
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        idx = torch.randint(0, len(data), (cfg.batch_size,), generator=gen, device=device)
        x0 = data[idx]                                                      # (B, L)
        t = T_MIN + (1 - T_MIN) * torch.rand(cfg.batch_size, generator=gen, device=device)
        zt = noise.sample_xt(x0, t, generator=gen)
        loss = objective(model(zt, t), x0, zt, t, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running.append(loss.item())
        if (step + 1) % log_every == 0 or step + 1 == cfg.steps:
            history.append((step + 1, sum(running) / len(running)))
            running = []
            if progress is not None:
                progress(step + 1, cfg.steps, history[-1][1])
    model.eval()
    return model.cpu(), history


