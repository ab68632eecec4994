"""Output safety (issue 23): nothing outside what the engine wrote is ever written or deleted.

Each case builds a sandbox folder beside an ``outside`` folder of a user's files, puts a hostile or
careless thing where the engine writes (a symbolic link to an outside file, a user's file with the
lock's name, ...), runs the engine and checks that every outside file hashes as before and that the
thing itself is left as it was.
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from engine import cli
from engine.store import outputs
from engine.runs import zoo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_battery_engine import run_cli, tree_hash  # noqa: E402


@pytest.fixture
def outside(tmp_path):
    """A user's folder outside the sandbox, with files no command may touch."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret.txt").write_text("a user's file: must never change\n")
    (d / "empty.txt").write_text("")
    return d


@pytest.fixture
def box(tmp_path):
    d = tmp_path / "box"
    d.mkdir()
    return d


@pytest.fixture
def corpus_file(tmp_path):
    p = tmp_path / "corpus.txt"
    words = "the cat sat on a mat while my dog ran to the park and we all sang one old song".split()
    p.write_text("\n".join(f"{words[i % 20]} {words[(3 * i + 1) % 20]} {words[(7 * i + 2) % 20]} number {i}."
                           for i in range(40)) + "\n")
    return p


def snapshot(p: Path):
    """What a path is, without following it: ('link', target) / ('file', sha256) / ('dir',) / ..."""
    if p.is_symlink():
        return ("link", os.readlink(p))
    if not p.exists():
        return ("absent",)
    if p.is_file():
        return ("file", hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_ino)
    return ("dir",) if p.is_dir() else ("special",)


def _train(out, corpus):
    return ["train", "--corpus", corpus, "--n", "8", "--out", out, "--steps", "2", "--batch-size", "4",
            "--d-model", "16", "--layers", "1", "--heads", "2"]


# ---------------------------------------------------------------- 1. lock files never follow links

LOCK_REFUSED = {
    "link to a user file": (lambda lp, out: lp.symlink_to(out / "secret.txt"), "is a symbolic link"),
    "link to an empty user file": (lambda lp, out: lp.symlink_to(out / "empty.txt"), "is a symbolic link"),
    "dangling link": (lambda lp, out: lp.symlink_to(out / "created.txt"), "is a symbolic link"),
    "link to a folder": (lambda lp, out: lp.symlink_to(out), "is a symbolic link"),
    "user file": (lambda lp, out: lp.write_text("my notes, not a lock\n"), "not a Basin Explorer lock"),
    "hard link": (lambda lp, out: os.link(out / "secret.txt", lp), "hard link"),
    "hard link to an empty file": (lambda lp, out: os.link(out / "empty.txt", lp), "hard link"),
    "folder": (lambda lp, out: (lp.mkdir(), (lp / "keep.txt").write_text("keep")), "not a regular file"),
    "fifo": (lambda lp, out: os.mkfifo(lp), "not a regular file"),
}


def _lock_place(where: str, box: Path) -> tuple[Path, Path]:
    """(the output place, its lock file) for each writer that takes a lock."""
    if where == "index":
        (box / "sw").mkdir()
        return box / "sw", box / "sw" / ".index.lock"
    return box / "out", box / ".out.lock"


def _use(where: str, place: Path, corpus_file, capsys) -> tuple[int, str]:
    """Run the writer of ``where`` on ``place``: (exit code, message)."""
    if where == "train":
        return run_cli(_train(place, corpus_file), capsys)
    try:
        if where == "claim":  # the What-if runs folder and sweeps claim their folder so
            with outputs.claim(place, outputs.SWEEP):
                pass
        else:
            zoo.update_index(place, "c", 8, place / "c" / "n00008")
    except outputs.OutputError as e:
        return 2, str(e)
    return 0, ""


@pytest.mark.parametrize("case", sorted(LOCK_REFUSED))
@pytest.mark.parametrize("where", ["train", "claim", "index"])
def test_a_lock_path_that_is_not_ours_is_refused_and_left_alone(where, case, box, outside, corpus_file, capsys):
    place, lp = _lock_place(where, box)
    make, fragment = LOCK_REFUSED[case]
    make(lp, outside)
    before, lock_before = tree_hash(outside), snapshot(lp)
    code, err = _use(where, place, corpus_file, capsys)
    assert code == 2 and fragment in err and str(lp) in err
    assert tree_hash(outside) == before                      # the link's target is untouched
    assert snapshot(lp) == lock_before                       # the thing itself is neither emptied nor deleted
    assert not (place / "index.json").exists() and not (place / "meta.json").exists()


LOCK_OURS = {"none": None, "empty": "", "a killed run's": f"{outputs.LOCK_STAMP} 99999999 {'0' * 32}\n",
             "an older version's (bare pid)": "99999999"}


@pytest.mark.parametrize("case", sorted(LOCK_OURS))
@pytest.mark.parametrize("where", ["train", "claim", "index"])
def test_a_stale_lock_of_ours_is_taken_over(where, case, box, corpus_file, capsys):
    place, lp = _lock_place(where, box)
    if LOCK_OURS[case] is not None:
        lp.write_text(LOCK_OURS[case])
    code, err = _use(where, place, corpus_file, capsys)
    assert code == 0, err
    if where == "index":  # index.json's lock stays, stamped by us
        assert lp.read_text().startswith(outputs.LOCK_STAMP) and zoo.read_index(place)
    else:
        assert not lp.exists()


def test_a_lock_replaced_while_held_is_not_deleted(box, outside):
    """Release deletes the lock file only while the name still is the file we locked."""
    lp = box / ".out.lock"
    with outputs.claim(box / "out", outputs.CHECKPOINT):
        lp.unlink()
        lp.symlink_to(outside / "secret.txt")
    assert lp.is_symlink() and (outside / "secret.txt").read_text().startswith("a user's file")


# ---------------------------------------------------------------- 2. writes through links, foreign files

@pytest.fixture
def ckpt(box):
    """A tiny checkpoint written by this engine (with its marker) and one measured table."""
    import torch

    from engine.models.checkpoint import save
    from engine.models.model import Denoiser, ModelConfig
    from engine.text.tokenizer import WordTokenizer
    from engine.models.train import TrainConfig

    torch.manual_seed(0)
    ids = torch.randint(0, 7, (6, 5), generator=torch.Generator().manual_seed(1))
    path = save(box / "ck", Denoiser(ModelConfig(vocab_size=7, seq_len=5, d_model=16, n_layers=1, n_heads=2)).eval(),
                WordTokenizer(list("abcd")), ids, ids[:3], TrainConfig(steps=5, batch_size=8, warmup=2), "unit-test")
    return path


def _evaluation():
    import pandas as pd

    from engine.measures.evaluation import Evaluation

    return Evaluation({"entropy": pd.DataFrame({"split": ["train"], "t": [0.5], "entropy": [1.0]})},
                      {"corpus": "unit-test", "tables": {}})


WRITE_LINKS = {  # what is linked inside the checkpoint -> refused (a fragment) or replaced (None)
    "measure/ links to a user folder": (lambda ck, out: (ck / "measure").symlink_to(out), "is a symbolic link"),
    "measure/ is a dangling link": (lambda ck, out: (ck / "measure").symlink_to(out / "made"), "is a symbolic link"),
    "summary.json links to a user file": (
        lambda ck, out: ((ck / "measure").mkdir(), (ck / "measure" / "summary.json").symlink_to(out / "secret.txt")), None),
    "a table links to a user file": (
        lambda ck, out: ((ck / "measure").mkdir(),
                         (ck / "measure" / "entropy.parquet").symlink_to(out / "secret.txt")), None),
}


@pytest.mark.parametrize("case", sorted(WRITE_LINKS))
def test_tables_are_never_written_through_a_link(case, ckpt, outside):
    from engine.measures.evaluation import save_evaluation

    make, fragment = WRITE_LINKS[case]
    make(ckpt, outside)
    before = tree_hash(outside)
    if fragment is None:  # the link itself is replaced by our file; its target is untouched
        save_evaluation(_evaluation(), ckpt)
        assert not (ckpt / "measure" / "summary.json").is_symlink()
        assert not (ckpt / "measure" / "entropy.parquet").is_symlink()
    else:
        with pytest.raises(ValueError, match=fragment):
            save_evaluation(_evaluation(), ckpt)
        assert (ckpt / "measure").is_symlink()
    assert tree_hash(outside) == before and not (outside / "made").exists()


def test_measure_refuses_a_linked_checkpoint(ckpt, box, outside):
    from engine.measures.evaluation import MeasureConfig
    from engine.runs.sweep import measure_entry

    (box / "link").symlink_to(ckpt)
    before = tree_hash(ckpt)
    with pytest.raises(outputs.OutputError, match="is a symbolic link"):
        measure_entry(box / "link", MeasureConfig(n_train=1, n_test=1, trials=1, levels=(0.5,), n_generate=1))
    assert tree_hash(ckpt) == before


def _legacy(ck: Path) -> None:
    """Make ``ck`` look like a checkpoint written before markers."""
    (ck / ".basin-explorer").unlink()


OVERWRITE_REFUSED = {  # what the user put into a checkpoint -> the fragment of the refusal
    "notes.txt": (lambda ck, out: (ck / "notes.txt").write_text("my notes"), "notes.txt"),
    "notes.txt in an old checkpoint": (lambda ck, out: (_legacy(ck), (ck / "notes.txt").write_text("mine")),
                                       "notes.txt"),
    "a plot in measure/": (lambda ck, out: ((ck / "measure").mkdir(), (ck / "measure" / "plot.png").write_bytes(b"x")),
                           "measure/plot.png"),
    "a folder of the user's": (lambda ck, out: ((ck / "drafts").mkdir(), (ck / "drafts" / "a.txt").write_text("a")),
                               "drafts/a.txt"),
    "an empty folder": (lambda ck, out: (ck / "empty").mkdir(), "empty/"),
    "a link to a user file": (lambda ck, out: (ck / "secret.txt").symlink_to(out / "secret.txt"), "secret.txt"),
    "a file the marker does not list": (lambda ck, out: (ck / "extra.safetensors").write_bytes(b"x"),
                                        "extra.safetensors"),
    "a table an old checkpoint's registry does not name": (
        lambda ck, out: (_legacy(ck), (ck / "measure").mkdir(), (ck / "measure" / "mine.parquet").write_bytes(b"x")),
        "measure/mine.parquet"),
}


@pytest.mark.parametrize("case", sorted(OVERWRITE_REFUSED))
def test_overwrite_refuses_a_checkpoint_holding_a_users_files(case, ckpt, outside, corpus_file, capsys):
    make, fragment = OVERWRITE_REFUSED[case]
    make(ckpt, outside)
    before, outside_before = tree_hash(ckpt), tree_hash(outside)
    code, err = run_cli(_train(ckpt, corpus_file) + ["--overwrite"], capsys)
    assert code == 2 and "holds files Basin Explorer did not write" in err and fragment in err
    assert tree_hash(ckpt) == before and tree_hash(outside) == outside_before


@pytest.mark.parametrize("case", ["marked", "old, unmarked", "old, with measured tables"])
def test_overwrite_replaces_our_own_files(case, ckpt, corpus_file, capsys):
    if case != "marked":
        _legacy(ckpt)
    if case == "old, with measured tables":
        from engine.measures.evaluation import save_evaluation

        save_evaluation(_evaluation(), ckpt)
        (ckpt / "measure" / ".entropy.parquet.abcd1234.tmp").write_bytes(b"killed")
    code, err = run_cli(_train(ckpt, corpus_file) + ["--overwrite"], capsys)
    assert code == 0, err
    assert sorted(os.listdir(ckpt)) == [".basin-explorer", "data.safetensors", "meta.json", "model.safetensors"]


def test_a_forged_one_key_meta_json_is_not_a_checkpoint(box, corpus_file, capsys):
    forged = box / "forged"
    forged.mkdir()
    (forged / "meta.json").write_text('{"format": "basin-explorer-checkpoint"}')
    (forged / "thesis.txt").write_text("three years of work")
    before = tree_hash(forged)
    code, err = run_cli(_train(forged, corpus_file) + ["--overwrite"], capsys)
    assert code == 2 and "not written by Basin Explorer" in err and tree_hash(forged) == before


def test_the_zoo_checkpoints_stay_ours_and_loadable(tmp_path):
    """The checkpoints in assets/zoo predate markers: they load, and --overwrite may replace them."""
    import shutil

    from engine.models.checkpoint import load

    zoo_root = Path(__file__).resolve().parent.parent / "assets" / "zoo"
    entry = zoo.read_index(zoo_root)[0]
    copy = tmp_path / "copy"
    shutil.copytree(zoo_root / entry["path"], copy)
    assert not (copy / ".basin-explorer").exists() and (copy / "measure").is_dir()
    assert outputs.kind_of(copy) == outputs.CHECKPOINT and load(copy).n == entry["n"]
    assert outputs.check(copy, outputs.CHECKPOINT, overwrite=True) == copy
    (copy / "notes.txt").write_text("mine")
    with pytest.raises(outputs.OutputError, match="notes.txt"):
        outputs.check(copy, outputs.CHECKPOINT, overwrite=True)


LEFTOVERS = {  # a folder beside the checkpoint named like a scratch folder -> whether it is ours
    "ours (marked)": True,
    "a user's folder": False,
    "a marker naming another folder": False,
    "a link to a marked folder": False,
}


@pytest.mark.parametrize("case", sorted(LEFTOVERS))
def test_clean_up_removes_only_scratch_folders_marked_as_ours(case, ckpt, box, outside):
    from engine.store import markers
    from engine.models.checkpoint import load, save

    q = box / ".ck.abcdefgh.old"
    if case == "a link to a marked folder":
        (outside / ".ck.abcdefgh.old").mkdir()
        markers.mark_scratch(outside / ".ck.abcdefgh.old")
        q.symlink_to(outside / ".ck.abcdefgh.old")
    else:
        q.mkdir()
        (q / "thesis.txt").write_text("three years of work")
        if case == "ours (marked)":
            markers.mark_scratch(q)
        elif case == "a marker naming another folder":
            (q / markers.SCRATCH).write_text(f".ck.zzzzzzzz.old {'0' * 32}\n")
    before, outside_before = tree_hash(q) if not q.is_symlink() else None, tree_hash(outside)
    b = load(ckpt)
    save(ckpt, b.model, b.tokenizer, b.train_ids, b.test_ids, b.train_config, "again", overwrite=True)
    assert (not os.path.lexists(q)) == LEFTOVERS[case]
    if not LEFTOVERS[case] and before is not None:
        assert tree_hash(q) == before
    assert tree_hash(outside) == outside_before


INDEXES = {  # index.json in a folder that is not marked as a sweep -> whether a sweep adopts it
    "any list": ('[{"corpus": "x", "n": 1, "path": "y"}]', False),
    "a path outside": ('[{"corpus": "x", "n": 1, "path": "../outside"}]', False),
    "an entry that is a user folder": ('[{"corpus": "x", "n": 1, "path": "thesis"}]', False),
    "an entry that is a checkpoint of ours": ('[{"corpus": "x", "n": 6, "path": "ck"}]', True),
}


@pytest.mark.parametrize("case", sorted(INDEXES))
def test_a_sweep_adopts_only_a_folder_of_ours(case, ckpt, box, outside, corpus_file, capsys):
    text, adopted = INDEXES[case]
    (box / "index.json").write_text(text)
    (box / "thesis").mkdir()
    (box / "thesis" / "thesis.txt").write_text("three years of work")
    os.chdir(box.parent)  # (box's parent is tmp_path: never the cwd or above it)
    if adopted:
        assert outputs.kind_of(box) == outputs.SWEEP
        return
    before, outside_before = tree_hash(box), tree_hash(outside)
    code, err = run_cli(["sweep", "--corpus", corpus_file, "--sizes", "8", "--out", box, "--steps", "2"], capsys)
    assert code == 2 and "not written by Basin Explorer" in err
    assert tree_hash(box) == before and tree_hash(outside) == outside_before


# ---------------------------------------------------------------- 3. a resumed sweep checks its tables

@pytest.fixture(scope="module")
def measured_sweep(tmp_path_factory):
    """A tiny finished sweep (grammar, N = 4, one seed, no projection) and its tables, built once."""
    import pandas as pd

    from engine.runs import backends
    from engine.text.corpus import grammar_corpus
    from engine.models.model import ModelConfig
    from engine.runs.sweep import run_sweep
    from test_sweep_backends import MEASURE, TRAIN

    corpus = grammar_corpus()
    cfg = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=corpus.seq_len, d_model=16, n_layers=1,
                      n_heads=2)
    root = tmp_path_factory.mktemp("resume") / "sweep"
    run_sweep(corpus, [4], root, cfg, TRAIN, MEASURE, projection=False, backend=backends.LocalBackend(threads=1))
    tables = {p.stem: pd.read_parquet(p) for p in (root / "grammar" / "n00004" / "measure").glob("*.parquet")}
    return root, corpus, cfg, tables


def _resume(measured_sweep, tmp_path, damage):
    import shutil

    from engine.runs import backends
    from engine.runs.sweep import run_sweep
    from test_sweep_backends import MEASURE, TRAIN

    src, corpus, cfg, _ = measured_sweep
    root = tmp_path / "sweep"
    shutil.copytree(src, root)
    damage(root, root / "grammar" / "n00004" / "measure")
    return root, run_sweep(corpus, [4], root, cfg, TRAIN, MEASURE, projection=False,
                           backend=backends.LocalBackend(threads=1))


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _drop_column(p: Path) -> None:
    import pandas as pd

    df = pd.read_parquet(p)
    df.drop(columns=[df.columns[-1]]).to_parquet(p)


DAMAGE = {
    "truncated table": lambda root, m: _truncate(m / "recovery.parquet"),
    "table without a column": lambda root, m: _drop_column(m / "recovery.parquet"),
    "table of junk": lambda root, m: (m / "entropy.parquet").write_bytes(b"not parquet"),
    "deleted summary.json": lambda root, m: (m / "summary.json").unlink(),
    "summary.json of junk": lambda root, m: (m / "summary.json").write_text("{"),
    "deleted index.json": lambda root, m: (root / "index.json").unlink(),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_resumed_sweep_measures_damaged_tables_again(case, measured_sweep, tmp_path):
    import pandas as pd

    root, results = _resume(measured_sweep, tmp_path, DAMAGE[case])
    measure = root / "grammar" / "n00004" / "measure"
    for name, df in measured_sweep[3].items():  # every table as first measured (same seeds, same numbers)
        pd.testing.assert_frame_equal(pd.read_parquet(measure / f"{name}.parquet"), df)
    table = pd.read_csv(root / "grammar" / "sweep.csv")
    assert set(zip(table["n"], table["seed"])) == {(4, 0)} and len(table) == len(results) > 0
    assert not list(measure.glob(".*.tmp"))


SCRATCH = {  # a file in measure/ or the sweep folder -> whether a re-run removes it
    "measure/.recovery.parquet.abcd1234.tmp": True,
    "measure/.summary.json.x_y9zzzz.tmp": True,
    ".index.json.abcd1234.tmp": True,
    "measure/.recovery.parquet.notes.tmp": False,    # not the shape of our scratch name
    "measure/recovery-notes.tmp": False,
    ".index.json.abcd1234.tmp.bak": False,
}


def test_a_killed_measures_tmp_files_are_removed_by_the_next_run(measured_sweep, tmp_path, outside):
    import fcntl

    held = []

    def damage(root, m):
        for rel in SCRATCH:
            (root / "grammar" / "n00004" / rel if rel.startswith("measure/") else root / rel).write_bytes(b"killed")
        (m / ".entropy.parquet.abcd1234.tmp").symlink_to(outside / "secret.txt")    # a link: never followed
        (m / ".basins.parquet.live1234.tmp").write_bytes(b"a live writer's")       # flock-ed: kept
        held.append(os.open(m / ".basins.parquet.live1234.tmp", os.O_RDONLY))
        fcntl.flock(held[-1], fcntl.LOCK_EX)

    before = tree_hash(outside)
    try:
        root, _ = _resume(measured_sweep, tmp_path, damage)
    finally:
        for fd in held:
            os.close(fd)
    for rel, removed in SCRATCH.items():
        p = root / "grammar" / "n00004" / rel if rel.startswith("measure/") else root / rel
        assert p.exists() != removed, rel
    m = root / "grammar" / "n00004" / "measure"
    assert (m / ".entropy.parquet.abcd1234.tmp").is_symlink() and (m / ".basins.parquet.live1234.tmp").exists()
    assert tree_hash(outside) == before


def test_sweep_csv_lists_every_entry_or_the_sweep_fails_naming_it(measured_sweep, tmp_path, monkeypatch):
    from engine.runs import sweep
    from engine.runs.sweep import SweepFailed

    real = sweep.results_table
    monkeypatch.setattr(sweep, "results_table", lambda root, name: real(root, name).iloc[:0])
    with pytest.raises(SweepFailed) as failed:
        _resume(measured_sweep, tmp_path, lambda root, m: None)
    assert [label for label, _ in failed.value.failures] == ["sweep.csv grammar N=4 seed=0"]
    assert "no row in sweep.csv" in failed.value.failures[0][1]


def test_sweep_marker_is_written_once_with_an_id_and_old_markers_still_count(tmp_path):
    """``markers.mark_sweep`` (the sweep's and What-if's one writer of the marker) leaves "Basin
    Explorer <what>" and a random id, keeps a marker already there, and the shipped zoo's marker
    (written before ids) still makes its folder a sweep."""
    from engine.store import markers

    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        markers.mark_sweep(folder, "sweep: entries may be replaced")
    texts = [(f / markers.SWEEP_MARKER).read_text() for f in (first, second)]
    assert all(t.startswith("Basin Explorer sweep: entries may be replaced\nid ") for t in texts)
    assert texts[0] != texts[1] and [p.name for p in first.iterdir()] == [markers.SWEEP_MARKER]
    markers.mark_sweep(first, "what-if runs")
    assert (first / markers.SWEEP_MARKER).read_text() == texts[0] and markers.is_sweep(first)
    zoo_dir = Path(__file__).resolve().parent.parent / "assets" / "zoo"
    assert (zoo_dir / markers.SWEEP_MARKER).read_text().startswith("Basin Explorer") and markers.is_sweep(zoo_dir)
    assert outputs.kind_of(zoo_dir) == outputs.SWEEP
