"""Command line: ``python -m engine {train,measure,generate,sweep,zoo} ...`` (``--help`` on each)."""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from engine.runs import backends
from engine.models import checkpoint
from engine.text import corpora, corpus as corpus_lib
from engine.store import oserrors, outputs
from engine.measures import registry
from engine.measures.evaluation import MeasureConfig
from engine.measures.measure import novelty_table
from engine.measures.summary import Summary
from engine.models.model import ModelConfig
from engine.diffusion.sample import generate
from engine.diffusion.step import DEFAULT_STEP, STEPS
from engine.runs.sweep import Plan, SweepFailed, measure_entry, run_sweeps, slug, train_entry
from engine.models.train import MAX_SEED, TrainConfig, available_memory

ZOO_DIR = Path(__file__).resolve().parent.parent / "assets" / "zoo"
# The shipped zoo: corpus -> (sizes N, training options), from the corpus registry (engine.text.corpora).
# Within a sweep every N gets the same architecture and budget.
ZOO_SWEEPS = {name: (list(z.sizes), z.options()) for name, z in corpora.zoo_sweeps().items()}
STEP_HELP = ("the reverse step: exact (the mixture over the clean token, default) or plugin (the paper's "
             "code, DUO/UDLM: the posterior formula with x_theta plugged in; biased)")
# A finer reverse-time grid than this changes nothing measurable (the paper uses 1,000) and its grid
# alone would take gigabytes: --steps-per-unit is refused above it.
MAX_STEPS_PER_UNIT = 100_000
# Work ``generate`` accepts: floating-point operations (about 2 per parameter and token per step):
# 10^15 is hours on a CPU, so more is surely a typo.
MAX_GENERATE_FLOPS = 10**15
CORPUS_HELP = (", ".join(spec.label for spec in corpora.CORPORA.values())
               + ", or the path of a UTF-8 text file (one sentence per line, prose, Markdown or CSV)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except OSError as e:
        print(f"error: {oserrors.explain(e)}", file=sys.stderr)
        return 2
    except ValueError as e:  # OutputError and TextFileError are ValueErrors
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if backends.terminated():  # SIGTERM while Ray ran (backends.Terminated)
            print("terminated: the Ray this run started was shut down; nothing half-written was left "
                  "behind", file=sys.stderr)
            return 143
        print("interrupted: nothing half-written was left behind", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train one model on the first N sentences of a corpus")
    t.add_argument("--corpus", required=True, help=CORPUS_HELP)
    t.add_argument("--n", type=_count(1), required=True, help="training-set size N (nested subset)")
    t.add_argument("--out", required=True, help="checkpoint directory to write (new or empty)")
    t.add_argument("--overwrite", action="store_true",
                   help="replace the checkpoint already at --out (never anything else)")
    add_train_options(t)
    t.set_defaults(func=cmd_train)

    m = sub.add_parser("measure", help="measure a checkpoint; tables go to DIR/measure/")
    m.add_argument("dir")
    m.add_argument("--only", type=_names, default=None, metavar="NAME[,NAME]",
                   help="compute or back-fill only these tables (and what they need), keep the others; "
                        f"the measurements: {', '.join(registry.names())}")
    add_measure_options(m)
    m.set_defaults(func=cmd_measure)

    g = sub.add_parser("generate", help="sample sentences from noise and label their novelty")
    g.add_argument("dir")
    g.add_argument("--num", type=_count(1), default=16, help="number of samples (default 16)")
    g.add_argument("--seed", type=_seed, default=0)
    g.add_argument("--greedy", action="store_true", help="argmax at every step instead of sampling")
    g.add_argument("--steps-per-unit", type=_count(1, MAX_STEPS_PER_UNIT), default=MeasureConfig().gen_steps_per_unit,
                   help=f"time grid (default {MeasureConfig().gen_steps_per_unit}, as the measured generations)")
    g.add_argument("--step", choices=STEPS, default=DEFAULT_STEP, help=STEP_HELP)
    g.set_defaults(func=cmd_generate)

    w = sub.add_parser("sweep", help="train and measure one model per N on nested subsets (resumable)")
    w.add_argument("--corpus", required=True, help=CORPUS_HELP)
    w.add_argument("--sizes", type=_ints, required=True, help="comma-separated N, e.g. 16,32,64")
    w.add_argument("--out", required=True,
                   help="sweep directory (entries, index.json, sweep.csv); an existing sweep is resumed")
    w.add_argument("--no-projection", dest="projection", action="store_false",
                   help="skip the UMAP projections")
    add_backend_options(w)
    add_train_options(w)
    add_measure_options(w, prefix="measure-")
    w.set_defaults(func=cmd_sweep)

    z = sub.add_parser("zoo", help="rebuild the shipped model zoo (every registered sweep) from scratch")
    z.add_argument("--out", default=str(ZOO_DIR), help=f"zoo directory (default {ZOO_DIR})")
    z.add_argument("--only", choices=sorted(ZOO_SWEEPS), help="rebuild one corpus only")
    add_backend_options(z)
    z.set_defaults(func=cmd_zoo)
    return p


def add_train_options(p: argparse.ArgumentParser) -> None:
    d, m = TrainConfig(), ModelConfig(vocab_size=4)
    p.add_argument("--steps", type=_count(1), default=d.steps, help=f"optimisation steps (default {d.steps})")
    p.add_argument("--seed", type=_seed, default=d.seed)
    p.add_argument("--objective", choices=["ce", "nelbo"], default=d.objective)
    p.add_argument("--batch-size", type=_count(1), default=d.batch_size)
    p.add_argument("--lr", type=_real, default=d.lr)
    p.add_argument("--d-model", type=_count(1), default=m.d_model)
    p.add_argument("--layers", type=_count(1), default=m.n_layers)
    p.add_argument("--heads", type=_count(1), default=m.n_heads)
    p.add_argument("--seq-len", type=_count(corpus_lib.MIN_SEQ_LEN, corpus_lib.MAX_SEQ_LEN), default=None,
                   help="sequence length L: sentences longer than L - 1 tokens are cut at clause boundaries "
                        f"(default: the corpus's, {corpus_lib.SEQ_LEN} for text files)")
    p.add_argument("--half", action="store_true", help="store weights as fp16")


def add_backend_options(p: argparse.ArgumentParser) -> None:
    """Where a sweep's tasks run and how many models per N (engine.runs.backends, engine.runs.sweep)."""
    p.add_argument("--seeds", type=_count(1, 1000), default=1,
                   help="models per N, trained with seeds --seed .. --seed + K - 1 (default 1)")
    p.add_argument("--backend", choices=["local", "ray"], default="local",
                   help="run the tasks in this process (default) or on Ray "
                        f"(pip install -r {backends.RAY_REQUIREMENTS})")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="with --backend ray: join the Ray cluster at ADDR (e.g. auto, ray://head:10001); "
                        "default: start a local Ray on this machine's cores")
    p.add_argument("--connect-timeout", type=_seconds, default=backends.CONNECT_TIMEOUT, metavar="SECONDS",
                   help="with --address: give up joining the Ray cluster after this many seconds "
                        f"(default {backends.CONNECT_TIMEOUT:g})")
    p.add_argument("--cpus-per-task", type=_count(1, 1024), default=1,
                   help="CPUs, and torch threads, per task on either backend (default 1: the same "
                        "numbers on both)")
    p.add_argument("--retries", type=_count(0, 10), default=2,
                   help="times a failed task is run again before it is reported (default 2)")


def add_measure_options(p: argparse.ArgumentParser, prefix: str = "") -> None:
    d = MeasureConfig()
    p.add_argument(f"--{prefix}n-train", dest="n_train", type=_count(1), default=d.n_train,
                   help="training examples measured")
    p.add_argument(f"--{prefix}n-test", dest="n_test", type=_count(0), default=d.n_test,
                   help="test examples measured (0: none)")
    p.add_argument(f"--{prefix}trials", dest="trials", type=_count(1), default=d.trials,
                   help="corruptions per example and level")
    p.add_argument(f"--{prefix}levels", dest="levels", type=_levels, default=d.levels,
                   help="comma-separated levels t in (0, 1]")
    p.add_argument(f"--{prefix}n-generate", dest="n_generate", type=_count(0), default=d.n_generate,
                   help="samples generated from noise (0: none)")
    p.add_argument(f"--{prefix}steps-per-unit", dest="steps_per_unit", type=_count(1, MAX_STEPS_PER_UNIT),
                   default=d.steps_per_unit, help=f"time grid of the reverse chain (at most {MAX_STEPS_PER_UNIT:,})")
    p.add_argument(f"--{prefix}seed", dest="measure_seed" if prefix else "seed", type=_seed, default=d.seed)
    p.add_argument(f"--{prefix}step", dest="step", choices=STEPS, default=d.step, help=STEP_HELP)


def configs_from(args, vocab_size: int, seq_len: int) -> tuple[ModelConfig, TrainConfig]:
    model_cfg = ModelConfig(vocab_size=vocab_size, seq_len=seq_len, d_model=args.d_model,
                            n_layers=args.layers, n_heads=args.heads)
    train_cfg = TrainConfig(objective=args.objective, steps=args.steps, batch_size=args.batch_size,
                            lr=args.lr, seed=args.seed)
    return model_cfg, train_cfg


def measure_config_from(args) -> MeasureConfig:
    return MeasureConfig(n_train=args.n_train, n_test=args.n_test, trials=args.trials,
                         levels=tuple(args.levels), n_generate=args.n_generate,
                         steps_per_unit=args.steps_per_unit,
                         seed=getattr(args, "measure_seed", args.seed), step=args.step)


def train_one(corpus: corpus_lib.Corpus, n: int, out, args, overwrite: bool = False) -> float:
    """Train on the first n sentences of ``corpus`` with a tqdm bar and save to ``out``; returns seconds."""
    model_cfg, train_cfg = configs_from(args, corpus.tokenizer.vocab_size, corpus.seq_len)
    bar = tqdm(total=train_cfg.steps, desc=f"train N={n}", unit="step", leave=False)

    def progress(step, total, loss):
        bar.n = step
        bar.set_postfix(loss=f"{loss:.3f}")
        bar.refresh()

    try:
        seconds = train_entry(corpus, n, out, model_cfg, train_cfg, half=args.half, progress=progress,
                              overwrite=overwrite)
    finally:
        bar.close()
    return seconds


def cmd_train(args) -> int:
    with outputs.claim(args.out, outputs.CHECKPOINT, overwrite=args.overwrite):  # refuse before any work
        corpus = corpus_lib.load_corpus(args.corpus, args.seq_len)
        print(f"{corpus.name}: {corpus.report}", flush=True)
        seconds = train_one(corpus, args.n, args.out, args, overwrite=args.overwrite)
    b = checkpoint.load(args.out)
    print(f"trained N={args.n} on {corpus.name} in {seconds:.1f} s "
          f"({b.model.n_params():,} parameters, final loss {b.loss_history[-1][1]:.4f}) -> {args.out}")
    return 0


def cmd_measure(args) -> int:
    start = time.perf_counter()
    bar = tqdm(total=1, desc="measure", unit="table", leave=False)

    def progress(name, i, count):
        bar.total = count
        bar.n = i
        bar.set_description(f"measure {name}")
        bar.refresh()

    try:
        ev = measure_entry(args.dir, measure_config_from(args), only=args.only, progress=progress)
    finally:
        bar.close()
    print(f"measured {ev.summary['corpus']} N={ev.summary['n']} in {time.perf_counter() - start:.1f} s "
          f"-> {Path(args.dir) / 'measure'}")
    print(f"{'split':<6} {'t':>5} {'recovery':>9} {'exact':>6} {'unstable':>9}")
    for row in ev.summary.get("levels", []):
        print(f"{row['split']:<6} {row['t']:>5g} {row['recovery_rate']:>9.3f} {row['exact_match']:>6.3f} "
              f"{row['unstable_rate']:>9.3f}")
    for row in ev.summary.get("entropy", []):
        print(f"entropy {row['split']:<9} t={row['t']:<6g} {row['entropy']:.3f} nats/token")
    for split, b in ev.summary.get("basin_size", {}).items():
        print(f"basin size {split:<6} median {b['median']:.3f} (IQR {b['q1']:.3f}-{b['q3']:.3f}), "
              f"{b['distinct']} distinct values, Spearman with length {b['spearman_length']:.2f}")
    step = Summary.read(args.dir).table_step("generations")    # the saved records: a kept table keeps its step
    for key, label in (("generations", f"generations ({step} step)"),
                       ("plugin_generations", "generations (plug-in step)")):
        if ev.summary.get(key):
            print(f"{label}: " + ", ".join(f"{k} {v:.2f}" for k, v in ev.summary[key].items()))
    for split, f in ev.summary.get("fluency", {}).items():
        print(f"fluency {split:<16} bigrams seen {f.get('bigram', float('nan')):.3f}, "
              f"trigrams seen {f.get('trigram', float('nan')):.3f} (in the training pool)")
    return 0


def check_generate(cfg: ModelConfig, num: int, steps_per_unit: int, free: int | None) -> None:
    """ValueError before any work when generating ``num`` samples of model ``cfg`` needs more memory
    than ``free`` bytes (None: unknown, not checked) or more than MAX_GENERATE_FLOPS of work.

    All samples are denoised as one batch: per token about 8 bytes of ids plus, in float32, the
    logits and the step's few copies of them (6 V floats) and one layer's activations
    ((2 + mlp_ratio) d + 2 heads L floats). Work: ceil(steps_per_unit) network evaluations (t from 1
    to t_min) of 2 flops per parameter and token."""
    from engine.models.model import param_count

    L = cfg.seq_len
    per_token = 8 + 4 * (6 * cfg.vocab_size + (2 + cfg.mlp_ratio) * cfg.d_model + 2 * cfg.n_heads * L)
    need = num * L * per_token
    if free is not None and need > free:
        most = max(1, free // (L * per_token))
        raise ValueError(f"--num {num:,} needs about {need / 2**30:,.1f} GiB of memory at once (all samples "
                         f"are denoised as one batch); {free / 2**30:,.1f} GiB is free: use --num {most:,} "
                         "or fewer, and run again with another --seed for more")
    flops = 2 * param_count(cfg) * L * num * steps_per_unit
    if flops > MAX_GENERATE_FLOPS:
        raise ValueError(f"--num {num:,} with --steps-per-unit {steps_per_unit:,} is about {flops:.1e} "
                         f"floating-point operations, hours or days of work (the limit is "
                         f"{MAX_GENERATE_FLOPS:.0e}): use fewer samples or a coarser grid (the measured "
                         f"generations use --steps-per-unit {MeasureConfig().gen_steps_per_unit})")


def cmd_generate(args) -> int:
    b = checkpoint.load(args.dir)
    check_generate(b.config, args.num, args.steps_per_unit, available_memory())
    gen = torch.Generator().manual_seed(args.seed)
    samples = generate(b.model, args.num, b.noise, b.config.seq_len, generator=gen, greedy=args.greedy,
                       steps_per_unit=args.steps_per_unit, step=args.step)

    table = novelty_table(samples, b.train_ids, corpus_lib.oracle_for(b.corpus, b.tokenizer), b.tokenizer)
    for row in table.itertuples():
        print(f"[{row.category:<11}] d1={row.d1:.2f}  {row.text}")
    return 0


def cmd_sweep(args) -> int:
    outputs.check(args.out, outputs.SWEEP)  # refuse before any work
    check_backend(args)
    corpus = corpus_lib.load_corpus(args.corpus, args.seq_len)
    print(f"{corpus.name}: {corpus.report}", flush=True)
    status = run_sweep_cli(corpus, args.sizes, args.out, args)
    print(f"sweep of {corpus.name} -> {args.out}")
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


def run_sweep_cli(corpus, sizes, out, args) -> int:
    """One corpus's sweep (``run_sweeps_cli``)."""
    return run_sweeps_cli([(corpus, sizes, args)], out, args)


def run_sweeps_cli(jobs, out, args) -> int:
    """Sweeps of ``jobs`` [(corpus, sizes, options)] as one pool of tasks on the backend that ``args``
    names, with one tqdm bar over all tasks. 0, or 1 when tasks failed (listed on stderr)."""
    plans = []
    for corpus, sizes, opts in jobs:
        model_cfg, train_cfg = configs_from(opts, corpus.tokenizer.vocab_size, corpus.seq_len)
        plans.append(Plan(corpus, tuple(sizes), model_cfg, train_cfg, measure_config_from(opts), args.seeds,
                          opts.half, opts.projection))
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
    if args.seeds > 1:
        print("mean and spread across seeds: " + ", ".join(str(Path(out) / slug(p.corpus.name) / "sweep-seeds.csv")
                                                           for p in plans))
    return 0


def cmd_zoo(args) -> int:
    """Every registered zoo sweep with its shipped settings (ZOO_SWEEPS), fp16 weights."""
    outputs.check(args.out, outputs.SWEEP)  # refuse before any work
    check_backend(args)
    start = time.perf_counter()
    jobs = []
    for spec, (sizes, options) in ZOO_SWEEPS.items():
        if args.only and spec != args.only:
            continue
        zargs = build_parser().parse_args(["sweep", "--corpus", spec, "--sizes", ",".join(map(str, sizes)),
                                           "--out", args.out, "--half", *options])
        jobs.append((corpus_lib.load_corpus(spec), sizes, zargs))
    status = run_sweeps_cli(jobs, args.out, args)  # every corpus in one pool of tasks
    print(f"zoo {'rebuilt' if status == 0 else 'partly rebuilt'} in {time.perf_counter() - start:.0f} s -> {args.out}")
    return status


def _count(low: int, high: int = 10**9):
    """An argparse type: an integer in [low, high]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high:,}, got {value}")
        return value
    return parse


_seed = _count(0, MAX_SEED)


def _real(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _seconds(text: str) -> float:
    """An argparse type: a number of seconds in (0, 3600]."""
    value = _real(text)
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 3600 seconds, got {text!r}")
    return value


def _names(text: str) -> list[str]:
    """Comma-separated names of registered measurements, at least one."""
    names = [x.strip() for x in text.split(",") if x.strip()]
    known = registry.names()
    if not names:
        raise argparse.ArgumentTypeError(f"expected measurement names, e.g. basin_profile; known: {', '.join(known)}")
    for name in names:
        if name not in known:
            raise argparse.ArgumentTypeError(f"unknown measurement {name!r}; known: {', '.join(known)}")
    return names


def _ints(text: str) -> list[int]:
    """Comma-separated training-set sizes N >= 1, at least one."""
    parse = _count(1)
    sizes = [parse(x.strip()) for x in text.split(",") if x.strip()]
    if not sizes:
        raise argparse.ArgumentTypeError(f"expected comma-separated sizes such as 16,64,256, got {text!r}")
    return sizes


def _levels(text: str) -> tuple[float, ...]:
    """Comma-separated corruption levels t in (0, 1], at least one; returned sorted and distinct."""
    levels = [_real(x.strip()) for x in text.split(",") if x.strip()]
    if not levels:
        raise argparse.ArgumentTypeError(f"expected comma-separated levels such as 0.1,0.25,0.5, got {text!r}")
    bad = [t for t in levels if not 0 < t <= 1]
    if bad:
        raise argparse.ArgumentTypeError(f"levels must be in (0, 1], got {bad[0]:g}")
    return tuple(sorted(set(levels)))
