"""A sweep's unit of work: a plain function and its arguments (``Task``), the resources it asks the
scheduler for (``Resources``) and what it ended with (``TaskOutcome``), plus ``call``, the one way a
backend runs a task: with a fixed number of torch threads, timed.

A task computes and returns a result and writes nothing: the sweep's driver process is the one writer
of every file (``engine.runs.sweep``). The same ``threads`` give the same numbers on every backend
(CPU float sums depend on the thread count).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Resources:
    """What one task asks the scheduler for: CPUs (also its torch threads), GPUs, memory in bytes."""

    num_cpus: int = 1
    num_gpus: int = 0
    memory: int = 0


@dataclass
class Task:
    """``fn(*args)`` with ``resources``; ``label`` names it in progress and error reports."""

    label: str
    fn: Callable
    args: tuple
    resources: Resources = Resources()
    key: object = None          # the sweep's own handle on the task


@dataclass
class TaskOutcome:
    """What a task ended with: its result, or its error after the last attempt."""

    task: Task
    result: object = None
    error: str | None = None    # "ExceptionType: message" after the last attempt; None on success
    attempts: int = 1
    seconds: float = 0.0        # the successful attempt's run time, measured where it ran
    wall: float = 0.0           # from submission to result, seen by the driver (queueing, transfers)


def call(fn: Callable, args: tuple, threads: int) -> tuple[object, float]:
    """Run ``fn(*args)`` with ``threads`` torch threads (restored afterwards); (result, seconds)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    start = time.perf_counter()
    try:
        return fn(*args), time.perf_counter() - start
    finally:
        torch.set_num_threads(before)


def describe_error(e: BaseException) -> str:
    """One line: the exception's type and message (a Ray task error is unwrapped to its cause)."""
    cause = getattr(e, "cause", None)
    e = cause if isinstance(cause, BaseException) else e
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[-1] if text else ''}".rstrip(": ")
