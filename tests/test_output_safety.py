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

from engine import cli, outputs, zoo

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
