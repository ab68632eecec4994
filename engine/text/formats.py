"""How a person's text file is laid out, decided from the text alone (never from the sequence length).

* ``markdown`` — headings, list items and quotes become paragraphs of their own, their markers and
  inline markup (emphasis, backticks, links) go, and code blocks, tables and rules are skipped;
* ``table`` — a CSV or TSV file: the sentences are the cells of its wordiest column;
* ``one_sentence_per_line`` — whether line breaks end sentences (lists, poems, lyrics, one sentence
  per line) or the lines are hard-wrapped prose to be joined back into sentences.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from engine.text.tokenizer import split_words

SHORT_LINE = 8  # tokens: a line this short can stand alone (a verse, a list item, a title)

_LINE_END = re.compile(r"[.!?]+[\"'”’)\]]*\s*$")
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)")

_FENCE = re.compile(r"\s{0,3}(```|~~~)")
_HEADING = re.compile(r"\s{0,3}#{1,6}(\s+|$)")
_ITEM = re.compile(r"\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+")
_QUOTE = re.compile(r"\s{0,3}>\s?")
_RULE = re.compile(r"\s{0,3}([-*_])(\s*\1){2,}\s*$")
_TABLE_ROW = re.compile(r"\s*\|.*\|\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_INLINE = re.compile(r"\*\*|__|`|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")
_CLOSING_HASHES = re.compile(r"\s+#+\s*$")


def is_markdown(text: str, name: str | None = None) -> bool:
    """A .md / .markdown file, or text with a fenced code block or at least two headings."""
    if name and name.lower().endswith((".md", ".markdown")):
        return True
    lines = text.splitlines()
    return sum(bool(_FENCE.match(x)) for x in lines) >= 2 or \
        sum(bool(re.match(r"\s{0,3}#{1,6}\s+\S", x)) for x in lines) >= 2


def markdown(text: str) -> tuple[str, int]:
    """The prose of a Markdown text and the number of lines skipped (code blocks, tables, rules).

    Every heading, list item and quoted line starts a paragraph of its own (a wrapped item's
    continuation lines stay with it), so a list is never joined into one sentence."""
    out, skipped, fence = [], 0, None
    for line in text.splitlines():
        opening = _FENCE.match(line)
        if fence is not None:            # inside a code block: skip up to its closing fence
            skipped += 1
            if opening and opening.group(1) == fence:
                fence = None
            continue
        if opening:
            fence, skipped = opening.group(1), skipped + 1
            continue
        if _RULE.match(line) or _TABLE_ROW.match(line):
            skipped += 1
            continue
        starts_paragraph = False
        for marker in (_HEADING, _QUOTE, _ITEM):
            m = marker.match(line)
            if m:
                line, starts_paragraph = line[m.end():], True
        if starts_paragraph:
            out.append("")
        line = _INLINE.sub("", _LINK.sub(r"\1", _CLOSING_HASHES.sub("", line)))
        out.append(line)
    return "\n".join(out), skipped


@dataclass(frozen=True)
class Table:
    """The text column of a CSV or TSV file: its cells (header left out), its name and words per cell."""

    cells: list[str]
    column: str
    words_per_cell: float


def table(text: str, name: str | None = None) -> Table | None:
    """The wordiest column of a table, or None when the text is not one.

    A table is a .csv / .tsv file, or text of at least three lines that all split into the same
    number (two or more) of comma-, semicolon- or tab-separated fields, where a comma or semicolon is
    mostly not followed by a space (in prose it is)."""
    suffix = name.lower().rsplit(".", 1)[-1] if name and "." in name else ""
    lines = [x for x in text.splitlines() if x.strip()]
    delimiter = {"csv": ",", "tsv": "\t"}.get(suffix)
    if delimiter is None:
        delimiter = next((d for d in "\t,;" if _looks_like_table(lines, d)), None)
        if delimiter is None:
            return None
    elif suffix == "csv" and lines and lines[0].count(";") > lines[0].count(","):
        delimiter = ";"   # spreadsheets in many locales write semicolons
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)]
    except csv.Error:   # a field over csv's size limit, a stray quote...: read it as text instead
        return None
    width = max((len(r) for r in rows), default=0)
    if width == 0:
        return None
    words = [[_words(r[c]) if c < len(r) else 0 for r in rows] for c in range(width)]
    body = slice(1, None) if len(rows) > 1 else slice(None)
    column = max(range(width), key=lambda c: sum(words[c][body]) / max(1, len(rows[body])))
    header = len(rows) > 1 and _is_header(rows[0], column)
    cells = [r[column] for r in rows[1 if header else 0:] if column < len(r) and r[column].strip()]
    label = f"'{rows[0][column].strip()}'" if header else f"column {column + 1}"
    return Table(cells, label, sum(words[column][1 if header else 0:]) / max(1, len(cells)))


def _words(cell: str) -> int:
    """Tokens with a letter in them: "12.5" and "-" are not words."""
    return sum(any(ch.isalpha() for ch in w) for w in split_words(cell))


def _looks_like_table(lines: list[str], delimiter: str) -> bool:
    if len(lines) < 3:
        return False
    try:
        counts = {len(r) for r in csv.reader(lines, delimiter=delimiter)}
    except csv.Error:
        return False
    if len(counts) != 1 or counts.pop() < 2:
        return False
    if delimiter == "\t":
        return True
    joined = "\n".join(lines)
    return joined.count(delimiter + " ") < 0.5 * joined.count(delimiter)


def _is_header(row: list[str], column: int) -> bool:
    """A first row of short labels: no cell is a number and the text column's cell has at most three
    words and no sentence punctuation."""
    cell = row[column].strip() if column < len(row) else ""
    numeric = any(re.fullmatch(r"[-+]?\d+(?:[.,]\d+)?", c.strip()) for c in row)
    return not numeric and _words(cell) <= 3 and not _END.search(cell)


def one_sentence_per_line(text: str) -> bool:
    """Whether every line break of ``text`` ends a sentence, judged on the lines that have a next line
    in the same paragraph (a single-line paragraph reads the same either way).

    Such a line reads as a line of its own when it ends in sentence punctuation, or when it is short
    (at most SHORT_LINE tokens) and the next line does not carry on in lower case. Line breaks end
    sentences when at least half of these lines read so, or when the text has hardly any sentence
    punctuation (fewer sentence ends than one per four lines: lists, lyrics, lines of emoji or CJK).
    Hard-wrapped prose fails both: its lines are long or carry on in lower case, and its sentences
    end inside lines. None of this depends on the sequence length.
    """
    lines = text.splitlines()
    inner = standalone = 0
    for line, following in zip(lines, lines[1:]):
        if not line.strip() or not following.strip():
            continue
        inner += 1
        carries_on = following.lstrip()[:1].islower()
        standalone += bool(_LINE_END.search(line)) or (len(split_words(line)) <= SHORT_LINE and not carries_on)
    n_lines = sum(1 for x in lines if x.strip())
    ends = sum(len(_END.findall(x)) for x in lines)
    return 2 * standalone >= inner or 4 * ends < n_lines
