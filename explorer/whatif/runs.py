"""What-if runs: train one model on a chosen corpus and N, measure it, and file it next to the zoo.

A run is an ordinary sweep entry under ``data.runs_root()`` (``engine.runs.sweep.entry_dir``, listed in
that directory's ``index.json``), so every page that reads sweep directories shows it beside the zoo.
The corpus fixes the sequence length (``Corpus.seq_len``; away from its default the corpus's name
carries it, e.g. ``grammar@L32``), so runs at different lengths are separate curves.
``explorer.whatif.jobs`` runs ``train_and_measure`` in a server thread; nothing here calls ``st.*``.

A run measures only what the Transition and What-if pages draw (``MEASURED``), on fewer examples,
trials and generations than the zoo (``MEASURES``), so its 95 % intervals are wider. How a run is
compared with the zoo and drawn beside it is ``explorer.whatif.compare`` (torch-free).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.store import markers, outputs
from engine.text import corpora
from engine.text.corpus import Corpus
from engine.measures.evaluation import MeasureConfig
from engine.measures.summary import Summary
from engine.models.model import ModelConfig
from engine.runs.sweep import entry_dir, measure_entry, train_entry, update_index
from engine.models.train import MAX_SEED, Progress, TrainConfig
from explorer.whatif import compare as run_compare

_DEFAULT = ModelConfig(vocab_size=4)  # the architecture's defaults; vocab_size is per corpus
# name -> (d_model, n_layers, n_heads), the default first. "small" is the default because it trains
# faster per step than "standard" and, given 1,600 steps, memorizes N = 64 grammar sentences as well
# as "standard" does in 1,200 (README: What-if timings). The pydocs zoo is "standard", the grammar zoo "deep", the kjv zoo "standard".
MODEL_SIZES = {
    "small": (64, 2, 4),
    "standard": (_DEFAULT.d_model, _DEFAULT.n_layers, _DEFAULT.n_heads),
    "deep": (_DEFAULT.d_model, 6, _DEFAULT.n_heads),   # the grammar zoo's 6 layers (engine.text.corpora)
    "tiny": (32, 1, 2),
}
DEFAULT_SIZE = "small"
# optimisation steps (of TrainConfig's batch); the zoo's budgets are in the corpus registry (engine.text.corpora)
BUDGETS = {"standard": 1600, "quick": 300}
ZOO_BUDGET = "zoo"   # the form's third budget: the zoo's own model and budget for the corpus (``zoo_settings``)
# the largest N the default run fits (engine.measures.underfit, measured on grammar with scripts/whatif_losses.py:
# N = 64 ends at 0.50 nats/token against its limit 0.69, N = 128 at 0.69 against 0.73, N = 256 at 0.92
# against 0.77): above it the form offers the zoo's budget or the zoo's own model
DEFAULT_FITS_N = 128
# what a budget or a model size does not do, measured (grammar N = 64 at t = 0.25; benchmarks/bench_whatif.py)
BUDGET_NOTES = {"quick": "does not memorize (N = 64 grammar: train recovery 0.44), for a first look only"}
SIZE_NOTES = {"tiny": "does not memorize N = 64 grammar in the standard budget (train exact 0.44)"}
# the tables a what-if run measures: what the Transition and What-if pages draw (not the basin profiles,
# the ideal denoisers or the projection: `python -m engine measure --only ...` adds them)
MEASURED = ("recovery", "basins", "fixed_points", "generations", "entropy")
MEASURES = {
    "standard": MeasureConfig(n_train=64, n_test=64, trials=2, levels=(0.05, 0.1, 0.25, 0.5, 1.0),
                              n_generate=32),
    "light": MeasureConfig(n_train=16, n_test=16, trials=1, levels=(0.1, 0.25, 0.5), n_generate=8,
                           steps_per_unit=20),
}
HEADLINE_T = run_compare.HEADLINE_T


@dataclass(frozen=True)
class Settings:
    """What the user chose: N, optimisation steps, model size, seed and measurement preset."""

    n: int
    steps: int = BUDGETS["standard"]
    size: str = DEFAULT_SIZE
    seed: int = 0
    measure: str = "standard"
    batch_size: int = TrainConfig.batch_size

    def __post_init__(self):
        # A seed is an integer end to end: a float (a widget's or JSON's round trip) would silently
        # train with another seed than the one shown, so it is refused here.
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"the seed must be a whole number from 0 to {MAX_SEED:,}, got {self.seed!r}")

    def configs(self, corpus: Corpus) -> tuple[ModelConfig, TrainConfig]:
        d, layers, heads = MODEL_SIZES[self.size]
        model_cfg = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=corpus.seq_len,
                                d_model=d, n_layers=layers, n_heads=heads)
        return model_cfg, TrainConfig(steps=self.steps, batch_size=self.batch_size, seed=self.seed,
                                      warmup=min(50, self.steps // 4))


def zoo_settings(corpus: str, n: int, seed: int = 0, measure: str = "standard") -> Settings | None:
    """The zoo's model and budget for ``corpus`` (its shipped sweep in ``engine.text.corpora``: size,
    steps, batch) at N, or None when the corpus has no zoo or its architecture is none of MODEL_SIZES."""
    sweep = corpora.zoo_sweeps().get(corpora.base_name(corpus))
    if sweep is None:
        return None
    size = next((k for k, v in MODEL_SIZES.items() if v == (sweep.d_model, sweep.layers, sweep.heads)), None)
    if size is None or sweep.lr != TrainConfig.lr:
        return None
    return Settings(n=n, steps=sweep.steps, size=size, seed=seed, measure=measure, batch_size=sweep.batch_size)


def budget_label(name: str) -> str:
    note = BUDGET_NOTES.get(name)
    return f"{name} — {BUDGETS[name]:,} steps" + (f": {note}" if note else "")


def size_label(name: str) -> str:
    """'small (d=64, 2 layers)'; a size with a note says only 'does not memorize' (the select box is
    narrow: the page shows the whole note when that size is chosen)."""
    d, layers, _ = MODEL_SIZES[name]
    return f"{name} (d={d}, {layers} layer{'s' if layers > 1 else ''})" + (" — does not memorize" if name in SIZE_NOTES else "")


def measure_about(preset: str) -> str:
    """What a preset measures, against the zoo (``python -m engine measure`` defaults), for people."""
    c, zoo = MEASURES[preset], MeasureConfig()
    return (f"{c.n_train} train + {c.n_test} test sentences (zoo: {zoo.n_train} + {zoo.n_test}), {c.trials} "
            f"trial{'s' if c.trials > 1 else ''} (zoo: {zoo.trials}) at t = {', '.join(f'{t:g}' for t in c.levels)}, "
            f"{c.n_generate} generations (zoo: {zoo.n_generate}); tables: {', '.join(MEASURED)}")


def train_and_measure(corpus: Corpus, settings: Settings, root: str | Path, *,
                      progress: Progress | None = None,
                      on_stage: Callable[[str], None] | None = None,
                      on_measure: Callable[[str, int, int], None] | None = None) -> Path:
    """Train on the first N sentences of ``corpus``, then save, measure and index the run under
    ``root``; returns its directory. A run with the same corpus and N replaces the earlier one.

    ValueError (before any training) when N does not fit the corpus, or ``root`` is not a folder this
    project may write (``engine.store.outputs``: a user's folder, a file, a run busy elsewhere).
    ``on_stage("measure")`` is called once training is over and before anything is written;
    ``on_measure(table, i, count)`` before each measured table. An exception from ``progress`` or
    ``on_stage`` leaves nothing on disk; one from ``on_measure`` leaves the checkpoint indexed, with
    no tables (the What-if page offers to measure it)."""
    corpus.subset(settings.n)  # ValueError before any training when N does not fit
    model_cfg, train_cfg = settings.configs(corpus)
    with outputs.claim(root, outputs.SWEEP) as root:  # held while training: a stopped run writes nothing
        path = entry_dir(root, corpus.name, settings.n)
        train_entry(corpus, settings.n, path, model_cfg, train_cfg, progress=progress,
                    on_trained=(lambda: on_stage("measure")) if on_stage is not None else None,
                    extra={"what_if": True, "size": settings.size}, overwrite=True)
        markers.mark_sweep(root, "what-if runs")
        try:
            measure(path, settings.measure, progress=on_measure)
        finally:
            update_index(root, corpus.name, settings.n, path)
    return path


def measure(path: str | Path, preset: str = "standard",
            progress: Callable[[str, int, int], None] | None = None) -> Path:
    """Measure a run directory with a preset of ``MEASURES`` (the tables ``MEASURED``) and write its
    tables (atomically); ``progress(table, i, count)`` before each table."""
    measure_entry(path, MEASURES[preset], only=list(MEASURED), progress=progress)
    return Path(path) / "measure"


def headline(summary: dict, t: float = HEADLINE_T) -> dict[str, dict[str, float]]:
    """{split: {'recovery_rate', 'exact_match'}} at level t from a summary.json's recovery ``levels``
    (``Summary.level``; empty if not measured there)."""
    s = Summary(corpus=str(summary.get("corpus", "")), n=int(summary.get("n", 0)), levels=list(summary.get("levels", [])))
    rows = {split: s.level(split, t) for split in dict.fromkeys(r.get("split") for r in s.levels)}
    return {split: {"recovery_rate": r["recovery_rate"], "exact_match": r["exact_match"]}
            for split, r in rows.items() if r is not None}
