"""Command line: ``python -m engine {train,measure,generate,sweep,zoo} ...`` (``--help`` on each).

The parser and ``main`` live here; the commands on one model in ``engine.cli.commands``, the sweeps
in ``engine.cli.sweeps``, and the options that several commands share in ``engine.cli.options``.
"""
from __future__ import annotations

import argparse
import sys

from engine.runs import backends
from engine.text import corpora
from engine.store import oserrors
from engine.measures import registry
from engine.measures.evaluation import MeasureConfig
from engine.diffusion.step import DEFAULT_STEP, STEPS
from engine.cli.commands import MAX_GENERATE_FLOPS, check_generate, cmd_generate, cmd_measure, cmd_train  # noqa: F401
from engine.cli.options import (CORPUS_HELP, MAX_STEPS_PER_UNIT, STEP_HELP, add_backend_options,  # noqa: F401
                                add_measure_options, add_train_options, configs_from, count, measure_config_from,
                                measurement_names, seed_number, size_list)
from engine.cli.sweeps import ZOO_DIR, cmd_sweep, cmd_zoo, zoo_plans  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 1 when sweep tasks failed, 2 with a one-line error for what a
    person can fix (a path, a value), 130 on Ctrl-C and 143 on SIGTERM."""
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
    t.add_argument("--n", type=count(1), required=True, help="training-set size N (nested subset)")
    t.add_argument("--out", required=True, help="checkpoint directory to write (new or empty)")
    t.add_argument("--overwrite", action="store_true",
                   help="replace the checkpoint already at --out (never anything else)")
    add_train_options(t)
    t.set_defaults(func=cmd_train)

    m = sub.add_parser("measure", help="measure a checkpoint; tables go to DIR/measure/")
    m.add_argument("dir")
    m.add_argument("--only", type=measurement_names, default=None, metavar="NAME[,NAME]",
                   help="compute or back-fill only these tables (and what they need), keep the others; "
                        f"the measurements: {', '.join(registry.names())}")
    add_measure_options(m)
    m.set_defaults(func=cmd_measure)

    gen = MeasureConfig().gen_steps_per_unit
    g = sub.add_parser("generate", help="sample sentences from noise and label their novelty, as the "
                                        "generations measurement does")
    g.add_argument("dir")
    g.add_argument("--num", type=count(1), default=16, help="number of samples (default 16)")
    g.add_argument("--seed", type=seed_number, default=0,
                   help="the measurements' seed: with --num 128 and the defaults, the very samples that "
                        "`measure --seed SEED` labels (default 0)")
    g.add_argument("--steps-per-unit", type=count(1, MAX_STEPS_PER_UNIT), default=gen,
                   help=f"time grid (default {gen}, as the measured generations)")
    g.add_argument("--step", choices=STEPS, default=DEFAULT_STEP, help=STEP_HELP)
    g.set_defaults(func=cmd_generate)

    w = sub.add_parser("sweep", help="train and measure one model per N on nested subsets (resumable)")
    w.add_argument("--corpus", required=True, help=CORPUS_HELP)
    w.add_argument("--sizes", type=size_list, required=True, help="comma-separated N, e.g. 16,32,64")
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
    z.add_argument("--only", choices=sorted(corpora.zoo_sweeps()), help="rebuild one corpus only")
    add_backend_options(z, seeds=None)
    z.set_defaults(func=cmd_zoo)
    return p
