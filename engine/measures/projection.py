"""2-D UMAP projections of sequences, from their tokens or from their entropy profiles.

* tokens:  each sequence is its id vector (L,), compared with the Hamming distance;
* entropy: each sequence is its per-position conditional entropy vector (L,) in nats, Euclidean,
  so sequences the model treats alike land together.
umap-learn is imported only in a child process: its first import compiles with numba, and once
numba's threading runtime is loaded into a process, torch's CPU kernels in that same process run
several times slower (README, under Layout). ``projection_table`` therefore runs UMAP in a fresh
interpreter, so neither the sweep nor the app server is slowed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from engine.measures.registry import measurement

REPO = Path(__file__).resolve().parents[2]   # the folder holding the engine package


def umap_2d(features: np.ndarray, metric: str, seed: int = 0, n_neighbors: int = 15) -> np.ndarray:
    """UMAP embedding (M, 2) of ``features`` (M, D); tiny inputs fall back to a deterministic layout."""
    features = np.asarray(features)
    M = len(features)
    if M < 4:
        return np.column_stack([np.arange(M, dtype=float), np.zeros(M)])
    import umap  # deferred: numba compilation on first import

    reducer = umap.UMAP(n_components=2, metric=metric, n_neighbors=min(n_neighbors, M - 1),
                        random_state=seed, init="random" if M < 16 else "spectral", n_jobs=1)
    return reducer.fit_transform(features.astype(np.float32 if metric != "hamming" else np.int64))


def projection_table(ids: dict[str, np.ndarray], entropy: pd.DataFrame, t: float, seed: int = 0) -> pd.DataFrame:
    """``projection_table_here`` computed in a fresh interpreter (``python -m engine.measures.projection
    FOLDER``; see the module docstring), handed its inputs and its result as files in a temporary
    folder (token ids as .npz read without pickles, tables as parquet). A fresh interpreter, not a
    multiprocessing child, so the caller's own script is never imported again: a script needs no
    ``if __name__ == "__main__"`` guard and may even be piped on stdin."""
    with tempfile.TemporaryDirectory(prefix="basin-projection-") as tmp:
        folder = Path(tmp)
        np.savez(folder / "ids.npz", **{split: np.asarray(a, dtype=np.int64) for split, a in ids.items()})
        entropy[np.isclose(entropy["t"], t)].to_parquet(folder / "entropy.parquet")
        (folder / "args.json").write_text(json.dumps({"splits": list(ids), "t": float(t), "seed": int(seed)}))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        out = subprocess.run([sys.executable, "-m", "engine.measures.projection", str(folder)], env=env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"the UMAP projection's process failed (exit {out.returncode}): {out.stderr[-1500:]}")
        return pd.read_parquet(folder / "projection.parquet")


def projection_table_here(ids: dict[str, np.ndarray], entropy: pd.DataFrame, t: float, seed: int = 0) -> pd.DataFrame:
    """Coordinates of every sequence in ``ids`` (split -> (M, L) token ids) from tokens (x_tok, y_tok)
    and from the entropy profiles at level ``t`` in ``entropy`` (x_ent, y_ent; rows split, example)."""
    keys = [(s, i) for s, a in ids.items() for i in range(len(a))]
    tokens = np.concatenate([np.asarray(a) for a in ids.values()])
    e = entropy[np.isclose(entropy["t"], t)]
    profile = e.pivot_table(index=["split", "example"], columns="position", values="entropy")
    profiles = profile.reindex(pd.MultiIndex.from_tuples(keys, names=["split", "example"])).fillna(0.0)
    xy_tok = umap_2d(tokens, "hamming", seed)
    xy_ent = umap_2d(profiles.to_numpy(), "euclidean", seed)
    return pd.DataFrame({"split": [k[0] for k in keys], "example": [k[1] for k in keys],
                         "x_tok": xy_tok[:, 0], "y_tok": xy_tok[:, 1],
                         "x_ent": xy_ent[:, 0], "y_ent": xy_ent[:, 1]})


@measurement("projection", ("split", "example", "x_tok", "y_tok", "x_ent", "y_ent"), needs=("entropy", "generations"))
def measure_projection(ctx) -> pd.DataFrame:
    """UMAP coordinates of the measured train, test and generated sequences (tokens and entropy profiles)."""
    from engine.diffusion.sample import T_MIN
    from engine.measures.novelty import generated_ids

    b, ent = ctx.bundle, ctx.tables["entropy"]
    counts = ent[ent["position"] == 0].groupby("split")["example"].nunique()
    ids = {"train": b.train_ids[:counts.get("train", 0)].numpy(), "test": b.test_ids[:counts.get("test", 0)].numpy()}
    gens = ctx.tables.get("generations")
    if gens is not None and len(gens):
        ids["generated"] = generated_ids(gens, b.config.seq_len).numpy()
    return projection_table(ids, ent, T_MIN, seed=b.seed)


def _project_folder(folder: Path) -> None:
    """The fresh interpreter's work: read what ``projection_table`` wrote to ``folder``, project, write back."""
    args = json.loads((folder / "args.json").read_text())
    with np.load(folder / "ids.npz", allow_pickle=False) as arrays:
        ids = {split: arrays[split] for split in args["splits"]}
    table = projection_table_here(ids, pd.read_parquet(folder / "entropy.parquet"), args["t"], args["seed"])
    table.to_parquet(folder / "projection.parquet")


if __name__ == "__main__":
    _project_folder(Path(sys.argv[1]))
