"""Ideal denoisers (PROTOCOL §5): exact posterior means x_theta(z_t, t) = E_p[x0 | z_t] that need no training.

Both are ``torch.nn.Module``s with the network's interface ``forward(z_t (B, L), t) -> logits (B, L, V)``,
t a float or a (B,) tensor in (0, 1], so ``sample.denoise`` / ``generate`` and ``measure`` take them
unchanged. Their logits are float64 log-probabilities: softmax(logits) is the exact posterior. A token
with posterior exactly 0 gets logit log(2.2e-308) = -708.4 (LOG_ZERO) instead of -inf, so that softmax
and entropy stay finite; its probability after softmax is below 1e-300, i.e. 0 to float64 tolerance.
Emission likelihood of one position:  q(z_l | x_l) = alpha_t 1(z_l = x_l) + (1 - alpha_t) / V.

* ``ideal_memorizer``: p uniform over the N training sequences x_1 .. x_N (a multiset):
      w_i ∝ q(z_t | x_i) = b^L (a'/b)^(m_i),   a' = alpha_t + b,  b = (1 - alpha_t) / V,
      m_i = #{l : z_l = x_{i,l}},               x_theta = sum_i w_i onehot(x_i).
  log w_i = const + m_i log(a'/b) in float64, normalised by log-sum-exp over i.
* ``ideal_generalizer``: p the true distribution of the synthetic grammar (``grammar.Grammar.sample``),
  tokenised as the corpus does (words, <eos>, <pad>* up to L). Per-position marginals p(x0_l | z_t) by
  forward–backward over a finite automaton whose states emit one word class (uniform within it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from engine.text import grammar as grammar_lib
from engine.diffusion.noise import UniformNoise
from engine.text.tokenizer import EOS_ID, PAD_ID, WordTokenizer

LOG_ZERO = math.log(torch.finfo(torch.float64).tiny)   # logit of a token with posterior exactly 0
_CHUNK_ELEMENTS = 2 ** 21                              # rows of the memorizer per pass: N · rows <= this


def _alpha_rows(noise: UniformNoise, t, B: int, device) -> torch.Tensor:
    """alpha_t per row, float64 (B,), from a scalar or (B,) t; t must lie in (0, 1]."""
    t = torch.as_tensor(t, dtype=torch.float64).to(device).expand(B)
    if B and not bool(((t > 0) & (t <= 1)).all()):
        raise ValueError(f"ideal denoisers need t in (0, 1] (at t = 0 an unseen z_t has zero likelihood), "
                         f"got min {float(t.min())}, max {float(t.max())}")
    return noise.alpha(t)


def _logits_(x_theta: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """In place: normalise probabilities over the vocabulary ``dim`` and take logs, 0 -> LOG_ZERO."""
    x_theta /= x_theta.sum(dim, keepdim=True)
    return x_theta.log_().clamp_(min=LOG_ZERO)


class IdealMemorizer(nn.Module):
    """x_theta = sum_i w_i onehot(x_i), w_i ∝ q(z_t | x_i), over training sequences x0 (N, L)."""

    def __init__(self, train_ids: torch.Tensor, noise: UniformNoise):
        super().__init__()
        if train_ids.dim() != 2 or len(train_ids) == 0:
            raise ValueError(f"train_ids must be a non-empty (N, L) tensor of token ids, "
                             f"got shape {tuple(train_ids.shape)}")
        if int(train_ids.min()) < 0 or int(train_ids.max()) >= noise.V:
            raise ValueError(f"train_ids hold ids outside 0..{noise.V - 1} (the noise's vocabulary)")
        self.noise = noise
        N, L = train_ids.shape
        self.register_buffer("x0", train_ids.long().clone())                             # (N, L)
        self.register_buffer("x0_T", self.x0.T.contiguous())                             # (L, N)
        self.register_buffer("flat_ids", self.x0 + torch.arange(L) * noise.V)          # (N, L) in 0..L·V
        self._device_anchor = nn.Parameter(torch.zeros(0), requires_grad=False)  # denoise reads the device here

    def forward(self, z_t: torch.Tensor, t) -> torch.Tensor:
        B, L = z_t.shape
        if L != self.x0.shape[1]:
            raise ValueError(f"the memorizer holds sequences of length {self.x0.shape[1]}, got {L}")
        alpha_t = _alpha_rows(self.noise, t, B, z_t.device)                              # (B,)
        rows = max(1, _CHUNK_ELEMENTS // len(self.x0))
        parts = [self._chunk(z_t[i:i + rows], alpha_t[i:i + rows]) for i in range(0, B, rows)]
        if len(parts) == 1:
            return parts[0]
        return torch.cat(parts) if parts else torch.zeros(0, L, self.noise.V, dtype=torch.float64)

    def _chunk(self, z_t: torch.Tensor, alpha_t: torch.Tensor) -> torch.Tensor:
        """Logits (B, L, V) for a block of rows z_t (B, L) with their alpha_t (B,)."""
        B, L = z_t.shape
        V = self.noise.V
        b = (1.0 - alpha_t) / V
        log_ratio = torch.log(alpha_t + b) - torch.log(b)                                # (B,) log(a'/b) > 0
        # m_i by one gather-sum per training row over a one-hot table of z_t: integer counts <= L,
        # exact in float32 (the table is (L·V, B), small enough to stay in cache).
        onehot_z = torch.zeros(L * V, B, device=z_t.device)
        onehot_z[z_t + torch.arange(L, device=z_t.device) * V, torch.arange(B, device=z_t.device)[:, None]] = 1.0
        m = nn.functional.embedding_bag(self.flat_ids, onehot_z, mode="sum")           # (N, B)
        # log-sum-exp with the max taken out: w_i / w_max = exp((m_i - m_max) log(a'/b)) <= 1, then the
        # normaliser sum_i w_i is divided out of x_theta (every position sums to it).
        w = m.sub_(m.amax(0)).double().mul_(log_ratio).exp_()                           # (N, B) float64
        x_theta = torch.zeros(L, V, B, dtype=torch.float64, device=z_t.device)
        for l in range(L):
            x_theta[l].index_add_(0, self.x0_T[l], w)                                   # [l, v] += w_i where x_{i,l} = v
        return _logits_(x_theta, dim=1).permute(2, 0, 1).contiguous()                   # (B, L, V)


def ideal_memorizer(train_ids: torch.Tensor, noise: UniformNoise) -> IdealMemorizer:
    """The Bayes-optimal x0 predictor when the data are exactly the rows of ``train_ids`` (N, L)."""
    return IdealMemorizer(train_ids, noise).eval()


@dataclass
class _Fragment:
    """Part of an automaton: entry probabilities, exit probabilities (leave after this state), and
    the probability that the part emits no word at all."""

    start: dict[int, float] = field(default_factory=dict)
    end: dict[int, float] = field(default_factory=dict)
    empty: float = 0.0


class _Automaton:
    """A weighted automaton assembled from fragments (regular-expression style, no empty moves).

    Each state emits exactly one token, from its own distribution (S, V); arcs carry probabilities.
    Fragments are built fresh for every use, so two fragments never share a state.
    """

    def __init__(self, V: int):
        self.V, self.emit, self.arcs = V, [], {}

    def word(self, ids) -> _Fragment:
        """One position emitting a token uniformly from ``ids``."""
        row = torch.zeros(self.V, dtype=torch.float64)
        row[list(ids)] = 1.0 / len(ids)
        self.emit.append(row)
        s = len(self.emit) - 1
        return _Fragment({s: 1.0}, {s: 1.0})

    def seq(self, *parts: _Fragment) -> _Fragment:
        """Concatenation: every exit of the left part is joined to every entry of the right part."""
        out = _Fragment(empty=1.0)
        for p in parts:
            for i, pe in out.end.items():
                for j, ps in p.start.items():
                    self.arcs[i, j] = self.arcs.get((i, j), 0.0) + pe * ps
            start = dict(out.start)
            for j, ps in p.start.items():
                start[j] = start.get(j, 0.0) + out.empty * ps
            end = {i: pe * p.empty for i, pe in out.end.items() if p.empty > 0}
            end.update(p.end)
            out = _Fragment(start, end, out.empty * p.empty)
        return out

    def choice(self, *branches: tuple[float, _Fragment]) -> _Fragment:
        """Pick branch k with probability p_k (the p_k sum to 1)."""
        out = _Fragment()
        for p, f in branches:
            for j, ps in f.start.items():
                out.start[j] = out.start.get(j, 0.0) + p * ps
            out.end.update(f.end)
            out.empty += p * f.empty
        return out


def _grammar_automaton(g: grammar_lib.Grammar, tokenizer: WordTokenizer, V: int):
    """The automaton of ``Grammar.sample`` followed by <eos> <pad>*, mirroring the sampler draw by draw.

    Returns (automaton, start probabilities {state: p}, the <eos> state, the <pad> state).
    """
    A, P = _Automaton(V), grammar_lib
    ids = lambda words: [tokenizer.stoi[w] for w in words]               # noqa: E731
    numbers = (("pl", P.P_PLURAL), ("sg", 1.0 - P.P_PLURAL))
    adj_weights = [w / sum(P.ADJ_COUNT_WEIGHTS) for w in P.ADJ_COUNT_WEIGHTS]

    def optional(p: float, part: _Fragment) -> _Fragment:
        return A.choice((p, part), (1.0 - p, _Fragment(empty=1.0)))

    def noun_phrase(n: str, head: bool) -> _Fragment:                   # Grammar._sample_np
        det = A.word(ids(g.det[n]))
        if not head:
            return A.seq(det, A.word(ids(g.noun[n])))
        adjs = A.choice(*[(w, A.seq(*[A.word(ids(g.adj)) for _ in range(k)])) for k, w in enumerate(adj_weights)])
        noun = A.word(ids(g.noun[n]))
        pp = A.seq(A.word(ids(g.prep)), A.choice(*[(p, noun_phrase(m, False)) for m, p in numbers]))
        return A.seq(det, adjs, noun, optional(P.P_PP, pp))

    def verb_phrase(n: str) -> _Fragment:                                 # the rest of Grammar.sample
        trans = A.seq(A.word(ids(g.tverb[n])), A.choice(*[(p, noun_phrase(m, True)) for m, p in numbers]))
        intrans = A.seq(A.word(ids(g.iverb[n])), optional(P.P_ADVERB, A.word(ids(g.adv))))
        return A.choice((P.P_TRANSITIVE, trans), (1.0 - P.P_TRANSITIVE, intrans))

    sentence = A.choice(*[(p, A.seq(noun_phrase(n, True), verb_phrase(n))) for n, p in numbers])
    eos, pad = A.word([EOS_ID]), A.word([PAD_ID])
    program = A.seq(sentence, eos, pad)
    (eos_state,), (pad_state,) = eos.start, pad.start
    A.arcs[pad_state, pad_state] = 1.0                                    # <pad> repeats to the end
    return A, program.start, eos_state, pad_state


class IdealGeneralizer(nn.Module):
    """Exact p(x0_l | z_t) for the grammar's language, by forward–backward over automaton states s.

    With emission e_s(x) (uniform over the words of s's class and number), arcs T, start pi and the
    final set F = {<eos>, <pad>} (the sequence must have ended by position L):
        lik_l(s)   = sum_x e_s(x) q(z_l | x) = alpha_t e_s(z_l) + (1 - alpha_t) / V
        fwd_l      = (fwd_{l-1} T) * lik_l,            fwd_0 = pi * lik_0
        bwd_l      = T (lik_{l+1} * bwd_{l+1}),        bwd_{L-1} = 1_F
        gamma_l(s) ∝ fwd_l(s) bwd_l(s)                 (posterior of the state at position l)
        p(x0_l = x | z_t) = sum_s gamma_l(s) e_s(x) q(z_l | x) / lik_l(s)
    fwd and bwd are rescaled at every position (float64); gamma is normalised per position.

    The prior is the distribution of ``Grammar.sample``, conditioned on the sentence fitting L - 1
    words (no condition at L >= 16). The grammar corpus draws its pool with ``sample_distinct``, i.e.
    without repeats and outside the test set; that distribution has no closed form, and at ~1e17
    sentences it differs from ``Grammar.sample`` only through the rare repeated draws.
    """

    def __init__(self, noise: UniformNoise, seq_len: int, grammar: grammar_lib.Grammar | None = None):
        super().__init__()
        g = grammar if grammar is not None else grammar_lib.Grammar()
        self.tokenizer = WordTokenizer(g.lexicon())                       # the ids of corpus.grammar_corpus
        if noise.V < self.tokenizer.vocab_size:
            raise ValueError(f"the noise has V = {noise.V} tokens but the grammar needs {self.tokenizer.vocab_size}")
        if seq_len < 4:
            raise ValueError(f"seq_len must be at least 4 (three words and <eos>), got {seq_len}")
        self.noise, self.seq_len = noise, seq_len
        A, start, eos_state, pad_state = _grammar_automaton(g, self.tokenizer, noise.V)
        S = len(A.emit)
        trans = torch.zeros(S, S, dtype=torch.float64)
        for (i, j), p in A.arcs.items():
            trans[i, j] = p
        assert torch.allclose(trans.sum(1), torch.ones(S, dtype=torch.float64), atol=1e-12), "automaton leaks mass"
        pi = torch.zeros(S, dtype=torch.float64)
        pi[list(start)] = torch.tensor(list(start.values()), dtype=torch.float64)
        final = torch.zeros(S, dtype=torch.float64)
        final[[eos_state, pad_state]] = 1.0
        emit = torch.stack(A.emit)                                        # (S, V)
        # states of one word class share their emission row: x_theta sums gamma / lik per class first
        classes, state_class = torch.unique(emit, dim=0, return_inverse=True)   # (K, V), (S,)
        for name, value in (("emit", emit), ("emit_T", emit.T.contiguous()), ("classes", classes),
                            ("state_class", state_class), ("trans", trans), ("trans_T", trans.T.contiguous()),
                            ("pi", pi), ("final", final)):
            self.register_buffer(name, value)
        self._device_anchor = nn.Parameter(torch.zeros(0), requires_grad=False)  # denoise reads the device here

    def forward(self, z_t: torch.Tensor, t) -> torch.Tensor:
        B, L = z_t.shape
        if L != self.seq_len:
            raise ValueError(f"the generalizer was built for sequences of length {self.seq_len}, got {L}")
        alpha_t = _alpha_rows(self.noise, t, B, z_t.device)[:, None]           # (B, 1)
        floor = (1.0 - alpha_t) / self.noise.V
        lik = alpha_t * self.emit_T[z_t.T] + floor                            # (L, B, S): position-major
        fwd, bwd = torch.empty_like(lik), torch.empty_like(lik)
        a = self.pi * lik[0]
        fwd[0] = a / a.sum(-1, keepdim=True)
        for l in range(1, L):
            a = (fwd[l - 1] @ self.trans) * lik[l]
            fwd[l] = a / a.sum(-1, keepdim=True)
        bwd[L - 1] = self.final
        for l in range(L - 2, -1, -1):
            b = (lik[l + 1] * bwd[l + 1]) @ self.trans_T
            bwd[l] = b / b.sum(-1, keepdim=True)
        gamma = fwd * bwd
        gamma /= gamma.sum(-1, keepdim=True)                                  # (L, B, S)
        per_class = torch.zeros(L, B, len(self.classes), dtype=lik.dtype, device=lik.device)
        per_class.index_add_(-1, self.state_class, gamma / lik)               # (L, B, K)
        x_theta = (per_class @ self.classes).transpose(0, 1)                  # (B, L, V): sum_s gamma e_s / lik
        q_z = floor[:, :, None].expand(B, L, self.noise.V).clone()
        q_z.scatter_add_(-1, z_t[..., None], alpha_t[:, :, None].expand(B, L, 1).clone())  # q(z_l | x), all x
        return _logits_(x_theta * q_z)


def ideal_generalizer(noise: UniformNoise, seq_len: int,
                      grammar: grammar_lib.Grammar | None = None) -> IdealGeneralizer:
    """The Bayes-optimal x0 predictor for the language of ``grammar`` (default: the full ``Grammar()``)."""
    return IdealGeneralizer(noise, seq_len, grammar).eval()
