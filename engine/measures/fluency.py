"""Fluency of generations without an oracle: how many of their word n-grams a reader has seen before.

For each sequence, its words are the tokens before the first end or padding token (what ``decode``
shows); its word bigrams and trigrams are the n consecutive words. The *seen share* of a set of
sequences is

    seen_n = #{n-grams that occur in the reference text} / #{n-grams},

pooled over the sequences, with n-grams holding the unknown-word token left out of both counts (the
vocabulary cap turns rare words into one token, which would make them look familiar). The reference is
the corpus's training pool — every training candidate, not only the model's first N — and never the
test set, so the same number computed on held-out test sentences is the ceiling: the share a real,
unseen sentence of the corpus reaches. Word salad scores low; fluent text close to that ceiling.
The 95 % interval is a percentile bootstrap over sequences (their n-grams are not independent).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from engine.measures.novelty import generated_ids
from engine.measures.registry import measurement
from engine.text.tokenizer import EOS_ID, PAD_ID, UNK_ID

ORDERS = (2, 3)
NAMES = {2: "bigram", 3: "trigram"}
COLUMNS = ("split", "example", "order", "ngrams", "seen")


def words(row: list[int]) -> list[int]:
    """The word ids of one sequence: everything before its first end or padding token."""
    out = []
    for i in row:
        if i in (EOS_ID, PAD_ID):
            break
        out.append(i)
    return out


def ngrams(row: list[int], n: int) -> list[tuple[int, ...]]:
    """The word n-grams of one sequence, those holding the unknown-word token left out."""
    w = words(row)
    return [g for g in zip(*(w[k:] for k in range(n))) if UNK_ID not in g]


def reference_ngrams(ids: torch.Tensor, n: int) -> set[tuple[int, ...]]:
    """Every word n-gram of the reference sequences (M, L)."""
    return {g for row in ids.tolist() for g in ngrams(row, n)}


def fluency_table(splits: dict[str, torch.Tensor], reference: torch.Tensor, orders=ORDERS) -> pd.DataFrame:
    """One row per split × sequence × order: its n-gram count and how many occur in ``reference``."""
    rows = []
    for n in orders:
        seen_set = reference_ngrams(reference, n)
        for name, ids in splits.items():
            for i, row in enumerate(ids.tolist()):
                grams = ngrams(row, n)
                rows.append((name, i, n, len(grams), sum(g in seen_set for g in grams)))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def seen_share(table: pd.DataFrame, resamples: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """(share, low, high): the pooled seen share of one split × order and its 95 % bootstrap interval."""
    g = table[table["ngrams"] > 0]
    if len(g) == 0:
        return float("nan"), float("nan"), float("nan")
    seen, total = g["seen"].to_numpy(float), g["ngrams"].to_numpy(float)
    idx = np.random.default_rng(seed).integers(0, len(g), (resamples, len(g)))
    boot = seen[idx].sum(1) / total[idx].sum(1)
    return float(seen.sum() / total.sum()), float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))


def summarize_fluency(table: pd.DataFrame, ctx=None) -> dict:
    """{split: {"bigram": share, "bigram_low", "bigram_high", "trigram": ..., "sequences": count}}."""
    out: dict = {}
    for (split, n), g in table.groupby(["split", "order"]):
        share, low, high = seen_share(g)
        entry = out.setdefault(split, {"sequences": int(g["example"].nunique())})
        entry.update({NAMES.get(int(n), f"{n}-gram"): share, f"{NAMES.get(int(n), n)}_low": low,
                      f"{NAMES.get(int(n), n)}_high": high})
    return {"fluency": out}


def _registered(bundle) -> bool:
    from engine.text import corpora
    return corpora.get(bundle.corpus) is not None


@measurement("fluency", COLUMNS, needs=("generations", "plugin_generations"), summarize=summarize_fluency,
             applies=_registered)
def measure_fluency(ctx) -> pd.DataFrame:
    """Word bigrams and trigrams of generations (both steps) and test sentences seen in the training pool."""
    from engine.text.corpus import load_corpus   # loads the whole corpus: only when the table is computed

    b = ctx.bundle
    L = b.config.seq_len
    pool = load_corpus(b.corpus).pool
    reference = torch.tensor([b.tokenizer.encode_fixed(s, L) for s in pool], dtype=torch.long)
    splits = {"generated": generated_ids(ctx.tables.get("generations"), L),
              "generated_plugin": generated_ids(ctx.tables.get("plugin_generations"), L), "test": ctx.splits()["test"]}
    return fluency_table(splits, reference)
