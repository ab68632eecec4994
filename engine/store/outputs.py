"""Output places: where the engine may write, what it may replace, and who is writing there now.

A path the project did not write is not the project's to delete (STYLE 15). Before any work starts,
``claim(path, kind)`` refuses

* the empty string, ``/``, the current directory or a folder above it, symbolic links, device files,
  pipes, sockets and regular files;
* a non-empty folder that carries no marker of this engine, or the marker of the other kind;
* an existing checkpoint unless ``overwrite`` is given (a sweep folder is resumed, never replaced);
* a place another run is writing to right now (an ``flock``-ed lock file next to it; the kernel drops
  the lock when that process dies, so a killed run never blocks the next one);
* a lock path that is not a lock file of ours: a symbolic or hard link, a special file, or a regular
  file holding anything but a lock stamp. Lock files are opened with ``O_NOFOLLOW`` (created with
  ``O_EXCL``), and deleted only while they still are the file we locked.

What is ours is said by markers (``engine.store.markers``): a checkpoint lists the files it wrote, and
``overwrite`` refuses a checkpoint holding anything else (a user's ``notes.txt`` stays where it is); a
sweep folder holds ``.basin-explorer-sweep``. Leftover ``.<name>.*.tmp`` / ``.<name>.*.old`` scratch
folders of a killed save are removed by the next claim of the same place, while it holds the lock,
only when their scratch marker names them.
"""
from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import stat
import uuid
from contextlib import contextmanager
from pathlib import Path

from engine.store import markers

CHECKPOINT, SWEEP = "checkpoint", "sweep"
CHECKPOINT_FORMAT, SWEEP_MARKER = markers.CHECKPOINT_FORMAT, markers.SWEEP_MARKER

LOCK_STAMP = "basin-explorer-lock"   # a lock file holds "basin-explorer-lock <pid> <run id>"
MAX_LOCK_BYTES = 128
_RUN_ID = uuid.uuid4().hex           # this process's id in the lock files it writes

_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth): claims nest within one process


class OutputError(ValueError):
    """An output place the engine refuses to write to; the message names the path and says why."""


def kind_of(path: Path) -> str | None:
    """CHECKPOINT or SWEEP when ``path`` is a folder this engine wrote, else None."""
    if markers.is_checkpoint(path):
        return CHECKPOINT
    return SWEEP if markers.is_sweep(path) else None


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
        if kind == CHECKPOINT:
            refuse_foreign(p)
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


def refuse_foreign(p: Path) -> None:
    """OutputError naming what in the checkpoint ``p`` Basin Explorer did not write (``--overwrite``
    replaces only our own files, so it refuses to replace a folder holding a user's)."""
    found = markers.foreign(p)
    if found:
        shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
        raise OutputError(f"refusing to overwrite '{p}': it holds files Basin Explorer did not write "
                          f"({shown}); move them out of the folder, or choose another folder")


def remove_leftovers(path: Path) -> list[Path]:
    """Delete ``.<name>.XXXXXXXX.tmp`` / ``.old`` siblings of ``path`` (atomic.directory's scratch
    folders) left by a killed save, only those whose scratch marker names them (``markers``); call
    only while holding the place's lock."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}\.(tmp|old)")
    removed = []
    parent = path.absolute().parent
    if not parent.is_dir():
        return removed
    for q in parent.iterdir():
        if pattern.fullmatch(q.name) and markers.is_scratch(q):
            shutil.rmtree(q, ignore_errors=True)
            removed.append(q)
    return removed


def lock_path(path: Path) -> Path:
    return path.absolute().parent / f".{path.name}.lock"


@contextmanager
def lock(path: str | os.PathLike):
    """Hold the lock of the place ``path`` (a ``.<name>.lock`` file beside it); OutputError naming the
    other process when it is held elsewhere, or when the lock path holds something that is not a lock
    file of ours (``open_lock``). Nested locks of one place within a process are free."""
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
    fd = _acquire(lp, path, wait=False)
    _held[key] = (fd, 1)
    try:
        yield
    finally:
        del _held[key]
        _release(lp, fd, remove=True)


@contextmanager
def lock_file(lp: str | os.PathLike):
    """Hold the lock file ``lp`` itself, waiting for another holder (index.json's ``.index.lock``); the
    file stays. Refused like ``lock``'s when ``lp`` is a link or a file that is not a lock of ours."""
    lp = Path(lp)
    fd = _acquire(lp, lp, wait=True)
    try:
        yield
    finally:
        _release(lp, fd, remove=False)


def _acquire(lp: Path, path: Path, *, wait: bool) -> int:
    """Open the lock file ``lp`` (``open_lock``), flock it and write our stamp; the fd. OutputError
    naming the other writer if it is held (and not ``wait``)."""
    while True:
        fd = open_lock(lp)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError as e:
            os.close(fd)
            if e.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            raise OutputError(f"'{path}' is being written by another run (process {_holder(lp)}); wait for "
                              "it to finish or choose another folder") from None
        if not _same_file(lp, fd):
            os.close(fd)  # the holder unlinked it between our open and flock: try the new file
            continue
        if not _is_lock(os.pread(fd, MAX_LOCK_BYTES + 1, 0)):  # filled in between lstat and flock
            os.close(fd)
            raise OutputError(_not_a_lock(lp, "holds something that is not a Basin Explorer lock"))
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{LOCK_STAMP} {os.getpid()} {_RUN_ID}\n".encode(), 0)
        return fd


def _release(lp: Path, fd: int, *, remove: bool) -> None:
    """Close the lock's fd; with ``remove``, first unlink ``lp`` if it still is our file (never a file
    or link put there since). Unlink before unlocking: a waiter re-checks the inode."""
    try:
        if remove and _same_file(lp, fd):
            lp.unlink(missing_ok=True)
    finally:
        os.close(fd)


def open_lock(lp: Path) -> int:
    """An fd of the lock file ``lp`` opened read-write without following links: created (O_EXCL), or
    an existing regular file with one name that is empty or holds a lock stamp of this engine (a
    killed run's). OutputError for a symbolic link, a hard link, a special file or a user's file; such
    a path is left as it is."""
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    while True:
        try:
            return os.open(lp, flags | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            pass
        try:
            st = os.lstat(lp)
        except FileNotFoundError:
            continue  # its holder removed it: create it
        if stat.S_ISLNK(st.st_mode):
            raise OutputError(_not_a_lock(lp, "is a symbolic link"))
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(_not_a_lock(lp, "is not a regular file"))
        try:
            fd = os.open(lp, flags)
        except FileNotFoundError:
            continue
        except OSError as e:
            if e.errno == errno.ELOOP:  # replaced by a link since the lstat
                raise OutputError(_not_a_lock(lp, "is a symbolic link")) from None
            raise OutputError(f"cannot open the lock file '{lp}': {e.strerror or e}") from None
        fst = os.fstat(fd)
        if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
            os.close(fd)
            continue
        if fst.st_nlink != 1:
            os.close(fd)
            raise OutputError(_not_a_lock(lp, "is a hard link to another file"))
        if fst.st_size > MAX_LOCK_BYTES or not _is_lock(os.pread(fd, MAX_LOCK_BYTES + 1, 0)):
            os.close(fd)
            raise OutputError(_not_a_lock(lp, "holds something that is not a Basin Explorer lock"))
        return fd


def _is_lock(data: bytes) -> bool:
    """Empty (just created), our stamp, or the bare process id older versions wrote."""
    text = data.decode("ascii", "replace").strip()
    return not text or text.isdigit() and len(text) <= 10 or re.fullmatch(
        rf"{LOCK_STAMP} \d{{1,10}} [0-9a-f]{{32}}", text) is not None


def _holder(lp: Path) -> str:
    """The process id recorded in the lock file ``lp``, or '?'."""
    try:
        fd = os.open(lp, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return "?"
    try:
        words = os.read(fd, MAX_LOCK_BYTES).decode("ascii", "replace").split()
    finally:
        os.close(fd)
    pid = words[1] if words[:1] == [LOCK_STAMP] and len(words) > 1 else (words[0] if words else "")
    return pid if pid.isdigit() else "?"


def _same_file(p: Path, fd: int) -> bool:
    """Whether the name ``p`` (not followed) is the file open as ``fd``."""
    try:
        st, fst = os.lstat(p), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)


def _not_a_lock(lp: Path, why: str) -> str:
    return (f"refusing to use the lock file '{lp}': it {why}, not a lock file Basin Explorer made; "
            "remove or rename it yourself if it is not needed, or choose another folder")
