"""The UMAP projection runs in a fresh interpreter, so the caller never loads umap or numba, and gets
the table it would compute itself, whether the caller is a script file with or without a
``__main__`` guard or a script piped on stdin (a multiprocessing child would import the caller's
script again: without a guard it projected again, and from stdin its pool restarted the dying worker
forever)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import numpy as np, pandas as pd
from engine.measures.projection import projection_table, projection_table_here

# no __main__ guard: the projection must not import this script again
rng = np.random.default_rng(0)
ids = {{"train": rng.integers(0, 5, (12, 6)), "test": rng.integers(0, 5, (8, 6))}}
entropy = pd.DataFrame([(s, i, p, 0.25, float(rng.random())) for s, a in ids.items() for i in range(len(a))
                        for p in range(6)], columns=["split", "example", "position", "t", "entropy"])
child = projection_table(ids, entropy, 0.25)
print("umap in the caller:", "umap" in sys.modules)
here = projection_table_here(ids, entropy, 0.25)
print("same table:", child.equals(here), child.shape)
"""


@pytest.mark.slow  # umap imported twice (numba compiles)
def test_the_projection_runs_apart_and_equals_the_table_computed_here(tmp_path):
    """From the hardest caller, a script piped on stdin (a script file without a guard runs the same
    way: tests/test_readme.py's API example)."""
    out = subprocess.run([sys.executable, "-"], input=SCRIPT, cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "umap in the caller: False" in out.stdout
    assert "same table: True (20, 6)" in out.stdout
    assert list(tmp_path.iterdir()) == []   # nothing left behind
