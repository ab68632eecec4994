"""Atomic writes: everything is written to a temporary sibling, then renamed into place, so a crash
or a cancelled run never leaves a half-written file or checkpoint behind.

Nothing is written through a symbolic link: the folder a file is written into must be a real folder
(a linked ``measure/`` is refused), and the rename replaces a link at the target name rather than
its target. A killed write leaves ``.<name>.XXXXXXXX.tmp``; the next write of the same file removes
it (a live writer's is kept: each holds an ``flock`` on its scratch file while writing)."""
from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from engine.store import markers


def write_file(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file next to ``path``, then rename it to ``path``.
    ValueError when the folder of ``path`` is a symbolic link or not a folder."""
    path = Path(path)
    _real_folder(path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    _real_folder(path.parent)
    remove_abandoned(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # alive: remove_abandoned of another writer leaves it
        os.fchmod(fd, 0o644)  # mkstemp makes it owner-only; outputs are ordinary files
        write(Path(tmp))
        _real_folder(path.parent)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return path


def _real_folder(folder: Path) -> None:
    """ValueError if ``folder`` is a symbolic link or something other than a folder (absent is fine)."""
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise ValueError(f"refusing to write into '{folder}': it is a symbolic link; Basin Explorer "
                         "writes only into real folders (replace the link by a folder)")
    if not stat.S_ISDIR(mode):
        raise ValueError(f"cannot write into '{folder}': it is not a folder")


def remove_abandoned(path: Path) -> list[Path]:
    """Remove the scratch files ``.<name>.XXXXXXXX.tmp`` of ``path`` that a killed write left: regular
    files of this user, with one name, that no live writer holds locked."""
    pattern = re.compile(markers.TMP_FILE.format(name=re.escape(path.name)))
    removed = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        if not pattern.fullmatch(name):
            continue
        q = path.parent / name
        try:
            fd = os.open(q, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue  # a link (ELOOP), gone, or not ours to open
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_uid != os.geteuid():
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EACCES):
                    continue  # a live writer's
                raise
            lst = os.lstat(q)
            if (lst.st_dev, lst.st_ino) == (st.st_dev, st.st_ino):
                os.unlink(q)
                removed.append(q)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
    return removed


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_file(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_gzip_lines(path: str | os.PathLike, lines) -> int:
    """One UTF-8 line per item, gzip-compressed reproducibly (no name, mtime 0), written atomically;
    returns the compressed size in bytes (the corpus build scripts)."""
    import gzip
    import io

    payload = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=payload, compresslevel=9, mtime=0) as gz:
        gz.write("".join(s + "\n" for s in lines).encode("utf-8"))
    write_file(path, lambda p: p.write_bytes(payload.getvalue()))
    return len(payload.getvalue())


@contextmanager
def directory(path: str | os.PathLike):
    """Yield a temporary directory next to ``path``; on success it replaces ``path`` (old one removed)
    and carries the marker listing the files written into it (``markers.mark_checkpoint``).

    Only a folder is ever replaced (callers first ``outputs.claim`` the place, which refuses anything
    the project did not write), and only while it holds nothing but our own files. A killed run leaves
    ``.<name>.*.tmp``/``.old`` scratch folders, each marked as ours (``markers.mark_scratch``), that the
    next claim of the place removes."""
    path = Path(path)
    _real_folder(path.parent)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise ValueError(f"refusing to replace '{path}': it is not a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        markers.mark_scratch(tmp)
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a checkpoint is an ordinary folder
        yield tmp
        markers.mark_checkpoint(tmp)
        if path.exists():
            found = markers.foreign(path)  # put there while we worked: never deleted
            if found:
                raise ValueError(f"refusing to replace '{path}': it now holds files Basin Explorer did not "
                                 f"write ({', '.join(found[:3])}); move them out and run again")
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            markers.mark_scratch(old)
            os.replace(path, old / "x")
            (tmp / markers.SCRATCH).unlink()
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            (tmp / markers.SCRATCH).unlink()
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

