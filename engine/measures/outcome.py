"""Where one denoising run ended (torch-free): back at its clean sequence x0, in another training
sequence's basin, or somewhere new — and, where the corpus has a membership oracle (the grammar),
whether the final x̂ is a sentence of the language.

Sequences are token-id arrays (L,); distances are Hamming distances over all L positions.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.measures.neighbours import hamming

KINDS = ("recovered", "other_basin", "new")


@dataclass(frozen=True)
class Outcome:
    """kind: 'recovered' | 'other_basin' | 'new'. index: the training sequence x̂ equals (recovered:
    the one x0 is, if any), or the nearest one ('new'; None without training sequences); distance: the
    Hamming distance to it; valid: the oracle's verdict on x̂ (None where the corpus has no oracle)."""

    kind: str
    index: int | None
    distance: int
    valid: bool | None = None

    def key(self) -> tuple:
        """What two runs from the same seed are compared by: the kind, the training sequence for a
        recovery or another basin (not the nearest one of a new sequence), and the oracle's verdict."""
        return self.kind, self.index if self.kind != "new" else None, self.valid


def classify(x_hat, x0, train_ids, oracle: Callable[[list[int]], bool] | None = None) -> Outcome:
    """Where a run from x0 (L,) that ended at x_hat (L,) landed, given the training sequences
    train_ids (N, L); ``oracle`` (ids -> bool, ``engine.text.corpus.oracle_for``) judges x̂ where given."""
    x_hat, x0, train_ids = np.asarray(x_hat), np.asarray(x0), np.asarray(train_ids)
    valid = None if oracle is None else bool(oracle([int(i) for i in x_hat]))
    d = hamming(train_ids, x_hat) if len(train_ids) else np.zeros(0, dtype=int)          # (N,)
    exact = np.flatnonzero(d == 0)
    if np.array_equal(x_hat, x0):
        return Outcome("recovered", int(exact[0]) if len(exact) else None, 0, valid)
    if len(exact):
        return Outcome("other_basin", int(exact[0]), 0, valid)
    if not len(d):
        return Outcome("new", None, int(len(x_hat)), valid)
    j = int(d.argmin())
    return Outcome("new", j, int(d[j]), valid)


def differ(a: Outcome, b: Outcome) -> bool:
    """Whether two runs ended differently (``Outcome.key``)."""
    return a.key() != b.key()
