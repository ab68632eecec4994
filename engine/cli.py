"""Command line: ``python -m engine {train,measure,generate} ...`` (``--help`` on each)."""
from __future__ import annotations

import argparse
import sys
import time

import torch
from tqdm import tqdm

from . import checkpoint, corpus as corpus_lib
from .evaluation import MeasureConfig, evaluate, save_evaluation
from .measure import novelty_table
from .model import ModelConfig
from .sample import STEPS_PER_UNIT, generate
from .train import TrainConfig, default_device, train


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train one model on the first N sentences of a corpus")
    t.add_argument("--corpus", required=True, help="grammar, pydocs, or the path of a UTF-8 text file")
    t.add_argument("--n", type=int, required=True, help="training-set size N (nested subset)")
    t.add_argument("--out", required=True, help="checkpoint directory to write")
    add_train_options(t)
    t.set_defaults(func=cmd_train)

    m = sub.add_parser("measure", help="measure a checkpoint; tables go to DIR/measure/")
    m.add_argument("dir")
    add_measure_options(m)
    m.set_defaults(func=cmd_measure)

    g = sub.add_parser("generate", help="sample sentences from noise and label their novelty")
    g.add_argument("dir")
    g.add_argument("--num", type=int, default=16, help="number of samples (default 16)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--greedy", action="store_true", help="argmax at every step instead of sampling")
    g.add_argument("--steps-per-unit", type=int, default=STEPS_PER_UNIT)
    g.set_defaults(func=cmd_generate)
    return p


def add_train_options(p: argparse.ArgumentParser) -> None:
    d, m = TrainConfig(), ModelConfig(vocab_size=4)
    p.add_argument("--steps", type=int, default=d.steps, help=f"optimisation steps (default {d.steps})")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--objective", choices=["ce", "nelbo"], default=d.objective)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--d-model", type=int, default=m.d_model)
    p.add_argument("--layers", type=int, default=m.n_layers)
    p.add_argument("--heads", type=int, default=m.n_heads)
    p.add_argument("--half", action="store_true", help="store weights as fp16")


def add_measure_options(p: argparse.ArgumentParser) -> None:
    d = MeasureConfig()
    p.add_argument("--n-train", type=int, default=d.n_train, help="training examples measured")
    p.add_argument("--n-test", type=int, default=d.n_test, help="test examples measured")
    p.add_argument("--trials", type=int, default=d.trials, help="corruptions per example and level")
    p.add_argument("--levels", type=_floats, default=d.levels, help="comma-separated levels t")
    p.add_argument("--n-generate", type=int, default=d.n_generate)
    p.add_argument("--steps-per-unit", type=int, default=d.steps_per_unit)
    p.add_argument("--seed", type=int, default=d.seed)


def configs_from(args, vocab_size: int, seq_len: int) -> tuple[ModelConfig, TrainConfig]:
    model_cfg = ModelConfig(vocab_size=vocab_size, seq_len=seq_len, d_model=args.d_model,
                            n_layers=args.layers, n_heads=args.heads)
    train_cfg = TrainConfig(objective=args.objective, steps=args.steps, batch_size=args.batch_size,
                            lr=args.lr, seed=args.seed)
    return model_cfg, train_cfg


def measure_config_from(args) -> MeasureConfig:
    return MeasureConfig(n_train=args.n_train, n_test=args.n_test, trials=args.trials,
                         levels=tuple(args.levels), n_generate=args.n_generate,
                         steps_per_unit=args.steps_per_unit, seed=args.seed)


def train_one(corpus: corpus_lib.Corpus, n: int, out, args, desc: str | None = None) -> float:
    """Train on the first n sentences of ``corpus`` with a tqdm bar and save to ``out``; returns seconds."""
    train_ids, test_ids = corpus.encode(corpus.subset(n)), corpus.encode(corpus.test)
    model_cfg, train_cfg = configs_from(args, corpus.tokenizer.vocab_size, corpus.seq_len)
    bar = tqdm(total=train_cfg.steps, desc=desc or f"train N={n}", unit="step", leave=False)

    def progress(step, total, loss):
        bar.n = step
        bar.set_postfix(loss=f"{loss:.3f}")
        bar.refresh()

    start = time.perf_counter()
    model, history = train(train_ids, model_cfg, train_cfg, progress=progress)
    seconds = time.perf_counter() - start
    bar.close()
    checkpoint.save(out, model, corpus.tokenizer, train_ids, test_ids, train_cfg, corpus.name,
                    loss_history=history, half=args.half,
                    extra={"train_seconds": round(seconds, 2), "device": str(default_device())})
    return seconds


def cmd_train(args) -> int:
    corpus = corpus_lib.load_corpus(args.corpus)
    seconds = train_one(corpus, args.n, args.out, args)
    b = checkpoint.load(args.out)
    print(f"trained N={args.n} on {corpus.name} in {seconds:.1f} s "
          f"({b.model.n_params():,} parameters, final loss {b.loss_history[-1][1]:.4f}) -> {args.out}")
    return 0


def cmd_measure(args) -> int:
    b = checkpoint.load(args.dir)
    start = time.perf_counter()
    ev = evaluate(b, measure_config_from(args), corpus_lib.oracle_for(b.corpus, b.tokenizer))
    out = save_evaluation(ev, args.dir)
    print(f"measured {b.corpus} N={b.n} in {time.perf_counter() - start:.1f} s -> {out}")
    print(f"{'split':<6} {'t':>5} {'recovery':>9} {'exact':>6} {'unstable':>9}")
    for row in ev.summary["levels"]:
        print(f"{row['split']:<6} {row['t']:>5g} {row['recovery_rate']:>9.3f} {row['exact_match']:>6.3f} "
              f"{row['unstable_rate']:>9.3f}")
    for row in ev.summary["entropy"]:
        print(f"entropy {row['split']:<9} t={row['t']:<6g} {row['entropy']:.3f} nats/token")
    if ev.summary["generations"]:
        print("generations: " + ", ".join(f"{k} {v:.2f}" for k, v in ev.summary["generations"].items()))
    return 0


def cmd_generate(args) -> int:
    b = checkpoint.load(args.dir)
    gen = torch.Generator().manual_seed(args.seed)
    samples = generate(b.model, args.num, b.noise, b.config.seq_len, generator=gen, greedy=args.greedy,
                       steps_per_unit=args.steps_per_unit)

    table = novelty_table(samples, b.train_ids, corpus_lib.oracle_for(b.corpus, b.tokenizer), b.tokenizer)
    for row in table.itertuples():
        print(f"[{row.category:<11}] d1={row.d1:.2f}  {row.text}")
    return 0


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
