"""The Hamming distance, nearest neighbours in token space and out-of-sample placement on a stored
2-D projection (torch-free).

``hamming`` is the one distance between token sequences in the project: the outcome of a run, the
novelty of a generation and the neighbours on the map all count differing positions with it.

The UMAP projection of a model's sequences (``engine.measures.projection``) is stored as coordinates only:
the fitted UMAP object is not kept, so ``UMAP.transform`` cannot place a new sequence. ``place``
puts a sequence where its k nearest projected sequences are, by Hamming distance over the L
positions: the inverse-distance weighted mean of their stored coordinates (exactly on a projected
sequence it equals; weights 1 / d). It is the usual k-NN interpolation, not UMAP's own optimisation,
so a placed point says "among these sequences", not more; its neighbours and their distances are
returned with it so the figure can say which.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

K_PLACE = 5


def hamming(a, b):
    """Number of positions where token sequences a (..., L) and b (..., L) differ, counted along the
    last axis with the leading axes broadcast (a (L,) against b (N, L) gives (N,)). numpy arrays and
    lists give a numpy array, torch tensors a tensor; ValueError if the lengths L differ."""
    a = a if hasattr(a, "shape") else np.asarray(a)
    b = b if hasattr(b, "shape") else np.asarray(b)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"sequences of different lengths: {a.shape[-1]} and {b.shape[-1]} positions")
    return (a != b).sum(-1)


def distances(queries, seqs) -> np.ndarray:
    """Hamming distances (Q, M) between every query (Q, L) and every sequence (M, L)."""
    q, s = np.atleast_2d(np.asarray(queries)), np.atleast_2d(np.asarray(seqs))
    return hamming(q[:, None, :], s[None, :, :])


def nearest(query, seqs, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, distances) of the k sequences of seqs (M, L) nearest to query (L,), nearest first;
    ties in index order."""
    d = distances(query, seqs)[0]
    order = np.argsort(d, kind="stable")[:k]
    return order, d[order]


def place(states, seqs, xy, k: int = K_PLACE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates (S, 2) of each state (S, L) on a projection of seqs (M, L) at xy (M, 2): the
    position of the projected sequence it equals, else the 1/d²-weighted mean of its k nearest.
    Also returns the index (S,) and distance (S,) of each state's nearest projected sequence."""
    states, seqs, xy = np.atleast_2d(np.asarray(states)), np.asarray(seqs), np.asarray(xy, dtype=float)
    if len(seqs) == 0:
        raise ValueError("no projected sequences to place the states among")
    d = distances(states, seqs)                                      # (S, M)
    k = min(k, len(seqs))
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]                # (S, k)
    dk = np.take_along_axis(d, idx, axis=1).astype(float)
    w = np.where(dk[:, :1] == 0, (dk == 0).astype(float), 1.0 / np.maximum(dk, 1.0) ** 2)
    out = (w[:, :, None] * xy[idx]).sum(axis=1) / w.sum(axis=1, keepdims=True)
    return out, idx[:, 0], dk[:, 0].astype(int)


def neighbours_table(seqs, i: int, keys: pd.DataFrame, k: int = 8) -> pd.DataFrame:
    """The k sequences of seqs (M, L) nearest to sequence i (itself left out; an equal twin is kept,
    at distance 0), as the rows of ``keys`` (one row per sequence: e.g. split, example, x, y) with a
    ``distance`` column (positions that differ), nearest first."""
    seqs = np.asarray(seqs)
    order, d = nearest(seqs[i], seqs, k + 1)
    keep = order != i
    return keys.iloc[order[keep][:k]].assign(distance=d[keep][:k]).reset_index(drop=True)
