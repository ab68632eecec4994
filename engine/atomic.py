"""Atomic writes: everything is written to a temporary sibling, then renamed into place, so a crash
or a cancelled run never leaves a half-written file or checkpoint behind."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path


def write_file(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file next to ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; outputs are ordinary files
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
    """Yield a temporary directory next to ``path``; on success it replaces ``path`` (old one removed).

    Only a folder is ever replaced (callers first ``outputs.claim`` the place, which refuses anything
    the project did not write); a killed run leaves ``.<name>.*.tmp``/``.old`` scratch folders that the
    next claim of the place removes."""
    path = Path(path)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise ValueError(f"refusing to replace '{path}': it is not a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; a checkpoint is an ordinary folder
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
