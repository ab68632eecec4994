"""Measurements: per-sequence scores, basin radii, nearest-neighbour novelty and the entropy gap.

References: hand-built examples whose rates are counted by hand, the definitions of PROTOCOL §5
re-implemented as plain Python loops on random small data, and fake models with known outputs.
"""
from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
import torch

from engine.measures.measure import (basin_table, entropy_gap, entropy_table, fixed_point_table, mean_entropy,
                                     recovery_table, score)
from engine.measures.novelty import hamming_neighbours, novelty_table
from engine.diffusion.noise import UniformNoise
from engine.text.tokenizer import EOS_ID, PAD_ID, WordTokenizer

E, P = EOS_ID, PAD_ID


# ---------------------------------------------------------------- score

def test_score_hand_built():
    x0 = torch.tensor([[5, 6, 7, E, P, P],      # content = first 4 positions
                       [5, E, P, P, P, P],      # content = 2; only padding corrupted
                       [3, 4, 5, 6, 7, 8],      # no end token: all content
                       [E, P, P, P, P, P]])     # content = the end token alone
    zt = torch.tensor([[5, 9, 7, 3, 4, P],
                       [5, E, P, 4, P, P],
                       [9, 4, 5, 6, 7, 1],
                       [4, P, P, P, P, P]])
    x_hat = torch.tensor([[5, 6, 8, E, P, P],
                          [5, E, P, P, P, P],
                          [3, 4, 5, 6, 7, 2],
                          [E, P, 9, P, P, P]])
    df = score(x0, zt, x_hat)
    assert list(df["n_content"]) == [4, 2, 6, 1]
    assert list(df["n_corrupted"]) == [2, 0, 2, 1]
    np.testing.assert_allclose(df["changed_frac"], [3 / 6, 1 / 6, 2 / 6, 1 / 6], rtol=1e-6)
    np.testing.assert_allclose(df["recovery_rate"], [1.0, np.nan, 0.5, 1.0])
    np.testing.assert_allclose(df["unstable_rate"], [0.5, 0.0, 0.0, np.nan])
    np.testing.assert_allclose(df["recovery_rate_all"], [1.0, 1.0, 0.5, 1.0])
    assert list(df["exact_match"]) == [False, True, False, False]


def _brute_score(x0, zt, x_hat):
    rows = []
    for a, z, h in zip(x0.tolist(), zt.tolist(), x_hat.tolist()):
        end = a.index(E) + 1 if E in a else len(a)
        content = range(end)
        cor = [i for i in content if z[i] != a[i]]
        kept = [i for i in content if z[i] == a[i]]
        allcor = [i for i in range(len(a)) if z[i] != a[i]]
        rows.append({
            "n_content": end, "n_corrupted": len(cor),
            "recovery_rate": sum(h[i] == a[i] for i in cor) / len(cor) if cor else math.nan,
            "unstable_rate": sum(h[i] != a[i] for i in kept) / len(kept) if kept else math.nan,
            "recovery_rate_all": sum(h[i] == a[i] for i in allcor) / len(allcor) if allcor else math.nan,
            "exact_match": a == h})
    return pd.DataFrame(rows)


def test_score_against_brute_force_loop():
    rng = torch.Generator().manual_seed(0)
    S, L, V = 300, 7, 6
    x0 = torch.randint(3, V, (S, L), generator=rng)
    ends = torch.randint(0, L + 2, (S,), generator=rng)      # >= L: no end token
    for r in range(S):
        if ends[r] < L:
            x0[r, ends[r]] = E
            x0[r, ends[r] + 1:] = P
    zt = torch.where(torch.rand(S, L, generator=rng) < 0.3, torch.randint(0, V, (S, L), generator=rng), x0)
    x_hat = torch.where(torch.rand(S, L, generator=rng) < 0.2, torch.randint(0, V, (S, L), generator=rng), x0)
    got, ref = score(x0, zt, x_hat), _brute_score(x0, zt, x_hat)
    for col in ref.columns:
        np.testing.assert_allclose(got[col].to_numpy(dtype=float), ref[col].to_numpy(dtype=float),
                                   rtol=1e-6, err_msg=col)
    assert got["recovery_rate"].isna().sum() == (ref["n_corrupted"] == 0).sum() > 0


# ---------------------------------------------------------------- basins

LEVELS = [0.05, 0.1, 0.25, 0.5]


def _recovery_frame(patterns: dict[tuple[str, int], list[list[bool]]]) -> pd.DataFrame:
    """patterns[(split, example)] = per-level lists of trial outcomes (exact_match; None: a trial that
    corrupted no content position, exact by construction)."""
    rows = [{"split": s, "example": e, "t": t, "trial": k, "exact_match": ok is not False,
             "n_corrupted": 0 if ok is None else 1}
            for (s, e), per_level in patterns.items() for t, trials in zip(LEVELS, per_level)
            for k, ok in enumerate(trials)]
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)  # order must not matter


def test_basin_radius_hand_built():
    T, F = True, False
    patterns = {
        ("train", 0): [[T, T], [T, T], [F, F], [T, T]],          # [1,1,0,1] -> 0.1
        ("train", 1): [[F, F], [T, T], [T, T], [T, T]],          # [0,1,1,1] -> 0
        ("train", 2): [[T, T], [T, T], [T, T], [T, T]],          # all -> 0.5
        ("test", 0): [[T, F, T, F], [F, T, F, T], [T, T, F, F], [F, F, F, T]],   # exactly half counts -> 0.25
        ("test", 1): [[T, T, T, F], [T, F, F, F], [T, T, T, T], [T, T, T, T]],   # 1/4 at 0.1 -> 0.05
    }
    out = basin_table(_recovery_frame(patterns)).set_index(["split", "example"])
    expected = {("train", 0): 0.1, ("train", 1): 0.0, ("train", 2): 0.5, ("test", 0): 0.25, ("test", 1): 0.05}
    for key, r in expected.items():
        assert out.loc[key, "radius"] == pytest.approx(r), key
        freqs = [float(np.mean(trials)) for trials in patterns[key]]
        assert list(out.loc[key, [f"p@{t:g}" for t in LEVELS]]) == pytest.approx(freqs), key
    assert list(out.columns) == ["radius"] + [f"p@{t:g}" for t in LEVELS]


def test_basin_radius_ignores_trials_that_corrupted_nothing():
    T, F, U = True, False, None
    patterns = {("train", 0): [[U, U, F], [T, F, U], [U, U, U], [F, F], [T, T]],   # 0/1, 1/2, none, 0/2
                ("train", 1): [[U, T], [U, U], [T, U], [F, F], [F, F]]}             # 1/1, none, 1/1, 0/2
    out = basin_table(_recovery_frame(patterns)).set_index(["split", "example"])
    assert out.loc[("train", 0), "radius"] == 0.0           # untouched wins never count as recoveries
    assert out.loc[("train", 1), "radius"] == 0.25           # a level with no corrupting trial is skipped
    assert np.isnan(out.loc[("train", 0), "p@0.25"]) and out.loc[("train", 0), "p@0.1"] == 0.5


def test_basin_radius_against_definition_on_random_patterns():
    rng = random.Random(1)
    K = 4
    patterns = {("s", e): [[rng.random() < rng.choice([0.2, 0.5, 0.9]) for _ in range(K)] for _ in LEVELS]
                for e in range(200)}
    out = basin_table(_recovery_frame(patterns)).set_index(["split", "example"])
    for key, per_level in patterns.items():
        radius = 0.0
        for t, trials in zip(LEVELS, per_level):      # largest t with success >= K/2 at every level <= t
            if 2 * sum(trials) >= K:
                radius = t
            else:
                break
        assert out.loc[key, "radius"] == radius, (key, per_level)


# ---------------------------------------------------------------- novelty

def _brute_neighbours(samples, train):
    L = len(samples[0])
    out = []
    for s in samples:
        h = sorted((sum(a != b for a, b in zip(s, r)), j) for j, r in enumerate(train))
        h1 = h[0][0]
        h2 = h[1][0] if len(h) > 1 else None
        out.append((h1, h2, [j for d, j in h if d == h1], L))
    return out


@pytest.mark.parametrize("n_train,chunk", [(12, 256), (12, 7), (2, 3)])
def test_novelty_against_brute_force(n_train, chunk):
    rng = torch.Generator().manual_seed(n_train + chunk)
    L, V = 8, 3   # L = 8: every h/L is exact in binary, so float ratios equal the exact ones
    train = torch.randint(0, V, (n_train, L), generator=rng)
    samples = torch.randint(0, V, (40, L), generator=rng)
    samples[:5] = train[torch.randint(0, n_train, (5,), generator=rng)]          # exact copies
    samples[5:10] = train[torch.randint(0, n_train, (5,), generator=rng)]
    samples[5:10, 0] = (samples[5:10, 0] + 1) % V                                 # one-token edits
    d1, d2, twin = hamming_neighbours(samples, train, chunk=chunk)

    def oracle(ids):
        return sum(ids) % 2 == 0

    df = novelty_table(samples, train, oracle)
    for g, (h1, h2, nearest, _) in enumerate(_brute_neighbours(samples.tolist(), train.tolist())):
        assert float(d1[g]) == h1 / L and float(df.loc[g, "d1"]) == h1 / L
        if h2 is None:
            assert math.isinf(float(d2[g]))
        else:
            assert float(d2[g]) == h2 / L and float(df.loc[g, "d2"]) == h2 / L
        assert int(twin[g]) in nearest and int(df.loc[g, "twin"]) in nearest
        memorized = h1 == 0 or (h2 is not None and 3 * h1 < h2)
        assert bool(df.loc[g, "memorized"]) == memorized, (g, h1, h2)
        valid = oracle(samples[g].tolist())
        assert bool(df.loc[g, "valid"]) == valid
        assert df.loc[g, "category"] == ("memorized" if memorized else ("novel-valid" if valid else "spurious"))
    assert df["memorized"].iloc[:5].all()
    assert set(df["category"]) >= {"memorized"}


def test_novelty_without_oracle_and_with_tokenizer():
    tok = WordTokenizer(["a", "b", "c"])
    train = torch.tensor([[3, 4, E, P], [5, 5, 5, E]])
    samples = torch.tensor([[3, 4, E, P], [4, 3, 5, E], [3, 4, E, 4]])
    df = novelty_table(samples, train, tokenizer=tok)
    assert list(df["category"]) == ["memorized", "novel", "memorized"]   # d1 = 0; 2/4 vs 4/4; 1/4 vs 4/4
    assert df["valid"].isna().all()
    assert list(df["text"]) == ["a b", "b a c", "a b"]


def test_novelty_ratio_boundary_is_strict():
    train = torch.tensor([[0, 0, 0, 0, 0], [1, 1, 1, 0, 1]])
    sample = torch.tensor([[0, 0, 0, 0, 1]])   # Hamming 1 to train[0], 3 to train[1]: d1/d2 = 1/3 exactly
    df = novelty_table(sample, train)
    assert (df.loc[0, "d1"], df.loc[0, "d2"]) == (pytest.approx(0.2), pytest.approx(0.6))
    assert not bool(df.loc[0, "memorized"])   # PROTOCOL: memorized iff d1 == 0 or d1/d2 < 1/3 (strict)


def test_novelty_with_one_training_sequence():
    train = torch.tensor([[0, 0, 0, 0]])
    samples = torch.tensor([[0, 0, 0, 0], [1, 1, 1, 1]])     # a copy, and a sequence sharing no token
    df = novelty_table(samples, train)
    assert math.isinf(df.loc[1, "d2"]) and df.loc[1, "d1"] == 1.0
    assert list(df["memorized"]) == [True, False]             # d1 = 1 is not a memorized sample


# ---------------------------------------------------------------- entropy gap

def test_entropy_gap_hand_built():
    rows = []

    def seq(split, example, t, content_values, pad_values):
        for i, h in enumerate(content_values + pad_values):
            rows.append({"split": split, "example": example, "t": t, "position": i,
                         "entropy": h, "content": i < len(content_values)})

    seq("generated", 0, 1e-5, [1.0, 1.0], [50.0])
    seq("generated", 1, 1e-5, [2.0, 2.0, 2.0, 2.0], [])
    seq("train", 0, 1e-5, [0.0, 0.5], [9.0, 9.0])
    seq("train", 1, 1e-5, [0.25], [9.0])
    seq("generated", 0, 0.25, [7.0], [])
    seq("train", 0, 0.25, [3.0], [])
    table = pd.DataFrame(rows)
    # per-sequence means over content: generated 1.0, 2.0 -> 1.5; train 0.25, 0.25 -> 0.25
    assert entropy_gap(table, 1e-5) == pytest.approx(1.25)
    assert entropy_gap(table, 0.25) == pytest.approx(4.0)
    m = mean_entropy(table).set_index(["split", "example", "t"])["entropy"]
    assert m[("generated", 1, 1e-5)] == pytest.approx(2.0) and m[("train", 0, 1e-5)] == pytest.approx(0.25)


# ---------------------------------------------------------------- tables driven by fake models

def test_recovery_table_with_an_oracle_model(oracle):
    V = 7
    target = torch.tensor([3, 4, 5, E, P])
    other = torch.tensor([6, 4, E, P, P])
    noise = UniformNoise(V)
    splits = {"train": target[None], "test": other[None].repeat(2, 1)}
    df = recovery_table(oracle(target, V), noise, splits, levels=(0.1, 0.5), trials=3,
                        generator=torch.Generator().manual_seed(0), greedy=True, steps_per_unit=10,
                        train_ids=torch.stack([other, target]))
    assert len(df) == (1 + 2) * 2 * 3
    assert list(df.columns[:4]) == ["split", "example", "t", "trial"]
    tr, te = df[df["split"] == "train"], df[df["split"] == "test"]
    assert tr["exact_match"].all() and not te["exact_match"].any()
    assert (tr["recovery_rate"].dropna() == 1.0).all() and (tr["unstable_rate"].dropna() == 0).all()
    assert (df["recovery_rate"].isna() == (df["n_corrupted"] == 0)).all()
    assert (df["landed"] == 1).all()                       # x_hat is always target = train_ids[1]
    assert sorted(te["example"].unique()) == [0, 1] and sorted(df["trial"].unique()) == [0, 1, 2]


def test_fixed_points_and_entropy_with_fake_models(oracle, fixed_logits):
    V = 7
    target = torch.tensor([3, 4, 5, E, P])
    other = torch.tensor([6, 4, E, P, P])
    noise = UniformNoise(V)
    fp = fixed_point_table(oracle(target, V), noise, {"train": torch.stack([target, other])}, steps_per_unit=100)
    assert list(fp["fixed"]) == [True, False]

    logits = torch.tensor([[0.0] * V, [2.0, 1.0, 0.0, 0.0, 0.0, 0.0, -1.0]] + [[0.0] * V] * 3)
    p = torch.softmax(logits[1].double(), -1)
    H1 = float(-(p * p.log()).sum())
    ent = entropy_table(fixed_logits(logits), noise, {"train": target[None], "empty": torch.zeros(0, 5).long()},
                        levels=(1e-5, 0.25), generator=torch.Generator().manual_seed(0))
    assert len(ent) == 2 * 5 and set(ent["split"]) == {"train"}
    for _, r in ent.iterrows():
        expected = H1 if r["position"] == 1 else math.log(V)
        assert r["entropy"] == pytest.approx(expected, rel=1e-5)
    assert list(ent["content"][:5]) == [True, True, True, True, False]


# ---------------------------------------------------------------- the summary's fields against the registry

def test_the_summary_fields_are_the_keys_the_registered_summaries_write():
    """``Summary`` lists its fields by hand (reading a summary must not import the measurements, nor
    torch): they must be exactly the keys the registry's summaries write, besides the checkpoint's
    identity and configs, so that a new measurement cannot be summarised without being read."""
    from dataclasses import fields
    from types import SimpleNamespace

    from engine.measures import registry
    from engine.measures.summary import Summary

    written = set()
    for m in registry.load_all().values():
        if m.summarize is not None:
            empty = pd.DataFrame(columns=list(m.columns))
            written |= set(m.summarize(empty, registry.Context(SimpleNamespace(), SimpleNamespace())))
    assert {f.name for f in fields(Summary)} - {"corpus", "n", "seed", "measure_config", "tables"} == written


NOT_IN_RESULTS = {"entropy_gap"}   # the Generate page computes the gap from the entropy table itself


def test_every_summarized_number_reaches_the_results_table(tmp_path):
    """``engine.runs.zoo.results_table`` reads the summary field by field (by hand, without torch):
    blanking any field of a shipped summary (a grammar one: every field filled) changes the table,
    except the fields listed as not shown in it."""
    import json
    import shutil
    from dataclasses import fields
    from pathlib import Path

    from engine.measures.summary import Summary
    from engine.runs.zoo import results_table

    shipped = json.loads((Path(__file__).parent.parent / "assets/zoo/grammar/n00016/measure/summary.json").read_text())
    meta = {"corpus", "n", "seed", "measure_config", "tables"}

    def table(summary: dict):
        root = tmp_path / "zoo"
        shutil.rmtree(root, ignore_errors=True)
        (root / "g" / "measure").mkdir(parents=True)
        (root / "index.json").write_text(json.dumps([{"corpus": "grammar", "n": 16, "seed": 0, "path": "g"}]))
        (root / "g" / "measure" / "summary.json").write_text(json.dumps(summary))
        return results_table(root)

    full = table(shipped)
    for f in fields(Summary):
        if f.name in meta:
            continue
        assert shipped.get(f.name), f"the shipped summary has no {f.name!r}"
        blanked = table({**shipped, f.name: f.default_factory()})
        assert blanked.equals(full) == (f.name in NOT_IN_RESULTS), f.name
