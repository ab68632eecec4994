"""End to end on CPU: a tiny model trained here memorizes a handful of grammar sentences (train
exact match high, test low), and the CLI and the resumable sweep run start to finish."""
import json

import pytest
import torch

import engine
from engine.cli import main
from engine.text.corpus import grammar_corpus, oracle_for
from engine.measures.evaluation import MeasureConfig
from engine.measures.measure import recovery_table
from engine.runs.sweep import read_index, run_sweep

TINY = dict(d_model=64, n_layers=2, n_heads=4)


@pytest.fixture(scope="module")
def corpus():
    return grammar_corpus()


def test_tiny_model_memorizes_its_training_sentences(corpus):
    train_ids, test_ids = corpus.encode(corpus.subset(8)), corpus.encode(corpus.test[:8])
    cfg = engine.ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=corpus.seq_len, **TINY)
    model, history = engine.train(train_ids, cfg, engine.TrainConfig(steps=300, batch_size=32, lr=3e-3))
    assert history[-1][1] < history[0][1] / 3
    rec = recovery_table(model, engine.UniformNoise(cfg.vocab_size, cfg.noise_eps),
                         {"train": train_ids, "test": test_ids}, (0.25,), 4,
                         generator=torch.Generator().manual_seed(0))
    exact = rec.groupby("split")["exact_match"].mean()
    assert exact["train"] >= 0.8, exact
    assert exact["test"] <= 0.2, exact


def test_cli_train_measure_generate(tmp_path, capsys):
    out = tmp_path / "g8"
    assert main(["train", "--corpus", "grammar", "--n", "8", "--out", str(out), "--steps", "20",
                 "--d-model", "32", "--layers", "1", "--heads", "2"]) == 0
    b = engine.load(out)
    assert b.n == 8 and b.corpus == "grammar" and len(b.loss_history) == 2
    assert main(["measure", str(out), "--n-train", "4", "--n-test", "4", "--trials", "2",
                 "--levels", "0.1,0.5", "--n-generate", "4", "--steps-per-unit", "10"]) == 0
    summary = json.loads((out / "measure" / "summary.json").read_text())
    assert {(r["split"], r["t"]) for r in summary["levels"]} == {(s, t) for s in ("train", "test")
                                                                  for t in (0.1, 0.5)}
    assert main(["generate", str(out), "--num", "3", "--steps-per-unit", "10"]) == 0
    assert len([line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]) == 3


def test_cli_reports_bad_input_without_traceback(tmp_path, capsys):
    assert main(["train", "--corpus", "grammar", "--n", "999999", "--out", str(tmp_path / "x")]) == 2
    assert "out of range" in capsys.readouterr().err
    assert main(["measure", str(tmp_path / "missing")]) == 2
    assert not (tmp_path / "x").exists()


def test_sweep_resumes_without_retraining(tmp_path, corpus):
    cfg = engine.ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=corpus.seq_len,
                             d_model=32, n_layers=1, n_heads=2)
    train_cfg = engine.TrainConfig(steps=10, batch_size=8)
    mcfg = MeasureConfig(n_train=4, n_test=4, trials=1, levels=(0.25,), n_generate=4, steps_per_unit=10)
    stages = []
    run_sweep(corpus, [4, 8], tmp_path, cfg, train_cfg, mcfg, projection=False,
              on_size=lambda n, s: stages.append((n, s)))
    assert stages == [(4, "train"), (4, "measure"), (4, "done"), (8, "train"), (8, "measure"), (8, "done")]
    stages.clear()
    table = run_sweep(corpus, [4, 8, 16], tmp_path, cfg, train_cfg, mcfg, projection=False,
                      on_size=lambda n, s: stages.append((n, s)))
    assert [s for s in stages if s[1] in ("train", "measure")] == [(16, "train"), (16, "measure")]
    assert [e["n"] for e in read_index(tmp_path)] == [4, 8, 16]
    assert set(table["n"]) == {4, 8, 16}
    assert (tmp_path / "grammar" / "sweep.csv").exists()
    b = engine.load(tmp_path / "grammar" / "n00016")
    assert torch.equal(b.train_ids[:8], engine.load(tmp_path / "grammar" / "n00008").train_ids)  # nested
    assert oracle_for("grammar", b.tokenizer)(b.train_ids[0].tolist())
