"""Cached access to the model zoo and to what-if runs. Everything is keyed by plain values (paths,
seeds, levels), never by tensors or modules (STYLE §10), and by the modification times of the files
it was read from: a back-filled table, a re-measured model or a what-if run that replaces an older
one is read again on the next run of any page, with no cache to clear and no restart.

The zoo root is ``assets/zoo`` unless the environment variable BASIN_ZOO names another directory
(the tests point it at a tiny zoo). What-if models are written under BASIN_RUNS (default ``runs/``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from engine.measures.summary import Summary
from engine.runs.zoo import INDEX, collect_table, read_index, results_table, vocab_size as _vocab_size

# engine.models.checkpoint / engine.measures.evaluation import torch: they are imported inside the loaders that need
# them, so the home page (index + results table only) paints without waiting for torch.

REPO = Path(__file__).resolve().parent.parent
MODEL_FILES = ("meta.json", "model.safetensors", "data.safetensors")


def zoo_root() -> Path:
    return Path(os.environ.get("BASIN_ZOO", REPO / "assets" / "zoo"))


def runs_root() -> Path:
    return Path(os.environ.get("BASIN_RUNS", REPO / "runs"))


def stamp(paths) -> tuple:
    """The modification times (ns) of ``paths``, None for a missing one; a directory counts as its
    newest file and the number of its files (an atomic write renames a new file into it)."""
    out = []
    for p in map(Path, paths):
        try:
            if p.is_dir():
                times = [e.stat().st_mtime_ns for e in os.scandir(p) if e.is_file()]
                out.append((len(times), max(times, default=0)))
            else:
                out.append(p.stat().st_mtime_ns)
        except OSError:
            out.append(None)
    return tuple(out)


def by_mtime(files: Callable[..., list], cache):
    """Cache a loader with ``cache`` (a configured ``st.cache_data`` / ``st.cache_resource``), keyed by
    its arguments and by ``stamp(files(*args))``: a loader is never cleared by name, a changed file is
    a new key (the old entry ages out under ``max_entries``)."""
    def wrap(fn):
        @functools.wraps(fn)
        def keyed(*args, stamps):
            return fn(*args)

        cached = cache(keyed)

        @functools.wraps(fn)
        def loader(*args):
            return cached(*args, stamps=stamp(files(*args)))

        return loader
    return wrap


def model_files(path: str, *_) -> list:
    """The files of the checkpoint at ``path`` (the keys of everything read or computed from its model)."""
    return [Path(path) / f for f in MODEL_FILES]


def _measured(path: str, *_) -> list:
    return [Path(path) / "measure"]


def _index_files(root: str) -> list:
    return [Path(root) / INDEX]


def _summaries(root: str, corpus: str) -> list:
    try:
        entries = read_index(root, all_seeds=True)
    except ValueError:
        entries = []
    return [Path(root) / INDEX] + [Path(root) / e["path"] / "measure" / "summary.json" for e in entries
                                   if e["corpus"] == corpus]


@by_mtime(_index_files, st.cache_data(show_spinner=False, max_entries=16))
def entries(root: str) -> pd.DataFrame:
    """The index of a sweep directory: corpus, n, path (absolute), sorted by corpus then N."""
    rows = [{**e, "path": str(Path(root) / e["path"])} for e in read_index(root)]
    return pd.DataFrame(rows, columns=["corpus", "n", "path"]).sort_values(["corpus", "n"], ignore_index=True)


@by_mtime(_summaries, st.cache_data(show_spinner=False, max_entries=16))
def transition(root: str, corpus: str) -> pd.DataFrame:
    """The sweep results table (one row per N × seed × split × level, with N* per level) of one corpus."""
    return results_table(root, corpus)


def zoo_table(root: str, corpus: str, name: str) -> tuple[pd.DataFrame, list[dict]]:
    """The table ``name`` of every zoo entry of ``corpus`` (columns corpus, n first) and the entries
    that lack it (``engine.runs.zoo.collect_table``); re-read when one of the files changes (a back-fill)."""
    return _zoo_table(root, corpus, name)


def _table_files(root: str, corpus: str, name: str) -> list:
    return [Path(root) / INDEX] + [Path(root) / e["path"] / "measure" / f"{name}.parquet" for e in read_index(root)]


@by_mtime(_table_files, st.cache_data(show_spinner=False, max_entries=16))
def _zoo_table(root: str, corpus: str, name: str) -> tuple[pd.DataFrame, list[dict]]:
    return collect_table(root, name, corpus)


@by_mtime(model_files, st.cache_resource(show_spinner=False, max_entries=16))
def bundle(path: str):
    """A loaded checkpoint, ``engine.Bundle`` (model on CPU, eval mode). Pages hand down
    ``explorer.model.load``'s object, which wraps this one."""
    from engine.models.checkpoint import load

    return load(path)


@by_mtime(lambda path: [Path(path) / "meta.json"], st.cache_data(show_spinner=False, max_entries=64))
def vocab_size(path: str) -> int:
    """V of a checkpoint, from its meta.json (no model is loaded)."""
    return _vocab_size(path)


@by_mtime(_measured, st.cache_data(show_spinner=False, max_entries=32))
def tables(path: str) -> dict[str, pd.DataFrame]:
    """The measurement tables of a checkpoint (recovery, basins, fixed_points, entropy, generations,
    and projection where present)."""
    from engine.measures.evaluation import load_evaluation

    out = dict(load_evaluation(path).tables)
    proj = Path(path) / "measure" / "projection.parquet"
    if proj.exists():
        out["projection"] = pd.read_parquet(proj)
    return out


@by_mtime(lambda path: [Path(path) / "measure" / "summary.json"], st.cache_data(show_spinner=False, max_entries=32))
def summary(path: str) -> dict:
    """``measure/summary.json`` of a checkpoint (headline numbers and the MeasureConfig used), read by
    the engine's one typed reader (``engine.measures.summary.Summary``); ValueError if missing or malformed."""
    return dataclasses.asdict(Summary.read(path))


def table_step(path: str, name: str) -> str:
    """The reverse step the table ``name`` of a checkpoint was measured with (``Summary.table_step``)."""
    return Summary.from_dict(summary(path)).table_step(name)


def generations(path: str, step: str) -> pd.DataFrame | None:
    """The stored generations of a checkpoint taken with the reverse ``step``: the ``generations``
    table when its tables were measured with that step, ``plugin_generations`` for the paper's plug-in
    step beside exact ones; None when none was measured with it."""
    measured = table_step(path, "generations")
    name = "generations" if step == measured else ("plugin_generations" if step == "plugin" else None)
    return tables(path).get(name) if name else None


def pool_draw(path: str, step: str, seed: int, count: int) -> pd.DataFrame:
    """``count`` of the stored generations with the reverse ``step`` (all of them if fewer are stored),
    drawn without replacement by ``numpy.random.Generator(seed).choice``, in the order drawn:
    instant, and the same seed draws the same rows. ValueError when none were measured with ``step``."""
    import numpy as np

    pool = generations(path, step)
    if pool is None or pool.empty:
        raise ValueError(f"this model has no stored generations with the {step} step")
    rows = np.random.default_rng(int(seed)).choice(len(pool), size=min(int(count), len(pool)), replace=False)
    return pool.iloc[rows].reset_index(drop=True)


LIVE_CHUNK = 8   # fresh samples denoised per cached call: the progress bar moves once per chunk


def _generation_files(path: str, *_) -> list:
    return model_files(path) + [Path(path) / "measure" / "summary.json"]


@contextlib.contextmanager
def live_threads():
    """Run a live action with the torch threads the machine can spare (``budget.spare_threads``)."""
    import torch

    from explorer.budget import spare_threads

    before = torch.get_num_threads()
    torch.set_num_threads(spare_threads(before))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@by_mtime(_generation_files, st.cache_data(show_spinner=False, max_entries=128))
def _live_chunk(path: str, seed: int, chunk: int, step: str) -> tuple[pd.DataFrame, bytes]:
    """Samples ``chunk · LIVE_CHUNK`` .. ``(chunk + 1) · LIVE_CHUNK − 1`` of the stream that one torch
    generator seeded with ``seed`` denoises from noise, labelled like the stored generations, and the
    generator's state after them (where chunk + 1 goes on)."""
    import torch

    from engine.text.corpus import oracle_for
    from engine.measures.evaluation import MeasureConfig
    from engine.measures.novelty import generate_and_label

    b = bundle(path)
    try:
        steps = summary(path).get("measure_config", {}).get("gen_steps_per_unit")
    except ValueError:
        steps = None
    gen = torch.Generator()
    if chunk == 0:
        gen.manual_seed(int(seed))
    else:
        gen.set_state(torch.frombuffer(bytearray(_live_chunk(path, seed, chunk - 1, step)[1]), dtype=torch.uint8))
    with live_threads():
        table = generate_and_label(b, LIVE_CHUNK, gen, int(steps or MeasureConfig().gen_steps_per_unit), step,
                                   oracle_for(b.corpus, b.tokenizer))
    table["sample"] += chunk * LIVE_CHUNK
    return table, gen.get_state().numpy().tobytes()


def live_generations(path: str, seed: int, count: int, step: str = "exact",
                     report: Callable[[int, int, float], None] | None = None,
                     clock: Callable[[], float] = time.monotonic) -> pd.DataFrame:
    """``count`` fresh samples from the model at ``path`` with the reverse ``step``, on the
    measurements' generation grid, labelled like the stored generations (d1, d2, twin, category,
    text): the first ``count`` of the stream of one torch generator seeded once with ``seed`` and
    denoised ``LIVE_CHUNK`` at a time, each chunk its own cached call. The same seed gives the same
    sentences, and a larger count only adds sentences. ``report(done, count, seconds)`` after each
    chunk (seconds since the start by ``clock``)."""
    start, parts = clock(), []
    for chunk in range(-(-int(count) // LIVE_CHUNK)):
        parts.append(_live_chunk(path, int(seed), chunk, str(step))[0])
        if report is not None:
            report(min((chunk + 1) * LIVE_CHUNK, int(count)), int(count), clock() - start)
    return pd.concat(parts, ignore_index=True).head(int(count)) if parts else pd.DataFrame()
