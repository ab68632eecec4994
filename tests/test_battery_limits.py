"""Bad inputs a careless or hostile user gives (issue 23, items 4 and 5), each refused with one line
that says what to do, never a traceback or a hang: Ray addresses that do not answer, a sweep killed
while its local Ray runs, counts far beyond the machine, seeds that are not integers, text files with
no words, meta.json fields of the wrong type, and the system's raw ``[Errno N]`` messages."""
from __future__ import annotations

import errno
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings, strategies as st

from engine.runs import backends
from engine import cli
from engine.store import oserrors
from engine.text import textfile
from engine.models.checkpoint import load, save
from engine.models.model import Denoiser, ModelConfig
from engine.text.tokenizer import WordTokenizer
from engine.models.train import MAX_SEED, TrainConfig

REPO = Path(__file__).resolve().parent.parent
TOK = WordTokenizer(["a", "b", "c", "d"])
TINY = ModelConfig(vocab_size=7, seq_len=5, d_model=16, n_layers=1, n_heads=2)
TCFG = TrainConfig(steps=5, batch_size=8, warmup=2)
FAST = settings(max_examples=60, deadline=None)


def run_cli(argv, capsys) -> tuple[int, str]:
    """main(argv) -> (exit code, stderr); argparse's own exits count as their code."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert "Traceback" not in err and "[Errno" not in err
    return code, err


@pytest.fixture
def ckpt(tmp_path):
    torch.manual_seed(0)
    ids = torch.randint(0, 7, (6, 5), generator=torch.Generator().manual_seed(1))
    return save(tmp_path / "ck", Denoiser(TINY).eval(), TOK, ids, ids[:3], TCFG, "unit-test",
                loss_history=[(5, 1.0)])


def needs_ray():
    pytest.importorskip("ray")


# ---------------------------------------------------------------- 4. Ray addresses

BAD_ADDRESSES = {
    "junk": ("junk:::", "is not a Ray address"),
    "no port": ("127.0.0.1", "is not a Ray address"),
    "port 0": ("127.0.0.1:0", "is not a Ray address"),
    "port too big": ("127.0.0.1:70000", "is not a Ray address"),
    "octet 256": ("256.1.1.1:6379", "is not a valid IP address"),
    "spaces": ("my host:6379", "is not a host name"),
    "shell": ("$(reboot):1", "is not a host name"),
    "client junk": ("ray://:10001", "is not a Ray address"),
}


@pytest.mark.parametrize("case", sorted(BAD_ADDRESSES))
def test_a_malformed_address_is_one_line_before_any_work(case, tmp_path, capsys):
    """Refused by the CLI before the corpus is read or Ray is imported: exit 2, one line."""
    address, fragment = BAD_ADDRESSES[case]
    code, err = run_cli(["sweep", "--corpus", "grammar", "--sizes", "4", "--out", tmp_path / "sw",
                         "--backend", "ray", "--address", address], capsys)
    assert code == 2
    assert err.startswith("error: ") and fragment in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "sw").exists()


@given(st.text(max_size=40))
@FAST
def test_check_address_accepts_only_host_and_port(text):
    """Any text is either a (host, valid port) or a ValueError: nothing else escapes."""
    try:
        target = backends.check_address(text)
    except ValueError as e:
        assert "\n" not in str(e)
        return
    assert target is None and text.strip() == "auto" or 1 <= target[1] <= 65535 and target[0]


@pytest.mark.parametrize("address", ["127.0.0.1:1", "ray://127.0.0.1:1"])
def test_nothing_listening_is_refused_at_once(address, tmp_path, capsys):
    """A port with nothing behind it (issue: hung for > 150 s) fails within seconds, exit 2."""
    needs_ray()
    start = time.monotonic()
    code, err = run_cli(["sweep", "--corpus", "grammar", "--sizes", "4", "--out", tmp_path / "sw",
                         "--backend", "ray", "--address", address, "--connect-timeout", "5"], capsys)
    assert code == 2 and time.monotonic() - start < 30
    assert "nothing is listening there (connection refused)" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow  # waits out the connection timeout
def test_a_port_that_is_not_ray_gives_up_after_the_timeout(tmp_path):
    """A listening socket that never speaks Ray: the join is abandoned after --connect-timeout, one
    line, exit 2. In a child process: Ray's own join keeps retrying in a helper thread."""
    needs_ray()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "engine", "sweep", "--corpus", "grammar", "--sizes", "4",
                               "--out", str(tmp_path / "sw"), "--backend", "ray", "--address",
                               f"127.0.0.1:{port}", "--connect-timeout", "2"],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(errors) == 1 and "no Ray answered within" in errors[0] and "--connect-timeout" in errors[0]
    assert time.monotonic() - start < 60


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e9", "soon"])
def test_connect_timeout_must_be_a_sensible_number(value, tmp_path, capsys):
    code, err = run_cli(["sweep", "--corpus", "grammar", "--sizes", "4", "--out", tmp_path / "sw",
                         "--connect-timeout", value], capsys)
    assert code == 2 and "--connect-timeout" in err


# ---------------------------------------------------------------- 4. a sweep's local Ray ends with it

SWEEP = ["-m", "engine", "sweep", "--corpus", "grammar", "--sizes", "8", "--backend", "ray",
         "--steps", "1000000", "--d-model", "16", "--layers", "1", "--heads", "2", "--batch-size", "4"]


def _sweep_with_local_ray(out: Path) -> tuple[subprocess.Popen, dict[int, int]]:
    """A sweep child on a local Ray, once Ray is up and training; (child, its descendants)."""
    from engine.runs.reaper import descendants

    child = subprocess.Popen([sys.executable, *SWEEP, "--out", str(out)], cwd=REPO, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = child.stdout.readline()
    while line and not line.startswith("ray backend:"):
        line = child.stdout.readline()
    assert line.startswith("ray backend: started a local Ray"), child.stderr.read()[-2000:]
    deadline = time.monotonic() + 30
    found = descendants(child.pid)
    while time.monotonic() < deadline and not any(_name(p) == "ray::DashboardAgent" for p in found):
        time.sleep(0.5)     # the raylet starts its agents shortly after ray.init returns
        found = descendants(child.pid)
    return child, found


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def _gone(processes: dict[int, int], timeout: float) -> list[int]:
    """Those of ``processes`` (pid -> start time) still alive after ``timeout`` seconds."""
    from engine.runs.reaper import start_time

    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid, t in processes.items() if start_time(pid) == t]
        if not alive or time.monotonic() > deadline:
            return [f"{pid} {_name(pid)}" for pid in alive]
        time.sleep(0.3)


@pytest.mark.slow  # starts and stops a local Ray
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="lists processes through /proc")
def test_sigterm_shuts_down_the_local_ray(tmp_path):
    """SIGTERM to a sweep running on the local Ray it started: exit 143 with one 'terminated' line,
    and every process Ray started (the raylet's agents included) is gone."""
    needs_ray()
    child, ray_processes = _sweep_with_local_ray(tmp_path / "sw")
    try:
        assert len(ray_processes) >= 4
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 143, err[-2000:]
    assert "terminated: the Ray this run started was shut down" in err and "Traceback" not in err, err[-3000:]
    assert _gone(ray_processes, 20) == []


@pytest.mark.slow  # starts and kills a local Ray
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="lists processes through /proc")
def test_kill_9_leaves_no_ray_process_behind(tmp_path):
    """kill -9 cannot be caught: the watcher (engine/runs/reaper.py) stops the raylet's agents, which
    Ray's own fate-sharing leaves orphaned, and prints one error line."""
    needs_ray()
    child, ray_processes = _sweep_with_local_ray(tmp_path / "sw")
    try:
        child.kill()
        _, err = child.communicate(timeout=60)   # the watcher holds stderr until it has finished
    finally:
        child.kill()
    assert _gone(ray_processes, 20) == []
    assert "error: the sweep" in err and "ended without finishing" in err


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="lists processes through /proc")
def test_a_dead_gcs_server_ends_the_sweep_with_an_error_line(tmp_path):
    """Ray ends a driver whose gcs_server died from C++ (exit 1, no Python runs) after its 60 s
    reconnect window: the watcher prints the error line and stops what is left. About 80 s."""
    needs_ray()
    child, ray_processes = _sweep_with_local_ray(tmp_path / "sw")
    try:
        gcs = [pid for pid in ray_processes if _name(pid).endswith("gcs_server")]
        assert gcs
        os.kill(gcs[0], signal.SIGKILL)
        _, err = child.communicate(timeout=240)
    finally:
        child.kill()
    assert child.returncode != 0
    assert [line for line in err.splitlines() if line.startswith("error:")], err[-2000:]
    assert _gone(ray_processes, 20) == []


# ---------------------------------------------------------------- 5. counts

@pytest.mark.parametrize("flag,value", [("--num", "1000000000"), ("--steps-per-unit", "1000000000"),
                                        ("--num", "100000000")])
def test_generate_refuses_what_the_machine_cannot_do(flag, value, ckpt, capsys):
    """Refused before any allocation (issue: a 128 GB allocation, a grid without end): exit 2."""
    code, err = run_cli(["generate", ckpt, flag, value], capsys)
    errors = [line for line in err.splitlines() if "error:" in line]
    assert code == 2 and len(errors) == 1 and flag in errors[0]


@pytest.mark.parametrize("command", ["generate", "measure"])
def test_steps_per_unit_has_a_ceiling(command, ckpt, capsys):
    code, err = run_cli([command, ckpt, "--steps-per-unit", str(cli.MAX_STEPS_PER_UNIT + 1)], capsys)
    assert code == 2 and f"{cli.MAX_STEPS_PER_UNIT:,}" in err


@given(num=st.integers(1, 10**9), steps=st.integers(1, cli.MAX_STEPS_PER_UNIT),
       free=st.integers(2**20, 2**40))
@FAST
def test_check_generate_bounds_memory_and_work(num, steps, free):
    """Accepted exactly when the batch fits ``free`` and the work is under the limit, compared with
    the estimate written out by hand; the suggested --num fits."""
    cfg = ModelConfig(vocab_size=200, seq_len=16, d_model=64, n_layers=2, n_heads=4)
    per_seq = 16 * (8 + 4 * (6 * 200 + 6 * 64 + 2 * 4 * 16))
    from engine.models.model import param_count
    work = 2 * param_count(cfg) * 16 * num * steps
    try:
        cli.check_generate(cfg, num, steps, free)
    except ValueError as e:
        assert num * per_seq > free or work > cli.MAX_GENERATE_FLOPS
        if num * per_seq > free:
            most = int(str(e).split("use --num ")[1].split(" ")[0].replace(",", ""))
            assert most == max(1, free // per_seq)
        return
    assert num * per_seq <= free and work <= cli.MAX_GENERATE_FLOPS


def test_the_defaults_generate(ckpt, capsys):
    code, _ = run_cli(["generate", ckpt, "--num", "4", "--steps-per-unit", "20"], capsys)
    assert code == 0


# ---------------------------------------------------------------- 5. seeds stay integers

@pytest.mark.parametrize("seed", [9007199254740993.0, 1.5, 3.0, True, "7", -1, MAX_SEED + 1, 9007199254740993])
def test_whatif_settings_refuse_a_seed_that_is_not_a_32_bit_integer(seed):
    from explorer.whatif import runs

    with pytest.raises(ValueError, match="whole number from 0 to"):
        runs.Settings(n=8, seed=seed)


@given(st.integers(0, MAX_SEED))
@FAST
def test_whatif_seed_reaches_the_train_config_unchanged(seed):
    from explorer.whatif import runs

    corpus = _grammar()
    _, train_cfg = runs.Settings(n=8, seed=seed).configs(corpus)
    assert train_cfg.seed == seed and type(train_cfg.seed) is int
    assert runs.zoo_settings(corpus.name, 8, seed=seed).seed == seed


_GRAMMAR = []


def _grammar():
    if not _GRAMMAR:
        from engine.text.corpus import load_corpus
        _GRAMMAR.append(load_corpus("grammar"))
    return _GRAMMAR[0]


def test_whatif_seed_widget_stops_at_max_seed():
    """The What-if seed box allows exactly the seeds training accepts (MAX_SEED, exact in the
    browser's float64), so what it shows is what trains."""
    source = (REPO / "explorer" / "whatif" / "form.py").read_text()
    assert 'number_input("Seed", min_value=0, max_value=MAX_SEED' in source
    assert float(MAX_SEED) == MAX_SEED and MAX_SEED < 2**53


# ---------------------------------------------------------------- 5. files with no words

NO_WORDS = {
    "punctuation lines": b"... !!! ???\n.,;:\n",
    "one mark": b".\n",
    "symbols": b"--- *** +++ ###\n=== ~~~\n",
    "prose of dots": b"... ... ...\n\n!!! ???\n",
    "csv of marks": b"a,b\n. ,!\n? ,;\n",
}


@pytest.mark.parametrize("case", sorted(NO_WORDS))
def test_a_file_without_words_is_refused(case):
    with pytest.raises(textfile.TextFileError) as e:
        textfile.read_text(NO_WORDS[case], name="x.txt" if "csv" not in case else "x.csv")
    assert "Traceback" not in str(e.value)


@given(st.text(alphabet=".,;:!?-—()[]\"'*#~+=/\\|@$%^&<> \n", min_size=1, max_size=80))
@FAST
def test_punctuation_alone_never_trains(text):
    with pytest.raises(textfile.TextFileError):
        textfile.read_text(text.encode(), name="p.txt")


MD_TABLES = {
    "table": "| a | b |\n|---|---|\n| the cat sat on | the mat today |\n",
    "two tables": "| x |\n|---|\n| one two three |\n\n| y |\n|---|\n| four five six |\n",
    "table and rule": "---\n| a | b |\n|---|---|\n| c | d |\n",
}


@pytest.mark.parametrize("case", sorted(MD_TABLES))
def test_markdown_with_only_a_table_says_what_to_do(case):
    with pytest.raises(textfile.TextFileError, match="only tables, code blocks or rules") as e:
        textfile.read_text(MD_TABLES[case].encode(), name="notes.md")
    assert "CSV" in str(e.value) and "no words" not in str(e.value)


def test_a_word_in_any_script_is_a_word():
    assert textfile.read_text("été !\n".encode(), name="x.txt").sentences == ["été !"]
    assert textfile.read_text(b"# Title\n\n| a |\n|---|\n| b |\n", name="x.md").sentences == ["title"]


# ---------------------------------------------------------------- 5. meta.json: types and finiteness

def _edit(ckpt: Path, text_edit) -> None:
    p = ckpt / "meta.json"
    p.write_text(text_edit(p.read_text()))


def _set(section: str | None, key: str, literal: str):
    """An edit writing ``literal`` (raw JSON text, so NaN and true are possible) at meta[section][key]."""
    def edit(text: str) -> str:
        meta = json.loads(text)
        target = meta if section is None else meta[section]
        target[key] = "@@"
        return json.dumps(meta).replace('"@@"', literal)
    return edit


BAD_FIELDS = {
    "version true": (None, "version", "true", "checkpoint version True"),
    "version float": (None, "version", "1.0", "checkpoint version 1.0"),
    "version string": (None, "version", '"1"', "checkpoint version '1'"),
    "format number": (None, "format", "1", "was not written by Basin Explorer"),
    "weight_decay NaN": ("train_config", "weight_decay", "NaN", "NaN"),
    "weight_decay inf": ("train_config", "weight_decay", "Infinity", "Infinity"),
    "weight_decay 1e999": ("train_config", "weight_decay", "1e999", "weight_decay must be a finite"),
    "weight_decay negative": ("train_config", "weight_decay", "-0.5", "weight_decay must be a finite"),
    "weight_decay string": ("train_config", "weight_decay", '"0"', "weight_decay must be a number"),
    "lr true": ("train_config", "lr", "true", "lr must be a number"),
    "lr NaN": ("train_config", "lr", "NaN", "NaN"),
    "steps float": ("train_config", "steps", "5.0", "steps must be an integer"),
    "warmup true": ("train_config", "warmup", "true", "warmup must be an integer"),
    "objective number": ("train_config", "objective", "1", "objective must be a string"),
    "noise_eps string": ("model_config", "noise_eps", '"0.001"', "noise_eps must be a number"),
    "noise_eps -inf": ("model_config", "noise_eps", "-Infinity", "-Infinity"),
    "mlp_ratio true": ("model_config", "mlp_ratio", "true", "mlp_ratio must be an integer"),
    "loss NaN": (None, "loss_history", "[[5, NaN]]", "NaN"),
    "extra NaN": (None, "extra", '{"note": NaN}', "NaN"),
}


@pytest.mark.parametrize("case", sorted(BAD_FIELDS))
def test_load_checks_the_type_and_finiteness_of_every_field(case, ckpt):
    section, key, literal, fragment = BAD_FIELDS[case]
    _edit(ckpt, _set(section, key, literal))
    with pytest.raises(ValueError) as e:
        load(ckpt)
    assert fragment in str(e.value) and "meta.json" in str(e.value)


def test_an_integer_where_a_float_is_expected_still_loads(ckpt):
    """JSON has one number type: ``"weight_decay": 0`` is the float 0.0."""
    _edit(ckpt, _set("train_config", "weight_decay", "0"))
    b = load(ckpt)
    assert b.train_config.weight_decay == 0.0 and isinstance(b.train_config.weight_decay, float)


def test_nothing_in_a_saved_checkpoint_is_refused(ckpt):
    b = load(ckpt)
    assert b.train_config == TCFG and b.config == TINY and math.isfinite(b.train_config.lr)


# ---------------------------------------------------------------- 5. OSErrors in words

ERRNOS = [errno.EISDIR, errno.EINVAL, errno.ENOTDIR, errno.ENOENT, errno.EACCES, errno.ENOSPC,
          errno.EROFS, errno.ENAMETOOLONG, errno.ELOOP, errno.EEXIST, errno.EPERM, errno.ENOTEMPTY]


@pytest.mark.parametrize("code", ERRNOS, ids=[errno.errorcode[c] for c in ERRNOS])
def test_an_oserror_becomes_words(code):
    e = OSError(code, os.strerror(code), "/some/where")
    text = oserrors.explain(e)
    assert "[Errno" not in text and "'/some/where'" in text and ":" in text
    assert text != os.strerror(code)


@pytest.mark.parametrize("code", [errno.EISDIR, errno.EINVAL])
def test_cli_prints_no_raw_errno(code, ckpt, capsys, monkeypatch):
    """The CLI's catch-all names the path and what to do (issue: twelve raw [Errno 21] / [Errno 22])."""
    def fail(args):
        raise OSError(code, os.strerror(code), str(ckpt))
    monkeypatch.setattr(cli, "cmd_generate", fail)
    code_, err = run_cli(["generate", ckpt], capsys)
    assert code_ == 2 and err.startswith("error: ") and str(ckpt) in err


def test_cli_on_real_folder_where_a_file_is_expected(ckpt, tmp_path, capsys):
    """A real EISDIR: a corpus 'file' that is a folder with a .txt name (read by the text reader)."""
    (tmp_path / "corpus.txt").mkdir()
    code, err = run_cli(["train", "--corpus", tmp_path / "corpus.txt", "--n", "4", "--out", tmp_path / "o"],
                        capsys)
    assert code == 2 and "folder" in err


def test_unknown_errno_keeps_the_system_words_without_the_prefix():
    e = OSError(errno.EHOSTUNREACH, os.strerror(errno.EHOSTUNREACH))
    assert oserrors.explain(e) == os.strerror(errno.EHOSTUNREACH)


def test_generate_prints_what_the_generations_measurement_labels(ckpt, capsys):
    """``generate`` is the generations measurement (one generate-and-label, the same default grid and
    seeding): with the same seed and count it prints exactly the samples and labels of the table that
    ``measure`` computes."""
    from engine.measures.evaluation import MeasureConfig
    from engine.runs.sweep import measure_entry

    gens = measure_entry(ckpt, MeasureConfig(n_generate=4, seed=3), only=["generations"]).tables["generations"]
    capsys.readouterr()
    code = cli.main(["generate", str(ckpt), "--num", "4", "--seed", "3"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and lines == [f"[{r.category:<11}] d1={r.d1:.2f}  {r.text}" for r in gens.itertuples()]
