"""The memorization -> generalization transition, read off a sweep's results table (torch-free).

* ``recovery_by_n``  — train and test recovery (or exact match) against N at one level t, with the
  95 % interval of the mean;
* ``by_seed``        — each seed's value at every N, when some N has models of several seeds (the
  spread across seeds that the mean of ``recovery_by_n`` hides);
* ``transition_n``   — N*, where the train and test curves meet after having been apart;
* ``with_transitions`` — the results table with N* in it (columns ``n_star_recovery_rate`` and
  ``n_star_exact_match``, one value per corpus × level), as ``engine.runs.zoo.results_table`` returns it;
* ``entropy_by_n``, ``entropy_levels`` — the mean conditional entropy against N;
* ``for_step``       — the results as measured with the paper's plug-in step (where it was);
* ``generations_by_n``, ``fluency_by_n`` — what the models write from noise against N, both steps.

Intervals: summaries written since the registry carry the 95 % interval of the mean recovery
(normal, over the trials that corrupted a content position) and the Wilson interval of exact match.
Older summaries carry only the per-row standard deviation and the counts (``rows``,
``no_corruption``): the same intervals are rebuilt from those (``mean ± z·s/√n`` with the sample
standard deviation, Wilson from the count of exact recoveries), so the bars always mean the same thing.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine.diffusion.schedule import CLEAN_T
from engine.measures.stats import Z95, wilson

TRANSITION_TOL = 0.05   # |train - test| at which the curves count as met
METRICS = ("recovery_rate", "exact_match")
INTERVALS = {"recovery_rate": ("recovery_std", "recovery_low", "recovery_high"),
             "exact_match": ("exact_std", "exact_low", "exact_high")}


def n_star_column(metric: str) -> str:
    """The results-table column that holds N* for ``metric`` ('recovery_rate' or 'exact_match')."""
    return f"n_star_{metric}"


def _intervals(rows: pd.DataFrame, metric: str) -> tuple[pd.Series, pd.Series]:
    """(low, high) of the 95 % interval of each row's ``metric``: stored where the summary has it,
    rebuilt from the standard deviation and the count where it does not, NaN where neither exists."""
    std_col, low_col, high_col = INTERVALS[metric]
    nan = pd.Series(np.nan, index=rows.index)
    low = rows[low_col] if low_col in rows else nan.copy()
    high = rows[high_col] if high_col in rows else nan.copy()
    if "rows" not in rows or metric not in rows:
        return low, high
    touched = rows["rows"] - (rows["no_corruption"] if "no_corruption" in rows else 0)
    if "trials" in rows:
        touched = rows["trials"].where(rows["trials"].notna(), touched)
    n = touched.astype(float)
    value = rows[metric].astype(float)
    if metric == "exact_match":
        lo, hi = wilson(np.round(value * n), n)
        lo, hi = pd.Series(lo, index=rows.index), pd.Series(hi, index=rows.index)
    else:
        std = rows[std_col].astype(float) if std_col in rows else nan
        with np.errstate(invalid="ignore", divide="ignore"):
            sample_std = std * np.sqrt(n / (n - 1))        # stored std is the population one (ddof 0)
            half = Z95 * sample_std / np.sqrt(n)
        half = half.where(n > 1, 0.0)
        lo, hi = value - half, value + half
    usable = n.notna() & (n > 0) & value.notna()
    return low.where(low.notna() | ~usable, lo), high.where(high.notna() | ~usable, hi)


def recovery_by_n(results: pd.DataFrame, t: float, metric: str = "recovery_rate") -> pd.DataFrame:
    """One row per N at level t: columns n, train, test (mean ``metric`` over the seeds of that N),
    train_std, test_std, and the 95 % interval train_low, train_high, test_low, test_high (of the mean
    for the recovery rate, Wilson for exact match; see the module docstring; NaN where not known).

    results: a sweep results table (``engine.runs.zoo.results_table``); missing splits or columns give NaN
    columns. ``metric`` may name a reference column too (``memorizer_recovery_rate``: no interval).
    """
    if "split" not in results or "t" not in results:
        results = pd.DataFrame(columns=["n", "split", "t"])
    rows = results[results["split"].isin(["train", "test"]) & np.isclose(results["t"].astype(float), t)]
    out = pd.DataFrame({"n": sorted(rows["n"].unique())})
    if metric in INTERVALS and len(rows):
        low, high = _intervals(rows, metric)
        rows = rows.assign(_low=low, _high=high)
    spread = {"std": INTERVALS[metric][0], "low": "_low", "high": "_high"} if metric in INTERVALS else {}
    for split in ("train", "test"):
        part = rows[rows["split"] == split].groupby("n")
        out[split] = out["n"].map(part[metric].mean()) if metric in rows else np.nan
        for key in ("std", "low", "high"):
            col = spread.get(key)
            out[f"{split}_{key}"] = out["n"].map(part[col].mean()) if col in rows else np.nan
    return out


def by_seed(results: pd.DataFrame, t: float, metric: str = "recovery_rate") -> pd.DataFrame:
    """One row per N × seed × split at level t (columns n, seed, split, value: that model's
    ``metric``), empty unless some N of the table has models of two or more seeds (``sweep --seeds``):
    with one model per N there is no spread across seeds to show."""
    columns = ["n", "seed", "split", "value"]
    if not {"split", "t", "n", "seed", metric} <= set(results.columns):
        return pd.DataFrame(columns=columns)
    rows = results[results["split"].isin(["train", "test"]) & np.isclose(results["t"].astype(float), t)
                   & results[metric].notna()]
    if not len(rows) or rows.groupby("n")["seed"].nunique().max() < 2:
        return pd.DataFrame(columns=columns)
    return rows.rename(columns={metric: "value"})[columns].sort_values(["split", "n", "seed"]).reset_index(drop=True)


def transition_n(curves: pd.DataFrame, tol: float = TRANSITION_TOL) -> float | None:
    """Where train and test recovery meet, from ``recovery_by_n`` rows (n, train, test).

    N* is the smallest N at which |train - test| <= tol *after* the curves were apart (gap > tol) at
    some smaller N — meeting again after having separated, not both being equally bad at the start.
    If they never come within tol, N* is the first sign change of train - test, interpolated linearly
    in log N between the two sizes around it. None when neither happens within the sweep.
    """
    c = curves.dropna(subset=["train", "test"]).sort_values("n")
    n, gap = c["n"].to_numpy(dtype=float), (c["train"] - c["test"]).to_numpy(dtype=float)
    apart = np.abs(gap) > tol
    for i in range(1, len(n)):
        if not apart[i] and apart[:i].any():
            return float(n[i])
    for i in range(1, len(n)):
        if gap[i - 1] * gap[i] < 0:
            f = gap[i - 1] / (gap[i - 1] - gap[i])
            return float(math.exp(math.log(n[i - 1]) + f * (math.log(n[i]) - math.log(n[i - 1]))))
    return None


def with_transitions(results: pd.DataFrame, tol: float = TRANSITION_TOL) -> pd.DataFrame:
    """``results`` with the columns ``n_star_recovery_rate`` and ``n_star_exact_match``: N* of its
    corpus at the row's level (``transition_n`` of ``recovery_by_n``; NaN where the curves never meet
    or the level has no recovery)."""
    out = results.copy()
    for metric in METRICS:
        out[n_star_column(metric)] = np.nan
    if out.empty or "recovery_rate" not in out:
        return out
    rows = out[out["split"].isin(["train", "test"]) & out["recovery_rate"].notna()]
    for metric in METRICS:
        if metric not in rows:
            continue
        # one mean per corpus × level × split × N (over seeds), then one curve pair per corpus × level
        means = rows.groupby(["corpus", "t", "n", "split"])[metric].mean().unstack("split")
        for (corpus, t), curve in means.groupby(level=["corpus", "t"]):
            curve = curve.reset_index().reindex(columns=["n", "train", "test"])
            n_star = transition_n(curve, tol)
            at = (out["corpus"] == corpus) & np.isclose(out["t"].astype(float), t)
            out.loc[at, n_star_column(metric)] = np.nan if n_star is None else n_star
    return out


def n_star_at(results: pd.DataFrame, t: float, metric: str = "recovery_rate") -> float | None:
    """N* at level t as stored in a results table (``with_transitions``), computed from it when the
    table was built without the column (a hand-made table)."""
    col = n_star_column(metric)
    if col not in results:
        return transition_n(recovery_by_n(results, t, metric))
    rows = results.loc[np.isclose(results["t"].astype(float), t) & results["split"].isin(["train", "test"]), col]
    rows = rows.dropna()
    return float(rows.iloc[0]) if len(rows) else None


def reference_missing(results: pd.DataFrame, ref: str) -> list[int]:
    """The N whose train and test rows carry no value of the ideal ``ref``'s recovery (its table was
    not measured for that model)."""
    rows = results[results["split"].isin(["train", "test"]) & results["recovery_rate"].notna()] \
        if "recovery_rate" in results else results.iloc[:0]
    col = f"{ref}_recovery_rate"
    has = set(rows.loc[rows[col].notna(), "n"]) if col in rows else set()
    return sorted(int(n) for n in set(rows["n"]) - has)


def entropy_by_n(results: pd.DataFrame, column: str = "entropy") -> pd.DataFrame:
    """Mean per-token conditional entropy (nats, clipped at 0: float error) against N: one row per
    N × split × level measured (``column``: the network's ``entropy`` or ``memorizer_entropy`` ...)."""
    if column not in results:
        return pd.DataFrame(columns=["n", "split", "t", "entropy"])
    e = results.dropna(subset=[column])
    e = (e.groupby(["n", "split", "t"], as_index=False)[column].mean().rename(columns={column: "entropy"})
         .sort_values(["split", "t", "n"], ignore_index=True))
    e["entropy"] = e["entropy"].clip(lower=0.0)
    return e


def entropy_levels(results: pd.DataFrame) -> list[float]:
    """The levels t (clean input excluded) at which the network's entropy of train sequences was measured."""
    e = entropy_by_n(results)
    return sorted(float(t) for t in e.loc[(e["split"] == "train") & (e["t"] >= CLEAN_T), "t"].unique())


def generations_by_n(results: pd.DataFrame) -> pd.DataFrame:
    """What the models write from pure noise against N, with both reverse steps: one row per N × step
    ('exact' or 'plugin') × category with its share of the generations (``fraction``). The main
    tables' step is the results' ``step`` column; ``plugin_gen_*`` columns are the paper's plug-in
    step. Empty when nothing was generated."""
    gen = results[results["split"].eq("generated")] if "split" in results else results.iloc[:0]
    gen = gen.drop_duplicates("n").sort_values("n")
    rows = []
    for _, r in gen.iterrows():
        main = r["step"]
        for col, value in r.items():
            if pd.isna(value) or not isinstance(col, str):
                continue
            if col.startswith("plugin_gen_") and main != "plugin":
                rows.append({"n": int(r["n"]), "step": "plugin", "category": col[len("plugin_gen_"):],
                             "fraction": float(value)})
            elif col.startswith("gen_"):
                rows.append({"n": int(r["n"]), "step": main, "category": col[len("gen_"):], "fraction": float(value)})
    return pd.DataFrame(rows, columns=["n", "step", "category", "fraction"])


def fluency_by_n(results: pd.DataFrame, order: str = "trigram") -> pd.DataFrame:
    """The share of generated word n-grams (``order``: bigram or trigram) seen in the training pool
    against N: columns n, exact, plugin and test (the ceiling: held-out test sentences)."""
    gen = results[results["split"].eq("generated")] if "split" in results else results.iloc[:0]
    gen = gen.drop_duplicates("n").sort_values("n")
    cols = {"exact": f"{order}_seen", "plugin": f"{order}_seen_plugin", "test": f"{order}_seen_test"}
    out = pd.DataFrame({"n": gen["n"].astype(int).to_numpy()})
    for name, col in cols.items():
        out[name] = gen[col].to_numpy(dtype=float) if col in gen else np.nan
    return out.dropna(subset=["exact", "plugin", "test"], how="all").reset_index(drop=True)


def for_step(results: pd.DataFrame, step: str) -> pd.DataFrame:
    """The results with the recovery columns of the reverse ``step``: unchanged when the tables were
    measured with it; for the paper's plug-in step beside exact tables, the train and test rows of
    the levels where it was measured (``plugin_*`` columns: t = 0.25) with those values in place of
    the exact step's, N* recomputed, and the other rows (entropy, generations) kept."""
    main = results["step"].dropna() if "step" in results else pd.Series(dtype=object)
    if step != "plugin" or main.empty or (main == "plugin").all() or "plugin_recovery_rate" not in results:
        return results
    scored = results["split"].isin(["train", "test"]) & results["recovery_rate"].notna()
    keep = scored & results["plugin_recovery_rate"].notna()
    swapped = results[keep].copy()
    for col in [c for c in results.columns if c.startswith("plugin_") and not c.startswith("plugin_gen_")]:
        swapped[col[len("plugin_"):]] = swapped[col]
    swapped["step"] = "plugin"
    ideal = [c for c in swapped.columns if c.startswith(("memorizer_", "generalizer_"))]
    swapped[ideal] = np.nan    # the ideal denoisers were measured with the exact step only
    out = pd.concat([swapped, results[~scored]], ignore_index=True)
    return with_transitions(out.drop(columns=[c for c in out.columns if c.startswith("n_star_")]))
