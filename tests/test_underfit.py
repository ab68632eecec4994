"""The underfit verdict on a what-if run (``engine.measures.underfit``, issue 21) against hand-built cases, and
how ``explorer.whatif.compare`` reads it from checkpoints' meta.json and draws it (no torch: the cases
are meta.json and summary.json files written here)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import plotly.graph_objects as go
import pytest

from engine.measures import underfit as uf
from explorer.whatif import compare as rc
from explorer.figures import SPLIT_COLORS

# the grammar zoo's final losses (mean of the last 10 % of training; assets/zoo/grammar/n*/meta.json)
ZOO = {16: 0.221, 64: 0.372, 256: 0.543, 512: 0.638, 1024: 0.765, 2048: 0.938, 4096: 0.998, 8192: 1.002}


def test_final_loss_is_the_mean_of_the_last_tenth():
    history = [(10 * (i + 1), float(i)) for i in range(40)]          # losses 0 .. 39
    assert uf.final_loss(history) == pytest.approx((36 + 37 + 38 + 39) / 4)
    assert uf.final_loss([(10, 2.5)]) == 2.5                         # fewer than ten windows: the last
    assert math.isnan(uf.final_loss([]))


def test_zoo_loss_is_interpolated_in_log_n():
    assert uf.zoo_loss_at(256, ZOO) == 0.543
    assert uf.zoo_loss_at(128, ZOO) == pytest.approx((0.372 + 0.543) / 2)     # halfway in log N
    assert uf.zoo_loss_at(8, ZOO) == 0.221                                     # below: the smallest's
    assert uf.zoo_loss_at(10_000, ZOO) is None                                 # above: unknown
    assert uf.zoo_loss_at(64, {}) is None


def test_loss_limit_by_hand():
    # N = 64: 0.372 + 0.5 (1.002 - 0.372) = 0.687; N = 8192: the noise margin alone
    assert uf.loss_limit(64, ZOO) == pytest.approx(0.687)
    assert uf.loss_limit(8192, ZOO) == pytest.approx(1.002 + uf.LOSS_NOISE)
    assert uf.loss_limit(4096, ZOO) == pytest.approx(0.998 + uf.LOSS_NOISE)   # 0.5 * 0.004 < 0.05


@pytest.mark.parametrize("n,loss,train,test,gap,underfit,why", [
    # the measured default runs (scripts/whatif_losses.py) and issue 21's report
    (64, 0.501, 0.988, 0.07, 0.92, False, ""),
    (256, 0.918, None, None, None, True, "loss"),
    (2048, 1.10, 0.087, 0.134, 0.108, True, "loss"),
    # the zoo's own model at N = 8,192 with its measured recovery (train 0.172 < test 0.188): the zoo
    # itself does not separate train from test there, so that is not a sign of underfitting
    (8192, 1.002, 0.172, 0.188, -0.016, False, ""),
    # loss fine but train below test where the zoo separates them
    (2048, 0.95, 0.10, 0.20, 0.108, True, "recovery"),
    # train below test by less than the tolerance
    (2048, 0.95, 0.19, 0.20, 0.108, False, ""),
    # no zoo (an uploaded file): only the recovery sign can tell
    (100, 5.0, 0.10, 0.20, None, True, "recovery"),
])
def test_verdict_hand_built(n, loss, train, test, gap, underfit, why):
    zoo = ZOO if gap is not None or n in ZOO else None
    v = uf.verdict(n, loss, train, test, zoo, gap)
    assert v.underfit is underfit
    assert v.label == (uf.LABEL if underfit else "")
    if why == "loss":
        assert "well above the zoo model's" in v.reasons[0]
    if why == "recovery":
        assert any("below its test recovery" in r for r in v.reasons)
    if not underfit:
        assert v.reasons == ()


def test_just_above_and_below_the_limit():
    limit = uf.loss_limit(1024, ZOO)
    assert not uf.verdict(1024, limit - 1e-6, None, None, ZOO).underfit
    assert uf.verdict(1024, limit + 1e-6, None, None, ZOO).underfit


# --------------------------------------------------------------------- run_compare on files written here

def checkpoint_meta(path: Path, losses: list[float], steps: int = 1600, layers: int = 2, seconds: float | None = None,
                    recovery: tuple[float, float] | None = None) -> Path:
    path.mkdir(parents=True)
    meta = {"model_config": {"d_model": 64, "n_layers": layers, "n_heads": 4, "seq_len": 16},
            "train_config": {"objective": "ce", "steps": steps, "batch_size": 64, "lr": 0.003},
            "loss_history": [[10 * (i + 1), v] for i, v in enumerate(losses)],
            "extra": {} if seconds is None else {"train_seconds": seconds}}
    (path / "meta.json").write_text(json.dumps(meta))
    if recovery is not None:
        (path / "measure").mkdir()
        levels = [{"split": s, "t": 0.25, "recovery_rate": r} for s, r in zip(("train", "test"), recovery)]
        (path / "measure" / "summary.json").write_text(json.dumps({"levels": levels}))
    return path


def index(root: Path, entries: list[tuple[str, int]]) -> None:
    (root / "index.json").write_text(json.dumps([{"corpus": c, "n": n, "path": f"{c}/n{n:05d}"} for c, n in entries]))


@pytest.fixture
def dirs(tmp_path):
    zoo, runs = tmp_path / "zoo", tmp_path / "runs"
    for n, loss, rec in ((64, 0.37, (0.99, 0.07)), (2048, 0.94, (0.30, 0.19)), (8192, 1.00, (0.17, 0.19))):
        checkpoint_meta(zoo / "grammar" / f"n{n:05d}", [loss] * 20, steps=6000, layers=6, seconds=1570.9, recovery=rec)
    index(zoo, [("grammar", 64), ("grammar", 2048), ("grammar", 8192)])
    checkpoint_meta(runs / "grammar" / "n00064", [2.0] * 144 + [0.50] * 16, recovery=(0.99, 0.07))
    checkpoint_meta(runs / "grammar" / "n02048", [2.0] * 144 + [1.10] * 16, recovery=(0.087, 0.134))
    index(runs, [("grammar", 64), ("grammar", 2048)])
    return zoo, runs


def test_compare_marks_the_underfit_run(dirs):
    zoo, runs = dirs
    table = rc.compare(runs, zoo, "grammar").set_index("n")
    assert not table.at[64, "underfit"] and table.at[2048, "underfit"]
    assert table.at[2048, "final_loss"] == pytest.approx(1.10)            # the last 10 %, not the whole history
    assert table.at[2048, "label"].startswith(uf.LABEL)
    assert len(table.at[2048, "reasons"]) == 2                            # the loss and the recovery


def test_zoo_reference_is_the_nearest_with_its_time(dirs):
    zoo, _ = dirs
    ref = rc.zoo_reference(zoo, "grammar", 3000)
    assert (ref["n"], ref["train_seconds"]) == (2048, 1570.9)            # log 3000 is nearer log 2048
    assert rc.zoo_reference(zoo, "grammar", 6000)["n"] == 8192
    assert rc.zoo_reference(zoo, "pydocs", 64) is None


def test_runs_are_drawn_in_their_own_colours(dirs):
    zoo, runs = dirs
    import pandas as pd

    results = pd.DataFrame([{"n": n, "split": s, "t": 0.25, "recovery_rate": r, "seed": 0}
                            for n, rec in ((64, (0.99, 0.07)), (2048, (0.087, 0.134)))
                            for s, r in zip(("train", "test"), rec)])
    fig = rc.run_traces(go.Figure(), results, rc.compare(runs, zoo, "grammar"), 0.25)
    by_name = {tr.name: tr for tr in fig.data}
    grey, what = rc.UNDERFIT_MARK
    assert list(by_name[f"what-if train ({what})"].x) == [2048]
    assert by_name[f"what-if test ({what})"].marker.color == grey
    assert by_name[f"what-if test ({what})"].marker.symbol == "diamond-open"      # shape says the split
    assert by_name[f"what-if train ({what})"].marker.symbol == "diamond"
    colours = {tr.marker.color for tr in fig.data}
    assert not colours & set(SPLIT_COLORS.values())                             # never a split's colour
