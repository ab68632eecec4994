"""The CLI's options and their types: the training, measurement and backend options that several
commands share, and the configs (``ModelConfig``, ``TrainConfig``, ``MeasureConfig``) read from them.
Every default is the config's own, so the CLI and the engine never disagree."""
from __future__ import annotations

import argparse
import math

from engine.runs import backends
from engine.text import corpora, corpus as corpus_lib
from engine.measures import registry
from engine.measures.evaluation import MeasureConfig
from engine.models.model import ModelConfig
from engine.diffusion.step import STEPS
from engine.models.train import MAX_SEED, TrainConfig

STEP_HELP = ("the reverse step: exact (the mixture over the clean token, default) or plugin (the paper's "
             "code, DUO/UDLM: the posterior formula with x_theta plugged in; biased)")
# A finer reverse-time grid than this changes nothing measurable (the paper uses 1,000) and its grid
# alone would take gigabytes: --steps-per-unit is refused above it.
MAX_STEPS_PER_UNIT = 100_000
CORPUS_HELP = (", ".join(spec.label for spec in corpora.CORPORA.values())
               + ", or the path of a UTF-8 text file (one sentence per line, prose, Markdown or CSV)")


def add_train_options(p: argparse.ArgumentParser) -> None:
    """The model's architecture and the training budget (ModelConfig, TrainConfig)."""
    d, m = TrainConfig(), ModelConfig(vocab_size=4)
    p.add_argument("--steps", type=count(1), default=d.steps, help=f"optimisation steps (default {d.steps})")
    p.add_argument("--seed", type=seed_number, default=d.seed)
    p.add_argument("--objective", choices=["ce", "nelbo"], default=d.objective)
    p.add_argument("--batch-size", type=count(1), default=d.batch_size)
    p.add_argument("--lr", type=real, default=d.lr)
    p.add_argument("--d-model", type=count(1), default=m.d_model)
    p.add_argument("--layers", type=count(1), default=m.n_layers)
    p.add_argument("--heads", type=count(1), default=m.n_heads)
    p.add_argument("--seq-len", type=count(corpus_lib.MIN_SEQ_LEN, corpus_lib.MAX_SEQ_LEN), default=None,
                   help="sequence length L: sentences longer than L - 1 tokens are cut at clause boundaries "
                        f"(default: the corpus's, {corpus_lib.SEQ_LEN} for text files)")
    p.add_argument("--half", action="store_true", help="store weights as fp16")


def add_backend_options(p: argparse.ArgumentParser, seeds: int | None = 1) -> None:
    """Where a sweep's tasks run and how many models per N (engine.runs.backends, engine.runs.sweep);
    ``seeds``: the default of --seeds (None: each registered zoo sweep's own)."""
    p.add_argument("--seeds", type=count(1, 1000), default=seeds,
                   help=f"models per N, trained with seeds --seed .. --seed + K - 1 (default {seeds})" if seeds
                   else "models per N, trained with seeds 0 .. K - 1 (default: each registered sweep's)")
    p.add_argument("--backend", choices=["local", "ray"], default="local",
                   help="run the tasks in this process (default) or on Ray "
                        f"(pip install -r {backends.RAY_REQUIREMENTS})")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="with --backend ray: join the Ray cluster at ADDR (e.g. auto, ray://head:10001); "
                        "default: start a local Ray on this machine's cores")
    p.add_argument("--connect-timeout", type=seconds, default=backends.CONNECT_TIMEOUT, metavar="SECONDS",
                   help="with --address: give up joining the Ray cluster after this many seconds "
                        f"(default {backends.CONNECT_TIMEOUT:g})")
    p.add_argument("--cpus-per-task", type=count(1, 1024), default=1,
                   help="CPUs, and torch threads, per task on either backend (default 1: the same "
                        "numbers on both)")
    p.add_argument("--retries", type=count(0, 10), default=2,
                   help="times a failed task is run again before it is reported (default 2)")


def add_measure_options(p: argparse.ArgumentParser, prefix: str = "") -> None:
    """What ``measure`` measures (MeasureConfig); ``prefix`` keeps them apart from training's options."""
    d = MeasureConfig()
    p.add_argument(f"--{prefix}n-train", dest="n_train", type=count(1), default=d.n_train,
                   help="training examples measured")
    p.add_argument(f"--{prefix}n-test", dest="n_test", type=count(0), default=d.n_test,
                   help="test examples measured (0: none)")
    p.add_argument(f"--{prefix}trials", dest="trials", type=count(1), default=d.trials,
                   help="corruptions per example and level")
    p.add_argument(f"--{prefix}levels", dest="levels", type=level_list, default=d.levels,
                   help="comma-separated levels t in (0, 1]")
    p.add_argument(f"--{prefix}n-generate", dest="n_generate", type=count(0), default=d.n_generate,
                   help="samples generated from noise (0: none)")
    p.add_argument(f"--{prefix}steps-per-unit", dest="steps_per_unit", type=count(1, MAX_STEPS_PER_UNIT),
                   default=d.steps_per_unit, help=f"time grid of the reverse chain (at most {MAX_STEPS_PER_UNIT:,})")
    p.add_argument(f"--{prefix}seed", dest="measure_seed" if prefix else "seed", type=seed_number, default=d.seed)
    p.add_argument(f"--{prefix}step", dest="step", choices=STEPS, default=d.step, help=STEP_HELP)


def configs_from(args, vocab_size: int, seq_len: int) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configs of parsed ``add_train_options``, for a corpus's vocabulary and L."""
    model_cfg = ModelConfig(vocab_size=vocab_size, seq_len=seq_len, d_model=args.d_model,
                            n_layers=args.layers, n_heads=args.heads)
    train_cfg = TrainConfig(objective=args.objective, steps=args.steps, batch_size=args.batch_size,
                            lr=args.lr, seed=args.seed)
    return model_cfg, train_cfg


def measure_config_from(args) -> MeasureConfig:
    """The MeasureConfig of parsed ``add_measure_options``."""
    return MeasureConfig(n_train=args.n_train, n_test=args.n_test, trials=args.trials,
                         levels=tuple(args.levels), n_generate=args.n_generate,
                         steps_per_unit=args.steps_per_unit,
                         seed=getattr(args, "measure_seed", args.seed), step=args.step)


def count(low: int, high: int = 10**9):
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


seed_number = count(0, MAX_SEED)


def real(text: str) -> float:
    """An argparse type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def seconds(text: str) -> float:
    """An argparse type: a number of seconds in (0, 3600]."""
    value = real(text)
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 3600 seconds, got {text!r}")
    return value


def measurement_names(text: str) -> list[str]:
    """Comma-separated names of registered measurements, at least one."""
    names = [x.strip() for x in text.split(",") if x.strip()]
    known = registry.names()
    if not names:
        raise argparse.ArgumentTypeError(f"expected measurement names, e.g. basin_profile; known: {', '.join(known)}")
    for name in names:
        if name not in known:
            raise argparse.ArgumentTypeError(f"unknown measurement {name!r}; known: {', '.join(known)}")
    return names


def size_list(text: str) -> list[int]:
    """Comma-separated training-set sizes N >= 1, at least one."""
    parse = count(1)
    sizes = [parse(x.strip()) for x in text.split(",") if x.strip()]
    if not sizes:
        raise argparse.ArgumentTypeError(f"expected comma-separated sizes such as 16,64,256, got {text!r}")
    return sizes


def level_list(text: str) -> tuple[float, ...]:
    """Comma-separated corruption levels t in (0, 1], at least one; returned sorted and distinct."""
    levels = [real(x.strip()) for x in text.split(",") if x.strip()]
    if not levels:
        raise argparse.ArgumentTypeError(f"expected comma-separated levels such as 0.1,0.25,0.5, got {text!r}")
    bad = [t for t in levels if not 0 < t <= 1]
    if bad:
        raise argparse.ArgumentTypeError(f"levels must be in (0, 1], got {bad[0]:g}")
    return tuple(sorted(set(levels)))
