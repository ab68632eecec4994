"""Cached access to the model zoo and to what-if runs. Everything is keyed by plain values (paths,
seeds, levels), never by tensors or modules (STYLE §10).

The zoo root is ``assets/zoo`` unless the environment variable BASIN_ZOO names another directory
(the tests point it at a tiny zoo). What-if models are written under BASIN_RUNS (default ``runs/``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from engine.zoo import collect_table, read_index, results_table, vocab_size as _vocab_size

# engine.checkpoint / engine.evaluation import torch: they are imported inside the loaders that need
# them, so the home page (index + results table only) paints without waiting for torch.

REPO = Path(__file__).resolve().parent.parent


def zoo_root() -> Path:
    return Path(os.environ.get("BASIN_ZOO", REPO / "assets" / "zoo"))


def runs_root() -> Path:
    return Path(os.environ.get("BASIN_RUNS", REPO / "runs"))


@st.cache_data(show_spinner=False)
def entries(root: str) -> pd.DataFrame:
    """The index of a sweep directory: corpus, n, path (absolute), sorted by corpus then N."""
    rows = [{**e, "path": str(Path(root) / e["path"])} for e in read_index(root)]
    return pd.DataFrame(rows, columns=["corpus", "n", "path"]).sort_values(["corpus", "n"], ignore_index=True)


@st.cache_data(show_spinner=False)
def transition(root: str, corpus: str) -> pd.DataFrame:
    """The sweep results table (one row per N × split × level) of one corpus."""
    return results_table(root, corpus)


def zoo_table(root: str, corpus: str, name: str) -> tuple[pd.DataFrame, list[dict]]:
    """The table ``name`` of every zoo entry of ``corpus`` (columns corpus, n first) and the entries
    that lack it (``engine.zoo.collect_table``); re-read when one of the files changes (a back-fill)."""
    stamps = []
    for e in read_index(root):
        p = Path(root) / e["path"] / "measure" / f"{name}.parquet"
        stamps.append((e["path"], p.stat().st_mtime if p.exists() else None))
    return _zoo_table(root, corpus, name, tuple(stamps))


@st.cache_data(show_spinner=False, max_entries=16)
def _zoo_table(root: str, corpus: str, name: str, stamps: tuple) -> tuple[pd.DataFrame, list[dict]]:
    return collect_table(root, name, corpus)


@st.cache_resource(show_spinner=False, max_entries=16)
def bundle(path: str):
    """A loaded checkpoint, ``engine.Bundle`` (model on CPU, eval mode)."""
    from engine.checkpoint import load

    return load(path)


@st.cache_resource(show_spinner="Building the ideal denoiser...", max_entries=8)
def ideal(path: str, name: str):
    """The ideal ``name`` ('memorizer': of the checkpoint's own training set; 'generalizer': of the
    grammar) for the checkpoint at ``path``, an nn.Module with the network's interface."""
    from engine.references import reference_model

    return reference_model(name, bundle(path))


@st.cache_data(show_spinner=False, max_entries=64)
def vocab_size(path: str) -> int:
    """V of a checkpoint, from its meta.json (no model is loaded)."""
    return _vocab_size(path)


@st.cache_data(show_spinner=False, max_entries=32)
def tables(path: str) -> dict[str, pd.DataFrame]:
    """The measurement tables of a checkpoint (recovery, basins, fixed_points, entropy, generations,
    and projection where present)."""
    from engine.evaluation import load_evaluation

    out = dict(load_evaluation(path).tables)
    proj = Path(path) / "measure" / "projection.parquet"
    if proj.exists():
        out["projection"] = pd.read_parquet(proj)
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def summary(path: str) -> dict:
    """``measure/summary.json`` of a checkpoint (headline numbers and the MeasureConfig used)."""
    p = Path(path) / "measure" / "summary.json"
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"no readable measurements in {p.parent} ({e}); run `python -m engine measure`") from None


@st.cache_data(show_spinner=False, max_entries=64)
def sentences(path: str, split: str) -> list[str]:
    """Decoded sentences of one split of a checkpoint: ``train`` / ``test`` from its token ids,
    ``generated`` from the stored generations (index = the ``example`` of the measurement tables)."""
    if split == "generated":
        gens = tables(path).get("generations")
        return [] if gens is None else [str(s) for s in gens["text"]]
    b = bundle(path)
    ids = {"train": b.train_ids, "test": b.test_ids}[split]
    return [b.tokenizer.decode(r) for r in ids.tolist()]


@st.cache_data(show_spinner=False, max_entries=64)
def tokens(path: str, split: str) -> list[list[str]]:
    """One token string per position (specials included) for every sequence of a split (heatmap hover)."""
    b = bundle(path)
    if split == "generated":
        gens = tables(path).get("generations")
        rows = [] if gens is None else [list(r) for r in gens["ids"]]
    else:
        rows = {"train": b.train_ids, "test": b.test_ids}[split].tolist()
    return [b.tokenizer.tokens(r) for r in rows]


@st.cache_data(show_spinner=False, max_entries=32)
def live_generations(path: str, seed: int, count: int) -> pd.DataFrame:
    """``count`` fresh samples from the model at ``path`` with generator seed ``seed``, labelled like the
    stored generations (d1, d2, twin, category, text), on the measurements' generation grid."""
    import torch

    from engine.corpus import oracle_for
    from engine.evaluation import MeasureConfig
    from engine.measure import novelty_table
    from engine.sample import generate

    b = bundle(path)
    steps = summary(path).get("measure_config", {}).get("gen_steps_per_unit", MeasureConfig().gen_steps_per_unit)
    gen = torch.Generator().manual_seed(int(seed))
    samples = generate(b.model, int(count), b.noise, b.config.seq_len, generator=gen, steps_per_unit=int(steps))
    return novelty_table(samples, b.train_ids, oracle_for(b.corpus, b.tokenizer), b.tokenizer)
