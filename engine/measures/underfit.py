"""Is a trained model fit well enough to stand beside the zoo's? The verdict on a what-if run
(torch-free: the app's pages import it).

A model that has not fitted its N training sentences neither memorizes them nor has learned the
language: its train and test recovery are both low and close, which reads like "generalizing" on the
transition plot although it is only undertrained (issue 21: grammar N = 2,048 with the default
What-if budget ended at train loss 1.11 nats/token against the zoo's 0.94, with train recovery
0.087 below test 0.134). ``verdict`` says so from two measured signs, with the thresholds below.

Measured with ``python scripts/whatif_losses.py 64 128 256 512 1024 2048`` (the default run: small
model, 1,600 steps of 64, seed 0, trained alone on one thread), grammar, ``final_loss`` in nats/token:

    N                        64     128    256    512    1,024  2,048
    default run              0.501  0.694  0.918  1.046  1.091  1.115
    zoo (128: interpolated)  0.372  0.457  0.543  0.638  0.765  0.938   (zoo at N = 8,192: 1.002)
    loss_limit               0.687  0.730  0.772  0.820  0.884  0.988

The default run memorizes N = 64 as the zoo does (train exact match 0.973 at t = 0.25; README) with
a loss 0.13 above the zoo's, inside the limit; N = 128 ends 0.04 inside it; from N = 256 on it ends
near the loss of the zoo's largest, generalizing model (1.00): it has not fitted its sentences.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

TAIL = 0.1            # final_loss: mean of the last 10 % of the logged windows
LOSS_NOISE = 0.05     # nats: a run this far above the zoo may be noise (one logging window of the
                      # zoo's histories has a std of 0.010-0.045 nats near the end of training)
NEARER = 0.5          # underfit when the run's loss is past this share of the way from the zoo's loss
                      # at its N to the zoo's loss at its largest N (a model past memorizing)
RECOVERY_TOL = 0.02   # train recovery below test by more than this: the zoo's largest test-over-train
                      # gap at t = 0.25 is 0.016 (grammar N = 4,096 and 8,192), measured on 128 sentences
ZOO_SEPARATES = 0.05  # ... and only where the zoo's model at that N has train above test by at least
                      # this much: where the zoo itself generalizes (train ≈ test) the sign is noise
LABEL = "underfit — not comparable"


def final_loss(history) -> float:
    """The training loss at the end of a run (nats/token): the mean of the last ``TAIL`` of its logged
    windows (at least one), from a history of (step, loss) pairs; NaN for an empty history. One
    window is noisy (std 0.01-0.045 nats in the zoo's histories); the mean of the last 10 % is not."""
    losses = [float(loss) for _, loss in history]
    if not losses:
        return float("nan")
    k = max(1, int(len(losses) * TAIL))
    return sum(losses[-k:]) / k


def zoo_loss_at(n: int, losses: dict[int, float]) -> float | None:
    """The zoo's final loss at N: its own where the zoo has that N, else interpolated linearly in
    log N between the two zoo sizes around it; below the smallest size, the smallest size's loss (a
    lenient bound: fewer sentences are fitted to a lower loss); above the largest, None (unknown)."""
    known = sorted((int(k), float(v)) for k, v in losses.items() if math.isfinite(v))
    if not known or n > known[-1][0]:
        return None
    if n <= known[0][0]:
        return known[0][1]
    for (n0, l0), (n1, l1) in zip(known, known[1:]):
        if n0 <= n <= n1:
            w = (math.log(n) - math.log(n0)) / (math.log(n1) - math.log(n0))
            return l0 + w * (l1 - l0)
    return None


@dataclass(frozen=True)
class Verdict:
    """Whether a run is underfit, and why in words (empty when it is not).

    loss: the run's final loss; zoo_loss: the zoo's at its N (None: no zoo to compare with);
    loss_limit: the loss above which it counts as underfit (None without a zoo)."""

    underfit: bool
    reasons: tuple[str, ...]
    loss: float
    zoo_loss: float | None = None
    loss_limit: float | None = None

    @property
    def label(self) -> str:
        return LABEL if self.underfit else ""


def loss_limit(n: int, losses: dict[int, float]) -> float | None:
    """The final loss above which a run at N is underfit: the zoo's loss at N plus the larger of
    ``LOSS_NOISE`` and ``NEARER`` × (the zoo's loss at its largest N − the zoo's loss at N)."""
    zoo = zoo_loss_at(n, losses)
    if zoo is None:
        return None
    top = float(losses[max(losses)])
    return zoo + max(LOSS_NOISE, NEARER * (top - zoo))


def verdict(n: int, loss: float, train: float | None, test: float | None,
            zoo_losses: dict[int, float] | None = None, zoo_gap: float | None = None) -> Verdict:
    """Whether a run trained on N sentences is underfit, and so not comparable with the zoo.

    n: its N; loss: its ``final_loss`` (nats/token); train, test: its recovery rate at the headline
    level (None: not measured); zoo_losses: {N: final_loss} of the zoo's models of the same corpus and
    sequence length (None or empty: no zoo); zoo_gap: the zoo's train − test recovery at that level at
    the zoo size nearest N (None: unknown).

    Underfit when either holds:

    1. its loss is above ``loss_limit``: more than ``LOSS_NOISE`` (0.05 nats) above the zoo's loss at
       N, and nearer the zoo's loss at its largest N than the zoo's loss at N (``NEARER`` = 0.5);
    2. its train recovery is below its test recovery by more than ``RECOVERY_TOL`` (0.02), unless the
       zoo's model at that N does not separate the two either (``zoo_gap`` < ``ZOO_SEPARATES``, 0.05).
    """
    reasons = []
    limit = loss_limit(n, zoo_losses) if zoo_losses else None
    zoo = zoo_loss_at(n, zoo_losses) if zoo_losses else None
    if limit is not None and math.isfinite(loss) and loss > limit:
        reasons.append(f"its final train loss {loss:.3f} nats/token is well above the zoo model's {zoo:.3f} "
                       f"at N = {n:,} (limit {limit:.3f}): it has not fitted its training sentences")
    if train is not None and test is not None and train < test - RECOVERY_TOL \
            and (zoo_gap is None or zoo_gap >= ZOO_SEPARATES):
        reasons.append(f"its train recovery {train:.3f} is below its test recovery {test:.3f}: it does not "
                       "even favour the sentences it was trained on")
    return Verdict(bool(reasons), tuple(reasons), float(loss), zoo, limit)
