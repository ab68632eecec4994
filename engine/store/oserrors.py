"""Operating-system errors in words: what went wrong with which path, and what to do about it.

``explain(e)`` replaces Python's ``[Errno 21] Is a directory: 'x'`` in every message the CLI prints
and the app shows (``engine.cli.main``, ``explorer.widgets.guard``).
"""
from __future__ import annotations

import errno

# errno -> what happened to {path} and what to do
_WORDS = {
    errno.EISDIR: "{path} is a folder where a file is expected: give the path of a file (for a checkpoint, "
                  "the checkpoint's folder itself, not a file or folder inside it)",
    errno.ENOTDIR: "a part of {path} is a file, not a folder: give a path whose parent folders are folders",
    errno.EINVAL: "{path} is not a name or place the file system accepts here (a character it forbids, "
                  "a folder moved into itself, or a special file): choose another path",
    errno.ENOENT: "{path} does not exist: check the path (and that its parent folder exists)",
    errno.EACCES: "permission denied for {path}: choose a place you can read and write, or change its "
                  "permissions",
    errno.EPERM: "the operation on {path} is not permitted: choose a place you own",
    errno.EEXIST: "{path} already exists: choose a new name, or remove it if it is yours",
    errno.ENOTEMPTY: "{path} is a folder that is not empty: choose a new or empty folder",
    errno.ENOSPC: "no space left on the disk that holds {path}: free some space or write elsewhere",
    errno.EDQUOT: "your disk quota is used up where {path} lives: free some space or write elsewhere",
    errno.EROFS: "{path} is on a read-only file system: write somewhere else",
    errno.ENAMETOOLONG: "the name {path} is too long for the file system: choose a shorter one",
    errno.ELOOP: "{path} goes through a symbolic link (or a loop of them), which is refused: give the "
                 "real path",
    errno.EMFILE: "too many files are open: close other programs or raise the limit (ulimit -n)",
    errno.ENXIO: "{path} is a device or socket with nothing behind it: give a regular file or folder",
    errno.EBUSY: "{path} is in use by another program: try again when it is done",
    errno.EXDEV: "{path} is on another disk than its destination: write within one file system",
}


def explain(e: OSError) -> str:
    """One sentence for ``e``: the path(s) it names and what to do, by errno; for an errno not
    listed, the system's own words and the path, never Python's ``[Errno N]`` prefix."""
    path = repr(str(e.filename)) if e.filename is not None else "the path"
    if e.filename2 is not None:
        path += f" (and {str(e.filename2)!r})"
    words = _WORDS.get(e.errno)
    if words:
        return words.format(path=path)
    reason = e.strerror or (str(e.args[0]) if e.args else type(e).__name__)
    return f"{reason} ({path})" if e.filename is not None else reason
