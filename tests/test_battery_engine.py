"""The bad-input battery, engine side (issue 11): the command line, output folders, text files,
``engine.load`` and the Python API, each input with its exact outcome.

CLI cases assert the exit code (2, never a traceback), a fragment of the one-line message, and that a
sentinel folder of a user's files is byte-for-byte untouched and nothing was left behind. API cases
assert the exception type and a fragment naming the argument. Concurrency and kill -9 cases run real
child processes.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from engine import cli
from engine.store import markers, outputs
from engine.text import textfile
from engine.models.checkpoint import load, save
from engine.measures.evaluation import MeasureConfig
from engine.models.model import Denoiser, ModelConfig
from engine.diffusion.noise import UniformNoise
from engine.diffusion.sample import denoise, generate
from engine.text.tokenizer import WordTokenizer
from engine.models.train import TrainConfig

ROOT = Path(__file__).resolve().parent.parent
TOK = WordTokenizer(["a", "b", "c", "d"])
TINY = ModelConfig(vocab_size=7, seq_len=5, d_model=16, n_layers=1, n_heads=2)
TCFG = TrainConfig(steps=5, batch_size=8, warmup=2)
WORDS = "the cat sat on a mat while my dog ran to the park and we all sang one old song".split()


def tree_hash(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file (and '<dir>' for folders) under ``root``."""
    out = {}
    for p in sorted(root.rglob("*")):
        out[p.relative_to(root).as_posix()] = "<dir>" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def sentinel(tmp_path):
    """A user's folder with files that no command may touch."""
    d = tmp_path / "thesis"
    (d / "sub").mkdir(parents=True)
    (d / "thesis.txt").write_text("My thesis, three years of work.\n")
    (d / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return d


@pytest.fixture
def corpus_file(tmp_path):
    """A small user corpus of 40 distinct short sentences."""
    p = tmp_path / "corpus.txt"
    p.write_text("\n".join(f"{WORDS[i % 20]} {WORDS[(3 * i + 1) % 20]} {WORDS[(7 * i + 2) % 20]} number {i}."
                           for i in range(40)) + "\n")
    return p


@pytest.fixture
def ckpt(tmp_path):
    torch.manual_seed(0)
    ids = torch.randint(0, 7, (6, 5), generator=torch.Generator().manual_seed(1))
    return save(tmp_path / "ck", Denoiser(TINY).eval(), TOK, ids, ids[:3], TCFG, "unit-test",
                loss_history=[(5, 1.0)])


def run_cli(argv, capsys) -> tuple[int, str]:
    """main(argv) -> (exit code, stderr); argparse's own exits count as their code."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


# ---------------------------------------------------------------- output folders: nothing of the user's is touched

def _train(out, corpus, *extra):
    return ["train", "--corpus", corpus, "--n", "8", "--out", out, "--steps", "2", "--batch-size", "4",
            "--d-model", "16", "--layers", "1", "--heads", "2", *extra]


OUT_CASES = {
    "user folder": ("thesis", "the folder is not empty and was not written by Basin Explorer"),
    "user file": ("thesis/thesis.txt", "it is a regular file"),
    "nested user file": ("thesis/sub/data.csv", "it is a regular file"),
    "device": ("/dev/null", "it is a device, pipe or socket"),
    "root": ("/", "the filesystem root"),
    "empty": ("", "the output path is empty"),
    "blank": ("   ", "the output path is empty"),
    "cwd": (".", "it is the current directory or contains it"),
    "cwd slash": ("./", "it is the current directory or contains it"),
    "parent": ("..", "it is the current directory or contains it"),
    "under a file": ("thesis/thesis.txt/ck", "is not a folder"),
    "symlink": ("link", "it is a symbolic link"),
    "fifo": ("fifo", "it is a device, pipe or socket"),
}


@pytest.mark.parametrize("case", sorted(OUT_CASES))
@pytest.mark.parametrize("command", ["train", "sweep"])
def test_out_refused_before_any_work(case, command, sentinel, corpus_file, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path / "thesis" / "sub" if case == "parent" else tmp_path)
    (tmp_path / "link").symlink_to(sentinel)
    os.mkfifo(tmp_path / "fifo")
    out, fragment = OUT_CASES[case]
    before, listing = tree_hash(sentinel), sorted(os.listdir(tmp_path))
    argv = _train(out, corpus_file) if command == "train" else \
        ["sweep", "--corpus", corpus_file, "--sizes", "8", "--out", out, "--steps", "2"]
    code, err = run_cli(argv, capsys)
    assert code == 2 and fragment in err and err.count("\n") == 1
    assert tree_hash(sentinel) == before
    assert sorted(os.listdir(tmp_path)) == listing                   # nothing left behind


def test_existing_checkpoint_needs_overwrite(ckpt, corpus_file, tmp_path, capsys):
    before = tree_hash(ckpt)
    code, err = run_cli(_train(ckpt, corpus_file), capsys)
    assert code == 2 and "already holds a checkpoint; pass --overwrite" in err
    assert tree_hash(ckpt) == before
    code, err = run_cli(_train(ckpt, corpus_file, "--overwrite"), capsys)
    assert code == 0 and load(ckpt).corpus == "file:corpus.txt"
    assert sorted(os.listdir(tmp_path)) == ["ck", "corpus.txt"]


def test_overwrite_never_replaces_foreign_folders(sentinel, corpus_file, capsys):
    before = tree_hash(sentinel)
    code, err = run_cli(_train(sentinel, corpus_file, "--overwrite"), capsys)
    assert code == 2 and "not written by Basin Explorer" in err and tree_hash(sentinel) == before


def test_checkpoint_and_sweep_are_not_confused(ckpt, corpus_file, tmp_path, capsys):
    code, err = run_cli(["sweep", "--corpus", corpus_file, "--sizes", "8", "--out", ckpt], capsys)
    assert code == 2 and "refusing to write a sweep" in err and "holds a Basin Explorer checkpoint" in err
    sweep = tmp_path / "sw"
    sweep.mkdir()
    (sweep / outputs.SWEEP_MARKER).write_text("Basin Explorer sweep\n")
    (sweep / "notes.txt").write_text("keep")
    code, err = run_cli(_train(sweep, corpus_file, "--overwrite"), capsys)
    assert code == 2 and "refusing to write a checkpoint" in err
    assert (sweep / "notes.txt").read_text() == "keep"


def test_sweep_refuses_a_foreign_folder_where_an_entry_goes(tmp_path, corpus_file, capsys):
    sweep = tmp_path / "sw"
    entry = sweep / "file-corpus-txt" / "n00008"
    entry.mkdir(parents=True)
    (sweep / outputs.SWEEP_MARKER).write_text("Basin Explorer sweep\n")
    (entry / "mine.txt").write_text("keep")
    code, err = run_cli(["sweep", "--corpus", corpus_file, "--sizes", "8", "--out", sweep, "--steps", "2"], capsys)
    assert code == 2 and "n00008" in err and "not written by Basin Explorer" in err
    assert (entry / "mine.txt").read_text() == "keep" and not (sweep / "index.json").exists()


def test_an_empty_folder_is_used(tmp_path, corpus_file, capsys):
    (tmp_path / "empty").mkdir()
    code, _ = run_cli(_train(tmp_path / "empty", corpus_file), capsys)
    assert code == 0 and load(tmp_path / "empty").n == 8


# ---------------------------------------------------------------- concurrent writers and killed saves

def _child(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_second_writer_is_refused_up_front(tmp_path, corpus_file, capsys):
    out = tmp_path / "race"
    holder = _child(f"""
        import time
        from engine.store import outputs
        with outputs.claim({str(out)!r}, outputs.CHECKPOINT):
            print("held", flush=True)
            time.sleep(60)
    """)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, err = run_cli(_train(out, corpus_file), capsys)
        assert code == 2 and "is being written by another run (process" in err and str(holder.pid) in err
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
    # the kernel dropped the dead holder's lock: the next run goes through
    code, _ = run_cli(_train(out, corpus_file), capsys)
    assert code == 0 and load(out).n == 8
    assert sorted(os.listdir(tmp_path)) == ["corpus.txt", "race"]


def test_kill_9_during_save_leaves_scratch_that_the_next_save_removes(tmp_path, ckpt):
    out = tmp_path / "ck"
    victim = _child(f"""
        import time, torch
        from engine.models import checkpoint
        from engine.models.model import Denoiser, ModelConfig
        from engine.text.tokenizer import WordTokenizer
        from engine.models.train import TrainConfig
        def slow_save(tensors, filename, *a, **kw):
            open(filename, "wb").write(b"partial")
            print("saving", flush=True)
            time.sleep(60)
        checkpoint.save_file = slow_save
        ids = torch.zeros(2, 5, dtype=torch.long)
        checkpoint.save({str(out)!r}, Denoiser(ModelConfig(vocab_size=7, seq_len=5, d_model=16, n_layers=1,
                        n_heads=2)), WordTokenizer(list("abcd")), ids, ids, TrainConfig(), "x", overwrite=True)
    """)
    assert victim.stdout.readline().strip() == "saving"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    scratch = [p for p in os.listdir(tmp_path) if p.startswith(".ck.")]
    assert len(scratch) == 2 and {p.rsplit(".", 1)[1] for p in scratch} == {"tmp", "lock"}
    assert load(out).corpus == "unit-test"                            # the old checkpoint is intact
    (tmp_path / ".ck.zzzzzzzz.old").mkdir()                            # as an interrupted replace leaves
    markers.mark_scratch(tmp_path / ".ck.zzzzzzzz.old")
    torch.manual_seed(1)
    ids = torch.zeros(2, 5, dtype=torch.long)
    save(out, Denoiser(TINY), TOK, ids, ids, TCFG, "after", overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["ck"] and load(out).corpus == "after"


def test_leftover_lookalikes_of_other_names_are_kept(tmp_path, ckpt):
    (tmp_path / ".other.abcdefgh.tmp").mkdir()
    (tmp_path / ".ck.notes.tmp").write_text("not ours: wrong shape of name")
    save(ckpt, Denoiser(TINY), TOK, torch.zeros(2, 5, dtype=torch.long), torch.zeros(1, 5, dtype=torch.long),
         TCFG, "again", overwrite=True)
    assert sorted(os.listdir(tmp_path)) == [".ck.notes.tmp", ".other.abcdefgh.tmp", "ck"]


# ---------------------------------------------------------------- bad values on the command line

BAD_ARGS = [
    (["generate", "{ck}", "--num", "-3"], "must be between 1 and"),
    (["generate", "{ck}", "--num", "0"], "must be between 1 and"),
    (["generate", "{ck}", "--num", "many"], "expected a whole number"),
    (["generate", "{ck}", "--steps-per-unit", "0"], "must be between 1 and"),
    (["generate", "{ck}", "--steps-per-unit", "-5"], "must be between 1 and"),
    (["generate", "{ck}", "--seed", "18446744073709551616"], "must be between 0 and 4,294,967,295"),
    (["generate", "{ck}", "--seed", "-1"], "must be between 0 and"),
    (["generate", "{ck}", "--seed", "1.5"], "expected a whole number"),
    (["generate", "{tmp}/nowhere"], "is not a checkpoint directory"),
    (["generate", "{corpus}"], "is not a checkpoint directory"),
    (["measure", "{ck}", "--steps-per-unit", "0"], "must be between 1 and"),
    (["measure", "{ck}", "--levels", ",,"], "expected comma-separated levels"),
    (["measure", "{ck}", "--levels", ""], "expected comma-separated levels"),
    (["measure", "{ck}", "--levels", "0"], "levels must be in (0, 1], got 0"),
    (["measure", "{ck}", "--levels", "0.5,1.5"], "levels must be in (0, 1], got 1.5"),
    (["measure", "{ck}", "--levels", "nan"], "expected a finite number"),
    (["measure", "{ck}", "--levels", "0.1,abc"], "expected a number, got 'abc'"),
    (["measure", "{ck}", "--trials", "0"], "must be between 1 and"),
    (["measure", "{ck}", "--n-train", "0"], "must be between 1 and"),
    (["measure", "{ck}", "--n-test", "-1"], "must be between 0 and"),
    (["measure", "{ck}", "--n-generate", "-1"], "must be between 0 and"),
    (["measure", "{ck}", "--seed", "99999999999999999999"], "must be between 0 and"),
    (["measure", "{tmp}/nowhere"], "is not a checkpoint directory"),
    (["sweep", "--corpus", "{corpus}", "--sizes", "", "--out", "{tmp}/sw"], "expected comma-separated sizes"),
    (["sweep", "--corpus", "{corpus}", "--sizes", ",", "--out", "{tmp}/sw"], "expected comma-separated sizes"),
    (["sweep", "--corpus", "{corpus}", "--sizes", "0,8", "--out", "{tmp}/sw"], "must be between 1 and"),
    (["sweep", "--corpus", "{corpus}", "--sizes", "8,x", "--out", "{tmp}/sw"], "expected a whole number"),
    (["sweep", "--corpus", "{corpus}", "--sizes", "8,100000", "--out", "{tmp}/sw"], "N = 100000 is out of range"),
    (["sweep", "--corpus", "{corpus}", "--sizes", "8", "--out", "{tmp}/sw", "--measure-levels", ",,"],
     "expected comma-separated levels"),
    (["train", "--corpus", "{corpus}", "--n", "0", "--out", "{tmp}/o"], "must be between 1 and"),
    (["train", "--corpus", "{corpus}", "--n", "100000", "--out", "{tmp}/o"], "N = 100000 is out of range"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--steps", "0"], "must be between 1 and"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--batch-size", "-2"], "must be between 1"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--lr", "nan"], "expected a finite number"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--lr", "inf"], "expected a finite number"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--lr", "0"], "lr must be in (0, 1)"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--lr", "5"], "lr must be in (0, 1)"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--objective", "mse"], "invalid choice"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--heads", "3"],
     "d_model (128) must be divisible by n_heads (3)"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--d-model", "1024", "--layers", "17",
      "--half"], "has 287,"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--d-model", "4096", "--layers", "64"],
     "Basin Explorer loads at most 67,108,864"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--d-model", "8192"],
     "d_model must be an integer in [2, 4096]"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--layers", "65"],
     "n_layers must be an integer in [1, 64]"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--d-model", "256", "--layers", "16",
      "--batch-size", "65536"], "GiB is free; use a smaller --batch-size"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--batch-size", "70000"],
     "batch_size must be in [1, 65536]"),
    (["train", "--corpus", "{corpus}", "--n", "8", "--out", "{tmp}/o", "--steps", "20000000"],
     "steps must be a positive integer"),
    (["train", "--corpus", "{tmp}/missing.txt", "--n", "8", "--out", "{tmp}/o"], "There is no file at"),
    (["train", "--corpus", "{tmp}", "--n", "8", "--out", "{tmp}/o"], "is a folder, not a file"),
    (["train", "--corpus", "/dev/null", "--n", "8", "--out", "{tmp}/o"], "is not a regular file"),
    (["train", "--corpus", "{tmp}/empty.txt", "--n", "8", "--out", "{tmp}/o"], "The file is empty"),
    (["train", "--corpus", "{tmp}/blank.txt", "--n", "8", "--out", "{tmp}/o"], "only blank space"),
    (["train", "--corpus", "{tmp}/image.png", "--n", "8", "--out", "{tmp}/o"], "looks like a binary file"),
    (["train", "--corpus", "{tmp}/utf16.txt", "--n", "8", "--out", "{tmp}/o"], "saved as UTF-16"),
    (["train", "--corpus", "{tmp}/latin1.txt", "--n", "8", "--out", "{tmp}/o"], "not valid UTF-8"),
    (["train", "--corpus", "{tmp}/few.txt", "--n", "8", "--out", "{tmp}/o"], "at least 16 are needed"),
    (["train", "--corpus", "{tmp}/symbols.txt", "--n", "8", "--out", "{tmp}/o"], "only punctuation and symbols, no words"),
    (["train", "--corpus", "{tmp}/long.txt", "--n", "8", "--out", "{tmp}/o"], "has more than 15 words"),
]


def _bad_files(tmp: Path) -> None:
    (tmp / "empty.txt").write_bytes(b"")
    (tmp / "blank.txt").write_text("   \n\t\n  \n")
    (tmp / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (tmp / "utf16.txt").write_bytes("The cat sat on the mat.\n".encode("utf-16"))
    (tmp / "latin1.txt").write_bytes("Caf\xe9 au lait est tr\xe8s bon.\n".encode("latin-1") * 40)
    (tmp / "few.txt").write_text("One sentence here.\nAnd another one.\n")
    (tmp / "symbols.txt").write_text("!!!\n???\n...\n" * 50)
    (tmp / "long.txt").write_text(" ".join(["word"] * 40) + ".\n")


@pytest.mark.parametrize("argv,fragment", BAD_ARGS, ids=[f"{i:02d}-{a[0]}" for i, (a, _) in enumerate(BAD_ARGS)])
def test_bad_cli_values_give_one_clear_message(argv, fragment, ckpt, corpus_file, tmp_path, capsys):
    _bad_files(tmp_path)
    listing, before = sorted(os.listdir(tmp_path)), tree_hash(ckpt)
    argv = [a.format(ck=ckpt, tmp=tmp_path, corpus=corpus_file) for a in argv]
    code, err = run_cli(argv, capsys)
    assert code == 2 and fragment in err, err
    assert sorted(os.listdir(tmp_path)) == listing and tree_hash(ckpt) == before


@pytest.mark.slow  # measures a checkpoint end to end
def test_zero_counts_work(ckpt, capsys):
    code, _ = run_cli(["measure", ckpt, "--n-test", "0", "--n-generate", "0", "--trials", "1",
                       "--levels", "0.25,0.5", "--steps-per-unit", "4"], capsys)
    assert code == 0
    summary = json.loads((ckpt / "measure" / "summary.json").read_text())
    assert {r["split"] for r in summary["levels"]} == {"train"} and summary["generations"] == {}
    assert summary["measure_config"]["n_test"] == 0
    code, _ = run_cli(["generate", ckpt, "--num", "1", "--steps-per-unit", "2"], capsys)
    assert code == 0


def test_empty_sweep_in_the_api_is_refused(tmp_path, corpus_file):
    from engine.text.corpus import load_corpus
    from engine.runs.sweep import run_sweep
    with pytest.raises(ValueError, match="no training-set sizes given"):
        run_sweep(load_corpus(str(corpus_file)), [], tmp_path / "sw", TINY, TCFG, MeasureConfig())
    assert not (tmp_path / "sw").exists()


# ---------------------------------------------------------------- text files with invisible or missing punctuation

EMOJI = "😀🐱🌍🎉🍕🚀"


@pytest.mark.parametrize("kind", ["emoji", "cjk", "zero-width", "rtl-marks", "no-punctuation"])
def test_short_lines_without_end_punctuation_stay_sentences(kind):
    lines = {
        "emoji": [f"{EMOJI[i % 6]} {EMOJI[(i + 1) % 6]} party number {i} tonight {EMOJI[(i + 2) % 6]}" for i in range(300)],
        "cjk": [f"我们 今天 去 公园 第 {i} 天" for i in range(300)],
        "zero-width": [f"the\u200b quick\u200b fox\u200b number {i} jumps over the lazy dog again" for i in range(300)],
        "rtl-marks": [f"\u200fthe quick fox {i}\u200f jumps over the lazy dog and runs" for i in range(300)],
        "no-punctuation": [f"we walked along the river line {i} and sang our song" for i in range(300)],
    }[kind]
    sentences = textfile.read_sentences("\n".join(lines).encode())
    assert len(sentences) == 300
    assert all("\u200b" not in s and "\u200f" not in s for s in sentences)
    assert all(str(i) in s.split() for i, s in enumerate(sentences))


def test_hard_wrapped_prose_is_still_joined():
    prose = ("It was a bright cold day in April, and the clocks were striking thirteen. Winston Smith, his "
             "chin nuzzled into his breast in an effort to escape the vile wind, slipped quickly through "
             "the glass doors of Victory Mansions. The hallway smelt of boiled cabbage and old rag mats. ") * 10
    lines = textwrap.wrap(prose, 60)
    sentences = textfile.read_sentences("\n".join(lines).encode())
    assert "the hallway smelt of boiled cabbage and old rag mats ." in sentences


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_any_bytes_give_sentences_or_a_clear_message(data):
    try:
        sentences = textfile.read_sentences(data)
    except textfile.TextFileError as e:
        assert str(e).endswith(".") and len(str(e)) > 20
    else:
        assert sentences and all(0 < len(s.split()) <= 15 for s in sentences)


# ---------------------------------------------------------------- engine.load: malformed metadata

def _edit(path: Path, edit) -> None:
    meta = json.loads((path / "meta.json").read_text())
    edit(meta)
    (path / "meta.json").write_text(json.dumps(meta))


META_CASES = {
    "n float": (lambda m: m.update(n=16.9), "'n' must be an integer in [1, 1000000000], got 16.9"),
    "n string": (lambda m: m.update(n="16"), "'n' must be an integer in [1, 1000000000], got '16'"),
    "n bool": (lambda m: m.update(n=True), "'n' must be an integer"),
    "n zero": (lambda m: m.update(n=0), "'n' must be an integer in [1, 1000000000], got 0"),
    "n negative": (lambda m: m.update(n=-6), "'n' must be an integer"),
    "n null": (lambda m: m.update(n=None), "'n' must be an integer"),
    "n missing": (lambda m: m.pop("n"), "'n'"),
    "seed float": (lambda m: m.update(seed=1.5), "'seed' must be an integer in [0, 4294967295], got 1.5"),
    "seed huge": (lambda m: m.update(seed=2**80), "'seed' must be an integer in [0, 4294967295]"),
    "seed negative": (lambda m: m.update(seed=-1), "'seed' must be an integer"),
    "corpus object": (lambda m: m.update(corpus={"a": 1}), "'corpus' must be a non-empty string"),
    "corpus empty": (lambda m: m.update(corpus=""), "'corpus' must be a non-empty string"),
    "corpus number": (lambda m: m.update(corpus=3), "'corpus' must be a non-empty string"),
    "history nan": (lambda m: m.update(loss_history=[[1, float("nan")]]), "every number in it must be finite"),
    "history inf": (lambda m: m.update(loss_history=[[1, float("inf")]]), "every number in it must be finite"),
    "history string step": (lambda m: m.update(loss_history=[["1", 2.0]]), "needs an integer step"),
    "history object": (lambda m: m.update(loss_history={"1": 2}), "'loss_history' must be a list"),
    "history triple": (lambda m: m.update(loss_history=[[1, 2, 3]]), "must be [step, loss] pairs"),
    "extra list": (lambda m: m.update(extra=[1]), "'extra' must be an object"),
    "train seed huge": (lambda m: m["train_config"].update(seed=2**40), "seed must be an integer in [0, 4294967295]"),
    "train lr string": (lambda m: m["train_config"].update(lr="fast"), "lr must be a number"),
    "eps int": (lambda m: m["model_config"].update(noise_eps=1), "noise_eps must be in (0, 1)"),
    "eps two": (lambda m: m["model_config"].update(noise_eps=2.0), "noise_eps must be in (0, 1)"),
    "model too big": (lambda m: m["model_config"].update(d_model=4096, n_layers=64, n_heads=4),
                      "far larger than any Basin Explorer model"),
    "tokenizer words not strings": (lambda m: m["tokenizer"].update(words=[1, 2, 3, 4]), "not a word tokenizer"),
    "tokenizer duplicate": (lambda m: m["tokenizer"].update(words=["a", "a", "b", "c"]), "must be distinct"),
}


@pytest.mark.parametrize("case", sorted(META_CASES))
def test_load_refuses_malformed_metadata(ckpt, case):
    edit, fragment = META_CASES[case]
    _edit(ckpt, edit)
    with pytest.raises(ValueError) as info:
        load(ckpt)
    assert fragment in str(info.value) and "meta.json" in str(info.value) or fragment in str(info.value)


@pytest.mark.parametrize("case", ["fifo", "folder", "dangling link", "link loop"])
def test_load_names_special_meta_files(ckpt, case):
    meta = ckpt / "meta.json"
    meta.unlink()
    if case == "fifo":
        os.mkfifo(meta)
    elif case == "folder":
        meta.mkdir()
    elif case == "dangling link":
        meta.symlink_to(ckpt / "nowhere.json")
    else:
        meta.symlink_to(meta)
    with pytest.raises(ValueError, match="is not a regular file"):
        load(ckpt)


# ---------------------------------------------------------------- the Python API

V = 7
NOISE = UniformNoise(V)
X0 = torch.tensor([[3, 4, 5, 2, 0]])


@pytest.mark.parametrize("t,fragment", [(-0.1, "t must be in [0, 1]"), (1.5, "t must be in [0, 1]"),
                                        (float("nan"), "t must be in [0, 1]"), (float("inf"), "t must be in [0, 1]"),
                                        (torch.tensor([0.1, 0.2]), "one level per row")])
def test_sample_xt_refuses_bad_levels(t, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        NOISE.sample_xt(X0, t, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("x0,error,fragment", [
    (torch.tensor([[7, 0, 0, 0, 0]]), ValueError, "x0 holds token ids outside the vocabulary [0, 7)"),
    (torch.tensor([[-1, 0, 0, 0, 0]]), ValueError, "x0 holds token ids outside the vocabulary"),
    (torch.zeros(1, 5), TypeError, "x0 must be a LongTensor of token ids, got torch.float32"),
    (torch.zeros(1, 5, dtype=torch.bool), TypeError, "got torch.bool"),
    (torch.zeros(1, 5, dtype=torch.uint8), TypeError, "got torch.uint8"),
    ([[0, 1, 2, 3, 4]], TypeError, "got list"),
])
def test_sample_xt_refuses_bad_ids(x0, error, fragment):
    with pytest.raises(error) as info:
        NOISE.sample_xt(x0, 0.5)
    assert fragment in str(info.value)


@pytest.mark.parametrize("V_,eps,fragment", [(7, 2.0, "eps must be a number in (0, 1), got 2.0"),
                                             (7, 0.0, "eps must be a number in (0, 1)"),
                                             (7, float("nan"), "eps must be a number in (0, 1)"),
                                             (7, -1e-3, "eps must be a number in (0, 1)"),
                                             (1, 1e-3, "V must be an integer >= 2, got 1"),
                                             (7.5, 1e-3, "V must be an integer >= 2, got 7.5"),
                                             (True, 1e-3, "V must be an integer >= 2")])
def test_uniform_noise_refuses_bad_parameters(V_, eps, fragment):
    with pytest.raises(ValueError) as info:
        UniformNoise(V_, eps)
    assert fragment in str(info.value)


@pytest.mark.parametrize("t", [1.5, -0.5, float("nan"), float("inf")])
def test_model_refuses_levels_outside_0_1(tiny_model, t):
    with pytest.raises(ValueError, match="t must be in"):
        tiny_model(X0, torch.tensor([t]))


@pytest.mark.parametrize("zt,error,fragment", [
    (torch.tensor([[7, 0, 0, 0, 0]]), ValueError, "zt holds token ids outside the vocabulary"),
    (torch.tensor([[0, -3, 0, 0, 0]]), ValueError, "zt holds token ids outside the vocabulary"),
    (torch.zeros(1, 5, dtype=torch.int16), TypeError, "zt must be a LongTensor of token ids, got torch.int16"),
    (torch.zeros(1, 5, dtype=torch.uint8), TypeError, "got torch.uint8"),
    (torch.zeros(1, 5, dtype=torch.bool), TypeError, "got torch.bool"),
    (torch.zeros(1, 5), TypeError, "got torch.float32"),
    (torch.zeros(5, dtype=torch.long), ValueError, "zt must be (B, L)"),
    (torch.zeros(1, 4, dtype=torch.long), ValueError, "model expects sequences of length 5"),
])
def test_denoise_refuses_bad_input(tiny_model, zt, error, fragment):
    with pytest.raises(error) as info:
        denoise(tiny_model, zt, 0.5, NOISE, steps_per_unit=4)
    assert fragment in str(info.value)


@pytest.mark.parametrize("kw,fragment", [({"t0": float("nan")}, "t0 must be in"), ({"t0": 0.0}, "t0 must be in"),
                                         ({"t0": 1.5}, "t0 must be in"),
                                         ({"steps_per_unit": 0}, "steps_per_unit must be a positive integer"),
                                         ({"steps_per_unit": -4}, "steps_per_unit must be a positive integer"),
                                         ({"steps_per_unit": 2.5}, "steps_per_unit must be a positive integer")])
def test_denoise_refuses_bad_grids(tiny_model, kw, fragment):
    args = {"t0": 0.5, "steps_per_unit": 4, **kw}
    with pytest.raises(ValueError, match=fragment):
        denoise(tiny_model, X0, args.pop("t0"), NOISE, **args)


def test_empty_batches_give_empty_results(tiny_model):
    empty = torch.zeros(0, 5, dtype=torch.long)
    traj = denoise(tiny_model, empty, 0.5, NOISE, steps_per_unit=4, return_trajectory=True)
    assert traj.x_hat.shape == (0, 5) and traj.tokens.shape == (4, 0, 5) and traj.entropy.shape == (3, 0, 5)
    assert denoise(tiny_model, empty, 0.5, NOISE).x_hat.shape == (0, 5)
    assert generate(tiny_model, 0, NOISE, 5).shape == (0, 5)
    with pytest.raises(ValueError, match="non-negative integer, got -3"):
        generate(tiny_model, -3, NOISE, 5)


@pytest.mark.parametrize("ids", [[-1], [7], [0, 99]])
def test_tokenizer_tokens_refuses_ids_outside_the_vocabulary(ids):
    with pytest.raises(ValueError, match="outside the vocabulary"):
        TOK.tokens(ids)


@pytest.mark.parametrize("kw,fragment", [({"levels": ()}, "at least one level"),
                                         ({"levels": (0.5, 0.1)}, "increasing values"),
                                         ({"levels": (float("nan"),)}, "increasing values"),
                                         ({"steps_per_unit": 0}, "steps_per_unit must be an integer in [1,"),
                                         ({"n_test": -1}, "n_test must be an integer in [0,"),
                                         ({"n_train": 0}, "n_train must be an integer in [1,"),
                                         ({"seed": 2**40}, "seed must be an integer"),
                                         ({"trials": 1.5}, "trials must be an integer")])
def test_measure_config_refuses_bad_values(kw, fragment):
    with pytest.raises(ValueError) as info:
        MeasureConfig(**kw)
    assert fragment in str(info.value)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True).filter(lambda t: not 0 <= t <= 1),
                 st.sampled_from([float("nan"), -0.0 - 1e-12, 1 + 1e-12])))
def test_any_level_outside_0_1_is_refused_by_the_forward_process(t):
    with pytest.raises(ValueError, match="t must be in"):
        NOISE.sample_xt(X0, t)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=-2**40, max_value=2**40), min_size=1, max_size=5))
def test_cli_counts_accept_exactly_the_range(values):
    parse = cli.count(1, 1000)
    for v in values:
        if 1 <= v <= 1000:
            assert parse(str(v)) == v
        else:
            with pytest.raises(Exception, match="must be between 1 and 1,000"):
                parse(str(v))


def test_memory_estimate_is_checked_before_training():
    from engine.models.train import check_fits, memory_estimate
    big = ModelConfig(vocab_size=131, d_model=256, n_layers=16, n_heads=8)
    assert memory_estimate(big, TrainConfig(batch_size=65536)) > 100 * 2**30
    with pytest.raises(ValueError, match="GiB is free"):
        check_fits(big, TrainConfig(batch_size=65536))
    assert math.isfinite(memory_estimate(TINY, TCFG))
