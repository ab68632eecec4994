"""The commands over many models: ``sweep`` (one corpus, the settings given) and ``zoo`` (every
registered sweep with its typed settings, ``engine.text.corpora.ZooSweep``), each run as one pool of
tasks on the backend the options name, with one progress bar over all tasks."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from tqdm import tqdm

from engine.cli.options import configs_from, measure_config_from
from engine.runs import backends
from engine.text import corpora, corpus as corpus_lib
from engine.store import outputs
from engine.measures.evaluation import MeasureConfig
from engine.models.model import ModelConfig
from engine.runs.sweep import Plan, SweepFailed, run_sweeps, slug
from engine.models.train import TrainConfig

ZOO_DIR = Path(__file__).resolve().parents[2] / "assets" / "zoo"


def cmd_sweep(args) -> int:
    """One corpus's sweep with the settings on the command line."""
    outputs.check(args.out, outputs.SWEEP)  # refuse before any work
    check_backend(args)
    corpus = corpus_lib.load_corpus(args.corpus, args.seq_len)
    print(f"{corpus.name}: {corpus.report}", flush=True)
    model_cfg, train_cfg = configs_from(args, corpus.tokenizer.vocab_size, corpus.seq_len)
    plan = Plan(corpus, tuple(args.sizes), model_cfg, train_cfg, measure_config_from(args), args.seeds,
                args.half, args.projection)
    status = run_plans([plan], args.out, args)
    print(f"sweep of {corpus.name} -> {args.out}")
    return status


def zoo_plans(only: str | None = None, seeds: int | None = None) -> list[Plan]:
    """The plans of every registered zoo sweep (``only``: one corpus's), built from its typed
    settings; what a ZooSweep does not name (objective, seed, measurements) is the configs' default,
    as for ``python -m engine sweep``. ``seeds``: models per N instead of each sweep's own."""
    plans = []
    for name, z in corpora.zoo_sweeps().items():
        if only and name != only:
            continue
        corpus = corpus_lib.load_corpus(name)
        model_cfg = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=corpus.seq_len,
                                d_model=z.d_model, n_layers=z.layers, n_heads=z.heads)
        train_cfg = TrainConfig(steps=z.steps, batch_size=z.batch_size, lr=z.lr)
        plans.append(Plan(corpus, tuple(z.sizes), model_cfg, train_cfg, MeasureConfig(), seeds or z.seeds, z.half))
    return plans


def cmd_zoo(args) -> int:
    """Every registered zoo sweep with its shipped settings, in one pool of tasks."""
    outputs.check(args.out, outputs.SWEEP)  # refuse before any work
    check_backend(args)
    start = time.perf_counter()
    status = run_plans(zoo_plans(args.only, args.seeds), args.out, args)
    print(f"zoo {'rebuilt' if status == 0 else 'partly rebuilt'} in {time.perf_counter() - start:.0f} s -> {args.out}")
    return status


def check_backend(args) -> None:
    """ValueError (exit 2, before any work) for --address without Ray, or Ray asked for and missing."""
    if args.address and args.backend != "ray":
        raise ValueError("--address joins a Ray cluster: use it with --backend ray")
    if args.address:
        backends.check_address(args.address)
    if args.backend == "ray":
        try:
            backends.import_ray()
        except ImportError as e:
            raise ValueError(str(e)) from None


def run_plans(plans: list[Plan], out, args) -> int:
    """The sweeps of ``plans`` as one pool of tasks on the backend that ``args`` names, with one
    tqdm bar over all tasks. 0, or 1 when tasks failed (listed on stderr)."""
    outputs.check(out, outputs.SWEEP)  # refuse before starting Ray or drawing any progress bar
    try:
        backend = backends.make_backend(args.backend, address=args.address, threads=args.cpus_per_task,
                                        retries=args.retries, connect_timeout=args.connect_timeout)
    except ImportError as e:
        raise ValueError(str(e)) from None
    with backend:
        print(backend.describe(), flush=True)
        bar = tqdm(total=0, desc="sweep " + ", ".join(p.corpus.name for p in plans), unit="task")

        def on_task(done, total, outcome):
            bar.total = total
            bar.update(done - bar.n)
            if outcome is not None:
                state = "FAILED " if outcome.error else ""
                bar.set_postfix_str(f"{state}{outcome.task.label} ({outcome.seconds:.0f} s)")

        def on_step(step, total, loss):
            bar.set_postfix_str(f"training step {step}/{total}, loss {loss:.3f}")

        try:
            run_sweeps(plans, out, backend=backend, on_task=on_task, on_train_progress=on_step)
        except SweepFailed as e:
            bar.close()
            print(f"error: {len(e.failures)} of {bar.total} tasks failed; everything else was finished and "
                  "written, and running the same command again retries only what is missing:", file=sys.stderr)
            for label, error in e.failures:
                print(f"  {label}: {error}", file=sys.stderr)
            return 1
        bar.close()
    several = [p for p in plans if p.seeds > 1]
    if several:
        print("mean and spread across seeds: " + ", ".join(str(Path(out) / slug(p.corpus.name) / "sweep-seeds.csv")
                                                           for p in several))
    return 0
