"""Print the README's zoo tables (markdown) from the shipped measurements, nothing recomputed:
per N, train / test basin size (median and IQR), network / ideal memorizer / ideal generalizer
recovery, exact match and entropy at one level t, and how close the largest N gets to the ideal
generalizer; then the transition targets of a real-English zoo (issue 13), each with its measured
value: smallest N train exact >= 0.95 and test <= 0.05; largest N train and test recovery within
0.05; test exact match or the median test basin size at least 0.05 above the smallest N's; mean train
entropy at the largest N >= 10x the smallest N's.

    python scripts/zoo_report.py [--zoo assets/zoo] [--corpus grammar] [--t 0.25]
    python scripts/zoo_report.py --transition [--corpus kjv]   # the README's transition table rows
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from engine.measures.basin import basin_sizes  # noqa: E402
from engine.measures.summary import Summary  # noqa: E402
from engine.runs.zoo import read_index  # noqa: E402


def fmt(x, digits: int = 2) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--zoo", default=str(ROOT / "assets" / "zoo"))
    p.add_argument("--corpus", default="grammar")
    p.add_argument("--t", type=float, default=0.25)
    p.add_argument("--transition", action="store_true",
                   help="only the rows of the README's transition table (recovery, exact, entropy, generations)")
    args = p.parse_args()
    rows = [e for e in read_index(args.zoo) if e["corpus"] == args.corpus]
    if not rows:
        sys.exit(f"no {args.corpus} entries in {args.zoo}")
    if args.transition:
        return transition_rows(args.zoo, args.corpus, rows, args.t)
    print(f"{args.corpus}, t = {args.t:g}: recovery / exact match (untouched trials excluded) / content entropy (nats)\n")
    print("| N | basin size train: median (IQR) | test | distinct train sizes | Spearman(size, length) train "
          "| network train | network test | ideal memorizer train | test | ideal generalizer train | test "
          "| fixed points train / test |")
    print("|" + "---|" * 12)
    last, sizes, one_word = None, [], []
    for e in sorted(rows, key=lambda e: e["n"]):
        measure = Path(args.zoo) / e["path"] / "measure"
        p1 = {}
        for name in ("basin_profile", "memorizer_basin_profile", "generalizer_basin_profile"):
            if (measure / f"{name}.parquet").exists():
                k1 = pd.read_parquet(measure / f"{name}.parquet").query("k == 1").groupby("split")[["recovered", "trials"]].sum()
                p1[name] = (k1["recovered"] / k1["trials"]).to_dict()
        one_word.append((e["n"], p1))
        for ref in ("memorizer", "generalizer"):
            if (measure / f"{ref}_basin_profile.parquet").exists():
                med = basin_sizes(pd.read_parquet(measure / f"{ref}_basin_profile.parquet")).groupby("split")["size"]
                sizes.append((e["n"], ref, med.median().to_dict(), med.quantile(0.25).to_dict(), med.quantile(0.75).to_dict()))
        s = Summary.read(Path(args.zoo) / e["path"])
        size = {k: f"{fmt(v['median'])} ({fmt(v['q1'])}–{fmt(v['q3'])})" for k, v in s.basin_size.items()}

        def cell(rows_name: str, split: str) -> str:
            r = s.level(split, args.t, rows_name) or {}
            ent = r.get("entropy")
            if rows_name == "levels":
                ent = (s.level(split, args.t, "entropy") or {}).get("entropy")
            return f"{fmt(r.get('recovery_rate'))} / {fmt(r.get('exact_match'))} / {fmt(ent)}"

        bs = s.basin_size.get("train", {})
        print(f"| {e['n']:,} | {size.get('train', '–')} | {size.get('test', '–')} | {bs.get('distinct', '–')} "
              f"| {fmt(bs.get('spearman_length'))} | {cell('levels', 'train')} | {cell('levels', 'test')} "
              f"| {cell('ideal_memorizer', 'train')} | {cell('ideal_memorizer', 'test')} "
              f"| {cell('ideal_generalizer', 'train')} | {cell('ideal_generalizer', 'test')} "
              f"| {fmt(s.fixed_fraction.get('train'))} / {fmt(s.fixed_fraction.get('test'))} |")
        last = s
    if sizes:
        print("\nBasin size (Hamming profile) of the ideal denoisers, median (IQR):\n")
        print("| N | reference | train | test |\n|---|---|---|---|")
        for n, ref, med, q1, q3 in sizes:
            print(f"| {n:,} | ideal {ref} | " + " | ".join(f"{fmt(med.get(s))} ({fmt(q1.get(s))}–{fmt(q3.get(s))})"
                                                          for s in ("train", "test")) + " |")
    print("\np(k = 1): exact recovery when exactly one content token is changed (all examples and trials "
          "pooled), train / test\n")
    print("| N | network | ideal memorizer | ideal generalizer |\n|---|---|---|---|")
    for n, p1 in one_word:
        print(f"| {n:,} | " + " | ".join(f"{fmt(p1.get(name, {}).get('train'))} / {fmt(p1.get(name, {}).get('test'))}"
                                         for name in ("basin_profile", "memorizer_basin_profile",
                                                      "generalizer_basin_profile")) + " |")
    targets(Summary.read(Path(args.zoo) / min(rows, key=lambda e: e["n"])["path"]), last, args.t)
    net = last.level("test", args.t) or {}
    ideal = last.level("test", args.t, "ideal_generalizer") or {}
    net_h = (last.level("test", args.t, "entropy") or {}).get("entropy")
    if ideal:
        ratio = net.get("recovery_rate", math.nan) / ideal.get("recovery_rate", math.nan)
        print(f"\nLargest N = {last.n:,}: test recovery {fmt(net.get('recovery_rate'))} vs the ideal generalizer's "
              f"{fmt(ideal.get('recovery_rate'))} (ratio {fmt(ratio)}); test exact match {fmt(net.get('exact_match'))} vs "
              f"{fmt(ideal.get('exact_match'))}; entropy {fmt(net_h)} vs {fmt(ideal.get('entropy'))} nats "
              f"(difference {fmt((net_h or math.nan) - ideal.get('entropy', math.nan))})")


def transition_rows(zoo: str, corpus: str, rows: list[dict], t: float) -> None:
    """| corpus | N | train recovery | test recovery | train exact | test exact | train entropy | generations
    (the tables' step) | generations (plug-in step) | trigrams seen: exact / plug-in / test sentences |"""
    for e in sorted(rows, key=lambda e: e["n"]):
        s = Summary.read(Path(zoo) / e["path"])
        train, test = s.level("train", t) or {}, s.level("test", t) or {}
        h = (s.level("train", t, "entropy") or {}).get("entropy")
        gen, plugin = (", ".join(f"{k} {v:.2f}" for k, v in sorted(g.items(), key=lambda kv: -kv[1]))
                       for g in (s.generations, s.plugin_generations))
        tri = {k: s.fluency.get(k, {}).get("trigram") for k in ("generated", "generated_plugin", "test")}
        print(f"| {corpus} | {e['n']} | {fmt(train.get('recovery_rate'), 3)} | {fmt(test.get('recovery_rate'), 3)} "
              f"| {fmt(train.get('exact_match'), 3)} | {fmt(test.get('exact_match'), 3)} | {fmt(h, 3)} | {gen} "
              f"| {plugin or '–'} | {fmt(tri['generated'])} / {fmt(tri['generated_plugin'])} / {fmt(tri['test'])} |")


def targets(first: Summary, last: Summary, t: float) -> None:
    """The transition targets at level t, smallest N (``first``) against largest (``last``)."""
    def get(s: Summary, split: str, key: str, rows: str = "levels") -> float:
        return (s.level(split, t, rows) or {}).get(key, math.nan)

    def median_test_size(s: Summary) -> float:
        return s.basin_size.get("test", {}).get("median", math.nan)

    gap = abs(get(last, "train", "recovery_rate") - get(last, "test", "recovery_rate"))
    exact_gain = get(last, "test", "exact_match") - get(first, "test", "exact_match")
    size_gain = median_test_size(last) - median_test_size(first)
    h0, h1 = get(first, "train", "entropy", "entropy"), get(last, "train", "entropy", "entropy")
    checks = [
        (f"N = {first.n:,}: train exact >= 0.95", get(first, "train", "exact_match"), get(first, "train", "exact_match") >= 0.95),
        (f"N = {first.n:,}: test exact <= 0.05", get(first, "test", "exact_match"), get(first, "test", "exact_match") <= 0.05),
        (f"N = {last.n:,}: train and test recovery differ by <= 0.05", gap, gap <= 0.05),
        (f"test exact gain N = {first.n:,} -> {last.n:,} >= 0.05 (or the median test basin's)",
         max(exact_gain, size_gain), exact_gain >= 0.05 or size_gain >= 0.05),
        (f"train entropy ratio N = {last.n:,} / {first.n:,} >= 10", h1 / h0 if h0 > 0 else math.inf, h1 >= 10 * h0),
    ]
    print(f"\nTransition targets at t = {t:g} (untouched trials excluded):\n")
    print("| target | measured | met |\n|---|---:|---|")
    for name, value, ok in checks:
        print(f"| {name} | {fmt(value, 3)} | {'yes' if ok else 'no'} |")
    print(f"\n(test exact {fmt(get(first, 'test', 'exact_match'), 3)} -> {fmt(get(last, 'test', 'exact_match'), 3)}; "
          f"median test basin {fmt(median_test_size(first))} -> {fmt(median_test_size(last))}; "
          f"train entropy {fmt(h0, 3)} -> {fmt(h1, 3)} nats)")


if __name__ == "__main__":
    main()
