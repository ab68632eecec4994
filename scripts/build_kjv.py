"""Build the King James Bible corpus ``assets/corpora/kjv-v1.txt.gz`` from Debian's ``bible-kjv-text``.

Source (provenance, licence and hashes in ``assets/corpora/KJV.md``): the Authorized (King James)
Version of 1611 as packaged by Debian in ``bible-kjv-text`` (``/usr/lib/bible.data``, a compressed
format), read with the ``bible`` program of the package ``bible-kjv``, which depends on it:

    apt-get install -y bible-kjv

All 31,102 verses are read in canonical order (Genesis 1:1 .. Revelation 22:21); the verses of each
chapter are joined and ``engine.text.textfile.split_sentences`` splits the chapter into sentences, so a
sentence that runs over several verses stays whole. Output: the distinct sentences in their original
spelling, case and punctuation, one per line, in canonical order (first occurrence kept), gzip with
mtime 0 and no file name, written atomically: byte-identical on every run and machine for one version
of the Debian package (BUILT_FROM). ``engine.text.corpus`` cuts sentences longer than L - 1 tokens at
clause boundaries when it loads the corpus.

    python scripts/build_kjv.py [--out PATH] [--measure]

``--measure`` prints the numbers ``KJV.md`` quotes (distinct sequences, unknown-token share at
vocabulary caps, lengths) for this corpus and, when ``wordnet-base`` is installed, for the other
candidate, the example sentences of WordNet 3.0's glosses.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.store import atomic  # noqa: E402
from engine.text.clauses import fit  # noqa: E402
from engine.text.textfile import split_sentences  # noqa: E402

OUT = REPO / "assets" / "corpora" / "kjv-v1.txt.gz"
DATA = Path("/usr/lib/bible.data")            # bible-kjv-text
BUILT_FROM = "bible-kjv-text 4.38, bible-kjv 4.38"
WHOLE_BIBLE = "gen1:1-rev22:21"
VERSES = 31102
WORDNET = Path("/usr/share/wordnet")          # wordnet-base, for --measure
_REFERENCE = re.compile(r"(\d?[A-Za-z]+\d+):(\d+) ")   # "Ge1:1 ", "1Sm19:4 ", "Rev22:21 "


def verses() -> list[tuple[str, str]]:
    """(chapter, text) of every verse, in canonical order; SystemExit with what to install if missing."""
    reader = shutil.which("bible")
    if reader is None or not DATA.is_file():
        raise SystemExit("error: the King James Bible is not installed: this script needs "
                         f"{DATA} (Debian package bible-kjv-text) and its reader 'bible' (package "
                         "bible-kjv). Install both with: apt-get install -y bible-kjv")
    out = subprocess.run([reader, "-f", WHOLE_BIBLE], capture_output=True, text=True, check=True,
                         env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}).stdout
    found: list[tuple[str, str]] = []
    for line in out.splitlines():
        m = _REFERENCE.match(line)
        if m:
            found.append((m.group(1), line[m.end():].strip()))
        elif line.strip() and found:   # a wrapped verse carries on
            found[-1] = (found[-1][0], f"{found[-1][1]} {line.strip()}")
    if len(found) != VERSES:
        raise SystemExit(f"error: 'bible' gave {len(found)} verses, not the {VERSES} of the King James "
                         "Bible; this version of bible-kjv prints something else")
    return found


def sentences(chapter_verses: list[tuple[str, str]]) -> list[str]:
    """The distinct sentences of the verses, chapter by chapter, in order of first occurrence."""
    chapters: dict[str, list[str]] = {}
    for chapter, text in chapter_verses:
        chapters.setdefault(chapter, []).append(text)
    return list(dict.fromkeys(s for texts in chapters.values() for s in split_sentences(" ".join(texts))))


def build(out: str | os.PathLike = OUT) -> dict[str, int]:
    """Write the corpus to ``out`` atomically; returns counts (verses, sentences, bytes)."""
    found = verses()
    kept = sentences(found)
    size = atomic.write_gzip_lines(out, kept)
    return {"verses": len(found), "sentences": len(kept), "bytes": size}


def wordnet_examples() -> list[str]:
    """The quoted example sentences of WordNet 3.0's glosses (the other candidate), in file order."""
    out = []
    for pos in ("noun", "verb", "adj", "adv"):
        with open(WORDNET / f"data.{pos}", encoding="latin-1") as f:
            for line in f:
                if not line.startswith("  ") and " | " in line:   # licence header lines start with spaces
                    out += re.findall(r'"([^"]+)"', line.split(" | ", 1)[1])
    return out


def measure(name: str, text: list[str], seq_lens=(16, 24, 32, 48), caps=(1000, 2000, 4000, 8000, 12000)) -> None:
    """Print distinct sequences, unknown-token share at each vocabulary cap and lengths, per L."""
    print(f"{name}: {len(text):,} sentences")
    for seq_len in seq_lens:
        fitted = fit(text, seq_len)
        counts = Counter(w for s in fitted.sentences for w in s.split())
        total, ranked = sum(counts.values()), [c for _, c in counts.most_common()]
        unknown = "  ".join(f"{cap}: {1 - sum(ranked[:cap - 3]) / total:.3f}" for cap in caps)
        lengths = sorted(len(s.split()) for s in fitted.sentences)
        q = [lengths[int(p * (len(lengths) - 1))] for p in (0.1, 0.25, 0.5, 0.75, 0.9)]
        print(f"  L = {seq_len}: {fitted.summary()}")
        print(f"    {len(counts):,} word types, {total:,} tokens; unknown share at cap {unknown}")
        print(f"    tokens per sequence: mean {total / len(lengths):.1f}, deciles 10/25/50/75/90 % = {q}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(OUT), help="output .txt.gz path (default: %(default)s)")
    parser.add_argument("--measure", action="store_true",
                        help="print the corpus numbers (and WordNet's, if installed) instead of building")
    args = parser.parse_args()
    if args.measure:
        measure("kjv", sentences(verses()))
        if (WORDNET / "data.noun").is_file():
            measure("wordnet examples", wordnet_examples())
        return
    counts = build(args.out)
    print(f"{BUILT_FROM}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + f" -> {args.out}")


if __name__ == "__main__":
    main()
