"""One denoising run, looked at closely: the Denoise page's logic (no ``st.*`` here; its figures are in
``grid_figures``, where a run ends in ``engine.measures.outcome``).

A run starts from a clean sequence x0 (L,), corrupts it at level t with q(z_t | x0) and walks the
reverse diffusion back (``engine.denoise``). Its trajectory is a grid: rows are the states
z_t0, z_t1, ..., x_hat (S = n + 2 rows), columns the L positions. Each cell is put in a category:

* ``correct``       — the token equals x0 there and did not change at this step;
* ``wrong``         — the token differs from x0 and did not change at this step;
* ``fixed here``    — the token changed at this step and now equals x0;
* ``broken here``   — the token changed at this step and now differs from x0;
* ``differs, sentence valid`` — on the last row only, a token of x̂ that differs from x0 when the
  grammar's oracle accepts x̂: another valid sentence, not a mistake.

``final_states`` walks many seeds of one (x0, t) at once, each with its own generator, for the search
of a seed on which two models end differently.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.diffusion.noise import UniformNoise
from engine.diffusion.sample import STEPS_PER_UNIT, denoise, time_grid
from engine.diffusion.step import DEFAULT_STEP, reverse_step
from engine.text.tokenizer import SPECIALS, WordTokenizer, content_mask, split_words

CORRECT, WRONG, FIXED, BROKEN, VALID_OTHER = 0, 1, 2, 3, 4
CATEGORIES = ("correct", "wrong", "fixed here", "broken here", "differs, sentence valid")
SPECIAL_TOKENS = frozenset(SPECIALS)
_MD_SPECIAL = frozenset("\\`*_{}[]()#+-.!|$<>~:=&^")


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
        greedy: bool = False, steps_per_unit: int = STEPS_PER_UNIT, step: str = DEFAULT_STEP) -> Run:
    """Corrupt x0 (L,) at level t with ``seed`` and denoise it back with the reverse ``step``, keeping
    the whole trajectory.

    The same (x0, t, seed) gives the same z_t for every model on the same vocabulary, so two models
    can be compared on the very same corrupted seed."""
    zt, gen = corrupt(x0, t, noise, seed)
    traj = denoise(model, zt[None], float(t), noise, greedy=greedy, steps_per_unit=steps_per_unit,
                   generator=gen, return_trajectory=True, step=step)
    return Run(x0=x0.numpy().copy(), tokens=traj.tokens[:, 0].numpy(), entropy=traj.entropy[:, 0].numpy(),
               times=traj.times.numpy())


@torch.no_grad()
def final_states(model: torch.nn.Module, noise: UniformNoise, x0: torch.Tensor, t: float, seeds, *,
                 greedy: bool = False, steps_per_unit: int = STEPS_PER_UNIT, step: str = DEFAULT_STEP) -> np.ndarray:
    """x̂ (len(seeds), L) of ``run(model, noise, x0, t, seed)`` for every seed, walked as one batch.

    Each row is corrupted by ``corrupt`` with its own seed and draws every later step from its own
    generator (``engine.diffusion.step.reverse_step`` with one generator per sequence), so row i is
    the x̂ of the single run with ``seeds[i]`` — up to rounding differences between a batched and a
    single forward pass, which can flip a near-tied draw: a caller that shows a seed checks it with
    ``run``."""
    pairs = [corrupt(x0, t, noise, s) for s in seeds]
    if not pairs:
        return np.zeros((0, len(x0)), dtype=np.int64)
    z = torch.stack([zt for zt, _ in pairs])                          # (B, L)
    gens = [g for _, g in pairs]
    times = time_grid(float(t), steps_per_unit)
    B = len(z)
    for k in range(len(times) - 1):
        tk, sk = float(times[k]), float(times[k + 1])
        z = reverse_step(noise, model(z, torch.full((B,), tk)), z, tk, sk, step=step, greedy=greedy, generator=gens)
    return model(z, torch.full((B,), float(times[-1]))).argmax(-1).numpy()


def cell_categories(tokens: np.ndarray, x0: np.ndarray, accepted: bool = False) -> np.ndarray:
    """Category (CORRECT, WRONG, FIXED, BROKEN, VALID_OTHER) of every cell of a trajectory (S, L)
    against x0 (L,).

    Row 0 (the corrupted seed) has no previous row: its cells are only correct or wrong. ``accepted``:
    the grammar's oracle accepts the final x̂ (the last row), whose tokens that differ from x0 are then
    VALID_OTHER rather than wrong or broken."""
    tokens, x0 = np.asarray(tokens), np.asarray(x0)
    right = tokens == x0[None]
    changed = np.zeros_like(right)
    changed[1:] = tokens[1:] != tokens[:-1]
    cats = np.where(right, CORRECT, WRONG)
    cats = np.where(changed, np.where(right, FIXED, BROKEN), cats).astype(np.int8)
    if accepted and len(cats):
        cats[-1] = np.where(right[-1], cats[-1], VALID_OTHER)
    return cats


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
