"""The sweep's backends: Ray and the local backend write the same files with the same numbers (and
the same as training and measuring each entry by hand), several seeds per N, retries and failure
reports, resume per table, nothing half-written, and a clear message where Ray is missing.

Tiny settings (d_model 16, one layer, 10 steps, a few measured examples) keep the file under ~90 s
on two cores; one local Ray with two CPUs is started for the module and shut down after it."""
import json
import statistics
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from engine.runs import backends, sweep
from engine.cli import main
from engine.text.corpus import grammar_corpus
from engine.measures.evaluation import MeasureConfig, missing
from engine.models import checkpoint
from engine.models.model import ModelConfig
from engine.runs.sweep import SweepFailed, measure_entry, run_sweep, train_entry
from engine.models.train import TrainConfig
from engine.runs.zoo import read_index, results_table, seed_summary

ROOT = Path(__file__).resolve().parent.parent
SIZES, SEEDS = [4, 8], 2
TRAIN = TrainConfig(steps=10, batch_size=8)
MEASURE = MeasureConfig(n_train=4, n_test=4, trials=1, levels=(0.25, 0.5), n_generate=4, steps_per_unit=10,
                        profile_trials=1, profile_steps_per_unit=5, level_trials=1, level_grid=(0.25, 0.5, 1.0))
CLI = ["--corpus", "grammar", "--sizes", "4", "--steps", "10", "--batch-size", "8",
       "--d-model", "16", "--layers", "1", "--heads", "2", "--no-projection", "--measure-n-train", "4",
       "--measure-n-test", "4", "--measure-trials", "1", "--measure-levels", "0.25,0.5",
       "--measure-n-generate", "4", "--measure-steps-per-unit", "10"]


@pytest.fixture(scope="module")
def corpus():
    return grammar_corpus()


@pytest.fixture(scope="module")
def model_cfg(corpus):
    return ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=corpus.seq_len, d_model=16, n_layers=1,
                       n_heads=2)


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray (two CPUs, no dashboard) for the module; RayBackend uses it and leaves it running."""
    ray = backends.import_ray()
    backends.start_ray(num_cpus=2, include_dashboard=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory, corpus, model_cfg):
    """The tiny sweep (2 sizes × 2 seeds) on the local backend with one torch thread."""
    root = tmp_path_factory.mktemp("local") / "sweep"
    run_sweep(corpus, SIZES, root, model_cfg, TRAIN, MEASURE, projection=False, seeds=SEEDS,
              backend=backends.LocalBackend(threads=1))
    return root


def entries(root: Path) -> list[Path]:
    return sorted(p for p in (root / "grammar").iterdir() if p.is_dir())


def assert_same_entry(a: Path, b: Path) -> None:
    """Same weights and ids byte for byte, same meta.json but the timing, same tables and summary."""
    for name in ("model.safetensors", "data.safetensors"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{a.name}/{name} differs"
    meta_a, meta_b = (json.loads((p / "meta.json").read_text()) for p in (a, b))
    for meta in (meta_a, meta_b):
        meta["extra"].pop("train_seconds")
    assert meta_a == meta_b
    tables_a = sorted(p.name for p in (a / "measure").iterdir())
    assert tables_a == sorted(p.name for p in (b / "measure").iterdir()) and "summary.json" in tables_a
    for name in tables_a:
        if name.endswith(".parquet"):
            pd.testing.assert_frame_equal(pd.read_parquet(a / "measure" / name), pd.read_parquet(b / "measure" / name))
    assert json.loads((a / "measure" / "summary.json").read_text()) == json.loads((b / "measure" / "summary.json").read_text())


def test_ray_writes_what_the_local_backend_writes(local_sweep, ray_session, corpus, model_cfg, tmp_path):
    """Ray (two single-thread workers) against the local backend, exactly: weights bytes, tables,
    summaries, sweep.csv, sweep-seeds.csv and index.json."""
    out = tmp_path / "ray"
    with backends.RayBackend(threads=1) as backend:
        run_sweep(corpus, SIZES, out, model_cfg, TRAIN, MEASURE, projection=False, seeds=SEEDS, backend=backend)
    assert ray_session.is_initialized()  # a Ray it did not start is left running
    assert [p.name for p in entries(out)] == ["n00004", "n00004-s1", "n00008", "n00008-s1"]
    for a, b in zip(entries(local_sweep), entries(out)):
        assert_same_entry(a, b)
    for name in ("grammar/sweep.csv", "grammar/sweep-seeds.csv", "index.json"):
        assert (local_sweep / name).read_text() == (out / name).read_text(), name
    # the seeds are really different models, trained with seed --seed + r
    assert (out / "grammar/n00008/model.safetensors").read_bytes() != (out / "grammar/n00008-s1/model.safetensors").read_bytes()
    assert [json.loads((p / "meta.json").read_text())["seed"] for p in entries(out)] == [0, 1, 0, 1]
    # and the same as today's one-entry path: train_entry + measure_entry by hand, one thread
    ref = tmp_path / "by-hand"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_entry(corpus, 8, ref, model_cfg, TrainConfig(steps=10, batch_size=8, seed=1))
        measure_entry(ref, MEASURE, only=[m for m in missing(ref, checkpoint.load(ref)) if m != "projection"])
    finally:
        torch.set_num_threads(threads)
    assert_same_entry(ref, out / "grammar" / "n00008-s1")


def test_cli_sweep_on_ray(ray_session, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["sweep", *CLI, "--seeds", "2", "--out", str(out), "--backend", "ray"]) == 0
    printed = capsys.readouterr().out
    assert "ray backend" in printed and "2 CPUs" in printed and "sweep-seeds.csv" in printed
    assert [(e["n"], e["seed"]) for e in read_index(out, all_seeds=True)] == [(4, 0), (4, 1)]
    assert set(pd.read_csv(out / "grammar" / "sweep-seeds.csv")["seeds"]) == {2}


def test_index_and_results_table_carry_seeds(local_sweep, tmp_path):
    every = read_index(local_sweep, all_seeds=True)
    assert [(e["n"], e["seed"], e["path"]) for e in every] == [
        (4, 0, "grammar/n00004"), (4, 1, "grammar/n00004-s1"), (8, 0, "grammar/n00008"), (8, 1, "grammar/n00008-s1")]
    assert [(e["n"], e["path"]) for e in read_index(local_sweep)] == [(4, "grammar/n00004"), (8, "grammar/n00008")]
    # entries written before seeds (or by the What-if page) have none: seed 0
    (tmp_path / "index.json").write_text(json.dumps([{"corpus": "grammar", "n": 4, "path": "a"},
                                                     {"corpus": "grammar", "n": 4, "seed": 3, "path": "b"}]))
    assert [(e["seed"], e["path"]) for e in read_index(tmp_path)] == [(0, "a")]
    (tmp_path / "index.json").write_text(json.dumps([{"corpus": "grammar", "n": 4, "seed": -1, "path": "a"}]))
    with pytest.raises(ValueError, match="not a valid zoo index"):
        read_index(tmp_path)


def test_seed_summary_matches_a_loop_over_seeds(local_sweep):
    table = results_table(local_sweep, "grammar")
    assert list(table.columns[:5]) == ["corpus", "n", "seed", "split", "t"] and set(table["seed"]) == {0, 1}
    summary = seed_summary(table)
    assert list(summary.columns[:5]) == ["corpus", "n", "split", "t", "seeds"]
    checked = 0
    for row in summary.itertuples(index=False):
        row = row._asdict()
        for metric in ("recovery_rate", "exact_match", "entropy"):
            values = [v for v in table[(table["n"] == row["n"]) & (table["split"] == row["split"])
                                       & (table["t"] == row["t"])][metric] if pd.notna(v)]
            assert row[f"{metric}_count"] == len(values)
            if len(values) == 2:
                assert row[f"{metric}_mean"] == pytest.approx(statistics.mean(values), abs=1e-12)
                assert row[f"{metric}_std"] == pytest.approx(statistics.stdev(values), abs=1e-12)
                assert (row[f"{metric}_min"], row[f"{metric}_max"]) == (min(values), max(values))
                checked += 1
        assert row["seeds"] == 2
    assert checked >= 8
    assert seed_summary(table.iloc[:0]).empty


def fault_jobs(tmp_path: Path, fail_train=None, flaky_measure=None):
    """JOBS whose training of (N, seed) ``fail_train`` always raises, and whose measurement of
    ``flaky_measure`` raises on its first attempt only (attempts are counted in files, since Ray runs
    them in other processes). Closures: Ray ships them by value."""
    real_fit, real_measure = sweep.fit, sweep.measure_bundle

    def fit(train_ids, model_cfg, cfg, progress=None):
        if (len(train_ids), cfg.seed) == fail_train:
            raise RuntimeError("injected training failure")
        return real_fit(train_ids, model_cfg, cfg, progress)

    def measure(b, tables, cfg, only):
        if (b.n, b.seed) == flaky_measure:
            marker = tmp_path / f"attempt-{b.n}-{b.seed}"
            if not marker.exists():
                marker.write_text("1")
                raise RuntimeError("injected measurement failure")
        return real_measure(b, tables, cfg, only)

    return {"train": fit, "measure": measure}


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_failed_task_is_retried_then_reported_and_the_rest_finishes(backend, local_sweep, corpus, model_cfg,
                                                                    tmp_path, monkeypatch, request):
    if backend == "ray":
        request.getfixturevalue("ray_session")
    monkeypatch.setattr(sweep, "JOBS", fault_jobs(tmp_path, fail_train=(4, 1), flaky_measure=(4, 0)))
    out = tmp_path / "sweep"
    with pytest.raises(SweepFailed) as failed:
        run_sweep(corpus, [4], out, model_cfg, TRAIN, MEASURE, projection=False, seeds=SEEDS,
                  backend=backends.make_backend(backend, threads=1, retries=2))
    assert failed.value.failures == [("train grammar N=4 seed=1",
                                      "failed after 3 attempt(s): RuntimeError: injected training failure")]
    assert (tmp_path / "attempt-4-0").exists()  # the flaky measurement failed once, then succeeded
    # no partial entry, no scratch folder, and the index lists what finished
    assert sorted(p.name for p in (out / "grammar").iterdir() if p.is_dir()) == ["n00004"]
    assert not list((out / "grammar").glob(".*.tmp"))
    assert len(read_index(out, all_seeds=True)) == 1 and (out / "grammar" / "sweep.csv").exists()
    # a re-run without the fault trains and measures only the missing entry
    monkeypatch.setattr(sweep, "JOBS", {"train": sweep.fit, "measure": sweep.measure_bundle})
    totals = []
    run_sweep(corpus, [4], out, model_cfg, TRAIN, MEASURE, projection=False, seeds=SEEDS,
              backend=backends.LocalBackend(threads=1), on_task=lambda done, total, o: totals.append(total))
    assert set(totals) == {2}
    for name in ("n00004", "n00004-s1"):
        assert_same_entry(local_sweep / "grammar" / name, out / "grammar" / name)


def test_cli_lists_failed_tasks_and_exits_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sweep, "JOBS", fault_jobs(tmp_path, fail_train=(4, 5)))
    assert main(["sweep", *CLI, "--seed", "5", "--retries", "0", "--out", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert "error: 1 of 1 tasks failed" in err
    assert "  train grammar N=4 seed=5: failed after 1 attempt(s): RuntimeError: injected training failure" in err
    assert read_index(tmp_path / "s") == [] and not (tmp_path / "s" / "grammar" / "n00004").exists()


def test_resume_measures_only_the_missing_table(local_sweep, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(local_sweep, out)
    table = out / "grammar" / "n00008-s1" / "measure" / "fixed_points.parquet"
    before = pd.read_parquet(table)
    table.unlink()
    stages, totals = [], []
    corpus = grammar_corpus()
    cfg = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=corpus.seq_len, d_model=16, n_layers=1, n_heads=2)
    run_sweep(corpus, SIZES, out, cfg, TRAIN, MEASURE, projection=False, seeds=SEEDS,
              on_size=lambda n, s: stages.append((n, s)), on_task=lambda d, t, o: totals.append((d, t, o and o.task.label)))
    assert ("measure" in [s for _, s in stages]) and [s for s in stages if s[1] == "train"] == []
    assert totals[-1] == (1, 1, "measure grammar N=8 seed=1")
    pd.testing.assert_frame_equal(pd.read_parquet(table), before)


def test_two_corpora_share_one_pool_of_tasks(corpus, model_cfg, tmp_path):
    """What `zoo` does: every corpus's tasks in one run_sweeps, each corpus with its own table."""
    from engine.text.corpus import load_corpus
    from engine.runs.sweep import Plan, run_sweeps

    pydocs = load_corpus("pydocs")
    pcfg = ModelConfig(vocab_size=pydocs.tokenizer.vocab_size, seq_len=pydocs.seq_len, d_model=16, n_layers=1, n_heads=2)
    done = []
    tables = run_sweeps([Plan(corpus, (4,), model_cfg, TRAIN, MEASURE, projection=False),
                         Plan(pydocs, (4,), pcfg, TRAIN, MEASURE, projection=False)], tmp_path / "zoo",
                        on_task=lambda d, t, o: done.append((d, t)))
    assert done[-1] == (4, 4) and set(tables) == {"grammar", "pydocs"}
    assert [(e["corpus"], e["path"]) for e in read_index(tmp_path / "zoo")] == [
        ("grammar", "grammar/n00004"), ("pydocs", "pydocs/n00004")]
    assert all(set(t["corpus"]) == {name} for name, t in tables.items())
    assert (tmp_path / "zoo" / "pydocs" / "sweep.csv").exists() and not list((tmp_path / "zoo").rglob("sweep-seeds.csv"))


def test_a_cancelled_training_leaves_nothing_behind(corpus, model_cfg, tmp_path):
    def cancel(step, total, loss):
        if step >= 5:
            raise KeyboardInterrupt

    out = tmp_path / "sweep"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(corpus, [4], out, model_cfg, TRAIN, MEASURE, projection=False, on_train_progress=cancel)
    assert not (out / "grammar" / "n00004").exists() and not list((out / "grammar").glob(".n00004*"))
    assert read_index(out) == []


def test_missing_ray_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    out = tmp_path / "sweep"
    assert main(["sweep", *CLI, "--out", str(out), "--backend", "ray"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "pip install -r requirements-ray.txt" in err
    assert main(["zoo", "--out", str(out), "--backend", "ray"]) == 2
    assert main(["sweep", *CLI, "--out", str(out), "--address", "auto"]) == 2
    assert "use it with --backend ray" in capsys.readouterr().err
    assert not out.exists()


def test_local_backend_never_imports_ray(tmp_path):
    code = ("import sys; from engine.cli import main; "
            f"status = main(['sweep', *{CLI!r}, '--sizes', '4', '--seeds', '1', '--out', {str(tmp_path / 's')!r}]); "
            "assert status == 0, status; assert 'ray' not in sys.modules, 'ray was imported'")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]


def test_the_ci_requirements_install_ray():
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert "-r requirements-ray.txt" in lines
    assert any(line.startswith("ray==") for line in (ROOT / "requirements-ray.txt").read_text().splitlines())
