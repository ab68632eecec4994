"""The corpus registry (engine.text.corpora), the sequence length as a choice (corpus, CLI), and the
committed King James Bible corpus against its stated numbers and a fresh rebuild."""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from engine.models import checkpoint
from engine import cli
from engine.text import corpora
from engine.text.corpus import (MAX_SEQ_LEN, MIN_SEQ_LEN, check_seq_len, corpus_from_bytes, load_corpus,
                           oracle_for)
from engine.text.textfile import KJV_PATH, TextFileError, load_kjv
from engine.text.tokenizer import EOS_ID, PAD_ID, UNK_ID, content_mask
from whatif_settings import tiny_settings

REPO = Path(__file__).resolve().parent.parent
TEXT = "\n".join(f"The {a} saw the {b}, and then it ran away towards the {c} before the rain came down."
                 for a in ("cat", "dog", "fox", "owl") for b in ("sun", "moon", "sea", "tree")
                 for c in ("hill", "river")).encode()


def _fingerprint(c) -> str:
    return hashlib.sha256(json.dumps([c.pool, c.test, c.tokenizer.itos, c.seq_len]).encode()).hexdigest()


# ------------------------------------------------------------------------------------------ registry

def test_the_shipped_corpora_are_exactly_what_they_were_before_the_registry():
    """Pools, test sets and vocabularies of grammar and pydocs at L = 16, fingerprinted before the
    registry and the clause cutter existed: the shipped zoo's checkpoints stay reproducible."""
    assert _fingerprint(load_corpus("grammar")) == \
        "2bc8ef09c6fa873469119dac9ee03d9ff157aae4061175bc24bb704a7b6b0f1c"
    assert _fingerprint(load_corpus("pydocs")) == \
        "0174fb03f4bd0a15c304ab134f13567574467042ed12592dd9fde5630473b016"


def test_cli_zoo_and_help_derive_from_the_registry():
    assert {p.corpus.name for p in cli.zoo_plans()} == set(corpora.zoo_sweeps()) >= {"grammar", "pydocs", "kjv"}
    for name, spec in corpora.CORPORA.items():
        assert spec.label in cli.CORPUS_HELP
    zoo = cli.build_parser()._subparsers._group_actions[0].choices["zoo"]
    only = next(a for a in zoo._actions if a.dest == "only")
    assert set(only.choices) == set(corpora.zoo_sweeps())


@pytest.mark.parametrize("name", sorted(corpora.zoo_sweeps()))
def test_the_zoo_plan_is_the_sweep_command_with_the_typed_settings(name):
    """``zoo`` builds its plan from the registry's typed fields; the same settings written out as
    ``sweep`` options (with --half) give the very same configs, so the two commands never disagree."""
    z = corpora.zoo_sweeps()[name]
    [plan] = cli.zoo_plans(only=name)
    args = cli.build_parser().parse_args(
        ["sweep", "--corpus", name, "--sizes", ",".join(map(str, z.sizes)), "--out", "x", "--half",
         "--steps", str(z.steps), "--batch-size", str(z.batch_size), "--lr", repr(z.lr), "--layers", str(z.layers),
         "--d-model", str(z.d_model), "--heads", str(z.heads), "--seeds", str(z.seeds)])
    model_cfg, train_cfg = cli.configs_from(args, plan.corpus.tokenizer.vocab_size, plan.corpus.seq_len)
    assert (plan.model_cfg, plan.train_cfg, plan.measure_cfg) == (model_cfg, train_cfg, cli.measure_config_from(args))
    assert (plan.sizes, plan.seeds, plan.half, plan.projection) == (tuple(args.sizes), args.seeds, args.half, True)
    assert plan.corpus.seq_len == corpora.CORPORA[name].seq_len and args.seq_len is None   # the corpus's own L
    assert cli.zoo_plans(only=name, seeds=3)[0].seeds == 3                                  # --seeds overrides


def test_the_registry_names_the_reference_denoisers():
    """The ideal generalizer exists where the entry says so (the grammar, whose distribution is known,
    at any L); the ideal memorizer everywhere, a user's file included."""
    assert corpora.references_for("grammar") == corpora.references_for("grammar@L32") == ["memorizer", "generalizer"]
    assert corpora.references_for("pydocs") == corpora.references_for("file:notes.txt") == ["memorizer"]


def test_grammar_zoo_settings_are_the_shipped_ones():
    """The values the README's zoo section describes (they built assets/zoo)."""
    g, p = corpora.CORPORA["grammar"].zoo, corpora.CORPORA["pydocs"].zoo
    assert (g.sizes, g.steps, g.batch_size, g.lr, g.layers) == ((16, 64, 256, 512, 1024, 2048, 4096, 8192),
                                                               6000, 128, 3e-3, 6)
    assert (p.sizes, p.steps, p.batch_size, p.lr, p.layers) == ((16, 32, 64, 128, 256, 512, 1024), 1000, 64,
                                                               3e-3, 3)


@pytest.mark.parametrize("name", sorted(corpora.zoo_sweeps()))
def test_the_shipped_zoo_is_what_its_registered_sweep_builds(name):
    """Every corpus's entries in assets/zoo were trained with its registered sweep: one entry per
    size, each with the sweep's architecture, budget and the corpus's vocabulary and length, and
    measured (its summary.json is there). Catches a registry edited without rebuilding the zoo."""
    zoo, spec = REPO / "assets" / "zoo", corpora.CORPORA[name]
    entries = [e for e in json.loads((zoo / "index.json").read_text()) if e["corpus"] == name]
    assert sorted(e["n"] for e in entries) == list(spec.zoo.sizes)
    for e in entries:
        meta = json.loads((zoo / e["path"] / "meta.json").read_text())
        m, t = meta["model_config"], meta["train_config"]
        assert (m["d_model"], m["n_layers"], m["n_heads"], m["seq_len"]) == \
            (spec.zoo.d_model, spec.zoo.layers, spec.zoo.heads, spec.seq_len), e["path"]
        assert (t["steps"], t["batch_size"], t["lr"]) == (spec.zoo.steps, spec.zoo.batch_size, spec.zoo.lr), e["path"]
        assert meta["corpus"] == name and meta["n"] == e["n"]
        assert (zoo / e["path"] / "measure" / "summary.json").is_file(), e["path"]


# ------------------------------------------------------------------------------------------ seq_len

def test_a_corpus_at_another_length_is_named_by_it_and_encodes_to_it():
    c = load_corpus("grammar", 32)
    assert c.name == "grammar@L32" and c.seq_len == 32 and corpora.base_name(c.name) == "grammar"
    assert c.pool == load_corpus("grammar").pool                    # every sentence fits both lengths
    ids = c.encode(c.pool[:3])
    assert ids.shape == (3, 32) and (ids[:, 16:] == PAD_ID).all()
    assert oracle_for(c.name, c.tokenizer)(ids[0].tolist())
    assert oracle_for("file:x.txt@L32", c.tokenizer) is None
    assert load_corpus("grammar", 16).name == "grammar"


@pytest.mark.parametrize("bad", [MIN_SEQ_LEN - 1, MAX_SEQ_LEN + 1, 16.0, True, "32"])
def test_seq_len_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match=f"sequence length must be a whole number between {MIN_SEQ_LEN} and "
                                         f"{MAX_SEQ_LEN}"):
        check_seq_len(bad)
    with pytest.raises(ValueError, match="sequence length"):
        corpus_from_bytes("x.txt", TEXT, bad)


def test_user_file_at_32_keeps_sentences_that_16_cuts():
    at16, at32 = corpus_from_bytes("walks.txt", TEXT, 16), corpus_from_bytes("walks.txt", TEXT, 32)
    assert at32.name == "file:walks.txt@L32" and at16.name == "file:walks.txt"
    assert "32 sentences found, all kept whole" in at32.report
    assert ("each of the 32 sentences found has more than 15 words and punctuation marks, so each was cut "
            "at clause boundaries (64 pieces); 46 repeats dropped: 18 sequences") in at16.report
    assert len(at32.pool) + len(at32.test) == 32 and len(at16.pool) + len(at16.test) == 18
    assert "the owl saw the sea ," in at16.pool + at16.test                  # cut after the comma
    assert all(s.endswith("came down .") for s in at32.pool)


def run_cli(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_trains_at_the_chosen_length_and_prints_the_report(tmp_path, capsys, single_thread):
    path = tmp_path / "walks.txt"
    path.write_bytes(TEXT)
    code, out, err = run_cli(["train", "--corpus", path, "--n", 8, "--steps", 2, "--d-model", 16,
                              "--layers", 1, "--heads", 2, "--seq-len", 32, "--out", tmp_path / "m"], capsys)
    assert code == 0, err
    assert out.startswith("file:walks.txt@L32: Read 32 lines as one sentence per line; 32 sentences found")
    b = checkpoint.load(tmp_path / "m")
    assert b.config.seq_len == 32 and b.train_ids.shape == (8, 32) and b.corpus == "file:walks.txt@L32"
    assert (b.train_ids[content_mask(b.train_ids)] != PAD_ID).all()


@pytest.mark.parametrize("value", ["15", "65", "x"])
def test_cli_refuses_a_bad_seq_len(value, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--corpus", "grammar", "--n", "8", "--seq-len", value, "--out", str(tmp_path / "m")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--seq-len" in err and ("between 16 and 64" in err or "whole number" in err)
    assert not (tmp_path / "m").exists()


# ------------------------------------------------------------------------------------------ kjv

def _build_script():
    spec = importlib.util.spec_from_file_location("build_kjv", REPO / "scripts" / "build_kjv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kjv_file_matches_its_provenance_note():
    note = (REPO / "assets" / "corpora" / "KJV.md").read_text()
    assert hashlib.sha256(KJV_PATH.read_bytes()).hexdigest() in note
    assert hashlib.sha256(gzip.decompress(KJV_PATH.read_bytes())).hexdigest() in note
    sentences = load_kjv()
    assert len(sentences) == len(set(sentences)) == 28_123
    assert sentences[0] == "In the beginning God created the heaven and the earth."
    assert sentences[-1] == "Even so, come, Lord Jesus."     # Rev 22:20; the sentences of 22:21 occur earlier
    assert KJV_PATH.stat().st_size < 2 * 1024 * 1024


def test_kjv_corpus_meets_the_issue_requirements():
    """>= 30,000 distinct sequences at its L, <= 10 % unknown tokens after the vocabulary cap."""
    c = load_corpus("kjv")
    assert c.seq_len == 16 and c.tokenizer.vocab_size == 2000
    assert len(c.pool) + len(c.test) >= 30_000 and not set(c.pool) & set(c.test)
    ids = c.encode(c.pool[:20_000] + c.test)
    words = content_mask(ids) & (ids != EOS_ID)
    unknown = ((ids == UNK_ID) & words).sum().item() / words.sum().item()
    assert 0.04 < unknown <= 0.10
    assert corpora.CORPORA["kjv"].zoo.sizes[-1] == 16_384 <= len(c.pool)


def test_load_kjv_missing_file(tmp_path):
    with pytest.raises(TextFileError, match="missing.*build_kjv.py.*apt-get install -y bible-kjv"):
        load_kjv(tmp_path / "gone.txt.gz")


def test_kjv_build_refuses_clearly_without_the_package(monkeypatch):
    build = _build_script()
    monkeypatch.setattr(build.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="apt-get install -y bible-kjv"):
        build.verses()


@pytest.mark.skipif(shutil.which("bible") is None or not Path("/usr/lib/bible.data").is_file(),
                    reason="Debian's bible-kjv is not installed (apt-get install -y bible-kjv)")
def test_rebuilding_reproduces_the_committed_kjv_corpus(tmp_path):
    build = _build_script()
    counts = build.build(tmp_path / "kjv.txt.gz")
    assert counts == {"verses": 31_102, "sentences": 28_123, "bytes": KJV_PATH.stat().st_size}
    assert (tmp_path / "kjv.txt.gz").read_bytes() == KJV_PATH.read_bytes()


# ------------------------------------------------------------------------------------------ what-if

WHATIF = str(REPO / "explorer" / "pages" / "whatif.py")


def test_whatif_offers_the_registry_and_trains_at_the_chosen_length(runs_dir, single_thread):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(WHATIF, default_timeout=300).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.radio(key="wi_source").options == [s.label for s in corpora.CORPORA.values()] + ["my own text file"]
    assert at.number_input(key="wi_seq_len_grammar").value == 16
    assert any(c.value.startswith("8,192 sentences found, all kept whole") for c in at.caption)
    at.number_input(key="wi_seq_len_grammar").set_value(32)
    tiny_settings(at, n=8, steps=10)
    assert any(c.value.startswith("grammar@L32: 8,192 training sentences") for c in at.caption)
    at.button(key="wi_train").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    from explorer.whatif import jobs

    assert jobs.registry().wait(timeout=300).state == "done"       # the run belongs to the server
    index = json.loads((runs_dir / "index.json").read_text())
    assert [(e["corpus"], e["n"]) for e in index] == [("grammar@L32", 8)]
    assert checkpoint.load(runs_dir / index[0]["path"]).config.seq_len == 32


def test_whatif_upload_caption_says_what_was_cut(runs_dir):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(WHATIF, default_timeout=120).run()
    at.radio(key="wi_source").set_value("upload").run()
    at.file_uploader(key="wi_file").set_value(("walks.txt", TEXT, "text/plain")).run()
    assert not at.exception and not at.error
    assert any("each of the 32 sentences found has more than 15 words" in c.value for c in at.caption)
    at.number_input(key="wi_seq_len_upload").set_value(32).run()
    assert not at.error
    assert any(c.value.startswith("file:walks.txt@L32: 28 training sentences") for c in at.caption)
    assert any("32 sentences found, all kept whole" in c.value for c in at.caption)
