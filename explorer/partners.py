"""The models the Denoise page runs on one corrupted seed: the chosen zoo entry and, side by side, a
second one — another zoo entry, a what-if run, or one of the two exact ideal denoisers of the chosen
entry (``engine.references``): the ideal memorizer of its own N training sentences, and on the grammar
corpus the ideal generalizer of the grammar's whole language. Their trajectories, outcomes and the
search for a seed on which the two end differently are cached by plain values (path, the files'
modification times, x0, t, seed), never by modules.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from engine import outcome as oc
from engine.corpora import references_for

from . import data, widgets
from . import trajectory as tj

IDEAL = "ideal:"   # prefix of the choice keys of the ideal denoisers: 'ideal:memorizer', 'ideal:generalizer'
IDEAL_LABELS = {"memorizer": "ideal memorizer", "generalizer": "ideal generalizer"}
SEARCH_CHUNK = 25   # seeds walked as one batch while searching


def _model(path: str, reference: str | None):
    return data.bundle(path).model if reference is None else data.ideal(path, reference)


@data.by_mtime(data.model_files, st.cache_data(show_spinner="Denoising...", max_entries=64))
def _run(path: str, x0: tuple[int, ...], t: float, seed: int, greedy: bool, reference: str | None) -> tj.Run:
    b = data.bundle(path)
    return tj.run(_model(path, reference), b.noise, torch.tensor(x0), t, seed, greedy=greedy)


def denoise_run(path: str, x0: list[int], t: float, seed: int, greedy: bool, reference: str | None = None) -> tj.Run:
    """The trajectory of the model at ``path`` — or of its ideal ``reference`` — from x0 corrupted at
    level t with ``seed`` (re-run when the checkpoint's files change: a retrained what-if run)."""
    return _run(path, tuple(int(i) for i in x0), float(t), int(seed), bool(greedy), reference)


@data.by_mtime(data.model_files, st.cache_resource(show_spinner=False, max_entries=16))
def _oracle(path: str):
    from engine.corpus import oracle_for

    b = data.bundle(path)
    return oracle_for(b.corpus, b.tokenizer)


def outcome(path: str, r: tj.Run) -> oc.Outcome:
    """Where a run ended, judged against the training sequences of the checkpoint at ``path``, with
    the membership oracle's verdict on x̂ where its corpus has one (the grammar)."""
    return oc.classify(r.x_hat, r.x0, data.bundle(path).train_ids.numpy(), _oracle(path))


def first_differing_seed(a: tuple[str, str | None], b: tuple[str, str | None], x0: list[int], t: float,
                         start: int, count: int, greedy: bool) -> int | None:
    """The first seed in start .. start + count - 1 on which model ``a`` and model ``b`` ((path,
    reference) each) end differently from x0 at level t (``engine.outcome.differ``), checked with the
    very runs the page shows; None if they agree on every seed of the range."""
    for lo in range(start, start + count, SEARCH_CHUNK):
        seeds = list(range(lo, min(lo + SEARCH_CHUNK, start + count)))
        for seed in _candidates(*a, *b, tuple(int(i) for i in x0), float(t), tuple(seeds), bool(greedy)):
            if oc.differ(outcome(a[0], denoise_run(a[0], x0, t, seed, greedy, a[1])),
                         outcome(b[0], denoise_run(b[0], x0, t, seed, greedy, b[1]))):
                return seed
    return None


@data.by_mtime(lambda path_a, ref_a, path_b, *_: data.model_files(path_a) + data.model_files(path_b),
               st.cache_data(show_spinner=False, max_entries=64))
def _candidates(path_a: str, ref_a: str | None, path_b: str, ref_b: str | None, x0: tuple[int, ...], t: float,
                seeds: tuple[int, ...], greedy: bool) -> list[int]:
    """The seeds of ``seeds`` on which the batched walks of the two models end differently."""
    finals, judged = [], []
    for path, ref in ((path_a, ref_a), (path_b, ref_b)):
        bundle = data.bundle(path)
        finals.append(tj.final_states(_model(path, ref), bundle.noise, torch.tensor(x0), t, seeds, greedy=greedy))
        judged.append((bundle.train_ids.numpy(), _oracle(path)))
    x0 = np.asarray(x0)
    return [s for i, s in enumerate(seeds)
            if oc.differ(*(oc.classify(f[i], x0, train, oracle) for f, (train, oracle) in zip(finals, judged)))]


def references(corpus: str) -> list[str]:
    """The ideal denoisers that exist for a corpus: the memorizer always, the generalizer for the grammar."""
    return references_for(corpus)


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


def default_choice(entry: widgets.Entry, cands: pd.DataFrame) -> str:
    """Key of the natural partner: the largest N of the same corpus, or the smallest if entry is it."""
    same = cands[(cands["corpus"] == entry.corpus) & ~cands["key"].str.startswith(IDEAL)]
    if same.empty:
        return str(cands["key"].iloc[0])
    return str(same.loc[same["n"].idxmin() if entry.n >= same["n"].max() else same["n"].idxmax(), "key"])


def reference_of(key: str) -> str | None:
    """The ideal denoiser a choice key names, or None for a checkpoint path."""
    return key[len(IDEAL):] if key.startswith(IDEAL) else None
