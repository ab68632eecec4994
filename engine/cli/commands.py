"""The commands on one model: ``train`` it, ``measure`` it, ``generate`` from it."""
from __future__ import annotations

import time
from pathlib import Path

from tqdm import tqdm

from engine.cli.options import configs_from, measure_config_from
from engine.models import checkpoint
from engine.text import corpus as corpus_lib
from engine.store import outputs
from engine.measures.evaluation import MeasureConfig
from engine.measures.novelty import generations_table
from engine.measures.registry import Context
from engine.measures.summary import Summary
from engine.models.model import ModelConfig
from engine.runs.sweep import measure_entry, train_entry
from engine.models.train import available_memory

# Work ``generate`` accepts: floating-point operations (about 2 per parameter and token per step):
# 10^15 is hours on a CPU, so more is surely a typo.
MAX_GENERATE_FLOPS = 10**15


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
    """Train one checkpoint; refuses a place it may not write before loading the corpus."""
    with outputs.claim(args.out, outputs.CHECKPOINT, overwrite=args.overwrite):  # refuse before any work
        corpus = corpus_lib.load_corpus(args.corpus, args.seq_len)
        print(f"{corpus.name}: {corpus.report}", flush=True)
        seconds = train_one(corpus, args.n, args.out, args, overwrite=args.overwrite)
    b = checkpoint.load(args.out)
    print(f"trained N={args.n} on {corpus.name} in {seconds:.1f} s "
          f"({b.model.n_params():,} parameters, final loss {b.loss_history[-1][1]:.4f}) -> {args.out}")
    return 0


def cmd_measure(args) -> int:
    """Measure one checkpoint and print its headline numbers."""
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
    """Generate and label as the ``generations`` measurement does (``generations_table``, the same seeding)."""
    b = checkpoint.load(args.dir)
    check_generate(b.config, args.num, args.steps_per_unit, available_memory())
    cfg = MeasureConfig(n_generate=args.num, gen_steps_per_unit=args.steps_per_unit, seed=args.seed, step=args.step)
    table = generations_table(Context(b, cfg, corpus_lib.oracle_for(b.corpus, b.tokenizer)), args.step)
    for row in table.itertuples():
        print(f"[{row.category:<11}] d1={row.d1:.2f}  {row.text}")
    return 0
