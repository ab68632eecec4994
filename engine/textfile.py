"""Sentences from text: a person's own plain-text file, or the committed Python-docs corpus.

``read_sentences`` turns an uploaded file (a path or its raw bytes) into normalised sentences that
fit a sequence of length ``seq_len`` (at most ``seq_len - 1`` tokens, one position being the end
token), refusing anything it cannot read with a ``TextFileError`` whose message says what to do.
``split_sentences`` is the one sentence splitter of the project; ``scripts/build_pydocs.py`` uses it
to build ``assets/corpora/pydocs-v1.txt.gz``, which ``load_pydocs`` reads back.
"""
from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

from engine.tokenizer import split_words

MAX_BYTES = 20 * 1024 * 1024  # largest accepted file, bytes
PYDOCS_PATH = Path(__file__).resolve().parent.parent / "assets" / "corpora" / "pydocs-v1.txt.gz"

# Control characters other than tab, newline, vertical tab, form feed and carriage return, plus DEL.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\v\f\r") + b"\x7f"
_MAX_CONTROL_SHARE = 0.05  # fraction of bytes above which a file counts as binary

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f\v\r]*\n")
# A run of sentence punctuation, any closing quotes or brackets, then whitespace or the end of the text.
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)")
_LINE_END = re.compile(r"[.!?]+[\"'”’)\]]*\s*$")
# What a new sentence starts with: optional opening quotes or brackets, then a capital letter.
_NEXT_START = re.compile(r"\s+[\"'“‘(\[]*[A-Z]")
# Words ending in a full stop that do not end a sentence even before a capital letter.
_ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "jr.", "sr.", "vs.", "cf.",
                            "viz.", "approx.", "fig.", "eq."})
_LETTER_DOTS = re.compile(r"(?:[a-z]\.){2,}")  # e.g. i.e. u.s. a.m.


def _ends_sentence(text: str, end: re.Match) -> bool:
    """Whether the punctuation run ``end`` in ``text`` closes a sentence."""
    if end.end() == len(text.rstrip()):
        return True
    if not _NEXT_START.match(text, end.end()):
        return False  # next word is lower case, a digit or a symbol: "i.e. the", "3.8. x"
    if text[end.start()] != ".":
        return True
    word = text[:end.start() + 1].rsplit(None, 1)[-1].lstrip("\"'“‘([").lower()
    return word not in _ABBREVIATIONS and not _LETTER_DOTS.fullmatch(word)


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, whitespace collapsed; a blank line always ends a sentence.

    A sentence ends at ``.``, ``!`` or ``?`` (plus closing quotes or brackets) followed by the end of
    the paragraph or by whitespace and a capital letter, so "3.14", "os.path" and "e.g. the" stay
    whole. A full stop after an abbreviation ("e.g.", "i.e.", "Dr.", "vs.") never ends a sentence;
    "etc." ends one only when a capital letter follows. Text without end punctuation is one sentence.
    """
    sentences = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        paragraph = " ".join(paragraph.split())
        start = 0
        for end in _END.finditer(paragraph):
            if _ends_sentence(paragraph, end):
                sentences.append(paragraph[start:end.end()].strip())
                start = end.end()
        if paragraph[start:].strip():
            sentences.append(paragraph[start:].strip())
    return sentences


def normalise(sentence: str) -> str:
    """The sentence's tokens (``split_words``) joined by single spaces."""
    return " ".join(split_words(sentence))


class TextFileError(ValueError):
    """A text file that cannot be used, with a message a person can act on."""


def _size(n_bytes: int) -> str:
    """A byte count for people: '512 bytes', '3.2 KiB', '20.0 MiB'."""
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    return f"{n_bytes / 1024:.1f} KiB" if n_bytes < 1024**2 else f"{n_bytes / 1024**2:.1f} MiB"


def _too_big(what: str, size: str, max_bytes: int) -> TextFileError:
    return TextFileError(f"{what} is {size}; the limit is {_size(max_bytes)}. "
                         "Use a shorter excerpt of the text.")


def _read_bytes(source: str | os.PathLike, max_bytes: int) -> bytes:
    path = Path(source)
    if not path.exists():
        raise TextFileError(f"There is no file at '{path}'. Check the path and try again.")
    if path.is_dir():
        raise TextFileError(f"'{path}' is a folder, not a file. Choose a plain-text (.txt) file inside it.")
    if not path.is_file():
        raise TextFileError(f"'{path}' is not a regular file (a device, a pipe...). Choose a plain-text "
                            "(.txt) file.")
    size = path.stat().st_size
    if size > max_bytes:
        raise _too_big(f"'{path.name}'", _size(size), max_bytes)
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)  # the file may have grown since stat
    except OSError as e:
        raise TextFileError(f"Could not read '{path}': {e.strerror or e}. Check that the file is "
                            "readable by you.") from e
    if len(data) > max_bytes:
        raise _too_big(f"'{path.name}'", f"over {_size(max_bytes)}", max_bytes)
    return data


def _decode(data: bytes) -> str:
    """UTF-8 text of ``data`` (a leading byte-order mark is dropped); TextFileError if it is not text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TextFileError("The file is saved as UTF-16 (or UTF-32). Re-save it as UTF-8 "
                            "(in most editors: Save As, encoding 'UTF-8') and upload it again.")
    n_control = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if b"\x00" in data or n_control > _MAX_CONTROL_SHARE * len(data):
        raise TextFileError("This looks like a binary file (an image, a PDF, a Word document...), "
                            "not plain text. Export or save it as a plain-text .txt file first.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TextFileError(f"The file is not valid UTF-8 (byte {e.start} cannot be decoded). Re-save "
                            "it as UTF-8 (in most editors: Save As, encoding 'UTF-8') and upload it "
                            "again.") from e


def _one_sentence_per_line(lines: list[str], seq_len: int) -> bool:
    """Whether the lines are the sentences: most non-empty lines end in sentence punctuation or are
    short (<= seq_len // 2 tokens), or the text has hardly any sentence punctuation at all (fewer
    sentence ends than one per four lines: lists, lyrics, lines of emoji or of CJK text).

    Hard-wrapped prose fails both tests: its lines are long, mostly stop mid-sentence, and its
    sentences end inside lines.
    """
    sentence_like = sum(bool(_LINE_END.search(line)) or len(split_words(line)) <= seq_len // 2
                        for line in lines)
    ends = sum(len(_END.findall(line)) for line in lines)
    return 2 * sentence_like >= len(lines) or 4 * ends < len(lines)


def read_sentences(source: str | os.PathLike | bytes, *, seq_len: int = 16,
                   max_bytes: int = MAX_BYTES) -> list[str]:
    """Normalised, distinct sentences of 1 .. ``seq_len - 1`` tokens from a plain-text file.

    ``source`` is a path or the file's raw bytes (an upload). A file whose lines are mostly sentences
    (see ``_one_sentence_per_line``) keeps every line break as a sentence break; otherwise lines are
    joined into paragraphs (a blank line separates paragraphs). Either way ``split_sentences`` then
    splits the text, each sentence becomes its ``split_words`` tokens joined by single spaces, and
    duplicates are dropped keeping first occurrences in file order. The list may be shorter than the
    caller wants; TextFileError when nothing usable is left.
    """
    if seq_len < 2:
        raise ValueError(f"seq_len must be at least 2 (one word and the end token), got {seq_len}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > max_bytes:
            raise _too_big("The file", _size(len(data)), max_bytes)
    else:
        data = _read_bytes(source, max_bytes)
    if not data:
        raise TextFileError("The file is empty. Choose a file with some sentences in it.")
    text = _decode(data)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise TextFileError("The file contains only blank space. Choose a file with some sentences in it.")
    if _one_sentence_per_line(lines, seq_len):
        text = "\n\n".join(lines)
    candidates = [normalise(s) for s in split_sentences(text)]
    candidates = [s for s in candidates if s]
    if not candidates:
        raise TextFileError("No usable sentence: the file has no words the tokenizer can read "
                            "(letters, digits and punctuation).")
    kept = [s for s in candidates if len(s.split()) <= seq_len - 1]
    if not kept:
        raise TextFileError(f"No usable sentence: each of the {len(candidates)} sentences found has more "
                            f"than {seq_len - 1} words and punctuation marks. Use shorter sentences, one "
                            "per line, each ending with a full stop.")
    return list(dict.fromkeys(kept))


def load_pydocs(path: str | os.PathLike | None = None) -> list[str]:
    """The committed Python-docs corpus: one normalised sentence per line (see assets/corpora/PYDOCS.md)."""
    path = Path(path) if path is not None else PYDOCS_PATH
    if not path.is_file():
        raise TextFileError(f"The Python-docs corpus is missing at '{path}'. Restore it from the "
                            "repository, or rebuild it with: python scripts/build_pydocs.py")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()
