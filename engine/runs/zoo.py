"""The sweep directory's index and results table, without torch: the app's home page reads only
these, so its first paint does not wait for torch to import.

    DIR/index.json                     [{"corpus": ..., "n": ..., "seed": ..., "path": "grammar/n00016"}, ...]
    DIR/<corpus>/n<N>/                 a checkpoint + measure/ tables (+ projection)
    DIR/<corpus>/n<N>-s<r>/            the same N with training seed --seed + r (sweep --seeds K, r < K)

An index entry without "seed" (the What-if page writes its runs so) has seed 0.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd

from engine.diffusion.schedule import CLEAN_T
from engine.store import atomic, outputs
from engine.measures.summary import Summary
from engine.measures.transition import with_transitions

INDEX = "index.json"


def slug(corpus_name: str) -> str:
    """A directory name for a corpus: 'file:My notes.txt' -> 'file-my-notes-txt'."""
    return re.sub(r"[^a-z0-9]+", "-", corpus_name.lower()).strip("-") or "corpus"


def entry_dir(root: str | os.PathLike, corpus_name: str, n: int, replicate: int = 0) -> Path:
    """Where a sweep keeps the model of N trained with seed --seed + ``replicate``: ``n00016``, and
    ``n00016-s1``, ``n00016-s2`` ... for the further seeds of ``--seeds K``."""
    return Path(root) / slug(corpus_name) / (f"n{n:05d}" + (f"-s{replicate}" if replicate else ""))


def read_index(root: str | os.PathLike, *, all_seeds: bool = False) -> list[dict]:
    """Entries of ``root/index.json`` as dicts corpus, n, seed, path (empty when there is none);
    ValueError if it is malformed. One entry per (corpus, N) — the one with the lowest seed, which
    the app shows — unless ``all_seeds``."""
    entries = [{**e, "seed": e.get("seed", 0)} for e in _entries(Path(root))]
    if not all_seeds:
        first = {}
        for e in sorted(entries, key=lambda e: e["seed"]):
            first.setdefault((e["corpus"], e["n"]), e)
        entries = [e for e in entries if first[(e["corpus"], e["n"])] is e]
    return entries


def _entries(root: Path) -> list[dict]:
    """index.json's entries, validated, with "seed" only where the file has it."""
    p = root / INDEX
    if not p.exists():
        return []
    try:
        entries = json.loads(p.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            raise TypeError("the index must be a JSON list")
        out = []
        for e in entries:
            entry = {"corpus": str(e["corpus"]), "n": int(e["n"]), "path": str(e["path"])}
            if "seed" in e:
                if not isinstance(e["seed"], int) or isinstance(e["seed"], bool) or e["seed"] < 0:
                    raise TypeError(f"seed must be a non-negative integer, got {e['seed']!r}")
                entry = {"corpus": entry["corpus"], "n": entry["n"], "seed": e["seed"], "path": entry["path"]}
            out.append(entry)
        return out
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{p} is not a valid zoo index ({e})") from None


def update_index(root: Path, corpus_name: str, n: int, path: Path, seed: int | None = None) -> None:
    """Add or replace the entry (corpus, n, seed), and any entry for the same path; ``seed`` None
    writes no seed (read as 0). A lock file serialises sweeps sharing one directory."""
    root = Path(root)
    rel = Path(path).relative_to(root).as_posix()
    with outputs.lock_file(root / ".index.lock"):  # never follows a link; refuses a file not ours
        entries = [e for e in _entries(root) if e["path"] != rel and
                   (e["corpus"], e["n"], e.get("seed", 0)) != (corpus_name, n, seed or 0)]
        entries.append({"corpus": corpus_name, "n": n, **({} if seed is None else {"seed": seed}), "path": rel})
        entries.sort(key=lambda e: (e["corpus"], e["n"], e.get("seed", 0)))
        atomic.write_text(root / INDEX, json.dumps(entries, indent=1) + "\n")


def results_table(root: str | os.PathLike, corpus_name: str | None = None) -> pd.DataFrame:
    """One row per corpus × N × seed × split × level from every measured entry's summary.json (every
    seed of the index; ``seed_summary`` gives the mean and spread across seeds): recovery and
    exact match with their 95 % intervals, unstable rate, mean content entropy where measured at that
    level, the ideal memorizer's and (grammar) ideal generalizer's recovery, exact match and entropy at
    that level, the level radius, the basin-size quartiles and the fixed-point fraction, the step the
    tables were measured with and the plug-in step's recovery and exact match where measured (t = 0.25);
    split 'generated' rows carry the novelty fractions and fluency of both steps (``_generated_columns``). The transition N* of the corpus at each level is
    stored beside them (``engine.measures.transition.with_transitions``: ``n_star_recovery_rate``,
    ``n_star_exact_match``)."""
    rows = []
    for e in read_index(root, all_seeds=True):
        if corpus_name is not None and e["corpus"] != corpus_name:
            continue
        if not (Path(root) / e["path"] / "measure" / "summary.json").exists():
            continue
        s = Summary.read(Path(root) / e["path"])
        ent = {(r["split"], round(r["t"], 6)): r["entropy"] for r in s.entropy}
        for r in s.levels:
            split, t = r["split"], r["t"]
            size = s.basin_size.get(split, {})
            plugin = s.level(split, t, "plugin_levels") or {}
            row = {"corpus": e["corpus"], "n": e["n"], "seed": e["seed"], **r, "entropy": ent.get((split, round(t, 6))),
                   "step": s.step, **{f"plugin_{k}": v for k, v in plugin.items() if k not in ("split", "t")},
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
                rows.append({"corpus": e["corpus"], "n": e["n"], "seed": e["seed"], "split": split, "t": t, "entropy": h,
                             **(_generated_columns(s) if split == "generated" else {})})
    return with_transitions(pd.DataFrame(rows))


def _generated_columns(s: Summary) -> dict:
    """The 'generated' row's columns: the step of the main tables, the novelty fractions with it
    (``gen_*``) and with the paper's plug-in step (``plugin_gen_*``), and the share of word bigrams and
    trigrams seen in the training pool, of generations (``*_seen``, ``*_seen_plugin``) and of test
    sentences (``*_seen_test``: the ceiling)."""
    out = {"step": s.step, **{f"gen_{k}": v for k, v in s.generations.items()},
           **{f"plugin_gen_{k}": v for k, v in s.plugin_generations.items()}}
    for split, suffix in (("generated", ""), ("generated_plugin", "_plugin"), ("test", "_test")):
        for order in ("bigram", "trigram"):
            if order in s.fluency.get(split, {}):
                out[f"{order}_seen{suffix}"] = s.fluency[split][order]
    return out


SEED_KEYS = ["corpus", "n", "split", "t"]
SEED_STATS = ("mean", "std", "min", "max", "count")


def seed_summary(table: pd.DataFrame, metrics: list[str] | None = None) -> pd.DataFrame:
    """Across seeds, per corpus × N × split × level of a ``results_table``: ``seeds`` (how many
    models) and, for each metric column (default: every numeric one), ``<metric>_mean``, ``_std``
    (sample standard deviation across seeds, NaN for one seed), ``_min``, ``_max`` and ``_count``
    (seeds where it is measured: NaNs are left out). ``recovery_rate_std`` is thus the spread between
    models, while ``recovery_std_mean`` is the mean spread between rows within one model."""
    if metrics is None:
        metrics = [c for c in table.columns if c not in (*SEED_KEYS, "seed") and pd.api.types.is_numeric_dtype(table[c])]
    columns = [*SEED_KEYS, "seeds", *(f"{m}_{s}" for m in metrics for s in SEED_STATS)]
    if table.empty:
        return pd.DataFrame(columns=columns)
    groups = table.groupby(SEED_KEYS, sort=True)
    stats = groups[metrics].agg(list(SEED_STATS))
    stats.columns = [f"{m}_{s}" for m, s in stats.columns]
    stats.insert(0, "seeds", groups["seed"].nunique())
    return stats.reset_index()[columns]


def collect_table(root: str | os.PathLike, name: str, corpus_name: str | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """The measurement table ``name`` (``measure/<name>.parquet``) of every entry of the zoo at ``root``
    (of one corpus, if given), concatenated with columns corpus and n in front, and the index entries
    (corpus, n, path) that lack it — measured before the table existed; ``python -m engine measure DIR
    --only NAME`` back-fills one. ValueError if a table is unreadable."""
    frames, missing = [], []
    for e in read_index(root):
        if corpus_name is not None and e["corpus"] != corpus_name:
            continue
        path = Path(root) / e["path"]
        p = path / "measure" / f"{name}.parquet"
        if not p.exists():
            missing.append({**e, "path": str(path)})
            continue
        try:
            df = pd.read_parquet(p)
        except (OSError, ValueError) as err:
            raise ValueError(f"unreadable measurement table {p} ({err})") from None
        df.insert(0, "corpus", e["corpus"])
        df.insert(1, "n", e["n"])
        frames.append(df)
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), missing


def vocab_size(path: str | os.PathLike) -> int:
    """V of the checkpoint at ``path``, read from its meta.json (no model is built)."""
    try:
        return int(json.loads((Path(path) / "meta.json").read_text(encoding="utf-8"))["model_config"]["vocab_size"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path} has no readable meta.json ({e})") from None
