"""Benchmark the world-café rotation planner against random plans; prints a table.

Run from the repository root:  python bench/rotation.py [--sizes 40 120 300] [--tables 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from workshops.world_cafe.rotation import Person, fewest_same_org_pairs, plan_rotation, random_plan, score  # noqa: E402
from workshops.world_cafe.test_rotation import crowd  # noqa: E402  (the organisations the tests use)

RANDOM_SEEDS = range(5)


def timed_plan(people: list[Person], tables: int, rounds: int, seed: int, repeat: int) -> tuple[list, float, float]:
    """Plan `repeat` times; return the plan and the best wall and CPU times in milliseconds."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        plan = plan_rotation(people, tables, rounds, seed=seed)
        wall = min(wall, time.perf_counter() - wall_start)
        cpu = min(cpu, time.process_time() - cpu_start)
    return plan, wall * 1000, cpu * 1000


def row(size: int, args: argparse.Namespace) -> list[str]:
    """Measure one crowd size; return the table row."""
    people = crowd(size, args.seed)
    plan, wall_ms, cpu_ms = timed_plan(people, args.tables, args.rounds, args.seed, args.repeat)
    planned = score(plan, people, args.tables)
    randoms = [score(random_plan(people, args.tables, args.rounds, seed), people, args.tables) for seed in RANDOM_SEEDS]

    def mean(key: str) -> float:
        return sum(r[key] for r in randoms) / len(randoms)

    return [
        str(size),
        str(len({p.organisation for p in people})),
        f"{planned['distinct_pairs_met']} / {planned['upper_bound']}",
        f"{planned['share_of_bound']:.1%}",
        f"{mean('share_of_bound'):.1%}",
        f"{planned['distinct_pairs_met'] / planned['upper_bound_rule1']:.1%}",
        f"{planned['max_size_spread']} / {mean('max_size_spread'):.1f}",
        f"{planned['repeat_visits']} / {mean('repeat_visits'):.1f}",
        f"{planned['same_org_pairs']} / {mean('same_org_pairs'):.1f} ({fewest_same_org_pairs(people, args.tables, args.rounds)})",
        f"{wall_ms:.1f} / {cpu_ms:.1f}",
    ]


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[40, 120, 300], help="participant counts")
    parser.add_argument("--tables", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1, help="seed of the organisations and of the plan")
    parser.add_argument("--repeat", type=int, default=3, help="plans timed per size; the best time is shown")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Print the comparison table."""
    args = parse(argv)
    header = [
        "people",
        "orgs",
        "pairs met / bound",
        "plan %",
        "random %",
        "plan % rule-1",
        "spread",
        "repeats",
        "same-org pairs (fewest)",
        "time ms wall / CPU",
    ]
    rows = [header] + [row(size, args) for size in args.sizes]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    print(
        f"{args.tables} tables × {args.rounds} rounds, organisations of 1–6 people (seed {args.seed}); "
        f"Python {platform.python_version()}, {os.cpu_count()} CPU"
    )
    for number, cells in enumerate(rows):
        print(" | ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True)))
        if number == 0:
            print("-+-".join("-" * width for width in widths))
    print(
        f"pairs met and time are the plan's; plan % and random % are pairs met as a share of the bound (random: mean of "
        f"{len(RANDOM_SEEDS)} seeds); spread, repeats and same-org pairs read plan / random mean.\n"
        "bound: Hunter's union bound, valid for any plan with these table sizes; rule-1 bound: the same argument for plans "
        "where nobody sits at a table twice, which random plans do not keep."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
