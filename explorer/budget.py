"""How long a live action may run: a wall-clock budget for work done in pieces, and the number of
torch threads that the machine can spare for it.

A live action on a page (Denoise's search for a seed where two models differ) walks its pieces one
cached call at a time, shows how far it got, and stops before a piece that would end past the budget
it names on its button. Both the clock and the machine's load are passed in, so tests can fake them.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable


class Budget:
    """``seconds`` of wall-clock time (``math.inf``: no limit) for a walk through pieces, measured with
    ``clock`` (seconds, monotonic) from the moment the budget is made.

    Call ``fits()`` before each piece: it ends the previous piece (its duration is measured between
    the two calls) and says whether the next may start — always for the first piece, then only
    while one more piece as slow as the slowest so far still ends within the budget. A piece never
    stops midway, so a walk overruns only when a piece is slower than every piece before it."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        if not seconds >= 0:
            raise ValueError(f"a budget is a number of seconds >= 0, got {seconds!r}")
        self.seconds, self.clock = float(seconds), clock
        self.start = clock()
        self.pieces = 0        # pieces allowed to start
        self.slowest = 0.0     # seconds of the slowest piece that has ended
        self._began: float | None = None

    def fits(self) -> bool:
        """True when the next piece may start (and it starts now); False once the budget is spent."""
        now = self.clock()
        if self._began is not None:
            self.slowest = max(self.slowest, now - self._began)
        if self.pieces and now - self.start + self.slowest > self.seconds:
            self._began = None
            return False
        self.pieces += 1
        self._began = now
        return True

    def elapsed(self) -> float:
        """Seconds since the budget was made."""
        return self.clock() - self.start


def spare_threads(most: int, cpus: int | None = None, load: float | None = None) -> int:
    """Torch threads for a live action: the CPUs that the 1-minute load average leaves idle, at least 1
    and at most ``most`` (torch's own choice). On a machine whose cores are all busy, torch's
    default team of threads waits for threads the system has descheduled (README: The app)."""
    cpus = (os.cpu_count() or 1) if cpus is None else cpus
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:     # no load average on this system
            load = 0.0
    return max(1, min(int(most), math.floor(cpus - load + 0.5)))
