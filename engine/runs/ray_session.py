"""How a sweep's driver joins or starts Ray, and makes sure a Ray it started ends with it.

Joining (``join_ray``): the address is checked first (``check_address``: one line for junk), a TCP
connection is tried (``probe``: one line for a refused port, a host that does not resolve, no
answer), and ``ray.init`` then runs in a helper thread that is given up after the timeout, because
Ray retries an unreachable cluster for minutes in C++ code that no signal interrupts.

Ending: SIGTERM raises ``Terminated`` in the main thread (handler ``terminate``) so ``with`` blocks
close the backend, as Ctrl-C does; ``Watcher`` runs ``engine/runs/reaper.py``, which outlives a kill -9
of the driver (or Ray ending it from C++) and stops what Ray's own fate-sharing leaves running.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

CONNECT_TIMEOUT = 30.0      # seconds to join a Ray cluster at --address (--connect-timeout)


def check_address(address: str) -> tuple[str, int] | None:
    """The (host, port) that ``address`` names, None for ``auto``; ValueError (one line, saying what
    is accepted) for anything else: ``host:port`` or ``ray://host:port`` with a port in 1..65535 and
    a host that is a valid IP address or a host name."""
    accepted = "expected HOST:PORT (e.g. 127.0.0.1:6379, the address `ray start --head` prints), " \
               "ray://HOST:10001 or auto"
    text = address.strip()
    if text == "auto":
        return None
    rest = text[len("ray://"):] if text.startswith("ray://") else text
    host, sep, port = rest.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host  # [IPv6]:port
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"--address {address!r} is not a Ray address: {accepted}")
    if re.fullmatch(r"[0-9.]+", host) or ":" in host:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            hint = "" if ":" in host else " (each of its four numbers is 0-255)"
            raise ValueError(f"--address {address!r}: {host} is not a valid IP address{hint}; {accepted}") from None
    elif not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", host):
        raise ValueError(f"--address {address!r}: {host!r} is not a host name; {accepted}")
    return host, int(port)


def probe(host: str, port: int, timeout: float) -> None:
    """ValueError (one line) unless a TCP connection to host:port opens within ``timeout`` seconds."""
    where = f"{host}:{port}"
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except socket.gaierror:
        raise ValueError(f"cannot join the Ray cluster at {where}: the host name {host!r} does not "
                         "resolve; check the address") from None
    except ConnectionRefusedError:
        raise ValueError(f"cannot join the Ray cluster at {where}: nothing is listening there (connection "
                         "refused); start the head node (`ray start --head`) or use the address it "
                         "printed") from None
    except (socket.timeout, TimeoutError):
        raise ValueError(f"cannot join the Ray cluster at {where}: no answer within {timeout:g} s; check "
                         "the address and the firewall, or raise --connect-timeout") from None
    except OSError as e:
        raise ValueError(f"cannot join the Ray cluster at {where}: {e.strerror or e}; check the address "
                         "and the network") from None


def _first_line(e: BaseException) -> str:
    lines = [x.strip() for x in str(e).splitlines() if x.strip()]
    return lines[0] if lines else type(e).__name__


def join_ray(ray, address: str, kwargs: dict, timeout: float):
    """``ray.init(address=...)`` bounded by ``timeout`` seconds in all (name lookup, TCP, Ray's own
    handshake): Ray retries an unreachable cluster for minutes inside C++ code no signal interrupts,
    so the join runs in a helper thread and this one stops waiting. ValueError (one line) on failure;
    a join that succeeds after we gave up is shut down again. ``ray``: the ray module."""
    target = check_address(address)
    box: dict = {}
    gave_up = threading.Event()

    def connect():
        # Ray warns that it cannot set its SIGTERM handler outside the main thread: ours is set later.
        logging.getLogger("ray._private.worker").addFilter(
            lambda record: "SIGTERM handler is not set" not in record.getMessage())
        try:
            if target is not None:
                probe(*target, timeout)
            box["context"] = ray.init(address=address, **kwargs)
            if gave_up.is_set():
                ray.shutdown()
        except BaseException as e:  # noqa: BLE001 — reported by the waiting thread
            box["error"] = e

    start = time.monotonic()
    thread = threading.Thread(target=connect, name="ray-join", daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    if thread.is_alive():
        gave_up.set()
        raise ValueError(f"cannot join the Ray cluster at {address}: no Ray answered within "
                         f"{time.monotonic() - start:.0f} s; check that the address is a Ray head "
                         "node's (`ray start --head` prints it), or raise --connect-timeout")
    error = box.get("error")
    if isinstance(error, ValueError) and str(error).startswith(("cannot join", "--address")):
        raise error
    if error is not None:
        raise ValueError(f"cannot join the Ray cluster at {address}: {_first_line(error)}") from None
    return box["context"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread while a Ray backend is open, so that ``with`` blocks close
    it (and shut down the local Ray) on the way out, as they do for Ctrl-C. Ray's ``wait`` may turn
    it into a plain KeyboardInterrupt on the way: ``terminated()`` tells the two apart."""


_TERMINATED = []


def terminated() -> bool:
    """Whether a SIGTERM arrived while a Ray backend was open."""
    return bool(_TERMINATED)


def terminate(signum, frame):
    """The SIGTERM handler a Ray backend installs while open: raises ``Terminated``."""
    _TERMINATED.append(signum)
    raise Terminated()


class Watcher:
    """The ``engine/runs/reaper.py`` process that outlives this one: it stops the local Ray we started
    and prints an error line when this process dies without closing its backend (kill -9, or Ray
    ending the driver because gcs_server, the raylet or an agent died)."""

    def __init__(self, owned: bool):
        script = str(Path(__file__).resolve().parent / "reaper.py")
        args = [sys.executable, script, str(os.getpid())] + (["--owned"] if owned else [])
        # A session of its own: a Ctrl-C in the terminal goes to the driver, which then closes.
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, start_new_session=True)

    def tell(self, line: str) -> None:
        try:
            self.process.stdin.write(line.encode() + b"\n")
            self.process.stdin.flush()
        except (OSError, ValueError):
            pass

    def done(self) -> None:
        """This process is closing its backend itself: the watcher exits without acting."""
        self.tell("done")
        try:
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
