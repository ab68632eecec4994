"""The models the Denoise page runs on one corrupted seed: the chosen zoo entry and, side by side, a
second one — the same model with the other reverse step (``engine.diffusion.step``: exact or the paper's
plug-in step), another zoo entry, a what-if run, or one of the two exact ideal denoisers of the chosen
entry (``engine.measures.references``): the ideal memorizer of its own N training sentences, and on the grammar
corpus the ideal generalizer of the grammar's whole language. A run is named by a ``Spec`` that holds
the loaded model (``explorer.model.Model``) the page handed down. Their trajectories and the search for
a seed on which the two end differently are cached by plain values (the model's path and its files'
modification times, x0, t, seed), never by modules.
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st
import torch

from engine.measures import outcome as oc
from engine.text.corpora import references_for
from engine.diffusion.step import DEFAULT_STEP, STEP_LABELS, STEPS

from explorer import data, widgets
from explorer.budget import Budget
from explorer.model import Model, cached
from explorer import trajectory as tj

IDEAL = "ideal:"   # prefix of the choice keys of the ideal denoisers: 'ideal:memorizer', 'ideal:generalizer'
STEP = "step:"     # prefix of the choice key of the same model with another step: 'step:plugin'
Spec = tuple       # (Model, ideal reference or None, step): what one run denoises with
IDEAL_LABELS = {"memorizer": "ideal memorizer", "generalizer": "ideal generalizer"}
SEARCH_CHUNK = 25   # seeds walked as one batch while searching
SEARCH_SECONDS = 10  # the wall-clock budget of one search, named on its button


@cached(st.cache_data(show_spinner="Denoising...", max_entries=64))
def _run(m: Model, x0: tuple[int, ...], t: float, seed: int, greedy: bool, reference: str | None,
         step: str) -> tj.Run:
    return tj.run(m.denoiser(reference), m.noise, torch.tensor(x0), t, seed, greedy=greedy, step=step)


def denoise_run(m: Model, x0: list[int], t: float, seed: int, greedy: bool, reference: str | None = None,
                step: str = DEFAULT_STEP) -> tj.Run:
    """The trajectory of the model ``m`` — or of its ideal ``reference`` — from x0 corrupted at level t
    with ``seed``, each reverse step ``step`` (re-run when the checkpoint's files change: a retrained
    what-if run)."""
    return _run(m, tuple(int(i) for i in x0), float(t), int(seed), bool(greedy), reference, str(step))


def outcome(m: Model, r: tj.Run) -> oc.Outcome:
    """Where a run ended, judged against the training sequences of ``m``, with the membership oracle's
    verdict on x̂ where its corpus has one (the grammar)."""
    return oc.classify(r.x_hat, r.x0, m.train_ids.numpy(), m.oracle)


@dataclasses.dataclass(frozen=True)
class Search:
    """Where a search for a seed on which two runs end differently got to: it asked for the seeds
    ``start`` .. ``stop`` and checked ``start`` .. ``start + tried − 1``; ``seed`` is the first on
    which they differ, None if they agree on every one checked."""
    seed: int | None
    start: int
    stop: int
    tried: int

    @property
    def ran_out(self) -> bool:
        """True when the time budget ended the search before it found a seed or reached ``stop``."""
        return self.seed is None and self.start + self.tried <= self.stop

    @property
    def resume(self) -> int:
        """The first seed not yet checked."""
        return self.start + self.tried


def first_differing_seed(a: Spec, b: Spec, x0: list[int], t: float, start: int, count: int, greedy: bool,
                         seconds: float = math.inf, clock: Callable[[], float] = time.monotonic,
                         report: Callable[[int, int, float], None] | None = None) -> Search:
    """Search start .. start + count − 1 for the first seed on which runs ``a`` and ``b`` ((Model,
    reference, step) each) end differently from x0 at level t (``engine.measures.outcome.differ``), checked
    with the very runs the page shows, ``SEARCH_CHUNK`` seeds per batched walk, within ``seconds``
    of wall-clock time by ``clock`` (``budget.Budget``: no batch starts that would end past it).
    ``report(tried, count, seconds)`` after each batch."""
    budget = Budget(seconds, clock)
    tried = 0
    for lo in range(start, start + count, SEARCH_CHUNK):
        if not budget.fits():
            break
        seeds = list(range(lo, min(lo + SEARCH_CHUNK, start + count)))
        with data.live_threads():
            hits = _candidates(a, b, tuple(int(i) for i in x0), float(t), tuple(seeds), bool(greedy))
            for seed in hits:
                if oc.differ(outcome(a[0], denoise_run(a[0], x0, t, seed, greedy, a[1], a[2])),
                             outcome(b[0], denoise_run(b[0], x0, t, seed, greedy, b[1], b[2]))):
                    return Search(seed, start, start + count - 1, seed - start + 1)
        tried += len(seeds)
        if report is not None:
            report(tried, count, budget.elapsed())
    return Search(None, start, start + count - 1, tried)


def _candidates(a: Spec, b: Spec, x0: tuple[int, ...], t: float, seeds: tuple[int, ...], greedy: bool) -> list[int]:
    """The seeds of ``seeds`` on which the batched walks of the two runs end differently."""
    (ma, ref_a, step_a), (mb, ref_b, step_b) = a, b
    return _differing(ma, ref_a, step_a, mb.key, ref_b, step_b, x0, t, seeds, greedy, _b=mb)


@cached(st.cache_data(show_spinner=False, max_entries=64))
def _differing(ma: Model, ref_a: str | None, step_a: str, key_b: tuple, ref_b: str | None, step_b: str,
               x0: tuple[int, ...], t: float, seeds: tuple[int, ...], greedy: bool, _b: Model) -> list[int]:
    finals, judged = [], []
    for m, ref, step in ((ma, ref_a, step_a), (_b, ref_b, step_b)):
        finals.append(tj.final_states(m.denoiser(ref), m.noise, torch.tensor(x0), t, seeds, greedy=greedy,
                                      step=step))
        judged.append((m.train_ids.numpy(), m.oracle))
    x0 = np.asarray(x0)
    return [s for i, s in enumerate(seeds)
            if oc.differ(*(oc.classify(f[i], x0, train, oracle) for f, (train, oracle) in zip(finals, judged)))]


def references(corpus: str) -> list[str]:
    """The ideal denoisers that exist for a corpus: the memorizer always, the generalizer for the grammar."""
    return references_for(corpus)


def other_step(step: str) -> str:
    """The reverse step that is not ``step``."""
    return next(s for s in STEPS if s != step)


def candidates(entry: widgets.Entry, step: str = DEFAULT_STEP) -> pd.DataFrame:
    """Second models for side by side, keyed by ``key`` (a checkpoint path, ``step:<step>`` or
    ``ideal:<name>``) with a ``label``: the same model with the other reverse step than ``step``, the
    ideal denoisers of ``entry``, then every zoo entry and what-if run but entry."""
    other = other_step(step)
    rows = [{"key": STEP + other, "corpus": entry.corpus, "n": entry.n,
             "label": f"this model (N = {entry.n:,}) with the {STEP_LABELS[other]}"}]
    rows += [{"key": IDEAL + ref, "corpus": entry.corpus, "n": entry.n,
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
    same = cands[(cands["corpus"] == entry.corpus) & ~cands["key"].str.startswith(IDEAL)
                 & ~cands["key"].str.startswith(STEP)]
    if same.empty:
        return str(cands["key"].iloc[0])
    return str(same.loc[same["n"].idxmin() if entry.n >= same["n"].max() else same["n"].idxmax(), "key"])


def reference_of(key: str) -> str | None:
    """The ideal denoiser a choice key names, or None for a checkpoint path."""
    return key[len(IDEAL):] if key.startswith(IDEAL) else None


def step_of(key: str) -> str | None:
    """The reverse step a ``step:<step>`` choice key names, or None for any other key."""
    return key[len(STEP):] if key.startswith(STEP) and key[len(STEP):] in STEPS else None
