"""Live actions that take time, bounded and shown (issue 21.7): the wall-clock ``Budget`` against a fake
clock and the arithmetic of equal pieces; the seed search that stops at its budget and says where to
go on; Generate's draw from the stored pool against numpy's own draw, and its live samples, denoised
eight at a time, against one engine generator seeded once."""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from engine.models import checkpoint
from engine.models.model import Denoiser
from engine.diffusion.sample import generate
from explorer import data, model
from explorer.views import partners
from explorer.budget import Budget, spare_threads

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")
DENOISE = str(REPO / "explorer" / "pages" / "denoise.py")

pytestmark = pytest.mark.usefixtures("single_thread")


class FakeClock:
    """A clock that moves only when told: ``clock.now += seconds``."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def walk(budget: Budget, clock: FakeClock, durations: list[float]) -> list[float]:
    """The start times of the pieces the budget lets run, each taking its duration."""
    starts = []
    for d in durations:
        if not budget.fits():
            break
        starts.append(clock.now - budget.start)
        clock.now += d
    return starts


# ----------------------------------------------------------------------------------------------- Budget

@pytest.mark.parametrize("seconds, piece", [(10, 3), (10, 2.5), (10, 4), (1, 0.3), (0, 1), (5, 7), (30, 0.7)])
def test_equal_pieces_fill_the_budget_and_never_pass_it(seconds, piece):
    """With pieces of equal length d the walk runs max(1, floor(B / d)) of them (the first always), and
    ends within the budget unless the first piece alone is longer."""
    clock = FakeClock()
    budget = Budget(seconds, clock)
    starts = walk(budget, clock, [piece] * 100)
    assert len(starts) == max(1, math.floor(seconds / piece + 1e-9))
    assert starts == pytest.approx([k * piece for k in range(len(starts))])
    assert budget.elapsed() <= max(seconds, piece) + 1e-9


def test_a_slow_piece_stops_the_walk_before_it_would_overrun():
    clock = FakeClock()
    budget = Budget(10, clock)
    # 1 s, 1 s, then a 5 s piece: at 7 s one more 5 s piece would end at 12 s > 10 s
    assert walk(budget, clock, [1, 1, 5, 1, 1, 1]) == [0, 1, 2]
    assert budget.slowest == 5 and budget.elapsed() == 7


def test_no_budget_runs_every_piece_and_a_negative_one_is_refused():
    clock = FakeClock()
    assert len(walk(Budget(math.inf, clock), clock, [60.0] * 50)) == 50
    for bad in (-1, float("nan")):
        with pytest.raises(ValueError, match="seconds >= 0"):
            Budget(bad, clock)


@pytest.mark.parametrize("most, cpus, load, threads", [(2, 2, 4.7, 1), (8, 8, 0.2, 8), (4, 8, 0.0, 4),
                                                        (8, 8, 3.4, 5), (8, 8, 3.6, 4), (2, 2, 0.0, 2)])
def test_spare_threads_leave_the_busy_cores_alone(most, cpus, load, threads):
    assert spare_threads(most, cpus, load) == threads


# ------------------------------------------------------------------------------------------ seed search

def test_the_seed_search_stops_at_its_budget(zoo):
    """A model beside itself ends alike on every seed; with each batch taking 4 s on the fake clock a
    10 s budget checks two batches of SEARCH_CHUNK seeds (the third would end at 12 s) and says where
    to go on; without a budget it checks the whole range."""
    path = str(zoo / "grammar" / "n00008")
    spec = (model.load(path), None, "exact")
    x0 = checkpoint.load(path).train_ids[1].tolist()
    clock, reports = FakeClock(), []

    def report(tried, total, seconds):
        reports.append((tried, total, seconds))
        clock.now += 4

    r = partners.first_differing_seed(spec, spec, x0, 0.5, 10, 100, False, 10, clock, report)
    k = partners.SEARCH_CHUNK
    assert r == partners.Search(None, 10, 109, 2 * k) and r.ran_out and r.resume == 10 + 2 * k
    assert reports == [(k, 100, 0.0), (2 * k, 100, 4.0)]
    whole = partners.first_differing_seed(spec, spec, x0, 0.5, 10, 100, False)
    assert whole == partners.Search(None, 10, 109, 100) and not whole.ran_out


def test_denoise_says_how_far_the_search_got_and_goes_on_from_there(runs_dir, monkeypatch):
    """Models stubbed to end alike on every seed, a budget of 0 s: one batch, a warning with the range
    checked, a progress bar on the way, and a button that goes on from the next seed."""
    monkeypatch.setattr(partners, "SEARCH_SECONDS", 0)
    monkeypatch.setattr(partners, "_candidates", lambda *args: [])
    at = AppTest.from_file(DENOISE, default_timeout=60)
    for k, v in dict(n=8, split="train", example=1, t=0.5, seed=3).items():
        at.query_params[k] = str(v)
    at.run()
    at.toggle(key="dn_compare").set_value(True).run()
    assert at.button(key="dn_find").label == "Find a seed where they differ (next 100 seeds, at most 0 s)"
    at.button(key="dn_find").click().run()
    assert not at.exception and not at.error
    k = partners.SEARCH_CHUNK
    assert any(f"budget ran out after seeds 4 – {3 + k} of 4 – 103" in w.value and f"from seed {4 + k}" in w.value
               for w in at.warning)
    assert at.query_params["seed"] == "3"                                   # nothing found: the seed stays
    assert at.button(key="dn_find").label == f"Go on from seed {4 + k} (next 100 seeds, at most 0 s)"
    at.button(key="dn_find").click().run()
    assert any(f"after seeds {4 + k} – {3 + 2 * k} of {4 + k} – {103 + k}" in w.value for w in at.warning)
    at.number_input(key="dn_seed").set_value(50).run()                     # another seed: a new search
    assert at.button(key="dn_find").label.startswith("Find a seed where they differ")


# ---------------------------------------------------------------------------------------------- Generate

@pytest.fixture
def generate_page(runs_dir):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["n"] = "32"
    at.query_params["seed"] = "7"
    at.run()
    return at.switch_page("explorer/pages/generate.py").run()


@pytest.fixture
def pool_of_128(zoo, monkeypatch):
    """The tiny zoo stores 8 generations, all of them padding: the stored table of N = 32 sixteen times
    over, each row with a sentence of its own."""
    stored = pd.read_parquet(zoo / "grammar" / "n00032" / "measure" / "generations.parquet")
    pool = pd.concat([stored] * 16, ignore_index=True).assign(text=[f"sentence {i}" for i in range(128)])
    real = data.generations
    monkeypatch.setattr(data, "generations", lambda path, step: pool if path.endswith("n00032") else real(path, step))
    return pool


@pytest.fixture
def random_model(zoo, monkeypatch):
    """N = 32 with a freshly initialised network in place of its trained one (which writes nothing but
    padding), so that every seed writes other sentences; the app's caches are emptied around it."""
    path = zoo / "grammar" / "n00032"
    torch.manual_seed(1)
    b = checkpoint.load(path)
    b = dataclasses.replace(b, model=Denoiser(b.config).eval())
    real = data.bundle
    monkeypatch.setattr(data, "bundle", lambda p: b if Path(p) == path else real(p))
    st.cache_data.clear()
    yield str(path), b
    st.cache_data.clear()


def reference_samples(b, path: str, seed: int, count: int) -> list[str]:
    """``count`` samples, eight at a time, from one torch generator seeded once, as the page shows them."""
    steps = json.loads((Path(path) / "measure" / "summary.json").read_text())["measure_config"]["gen_steps_per_unit"]
    gen = torch.Generator().manual_seed(seed)
    ids = torch.cat([generate(b.model, 8, b.noise, b.config.seq_len, generator=gen, steps_per_unit=steps)
                     for _ in range(-(-count // 8))])[:count]
    return [s if s.strip() else "(empty: only padding)" for s in map(b.tokenizer.decode, ids.tolist())]


def test_sample_draws_from_the_stored_pool_by_seed(generate_page, pool_of_128):
    at = generate_page
    at.slider(key="gen_count").set_value(5).run()
    at.button(key="gen_sample").click().run()
    assert not at.exception and not at.error
    rows = np.random.default_rng(7).choice(128, size=5, replace=False)
    assert list(at.dataframe[1].value["sentence"]) == [f"sentence {i}" for i in rows]
    assert any("5 of the 128 generations stored" in c.value for c in at.caption)
    # drawn without replacement, the same rows for the same seed, other rows for another
    draw = data.pool_draw("x/n00032", "exact", 7, 64)
    assert draw["text"].is_unique and draw.equals(data.pool_draw("x/n00032", "exact", 7, 64))
    assert not draw.equals(data.pool_draw("x/n00032", "exact", 8, 64))


def test_denoise_new_ones_matches_one_generator_seeded_once(generate_page, random_model):
    """12 live samples = two chunks of 8 from one torch generator seeded with 7, cut to 12 (so 8 of
    them are exactly ``generate(model, 8, seed 7)``), with the time they took said on the page."""
    path, b = random_model
    at = generate_page
    at.slider(key="gen_count").set_value(12).run()
    at.button(key="gen_live").click().run()
    assert not at.exception and not at.error
    shown = list(at.dataframe[1].value["sentence"])
    assert shown == reference_samples(b, path, 7, 12) and len(set(shown)) > 6
    caption = next(c.value for c in at.caption if c.value.startswith("12 samples denoised"))
    assert "s per sample" in caption and "same seed gives the same sentences" in caption


def test_live_generations_reports_each_chunk(random_model):
    path, b = random_model
    clock, reports = FakeClock(), []

    def report(done, total, seconds):
        reports.append((done, total, seconds))
        clock.now += 2

    table = data.live_generations(path, 3, 20, "exact", report, clock)
    assert reports == [(8, 20, 0.0), (16, 20, 2.0), (20, 20, 4.0)]
    assert list(table["sample"]) == list(range(20))
    assert list(table["text"].replace("", "(empty: only padding)")) == reference_samples(b, path, 3, 20)
    assert table.head(5).equals(data.live_generations(path, 3, 5))     # more samples only add to them


# ------------------------------------------------------------------------------- one loaded model, handed down

def test_a_rewritten_checkpoint_is_a_new_model_and_a_new_cache_key(zoo, tmp_path):
    """``model.load`` is one object per version of the checkpoint's files: the same object while they
    are unchanged, a new one (with another key) once one is rewritten; a computation cached on it
    (``partners.denoise_run``) equals a run on the engine's own bundle."""
    import os
    import shutil

    from explorer import trajectory as tj

    path = tmp_path / "n00008"
    shutil.copytree(zoo / "grammar" / "n00008", path)
    first = model.load(str(path))
    assert model.load(str(path)) is first and first.key == (str(path), data.stamp(data.model_files(str(path))))
    x0 = first.train_ids[1].tolist()
    r = partners.denoise_run(first, x0, 0.5, 3, False)
    b = checkpoint.load(path)
    assert np.array_equal(r.tokens, tj.run(b.model, b.noise, torch.tensor(x0), 0.5, 3).tokens)
    assert first.sentences("train") == [b.tokenizer.decode(row) for row in b.train_ids.tolist()]
    weights = path / "model.safetensors"
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))   # a coarse clock: a later time
    second = model.load(str(path))
    assert second is not first and second.key != first.key
    assert np.array_equal(partners.denoise_run(second, x0, 0.5, 3, False).tokens, r.tokens)


def test_only_the_loaders_look_a_checkpoint_up_by_path():
    """Pages load a checkpoint once (``model.load``) and hand the object down: no view or helper
    calls the engine's loader or ``data.bundle`` by path again."""
    for f in sorted((REPO / "explorer").rglob("*.py")):
        if f.name in ("data.py", "model.py"):
            continue
        text = f.read_text(encoding="utf-8")
        assert "data.bundle(" not in text and "checkpoint import load" not in text, f
        if "views" in f.parts or "whatif" in f.parts:
            assert text.count("model.load") <= 1, f     # Denoise's second model: loaded where it is chosen
