"""Markers: how the engine knows a folder, or a file in it, is its own (STYLE 15).

* A checkpoint holds ``.basin-explorer``: JSON with a random ``id`` and the ``files`` written into it
  (``atomic.directory`` writes it last, inside the scratch folder, so it appears with the checkpoint).
  Its own files are those listed, plus what ``measure`` adds later: ``measure/<table>.parquet`` for the
  tables the registry names, ``measure/summary.json`` and a killed write's ``.<file>.XXXXXXXX.tmp``.
  A checkpoint written before markers (no ``.basin-explorer``) counts only if its ``meta.json``
  describes a model and both safetensors files are there, and then only the files the format defines
  are its own. Anything else in the folder (a user's ``notes.txt``, a link) is foreign: ``--overwrite``
  refuses to replace a checkpoint that holds something foreign.
* A scratch folder of ``atomic.directory`` (``.<name>.XXXXXXXX.tmp`` / ``.old``) holds
  ``.basin-explorer-scratch`` naming that folder and a random id; only such folders are cleaned up.
* A sweep folder holds ``.basin-explorer-sweep`` (``mark_sweep``: a regular file starting "Basin
  Explorer", with a random id since the marker has one; the shipped zoo's has none), or, from before markers, an ``index.json`` whose every entry is a checkpoint of ours inside the folder.

Nothing here follows a symbolic link: a link is never a marker and never a file of ours.
"""
from __future__ import annotations

import json
import os
import re
import stat
import uuid
from pathlib import Path

CHECKPOINT_FORMAT = "basin-explorer-checkpoint"   # meta.json's "format"
MARKER = ".basin-explorer"                        # a checkpoint's list of its own files
SCRATCH = ".basin-explorer-scratch"               # in atomic.directory's scratch folders
SWEEP_MARKER = ".basin-explorer-sweep"
FORMAT_FILES = ("meta.json", "model.safetensors", "data.safetensors")
MAX_MARKER_BYTES = 1 << 20
_ID = re.compile(r"[0-9a-f]{32}")
TMP_FILE = r"\.{name}\.[A-Za-z0-9_]{{8}}\.tmp"    # atomic.write_file's scratch file of ``name``


def _read_small(p: Path, limit: int = MAX_MARKER_BYTES) -> str | None:
    """The text of the regular file ``p`` (never through a link), or None."""
    try:
        st = os.lstat(p)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _regular(p: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(p).st_mode)
    except OSError:
        return False


def _real_dir(p: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(p).st_mode)
    except OSError:
        return False


# ---------------------------------------------------------------- checkpoints

def mark_checkpoint(folder: Path) -> None:
    """Write the marker of the checkpoint being built in ``folder``: every regular file in it is ours."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if _regular(p) and p.name not in (MARKER, SCRATCH))
    (folder / MARKER).write_text(json.dumps({"written_by": "Basin Explorer", "id": uuid.uuid4().hex,
                                             "files": files}, indent=1) + "\n", encoding="utf-8")


def marked_files(folder: Path) -> set[str] | None:
    """The files the marker of ``folder`` lists as ours, or None without a valid marker."""
    text = _read_small(folder / MARKER)
    try:
        m = json.loads(text) if text is not None else None
    except ValueError:
        return None
    if not isinstance(m, dict) or not isinstance(m.get("id"), str) or not _ID.fullmatch(m["id"]):
        return None
    files = m.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) and _plain(f) for f in files):
        return None
    return set(files)


def _plain(rel: str) -> bool:
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def _meta(folder: Path) -> dict | None:
    text = _read_small(folder / "meta.json", 64 * MAX_MARKER_BYTES)
    try:
        meta = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == CHECKPOINT_FORMAT else None


def is_checkpoint(folder: Path) -> bool:
    """Whether ``folder`` is a checkpoint this engine wrote: its meta.json names the format and a valid
    marker lists it, or (written before markers) meta.json describes a model and the safetensors files
    are there. A one-key meta.json is not enough."""
    meta = _meta(folder)
    if meta is None:
        return False
    files = marked_files(folder)
    if files is not None:
        return "meta.json" in files
    return all(k in meta for k in ("model_config", "train_config", "tokenizer")) and \
        all(_regular(folder / f) for f in FORMAT_FILES)


def own_files(folder: Path) -> set[str]:
    """The files of the checkpoint ``folder`` that are ours (relative POSIX paths; see the module)."""
    files = marked_files(folder)
    ours = set(FORMAT_FILES) if files is None else files | {MARKER}
    from engine.measures import registry  # the measurement tables: imported only when a checkpoint is replaced
    names = [f"{n}.parquet" for n in registry.names()] + ["summary.json"]
    tmp = re.compile("|".join(TMP_FILE.format(name=re.escape(n)) for n in names))
    if _real_dir(folder / "measure"):
        ours |= {f"measure/{q.name}" for q in (folder / "measure").iterdir() if q.name in names or tmp.fullmatch(q.name)}
    return ours


def foreign(folder: Path) -> list[str]:
    """What in the checkpoint ``folder`` is not ours: files (links included) that ``own_files`` does not
    name, and empty folders other than ``measure/``, as relative paths."""
    ours, out = own_files(folder), []
    for d, dirs, files in os.walk(folder):  # never descends into a linked folder: it is listed as a file
        rel = Path(d).relative_to(folder).as_posix()
        names = sorted(dirs + files)
        if rel != "." and rel != "measure" and not names:
            out.append(rel + "/")
        for name in names:
            q, r = Path(d) / name, (name if rel == "." else f"{rel}/{name}")
            if not _real_dir(q) and not (r in ours and _regular(q)):
                out.append(r)
    return sorted(out)


# ---------------------------------------------------------------- scratch folders and sweeps

def mark_scratch(folder: Path) -> None:
    """Mark ``folder`` (just made by ``atomic.directory``) as our scratch, to be removed if left."""
    (folder / SCRATCH).write_text(f"{folder.name} {uuid.uuid4().hex}\n", encoding="utf-8")


def is_scratch(folder: Path) -> bool:
    """Whether ``folder`` is a real folder whose scratch marker names it."""
    text = _read_small(folder / SCRATCH, 4096) if _real_dir(folder) else None
    words = (text or "").split()
    return len(words) == 2 and words[0] == folder.name and _ID.fullmatch(words[1]) is not None


def mark_sweep(folder: Path, what: str) -> None:
    """Mark ``folder`` as a sweep (or What-if runs) folder of ours, unless it already is marked:
    ``Basin Explorer <what>`` and a random id, written atomically (a killed write leaves no half marker)."""
    if (folder / SWEEP_MARKER).exists():
        return
    from engine.store import atomic  # atomic imports this module: its writes mark their scratch folders
    atomic.write_text(folder / SWEEP_MARKER, f"Basin Explorer {what}\nid {uuid.uuid4().hex}\n")


def is_sweep(folder: Path) -> bool:
    """Whether ``folder`` is a sweep (or What-if runs) folder of ours (see the module)."""
    text = _read_small(folder / SWEEP_MARKER, 4096)
    if text is not None:
        return text.startswith("Basin Explorer")
    if not _regular(folder / "index.json"):
        return False
    from engine.runs.zoo import read_index
    try:
        entries = read_index(folder, all_seeds=True)
    except ValueError:
        return False
    return bool(entries) and all(_plain(e["path"]) and _inside(folder, e["path"]) and is_checkpoint(folder / e["path"])
                                 for e in entries)


def _inside(folder: Path, rel: str) -> bool:
    """Whether every folder from ``folder`` down to ``folder/rel`` is a real folder (no links)."""
    p = folder
    for part in rel.split("/"):
        p = p / part
        if not _real_dir(p):
            return False
    return True
