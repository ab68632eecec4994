"""The two exact reference denoisers measured with the same protocol as the trained network.

For each reference R (``memorizer``: the ideal memorizer of the checkpoint's own N training sequences,
any corpus; ``generalizer``: the ideal generalizer of the grammar, for the corpora whose registry entry
lists it, ``engine.text.corpora``):

* ``R_recovery``      — exactly the ``recovery`` measurement (same examples, levels, trials, grid) with
  R in place of the network, plus ``entropy``: R's mean content entropy (nats per token) at the
  corrupted input z_t it was handed, i.e. the conditional entropy of x0 given z_t at that level;
* ``R_basin_profile`` — exactly the ``basin_profile`` measurement (Hamming profile) with R.

So every figure that shows the network can show where a perfect memorizer and a perfect generalizer
of the same data would be.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from engine.measures.basin import PROFILE_COLUMNS, hamming_profile
from engine.text.corpora import references_for
from engine.measures.measure import recovery_table, summarize_recovery
from engine.measures.registry import measurement
from engine.diffusion.sample import entropy_nats
from engine.text.tokenizer import content_mask

REFERENCES = ("memorizer", "generalizer")


def reference_model(name: str, bundle):
    """The reference denoiser ``name`` for ``bundle`` (an nn.Module with the network's interface)."""
    from engine.models.ideal import ideal_generalizer, ideal_memorizer

    if name == "memorizer":
        return ideal_memorizer(bundle.train_ids, bundle.noise)
    if name == "generalizer":
        return ideal_generalizer(bundle.noise, bundle.config.seq_len)
    raise ValueError(f"unknown reference {name!r}; the references are {', '.join(REFERENCES)}")


def _applies(name: str):
    """Whether the reference ``name`` exists for a checkpoint's corpus (the registry's ``references``)."""
    return lambda bundle: name in references_for(bundle.corpus)


@torch.no_grad()
def _with_entropy(model, noise, table: pd.DataFrame, splits, levels, trials, generator) -> pd.DataFrame:
    """Add the mean content entropy of x_theta(z_t, t) for fresh z_t ~ q(z_t | x0), one per row."""
    out = []
    for t in levels:
        x0 = torch.cat([ids.repeat(trials, 1) for ids in splits.values()])
        if len(x0) == 0:
            continue
        zt = noise.sample_xt(x0, float(t), generator=generator)
        H = torch.cat([entropy_nats(model(zt[i:i + 1024], float(t))) for i in range(0, len(zt), 1024)])
        content = content_mask(x0)
        out.append(((H * content).sum(1) / content.sum(1)).numpy())
    table = table.copy()
    table["entropy"] = np.concatenate(out) if out else np.zeros(0)
    return table


def _recovery(name: str):
    def compute(ctx) -> pd.DataFrame:
        b, cfg = ctx.bundle, ctx.cfg
        model = reference_model(name, b)
        splits, gen = ctx.splits(), ctx.generator(f"{name}_recovery")
        table = recovery_table(model, b.noise, splits, cfg.levels, cfg.trials, generator=gen,
                               steps_per_unit=cfg.steps_per_unit, train_ids=b.train_ids, step=cfg.step)
        return _with_entropy(model, b.noise, table, splits, cfg.levels, cfg.trials, gen)
    compute.__doc__ = f"The recovery measurement with the ideal {name}, plus its conditional entropy."
    return compute


def _profile(name: str):
    def compute(ctx) -> pd.DataFrame:
        b, cfg = ctx.bundle, ctx.cfg
        return hamming_profile(reference_model(name, b), b.noise, ctx.splits(), trials=cfg.profile_trials,
                               generator=ctx.generator(f"{name}_basin_profile"),
                               steps_per_unit=cfg.profile_steps_per_unit, pad_noise=cfg.pad_noise, step=cfg.step)
    compute.__doc__ = f"The Hamming basin profile with the ideal {name}."
    return compute


def _summary(name: str):
    def summarize(table: pd.DataFrame, ctx) -> dict:
        levels = summarize_recovery(table, ctx)["levels"]
        ent = table.groupby(["split", "t"])["entropy"].mean()
        for row in levels:
            row["entropy"] = float(ent.get((row["split"], row["t"]), float("nan")))
        return {f"ideal_{name}": levels}
    return summarize


RECOVERY_COLUMNS = ("split", "example", "t", "trial", "n_corrupted", "recovery_rate", "exact_match", "entropy")
for _name in REFERENCES:
    measurement(f"{_name}_recovery", RECOVERY_COLUMNS, summarize=_summary(_name), applies=_applies(_name))(_recovery(_name))
    measurement(f"{_name}_basin_profile", PROFILE_COLUMNS, applies=_applies(_name))(_profile(_name))
