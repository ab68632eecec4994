"""Torch-free views of the per-example basin tables (``engine.measures.basin``) for the app and exports.

* ``frequencies``  — a Hamming profile with the share k/n, the exact-recovery frequency
  p(k) = recovered / trials and its Wilson 95 % interval;
* ``profile_area`` — the area under p over the share k/n in (0, 1]: sum_k p(k) / n, i.e. the mean of
  p(k) over k = 1 … n, the k not measured after the early stop counted as 0 (they follow two k with
  p < 1/2);
* ``rank``         — every example from the largest basin to the smallest: by the continuous size, ties
  broken by the profile area, then by the length n_content (equal relative size over more positions
  first), so that a list of extremes is not a list of ties; ``tied`` says how many remain tied;
* ``extremes``     — the k largest and k smallest of a ranking.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.measures import stats


def frequencies(profile: pd.DataFrame) -> pd.DataFrame:
    """``profile`` (split, example, n_content, k, t, trials, recovered) plus share = k / n_content,
    p = recovered / trials (NaN without trials) and its Wilson 95 % interval ``low``, ``high``."""
    out = profile.copy()
    trials = out["trials"].to_numpy(dtype=float)
    out["share"] = out["k"] / out["n_content"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["p"] = np.where(trials > 0, out["recovered"].to_numpy(dtype=float) / trials, np.nan)
    out["low"], out["high"] = stats.wilson(out["recovered"], out["trials"])
    return out


def profile_area(profile: pd.DataFrame) -> pd.DataFrame:
    """Per example (split, example, area): sum over the measured k of p(k) / n_content, in [0, 1]."""
    f = frequencies(profile)
    f["area"] = f["p"].fillna(0.0) / f["n_content"]
    return f.groupby(["split", "example"], as_index=False)["area"].sum()


def rank(sizes: pd.DataFrame, profile: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows of ``sizes`` (split, example, n_content, k_star, radius, size) from the largest basin
    to the smallest, with ``area`` (from ``profile``; NaN without one), ``rank`` (1 = largest) and
    ``tied``: the number of examples with the same size, area and length (1 when it is unique)."""
    out = sizes.copy()
    if profile is not None and len(profile):
        out = out.merge(profile_area(profile), on=["split", "example"], how="left")
    else:
        out["area"] = np.nan
    key = [out["size"].round(9), out["area"].round(9), out["n_content"]]
    out["tied"] = out.groupby(key, dropna=False)["example"].transform("size").astype(int)
    out = out.sort_values(["size", "area", "n_content", "split", "example"],
                          ascending=[False, False, False, False, True], kind="stable", na_position="last")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


def extremes(ranked: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """The ``k`` largest and the ``k`` smallest basins of a ``rank`` table (no example twice), with a
    column ``end``: 'largest' / 'smallest' (the smallest listed smallest first)."""
    top = ranked.head(k)
    bottom = ranked.iloc[len(top):].tail(k).iloc[::-1]
    return pd.concat([top.assign(end="largest"), bottom.assign(end="smallest")], ignore_index=True)
