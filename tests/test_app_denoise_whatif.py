"""The Denoise and What-if pages under Streamlit's AppTest on the tiny zoo (no exception, the expected
elements, errors instead of tracebacks for bad input), and the pure logic behind them
(``explorer.trajectory``, ``explorer.whatif.runs``) against hand-built inputs and brute-force references."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import torch
from streamlit.testing.v1 import AppTest

from engine.models import checkpoint
from engine.text.corpus import grammar_corpus
from engine.text.grammar import accepts_ids as grammar_accepts
from engine.models.model import Denoiser, ModelConfig
from engine.diffusion.noise import UniformNoise
from engine.diffusion.sample import time_grid
from engine.runs.sweep import update_index
from engine.text.tokenizer import WordTokenizer
from engine.models.train import TrainConfig
from engine.measures import outcome as oc
from explorer.figures import grid as gf
from explorer.whatif import jobs, runs
from explorer import trajectory as tj
from brute import brute_force_outcome
from whatif_settings import tiny_settings

REPO = Path(__file__).resolve().parent.parent
DENOISE = str(REPO / "explorer" / "pages" / "denoise.py")
WHATIF = str(REPO / "explorer" / "pages" / "whatif.py")
C, W, F, B = tj.CORRECT, tj.WRONG, tj.FIXED, tj.BROKEN


pytestmark = pytest.mark.usefixtures("single_thread")


def page(path: str, timeout: float = 60, **query) -> AppTest:
    at = AppTest.from_file(path, default_timeout=timeout)
    for k, v in query.items():
        at.query_params[k] = str(v)
    return at.run()


def no_exception(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


# -------------------------------------------------------------------------------------------- denoise

def test_denoise_training_example(runs_dir, zoo):
    at = no_exception(page(DENOISE, n=32, split="train", example=2, t=0.5, seed=7))
    assert not at.error
    assert at.title[0].value == "Denoise one sentence"
    specs = charts(at)
    assert len(specs) == 2                                            # the grid and the entropy curve
    assert len(specs[0]["frames"]) == len(specs[0]["layout"]["sliders"][0]["steps"]) >= 2
    # the page says how many positions this seed changed; check it against an independent draw
    b = checkpoint.load(zoo / "grammar" / "n00032")
    x0 = b.train_ids[2]
    zt = b.noise.sample_xt(x0[None], 0.5, generator=torch.Generator().manual_seed(7))[0]
    text = " ".join(m.value for m in at.markdown)
    assert f"This seed changed {int((zt != x0).sum())} of {len(x0)} positions" in text
    assert "Level t = 0.50" in text and "(1 − α_t)(1 − 1/V)" in text
    assert len(at.success) + len(at.warning) + len(at.info) >= 1        # the outcome


def test_denoise_typed_sentence_with_unknown_word(runs_dir):
    at = page(DENOISE, n=8)
    at.radio(key="dn_source").set_value("text").run()
    at.text_input(key="dn_text").input("the poet admires zorblax").run()
    no_exception(at)
    assert not at.error
    assert any("“zorblax”" in w.value and "<unk>" in w.value for w in at.warning)
    assert len(charts(at)) == 2


def test_denoise_overlong_sentence_is_an_error(runs_dir):
    at = page(DENOISE, n=8)
    at.radio(key="dn_source").set_value("text").run()
    at.text_input(key="dn_text").input(" ".join(["poet"] * 20)).run()
    no_exception(at)
    assert any("20 words" in e.value and "at most 15" in e.value for e in at.error)
    assert not charts(at)


def test_denoise_side_by_side(runs_dir):
    at = page(DENOISE, n=8, t=0.25)
    at.toggle(key="dn_compare").set_value(True).run()
    no_exception(at)
    assert not at.error
    assert at.selectbox(key="dn_partner").value.endswith("n00032")   # smallest N pairs with the largest
    specs = charts(at)
    assert len(specs) == 2                                            # both grids in one figure + entropy
    pair = specs[0]
    # both grids start from the very same corrupted sequence, and ONE slider drives both
    assert pair["data"][0]["text"] == pair["data"][1]["text"]
    assert len(pair["layout"]["sliders"]) == 1 and len(pair["layout"]["updatemenus"]) == 1
    assert len(pair["frames"]) == len(pair["layout"]["sliders"][0]["steps"]) >= 2
    assert all(f["traces"] == [0, 1, 4, 5] and len(f["data"]) == 4 for f in pair["frames"])
    assert {tr["name"].split(":")[0] for tr in specs[1]["data"]} == {"A (N = 8)", "B (N = 32)"}
    verdicts = [m.value for m in at.markdown if m.value.startswith("x̂:")]
    assert len(verdicts) == 2 and all("sentence of the grammar" in v for v in verdicts)   # grammar: the oracle


def test_find_a_seed_where_they_differ(runs_dir, zoo):
    """The button's seed is the first after the shared one on which the two models end differently,
    found here by single runs, one seed at a time (the page searches in batches)."""
    at = page(DENOISE, n=8, split="train", example=1, t=0.5, seed=3)
    at.toggle(key="dn_compare").set_value(True).run()
    a, b = checkpoint.load(zoo / "grammar" / "n00008"), checkpoint.load(zoo / "grammar" / "n00032")
    oracle = lambda ids: grammar_accepts(ids, a.tokenizer)               # noqa: E731
    x0 = a.train_ids[1]

    def ends(bundle, seed):
        r = tj.run(bundle.model, bundle.noise, x0, 0.5, seed)
        return oc.classify(r.x_hat, r.x0, bundle.train_ids.numpy(), oracle)

    expected = next((s for s in range(4, 104) if oc.differ(ends(a, s), ends(b, s))), None)
    at.button(key="dn_find").click().run()
    no_exception(at)
    if expected is None:
        assert any("end alike on every seed from 4 to 103" in i.value for i in at.info)
    else:
        assert at.query_params["seed"] == str(expected) and at.number_input(key="dn_seed").value == expected
        assert any(f"Seed {expected}: the first of 4 – 103" in s.value for s in at.success)


def test_denoise_side_by_side_needs_the_same_vocabulary(runs_dir):
    tok = WordTokenizer(["alpha", "beta", "gamma"])
    cfg = ModelConfig(vocab_size=tok.vocab_size, seq_len=16, d_model=16, n_layers=1, n_heads=2)
    ids = torch.tensor([tok.encode_fixed("alpha beta", 16)] * 2)
    path = runs_dir / "other" / "n00002"
    checkpoint.save(path, Denoiser(cfg), tok, ids, ids, TrainConfig(steps=1), "other")
    update_index(runs_dir, "other", 2, path)
    at = page(DENOISE, n=8)
    at.toggle(key="dn_compare").set_value(True).run()
    at.selectbox(key="dn_partner").set_value(str(path)).run()
    no_exception(at)
    assert any("different vocabulary" in e.value for e in at.error)
    assert len(charts(at)) == 2                                       # the first model still runs


def test_denoise_page_in_the_app(runs_dir):
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=60).run()
    at.switch_page("explorer/pages/denoise.py").run()
    no_exception(at)
    assert at.title[0].value == "Denoise one sentence"
    at.switch_page("explorer/pages/whatif.py").run()
    no_exception(at)
    assert at.title[0].value == "What if...?"


# -------------------------------------------------------------------------------------------- what-if

def train_and_wait(at: AppTest) -> AppTest:
    """Click Train, wait for the server's job (a background thread) and draw the page again."""
    at.button(key="wi_train").click().run()
    no_exception(at)
    job = jobs.registry().wait(timeout=300)
    assert job is not None and job.state == "done", (job.state, job.error)
    return at.run()


def test_whatif_trains_a_tiny_run(runs_dir):
    at = tiny_settings(page(WHATIF, timeout=300))
    at = train_and_wait(at)
    no_exception(at)
    assert not at.error                                               # the warning: checked below
    index = json.loads((runs_dir / "index.json").read_text())
    assert index == [{"corpus": "grammar", "n": 16, "path": "grammar/n00016"}]
    b = checkpoint.load(runs_dir / "grammar" / "n00016")
    assert b.n == 16 and b.train_config.steps == 20 and b.config.d_model == runs.MODEL_SIZES["tiny"][0]
    summary = json.loads((runs_dir / "grammar" / "n00016" / "measure" / "summary.json").read_text())
    assert summary["measure_config"]["levels"] == list(runs.MEASURES["light"].levels)
    assert [m.label for m in at.metric] == ["train recovery at t = 0.25", "test recovery at t = 0.25"]
    assert any("Transition" in i.value for i in at.info)
    assert any(s.value.startswith("Trained and measured grammar, N = 16") for s in at.success)
    assert len(charts(at)) >= 1                                       # beside the zoo
    # a tiny 20-step model is not the zoo's setting: said so, with its steps and train loss
    assert any("another setting" in w.value and "20 steps" in w.value and "train loss" in w.value
               for w in at.warning)
    assert any("fewer sentences than the zoo" in c.value for c in at.caption)
    assert not jobs.registry().current().running                      # the server may start another


def test_whatif_uploaded_corpus_trains_and_is_listed(runs_dir):
    text = "\n".join(f"the {a} sees the {b}." for a in ("cat", "dog", "cow", "owl", "fox", "bee")
                     for b in ("sun", "moon", "sea", "tree", "hill", "rock")).encode()
    at = page(WHATIF, timeout=300)
    at.radio(key="wi_source").set_value("upload").run()
    at.file_uploader(key="wi_file").set_value(("animals.txt", text, "text/plain")).run()
    no_exception(at)
    assert not at.error
    at = train_and_wait(tiny_settings(at, n=20))
    assert not at.error
    index = json.loads((runs_dir / "index.json").read_text())
    assert [(e["corpus"], e["n"]) for e in index] == [("file:animals.txt", 20)]
    assert (runs_dir / "file-animals-txt" / "n00020" / "measure" / "summary.json").exists()


def test_whatif_measures_an_unmeasured_run(runs_dir):
    corpus = grammar_corpus()
    cfg = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, seq_len=16, d_model=16, n_layers=1, n_heads=2)
    path = runs_dir / "grammar" / "n00008"
    ids = corpus.encode(corpus.subset(8))
    checkpoint.save(path, Denoiser(cfg), corpus.tokenizer, ids, corpus.encode(corpus.test[:8]),
                    TrainConfig(steps=1), "grammar")
    update_index(runs_dir, "grammar", 8, path)
    at = page(WHATIF, timeout=300)
    at.selectbox(key="wi_measure").set_value("light").run()
    assert any("not measured yet" in m.value for m in at.markdown)
    at.button(key=f"wi_measure_run_{path}").click().run()
    no_exception(at)
    summary = json.loads((path / "measure" / "summary.json").read_text())
    assert summary["measure_config"]["levels"] == list(runs.MEASURES["light"].levels)
    assert [m.label for m in at.metric] == ["train recovery at t = 0.25", "test recovery at t = 0.25"]


@pytest.mark.parametrize("name,content,message", [
    pytest.param("empty.txt", b"", "empty", id="empty"),
    pytest.param("photo.png", bytes(range(256)) * 8, "binary", id="binary"),
    pytest.param("latin1.txt", "Café crème. Très bien.\n".encode("latin-1") * 20, "not valid UTF-8", id="latin1"),
    pytest.param("few.txt", b"One sentence.\nTwo sentences.\n", "at least 16", id="too-few-sentences"),
    pytest.param("huge.txt", None, "limit is 20.0 MiB", id="gigantic"),
])
def test_whatif_bad_uploads_give_an_error(runs_dir, name, content, message):
    if content is None:
        content = b"A short line.\n" * (21 * 1024 * 1024 // 14 + 1)      # 21 MiB
    at = page(WHATIF)
    at.radio(key="wi_source").set_value("upload").run()
    at.file_uploader(key="wi_file").set_value((name, content, "application/octet-stream")).run()
    no_exception(at)
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert not any(b.key == "wi_train" for b in at.button)
    assert not runs_dir.exists()


def test_whatif_n_larger_than_the_corpus(runs_dir):
    at = page(WHATIF)
    at.number_input(key="wi_n").set_value(10**6).run()
    no_exception(at)
    assert any("out of range" in e.value and "8192" in e.value for e in at.error)
    assert not any(b.key == "wi_train" for b in at.button)


class Stop(BaseException):
    """Stands for a cancelled job's exception, raised from inside a callback."""


@pytest.mark.parametrize("where", ["progress", "on_stage"])
def test_a_stopped_run_writes_nothing(tmp_path, where):
    def stop(*args):
        raise Stop

    hooks = {"progress": stop} if where == "progress" else {"on_stage": stop}
    with pytest.raises(Stop):
        runs.train_and_measure(grammar_corpus(), runs.Settings(n=8, steps=20, size="tiny"), tmp_path, **hooks)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------- pure functions

def test_cell_categories_hand_built():
    x0 = np.array([1, 2, 3])
    tokens = np.array([[1, 5, 6],      # seed: no previous row, only correct / wrong
                       [1, 2, 6],      # position 1 fixed
                       [4, 2, 3],      # position 0 broken, position 2 fixed
                       [4, 2, 3]])     # nothing changes
    expected = np.array([[C, W, W], [C, F, W], [B, C, F], [W, C, C]])
    np.testing.assert_array_equal(tj.cell_categories(tokens, x0), expected)


def test_classify_against_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(400):
        train = rng.integers(0, 3, size=(int(rng.integers(0, 6)), 4))
        x0 = rng.integers(0, 3, size=4)
        x_hat = x0.copy() if rng.random() < 0.2 else (train[rng.integers(len(train))].copy()
                                                        if len(train) and rng.random() < 0.4
                                                        else rng.integers(0, 3, size=4))
        out = oc.classify(x_hat, x0, train.reshape(-1, 4))
        assert (out.kind, out.index, out.distance) == brute_force_outcome(x_hat, x0, train)


def test_kept_rows_and_labels():
    tokens = np.array([[1, 1], [1, 1], [1, 2], [1, 2], [3, 2]])
    np.testing.assert_array_equal(tj.kept_rows(tokens, True), [0, 2, 4])
    np.testing.assert_array_equal(tj.kept_rows(tokens, False), [0, 1, 2, 3, 4])
    times = np.array([0.5, 0.4, 0.3, 0.2])
    assert gf.row_labels(times, np.array([0, 2, 4])) == ["seed t=0.500", "step 2 t=0.300", "x̂ (final)"]


def test_encode_sentence():
    tok = WordTokenizer(["a", "poet", "sings"])
    ids, unknown = tj.encode_sentence(tok, "A poet sings loudly, loudly", 8)
    assert ids == [3, 4, 5, 1, 1, 1, 2, 0] and unknown == ["loudly", ","]
    with pytest.raises(ValueError, match="at most 7"):
        tj.encode_sentence(tok, "a " * 8, 8)
    with pytest.raises(ValueError, match="no words"):
        tj.encode_sentence(tok, "   ", 8)
    with pytest.raises(ValueError, match="none of its words is in this model's vocabulary"):
        tj.encode_sentence(tok, "Loudly, loudly!", 8)


def test_run_with_an_oracle_model(oracle):
    """A model certain of x0 brings any corruption back; the seed is q(z_t | x0) drawn with the seed."""
    V, x0 = 7, torch.tensor([3, 1, 4, 1, 5])
    noise = UniformNoise(V)
    r = tj.run(oracle(x0, V), noise, x0, 0.6, seed=11, greedy=True, steps_per_unit=20)
    n = len(time_grid(0.6, 20)) - 1
    assert r.tokens.shape == (n + 2, 5) and r.entropy.shape == (n + 1, 5) and len(r.times) == n + 1
    zt = noise.sample_xt(x0[None], 0.6, generator=torch.Generator().manual_seed(11))[0].numpy()
    np.testing.assert_array_equal(r.zt, zt)
    np.testing.assert_array_equal(r.x_hat, x0.numpy())
    assert oc.classify(r.x_hat, r.x0, np.stack([x0.numpy()])) == oc.Outcome("recovered", 0, 0)
    cats = tj.cell_categories(r.tokens, r.x0)
    assert set(cats[-1]) <= {C, F}
    np.testing.assert_array_equal(r.changed(), zt != x0.numpy())


def test_same_seed_same_corruption_for_two_models(tiny_model, oracle):
    x0 = torch.tensor([1, 2, 3, 4, 5])
    a = tj.run(tiny_model, UniformNoise(7), x0, 0.8, seed=3, steps_per_unit=10)
    b = tj.run(oracle(x0, 7), UniformNoise(7), x0, 0.8, seed=3, steps_per_unit=10)
    np.testing.assert_array_equal(a.zt, b.zt)


def test_token_grid_figure_shows_the_trajectory(oracle):
    V, x0 = 7, torch.tensor([3, 1, 4, 1, 5])
    r = tj.run(oracle(x0, V), UniformNoise(V), x0, 0.9, seed=2, steps_per_unit=10)
    itos = [f"w{i}" for i in range(V)]
    fig = gf.token_grid_figure(r, itos, only_changes=False)
    grid = fig.data[1]
    np.testing.assert_array_equal(np.array(grid.z), tj.cell_categories(r.tokens, r.x0))
    assert [list(row) for row in grid.text] == [[f"w{i}" for i in row] for row in r.tokens]
    assert len(fig.frames) == len(r.tokens)
    assert list(fig.frames[-1].data[0].text[0]) == [f"w{i}" for i in r.x_hat]
    hover = np.array(grid.customdata)
    assert hover[0, 0, 0] == "w3" and hover[-1, 0, 1] == "—"            # x0 token; no entropy after x̂
    assert float(hover[0, 0, 1]) == pytest.approx(r.entropy[0, 0], abs=1e-3)
    short = gf.token_grid_figure(r, itos, only_changes=True)
    assert len(short.frames) == len(tj.kept_rows(r.tokens, True))


# plotly's own JSON encoder, and orjson where installed (plotly then uses it by default)
JSON_ENGINES = ["json"] + (["orjson"] if importlib.util.find_spec("orjson") else [])


def html_figure(html: str) -> dict:
    """The data and layout that a plotly HTML export hands ``Plotly.newPlot``, decoded. Plotly's own JSON
    encoder writes non-ASCII text as escapes (``x\\u0302``), orjson as raw UTF-8: decoded, both are the same."""
    decoder, pos = json.JSONDecoder(), html.index("Plotly.newPlot(") + len("Plotly.newPlot(")
    args = []
    for _ in range(3):   # the div's id, data, layout
        pos = re.compile(r"[\s,]*").match(html, pos).end()
        value, pos = decoder.raw_decode(html, pos)
        args.append(value)
    return {"data": args[1], "layout": args[2]}


def test_html_figure_reads_either_encoder(monkeypatch):
    """The export read back is the figure, under plotly's own encoder and (where installed) orjson."""
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4], text=["é", "x̂"]), layout={"title": {"text": "x̂ (final)"}})
    for engine in JSON_ENGINES:
        monkeypatch.setattr(pio.json.config, "default_engine", engine)
        got = html_figure(fig.to_html(include_plotlyjs=False))
        assert got["data"] == [{"x": [1, 2], "y": [3, 4], "text": ["é", "x̂"], "type": "scatter"}]
        assert got["layout"]["title"]["text"] == "x̂ (final)"


def test_pair_grid_one_control_drives_both_runs(oracle, tiny_model, monkeypatch):
    """Frame r shows row r of both runs: the A and B strips and both frame boxes move together."""
    V, x0 = 7, torch.tensor([3, 1, 4, 1, 5])
    a = tj.run(oracle(x0, V), UniformNoise(V), x0, 0.9, seed=2, steps_per_unit=10)
    b = tj.run(tiny_model, UniformNoise(V), x0, 0.9, seed=2, steps_per_unit=10)
    itos = [f"w{i}" for i in range(V)]
    fig = gf.pair_grid_figure(a, b, itos, itos, ("A model", "B model"), only_changes=True)
    rows = np.union1d(tj.kept_rows(a.tokens, True), tj.kept_rows(b.tokens, True))
    assert len(fig.frames) == len(rows) == len(fig.layout.sliders[0].steps) and len(fig.layout.updatemenus) == 1
    for r, frame in zip(rows, fig.frames):
        strip_a, strip_b, box_a, box_b = frame.data
        assert list(strip_a.text[0]) == [f"w{i}" for i in a.tokens[r]]
        assert list(strip_b.text[0]) == [f"w{i}" for i in b.tokens[r]]
        assert box_a.y == box_b.y
    np.testing.assert_array_equal(np.array(fig.data[2].z), tj.cell_categories(a.tokens, a.x0)[rows])
    np.testing.assert_array_equal(np.array(fig.data[3].z), tj.cell_categories(b.tokens, b.x0)[rows])
    assert fig.layout.yaxis3.ticktext[0].startswith("seed") and fig.layout.yaxis3.automargin   # row labels kept
    single = gf.token_grid_figure(a, itos)
    assert single.layout.yaxis2.automargin and list(single.layout.yaxis2.ticktext)[-1] == "x̂ (final)"
    for engine in JSON_ENGINES:                                                       # the HTML export has them
        monkeypatch.setattr(pio.json.config, "default_engine", engine)
        exported = html_figure(single.to_html(include_plotlyjs=False))["layout"]["yaxis2"]["ticktext"]
        assert exported == list(single.layout.yaxis2.ticktext) and exported[-1] == "x̂ (final)"


def test_step_entropy_axis_starts_at_zero_with_a_minimum_range():
    quiet = tj.Run(x0=np.array([3, 2, 0]), tokens=np.zeros((3, 3), dtype=int),
                   entropy=np.array([[1e-6, -2e-7, 3e-6], [0.0, 1e-6, 5e-6]]), times=np.array([0.5, 1e-5]))
    fig = gf.entropy_figure({"m": quiet})
    assert tuple(fig.layout.yaxis.range) == (0, gf.ENTROPY_MIN_TOP) and min(fig.data[0].y) >= 0
    loud = tj.Run(x0=np.array([3, 2, 0]), tokens=np.zeros((3, 3), dtype=int),
                  entropy=np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 5.0]]), times=np.array([0.5, 1e-5]))
    assert tuple(gf.entropy_figure({"m": loud}).layout.yaxis.range) == pytest.approx((0, 2.2))


def test_entropy_figure_means():
    r = tj.Run(x0=np.array([3, 2, 0]), tokens=np.zeros((3, 3), dtype=int),
               entropy=np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 5.0]]), times=np.array([0.5, 1e-5]))
    fig = gf.entropy_figure({"m": r})
    np.testing.assert_allclose(fig.data[0].y, [2.0, 2.0])            # all positions
    np.testing.assert_allclose(fig.data[1].y, [1.5, 0.5])            # content: the word and <eos>


def test_escape_markdown():
    assert tj.escape_markdown("use os.path (not $HOME) *now*") == r"use os\.path \(not \$HOME\) \*now\*"


def test_tokens_markdown_escapes_and_marks():
    itos = ["<pad>", "<unk>", "<eos>", "x_y", "$", "word"]
    md = tj.tokens_markdown(np.array([3, 4, 5, 2]), itos, np.array([False, False, True, True]))
    assert md == r"x\_y \$ :red[**word**] :red[**`<eos>`**]"


def test_headline():
    summary = {"levels": [{"split": "train", "t": 0.25, "recovery_rate": 0.9, "exact_match": 0.5},
                          {"split": "test", "t": 0.25, "recovery_rate": 0.2, "exact_match": 0.0},
                          {"split": "train", "t": 0.5, "recovery_rate": 0.7, "exact_match": 0.1}]}
    assert runs.headline(summary) == {"train": {"recovery_rate": 0.9, "exact_match": 0.5},
                                      "test": {"recovery_rate": 0.2, "exact_match": 0.0}}
    assert runs.headline({}) == {}


def test_the_live_loss_curve_maps_steps_and_losses_onto_its_axes():
    """Step 0 .. total spans the plot's width, loss 0 .. 1.05 x the largest its height (closed form)."""
    import re
    import xml.etree.ElementTree as ET

    from explorer.figures import loss_curve as lc

    svg = lc.loss_svg([(0, 4.0), (50, 2.0), (100, 1.0)], total=200)
    root = ET.fromstring(svg)                                   # well-formed XML: the browser draws it
    points = root.find("{http://www.w3.org/2000/svg}polyline").get("points")
    xy = [tuple(map(float, p.split(","))) for p in points.split()]
    w, h = lc.WIDTH - lc.LEFT - lc.RIGHT, lc.HEIGHT - lc.TOP - lc.BOTTOM
    expected = [(lc.LEFT + w * s / 200, lc.TOP + h * (1 - v / 4.2)) for s, v in [(0, 4.0), (50, 2.0), (100, 1.0)]]
    assert np.allclose(xy, expected, atol=0.06)
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "4.20" in labels and "200" in labels and "1.000" in labels    # y top, x end, the last loss
    assert re.search(r"<polyline", lc.loss_svg([], total=10)) is None     # nothing trained yet: axes only
    with pytest.raises(ValueError):
        lc.loss_svg([(1, 1.0)], total=0)


def test_settings_configs():
    corpus = grammar_corpus()
    model_cfg, train_cfg = runs.Settings(n=16, steps=40, size="small", seed=3).configs(corpus)
    assert (model_cfg.d_model, model_cfg.n_layers, model_cfg.n_heads) == runs.MODEL_SIZES["small"]
    assert model_cfg.vocab_size == corpus.tokenizer.vocab_size and train_cfg.steps == 40
    assert train_cfg.seed == 3 and train_cfg.warmup == 10


def test_the_what_if_form_defaults_to_the_default_run(runs_dir):
    """The page starts on the run the README times (runs.Settings' defaults): the default model
    size, the standard budget, N = 64; explorer.state names the size without importing runs."""
    from explorer import state

    assert state.PRIVATE["wi_size"] == runs.DEFAULT_SIZE == runs.Settings(n=1).size == list(runs.MODEL_SIZES)[0]
    at = AppTest.from_file(str(REPO / "explorer/pages/whatif.py"), default_timeout=120).run()
    assert not at.exception
    assert at.selectbox(key="wi_size").value == runs.DEFAULT_SIZE
    assert at.radio(key="wi_budget").value == "standard" and at.number_input(key="wi_n").value == 64
    # the choices that do not memorize N = 64 grammar (measured: README, What-if timings) say so
    options = {"budget": at.radio(key="wi_budget").options, "size": at.selectbox(key="wi_size").options}
    said = [o for o in options["budget"] + options["size"] if "does not memorize" in o]
    assert said == [runs.budget_label("quick"), runs.size_label("tiny")], options
    at.selectbox(key="wi_size").set_value("tiny").run()                  # chosen: the whole measured note
    assert any(runs.SIZE_NOTES["tiny"] in w.value for w in at.warning)
