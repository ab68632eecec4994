"""Where a sweep's tasks run: in this process (``LocalBackend``, the default) or on Ray
(``RayBackend``, ``engine.runs.ray_backend``), chosen by name (``make_backend``).

Both run each task (``engine.runs.tasks``) with ``threads`` torch threads, so the same settings give
the same numbers on either. A task that raises is run again, at most ``retries`` more times, then
reported with its error; the others go on. Ray is imported only when the Ray backend is made.
"""
from __future__ import annotations

import time

from engine.runs.ray_backend import RAY_MISSING, RAY_REQUIREMENTS, RayBackend, import_ray, start_ray
from engine.runs.ray_session import CONNECT_TIMEOUT, Terminated, check_address, terminated
from engine.runs.tasks import Resources, Task, TaskOutcome, call, describe_error

__all__ = ["CONNECT_TIMEOUT", "RAY_MISSING", "RAY_REQUIREMENTS", "LocalBackend", "RayBackend", "Resources", "Task",
           "TaskOutcome", "Terminated", "call", "check_address", "describe_error", "import_ray", "make_backend",
           "start_ray", "terminated"]


class LocalBackend:
    """Runs one task at a time, in this process, in the order submitted."""

    name = "local"
    local = True

    def __init__(self, *, threads: int = 1, retries: int = 2):
        self.threads, self.retries = threads, retries
        self.queue: list[Task] = []

    def describe(self) -> str:
        return f"local backend: one task at a time in this process, {self.threads} torch thread(s)"

    def resources(self, train: bool, memory: int) -> Resources:
        return Resources(num_cpus=self.threads, num_gpus=0, memory=memory)

    def has_room(self) -> bool:
        return not self.queue

    def submit(self, task: Task) -> None:
        self.queue.append(task)

    def pending(self) -> int:
        return len(self.queue)

    def wait(self) -> TaskOutcome:
        task = self.queue.pop(0)
        start, error = time.perf_counter(), None
        for attempt in range(1, self.retries + 2):
            try:
                result, seconds = call(task.fn, task.args, self.threads)
                return TaskOutcome(task, result, None, attempt, seconds, time.perf_counter() - start)
            except Exception as e:  # noqa: BLE001 — any failure of a task is retried, then reported
                error = describe_error(e)
        return TaskOutcome(task, None, error, self.retries + 1, 0.0, time.perf_counter() - start)

    def cancel(self) -> None:
        self.queue.clear()

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

def make_backend(name: str = "local", *, address: str | None = None, threads: int = 1, retries: int = 2,
                 num_cpus: int | None = None, include_dashboard: bool | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT):
    """``LocalBackend`` or ``RayBackend`` by name; ValueError for an unknown name, an address without
    Ray, or a cluster that cannot be joined within ``connect_timeout`` seconds (one line each),
    ImportError (RAY_MISSING) when Ray is asked for and not installed."""
    if name == "local":
        if address:
            raise ValueError("--address joins a Ray cluster: use it with --backend ray")
        return LocalBackend(threads=threads, retries=retries)
    if name == "ray":
        return RayBackend(address, threads=threads, retries=retries, num_cpus=num_cpus,
                          include_dashboard=include_dashboard, connect_timeout=connect_timeout)
    raise ValueError(f"unknown backend {name!r}: use 'local' or 'ray'")
