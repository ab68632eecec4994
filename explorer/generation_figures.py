"""The Generate page's figure and table: what a model writes from pure noise, by novelty category
(memorized, novel-valid, spurious; novel where the corpus has no grammar)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .figures import CATEGORY_COLORS


def category_fractions(generations: pd.DataFrame) -> pd.DataFrame:
    """Fraction of generations per category (memorized, novel-valid, spurious, novel)."""
    frac = generations["category"].value_counts(normalize=True)
    order = [c for c in CATEGORY_COLORS if c in frac.index]
    order += [c for c in frac.index if c not in CATEGORY_COLORS]
    return pd.DataFrame({"category": order, "fraction": [float(frac[c]) for c in order]})


def category_figure(generations: pd.DataFrame, title: str = "What the model generates") -> go.Figure:
    """Bar chart of ``category_fractions``."""
    f = category_fractions(generations)
    fig = go.Figure(go.Bar(x=f["category"], y=f["fraction"],
                           marker_color=[CATEGORY_COLORS.get(c, "gray") for c in f["category"]],
                           text=[f"{100 * v:.0f}%" for v in f["fraction"]], textposition="outside",
                           hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    fig.update_layout(title=title, yaxis=dict(title="fraction of generations", range=[0, 1.15]),
                      margin=dict(t=60, b=10))
    return fig


def generation_table(generations: pd.DataFrame, train_sentences: list[str]) -> pd.DataFrame:
    """The generations as shown: sentence, category, d1, d2 and the nearest training sentence (its twin)."""
    twin = [train_sentences[int(i)] if 0 <= int(i) < len(train_sentences) else "" for i in generations["twin"]]
    text = ["(empty: only padding)" if not str(x).strip() else str(x) for x in generations["text"]]
    return pd.DataFrame({"sentence": text, "category": generations["category"].to_numpy(),
                         "d1": generations["d1"].to_numpy(), "d2": generations["d2"].to_numpy(),
                         "nearest training sentence": twin})
