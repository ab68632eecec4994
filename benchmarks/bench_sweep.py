"""Sweep benchmark: the local backend against Ray, and what the full zoo would take on a cluster.

1. The same sweep (default: grammar, N = 16, 64, 256, 1024 × 2 seeds, the default 3-layer model with
   300 steps — about 10–20 s per training on one thread — and a reduced MeasureConfig, no projection)
   runs on the local backend (this process, one torch thread) and on Ray (a local Ray with
   ``--workers`` CPUs: that many single-thread workers). Prints both wall times (Ray's includes
   starting Ray and its workers, also shown apart), the ratio (target: Ray >= 1.5x faster with two
   workers), each task's time on both, and whether both wrote the same weights.
2. A worked estimate of rebuilding the shipped zoo (``python -m engine zoo``) on a cluster (default
   16 GPUs, 8 CPUs each) from per-task times: the training time per step of each zoo setting is
   measured here (``--probe-steps`` steps on this machine's device, scaled to the zoo's budget), the
   measurement time per entry is measured here with ``--probe-measure`` (one shipped entry per corpus
   measured again with the zoo's settings; minutes) or else taken from the README, and GPU training
   speed is measured when this machine has a GPU, else taken from the README's H200 figure. Every
   input is printed with where it comes from, then a schedule of the tasks on the cluster.

The load average is printed first: on a shared machine the timings move with it.

Run: python benchmarks/bench_sweep.py [--sizes 16,64,256,1024] [--seeds 2] [--steps 300] [--workers 2]
     python benchmarks/bench_sweep.py --smoke          # a tiny run that proves the script works
     python benchmarks/bench_sweep.py --estimate-only --probe-measure --gpus 16
"""
from __future__ import annotations

import argparse
import heapq
import os
import sys
import tempfile
import time
from collections import deque
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/bench_sweep.py` from anywhere

from engine import cli  # noqa: E402
from engine.runs import backends  # noqa: E402
from engine.runs.sweep import Plan  # noqa: E402
from engine.text.corpus import load_corpus  # noqa: E402
from engine.measures.evaluation import MeasureConfig  # noqa: E402
from engine.models.model import ModelConfig  # noqa: E402
from engine.runs.sweep import run_sweep  # noqa: E402
from engine.models.train import TrainConfig  # noqa: E402

ZOO = Path(__file__).resolve().parents[1] / "assets" / "zoo"
# Measured before this benchmark existed (README: The model zoo): per grammar N, 2.5 min of measuring
# on one CPU thread; a 6-layer grammar model (6,000 steps of 128) trained in 63-66 s on an H200.
README_MEASURE_S = 150.0
README_H200_GRAMMAR_STEP_S = 65.0 / 6000


def settings(args) -> tuple[ModelConfig, TrainConfig, MeasureConfig]:
    corpus = load_corpus("grammar")
    model = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=corpus.seq_len, d_model=args.d_model,
                        n_layers=args.layers, n_heads=2 if args.d_model < 64 else 4)
    train = TrainConfig(steps=args.steps, batch_size=args.batch_size)
    if args.smoke:
        measure = MeasureConfig(n_train=4, n_test=4, trials=1, levels=(0.25,), n_generate=4, steps_per_unit=10,
                                profile_trials=1, profile_steps_per_unit=5, level_trials=1, level_grid=(0.25, 0.5, 1.0))
    else:
        measure = MeasureConfig(n_train=32, n_test=32, trials=2, levels=(0.1, 0.25, 0.5), n_generate=16,
                                profile_trials=2, level_trials=1)
    return model, train, measure


def timed_sweep(backend, root: Path, args) -> tuple[float, dict[str, tuple[float, float]]]:
    """Wall seconds of the sweep on ``backend`` and each task's (seconds measured where it ran,
    seconds from submission to result seen by this process)."""
    corpus = load_corpus("grammar")
    model, train, measure = settings(args)
    tasks = {}

    def on_task(done, total, outcome):
        if outcome is not None:
            tasks[outcome.task.label] = (outcome.seconds, outcome.wall)
            print(f"  {done}/{total} {outcome.task.label}: {outcome.seconds:.1f} s"
                  + (f" FAILED {outcome.error}" if outcome.error else ""), flush=True)

    start = time.perf_counter()
    run_sweep(corpus, args.sizes, root, model, train, measure, projection=False, seeds=args.seeds,
              backend=backend, on_task=on_task)
    return time.perf_counter() - start, tasks


def compare(args) -> float | None:
    """Part 1; returns Ray's start-up seconds (for the estimate), or None when Ray is not installed."""
    with tempfile.TemporaryDirectory() as tmp:
        print(f"\nlocal backend: one process, one torch thread; {len(args.sizes)} sizes × {args.seeds} seeds")
        local_s, local_tasks = timed_sweep(backends.LocalBackend(threads=1), Path(tmp) / "local", args)
        try:
            backends.import_ray()
        except ImportError as e:
            print(f"\nskipping Ray: {e}")
            return None
        print(f"\nray backend: a local Ray with {args.workers} CPUs, one torch thread per task")
        start = time.perf_counter()
        with backends.RayBackend(threads=1, num_cpus=args.workers, include_dashboard=False) as ray_backend:
            startup = time.perf_counter() - start
            ray_s, ray_tasks = timed_sweep(ray_backend, Path(tmp) / "ray", args)
        ray_total = startup + ray_s
        same = all((Path(tmp) / "local" / p.relative_to(Path(tmp) / "ray")).read_bytes() == p.read_bytes()
                   for p in (Path(tmp) / "ray").rglob("model.safetensors"))
        nan = (float("nan"), float("nan"))
        print(f"\n{'task':<34} {'local s':>8} {'ray s':>8} {'ray wall s':>11}  (wall: submitted to result)")
        for label, (seconds, _) in local_tasks.items():
            ray_seconds, ray_wall = ray_tasks.get(label, nan)
            print(f"{label:<34} {seconds:>8.1f} {ray_seconds:>8.1f} {ray_wall:>11.1f}")
        work = sum(s for s, _ in local_tasks.values())
        print(f"\nlocal wall {local_s:.1f} s (sum of its tasks {work:.1f} s)")
        print(f"ray wall   {ray_total:.1f} s = start-up {startup:.1f} s + sweep {ray_s:.1f} s "
              f"(sum of its tasks {sum(s for s, _ in ray_tasks.values()):.1f} s, {args.workers} workers)")
        print(f"ratio local / ray: {local_s / ray_total:.2f}x with start-up, {local_s / ray_s:.2f}x without "
              f"(target >= 1.5x); same weights on both: {'yes' if same else 'NO'}")
        return startup


def zoo_plans() -> dict[str, Plan]:
    """Corpus name -> the plan ``python -m engine zoo`` runs for it (the registry's typed settings)."""
    return {plan.corpus.name: plan for plan in cli.zoo_plans()}


def probe_step_seconds(plan: Plan, steps: int, device: str = "cpu") -> float:
    """Seconds per training step of one zoo plan's model and batch on ``device``, timed here over
    ``steps`` steps (one CPU thread)."""
    import torch

    from engine.models.train import train

    model_cfg, train_cfg = plan.model_cfg, plan.train_cfg
    ids = plan.corpus.encode(plan.corpus.subset(64))
    torch.set_num_threads(1)
    train(ids, model_cfg, replace(train_cfg, steps=2), device=torch.device(device))  # warm-up: allocations, kernels
    if device != "cpu":
        torch.cuda.synchronize()
    start = time.perf_counter()
    train(ids, model_cfg, replace(train_cfg, steps=steps), device=torch.device(device))  # returns the model on CPU: synced
    return (time.perf_counter() - start) / steps


def probe_measure_seconds(spec: str) -> float | None:
    """Seconds to measure one shipped zoo entry of ``spec`` again (the zoo's MeasureConfig, every
    table but the projection), on one thread; None if the zoo is not here."""
    from engine.models.checkpoint import load
    from engine.runs.entry import measure_bundle
    from engine.runs.zoo import read_index

    entries = [e for e in read_index(ZOO) if e["corpus"] == spec] if (ZOO / "index.json").exists() else []
    if not entries:
        return None
    b = load(ZOO / entries[len(entries) // 2]["path"])
    from engine.measures import registry

    only = [m for m in registry.plan(None, bundle=b) if m != "projection"]
    start = time.perf_counter()
    backends.call(measure_bundle, (b, {}, MeasureConfig(), only), 1)
    return time.perf_counter() - start


def schedule(chains: list[tuple[float, float]], train_slots: int, measure_slots: int, shared: bool) -> float:
    """Makespan of ``chains`` (training seconds, then measuring seconds) when trainings take one of
    ``train_slots`` and measurements one of ``measure_slots`` (the same slots when ``shared``), a
    ready measurement starting before a waiting training, as engine.runs.sweep schedules them."""
    trains, measures, running = deque(range(len(chains))), deque(), []
    free = {"train": train_slots, "measure": measure_slots}
    now = 0.0
    while trains or measures or running:
        for kind, queue in (("measure", measures), ("train", trains)):
            pool = "train" if shared else kind
            while queue and free[pool] > 0:
                i = queue.popleft()
                free[pool] -= 1
                heapq.heappush(running, (now + chains[i][0 if kind == "train" else 1], kind, i))
        now, kind, i = heapq.heappop(running)
        free["train" if shared else kind] += 1
        if kind == "train":
            measures.append(i)
    return now


def zoo_estimate(step_s: dict[str, float], step_source: str, gpu_step_s: dict[str, float], gpu_source: str,
                 measure_s: dict[str, float], measure_source: str, *, gpus: int, cpus_per_gpu: int, seeds: int,
                 startup_s: float, startup_source: str) -> None:
    """Print the worked estimate of the zoo on ``gpus`` GPUs (``cpus_per_gpu`` CPUs each) and on the
    same nodes without GPUs, from per-step training and per-entry measuring times."""
    plans = zoo_plans()
    print(f"\nzoo estimate: {seeds} seed(s) per N; the zoo's settings from the corpus registry (engine.cli.zoo_plans)")
    print(f"  measured or assumed inputs:\n    training per step on CPU, one thread: {step_source}"
          f"\n    training per step on a GPU: {gpu_source}\n    measuring one entry, one CPU thread: {measure_source}"
          f"\n    start-up (Ray and its workers): {startup_s:.0f} s, {startup_source}"
          f"\n    assumed: time per step constant over a run; measurement time the same for every N; one"
          f"\n    training per GPU; driver writes and transfers negligible (checkpoints are a few MB)")
    gpu_chains, cpu_chains = [], []
    for spec, plan in plans.items():
        sizes, steps = plan.sizes, plan.train_cfg.steps
        train_cpu, train_gpu, measure = steps * step_s[spec], steps * gpu_step_s[spec], measure_s[spec]
        count = len(sizes) * seeds
        print(f"  {spec}: {count} entries; training {steps} steps = {train_cpu / 60:.1f} min on a CPU thread, "
              f"{train_gpu:.0f} s on a GPU; measuring {measure / 60:.1f} min on a CPU thread")
        gpu_chains += [(train_gpu, measure)] * count
        cpu_chains += [(train_cpu, measure)] * count
    cpus = gpus * cpus_per_gpu
    serial = sum(t + m for t, m in cpu_chains)
    print(f"  one process, one thread (today's local backend): {serial / 3600:.1f} h of work")
    for label, chains, slots in ((f"{gpus} GPUs + {cpus} CPUs (training on GPUs, measuring on CPUs)", gpu_chains,
                                  (gpus, cpus, False)),
                                 (f"the same {gpus} nodes without GPUs: {cpus} CPU slots", cpu_chains, (cpus, cpus, True))):
        span = schedule(chains, *slots) + startup_s
        bound = max(max(t + m for t, m in chains), sum(t for t, _ in chains) / slots[0])
        print(f"  {label}: {span / 60:.1f} min (lower bound {bound / 60:.1f} min: the longest training + "
              f"measurement, or all training spread evenly)")


def estimate(args, startup_s: float | None) -> None:
    plans = zoo_plans()
    import torch

    step_s, gpu_step_s, measure_s = {}, {}, {}
    for spec, plan in plans.items():
        step_s[spec] = probe_step_seconds(plan, args.probe_steps)
    step_source = ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in step_s.items()) + \
        f" (measured here, {args.probe_steps} steps each)"
    if torch.cuda.is_available():
        gpu_step_s = {spec: probe_step_seconds(plan, args.probe_steps, "cuda") for spec, plan in plans.items()}
        gpu_source = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in gpu_step_s.items()) + \
            f" (measured here on {torch.cuda.get_device_name()})"
    else:
        layers = {spec: plan.model_cfg.n_layers for spec, plan in plans.items()}
        gpu_step_s = {spec: README_H200_GRAMMAR_STEP_S * layers[spec] / layers.get("grammar", 6) for spec in plans}
        gpu_source = (f"assumed from the README's H200 figure ({README_H200_GRAMMAR_STEP_S * 1e3:.1f} ms per step of "
                      "the 6-layer grammar model), scaled by the number of layers for the others")
    for spec in plans:
        seconds = probe_measure_seconds(spec) if args.probe_measure else None
        measure_s[spec] = seconds if seconds is not None else README_MEASURE_S
    measure_source = ", ".join(f"{k} {v:.0f} s" for k, v in measure_s.items()) + (
        " (measured here on shipped zoo entries)" if args.probe_measure else
        " (assumed: the README's 2.5 min per grammar N; pass --probe-measure to measure it here)")
    zoo_estimate(step_s, step_source, gpu_step_s, gpu_source, measure_s, measure_source, gpus=args.gpus,
                 cpus_per_gpu=args.cpus_per_gpu, seeds=args.zoo_seeds,
                 startup_s=startup_s if startup_s is not None else 15.0,
                 startup_source="measured here on the local Ray" if startup_s is not None else "assumed (Ray not started)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="16,64,256,1024")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--steps", type=int, default=300, help="training steps per model (default 300: ~10-20 s)")
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2, help="CPUs of the local Ray: single-thread workers")
    p.add_argument("--smoke", action="store_true", help="tiny settings: proves the script runs (seconds)")
    p.add_argument("--estimate-only", action="store_true", help="skip the comparison")
    p.add_argument("--probe-steps", type=int, default=30, help="training steps timed per zoo setting")
    p.add_argument("--probe-measure", action="store_true", help="measure one zoo entry per corpus again (minutes)")
    p.add_argument("--gpus", type=int, default=16)
    p.add_argument("--cpus-per-gpu", type=int, default=8)
    p.add_argument("--zoo-seeds", type=int, default=1, help="seeds per N in the estimate")
    args = p.parse_args()
    args.sizes = [int(x) for x in args.sizes.split(",")]
    if args.smoke:
        args.sizes, args.steps, args.d_model, args.layers, args.batch_size = [4, 8], 10, 16, 1, 8
        args.probe_steps = min(args.probe_steps, 3)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    startup = None if args.estimate_only else compare(args)
    estimate(args, startup)


if __name__ == "__main__":
    main()
