"""Sentences from text: a person's own plain-text file, or a committed corpus file.

``read_text`` turns an uploaded file (a path or its raw bytes) into normalised sequences that fit a
sequence of length ``seq_len`` (at most ``seq_len - 1`` tokens, one position being the end token),
with a report of what was kept, cut and dropped; ``read_sentences`` returns the sequences alone.
Anything it cannot read is refused with a ``TextFileError`` whose message says what to do.
``split_sentences`` is the one sentence splitter of the project; ``scripts/build_pydocs.py`` and
``scripts/build_kjv.py`` use it to build ``assets/corpora/*.txt.gz``, which ``load_pydocs`` and
``load_kjv`` read back.
"""
from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path

from engine.text import clauses, formats
from engine.text.clauses import Fitted
from engine.text.tokenizer import split_words

MAX_BYTES = 20 * 1024 * 1024  # largest accepted file, bytes
MIN_TABLE_WORDS = 3  # words per cell below which a table holds labels or numbers, not sentences
CORPORA_DIR = Path(__file__).resolve().parents[2] / "assets" / "corpora"
PYDOCS_PATH = CORPORA_DIR / "pydocs-v1.txt.gz"
KJV_PATH = CORPORA_DIR / "kjv-v1.txt.gz"

# Control characters other than tab, newline, vertical tab, form feed and carriage return, plus DEL.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\v\f\r") + b"\x7f"
_MAX_CONTROL_SHARE = 0.05  # fraction of bytes above which a file counts as binary

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f\v\r]*\n")
# A run of sentence punctuation, any closing quotes or brackets, then whitespace or the end of the text.
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)")
# What a new sentence starts with: optional opening quotes or brackets, then a capital letter.
_NEXT_START = re.compile(r"\s+[\"'“‘(\[]*[A-Z]")
# Words ending in a full stop that do not end a sentence even before a capital letter.
_ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "jr.", "sr.", "vs.", "cf.",
                            "viz.", "approx.", "fig.", "eq."})
_WORD = re.compile(r"[^\W_]")  # a letter or digit, in any script
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


@dataclass(frozen=True)
class Reading:
    """What ``read_text`` made of a file: the sequences, how the file was read, and what was cut or
    dropped (``fitted`` counts sentences, pieces and repeats; ``skipped`` counts Markdown code, table
    and rule lines)."""

    fitted: Fitted
    lines: int
    layout: str                  # "lines", "prose" or "table"
    skipped: int = 0
    column: str = ""             # the column a table's sentences came from

    @property
    def sentences(self) -> list[str]:
        return list(self.fitted.sentences)

    def summary(self) -> str:
        """One sentence for people: how the file was read, then what was kept, cut and dropped."""
        how = {"lines": "one sentence per line", "prose": "prose (wrapped lines joined into sentences)",
               "table": f"a table (the sentences of its {self.column})"}[self.layout]
        skipped = f", skipping {self.skipped:,} lines of code, tables and rules" if self.skipped else ""
        return f"Read {self.lines:,} lines as {how}{skipped}; {self.fitted.summary()}"


def read_text(source: str | os.PathLike | bytes, *, seq_len: int = 16, max_bytes: int = MAX_BYTES,
              name: str | None = None) -> Reading:
    """The distinct sequences of 1 .. ``seq_len - 1`` tokens in a plain-text file, and how they were got.

    ``source`` is a path or the file's raw bytes (an upload; ``name`` is its file name). Markdown
    and CSV / TSV files are recognised (``engine.text.formats``). A file whose line breaks end sentences
    (``formats.one_sentence_per_line``, which does not depend on ``seq_len``) keeps every line break
    as a sentence break; otherwise lines are joined into paragraphs (a blank line separates
    paragraphs). Either way ``split_sentences`` then splits the text, and ``clauses.fit`` cuts a
    sentence longer than ``seq_len - 1`` tokens into pieces at clause boundaries and drops repeats,
    keeping first occurrences in file order. The result may be shorter than the caller wants;
    TextFileError when nothing usable is left.
    """
    if seq_len < 2:
        raise ValueError(f"seq_len must be at least 2 (one word and the end token), got {seq_len}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > max_bytes:
            raise _too_big("The file", _size(len(data)), max_bytes)
    else:
        data = _read_bytes(source, max_bytes)
        name = name or Path(source).name
    if not data:
        raise TextFileError("The file is empty. Choose a file with some sentences in it.")
    text = _decode(data)
    n_lines = sum(1 for line in text.splitlines() if line.strip())
    if not n_lines:
        raise TextFileError("The file contains only blank space. Choose a file with some sentences in it.")
    skipped, column = 0, ""
    found = formats.table(text, name)
    if found is not None:
        if found.words_per_cell < MIN_TABLE_WORDS:
            raise TextFileError(
                f"This looks like a table (CSV) of short values, not sentences: its wordiest column, "
                f"{found.column}, has {found.words_per_cell:.1f} words per cell. Save the sentences you "
                "want in a plain-text file, one per line, and use that.")
        how, column = "table", found.column
        text = "\n\n".join(found.cells)
    else:
        if formats.is_markdown(text, name):
            text, skipped = formats.markdown(text)
            if skipped and not text.strip():
                raise TextFileError(
                    f"This Markdown file holds only tables, code blocks or rules ({skipped:,} lines), which "
                    "are not read as sentences. Write the sentences as paragraphs or one per line, or save "
                    "the table as a CSV file (the column with the most words is read).")
        how = "lines" if formats.one_sentence_per_line(text) else "prose"
        if how == "lines":
            text = "\n\n".join(line for line in text.splitlines() if line.strip())
    fitted = clauses.fit(split_sentences(text), seq_len)
    if not fitted.sentences:
        raise TextFileError("No usable sentence: the file has no words the tokenizer can read "
                            "(letters, digits and punctuation).")
    if not any(_WORD.search(sentence) for sentence in fitted.sentences):
        raise TextFileError("The file holds only punctuation and symbols, no words (letters or digits): a "
                            "model trained on it learns nothing worth exploring. Choose a file with "
                            "sentences in it.")
    return Reading(fitted, n_lines, how, skipped, column)


def read_sentences(source: str | os.PathLike | bytes, *, seq_len: int = 16,
                   max_bytes: int = MAX_BYTES, name: str | None = None) -> list[str]:
    """``read_text(...).sentences``: the distinct sequences alone, in file order."""
    return read_text(source, seq_len=seq_len, max_bytes=max_bytes, name=name).sentences


def load_lines(path: str | os.PathLike, what: str, rebuild: str) -> list[str]:
    """The lines of a committed gzip corpus file; TextFileError saying how to rebuild it if missing."""
    path = Path(path)
    if not path.is_file():
        raise TextFileError(f"The {what} corpus is missing at '{path}'. Restore it from the repository, "
                            f"or rebuild it with: {rebuild}")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def load_pydocs(path: str | os.PathLike | None = None) -> list[str]:
    """The committed Python-docs corpus: one normalised sentence per line (see assets/corpora/PYDOCS.md)."""
    return load_lines(PYDOCS_PATH if path is None else path, "Python-docs", "python scripts/build_pydocs.py")


def load_kjv(path: str | os.PathLike | None = None) -> list[str]:
    """The committed King James Bible corpus: one sentence per line as printed (assets/corpora/KJV.md)."""
    return load_lines(KJV_PATH if path is None else path, "King James Bible",
                      "python scripts/build_kjv.py (after: apt-get install -y bible-kjv)")
