"""The sweep directory's index and results table, without torch: the app's home page reads only
these, so its first paint does not wait for torch to import.

    DIR/index.json                     [{"corpus": ..., "n": ..., "path": "grammar/n00016"}, ...]
    DIR/<corpus>/n<N>/                 a checkpoint + measure/ tables (+ projection)
"""
from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path

import pandas as pd

from . import atomic
from .summary import Summary

INDEX = "index.json"
CLEAN_T = 1e-4   # entropy levels below this are the clean input (measured at t = T_MIN = 1e-5)


def slug(corpus_name: str) -> str:
    """A directory name for a corpus: 'file:My notes.txt' -> 'file-my-notes-txt'."""
    return re.sub(r"[^a-z0-9]+", "-", corpus_name.lower()).strip("-") or "corpus"


def entry_dir(root: str | os.PathLike, corpus_name: str, n: int) -> Path:
    return Path(root) / slug(corpus_name) / f"n{n:05d}"


def read_index(root: str | os.PathLike) -> list[dict]:
    """Entries of ``root/index.json`` (empty when there is none); ValueError if it is malformed."""
    p = Path(root) / INDEX
    if not p.exists():
        return []
    try:
        entries = json.loads(p.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            raise TypeError("the index must be a JSON list")
        return [{"corpus": str(e["corpus"]), "n": int(e["n"]), "path": str(e["path"])} for e in entries]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{p} is not a valid zoo index ({e})") from None


def update_index(root: Path, corpus_name: str, n: int, path: Path) -> None:
    """Add or replace the entry (corpus, n); a lock file serialises sweeps sharing one directory."""
    root = Path(root)
    with open(root / ".index.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries = [e for e in read_index(root) if not (e["corpus"] == corpus_name and e["n"] == n)]
        entries.append({"corpus": corpus_name, "n": n, "path": Path(path).relative_to(root).as_posix()})
        entries.sort(key=lambda e: (e["corpus"], e["n"]))
        atomic.write_text(root / INDEX, json.dumps(entries, indent=1) + "\n")


def results_table(root: str | os.PathLike, corpus_name: str | None = None) -> pd.DataFrame:
    """One row per corpus × N × split × level from every measured entry's summary.json: recovery and
    exact match with their 95 % intervals, unstable rate, mean content entropy where measured at that
    level, the ideal memorizer's and (grammar) ideal generalizer's recovery, exact match and entropy at
    that level, the level radius, the basin-size quartiles and the fixed-point fraction; split
    'generated' rows carry the novelty fractions."""
    rows = []
    for e in read_index(root):
        if corpus_name is not None and e["corpus"] != corpus_name:
            continue
        if not (Path(root) / e["path"] / "measure" / "summary.json").exists():
            continue
        s = Summary.read(Path(root) / e["path"])
        ent = {(r["split"], round(r["t"], 6)): r["entropy"] for r in s.entropy}
        for r in s.levels:
            split, t = r["split"], r["t"]
            size = s.basin_size.get(split, {})
            row = {"corpus": e["corpus"], "n": e["n"], **r, "entropy": ent.get((split, round(t, 6))),
                   "basin_radius": s.basin_radius.get(split), "fixed_fraction": s.fixed_fraction.get(split),
                   "level_radius": s.level_radius.get(split), "size_median": size.get("median"),
                   "size_q1": size.get("q1"), "size_q3": size.get("q3")}
            for ref in ("memorizer", "generalizer"):
                ideal = s.level(split, t, f"ideal_{ref}") or {}
                for key in ("recovery_rate", "exact_match", "entropy"):
                    row[f"{ref}_{key}"] = ideal.get(key)
            rows.append(row)
        for (split, t), h in ent.items():
            if split == "generated" or t < CLEAN_T:
                rows.append({"corpus": e["corpus"], "n": e["n"], "split": split, "t": t, "entropy": h,
                             **({f"gen_{k}": v for k, v in s.generations.items()} if split == "generated" else {})})
    return pd.DataFrame(rows)


def vocab_size(path: str | os.PathLike) -> int:
    """V of the checkpoint at ``path``, read from its meta.json (no model is built)."""
    try:
        return int(json.loads((Path(path) / "meta.json").read_text(encoding="utf-8"))["model_config"]["vocab_size"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path} has no readable meta.json ({e})") from None
