"""What-if benchmark: a run from the click to its point on the Transition plot, without Streamlit.

Runs the very function the What-if page's server thread runs (``explorer.whatif.jobs.execute`` on
``explorer.whatif.runs.train_and_measure``) into a temporary runs folder, then reads the run's point back
the way the Transition page does (``engine.runs.zoo.results_table``). Prints ``uptime`` first (on a
shared machine the timings move with the load), then the training seconds, the measuring seconds
per table and in total, and the total. Target (issue 14): the What-if page's default run (grammar,
N = 64, the default model size and the standard budget) <= 60 s on a 2-core machine, measurement
included.

Run: python benchmarks/bench_whatif.py [--corpus grammar] [--n 64] [--budget standard] [--size small]
                                       [--measure standard] [--threads 2]
     python benchmarks/bench_whatif.py --smoke          # a tiny run that proves the script works
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="grammar")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--budget", default="standard")
    ap.add_argument("--steps", type=int, default=0, help="0: the budget's")
    ap.add_argument("--size", default=None, help="model size (default: the What-if page's, runs.DEFAULT_SIZE)")
    ap.add_argument("--measure", default="standard")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (the server's default on 2 cores)")
    ap.add_argument("--smoke", action="store_true", help="tiny model, 20 steps, light measuring")
    args = ap.parse_args()
    if args.smoke:
        args.n, args.size, args.steps, args.measure = 16, "tiny", 20, "light"

    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    import torch

    torch.set_num_threads(args.threads)
    from engine.text.corpus import load_corpus
    from engine.runs.zoo import results_table
    from explorer.whatif import jobs, runs

    args.size = args.size or runs.DEFAULT_SIZE

    t0 = time.perf_counter()
    corpus = load_corpus(args.corpus)
    load_s = time.perf_counter() - t0
    settings = runs.Settings(n=args.n, steps=args.steps or runs.BUDGETS[args.budget], size=args.size,
                             measure=args.measure)
    print(f"{corpus.name} N = {args.n}: {args.size} model, {settings.steps:,} steps, measure "
          f"'{args.measure}' ({runs.measure_about(args.measure)}); torch threads {torch.get_num_threads()}, "
          f"cpus {os.cpu_count()}; corpus loaded in {load_s:.1f} s (cached by the app)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        job = jobs.Job(corpus.name, settings)
        start = time.perf_counter()
        jobs.execute(job, corpus, root)
        point = results_table(root, corpus.name)        # what the Transition page reads
        total = time.perf_counter() - start
        if job.state != "done":
            sys.exit(f"the run ended {job.state}: {job.error}")
        row = point[(point["n"] == args.n) & (abs(point["t"] - runs.HEADLINE_T) < 1e-9)]
        measure_s = {k: v for k, v in job.timings.items() if k != "train"}
        print(f"train      {job.timings['train']:7.1f} s   (final loss {job.history[-1][1]:.3f} nats/token)")
        for name, s in measure_s.items():
            print(f"  measure  {s:7.1f} s   {name}")
        print(f"measure    {sum(measure_s.values()):7.1f} s")
        print(f"total      {total:7.1f} s   (click to point, index and table read included)")
        for r in row.itertuples():
            print(f"  {r.split:5s} recovery at t = {runs.HEADLINE_T:g}: {r.recovery_rate:.3f} "
                  f"[{r.recovery_low:.3f}, {r.recovery_high:.3f}]  exact {r.exact_match:.3f}")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
