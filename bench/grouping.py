"""Grouping quality and speed on a labelled file: pairwise precision, recall, F1, adjusted Rand index, time.

Reads a JSON Lines file with `text` and a gold `group` (by default ../shared/datasets/ideas-dev.jsonl, or the path
given), groups the texts exactly as the synthesis does (app/grouping), and prints:
- the curve of the threshold against pairwise precision, recall and F1, with the default threshold marked;
- the same with words only (no sentence vectors) and without the field's synonyms, to show what each brings;
- how many suggestions the default offers and how many of them are right;
- the time to group 2,000 ideas (the dev texts repeated with the slips people make), vectors computed beforehand
  as they are when ideas are stored, and the time to compute those vectors.
Run from the repository root:  python bench/grouping.py [FILE] [--by function]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from itertools import combinations
from math import comb
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.grouping import NONE, Grouper, Settings, fold  # noqa: E402

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "ideas-dev.jsonl"


def pairs(labels) -> set[tuple[int, int]]:
    """Return the unordered pairs of items sharing a label."""
    return {(i, j) for i, j in combinations(range(len(labels)), 2) if labels[i] == labels[j]}


def pairwise(gold, found) -> tuple[float, float, float]:
    """Return pairwise precision, recall and F1 of `found` against `gold`."""
    truth, said = pairs(gold), pairs(found)
    hits = len(truth & said)
    precision = hits / len(said) if said else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall, (2 * precision * recall / (precision + recall) if hits else 0.0)


def adjusted_rand(gold, found) -> float:
    """Return the adjusted Rand index (Hubert and Arabie, 1985) of two labellings."""
    n = len(gold)
    cells = sum(comb(c, 2) for c in Counter(zip(gold, found, strict=True)).values())
    rows = sum(comb(c, 2) for c in Counter(gold).values())
    cols = sum(comb(c, 2) for c in Counter(found).values())
    expected = rows * cols / comb(n, 2)
    top = (rows + cols) / 2
    return (cells - expected) / (top - expected) if top != expected else 1.0


def slip(text: str, rng: random.Random) -> str:
    """Return a text as someone else might type it: capitals, no accents, a letter dropped."""
    choice = rng.random()
    if choice < 0.25:
        return text.upper()
    if choice < 0.5:
        return " ".join(fold(text))
    if choice < 0.75 and len(text) > 8:
        at = rng.randrange(1, len(text) - 1)
        return text[:at] + text[at + 1:]
    return text


def curve(grouper_for, texts, gold, vectors, buckets, thresholds, default) -> None:
    print(f"  {'threshold':>9} {'precision':>9} {'recall':>7} {'F1':>6} {'ARI':>6} {'groups':>6}")
    for threshold in thresholds:
        grouping = grouper_for(threshold).group(texts, vectors, buckets)
        p, r, f = pairwise(gold, grouping.group_of)
        mark = "  <- default" if abs(threshold - default) < 1e-9 else ""
        print(f"  {threshold:9.2f} {p:9.3f} {r:7.3f} {f:6.3f} {adjusted_rand(gold, grouping.group_of):6.3f} "
              f"{len(grouping.groups):6d}{mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEV)
    parser.add_argument("--by", default="", help="group within these comma-separated columns (as within a tag)")
    parser.add_argument("--size", type=int, default=2000, help="ideas in the timing run")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts, gold = [r["text"] for r in rows], [r["group"] for r in rows]
    columns = [c for c in args.by.split(",") if c]
    buckets = [tuple(r.get(c) for c in columns) for r in rows] if columns else None
    default = Settings()
    grouper = Grouper(default)
    vectors = grouper.vectors(texts)
    thresholds = [round(t, 2) for t in np.arange(0.12, 0.42, 0.02)]
    print(f"{args.file.name}: {len(texts)} ideas, {len(set(gold))} groups"
          + (f", grouped within {', '.join(columns)}" if columns else ""))
    print(f"\nWords and sentence vectors ({default.embedder}, words weigh {default.words}):")
    curve(lambda t: Grouper(Settings(threshold=t)), texts, gold, vectors, buckets, thresholds, default.threshold)
    print("\nWords only (ROUAGES_GROUPING_EMBEDDER=none):")
    curve(lambda t: Grouper(Settings(threshold=t, embedder=NONE)), texts, gold, None, buckets, thresholds,
          default.threshold)
    print("\nWithout the field's synonyms (words and vectors):")
    curve(lambda t: Grouper(Settings(threshold=t), synonyms={}), texts, gold, vectors, buckets, thresholds,
          default.threshold)

    grouping = grouper.group(texts, vectors, buckets)
    truth = pairs(gold)
    label = {i: k for k, g in enumerate(grouping.groups) for i in g.members}
    right = sum(1 for s in grouping.suggestions if gold[s.first] == gold[s.second])
    print(f"\nSuggestions at the defaults ({default.suggest} to {default.threshold}): {len(grouping.suggestions)}, "
          f"{right} of them right; gold pairs still apart after grouping: "
          f"{sum(1 for i, j in truth if label[i] != label[j])}")

    rng = random.Random(7)
    many = [texts[i % len(texts)] if i < len(texts) else slip(texts[i % len(texts)], rng) for i in range(args.size)]
    started = time.perf_counter()
    many_vectors = grouper.vectors(many)
    embedded = time.perf_counter() - started
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        Grouper(default).group(many, many_vectors)
        timings.append(time.perf_counter() - started)
    print(f"\n{args.size} ideas in one bucket: grouped in {min(timings):.2f} s (best of 3, synonyms compiled "
          f"included); their vectors took {embedded:.2f} s, computed as ideas are stored")


if __name__ == "__main__":
    main()
