"""Words and colours that say exactly what is shown (issue 21, item 6): entropy on one colour scale
at every N, Denoise's own colour for tokens of an accepted x̂ that differ from x0, and kjv's bar
saying that its novel sentences are not checked. Hand-built inputs, pure figure builders."""
from __future__ import annotations

import numpy as np
import pandas as pd

from explorer.figures import generations as gfig
from explorer.figures import grid as gf
from explorer.figures import maps as mf
from explorer import trajectory as tj

C, W, F, B, A = tj.CORRECT, tj.WRONG, tj.FIXED, tj.BROKEN, tj.VALID_OTHER


def test_accepted_x_hat_gets_its_own_category_on_the_last_row_only():
    x0 = np.array([1, 2, 3])
    tokens = np.array([[1, 5, 6],      # seed
                       [1, 2, 6],      # position 1 fixed
                       [4, 2, 6]])     # x̂: position 0 broken here, position 2 still differs
    np.testing.assert_array_equal(tj.cell_categories(tokens, x0), [[C, W, W], [C, F, W], [B, C, W]])
    np.testing.assert_array_equal(tj.cell_categories(tokens, x0, accepted=True), [[C, W, W], [C, F, W], [A, C, A]])


def test_the_grid_colours_the_accepted_category_apart_from_wrong():
    assert len(gf.COLOURS) == len(tj.CATEGORIES) and gf.COLOURS[A] not in (gf.COLOURS[W], gf.COLOURS[B])
    x0 = np.array([1, 2, 3])
    run = tj.Run(x0=x0, tokens=np.array([[1, 5, 6], [1, 2, 6], [4, 2, 6]]), entropy=np.zeros((2, 3)),
                 times=np.array([0.5, 0.25]))
    itos = [str(i) for i in range(8)]
    plain = gf.token_grid_figure(run, itos, only_changes=False)
    valid = gf.token_grid_figure(run, itos, only_changes=False, accepted=True)
    assert np.asarray(plain.data[1].z)[-1].tolist() == [B, C, W]
    assert np.asarray(valid.data[1].z)[-1].tolist() == [A, C, A]
    assert list(valid.data[1].colorbar.ticktext)[A] == "differs, sentence valid"
    pair = gf.pair_grid_figure(run, run, itos, itos, ("a", "b"), only_changes=False, accepted=(True, False))
    assert np.asarray(pair.data[2].z)[-1].tolist() == [A, C, A] and np.asarray(pair.data[3].z)[-1].tolist() == [B, C, W]


def test_entropy_has_one_colour_scale_at_every_n():
    m = pd.DataFrame([[0.1, 5.0]], index=pd.MultiIndex.from_tuples([("train", 0)], names=["split", "example"]),
                     columns=[0, 1])
    for V in (None, 20, 2000):
        hm = mf.entropy_heatmap_figure(m, None, 0.25, V=V).data[0]
        assert (hm.zmin, hm.zmax) == (0.0, 2.0)
    points = pd.DataFrame({"split": ["train", "test"], "example": [0, 0], "x": [0.0, 1.0], "y": [0.0, 1.0],
                           "color": [0.2, 0.7], "text": ["a", "b"]})
    fig = mf.projection_figure(points, crange=mf.ENTROPY_RANGE)
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0.0, 2.0)
    radius = mf.projection_figure(points, "basin radius")       # no fixed scale: the values' own range
    assert (radius.layout.coloraxis.cmin, radius.layout.coloraxis.cmax) == (0.2, 0.7)


def test_novel_says_no_validity_check_but_the_data_keep_novel():
    gens = pd.DataFrame({"category": ["memorized", "novel", "novel"]})
    fig = gfig.category_figure(gens)
    assert list(fig.data[0].x) == ["memorized", "novel (no validity check)"]
    assert list(gfig.category_fractions(gens)["category"]) == ["memorized", "novel"]
    grammar = gfig.category_figure(pd.DataFrame({"category": ["novel-valid", "spurious"]}))
    assert list(grammar.data[0].x) == ["novel-valid", "spurious"]
