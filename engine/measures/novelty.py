"""The novelty of what a model writes from pure noise (PROTOCOL §5): each generated sequence's
normalised Hamming distance d1 to its nearest training sequence and d2 to the second nearest, and its
category — memorized (d1 == 0 or d1/d2 < 1/3, the ratio test used for image diffusion models), else
novel-valid or spurious where the corpus has a membership oracle (novel where it has none).

* ``novelty_table``     — per generated sample: d1, d2, the nearest training sequence ``twin``, category;
* ``generations_table`` — cfg.n_generate samples with a given reverse step, labelled, with their ids
  (the registered measurement ``generations`` and the plug-in step's ``plugin_generations``);
* ``generated_ids``     — the token ids of a generations table, for the entropy and fluency of generations.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import torch

from engine.diffusion.sample import generate
from engine.measures.neighbours import hamming
from engine.measures.registry import measurement

MEMORIZED_RATIO = Fraction(1, 3)  # PROTOCOL §5: memorized when d1 / d2 < 1/3


def hamming_neighbours(samples: torch.Tensor, train_ids: torch.Tensor, chunk: int = 256):
    """Normalised Hamming distance of each sample (G, L) to its nearest and second-nearest training
    sequence (N, L): returns d1, d2 (G,) as float64 fractions of L (d2 = inf when N == 1) and the
    nearest index (G,)."""
    if len(samples) == 0:
        empty = torch.zeros(0, dtype=torch.float64)
        return empty, empty.clone(), torch.zeros(0, dtype=torch.long)
    h1s, h2s, idx = [], [], []
    for i in range(0, len(samples), chunk):
        d = hamming(samples[i:i + chunk, None, :], train_ids[None, :, :])                   # (g, N)
        k = min(2, d.shape[1])
        v, j = d.topk(k, dim=1, largest=False)
        h1s.append(v[:, 0])
        h2s.append(v[:, 1] if k > 1 else torch.full_like(v[:, 0], -1))
        idx.append(j[:, 0])
    L = samples.shape[1]
    h1, h2 = torch.cat(h1s).double(), torch.cat(h2s).double()
    return h1 / L, torch.where(h2 >= 0, h2 / L, torch.inf), torch.cat(idx)


def novelty_table(samples: torch.Tensor, train_ids: torch.Tensor, oracle=None, tokenizer=None) -> pd.DataFrame:
    """One row per generated sample: d1, d2 (normalised Hamming distances to the nearest and
    second-nearest training sequence), the nearest index ``twin``, memorized (d1 == 0 or
    d1/d2 < 1/3, decided on integer counts so ties are exact; with one training sequence only
    d1 == 0), valid (oracle verdict, NA without an oracle) and category memorized / novel-valid /
    spurious (novel when the corpus has no oracle)."""
    d1, d2, twin = hamming_neighbours(samples, train_ids)
    L = samples.shape[1]
    h1, h2 = torch.round(d1 * L), torch.round(torch.nan_to_num(d2, posinf=-1.0) * L)
    r = MEMORIZED_RATIO   # compared on integer counts: h1 / h2 < p / q  <=>  q h1 < p h2, exactly
    memorized = (h1 == 0) | ((h2 > 0) & (r.denominator * h1 < r.numerator * h2))
    valid = [oracle(r) for r in samples.tolist()] if oracle else [None] * len(samples)
    category = ["memorized" if m else ("novel" if v is None else ("novel-valid" if v else "spurious"))
                for m, v in zip(memorized.tolist(), valid)]
    df = pd.DataFrame({"sample": np.arange(len(samples)), "d1": d1.numpy(), "d2": d2.numpy(),
                       "ratio": (d1 / d2).numpy(), "twin": twin.numpy(), "memorized": memorized.numpy(),
                       "valid": pd.array(valid, dtype="boolean"), "category": category})
    if tokenizer is not None:
        df["text"] = [tokenizer.decode(r) for r in samples.tolist()]
    return df


# ---------------------------------------------------------------- registered measurement (engine.measures.registry)

def summarize_generations(gens: pd.DataFrame, ctx) -> dict:
    """The share of each category among the generations."""
    cats = gens["category"].value_counts(normalize=True).to_dict() if len(gens) else {}
    return {"generations": {k: float(v) for k, v in cats.items()}}


@measurement("generations", ("sample", "ids", "d1", "d2", "twin", "memorized", "valid", "category"),
             summarize=summarize_generations)
def measure_generations(ctx) -> pd.DataFrame:
    """Samples from pure noise with their novelty labels."""
    return generations_table(ctx, ctx.cfg.step)


def generations_table(ctx, step: str) -> pd.DataFrame:
    """cfg.n_generate samples from the generations' own seeded noise, taken with the reverse ``step``,
    labelled by ``novelty_table``, with their token ids (column ``ids``)."""
    return generate_and_label(ctx.bundle, ctx.cfg.n_generate, ctx.generator("generations"),
                              ctx.cfg.gen_steps_per_unit, step, ctx.oracle)


def generate_and_label(b, count: int, generator, steps_per_unit: int, step: str, oracle=None) -> pd.DataFrame:
    """``count`` samples of bundle ``b``'s model denoised from noise drawn with ``generator`` (which
    goes on from where they end), labelled by ``novelty_table`` against its training set, with their
    token ids (column ``ids``): the one generate-and-label of the measurement, the CLI and the app."""
    samples = generate(b.model, count, b.noise, b.config.seq_len, generator=generator,
                       steps_per_unit=steps_per_unit, step=step)
    table = novelty_table(samples, b.train_ids, oracle, b.tokenizer)
    table.insert(1, "ids", [list(r) for r in samples.tolist()])
    return table


def generated_ids(gens: pd.DataFrame | None, seq_len: int) -> torch.Tensor:
    """The token ids (G, L) of a generations table (none: an empty (0, L) tensor)."""
    if gens is None or not len(gens):
        return torch.zeros(0, seq_len, dtype=torch.long)
    flat = np.concatenate([np.asarray(row, dtype=np.int64).ravel() for row in gens["ids"]])
    return torch.from_numpy(flat).reshape(-1, seq_len)
