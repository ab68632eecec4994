"""The denoiser's fast paths against their textbook forms."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.models.model import Denoiser, ModelConfig, TanhGELU


def test_tanh_gelu_is_torchs_tanh_gelu():
    x = torch.linspace(-40, 40, 20_001, dtype=torch.float64)
    ref = F.gelu(x, approximate="tanh")
    assert torch.allclose(TanhGELU()(x), ref, rtol=0, atol=1e-12)     # inference: the sigmoid form
    x.requires_grad_(True)                                            # training: torch's fused kernel
    ours = TanhGELU()(x)
    assert torch.allclose(ours, ref, rtol=0, atol=1e-12)
    g_ours, = torch.autograd.grad(ours.sum(), x)
    g_ref, = torch.autograd.grad(F.gelu(x, approximate="tanh").sum(), x)
    assert torch.allclose(g_ours, g_ref, rtol=0, atol=1e-12)


def reference_forward(model: Denoiser, xt: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The forward pass written out the plain way: ln(h) * (1 + scale) + shift, torch's GELU."""
    B, L = xt.shape
    c = model.time(model.time_features(t))
    h = model.tok(xt) + model.pos[None] + c[:, None, :]
    c = F.silu(c)
    for blk in model.blocks:
        d = h.shape[-1]
        shift1, scale1, shift2, scale2 = blk.ada(c)[:, None, :].chunk(4, dim=-1)
        a = F.layer_norm(h, (d,)) * (1 + scale1) + shift1
        q, k, v = blk.qkv(a).view(B, L, 3, blk.n_heads, d // blk.n_heads).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / (d // blk.n_heads) ** 0.5, dim=-1) @ v
        h = h + blk.proj(att.transpose(1, 2).reshape(B, L, d))
        m = F.layer_norm(h, (d,)) * (1 + scale2) + shift2
        lin1, _, lin2 = blk.mlp
        h = h + lin2(F.gelu(lin1(m), approximate="tanh"))
    return model.head(model.ln_f(h))


def test_forward_matches_the_plain_formulas():
    torch.manual_seed(0)
    model = Denoiser(ModelConfig(vocab_size=11, seq_len=6, d_model=16, n_layers=2, n_heads=2))
    for blk in model.blocks:  # adaLN starts at zero; give it weights so that the modulation is exercised
        torch.nn.init.normal_(blk.ada.weight, std=0.3)
    xt, t = torch.randint(0, 11, (5, 6)), torch.rand(5)
    with torch.no_grad():                        # inference: the fused paths
        ref = reference_forward(model, xt, t)
        assert torch.allclose(model(xt, t), ref, atol=1e-5)
    assert torch.allclose(model(xt, t), ref, atol=1e-5)   # training: the autograd paths
    shared = torch.full((5,), 0.3)               # one level for the batch: conditioned once, fused norm
    with torch.no_grad():
        assert torch.allclose(model(xt, shared), reference_forward(model, xt, shared), atol=1e-5)
        assert torch.allclose(model(xt, 0.3), reference_forward(model, xt, shared), atol=1e-5)


def test_matmul_flop_count_matches_torchs_counter():
    """matmul_flops_per_token against torch's FLOP counter run on the plain forward (explicit attention
    matmuls, conditioning per row): the extra FLOPs of 4 more sequences, less their conditioning."""
    from torch.utils.flop_counter import FlopCounterMode
    cfg = ModelConfig(vocab_size=11, seq_len=6, d_model=16, n_layers=2, n_heads=2)
    model = Denoiser(cfg)

    def counted(B):
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            reference_forward(model, torch.randint(0, 11, (B, 6)), torch.rand(B))
        return counter.get_total_flops()

    d = cfg.d_model
    conditioning = 2 * 2 * d * d + cfg.n_layers * 2 * d * 4 * d   # time MLP + adaLN, once per sequence
    per_sequence = (counted(8) - counted(4)) / 4 - conditioning
    assert per_sequence == cfg.seq_len * model.matmul_flops_per_token()
