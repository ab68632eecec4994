"""The Ray backend (``RayBackend``): a sweep's tasks as Ray tasks with explicit resources.

Ray is imported only here (``import_ray``): the local backend, the CLI's default, works without it.
Joining a cluster (``--address``) is bounded by a timeout and fails with one line; a local Ray we
start is shut down on every way out: ``close`` (``with``), SIGTERM and Ctrl-C (through ``with``),
interpreter exit (atexit), and kill -9 or Ray ending the driver (the watcher, ``engine/runs/reaper.py``).
A task that raises is retried by Ray, at most ``retries`` more times, then reported with its error.
"""
from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from engine.runs.ray_session import CONNECT_TIMEOUT, Watcher, join_ray, terminate
from engine.runs.tasks import Resources, Task, TaskOutcome, call, describe_error

RAY_REQUIREMENTS = "requirements-ray.txt"
RAY_MISSING = (f"the Ray backend needs Ray, which is not installed: run `pip install -r {RAY_REQUIREMENTS}` "
               "(or use --backend local)")
WORKER_BASE = 512 * 2**20   # bytes a worker process holds before its task's own memory (python + torch)


def import_ray():
    """The ray module; ImportError with the one-line install hint when it is missing."""
    try:
        import ray
    except ImportError:
        raise ImportError(RAY_MISSING) from None
    return ray


def start_ray(address: str | None = None, *, num_cpus: int | None = None, include_dashboard: bool | None = None,
              connect_timeout: float = CONNECT_TIMEOUT):
    """Join the Ray cluster at ``address`` (within ``connect_timeout`` seconds, ``join_ray``), or
    start a local one with ``num_cpus`` CPUs (default: all of this machine's cores). The engine
    package travels to the workers (``py_modules``), so workers need only the requirements
    installed, not this checkout. Returns Ray's context."""
    ray = import_ray()
    engine_dir = str(Path(__file__).resolve().parents[1])  # the engine package
    kwargs = {"runtime_env": {"py_modules": [engine_dir], "excludes": ["__pycache__"]},
              "logging_level": logging.WARNING}
    if address:
        return join_ray(ray, address, kwargs, connect_timeout)
    return ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=include_dashboard, **kwargs)


class RayBackend:
    """Runs tasks as Ray tasks with explicit resources; at most as many in flight as the cluster has
    slots, so that a measurement submitted after its training starts before queued trainings.

    Joins the cluster at ``address`` (within ``connect_timeout`` seconds), or starts a local Ray
    (``num_cpus``, default all cores) unless Ray is already initialised in this process, which is
    then used as it is and left running. While open, SIGTERM raises ``Terminated`` (so the ``with``
    block closes the backend) and a ``Watcher`` process stops the local Ray we started if this
    process dies without closing it. ``close`` shuts down a local Ray we started."""

    name = "ray"
    local = False

    def __init__(self, address: str | None = None, *, threads: int = 1, retries: int = 2,
                 num_cpus: int | None = None, include_dashboard: bool | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT):
        self.ray = import_ray()
        self.threads, self.retries, self.address = threads, retries, address
        self.owned = not self.ray.is_initialized()
        self.watcher, self.closed, self.previous_sigterm = None, False, None
        if not self.owned:
            context = None
        else:
            self.watcher = Watcher(owned=not address)   # before ray.init: it sees every process Ray starts
            try:
                context = start_ray(address, num_cpus=num_cpus, include_dashboard=include_dashboard,
                                    connect_timeout=connect_timeout)
            except BaseException:
                if not address and self.ray.is_initialized():
                    self.ray.shutdown()
                self.watcher.done()
                raise
            atexit.register(self.close)
            session = (getattr(context, "address_info", None) or {}).get("session_dir")
            if session:
                self.watcher.tell(f"session {session}")
            if threading.current_thread() is threading.main_thread():
                self.previous_sigterm = signal.signal(signal.SIGTERM, terminate)
        self.dashboard = getattr(context, "dashboard_url", None) or None
        self.gcs = (getattr(context, "address_info", None) or {}).get("gcs_address")
        total = self.ray.cluster_resources()
        self.cpus, self.gpus = int(total.get("CPU", 0)), int(total.get("GPU", 0))
        self.slots = max(1, self.cpus // max(1, threads))
        self.running: dict[object, tuple[Task, float]] = {}
        self.remote = self.ray.remote(call)

    def describe(self) -> str:
        where = f"joined the Ray cluster at {self.address}" if self.address else \
            ("started a local Ray" if self.owned else "using the Ray already running in this process")
        dash = f"dashboard {self.dashboard if '://' in self.dashboard else 'http://' + self.dashboard}" \
            if self.dashboard else "dashboard not running (it needs `pip install \"ray[default]\"`)"
        gcs = f", address {self.gcs}" if self.gcs else ""
        return (f"ray backend: {where}{gcs}; {self.cpus} CPUs, {self.gpus} GPUs; "
                f"{self.threads} CPU(s) per task; {dash}")

    def resources(self, train: bool, memory: int) -> Resources:
        """Training takes a GPU when the cluster has any; measurements run on CPU (engine.load)."""
        return Resources(num_cpus=self.threads, num_gpus=1 if train and self.gpus else 0,
                         memory=WORKER_BASE + memory)

    def check(self, r: Resources) -> None:
        """ValueError when no node of a local Ray can ever run a task asking for ``r`` (Ray would
        wait for it forever); on a joined cluster only a warning, since it may add nodes."""
        nodes = [n.get("Resources", {}) for n in self.ray.nodes() if n.get("Alive")]
        if any(n.get("CPU", 0) >= r.num_cpus and n.get("GPU", 0) >= r.num_gpus and n.get("memory", 0) >= r.memory
               for n in nodes):
            return
        message = (f"no node of the Ray cluster has {r.num_cpus} CPU(s), {r.num_gpus} GPU(s) and "
                   f"{r.memory / 2**30:.1f} GiB of memory for one task; use a smaller model or batch, "
                   "fewer --cpus-per-task, or a larger machine")
        if self.address:
            print(f"warning: {message} (waiting in case the cluster scales up)", file=sys.stderr)
        else:
            raise ValueError(message)

    def has_room(self) -> bool:
        return len(self.running) < self.slots

    def submit(self, task: Task) -> None:
        r = task.resources
        ref = self.remote.options(num_cpus=r.num_cpus, num_gpus=r.num_gpus, memory=r.memory or None,
                                  max_retries=self.retries, retry_exceptions=True,
                                  name=task.label).remote(task.fn, task.args, self.threads)
        self.running[ref] = (task, time.perf_counter())

    def pending(self) -> int:
        return len(self.running)

    def wait(self) -> TaskOutcome:
        ready: list = []
        while not ready:    # in short waits, so that Ctrl-C and SIGTERM are handled between them
            ready, _ = self.ray.wait(list(self.running), num_returns=1, timeout=1.0)
        [ref] = ready
        task, start = self.running.pop(ref)
        try:
            result, seconds = self.ray.get(ref)
            return TaskOutcome(task, result, None, 1, seconds, time.perf_counter() - start)
        except Exception as e:  # noqa: BLE001 — Ray already retried it
            return TaskOutcome(task, None, describe_error(e), self.retries + 1, 0.0, time.perf_counter() - start)

    def cancel(self) -> None:
        for ref in self.running:
            try:
                self.ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 — finished or already gone
                pass
        self.running.clear()

    def close(self) -> None:
        """Shut down the Ray we started or joined (never one this process had before); idempotent."""
        if self.closed:
            return
        self.closed = True
        try:
            if self.owned and self.ray.is_initialized():
                self.ray.shutdown()
        finally:
            if self.watcher is not None:
                self.watcher.done()
            if self.previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self.previous_sigterm)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
