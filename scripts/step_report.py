"""Before and after the exact reverse step: the zoo's headline numbers measured with the paper's
plug-in step (the summaries of a git revision that predates the exact step) against the same models
measured today (exact step by default), nothing recomputed.

Per corpus × N at level t: train / test recovery and exact match, median Hamming basin size (train /
test), the share of test fixed points, and the generations' categories; per corpus the transition N*
at every level. A last column gives today's ``plugin_generations``: the plug-in step again on the same
models, from the same noise as today's exact generations — an independent second draw of the old
column (the old tables were drawn from other random numbers, so the two agree only within sampling
error: 128 samples, standard error up to 0.044).

    python scripts/step_report.py [--before 7057cfa] [--zoo assets/zoo] [--t 0.25]
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from engine.measures.summary import Summary  # noqa: E402
from engine.measures.transition import with_transitions  # noqa: E402
from engine.runs.zoo import read_index  # noqa: E402


def old_summary(rev: str, rel: Path) -> Summary | None:
    try:
        text = subprocess.run(["git", "show", f"{rev}:{rel.as_posix()}"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout
    except subprocess.CalledProcessError:
        return None
    return Summary.from_dict(json.loads(text))


def fmt(x, digits: int = 2) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def pair(a, b, digits: int = 2) -> str:
    return f"{fmt(a, digits)} → {fmt(b, digits)}"


def level_rows(corpus: str, n: int, s: Summary) -> list[dict]:
    return [{"corpus": corpus, "n": n, "split": r["split"], "t": r["t"], "recovery_rate": r["recovery_rate"],
             "exact_match": r["exact_match"]} for r in s.levels]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", default="7057cfa", help="a git revision whose zoo was measured with the plug-in step")
    p.add_argument("--zoo", default=str(ROOT / "assets" / "zoo"))
    p.add_argument("--t", type=float, default=0.25)
    args = p.parse_args()
    zoo = Path(args.zoo)
    rel_zoo = zoo.resolve().relative_to(ROOT)
    t = args.t
    print(f"t = {t:g}; each cell: plug-in step (rev {args.before}) → exact step (today)\n")
    print("| corpus | N | train rec | test rec | train exact | test exact | basin size train / test (median) "
          "| fixed points test | generations | plug-in step today |")
    print("|---|---:|---|---|---|---|---|---|---|---|")
    levels = {"before": [], "after": []}
    for e in read_index(zoo):
        new = Summary.read(zoo / e["path"])
        old = old_summary(args.before, rel_zoo / e["path"] / "measure" / "summary.json")
        if old is None:
            continue
        if new.step != "exact":
            print(f"| {e['corpus']} | {e['n']} | not yet re-measured (step {new.step}) |")
            continue
        levels["before"] += level_rows(e["corpus"], e["n"], old)
        levels["after"] += level_rows(e["corpus"], e["n"], new)

        def get(s, split, key, rows="levels"):
            return (s.level(split, t, rows) or {}).get(key, math.nan)

        def size(s, split):
            return s.basin_size.get(split, {}).get("median", math.nan)

        def gens(g):
            return ", ".join(f"{k} {v:.2f}" for k, v in sorted(g.items(), key=lambda kv: -kv[1]))

        print(f"| {e['corpus']} | {e['n']} | {pair(get(old, 'train', 'recovery_rate'), get(new, 'train', 'recovery_rate'))} "
              f"| {pair(get(old, 'test', 'recovery_rate'), get(new, 'test', 'recovery_rate'))} "
              f"| {pair(get(old, 'train', 'exact_match'), get(new, 'train', 'exact_match'))} "
              f"| {pair(get(old, 'test', 'exact_match'), get(new, 'test', 'exact_match'))} "
              f"| {fmt(size(old, 'train'))} / {fmt(size(old, 'test'))} → {fmt(size(new, 'train'))} / {fmt(size(new, 'test'))} "
              f"| {pair(old.fixed_fraction.get('test'), new.fixed_fraction.get('test'))} "
              f"| {gens(old.generations)} → {gens(new.generations)} | {gens(new.plugin_generations)} |")
    print("\nTransition N* (recovery rate / exact match) per level, plug-in → exact:\n")
    print("| corpus | t | N* recovery | N* exact match |\n|---|---:|---|---|")
    stars = {k: with_transitions(pd.DataFrame(v)) for k, v in levels.items() if v}
    if len(stars) == 2:
        keys = ["corpus", "t", "n_star_recovery_rate", "n_star_exact_match"]
        b, a = (stars[k][keys].drop_duplicates(["corpus", "t"]).set_index(["corpus", "t"]) for k in ("before", "after"))
        for (corpus, lvl), row in a.iterrows():
            old_row = b.loc[(corpus, lvl)] if (corpus, lvl) in b.index else {}
            print(f"| {corpus} | {lvl:g} | {pair(old_row.get('n_star_recovery_rate'), row['n_star_recovery_rate'], 0)} "
                  f"| {pair(old_row.get('n_star_exact_match'), row['n_star_exact_match'], 0)} |")


if __name__ == "__main__":
    main()
