"""What a link carries and how each of its values is checked: the shared selection (``KEYS``, with
its ``DEFAULTS``), the view settings (``VIEW``), and the page-private values that travel with them
(``LINKED``), each with the test a value from a link must pass (``RULES``, ``Link.valid``) and the
words for the note when it fails. A link is typed by people and pasted from anywhere: ``parse``
casts and checks one value and returns None for one that is not valid. Nothing here touches the
session: ``explorer.state.session`` reads the URL with these rules and writes it back.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.diffusion.step import DEFAULT_STEP, STEPS
from engine.measures.transition import METRICS

KEYS = {"corpus": str, "n": int, "split": str, "example": int, "t": float, "seed": int}
DEFAULTS = {"corpus": "grammar", "n": 0, "split": "train", "example": 0, "t": 0.25, "seed": 0}
MAX_INT = 2**31 - 1  # largest N, example index and seed a link may carry (the seed widgets' maximum)
MAX_TEXT = 300       # longest typed sentence a link carries (far more than any sequence length holds)
MAX_SELECTED = 5_000  # most sequences a link's selection on the Entropy map may name
MAX_LINKED = 4_000    # longest text of one page-private value in a link (a longer selection stays out of it)


def _flag(raw: str) -> bool:
    """'1'/'true'/'on'/'yes' -> True, '0'/'false'/'off'/'no' -> False (any case); else ValueError."""
    word = raw.strip().lower()
    if word in ("1", "true", "on", "yes"):
        return True
    if word in ("0", "false", "off", "no"):
        return False
    raise ValueError(raw)


# View settings: in the URL only when not at their default (present=1, text=...); text None = Denoise
# is not running a typed sentence, "" = it is, but nothing is typed yet.
VIEW = {"present": _flag, "text": str, "step": str}
VIEW_DEFAULTS = {"present": False, "text": None, "step": DEFAULT_STEP}
# What a value from a link must be once cast with KEYS / VIEW: a test, and the words for the note when it fails.
RULES = {
    "corpus": (lambda v: 0 < len(v) <= 256 and v.isprintable(), "a corpus name of at most 256 characters"),
    "n": (lambda v: 0 <= v <= MAX_INT, f"a training-set size, a whole number up to {MAX_INT:,}"),
    "split": (lambda v: v in ("train", "test"), "'train' or 'test'"),
    "example": (lambda v: 0 <= v <= MAX_INT, f"an example's index, a whole number up to {MAX_INT:,}"),
    "t": (lambda v: 0 < v <= 1, "a corruption level in (0, 1]"),  # NaN fails every comparison
    "seed": (lambda v: 0 <= v <= MAX_INT, f"a seed, a whole number up to {MAX_INT:,}"),
    "present": (lambda v: True, "1 (on) or 0 (off)"),
    "text": (lambda v: len(v) <= MAX_TEXT, f"a sentence of at most {MAX_TEXT} characters"),
    "step": (lambda v: v in STEPS, " or ".join(f"'{s}'" for s in STEPS)),
}
FALLBACKS = {key: f"{key} = {value}" for key, value in DEFAULTS.items()} | {
    "n": "the smallest N", "present": "presenter mode off", "text": "no typed sentence",
    "step": f"the {DEFAULT_STEP} step"}


def _points(raw: str) -> list[tuple[str, int]]:
    """'train:0-3,7;test:2' -> [('train', 0), ..., ('train', 3), ('train', 7), ('test', 2)]; ValueError
    for any other text, a split that is not train, test or generated, or over MAX_SELECTED sequences."""
    out = []
    for part in raw.split(";"):
        split, _, examples = part.partition(":")
        if split not in ("train", "test", "generated") or not examples:
            raise ValueError(part)
        for item in examples.split(","):
            lo, dash, hi = item.partition("-")
            lo = int(lo)
            hi = int(hi) if dash else lo
            if not 0 <= lo <= hi <= MAX_INT or len(out) + hi - lo >= MAX_SELECTED:
                raise ValueError(item)
            out += [(split, i) for i in range(lo, hi + 1)]
    return out


def _points_text(points) -> str:
    """The inverse of ``_points``: per split (in order of first appearance), its examples in the order
    chosen, a run of consecutive ones as a range."""
    groups: dict[str, list[int]] = {}
    for split, example in points:
        groups.setdefault(str(split), []).append(int(example))
    parts = []
    for split, examples in groups.items():
        runs = []
        for e in examples:
            if runs and e == runs[-1][1] + 1:
                runs[-1][1] = e
            else:
                runs.append([e, e])
        parts.append(split + ":" + ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs))
    return ";".join(parts)


def _model_text(path) -> str:
    """A second model's choice key as a link carries it: a zoo entry relative to the zoo, a what-if
    run as 'run:' and its path relative to the runs folder (so that a link works on another
    install), anything else (an ideal or step key, a path elsewhere) as it is."""
    from explorer import data

    for prefix, root in (("", data.zoo_root()), ("run:", data.runs_root())):
        if str(path).startswith(str(root).rstrip("/") + "/"):
            return prefix + str(path)[len(str(root).rstrip("/")) + 1:]
    return str(path)


def _model_key(raw: str) -> str:
    """The inverse of ``_model_text``: the choice key (as ``explorer.views.partners.candidates`` keys them)."""
    from explorer import data

    if raw.startswith(("ideal:", "step:", "/")):
        return raw
    if raw.startswith("run:"):
        return str(data.runs_root() / raw[len("run:"):])
    return str(data.zoo_root() / raw)


@dataclass(frozen=True)
class Link:
    """How a page-private value travels in a link: its URL parameter, the text -> value cast (raises
    ValueError on a bad one), the test a cast value must pass, the words for the note when it fails,
    what is used instead, and value -> text."""
    name: str
    read: Callable
    valid: Callable
    words: str
    fallback: str
    write: Callable = str


# Page-private values a link carries while they differ from their PRIVATE default (see the docstring).
LINKED = {
    "dn_compare": Link("compare", _flag, lambda v: True, "1 (on) or 0 (off)", "side by side off",
                       lambda v: "1" if v else "0"),
    "dn_partner": Link("partner", _model_key, lambda v: 0 < len(v) <= 1000 and v.isprintable(),
                       "one of the second models Denoise lists for this model", "the default second model",
                       _model_text),
    "dn_mode": Link("mode", str, lambda v: v in ("stochastic", "greedy"), "'stochastic' or 'greedy'",
                    "stochastic steps"),
    "tr_metric": Link("metric", str, lambda v: v in METRICS, " or ".join(f"'{m}'" for m in METRICS),
                      "the recovery rate"),
    "em_tool": Link("tool", str, lambda v: v in ("lasso", "box", "click"), "'lasso', 'box' or 'click'",
                    "the lasso"),
    "em_rows": Link("rows", int, lambda v: 4 <= v <= 128 and v % 4 == 0,
                    "a number of rows from 4 to 128, a multiple of 4", "24 rows per split"),
    "em_selected": Link("sel", _points, lambda v: len(v) > 0,
                        f"a list like 'train:0-3,7;test:2' of at most {MAX_SELECTED:,} sequences",
                        "no selection", _points_text),
}


def parse(key: str, raw: str):
    """The selection or view value ``key`` written as ``raw`` in a link, or None when it is not a
    valid one (not a number, not finite, out of range: see ``RULES``)."""
    try:
        value = {**KEYS, **VIEW}[key](raw)
    except (TypeError, ValueError, OverflowError):  # int() of a number with over 4,300 digits too
        return None
    valid, _ = RULES[key]
    return value if valid(value) else None


def literal(text: str, width: int = 40) -> str:
    """``text`` as inline code for a message: shortened to ``width`` characters, control characters
    escaped, so that whatever a link holds is shown as typed and never rendered as markdown."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    text = text if len(text) <= width else text[:width - 1] + "…"
    return "`" + text.replace("`", "'") + "`"
