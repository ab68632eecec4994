"""Cached access to the model zoo and to what-if runs. Everything is keyed by plain values (paths,
seeds, levels), never by tensors or modules (STYLE §10).

The zoo root is ``assets/zoo`` unless the environment variable BASIN_ZOO names another directory
(the tests point it at a tiny zoo). What-if models are written under BASIN_RUNS (default ``runs/``).
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

import engine
from engine.evaluation import load_evaluation
from engine.sweep import read_index, results_table

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


@st.cache_resource(show_spinner=False, max_entries=16)
def bundle(path: str) -> engine.Bundle:
    """A loaded checkpoint (model on CPU, eval mode)."""
    return engine.load(path)


@st.cache_data(show_spinner=False, max_entries=32)
def tables(path: str) -> dict[str, pd.DataFrame]:
    """The measurement tables of a checkpoint (recovery, basins, fixed_points, entropy, generations,
    and projection where present)."""
    ev = load_evaluation(path)
    out = dict(ev.tables)
    proj = Path(path) / "measure" / "projection.parquet"
    if proj.exists():
        out["projection"] = pd.read_parquet(proj)
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def summary(path: str) -> dict:
    return load_evaluation(path).summary
