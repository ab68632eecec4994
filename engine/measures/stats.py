"""Small statistics shared by measurements and figures, without torch: Wilson intervals for
frequencies, normal intervals for means, Spearman's rank correlation."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

Z95 = 1.959963984540054  # two-sided 95 % standard normal quantile


def wilson(successes, trials, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (low, high) for a binomial frequency successes / trials, elementwise.

    Unlike the normal interval it stays inside [0, 1] and is sensible at 0 and n successes; with no
    trials it is the whole of [0, 1]."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, k / n, 0.5)
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = np.where(n > 0, np.clip(centre - half, 0, 1), 0.0)
    high = np.where(n > 0, np.clip(centre + half, 0, 1), 1.0)
    return low, high


def mean_ci(values, z: float = Z95) -> tuple[float, float, float]:
    """(mean, low, high): the mean of the finite values and its normal 95 % interval
    (mean ± z · std / sqrt(n)); NaNs when there is no finite value, a zero-width interval for one."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return math.nan, math.nan, math.nan
    m = float(v.mean())
    half = z * float(v.std(ddof=1)) / math.sqrt(len(v)) if len(v) > 1 else 0.0
    return m, m - half, m + half


def spearman(x, y) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN with fewer than 3 pairs or a constant side."""
    x, y = pd.Series(np.asarray(x, dtype=float)), pd.Series(np.asarray(y, dtype=float))
    if len(x) < 3 or x.nunique() < 2 or y.nunique() < 2:
        return math.nan
    return float(np.corrcoef(x.rank().to_numpy(), y.rank().to_numpy())[0, 1])
