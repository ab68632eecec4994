"""2-D UMAP projections of sequences, from their tokens or from their entropy profiles.

* tokens:  each sequence is its id vector (L,), compared with the Hamming distance;
* entropy: each sequence is its per-position conditional entropy vector (L,) in nats, Euclidean,
  so sequences the model treats alike land together.
umap-learn is imported only in a child process: its first import compiles with numba, and once
numba's threading runtime is loaded into a process, torch's CPU kernels in that same process run
several times slower (README, under Layout). ``projection_table`` therefore runs UMAP in a fresh
spawned interpreter, so neither the sweep nor the app server is slowed.
"""
from __future__ import annotations

import multiprocessing

import numpy as np
import pandas as pd

from engine.measures.registry import measurement


def umap_2d(features: np.ndarray, metric: str, seed: int = 0, n_neighbors: int = 15) -> np.ndarray:
    """UMAP embedding (M, 2) of ``features`` (M, D); tiny inputs fall back to a deterministic layout."""
    features = np.asarray(features)
    M = len(features)
    if M < 4:
        return np.column_stack([np.arange(M, dtype=float), np.zeros(M)])
    import umap  # deferred: numba compilation on first import

    reducer = umap.UMAP(n_components=2, metric=metric, n_neighbors=min(n_neighbors, M - 1),
                        random_state=seed, init="random" if M < 16 else "spectral", n_jobs=1)
    return reducer.fit_transform(features.astype(np.float32 if metric != "hamming" else np.int64))


def projection_table(ids: dict[str, np.ndarray], entropy: pd.DataFrame, t: float, seed: int = 0) -> pd.DataFrame:
    """``projection_table_here`` computed in a spawned child process (see the module docstring)."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(projection_table_here, (ids, entropy, t, seed))


def projection_table_here(ids: dict[str, np.ndarray], entropy: pd.DataFrame, t: float, seed: int = 0) -> pd.DataFrame:
    """Coordinates of every sequence in ``ids`` (split -> (M, L) token ids) from tokens (x_tok, y_tok)
    and from the entropy profiles at level ``t`` in ``entropy`` (x_ent, y_ent; rows split, example)."""
    keys = [(s, i) for s, a in ids.items() for i in range(len(a))]
    tokens = np.concatenate([np.asarray(a) for a in ids.values()])
    e = entropy[np.isclose(entropy["t"], t)]
    profile = e.pivot_table(index=["split", "example"], columns="position", values="entropy")
    profiles = profile.reindex(pd.MultiIndex.from_tuples(keys, names=["split", "example"])).fillna(0.0)
    xy_tok = umap_2d(tokens, "hamming", seed)
    xy_ent = umap_2d(profiles.to_numpy(), "euclidean", seed)
    return pd.DataFrame({"split": [k[0] for k in keys], "example": [k[1] for k in keys],
                         "x_tok": xy_tok[:, 0], "y_tok": xy_tok[:, 1],
                         "x_ent": xy_ent[:, 0], "y_ent": xy_ent[:, 1]})


@measurement("projection", ("split", "example", "x_tok", "y_tok", "x_ent", "y_ent"), needs=("entropy", "generations"))
def measure_projection(ctx) -> pd.DataFrame:
    """UMAP coordinates of the measured train, test and generated sequences (tokens and entropy profiles)."""
    from engine.diffusion.sample import T_MIN

    b, ent = ctx.bundle, ctx.tables["entropy"]
    counts = ent[ent["position"] == 0].groupby("split")["example"].nunique()
    ids = {"train": b.train_ids[:counts.get("train", 0)].numpy(), "test": b.test_ids[:counts.get("test", 0)].numpy()}
    gens = ctx.tables.get("generations")
    if gens is not None and len(gens):
        ids["generated"] = np.array(gens["ids"].tolist())
    return projection_table(ids, ent, T_MIN, seed=b.seed)
