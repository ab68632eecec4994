"""What models write from pure noise, by novelty category (memorized, novel-valid, spurious; novel
where the corpus has no grammar): one model's bar chart and table, the categories against N for both
reverse steps, and the fluency of generations against N."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.figures import CATEGORY_COLORS


def category_fractions(generations: pd.DataFrame) -> pd.DataFrame:
    """Fraction of generations per category (memorized, novel-valid, spurious, novel)."""
    frac = generations["category"].value_counts(normalize=True)
    order = [c for c in CATEGORY_COLORS if c in frac.index]
    order += [c for c in frac.index if c not in CATEGORY_COLORS]
    return pd.DataFrame({"category": order, "fraction": [float(frac[c]) for c in order]})


def category_figure(generations: pd.DataFrame, title: str = "What the model generates") -> go.Figure:
    """Bar chart of ``category_fractions``."""
    f = category_fractions(generations)   # label only: the table keeps the category "novel"
    fig = go.Figure(go.Bar(x=f["category"].replace({"novel": "novel (no validity check)"}), y=f["fraction"],
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


STEP_TITLES = {"exact": "exact step", "plugin": "the paper's sampler (plug-in step)"}


def categories_by_n_figure(shares: pd.DataFrame, selected_n: int | None = None) -> go.Figure:
    """The paper's headline figure: stacked shares of memorized / novel-valid / spurious (or novel)
    generations against N, one panel per reverse step (``engine.measures.transition.generations_by_n``)."""
    steps = [s for s in ("exact", "plugin") if s in set(shares["step"])]
    fig = make_subplots(rows=1, cols=max(1, len(steps)), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[STEP_TITLES[s] for s in steps])
    labels = {n: f"{n:,}" + (" ◀" if n == selected_n else "") for n in sorted(set(shares["n"]))}
    order = [c for c in CATEGORY_COLORS if c in set(shares["category"])]
    order += sorted(set(shares["category"]) - set(order))
    for col, step in enumerate(steps, start=1):
        part = shares[shares["step"] == step]
        for category in order:
            rows = part[part["category"] == category].sort_values("n")
            fig.add_trace(go.Bar(x=[labels[n] for n in rows["n"]], y=rows["fraction"], name=category,
                                 marker_color=CATEGORY_COLORS.get(category, "gray"), legendgroup=category,
                                 showlegend=col == 1,
                                 hovertemplate=f"N = %{{x}}<br>{category}: %{{y:.2f}}<extra>{STEP_TITLES[step]}</extra>"),
                          row=1, col=col)
        fig.update_xaxes(title_text="training-set size N", type="category",
                         categoryorder="array", categoryarray=list(labels.values()), row=1, col=col)
    fig.update_layout(barmode="stack", title="What the models write from pure noise, against N",
                      yaxis=dict(title="share of generations", range=[0, 1]),
                      legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0), margin=dict(t=90, b=10))
    return fig


def fluency_figure(fluency: pd.DataFrame, order: str = "trigram", selected_n: int | None = None) -> go.Figure:
    """Share of generated word n-grams seen in the training pool against N, for both steps, with the
    held-out test sentences' share as the ceiling (``engine.measures.transition.fluency_by_n``)."""
    fig = go.Figure()
    styles = {"exact": ("generated, exact step", CATEGORY_COLORS["novel-valid"], "solid"),
              "plugin": ("generated, the paper's plug-in step", CATEGORY_COLORS["spurious"], "dot"),
              "test": ("held-out test sentences (ceiling)", "#555555", "dash")}
    for column, (name, color, dash) in styles.items():
        if column in fluency and fluency[column].notna().any():
            fig.add_trace(go.Scatter(x=fluency["n"], y=fluency[column], name=name, mode="lines+markers",
                                     line=dict(color=color, dash=dash),
                                     hovertemplate=f"N = %{{x:,}}: %{{y:.2f}}<extra>{name}</extra>"))
    if selected_n is not None:
        fig.add_vline(x=selected_n, line=dict(color="#888888", width=1, dash="dot"))
    fig.update_layout(title=f"Fluency: generated word {order}s seen in the corpus",
                      xaxis=dict(title="training-set size N", type="log"),
                      yaxis=dict(title=f"share of word {order}s seen", range=[0, 1.02]),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), margin=dict(t=90, b=10))
    return fig
