"""The watcher of a Ray driver: stops the local Ray a sweep started when the sweep dies without
closing it, and says so on stderr.

Ray ties the processes ``ray.init`` starts directly (gcs_server, raylet, the dashboard...) to the
driver (Linux ``PR_SET_PDEATHSIG``), but not the raylet's own children (the dashboard and runtime-env
agents), which outlive a ``kill -9`` of the driver. And when a Ray process the driver needs dies
(gcs_server, raylet, an agent), Ray ends the driver from C++ with exit status 1 and no Python code
runs, so the driver cannot report it. This watcher is a separate process (``engine.runs.ray_backend`` starts
it before ``ray.init``) that reads a pipe from the driver:

* ``session PATH`` on the pipe: Ray's session folder, named in the error line (its ``logs``);
* ``done`` on the pipe: the driver shut its Ray down itself; exit quietly;
* end of file without ``done``: the driver died. Print one ``error:`` line, then (``--owned``) stop
  what is left of the processes that descended from the driver while it lived: SIGTERM, then
  SIGKILL two seconds later. Processes are matched by pid and start time, so a reused pid is never hit.

Run as a script (``python engine/runs/reaper.py DRIVER_PID [--owned]``), without importing the engine.
Linux only (/proc); elsewhere it only reports.
"""
from __future__ import annotations

import os
import select
import signal
import sys
import time

POLL_S = 0.5      # how often the driver's descendants are listed
GRACE_S = 2.0     # between SIGTERM and SIGKILL


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22), None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()   # the name in parentheses may hold spaces
    return int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """{pid: start time} of every living descendant of ``root`` (from /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return {}
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    found, todo = {}, [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            if pid != os.getpid() and pid not in found:
                started = start_time(pid)
                if started is not None:
                    found[pid] = started
                    todo.append(pid)
    return found


def stop(processes: dict[int, int]) -> int:
    """SIGTERM, then SIGKILL after GRACE_S, to those of ``processes`` still alive; how many were."""
    alive = {pid: t for pid, t in processes.items() if start_time(pid) == t}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, t in alive.items():
            if start_time(pid) == t:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        deadline = time.monotonic() + GRACE_S
        while sig == signal.SIGTERM and time.monotonic() < deadline \
                and any(start_time(pid) == t for pid, t in alive.items()):
            time.sleep(0.1)
    return len(alive)


def watch(driver: int, owned: bool) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # a Ctrl-C is the driver's to handle
    seen: dict[int, int] = {}
    received = b""
    while True:
        if owned:
            seen.update(descendants(driver))
        ready, _, _ = select.select([0], [], [], POLL_S)
        if ready:
            chunk = os.read(0, 4096)
            received += chunk
            if b"done\n" in received:
                return 0
            if not chunk:
                break
    logs = "/tmp/ray/session_latest/logs"
    for line in received.decode("utf-8", "replace").splitlines():
        if line.startswith("session "):
            logs = os.path.join(line[len("session "):], "logs")
    time.sleep(0.5)   # Ray's own fate-sharing stops the driver's direct children first
    stopped = stop(seen) if owned else 0
    what = (f"; {stopped} leftover process(es) of the local Ray it started were stopped" if stopped
            else "; the local Ray it started is gone" if owned else "")
    print(f"error: the sweep (process {driver}) ended without finishing: it was killed, or a Ray process "
          f"it needs (gcs_server, raylet, the dashboard agent) died — Ray's logs are in "
          f"{logs}{what}. Everything finished was written: run the same command "
          "again to resume.", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(watch(int(sys.argv[1]), "--owned" in sys.argv[2:]))
