"""One denoising run, looked at closely: the Denoise page's logic and figures (no ``st.*`` here).

A run starts from a clean sequence x0 (L,), corrupts it at level t with q(z_t | x0) and walks the
reverse diffusion back (``engine.denoise``). Its trajectory is a grid: rows are the states
z_t0, z_t1, ..., x_hat (S = n + 2 rows), columns the L positions. Each cell is put in a category:

* ``correct``       — the token equals x0 there and did not change at this step;
* ``wrong``         — the token differs from x0 and did not change at this step;
* ``fixed here``    — the token changed at this step and now equals x0;
* ``broken here``   — the token changed at this step and now differs from x0.

The outcome of the run says whether x_hat is x0 (recovered), another training sequence (the run fell
into that sequence's basin) or something new (then the nearest training sequence by Hamming distance).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from engine.noise import UniformNoise
from engine.sample import STEPS_PER_UNIT, denoise
from engine.tokenizer import SPECIALS, WordTokenizer, content_mask, split_words

CORRECT, WRONG, FIXED, BROKEN = 0, 1, 2, 3
CATEGORIES = ("correct", "wrong", "fixed here", "broken here")
SPECIAL_TOKENS = frozenset(SPECIALS)
_MD_SPECIAL = frozenset("\\`*_{}[]()#+-.!|$<>~:=&^")
COLOURS = ("#dcefdc", "#f6d2d2", "#2e9d44", "#e8710a")


@dataclass(frozen=True, eq=False)
class Run:
    """A denoising run as plain arrays (cacheable, picklable).

    x0: (L,) the clean sequence; tokens: (S, L) z_t0, the n reverse steps, then x_hat (S = n + 2);
    entropy: (S - 1, L) entropy in nats of x_theta(z, t) for the input row at each grid time;
    times: (S - 1,) the grid t0 > ... > t_min (row k of ``tokens`` is z at ``times[k]``).
    """

    x0: np.ndarray
    tokens: np.ndarray
    entropy: np.ndarray
    times: np.ndarray

    @property
    def zt(self) -> np.ndarray:
        return self.tokens[0]

    @property
    def x_hat(self) -> np.ndarray:
        return self.tokens[-1]

    @property
    def t(self) -> float:
        return float(self.times[0])

    def changed(self) -> np.ndarray:
        """(L,) bool: positions where the corrupted seed differs from x0."""
        return self.zt != self.x0

    def content(self) -> np.ndarray:
        """(L,) bool: x0's content positions (its words and end token)."""
        return content_mask(torch.as_tensor(self.x0)).numpy()


@dataclass(frozen=True)
class Outcome:
    """kind: 'recovered' | 'other_basin' | 'new'. index: the training sequence x_hat equals
    (recovered: the one x0 is, if any), or the nearest one ('new'); distance: Hamming distance to it."""

    kind: str
    index: int | None
    distance: int


def encode_sentence(tokenizer: WordTokenizer, text: str, seq_len: int) -> tuple[list[int], list[str]]:
    """Fixed-length ids of a typed sentence and the words outside the vocabulary (they become <unk>).

    ValueError when the sentence is empty or does not fit ``seq_len`` (from the tokenizer), or when
    none of its words is in the vocabulary (the model would see nothing but ``<unk>``)."""
    ids = tokenizer.encode_fixed(text, seq_len)
    words = split_words(text)
    unknown = [w for w in dict.fromkeys(words) if w not in tokenizer.stoi]
    if len(unknown) == len(set(words)):
        raise ValueError("none of its words is in this model's vocabulary, so the model would see only "
                         "`<unk>`; use words from its training sentences")
    return ids, unknown


def same_vocabulary(a: WordTokenizer, b: WordTokenizer) -> bool:
    return a.itos == b.itos


def corrupt(x0: torch.Tensor, t: float, noise: UniformNoise, seed: int) -> tuple[torch.Tensor, torch.Generator]:
    """z_t ~ q(z_t | x0) for one sequence (L,) drawn from a generator seeded with ``seed``; returns z_t
    (L,) and the generator, which the reverse steps then continue to draw from."""
    gen = torch.Generator().manual_seed(int(seed))
    return noise.sample_xt(x0[None], float(t), generator=gen)[0], gen


def next_corrupting_seed(x0, t: float, noise: UniformNoise, seed: int, tries: int = 1000) -> int | None:
    """The first seed after ``seed`` whose corruption of x0 (L,) at level t changes at least one content
    position (``corrupt`` draws the same z_t), or None if none of the next ``tries`` does."""
    x0 = torch.as_tensor(x0)
    content = content_mask(x0)
    for s in range(int(seed) + 1, min(int(seed) + 1 + tries, 2**31)):
        zt, _ = corrupt(x0, t, noise, s)
        if bool(((zt != x0) & content).any()):
            return s
    return None


def run(model: torch.nn.Module, noise: UniformNoise, x0: torch.Tensor, t: float, seed: int, *,
        greedy: bool = False, steps_per_unit: int = STEPS_PER_UNIT) -> Run:
    """Corrupt x0 (L,) at level t with ``seed`` and denoise it back, keeping the whole trajectory.

    The same (x0, t, seed) gives the same z_t for every model on the same vocabulary, so two models
    can be compared on the very same corrupted seed."""
    zt, gen = corrupt(x0, t, noise, seed)
    traj = denoise(model, zt[None], float(t), noise, greedy=greedy, steps_per_unit=steps_per_unit,
                   generator=gen, return_trajectory=True)
    return Run(x0=x0.numpy().copy(), tokens=traj.tokens[:, 0].numpy(), entropy=traj.entropy[:, 0].numpy(),
               times=traj.times.numpy())


def cell_categories(tokens: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """Category (CORRECT, WRONG, FIXED, BROKEN) of every cell of a trajectory (S, L) against x0 (L,).

    Row 0 (the corrupted seed) has no previous row: its cells are only correct or wrong."""
    tokens, x0 = np.asarray(tokens), np.asarray(x0)
    right = tokens == x0[None]
    changed = np.zeros_like(right)
    changed[1:] = tokens[1:] != tokens[:-1]
    cats = np.where(right, CORRECT, WRONG)
    return np.where(changed, np.where(right, FIXED, BROKEN), cats).astype(np.int8)


def hamming(x: np.ndarray, seqs: np.ndarray) -> np.ndarray:
    """Number of positions where x (L,) differs from each row of seqs (N, L)."""
    return (np.asarray(seqs) != np.asarray(x)[None]).sum(axis=1)


def classify(x_hat: np.ndarray, x0: np.ndarray, train_ids: np.ndarray) -> Outcome:
    """Where the run ended: x0 itself, another training sequence, or somewhere new."""
    train_ids = np.asarray(train_ids)
    d = hamming(x_hat, train_ids) if len(train_ids) else np.zeros(0, dtype=int)
    exact = np.flatnonzero(d == 0)
    if np.array_equal(x_hat, x0):
        return Outcome("recovered", int(exact[0]) if len(exact) else None, 0)
    if len(exact):
        return Outcome("other_basin", int(exact[0]), 0)
    if not len(d):
        return Outcome("new", None, int(len(x_hat)))
    j = int(d.argmin())
    return Outcome("new", j, int(d[j]))


def escape_markdown(text: str) -> str:
    """``text`` with every Markdown-active character backslash-escaped (shown literally by st.markdown)."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)


def shorten(text: str, width: int = 40) -> str:
    """``text`` cut to at most ``width`` characters, an ellipsis marking the cut."""
    return text if len(text) <= width else text[:width - 1] + "…"


def tokens_markdown(ids: np.ndarray, itos: list[str], marked: np.ndarray | None = None) -> str:
    """A sequence as Markdown: every token (specials as code), the ``marked`` ones in bold red."""
    out = []
    for k, i in enumerate(ids):
        word = itos[int(i)]
        word = f"`{word}`" if word in SPECIAL_TOKENS else escape_markdown(word)
        out.append(f":red[**{word}**]" if marked is not None and marked[k] else word)
    return " ".join(out)


def kept_rows(tokens: np.ndarray, only_changes: bool) -> np.ndarray:
    """Row indices to draw: all, or the seed, every row that changed something, and x_hat."""
    S = len(tokens)
    if not only_changes:
        return np.arange(S)
    changed = np.zeros(S, dtype=bool)
    changed[1:] = (tokens[1:] != tokens[:-1]).any(axis=1)
    changed[0] = changed[-1] = True
    return np.flatnonzero(changed)


def row_labels(times: np.ndarray, rows: np.ndarray) -> list[str]:
    """'seed t=0.250', 'step 3 t=0.220', ..., 'x̂' for the chosen rows of a trajectory."""
    last = len(times)
    out = []
    for k in rows:
        if k == 0:
            out.append(f"seed t={times[0]:.3f}")
        elif k == last:
            out.append("x̂ (final)")
        else:
            out.append(f"step {k} t={times[k]:.3f}")
    return out


def _cell_hover(run_: Run, itos: list[str], rows: np.ndarray) -> np.ndarray:
    """customdata (rows, L, 2): x0's token and the entropy (nats) of x_theta at that cell."""
    L = run_.tokens.shape[1]
    ent = np.full((len(run_.tokens), L), np.nan)
    ent[: len(run_.entropy)] = run_.entropy
    truth = np.array([itos[int(i)] for i in run_.x0], dtype=object)
    data = np.empty((len(rows), L, 2), dtype=object)
    for r, k in enumerate(rows):
        data[r, :, 0] = truth
        data[r, :, 1] = ["—" if np.isnan(h) else f"{h:.3f}" for h in ent[k]]
    return data


def _colorscale() -> list:
    """A step colour scale for the integer categories 0..3 (zmin -0.5, zmax 3.5)."""
    n = len(COLOURS)
    scale = []
    for i, c in enumerate(COLOURS):
        scale += [[i / n, c], [(i + 1) / n, c]]
    return scale


def token_grid_figure(run_: Run, itos: list[str], *, title: str = "", only_changes: bool = True) -> go.Figure:
    """The trajectory as a token grid (steps × positions, coloured by category) with an animated
    'current state' strip on top: a step slider and a play button move a frame over the grid."""
    rows = kept_rows(run_.tokens, only_changes)
    cats = cell_categories(run_.tokens, run_.x0)[rows]
    text = np.vectorize(lambda i: itos[int(i)])(run_.tokens[rows])
    hover = _cell_hover(run_, itos, rows)
    labels = row_labels(run_.times, rows)
    L = run_.tokens.shape[1]
    n_rows = len(rows)
    grid_h = 22 * n_rows + 40
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06 * 240 / (grid_h + 240),
                        row_heights=[90 / (grid_h + 90), grid_h / (grid_h + 90)])
    common = dict(zmin=-0.5, zmax=len(COLOURS) - 0.5, colorscale=_colorscale(), texttemplate="%{text}",
                  xgap=1, ygap=1,
                  hovertemplate="position %{x}<br>token <b>%{text}</b><br>x0: %{customdata[0]}"
                                "<br>entropy of x_θ: %{customdata[1]} nats<extra>%{y}</extra>")

    def strip(r: int) -> go.Heatmap:
        return go.Heatmap(z=cats[r:r + 1], text=text[r:r + 1], customdata=hover[r:r + 1], y=[labels[r]],
                          x=list(range(L)), showscale=False, textfont=dict(size=13), **common)

    def frame_box(r: int) -> go.Scatter:
        return go.Scatter(x=[-0.5, L - 0.5, L - 0.5, -0.5, -0.5], y=[r - 0.5, r - 0.5, r + 0.5, r + 0.5, r - 0.5],
                          mode="lines", line=dict(color="#1f3b73", width=3), hoverinfo="skip", showlegend=False)

    fig.add_trace(strip(0), row=1, col=1)
    fig.add_trace(go.Heatmap(z=cats, text=text, customdata=hover, x=list(range(L)), y=list(range(n_rows)),
                             textfont=dict(size=10),
                             colorbar=dict(tickvals=list(range(len(CATEGORIES))), ticktext=list(CATEGORIES),
                                           len=min(1.0, 160 / grid_h), y=1, yanchor="top", thickness=12),
                             **common), row=2, col=1)
    fig.add_trace(frame_box(0), row=2, col=1)
    fig.frames = [go.Frame(name=str(r), data=[strip(r), frame_box(r)], traces=[0, 2]) for r in range(n_rows)]
    fig.update_yaxes(tickvals=list(range(n_rows)), ticktext=labels, autorange="reversed", row=2, col=1)
    fig.update_yaxes(tickfont=dict(size=11), row=1, col=1)
    fig.update_xaxes(title_text="position", row=2, col=1)
    slider = dict(active=0, y=0, yanchor="top", x=0.17, len=0.83, pad=dict(t=50, b=10),
                  currentvalue=dict(prefix="row: ", xanchor="right", font=dict(size=12, color="#333")),
                  # many rows: the step labels would overlap, the current value names the row instead
                  font=dict(color="rgba(0,0,0,0)") if n_rows > 12 else {},
                  steps=[dict(label=labels[r].split(" t=")[0], method="animate",
                              args=[[str(r)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                   transition=dict(duration=0))]) for r in range(n_rows)])
    play = dict(type="buttons", direction="left", x=0, y=0, yanchor="top", xanchor="left", pad=dict(t=60),
                buttons=[dict(label="▶ play", method="animate",
                              args=[None, dict(frame=dict(duration=350, redraw=True), fromcurrent=True,
                                               transition=dict(duration=0))]),
                         dict(label="❚❚", method="animate",
                              args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])])
    fig.update_layout(title=title or None, height=grid_h + 90 + 170, sliders=[slider], updatemenus=[play],
                      margin=dict(l=10, r=10, t=40 if title else 10, b=10))
    return fig


def entropy_figure(runs: dict[str, Run]) -> go.Figure:
    """Mean entropy of x_theta over all positions (and over x0's content positions) at each step."""
    fig = go.Figure()
    for name, r in runs.items():
        steps = np.arange(len(r.entropy))
        content = r.content()
        for label, h, dash in ((f"{name}: all positions", r.entropy.mean(axis=1), "solid"),
                               (f"{name}: content positions", r.entropy[:, content].mean(axis=1), "dot")):
            fig.add_trace(go.Scatter(x=steps, y=h, name=label, mode="lines+markers", marker=dict(size=4),
                                     line=dict(dash=dash), customdata=r.times,
                                     hovertemplate="step %{x} (t=%{customdata:.3f})<br>%{y:.3f} nats"))
    fig.update_layout(xaxis_title="reverse step (t decreasing →)", yaxis_title="mean entropy of x_θ (nats)",
                      height=300, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.25))
    return fig
