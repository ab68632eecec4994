"""Output places: where the engine may write, what it may replace, and who is writing there now.

A path the project did not write is not the project's to delete (STYLE 15). Before any work starts,
``claim(path, kind)`` refuses

* the empty string, ``/``, the current directory or a folder above it, symbolic links, device files,
  pipes, sockets and regular files;
* a non-empty folder that carries no marker of this engine, or the marker of the other kind;
* an existing checkpoint unless ``overwrite`` is given (a sweep folder is resumed, never replaced);
* a place another run is writing to right now (an ``flock``-ed lock file next to it; the kernel drops
  the lock when that process dies, so a killed run never blocks the next one).

Markers: a checkpoint is a folder whose ``meta.json`` names the format ``basin-explorer-checkpoint``;
a sweep folder holds the file ``.basin-explorer-sweep`` (or, written before markers existed, a valid
``index.json``). Leftover ``.<name>.*.tmp`` / ``.<name>.*.old`` folders of a killed save are removed by
the next claim of the same place, while it holds the lock.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path

CHECKPOINT, SWEEP = "checkpoint", "sweep"
CHECKPOINT_FORMAT = "basin-explorer-checkpoint"   # meta.json's "format": the checkpoint's marker
SWEEP_MARKER = ".basin-explorer-sweep"

_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth): claims nest within one process


class OutputError(ValueError):
    """An output place the engine refuses to write to; the message names the path and says why."""


def kind_of(path: Path) -> str | None:
    """CHECKPOINT or SWEEP when ``path`` is a folder this engine wrote, else None."""
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if isinstance(meta, dict) and meta.get("format") == CHECKPOINT_FORMAT:
            return CHECKPOINT
    except (OSError, ValueError):
        pass
    if (path / SWEEP_MARKER).is_file():
        return SWEEP
    try:
        from .zoo import read_index
        if (path / "index.json").is_file() and read_index(path):
            return SWEEP
    except ValueError:
        pass
    return None


def check(path: str | os.PathLike, kind: str, *, overwrite: bool = False) -> Path:
    """The output place ``path`` as a Path if ``kind`` may be written there; OutputError otherwise."""
    if kind not in (CHECKPOINT, SWEEP):
        raise ValueError(f"kind must be {CHECKPOINT!r} or {SWEEP!r}, got {kind!r}")
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise OutputError("the output path is empty: give the folder to write, e.g. --out runs/g64")
    p = Path(path)
    if "\x00" in str(p):
        raise OutputError(f"the output path {str(p)!r} contains a NUL character")
    where = Path(os.path.abspath(p))     # '..' resolved lexically, symbolic links kept
    here = Path(os.path.abspath(Path.cwd()))
    if where == Path(where.anchor):
        raise OutputError(f"refusing to write to the filesystem root '{p}': give a new folder instead")
    if where == here or where in here.parents:
        raise OutputError(f"refusing to write to '{p}': it is the current directory or contains it; "
                          "give a new folder instead")
    if p.is_symlink():
        raise OutputError(f"refusing to write to '{p}': it is a symbolic link; give the real folder")
    try:
        st = p.stat()
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        blocker = next(q for q in reversed(where.parents) if q.exists() and not q.is_dir())
        raise OutputError(f"cannot write to '{p}': '{blocker}' is not a folder") from None
    except OSError as e:
        raise OutputError(f"cannot use '{p}' as an output folder: {e.strerror or e}") from None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        what = "a regular file" if stat.S_ISREG(st.st_mode) else "a device, pipe or socket"
        raise OutputError(f"refusing to replace '{p}': it is {what}, not a folder this project wrote")
    if st is not None and any(p.iterdir()):
        found = kind_of(p)
        if found is None:
            raise OutputError(f"refusing to write to '{p}': the folder is not empty and was not written "
                              f"by Basin Explorer; choose a new or empty folder")
        if found != kind:
            raise OutputError(f"refusing to write a {kind} to '{p}': it holds a Basin Explorer {found}")
        if kind == CHECKPOINT and not overwrite:
            raise OutputError(f"'{p}' already holds a checkpoint; pass --overwrite to replace it, "
                              "or choose another folder")
    for parent in where.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot write to '{p}': '{parent}' is not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputError(f"cannot write to '{p}': '{parent}' is not writable by you")
            break
    return p


@contextmanager
def claim(path: str | os.PathLike, kind: str, *, overwrite: bool = False):
    """Check ``path`` (``check``), lock it against other writers, clear a killed save's leftovers,
    and yield it; the lock is released on exit. Claims of one place nest within a process."""
    p = check(path, kind, overwrite=overwrite)
    p.absolute().parent.mkdir(parents=True, exist_ok=True)
    with lock(p):
        check(p, kind, overwrite=overwrite)  # the place may have changed while we waited for nothing
        remove_leftovers(p)
        yield p


def remove_leftovers(path: Path) -> list[Path]:
    """Delete ``.<name>.XXXXXXXX.tmp`` / ``.old`` siblings of ``path`` (atomic.directory's scratch
    folders) left by a killed save; call only while holding the place's lock."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}\.(tmp|old)")
    removed = []
    parent = path.absolute().parent
    if not parent.is_dir():
        return removed
    for q in parent.iterdir():
        if pattern.fullmatch(q.name) and q.is_dir() and not q.is_symlink():
            shutil.rmtree(q, ignore_errors=True)
            removed.append(q)
    return removed


def lock_path(path: Path) -> Path:
    return path.absolute().parent / f".{path.name}.lock"


@contextmanager
def lock(path: str | os.PathLike):
    """Hold the lock of the place ``path`` (a ``.<name>.lock`` file beside it); OutputError naming the
    other process when it is held elsewhere. Nested locks of one place within a process are free."""
    path = Path(path)
    lp = lock_path(path)
    key = str(lp)
    if key in _held:  # nested claim in this process: already ours
        fd, depth = _held[key]
        _held[key] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = _held[key]
            _held[key] = (fd, depth - 1)
        return
    fd = _acquire(lp, path)
    _held[key] = (fd, 1)
    try:
        yield
    finally:
        del _held[key]
        try:
            lp.unlink(missing_ok=True)  # unlink before unlocking: a waiter re-checks the inode
        finally:
            os.close(fd)


def _acquire(lp: Path, path: Path) -> int:
    """Open and flock the lock file; OutputError naming the other writer if it is held."""
    while True:
        fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            try:
                pid = lp.read_text().strip() or "?"
            except OSError:
                pid = "?"
            raise OutputError(f"'{path}' is being written by another run (process {pid}); wait for it "
                              "to finish or choose another folder") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lp).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            return fd
        os.close(fd)  # the holder unlinked it between our open and flock: try the new file
