"""The models the Denoise page runs on one corrupted seed: the chosen zoo entry and, side by side, a
second one — another zoo entry, a what-if run, or one of the two exact ideal denoisers of the chosen
entry (``engine.references``): the ideal memorizer of its own N training sentences, and on the grammar
corpus the ideal generalizer of the grammar's whole language. Their trajectories are cached by plain
values (path, modification time, x0, t, seed), never by modules.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st
import torch

from . import data, widgets
from . import trajectory as tj

IDEAL = "ideal:"   # prefix of the choice keys of the ideal denoisers: 'ideal:memorizer', 'ideal:generalizer'
IDEAL_LABELS = {"memorizer": "ideal memorizer", "generalizer": "ideal generalizer"}


@st.cache_data(show_spinner="Denoising...", max_entries=64)
def cached_run(path: str, written: float, x0: tuple[int, ...], t: float, seed: int, greedy: bool,
               reference: str | None = None) -> tj.Run:
    """The trajectory of the model at ``path`` (saved at time ``written``: a retrained what-if run is a
    new key) — or of its ideal ``reference`` — from x0 corrupted at level t with ``seed``."""
    b = data.bundle(path)
    model = b.model if reference is None else data.ideal(path, reference)
    return tj.run(model, b.noise, torch.tensor(x0), t, seed, greedy=greedy)


def denoise_run(path: str, x0: list[int], t: float, seed: int, greedy: bool, reference: str | None = None) -> tj.Run:
    written = (Path(path) / "model.safetensors").stat().st_mtime
    return cached_run(path, written, tuple(x0), float(t), int(seed), bool(greedy), reference)


def references(corpus: str) -> list[str]:
    """The ideal denoisers that exist for a corpus: the memorizer always, the generalizer for the grammar."""
    return ["memorizer"] + (["generalizer"] if corpus == "grammar" else [])


def candidates(entry: widgets.Entry) -> pd.DataFrame:
    """Second models for side by side, keyed by ``key`` (a checkpoint path, or ``ideal:<name>``) with a
    ``label``: the ideal denoisers of ``entry`` first, then every zoo entry and what-if run but entry."""
    rows = [{"key": IDEAL + ref, "corpus": entry.corpus, "n": entry.n,
             "label": f"{IDEAL_LABELS[ref]} · " + (f"of these N = {entry.n:,} training sentences" if ref == "memorizer"
                                                  else "of the grammar's whole language") + " (exact, no training)"}
            for ref in references(entry.corpus)]
    frames = [pd.DataFrame(rows)]
    for root, tag in ((entry.root, "zoo"), (str(data.runs_root()), "your run")):
        try:
            df = data.entries(root)
        except ValueError as e:
            st.warning(f"Could not read the models in {root}: {e}")
            continue
        frames.append(df.assign(key=df["path"], label=[f"{c} · N = {n:,} ({tag})" for c, n in zip(df["corpus"], df["n"])]))
    df = pd.concat(frames, ignore_index=True)
    return df[df["key"] != entry.path].reset_index(drop=True)[["key", "label", "corpus", "n"]]


def default_choice(entry: widgets.Entry, cands: pd.DataFrame) -> int:
    """Index of the natural partner: the largest N of the same corpus, or the smallest if entry is it."""
    same = cands[(cands["corpus"] == entry.corpus) & ~cands["key"].str.startswith(IDEAL)]
    if same.empty:
        return 0
    return int(same["n"].idxmin() if entry.n >= same["n"].max() else same["n"].idxmax())


def reference_of(key: str) -> str | None:
    """The ideal denoiser a choice key names, or None for a checkpoint path."""
    return key[len(IDEAL):] if key.startswith(IDEAL) else None
