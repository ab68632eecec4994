"""Print the README's zoo tables (markdown) from the shipped measurements, nothing recomputed:
per N, train / test basin size (median and IQR), network / ideal memorizer / ideal generalizer
recovery, exact match and entropy at one level t, and how close the largest N gets to the ideal
generalizer.

    python scripts/zoo_report.py [--zoo assets/zoo] [--corpus grammar] [--t 0.25]
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from engine.summary import Summary  # noqa: E402
from engine.zoo import read_index  # noqa: E402


def fmt(x, digits: int = 2) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--zoo", default=str(ROOT / "assets" / "zoo"))
    p.add_argument("--corpus", default="grammar")
    p.add_argument("--t", type=float, default=0.25)
    args = p.parse_args()
    rows = [e for e in read_index(args.zoo) if e["corpus"] == args.corpus]
    if not rows:
        sys.exit(f"no {args.corpus} entries in {args.zoo}")
    print(f"{args.corpus}, t = {args.t:g}: recovery / exact match (untouched trials excluded) / content entropy (nats)\n")
    print("| N | basin size train: median (IQR) | test | distinct train sizes | Spearman(size, length) train "
          "| network train | network test | ideal memorizer train | test | ideal generalizer train | test "
          "| fixed points train / test |")
    print("|" + "---|" * 12)
    last = None
    for e in sorted(rows, key=lambda e: e["n"]):
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
    net = last.level("test", args.t) or {}
    ideal = last.level("test", args.t, "ideal_generalizer") or {}
    net_h = (last.level("test", args.t, "entropy") or {}).get("entropy")
    if ideal:
        ratio = net.get("recovery_rate", math.nan) / ideal.get("recovery_rate", math.nan)
        print(f"\nLargest N = {last.n:,}: test recovery {fmt(net.get('recovery_rate'))} vs the ideal generalizer's "
              f"{fmt(ideal.get('recovery_rate'))} (ratio {fmt(ratio)}); test exact match {fmt(net.get('exact_match'))} vs "
              f"{fmt(ideal.get('exact_match'))}; entropy {fmt(net_h)} vs {fmt(ideal.get('entropy'))} nats "
              f"(difference {fmt((net_h or math.nan) - ideal.get('entropy', math.nan))})")


if __name__ == "__main__":
    main()
