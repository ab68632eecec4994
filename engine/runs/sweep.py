"""The dataset-size sweep (PROTOCOL §6): K models per N on nested subsets, each measured.

Layout of a sweep directory (the model zoo in ``assets/zoo`` is one)::

    DIR/index.json                  [{"corpus": ..., "n": ..., "seed": ..., "path": "grammar/n00016"}, ...]
    DIR/<corpus>/n<N>/              seed --seed: a checkpoint (engine.load) + measure/ tables + projection
    DIR/<corpus>/n<N>-s<r>/         with --seeds K: seed --seed + r, r = 1 .. K-1
    DIR/<corpus>/sweep.csv          the results table: one row per N × seed × split × level
    DIR/<corpus>/sweep-seeds.csv    with several seeds: mean, std, min, max, count across seeds

The work is a list of tasks, one training per (N, seed) and one measurement per checkpoint
(``engine.runs.entry``: ``fit``, ``measure_bundle``), run by a backend (``engine.runs.backends``:
this process, or Ray). Tasks compute and return; this process is the one writer: it saves each
trained checkpoint (``checkpoint.save``, atomic), then the measured tables (``save_evaluation``,
each atomic), then the index entry, and sweep.csv at the end, so a crash or a cancelled task leaves
no partial entry. Resumable: a checkpoint that loads is not retrained, and only
its missing, damaged (unreadable, or without the registry's columns) or stale tables are measured,
all of them when summary.json is gone; a killed write's ``.tmp`` files are removed. A failed task is
retried by the backend, then reported (``SweepFailed``, raised once everything else has finished and
been written), and so is an entry that ends up without a row in sweep.csv.

The sweep folder carries the marker ``outputs.SWEEP_MARKER`` (``markers.mark_sweep``); a folder that
is neither new, empty nor a sweep is refused before any work (``outputs.claim``), and so is an entry
place that holds anything but a checkpoint.
"""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from engine.store import atomic, markers, outputs
from engine.models import checkpoint
from engine.runs.backends import LocalBackend, Task, TaskOutcome
from engine.runs.entry import (Trained, fit, loads, measure_bundle, measure_entry, no_link,  # noqa: F401 (re-exported)
                               remove_abandoned, to_measure, train_entry, valid_tables)
from engine.text.corpus import Corpus
from engine.measures.evaluation import MeasureConfig, save_evaluation
from engine.models.model import ModelConfig
from engine.models.train import MAX_SEED, TrainConfig, check_fits, memory_estimate
from engine.runs.zoo import (INDEX, entry_dir, read_index, results_table, seed_summary, slug,  # noqa: F401 (re-exported)
                             update_index)


@dataclass(frozen=True)
class Plan:
    """One corpus's part of a sweep: ``seeds`` models per N in ``sizes`` (training seeds
    ``train_cfg.seed`` + 0 .. seeds-1), each measured with ``measure_cfg``."""

    corpus: Corpus
    sizes: tuple[int, ...]
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    measure_cfg: MeasureConfig
    seeds: int = 1
    half: bool = False          # fp16 weights
    projection: bool = True     # False: leave out the UMAP projection


class SweepFailed(RuntimeError):
    """Some tasks failed after their retries; everything else was finished and written.
    ``failures``: (task label, error) pairs; ``tables``: corpus name -> results table."""

    def __init__(self, failures: list[tuple[str, str]], tables: dict[str, pd.DataFrame]):
        self.failures, self.tables = failures, tables
        super().__init__(f"{len(failures)} task(s) failed: " + "; ".join(f"{k}: {e}" for k, e in failures))


OnTask = Callable[[int, int, "TaskOutcome | None"], None]   # (tasks done, total, what just finished)


def run_sweep(corpus: Corpus, sizes: list[int], root: str | os.PathLike, model_cfg: ModelConfig,
              train_cfg: TrainConfig, measure_cfg: MeasureConfig, *, half: bool = False,
              projection: bool = True, seeds: int = 1, backend=None, on_train_progress: Callable | None = None,
              on_size: Callable[[int, str], None] | None = None, on_task: OnTask | None = None) -> pd.DataFrame:
    """Train, measure and project ``seeds`` models per N in ``sizes``; returns (and writes) the results
    table. ``run_sweeps`` with one Plan: see there for ``backend`` and the callbacks."""
    plan = Plan(corpus, tuple(sizes), model_cfg, train_cfg, measure_cfg, seeds, half, projection)
    return run_sweeps([plan], root, backend=backend, on_train_progress=on_train_progress, on_size=on_size,
                      on_task=on_task)[corpus.name]


def run_sweeps(plans: list[Plan], root: str | os.PathLike, *, backend=None,
               on_train_progress: Callable | None = None, on_size: Callable[[int, str], None] | None = None,
               on_task: OnTask | None = None) -> dict[str, pd.DataFrame]:
    """Run the sweeps of ``plans`` (one per corpus) into ``root`` as one pool of tasks on ``backend``
    (default: ``LocalBackend()``, this process, one torch thread); returns corpus -> results table.

    on_size(n, stage) is told each stage ("train", "measure", "done") of an entry; on_task(done,
    total, outcome) after each task (and once before any, with outcome None); on_train_progress(step,
    total, loss) during training on the local backend. Raises SweepFailed at the end if tasks failed."""
    plans = [replace(p, sizes=tuple(sorted(set(p.sizes)))) for p in plans]
    names = [p.corpus.name for p in plans]
    if len(set(names)) != len(names):
        raise ValueError(f"a sweep holds one plan per corpus, got {names}")
    for p in plans:
        if not p.sizes:
            raise ValueError("no training-set sizes given: pass at least one N, e.g. --sizes 16,64")
        if not 1 <= p.seeds or p.train_cfg.seed + p.seeds - 1 > MAX_SEED:
            raise ValueError(f"--seeds must be at least 1 and --seed + --seeds - 1 at most {MAX_SEED}, "
                             f"got --seed {p.train_cfg.seed} --seeds {p.seeds}")
    backend = backend or LocalBackend()
    with outputs.claim(root, outputs.SWEEP) as root:
        for p in plans:
            no_link(root / slug(p.corpus.name))
            for n in p.sizes:
                p.corpus.subset(n)  # fail early on an N larger than the pool
                for r in range(p.seeds):
                    path = entry_dir(root, p.corpus.name, n, r)
                    no_link(path, path / "measure")
                    if not loads(path):
                        outputs.check(path, outputs.CHECKPOINT, overwrite=True)  # nothing foreign in the way
        atomic.remove_abandoned(root / INDEX)  # a killed index write's
        markers.mark_sweep(root, "sweep: entries may be replaced")
    # one writer per corpus of a sweep; sweeps of two corpora may share the folder (index.json has its lock)
    with ExitStack() as stack:
        for p in plans:
            stack.enter_context(outputs.lock(root / slug(p.corpus.name)))
        return _Driver(root, plans, backend, on_train_progress, on_size, on_task).run()


@dataclass
class _Entry:
    plan: Plan
    n: int
    seed: int
    path: Path

    def label(self, kind: str) -> str:
        return f"{kind} {self.plan.corpus.name} N={self.n} seed={self.seed}"


class _Driver:
    """Plans the tasks, feeds them to the backend (a measurement before any queued training, so
    entries finish early) and writes every result as it arrives."""

    def __init__(self, root, plans, backend, on_train_progress, on_size, on_task):
        self.root, self.plans, self.backend = root, plans, backend
        self.on_train_progress, self.on_size, self.on_task = on_train_progress, on_size, on_task
        self.ready: deque[Task] = deque()
        self.failures: list[tuple[str, str]] = []

    def run(self) -> dict[str, pd.DataFrame]:
        self.total, done = 0, 0
        for p in self.plans:
            for n in p.sizes:
                for r in range(p.seeds):
                    e = _Entry(p, n, p.train_cfg.seed + r, entry_dir(self.root, p.corpus.name, n, r))
                    if loads(e.path):
                        self._measure_or_index(e, checkpoint.load(e.path), first=False)
                    else:
                        self.ready.append(self._train_task(e))
                        self.total += 2  # its measurement follows
        self._check_resources()
        self._report(0, None)
        try:
            while self.ready or self.backend.pending():
                while self.ready and self.backend.has_room():
                    task = self.ready.popleft()
                    kind, e = task.key
                    self._stage(e, kind)
                    self.backend.submit(task)
                outcome = self.backend.wait()
                done += 1
                self._finish(outcome)
                self._report(done, outcome)
        except BaseException:
            self.backend.cancel()  # nothing of an unfinished task was written
            raise
        tables = {}
        for p in self.plans:
            tables[p.corpus.name] = table = results_table(self.root, p.corpus.name)
            self._check_listed(p, table)
            folder = self.root / slug(p.corpus.name)
            atomic.write_file(folder / "sweep.csv", lambda f, t=table: t.to_csv(f, index=False))
            if len(table) and table.groupby("n")["seed"].nunique().max() > 1:
                spread = seed_summary(table)
                atomic.write_file(folder / "sweep-seeds.csv", lambda f, t=spread: t.to_csv(f, index=False))
        if self.failures:
            raise SweepFailed(self.failures, tables)
        return tables

    def _train_task(self, e: _Entry) -> Task:
        p = e.plan
        cfg = replace(p.train_cfg, seed=e.seed)
        progress = self.on_train_progress if self.backend.local else None
        args = (p.corpus.encode(p.corpus.subset(e.n)), p.model_cfg, cfg, progress)
        return Task(e.label("train"), JOBS["train"], args,
                    self.backend.resources(True, memory_estimate(p.model_cfg, cfg)), key=("train", e))

    def _measure_or_index(self, e: _Entry, b, first: bool = True) -> None:
        """Queue the measurement of what ``e`` lacks (``first`` in line), or file it in the index."""
        valid = valid_tables(e.path)
        todo = [m for m in to_measure(e.path, b, e.plan.measure_cfg, valid) if e.plan.projection or m != "projection"]
        if not todo:  # resumes per table: only what is missing, damaged or measured with another config
            update_index(self.root, e.plan.corpus.name, e.n, e.path, seed=b.seed)
            self._stage(e, "done")
            return
        existing = {k: v for k, v in valid.items() if k not in todo}
        task = Task(e.label("measure"), JOBS["measure"], (b, existing, e.plan.measure_cfg, todo),
                    self.backend.resources(False, memory_estimate(e.plan.model_cfg, e.plan.train_cfg)),
                    key=("measure", e))
        if first:
            self.ready.appendleft(task)
        else:
            self.ready.append(task)
        self.total += 1

    def _finish(self, outcome: TaskOutcome) -> None:
        task, (kind, e) = outcome.task, outcome.task.key
        if outcome.error is not None:
            self.failures.append((task.label, f"failed after {outcome.attempts} attempt(s): {outcome.error}"))
            if kind == "train":
                self.total -= 1  # its measurement will not run
            return
        if kind == "train":
            trained = outcome.result
            p = e.plan
            checkpoint.save(e.path, trained.model, p.corpus.tokenizer, task.args[0], p.corpus.encode(p.corpus.test),
                            task.args[2], p.corpus.name, loss_history=trained.history, half=p.half, overwrite=True,
                            extra={"device": trained.device, "train_seconds": round(trained.seconds, 2)})
            self.total -= 1  # counted again when queued
            self._measure_or_index(e, checkpoint.load(e.path))  # measured as saved (fp16 weights too)
        else:
            ev, b = outcome.result, task.args[0]
            save_evaluation(ev, e.path, names=list(ev.tables))
            update_index(self.root, e.plan.corpus.name, e.n, e.path, seed=b.seed)
            self._stage(e, "done")

    def _check_listed(self, p: Plan, table: pd.DataFrame) -> None:
        """A failure for each entry of ``p`` that finished but has no row in the results table."""
        listed = set(zip(table["n"], table["seed"])) if len(table) else set()
        failed = {label.split(" ", 1)[1] for label, _ in self.failures}  # "corpus N=.. seed=.." of failed tasks
        for n in p.sizes:
            for seed in range(p.train_cfg.seed, p.train_cfg.seed + p.seeds):
                if (n, seed) not in listed and f"{p.corpus.name} N={n} seed={seed}" not in failed:
                    self.failures.append((f"sweep.csv {p.corpus.name} N={n} seed={seed}",
                                          "no row in sweep.csv: the entry or its measure/summary.json is missing "
                                          "from the index or unreadable; run the same command again"))

    def _check_resources(self) -> None:
        """Refuse before any work what can never run: a training larger than this machine's free
        memory (local backend) or than every node of a local Ray."""
        if self.backend.local:
            for p in {id(e.plan): e.plan for kind, e in (t.key for t in self.ready) if kind == "train"}.values():
                check_fits(p.model_cfg, p.train_cfg)
        elif hasattr(self.backend, "check"):
            for r in {t.resources for t in self.ready}:
                self.backend.check(r)

    def _stage(self, e: _Entry, stage: str) -> None:
        if self.on_size is not None:
            self.on_size(e.n, stage)

    def _report(self, done: int, outcome: TaskOutcome | None) -> None:
        if self.on_task is not None:
            self.on_task(done, self.total, outcome)


JOBS = {"train": fit, "measure": measure_bundle}   # what a task of each kind runs (tests swap in faults)
