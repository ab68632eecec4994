"""The paper's sampler beside the exact step: headline tables measured with the plug-in step.

Every other table is measured with ``MeasureConfig.step`` (the exact mixture step by default,
``engine.diffusion.step``). These two are always measured with the plug-in step of the paper's code (DUO/UDLM),
so the app and the README can show both samplers on the same model:

* ``plugin_generations`` — generations from pure noise, drawn from the *same* initial noise as the
  ``generations`` table (the same seeded generator), so the two differ only by the step;
* ``plugin_recovery`` — the recovery measurement at t = 0.25 (``PLUGIN_LEVELS``).
"""
from __future__ import annotations

import pandas as pd

from engine.measures.measure import recovery_table, summarize_recovery
from engine.measures.novelty import generations_table, summarize_generations
from engine.measures.registry import measurement

PLUGIN = "plugin"
PLUGIN_LEVELS = (0.25,)


@measurement("plugin_generations", ("sample", "ids", "d1", "d2", "twin", "memorized", "valid", "category"),
             summarize=lambda t, ctx: {"plugin_generations": summarize_generations(t, ctx)["generations"]})
def measure_plugin_generations(ctx) -> pd.DataFrame:
    """Samples from the generations table's initial noise, taken with the plug-in step."""
    return generations_table(ctx, PLUGIN)


@measurement("plugin_recovery", ("split", "example", "t", "trial", "n_content", "n_corrupted", "recovery_rate",
                                 "unstable_rate", "exact_match", "landed"),
             summarize=lambda t, ctx: {"plugin_levels": summarize_recovery(t, ctx)["levels"]})
def measure_plugin_recovery(ctx) -> pd.DataFrame:
    """The recovery measurement at t = 0.25 with the plug-in step."""
    b, cfg = ctx.bundle, ctx.cfg
    return recovery_table(b.model, b.noise, ctx.splits(), PLUGIN_LEVELS, cfg.trials,
                          generator=ctx.generator("plugin_recovery"), steps_per_unit=cfg.steps_per_unit,
                          train_ids=b.train_ids, step=PLUGIN)
