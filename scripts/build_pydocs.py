"""Build the Python-docs corpus ``assets/corpora/pydocs-v1.txt.gz`` from the documentation in CPython.

Sources (provenance and licence in ``assets/corpora/PYDOCS.md``): the language-reference topics of
``pydoc_data.topics`` (what ``help("if")`` shows) and the docstrings of ``builtins`` and of the
platform-independent standard-library modules in DOC_MODULES (the topics alone give ~700 sentences).
Cleaning drops titles, tables, literal blocks (code, grammar, doctests), list markers, quotes,
backticks and ``*`` emphasis around code, footnote marks and "Changed in version" prefixes; wrapped
lines are joined into paragraphs, ``engine.text.textfile.split_sentences`` splits them, clauses joined by
";" count as sentences, and each sentence becomes its ``split_words`` tokens joined by spaces.
Kept: distinct sentences of MIN_TOKENS..MAX_TOKENS tokens that start with a capital letter (or with
code), end in . ! ? and hold no URL, "=", "<" or ">"; then ``limit_vocabulary`` cuts the vocabulary
to at most VOCAB_SIZE tokens. Output: the sentences sorted, one per line, gzip with mtime 0 and no
file name, written atomically — byte-identical on every run and machine for one CPython version
(BUILT_WITH_PYTHON built the committed asset; other versions ship other documentation text).

    python scripts/build_pydocs.py [--out PATH]
"""
from __future__ import annotations

import argparse
import heapq
import importlib
import inspect
import os
import platform
import re
import sys
import warnings
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.store import atomic  # noqa: E402
from engine.text.textfile import PYDOCS_PATH, normalise, split_sentences  # noqa: E402

BUILT_WITH_PYTHON = "3.11.7"  # CPython whose pydoc_data produced the committed asset
MIN_TOKENS, MAX_TOKENS = 4, 15  # tokens per sentence; 15 = L - 1 fits sequences of length L = 16
VOCAB_SIZE = 1000  # most distinct tokens in the corpus
# Docstrings added to the topics: the builtins and platform-independent standard-library modules.
DOC_MODULES = ("builtins", "abc", "argparse", "bisect", "collections", "contextlib", "copy", "csv",
               "dataclasses", "difflib", "enum", "fractions", "functools", "heapq", "inspect",
               "itertools", "json", "logging", "math", "numbers", "operator", "pprint", "queue",
               "random", "re", "statistics", "string", "textwrap", "types", "typing", "unittest",
               "weakref")

_UNDERLINE = re.compile(r"\s*([*=\-~^#\"'+`])\1{2,}\s*")
_TABLE_ROW = re.compile(r"\s*[+|]")
_LIST_MARKER = re.compile(r"(?:[*\-•]|\d+\.|[a-zA-Z]\.|\(\d+\)|[IVX]+\.)\s+")
_ADMONITION = re.compile(r"(?:Note|Notes|Warning|See also|Attention|Caution|Important|Tip|Hint):")
_CODE_MARKS = ("::=", ">>>", "...:")
_VERSION_NOTE = re.compile(r"(?:Changed|New|Added|Deprecated)[^:]{0,80}? version [\d.]+[^:]{0,80}?:\s*")
# URLs, code, comparisons, and old-style signatures ("D.clear() -> None", "D.pop(k) -- remove ...")
_NOT_PROSE = ("http", "www.", "=", "<", ">", " -- ")
_VERSION_ONLY = re.compile(r"(?:Changed|New|Added|Deprecated)\b[^.]* version [\d.]+")
_FOOTNOTE = re.compile(r"\[\d+\]")
_EMPHASIS = re.compile(r"\*{1,2}(?=\S)|(?<=\S)\*{1,2}")
_TYPOGRAPHY = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "..."})


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _blocks(text: str) -> list[list[str]]:
    """Runs of non-blank lines, with titles (and their underlines) and table rows removed."""
    lines = text.splitlines()
    keep = []
    for i, line in enumerate(lines):
        if _UNDERLINE.fullmatch(line) or _TABLE_ROW.match(line):
            continue
        if i + 1 < len(lines) and _UNDERLINE.fullmatch(lines[i + 1]) and line.strip():
            continue  # a section title
        keep.append(line)
    blocks, current = [], []
    for line in keep + [""]:
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    return blocks


def prose_paragraphs(text: str) -> list[str]:
    """The prose paragraphs of one pydoc topic or docstring, each joined onto one line, list markers removed.

    A block indented deeper than the prose before it, after prose that ends in ":" (reST's "::"),
    is a literal block (code, grammar, output) and is dropped, together with deeper blocks after it.
    """
    paragraphs: list[str] = []
    prose_indent, opens_literal, in_literal = 0, False, False
    for block in _blocks(text):
        base = _indent(block[0])
        marker = _LIST_MARKER.match(block[0].strip())
        if in_literal and base > prose_indent:
            continue
        in_literal = False
        if any(m in line for line in block for m in _CODE_MARKS) or (
                opens_literal and base > prose_indent and not marker):
            in_literal = base > prose_indent
            continue
        # Split the block where a list item starts or a definition's indented body begins.
        current: list[str] = []
        continuation = 0  # indent of the current paragraph's wrapped lines
        for line in block:
            item = _LIST_MARKER.match(line.strip())
            if current and (item or _indent(line) > continuation):
                paragraphs.append(" ".join(current))
                current = []
            if not current:
                continuation = _indent(line) + (item.end() if item else 0)
            current.append(line.strip())
        paragraphs.append(" ".join(current))
        last = block[-1].strip()
        admonition = len(block) == 1 and _ADMONITION.fullmatch(last)
        prose_indent = base + (marker.end() if marker else 0) + (2 if admonition else 0)
        opens_literal = last.endswith(":") and not admonition
    return [_LIST_MARKER.sub("", p, count=1) if _LIST_MARKER.match(p) else p for p in paragraphs]


def clean_sentence(sentence: str) -> list[str]:
    """Plain-English clauses of one split sentence with markup removed; [] when it has none.

    Quotes and backticks around code and ``*`` emphasis go, a wrapping pair of parentheses goes, a
    final ":" that introduces an example becomes ".", and clauses joined by ";" become separate
    sentences. A sentence must start with a capital letter or with quoted or emphasised code, end in
    . ! ? and contain no URL and no "=", "<", ">" or " -- " (code, comparisons, signatures); a
    bare "New in version 3.3." is not a sentence.
    """
    s = _VERSION_NOTE.sub("", sentence.translate(_TYPOGRAPHY))
    s = " ".join(_FOOTNOTE.sub("", s).split())
    if s.startswith("(") and s.endswith(")"):
        s = s[1:-1].strip()
    if not s or not (s[0].isupper() or s[0] in '"*') or any(m in s for m in _NOT_PROSE) \
            or _VERSION_ONLY.fullmatch(s):
        return []
    s = _EMPHASIS.sub("", s).replace('"', "").replace("`", "")
    if s.endswith(":"):
        s = s.rstrip(":") + "."
    if s[-1] not in ".!?":
        return []
    clauses = [c.strip() for c in s.split("; ")]
    return [c if c[-1] in ".!?" else c + "." for c in clauses if c]


def docstring_texts(modules: tuple[str, ...] = DOC_MODULES) -> dict[str, str]:
    """Cleaned docstrings of each module, its public functions and classes, and their members.

    Only objects defined in the module itself (or its C accelerator ``_name``) count, so names
    re-exported from platform-specific modules cannot make the corpus depend on the platform.
    Collected in a fresh interpreter: libraries imported into a process replace standard-library
    functions (torch swaps in its own ``inspect.getfile``, Ray others), which would make the result
    depend on what the calling process imported. That interpreter imports torch first, as the
    process that built the committed asset did (through the engine), so ``inspect.getfile`` is
    torch's and is left out.
    """
    import json
    import subprocess

    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--docstrings", ",".join(modules)],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return json.loads(out.stdout)


def _collect(modules: tuple[str, ...]) -> dict[str, str]:
    import torch  # noqa: F401  (see docstring_texts)

    with warnings.catch_warnings():  # typing.io and friends warn when touched
        warnings.simplefilter("ignore", DeprecationWarning)
        return _docstring_texts(modules)


def _docstring_texts(modules: tuple[str, ...]) -> dict[str, str]:
    texts = {}
    for modname in modules:
        module = importlib.import_module(modname)
        texts[modname] = module.__doc__
        for name, obj in sorted(vars(module).items()):
            home = getattr(obj, "__module__", None)
            if name.startswith("_") or inspect.ismodule(obj) or not (
                    modname == "builtins" or home in (modname, "_" + modname)
                    or str(home).startswith(modname + ".")):
                continue
            texts[f"{modname}.{name}"] = obj.__doc__
            if inspect.isclass(obj):
                for attr, member in sorted(vars(obj).items()):
                    if attr.startswith("_"):
                        continue  # dunder docstrings are mostly "Return self+value." boilerplate
                    texts[f"{modname}.{name}.{attr}"] = getattr(member, "__doc__", None)
    return {k: inspect.cleandoc(v) for k, v in texts.items() if isinstance(v, str)}


def candidate_sentences(texts: dict[str, str]) -> list[str]:
    """Distinct normalised sentences of MIN_TOKENS..MAX_TOKENS tokens from all texts, sorted."""
    out = set()
    for name in sorted(texts):
        for paragraph in prose_paragraphs(texts[name]):
            for raw in split_sentences(paragraph):
                for s in clean_sentence(raw):
                    tokens = normalise(s).split()
                    if MIN_TOKENS <= len(tokens) <= MAX_TOKENS:
                        out.add(" ".join(tokens))
    return sorted(out)


def limit_vocabulary(sentences: list[str], vocab_size: int) -> list[str]:
    """The sentences left after dropping rare words until at most ``vocab_size`` distinct tokens remain.

    Greedy: repeatedly drop the word that occurs in the fewest remaining sentences (ties: the
    alphabetically last word), together with those sentences, recounting after every drop.
    """
    words_of = [set(s.split()) for s in sentences]
    holders: dict[str, list[int]] = defaultdict(list)
    for i, words in enumerate(words_of):
        for w in words:
            holders[w].append(i)
    count = {w: len(ids) for w, ids in holders.items()}
    alive = [True] * len(sentences)
    heap = [(n, _desc(w), w) for w, n in count.items()]
    heapq.heapify(heap)
    while len(count) > vocab_size:
        n, _, w = heapq.heappop(heap)
        if count.get(w) != n:
            continue  # stale entry: the word is gone or its count changed
        del count[w]
        for i in holders[w]:
            if not alive[i]:
                continue
            alive[i] = False
            for other in words_of[i] - {w}:
                count[other] -= 1
                if count[other] == 0:
                    del count[other]
                else:
                    heapq.heappush(heap, (count[other], _desc(other), other))
    return [s for s, a in zip(sentences, alive) if a]


def _desc(word: str) -> tuple[int, ...]:
    """Sort key that orders words alphabetically descending (so ties drop the last word first)."""
    return tuple(-ord(c) for c in word) + (1,)


def build(out: str | os.PathLike = PYDOCS_PATH, vocab_size: int = VOCAB_SIZE) -> dict[str, int]:
    """Write the corpus to ``out`` atomically; returns counts (texts, candidates, sentences, vocabulary, tokens)."""
    from pydoc_data.topics import topics

    if sys.flags.optimize >= 2:
        raise RuntimeError("python -OO strips docstrings, which the corpus is built from; run without -OO")
    docs = docstring_texts()
    texts = {f"topic:{k}": v for k, v in topics.items()} | {f"doc:{k}": v for k, v in docs.items()}
    candidates = candidate_sentences(texts)
    sentences = limit_vocabulary(candidates, vocab_size)
    if not sentences:
        raise RuntimeError("no sentence survived the filters; this Python's documentation text looks unusual")
    atomic.write_gzip_lines(out, sentences)
    vocab = {w for s in sentences for w in s.split()}
    return {"topics": len(topics), "docstrings": len(docs), "candidates": len(candidates),
            "sentences": len(sentences), "vocabulary": len(vocab),
            "tokens": sum(len(s.split()) for s in sentences)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(PYDOCS_PATH), help="output .txt.gz path (default: %(default)s)")
    parser.add_argument("--docstrings", help=argparse.SUPPRESS)  # internal: docstring_texts' child process
    args = parser.parse_args()
    if args.docstrings:
        import json

        print(json.dumps(_collect(tuple(args.docstrings.split(",")))))
        return
    if platform.python_version() != BUILT_WITH_PYTHON:
        print(f"warning: running Python {platform.python_version()}; the committed asset was built with "
              f"{BUILT_WITH_PYTHON}, whose documentation text differs, so the output will differ too",
              file=sys.stderr)
    counts = build(args.out)
    print(f"Python {platform.python_version()}: " + ", ".join(f"{k} {v}" for k, v in counts.items())
          + f" -> {args.out}")


if __name__ == "__main__":
    main()
