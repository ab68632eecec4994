"""Robustness on files the corpus code never saw while it was written: each text below was written for
this test (none is a file of the project or of its development runs). Each must give a usable corpus
whose sequences make sense, or a clear message, at L = 16 and at L = 32.

References are independent of the reader: the expected sentences and lines are known because the
test wrote them, and ``split_words`` of the original text is what every sequence must come from.
"""
from __future__ import annotations

import csv
import io
import textwrap

import pytest

from engine.text.corpus import corpus_from_bytes
from engine.text.textfile import TextFileError, read_text
from engine.text.tokenizer import split_words

LENGTHS = [16, 32]

# ------------------------------------------------------------------------------------------ texts

LICENCE_SENTENCES = [
    "The Lantern Software Licence, version 2, applies to every copy of the program and of its "
    "manual, whether printed, stored on a disk or sent over a network.",
    "You may copy and share the program, in its original form or changed, provided that each copy "
    "keeps this notice, the list of authors and the date of the change.",
    "You may not charge a fee for the licence itself; you may, however, charge for the cost of the "
    "medium, for delivery and for any support you choose to offer.",
    "If you change the program, you must mark the changed files clearly, so that nobody mistakes "
    "your work for the work of the original authors.",
    "The authors give no warranty of any kind: the program is offered as it is, without any promise "
    "that it works, that it is safe, or that it suits a particular purpose.",
    "In no event shall an author be liable for damages, whether direct or indirect, that arise from "
    "the use of the program, even when the author was told that such damages were possible.",
    "This licence ends at once if you break its terms.",
    "Once it has ended, you must stop using the program and destroy every copy that you hold, "
    "unless the authors agree in writing to restore your rights.",
    "Nothing in this licence limits the rights that the law of your country grants you anyway.",
    "Should a court find one clause invalid, the other clauses remain in force and are read as "
    "closely to their original meaning as the law allows.",
    "A translation of this licence may be used in place of the English text, but only the English "
    "text is binding when the two disagree.",
    "Questions about these terms may be sent to the authors by letter or by electronic mail.",
    "The authors may publish new versions of this licence from time to time.",
    "Each version will be given a distinguishing number, and you may follow the terms of any version "
    "that the program names, or of any later version.",
    "When a program names no version, you may choose any version ever published by the authors.",
    "Copyright in the program remains with its authors, who grant the permissions above freely and "
    "for as long as the terms are kept.",
    "A short summary at the top of each file is enough to tell readers which licence applies.",
    "Keep a copy of this licence with the program, in a file named LICENCE or COPYING.",
]

POEM = """\
The Ferryman

Across the river, slow and wide,
The ferry leans against the tide,
And every morning, grey or clear,
The ferryman is waiting here.

He knows the names of all who cross,
He counts the gains and not the loss,
He hums a tune his father knew
And steers the bow the current through.

The children wave from either shore,
The dogs run barking by the door,
The herons lift on heavy wings
Above the weeds and hidden springs.

At dusk he ties the rope once more,
He lays the oars upon the floor,
And through the dark the water sings
Of distant towns and other things.
"""

LONG_SENTENCES = [
    "When the committee met on the first Monday of the month, it discussed the budget, the repairs "
    "to the hall, the plans for the summer fair, the letter from the council about parking, and the "
    "question, raised again by the treasurer, of whether the annual fee should rise; after two hours "
    "of talk, most of it friendly, the members agreed to decide nothing until the next meeting.",
    "The expedition left the coast in early spring, crossed the salt flats in nine days, lost two "
    "camels to a sandstorm near the old well, found the ruined fort that the maps had promised, "
    "and returned, thin but cheerful, with notebooks full of drawings and a crate of broken pottery.",
    "Because the bridge had been closed for repairs, the bus went the long way round, through the "
    "village with the crooked church, past the mill, over the level crossing and along the river, "
    "so that the passengers, who had expected a short ride, arrived nearly an hour late and rather cross.",
    "My grandmother kept a garden that was never tidy but always full: beans climbed the fence, "
    "marrows sprawled across the path, sunflowers leaned over the shed, mint escaped into the lawn, "
    "and in the middle of it all stood an old iron bath in which she grew watercress for the table.",
    "Scientists who study the deep ocean describe creatures that make their own light, fish with "
    "jaws larger than their bodies, worms that live beside boiling vents, and tiny shrimp that rise "
    "each night towards the surface, travelling hundreds of metres, only to sink again before dawn.",
    "The old library, which had stood on the corner of the square for two hundred years, was finally "
    "closed last winter, although the townspeople signed petitions, wrote to the newspapers, held a "
    "reading that lasted all night and even chained themselves, briefly and politely, to the railings.",
    "Learning to play the violin as an adult is humbling: the bow skids, the strings squeak, the "
    "fingers refuse to land where they should, the neighbours complain, and yet, after a year of "
    "patient practice, a simple tune can sound, for one brief moment, almost like music.",
    "The recipe calls for flour, butter, sugar, three eggs, a pinch of salt, the grated rind of a "
    "lemon and a spoonful of milk, all mixed in a cold bowl, rested for an hour, rolled out thinly, "
    "cut into stars and baked until the edges are golden but the middles are still pale.",
    "During the long drought the farmers dug deeper wells, shared water between neighbours, sold "
    "half their cattle at poor prices, prayed in the chapel every Sunday, watched the sky every "
    "evening and told each other, without much conviction, that the rain would surely come soon.",
    "Travelling by night train across the continent, you fall asleep among fields, wake briefly at a "
    "lit platform where men are unloading parcels, doze again as the carriage sways, and open your "
    "eyes at last to mountains, snow and a conductor knocking with coffee.",
    "The museum's new wing, designed by an architect who had never built anything larger than a "
    "house, turned out to be the most popular part of the building, with its glass roof, its "
    "staircase that seemed to float, and its windows framing the harbour like paintings.",
    "Before the invention of the printing press, books were copied by hand, letter by letter, in "
    "cold rooms lit by candles, by scribes who sometimes added small complaints in the margins about "
    "the ink, the weather, their aching backs or the dullness of the text they were copying.",
    "Our cat, who is old, fat and deeply suspicious of visitors, spends the mornings on the warm "
    "boiler, the afternoons on the windowsill watching birds she can no longer catch, and the "
    "evenings on whichever lap belongs to the person least fond of cats.",
    "On the morning of the race the runners gathered at the harbour, stretched and chatted, pinned "
    "numbers to their shirts, queued for the few portable toilets, and then, at the sound of the "
    "horn, set off along the sea wall towards the lighthouse and the hills beyond it.",
    "The engineers tested the new pump in every way they could imagine: they ran it for a week "
    "without stopping, froze it, heated it, dropped it from a lorry, fed it muddy water and sand, "
    "and finally, to everyone's surprise, found that it worked better than the old one.",
    "In the small hours, when the city is quiet, the bakers are already at work, the street "
    "sweepers are making their rounds, the last taxis are heading home, and the foxes, bold as "
    "ever, trot down the middle of the road as if they owned it.",
    "The teacher explained that a river begins as rain on high ground, gathers in streams, cuts "
    "valleys through the hills, slows and winds across the plain, drops its load of mud at the "
    "mouth, and finally mixes with the salt water of the sea.",
    "Although the forecast promised sunshine, the picnic was rained off twice, moved indoors once, "
    "interrupted by a wasp, a lost child and a collapsing table, and yet everyone who came "
    "remembered it, years later, as the best afternoon of that summer.",
]

MARKDOWN = """\
# Field notes on the village pond

The pond lies behind the school and is fed by a small spring.
In summer the water level drops by nearly half a metre.

## What we counted

- Two families of moorhens nested among the reeds.
- Frogspawn appeared in the shallow end in early March.
- A heron visited most mornings before the children arrived.

## How we measured the depth

We used a marked pole at five fixed points along the bank.

```python
depths = [0.42, 0.55, 0.61, 0.38, 0.47]
mean_depth = sum(depths) / len(depths)
print(f"mean depth: {mean_depth:.2f} m")
```

The mean depth was close to half a metre in June.
Readings in August were lower, as the spring slowed.

| point | June | August |
|-------|------|--------|
| A     | 0.42 | 0.30   |

## Next steps

1. Repeat the survey every month for a full year.
2. Ask the council whether the spring can be protected.
3. Share the results with the other schools in the district.

> Ponds change slowly, but they do change, and someone should be watching.
"""

CSV_ROWS = [
    ("1", "The bakery on the corner opens at six every morning.", "notebook"),
    ("2", "Our neighbour grows tomatoes on the balcony.", "notebook"),
    ("3", "The train was late because of leaves on the line.", "diary"),
    ("4", "She painted the fence a cheerful shade of yellow.", "diary"),
    ("5", "A fox crossed the road just before midnight.", "diary"),
    ("6", "The library has a new section for children's books.", "notebook"),
    ("7", "He forgot his umbrella, so he bought another one.", "notebook"),
    ("8", "The market sells fresh fish on Fridays.", "letter"),
    ("9", "Snow fell on the hills but not in the town.", "letter"),
    ("10", "The old clock in the hall stopped at noon.", "letter"),
    ("11", "We walked along the canal as far as the lock.", "diary"),
    ("12", "The concert was cancelled because the singer had a cold.", "diary"),
    ("13", "My brother fixed the bicycle with a piece of wire.", "notebook"),
    ("14", "The cafe by the station serves very strong coffee.", "notebook"),
    ("15", "A swarm of bees settled in the apple tree.", "letter"),
    ("16", "The children built a dam across the stream.", "letter"),
    ("17", "The museum is free on the first Sunday of the month.", "diary"),
    ("18", "Rain is expected later in the week, the radio said.", "diary"),
    ("19", "The postman whistles the same tune every day.", "notebook"),
    ("20", "The lighthouse keeper, who is ninety, still climbs the stairs.", "letter"),
]


def _bytes(text: str) -> bytes:
    return text.encode("utf-8")


def _norm(text: str) -> str:
    return " ".join(split_words(text))


def _covers(pieces: list[str], sentence: str) -> bool:
    """Whether consecutive pieces, joined, spell out the sentence's tokens exactly."""
    target = split_words(sentence)
    for start in range(len(pieces)):
        joined: list[str] = []
        for piece in pieces[start:]:
            joined += piece.split()
            if joined == target:
                return True
            if joined != target[:len(joined)]:
                break
    return False


# ------------------------------------------------------------------------------------------ tests

@pytest.mark.parametrize("seq_len", LENGTHS)
def test_hard_wrapped_licence_is_read_as_prose_and_every_sentence_kept(seq_len):
    paragraphs = [" ".join(LICENCE_SENTENCES[i:i + 3]) for i in range(0, len(LICENCE_SENTENCES), 3)]
    text = "\n\n".join(textwrap.fill(p, 70) for p in paragraphs) + "\n"
    reading = read_text(_bytes(text), seq_len=seq_len, name="LICENCE")
    assert reading.layout == "prose"
    assert reading.fitted.found == len(LICENCE_SENTENCES)
    pieces = reading.sentences
    assert all(1 <= len(p.split()) <= seq_len - 1 for p in pieces)
    for sentence in LICENCE_SENTENCES:
        assert _covers(pieces, sentence), sentence
    longer = sum(len(split_words(s)) > seq_len - 1 for s in LICENCE_SENTENCES)
    assert reading.fitted.split == longer and reading.fitted.whole == len(LICENCE_SENTENCES) - longer
    # most cuts fall after clause punctuation or before a conjunction
    ends = [p.split()[-1] for p in pieces if not p.endswith((".", "!", "?"))]
    assert sum(e in {",", ";", ":"} for e in ends) >= 0.6 * len(ends)
    corpus = corpus_from_bytes("LICENCE", _bytes(text), seq_len)
    assert len(corpus.pool) + len(corpus.test) == len(pieces) >= 16
    assert corpus.name == ("file:LICENCE" if seq_len == 16 else f"file:LICENCE@L{seq_len}")
    assert "as prose" in corpus.report and f"{len(LICENCE_SENTENCES)} sentences found" in corpus.report


@pytest.mark.parametrize("seq_len", LENGTHS)
def test_poem_keeps_one_line_per_verse(seq_len):
    reading = read_text(_bytes(POEM), seq_len=seq_len, name="ferryman.txt")
    verses = [line for line in POEM.splitlines() if line.strip()]
    assert reading.layout == "lines"
    assert reading.sentences == [_norm(v) for v in verses]
    assert reading.fitted.whole == len(verses) == 17 and reading.fitted.split == 0
    corpus = corpus_from_bytes("ferryman.txt", _bytes(POEM), seq_len)
    assert sorted(corpus.pool + corpus.test) == sorted(_norm(v) for v in verses)


@pytest.mark.parametrize("seq_len", LENGTHS)
def test_very_long_sentences_are_cut_at_clauses_not_dropped(seq_len):
    text = "\n".join(LONG_SENTENCES) + "\n"
    reading = read_text(_bytes(text), seq_len=seq_len, name="long.txt")
    assert reading.fitted.found == len(LONG_SENTENCES)
    assert reading.fitted.split == len(LONG_SENTENCES) and reading.fitted.whole == 0  # all > 31 tokens
    pieces = reading.sentences
    assert all(3 <= len(p.split()) <= seq_len - 1 for p in pieces)
    for sentence in LONG_SENTENCES:
        assert _covers(pieces, sentence), sentence
    cuts = [p.split()[-1] for p in pieces if not p.endswith(".")]
    assert sum(c in {",", ";", ":"} for c in cuts) >= 0.8 * len(cuts)   # commas are everywhere here
    assert "each of the 18 sentences found has more than" in reading.summary()
    corpus = corpus_from_bytes("long.txt", _bytes(text), seq_len)
    assert len(corpus.pool) + len(corpus.test) == len(pieces)


@pytest.mark.parametrize("seq_len", LENGTHS)
def test_markdown_drops_code_and_tables_and_keeps_headings_and_items_apart(seq_len):
    reading = read_text(_bytes(MARKDOWN), seq_len=seq_len, name="pond.md")
    pieces = reading.sentences
    assert reading.skipped == 5 + 3 + 0   # the fenced block (5 lines) and the table (3 lines)
    text = " ".join(pieces)
    for code in ("depths", "mean_depth", "print", "`", "|", "#", "```"):
        assert code not in text.split(), code
    assert "field notes on the village pond" in pieces
    assert "what we counted" in pieces
    assert "two families of moorhens nested among the reeds ." in pieces          # an item alone
    assert "frogspawn appeared in the shallow end in early march ." in pieces
    assert "repeat the survey every month for a full year ." in pieces
    assert "ponds change slowly , but they do change , and someone should be watching ." in pieces
    assert all(len(p.split()) <= seq_len - 1 for p in pieces)
    corpus = corpus_from_bytes("pond.md", _bytes(MARKDOWN), seq_len)
    assert len(corpus.pool) + len(corpus.test) == len(pieces) >= 16


def _csv(rows, header=("id", "sentence", "source")) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return _bytes(out.getvalue())


@pytest.mark.parametrize("seq_len", LENGTHS)
@pytest.mark.parametrize("name", ["notes.csv", "notes.txt"])
def test_csv_reads_its_sentence_column(seq_len, name):
    reading = read_text(_csv(CSV_ROWS), seq_len=seq_len, name=name)
    assert reading.layout == "table" and reading.column == "'sentence'"
    assert reading.sentences == [_norm(s) for _, s, _ in CSV_ROWS]
    assert "a table (the sentences of its 'sentence')" in reading.summary()
    corpus = corpus_from_bytes(name, _csv(CSV_ROWS), seq_len)
    assert len(corpus.pool) + len(corpus.test) == len(CSV_ROWS)


@pytest.mark.parametrize("seq_len", LENGTHS)
def test_csv_of_numbers_gives_a_clear_message(seq_len):
    rows = [(str(i), f"{i * 1.5:.1f}", f"{i % 7}", "ok") for i in range(40)]
    with pytest.raises(TextFileError, match=r"looks like a table \(CSV\) of short values, not sentences"):
        read_text(_csv(rows, header=("id", "value", "group", "flag")), seq_len=seq_len, name="data.csv")
