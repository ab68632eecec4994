"""The torch-free analysis the explorer draws (issue 14): the transition N* stored in the sweep table
and the 95 % intervals behind the error bars (``engine.measures.transition``), where a run ended and the
grammar's verdict on it (``engine.measures.outcome``), and Hamming neighbours and out-of-sample placement on
a stored projection (``engine.measures.neighbours``) — each against brute-force loops or ``engine.measures.stats``."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from engine.measures import neighbours as nb
from engine.measures import outcome as oc
from engine.measures import stats
from engine.measures import transition as et
from brute import brute_force_outcome

# ------------------------------------------------------------------------------------- intervals, N*


def old_summary_rows(rng, n_rows: int, split: str, n: int, t: float) -> tuple[dict, np.ndarray]:
    """A results-table row as an old summary wrote it (mean, population std, counts; no interval),
    and the per-trial recovery rates it summarises."""
    values = rng.uniform(0, 1, n_rows)
    untouched = 3
    row = {"corpus": "c", "n": n, "seed": 0, "split": split, "t": t, "recovery_rate": values.mean(),
           "recovery_std": values.std(), "exact_match": float((values > 0.7).mean()), "exact_std": 0.0,
           "rows": n_rows + untouched, "no_corruption": untouched}
    return row, values


def test_intervals_rebuilt_from_std_and_count_match_the_raw_values():
    rng = np.random.default_rng(1)
    rows, raw = [], {}
    for n in (10, 100):
        for split in ("train", "test"):
            row, values = old_summary_rows(rng, 40 + n // 10, split, n, 0.25)
            rows.append(row)
            raw[(n, split)] = values
    curves = et.recovery_by_n(pd.DataFrame(rows), 0.25)
    for _, c in curves.iterrows():
        for split in ("train", "test"):
            values = raw[(int(c["n"]), split)]
            mean, low, high = stats.mean_ci(values)                      # from the raw trials
            assert (c[split], c[f"{split}_low"], c[f"{split}_high"]) == pytest.approx((mean, low, high))
    exact = et.recovery_by_n(pd.DataFrame(rows), 0.25, "exact_match")
    for _, c in exact.iterrows():
        values = raw[(int(c["n"]), "train")]
        low, high = stats.wilson(int((values > 0.7).sum()), len(values))
        assert (c["train_low"], c["train_high"]) == pytest.approx((float(low), float(high)))


def test_stored_intervals_win_and_no_count_means_no_interval():
    table = pd.DataFrame([
        {"n": 8, "split": "train", "t": 0.5, "recovery_rate": 0.5, "recovery_std": 0.1, "recovery_low": 0.4,
         "recovery_high": 0.55, "rows": 10, "no_corruption": 0},
        {"n": 8, "split": "test", "t": 0.5, "recovery_rate": 0.2, "recovery_std": 0.1}])
    c = et.recovery_by_n(table, 0.5).iloc[0]
    assert (c["train_low"], c["train_high"]) == (0.4, 0.55)
    assert math.isnan(c["test_low"]) and c["test_std"] == 0.1


def brute_n_star(ns, train, test, tol=et.TRANSITION_TOL):
    """N* by its definition, written as plainly as possible."""
    gaps = [a - b for a, b in zip(train, test)]
    for i in range(1, len(ns)):
        if abs(gaps[i]) <= tol and any(abs(g) > tol for g in gaps[:i]):
            return float(ns[i])
    for i in range(1, len(ns)):
        if gaps[i - 1] * gaps[i] < 0:
            f = gaps[i - 1] / (gaps[i - 1] - gaps[i])
            return math.exp(math.log(ns[i - 1]) + f * (math.log(ns[i]) - math.log(ns[i - 1])))
    return None


def test_n_star_is_stored_per_corpus_and_level():
    rng = np.random.default_rng(2)
    rows = []
    ns = [16, 64, 256, 1024]
    curves = {}
    for corpus in ("a", "b"):
        for t in (0.1, 0.5):
            train = np.sort(rng.uniform(0.3, 1, 4))[::-1]
            test = np.sort(rng.uniform(0, 0.8, 4))
            curves[(corpus, t)] = (train, test)
            for n, tr_, te in zip(ns, train, test):
                rows += [{"corpus": corpus, "n": n, "split": "train", "t": t, "recovery_rate": tr_, "exact_match": tr_ / 2},
                         {"corpus": corpus, "n": n, "split": "test", "t": t, "recovery_rate": te, "exact_match": te / 2}]
        rows.append({"corpus": corpus, "n": 16, "split": "generated", "t": 1e-5, "entropy": 1.0})
    table = et.with_transitions(pd.DataFrame(rows))
    for (corpus, t), (train, test) in curves.items():
        at = table[(table["corpus"] == corpus) & np.isclose(table["t"], t)]
        expected = brute_n_star(ns, train, test)
        stored = at["n_star_recovery_rate"].unique()
        assert len(stored) == 1
        assert (np.isnan(stored[0]) if expected is None else stored[0] == pytest.approx(expected))
        got = et.n_star_at(table[table["corpus"] == corpus], t)
        assert got == (None if expected is None else pytest.approx(expected))
        exact = brute_n_star(ns, train / 2, test / 2)
        assert et.n_star_at(table[table["corpus"] == corpus], t, "exact_match") == \
            (None if exact is None else pytest.approx(exact))
    assert table.loc[table["split"] == "generated", "n_star_recovery_rate"].isna().all()


def test_results_table_of_the_tiny_zoo_carries_n_star(zoo):
    from engine.runs.zoo import results_table

    table = results_table(zoo, "grammar")
    assert {"n_star_recovery_rate", "n_star_exact_match"} <= set(table.columns)
    for t in table.loc[table["recovery_rate"].notna(), "t"].unique():
        expected = et.transition_n(et.recovery_by_n(table, t))
        assert et.n_star_at(table, t) == (None if expected is None else pytest.approx(expected))


def test_entropy_by_n_clips_float_error_below_zero():
    table = pd.DataFrame({"n": [8, 8], "split": ["train", "train"], "t": [0.25, 0.25], "entropy": [-1e-7, -3e-7]})
    assert et.entropy_by_n(table)["entropy"].tolist() == [0.0]


# ------------------------------------------------------------------------------------------- outcome

def test_classify_against_brute_force_with_an_oracle():
    rng = np.random.default_rng(0)
    even = lambda ids: sum(ids) % 2 == 0                          # noqa: E731  (a stand-in language)
    for _ in range(300):
        train = rng.integers(0, 3, size=(int(rng.integers(0, 6)), 4))
        x0 = rng.integers(0, 3, size=4)
        x_hat = x0.copy() if rng.random() < 0.2 else (train[rng.integers(len(train))].copy()
                                                        if len(train) and rng.random() < 0.4
                                                        else rng.integers(0, 3, size=4))
        out = oc.classify(x_hat, x0, train.reshape(-1, 4), even)
        assert (out.kind, out.index, out.distance) == brute_force_outcome(x_hat, x0, train)
        assert out.valid == (int(x_hat.sum()) % 2 == 0)
        assert oc.classify(x_hat, x0, train.reshape(-1, 4)).valid is None


def test_outcomes_differ_by_kind_basin_or_verdict():
    same = oc.Outcome("new", 3, 2, True)
    assert not oc.differ(same, oc.Outcome("new", 5, 1, True))          # two new sentences: alike
    assert oc.differ(same, oc.Outcome("new", 3, 2, False))             # ... unless one is grammatical
    assert oc.differ(oc.Outcome("other_basin", 1, 0), oc.Outcome("other_basin", 2, 0))
    assert oc.differ(oc.Outcome("recovered", 0, 0), oc.Outcome("new", 0, 1))
    assert not oc.differ(oc.Outcome("recovered", 0, 0), oc.Outcome("recovered", 0, 0))


def test_the_grammar_oracle_judges_x_hat(zoo):
    from engine.models.checkpoint import load
    from engine.text.corpus import oracle_for

    b = load(zoo / "grammar" / "n00008")
    oracle = oracle_for(b.corpus, b.tokenizer)
    x0 = b.train_ids[0].numpy()
    assert oc.classify(x0, x0, b.train_ids.numpy(), oracle).valid is True      # a training sentence
    broken = x0.copy()
    broken[0] = b.tokenizer.stoi["<eos>"]
    assert oc.classify(broken, x0, b.train_ids.numpy(), oracle).valid is False


# ---------------------------------------------------------------------------------------- neighbours

def test_place_against_a_loop():
    rng = np.random.default_rng(3)
    seqs = rng.integers(0, 4, size=(30, 6))
    xy = rng.normal(size=(30, 2))
    states = np.vstack([seqs[4], rng.integers(0, 4, size=(10, 6))])
    got, nearest, dist = nb.place(states, seqs, xy, k=3)
    for s, state in enumerate(states):
        d = [sum(int(a != b) for a, b in zip(state, q)) for q in seqs]
        order = sorted(range(len(seqs)), key=lambda j: (d[j], j))[:3]
        if d[order[0]] == 0:
            exact = [j for j in order if d[j] == 0]
            expected = np.mean([xy[j] for j in exact], axis=0)
        else:
            w = [1 / d[j] ** 2 for j in order]
            expected = sum(wi * xy[j] for wi, j in zip(w, order)) / sum(w)
        assert got[s] == pytest.approx(expected)
        assert (nearest[s], dist[s]) == (order[0], d[order[0]])
    assert got[0] == pytest.approx(xy[4])                              # on a projected sequence: exactly there


def test_hamming_against_a_loop_on_numpy_torch_and_lists():
    import torch

    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 3, (4, 1, 6)), rng.integers(0, 3, (5, 6))
    loop = [[sum(int(x != y) for x, y in zip(a[i, 0], b[j])) for j in range(5)] for i in range(4)]
    assert nb.hamming(a, b).tolist() == loop                                 # (4, 1, 6) against (5, 6): (4, 5)
    got = nb.hamming(torch.tensor(a), torch.tensor(b))
    assert isinstance(got, torch.Tensor) and got.tolist() == loop
    assert nb.hamming(b, list(b[2])).tolist() == [sum(int(x != y) for x, y in zip(r, b[2])) for r in b]
    assert int(nb.hamming([1, 2, 3], [1, 0, 3])) == 1
    with pytest.raises(ValueError, match="different lengths"):
        nb.hamming([0, 1], [0, 1, 2])


def test_nearest_and_distances():
    seqs = np.array(list(itertools.product(range(2), repeat=3)))       # all 8 binary sequences
    idx, d = nb.nearest([0, 0, 0], seqs, 4)
    assert list(d) == [0, 1, 1, 1] and list(idx) == [0, 1, 2, 4]
    assert nb.distances(seqs[:2], seqs[-1:]).tolist() == [[3], [2]]
    with pytest.raises(ValueError, match="different lengths"):
        nb.distances([0, 1], seqs)
    with pytest.raises(ValueError, match="no projected sequences"):
        nb.place([[0, 1, 0]], np.zeros((0, 3)), np.zeros((0, 2)))


def test_neighbours_table_leaves_the_point_out_but_keeps_its_twin():
    seqs = np.array([[0, 0, 0], [1, 1, 1], [0, 0, 0], [0, 0, 1], [1, 0, 1]])
    keys = pd.DataFrame({"split": ["train", "test", "generated", "test", "train"], "example": [0, 0, 0, 1, 1]})
    out = nb.neighbours_table(seqs, 2, keys, k=3)
    assert list(zip(out["split"], out["example"], out["distance"])) == [("train", 0, 0), ("test", 1, 1),
                                                                        ("train", 1, 2)]
