"""The two reverse steps in the measurements: the exact step by default, the paper's plug-in step's
headline tables beside it, tables measured with another step re-measured by a resumed sweep, and the
results-table views of both steps (engine.measures.transition.for_step, generations_by_n, fluency_by_n)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from engine.cli import main
from engine.measures.evaluation import MeasureConfig, missing, stale
from engine.measures.transition import fluency_by_n, for_step, generations_by_n

SMALL = ["--n-train", "4", "--n-test", "4", "--trials", "2", "--levels", "0.1,0.25", "--n-generate", "4",
         "--steps-per-unit", "10"]


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    out = tmp_path_factory.mktemp("steps") / "g8"
    assert main(["train", "--corpus", "grammar", "--n", "8", "--out", str(out), "--steps", "20",
                 "--d-model", "32", "--layers", "1", "--heads", "2"]) == 0
    assert main(["measure", str(out), *SMALL, "--only", "recovery,generations,plugin_generations,"
                 "plugin_recovery,fluency"]) == 0
    return out


def summary(path):
    return json.loads((path / "measure" / "summary.json").read_text())


def test_the_exact_step_is_the_default_and_the_plugin_tables_sit_beside_it(measured):
    s = summary(measured)
    assert s["measure_config"]["step"] == "exact"
    assert {(r["split"], r["t"]) for r in s["plugin_levels"]} == {("train", 0.25), ("test", 0.25)}
    assert {(r["split"], r["t"]) for r in s["levels"]} == {(sp, t) for sp in ("train", "test") for t in (0.1, 0.25)}
    assert abs(sum(s["plugin_generations"].values()) - 1) < 1e-9 and abs(sum(s["generations"].values()) - 1) < 1e-9
    assert set(s["fluency"]) == {"generated", "generated_plugin", "test"}
    plugin = pd.read_parquet(measured / "measure" / "plugin_generations.parquet")
    exact = pd.read_parquet(measured / "measure" / "generations.parquet")
    assert len(plugin) == len(exact) == 4


def test_tables_measured_with_another_step_are_stale(measured):
    exact = MeasureConfig(n_train=4, n_test=4, trials=2, levels=(0.1, 0.25), n_generate=4, steps_per_unit=10)
    assert stale(measured, exact) == []
    plugin = MeasureConfig(**{**exact.__dict__, "step": "plugin"})
    assert set(stale(measured, plugin)) == {"recovery", "generations", "plugin_generations", "plugin_recovery", "fluency"}
    assert set(missing(measured, names=["recovery", "basins"], cfg=plugin)) == {"recovery", "basins"}
    assert missing(measured, names=["recovery"], cfg=exact) == []


def test_cli_steps(measured, capsys):
    assert main(["generate", str(measured), "--num", "2", "--steps-per-unit", "10", "--step", "plugin"]) == 0
    assert len([line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]) == 2
    with pytest.raises(SystemExit) as e:
        main(["measure", str(measured), "--step", "euler"])
    assert e.value.code == 2 and "invalid choice: 'euler'" in capsys.readouterr().err


def results_frame():
    """A hand-built results table: two N, exact main tables, the plug-in step's at t = 0.25."""
    rows = []
    for n, (tr_e, te_e, tr_p, te_p) in ((16, (0.9, 0.1, 0.8, 0.2)), (64, (0.5, 0.45, 0.3, 0.35))):
        for split, exact, plugin in (("train", tr_e, tr_p), ("test", te_e, te_p)):
            for t in (0.1, 0.25):
                rows.append({"corpus": "g", "n": n, "seed": 0, "split": split, "t": t, "step": "exact",
                             "recovery_rate": exact, "exact_match": exact / 2, "recovery_low": exact - .01,
                             "recovery_high": exact + .01, "memorizer_recovery_rate": 1.0,
                             **({"plugin_recovery_rate": plugin, "plugin_exact_match": plugin / 2,
                                 "plugin_recovery_low": plugin - .02, "plugin_recovery_high": plugin + .02}
                                if t == 0.25 else {})})
        rows.append({"corpus": "g", "n": n, "seed": 0, "split": "generated", "t": 0.25, "entropy": 0.3, "step": "exact",
                     "gen_memorized": 0.1, "gen_novel-valid": 0.9, "plugin_gen_memorized": 0.1,
                     "plugin_gen_novel-valid": 0.5, "plugin_gen_spurious": 0.4, "trigram_seen": 0.5,
                     "trigram_seen_plugin": 0.1, "trigram_seen_test": 0.6})
    return pd.DataFrame(rows)


def test_for_step_swaps_in_the_plugin_columns_where_measured():
    results = results_frame()
    assert for_step(results, "exact") is results
    p = for_step(results, "plugin")
    scored = p[p["split"].isin(["train", "test"])]
    assert set(scored["t"]) == {0.25} and (scored["step"] == "plugin").all()
    got = scored.set_index(["n", "split"])["recovery_rate"].to_dict()
    assert got == {(16, "train"): 0.8, (16, "test"): 0.2, (64, "train"): 0.3, (64, "test"): 0.35}
    assert scored["recovery_low"].tolist() == pytest.approx((scored["recovery_rate"] - 0.02).tolist())
    assert scored["memorizer_recovery_rate"].isna().all()       # the ideal curves are the exact step's only
    assert (p["split"] == "generated").sum() == 2


def test_generations_and_fluency_by_n_for_both_steps():
    shares = generations_by_n(results_frame())
    got = {(r.n, r.step, r.category): r.fraction for r in shares.itertuples()}
    assert got[(16, "exact", "novel-valid")] == 0.9 and got[(64, "plugin", "spurious")] == 0.4
    assert shares.groupby(["n", "step"])["fraction"].sum().tolist() == pytest.approx([1.0] * 4)
    fl = fluency_by_n(results_frame())
    assert fl.to_dict("list") == {"n": [16, 64], "exact": [0.5, 0.5], "plugin": [0.1, 0.1], "test": [0.6, 0.6]}


def test_plan_puts_each_table_after_what_it_needs_whatever_the_import_order(monkeypatch):
    """Importing engine.measures.fluency before engine.measures.plugin registers 'fluency' first; the plan must still
    compute the plug-in generations before the fluency that scores them."""
    from engine.measures import registry

    entries = registry.load_all()
    reordered = {"fluency": entries["fluency"], **{k: v for k, v in entries.items() if k != "fluency"}}
    monkeypatch.setattr(registry, "REGISTRY", reordered)
    order = registry.plan(["fluency"])
    assert order.index("generations") < order.index("fluency")
    assert order.index("plugin_generations") < order.index("fluency")
