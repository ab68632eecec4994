"""Do unseen sentences become attractors as N grows? Three measures against N, torch-free, read off
the zoo's tables (the panel beside the transition):

* ``fixed``       — the share of clean sentences that greedy dynamics leaves unchanged (fixed points);
* ``p_k1``        — p(k = 1): how often a sentence with exactly one content position changed comes back
  exactly (the first point of the Hamming profile, PROTOCOL §5), pooled over the split's sentences;
* ``exact_match`` — exact match at a low level t (0.05: a few words changed), over the trials that
  corrupted a content position.

Why these and not the basin size: a test sentence's Hamming basin size is 0 at every N of the
grammar zoo, because one swapped word usually leaves a valid sentence that is not x0, and a model
that has learned the language has no reason to undo it (p(1) < 1/2). The three measures are the
frequencies behind that 0, and they do move with N.

Intervals (95 %): Wilson from the counts (fixed points: sentences; p(k = 1): the pooled trials,
treated as independent — trials of one sentence are not, so the band is a lower bound on the
uncertainty; exact match: the results' own interval, ``engine.measures.transition.recovery_by_n``). The ideal
denoisers carry p(k = 1) with its band and exact match without one; they have no fixed-point
measurement.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.measures.stats import wilson
from engine.measures.transition import CLEAN_T, recovery_by_n

EXACT_T = 0.05                       # the level of the exact-match measure, where the zoo measured it
MEASURES = ("fixed", "p_k1", "exact_match")
DENOISERS = ("model", "memorizer", "generalizer")
COLUMNS = ["n", "split", "denoiser", "measure", "value", "low", "high"]
SPLITS = ("train", "test")


def exact_level(results: pd.DataFrame, t: float = EXACT_T) -> float | None:
    """The level of the exact-match measure: ``t`` where the results measured it, else the lowest
    corrupted level they have (None without any)."""
    if "t" not in results or "exact_match" not in results:
        return None
    levels = results.loc[results["exact_match"].notna() & (results["t"] >= CLEAN_T), "t"].astype(float)
    if levels.empty:
        return None
    return t if np.isclose(levels, t).any() else float(levels.min())


def p_k1_by_n(profile: pd.DataFrame) -> pd.DataFrame:
    """p(k = 1) per N × split from the Hamming profiles of a zoo (``collect_table(..., 'basin_profile')``:
    columns n, split, example, k, trials, recovered): recovered / trials summed over the split's
    sentences at k = 1, with its Wilson interval. Columns n, split, value, low, high, recovered, trials."""
    cols = ["n", "split", "value", "low", "high", "recovered", "trials"]
    if profile is None or profile.empty or not {"n", "split", "k", "trials", "recovered"} <= set(profile.columns):
        return pd.DataFrame(columns=cols)
    one = profile[(profile["k"] == 1) & profile["split"].isin(SPLITS)]
    g = one.groupby(["n", "split"], as_index=False)[["recovered", "trials"]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        g["value"] = np.where(g["trials"] > 0, g["recovered"] / g["trials"], np.nan)
    g["low"], g["high"] = wilson(g["recovered"], g["trials"])
    g.loc[g["trials"] <= 0, ["low", "high"]] = np.nan
    return g[cols]


def fixed_by_n(fixed_points: pd.DataFrame | None, results: pd.DataFrame) -> pd.DataFrame:
    """The fixed-point share per N × split with its Wilson interval, from the zoo's ``fixed_points``
    tables (n, split, example, fixed); an N without that table takes the results' ``fixed_fraction``
    (mean over seeds), with no interval (the summary holds no count). Columns n, split, value, low, high."""
    parts = []
    if fixed_points is not None and len(fixed_points) and {"n", "split", "fixed"} <= set(fixed_points.columns):
        f = fixed_points[fixed_points["split"].isin(SPLITS)]
        g = f.groupby(["n", "split"], as_index=False).agg(hits=("fixed", "sum"), count=("fixed", "size"))
        g["value"] = g["hits"] / g["count"]
        g["low"], g["high"] = wilson(g["hits"], g["count"])
        parts.append(g[["n", "split", "value", "low", "high"]])
    if "fixed_fraction" in results and "split" in results:
        r = results[results["split"].isin(SPLITS)].dropna(subset=["fixed_fraction"])
        per_model = ["n", "split", "seed"] if "seed" in r else ["n", "split"]    # one value per model, every level
        r = r.groupby(per_model, as_index=False)["fixed_fraction"].first()
        r = (r.groupby(["n", "split"], as_index=False)["fixed_fraction"].mean()     # mean over seeds
             .rename(columns={"fixed_fraction": "value"}))
        have = set(parts[0]["n"]) if parts else set()
        parts.append(r[~r["n"].isin(have)].assign(low=np.nan, high=np.nan))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["n", "split", "value", "low", "high"])
    return pd.concat(parts, ignore_index=True)


def _exact_by_n(results: pd.DataFrame, t: float | None, column: str) -> pd.DataFrame:
    """``column`` (exact match of the network or of an ideal denoiser) per N × split at level t, long."""
    if t is None or column not in results:
        return pd.DataFrame(columns=["n", "split", "value", "low", "high"])
    curves = recovery_by_n(results, t, column)
    return pd.concat([pd.DataFrame({"n": curves["n"], "split": split, "value": curves[split],
                                    "low": curves[f"{split}_low"], "high": curves[f"{split}_high"]})
                      for split in SPLITS], ignore_index=True).dropna(subset=["value"])


def basin_growth(results: pd.DataFrame, profiles: dict[str, pd.DataFrame] | None = None,
                 fixed_points: pd.DataFrame | None = None, t: float | None = EXACT_T) -> pd.DataFrame:
    """The tidy table of the panel: one row per N × split × denoiser × measure, columns n, split,
    denoiser ('model', 'memorizer', 'generalizer'), measure ('fixed', 'p_k1', 'exact_match'),
    value (a fraction) and its 95 % interval low, high (NaN where no count is known).

    results: a sweep results table (``engine.runs.zoo.results_table``); profiles: the zoo's Hamming profiles
    keyed by denoiser ('model': ``basin_profile``, 'memorizer': ``memorizer_basin_profile``, ...);
    fixed_points: the zoo's ``fixed_points`` tables; t: the level of exact match (``exact_level``)."""
    parts = [fixed_by_n(fixed_points, results).assign(denoiser="model", measure="fixed")]
    for denoiser, profile in (profiles or {}).items():
        parts.append(p_k1_by_n(profile).assign(denoiser=denoiser, measure="p_k1"))
    for denoiser in DENOISERS:
        column = "exact_match" if denoiser == "model" else f"{denoiser}_exact_match"
        parts.append(_exact_by_n(results, t, column).assign(denoiser=denoiser, measure="exact_match"))
    parts = [p[COLUMNS] for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["n"] = out["n"].astype(int)
    for col in ("value", "low", "high"):
        out[col] = out[col].astype(float)
    return out.sort_values(["measure", "denoiser", "split", "n"], ignore_index=True)


def measured_steps(results: pd.DataFrame) -> dict[int, str]:
    """The reverse step each N's tables were measured with (a summary without a step: 'plugin'), so a
    caption can say so while a zoo is part re-measured."""
    if "n" not in results or results.empty:
        return {}
    steps = {int(n): "plugin" for n in results["n"].dropna()}
    if "step" in results:
        named = results[results["step"].apply(lambda s: isinstance(s, str))]
        steps.update({int(n): str(s) for n, s in named.groupby("n")["step"].first().items()})
    return steps
