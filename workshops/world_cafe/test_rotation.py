"""World-café rotation: the four rules, hosts, determinism, the pair bound and bad arguments."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from math import comb

import pytest

from workshops.world_cafe.rotation import (
    Person,
    fewest_same_org_pairs,
    pair_upper_bound,
    plan_rotation,
    random_plan,
    score,
)

SHAPES = [(5, 3), (3, 4), (1, 3)]  # (tables, rounds): fewer rounds than tables, more rounds than tables, one table
SIZES = [1, 4, 5, 6, 23, 40, 120, 300]


def crowd(size: int, seed: int = 7) -> list[Person]:
    """Return `size` people from organisations of 1 to 6 people, as in the benchmark."""
    rng = random.Random(seed)
    people: list[Person] = []
    while len(people) < size:
        organisation = f"org{len(people)}"
        for _ in range(min(rng.randint(1, 6), size - len(people))):
            people.append(Person(f"p{len(people)}", organisation))
    return people




def assert_rules_1_and_2(
    plan: list[dict[str, int]], people: list[Person], tables: int, hosts: dict[str, int] | None = None, balanced: bool = True
) -> None:
    """Check that the plan places everyone, keeps hosts put, spreads visits evenly and balances tables."""
    hosts = hosts or {}
    rounds = len(plan)
    ids = {p.id for p in people}
    for row in plan:
        assert set(row) == ids
        assert all(0 <= table < tables for table in row.values())
        sizes = Counter(row.values())
        assert max(sizes[t] for t in range(tables)) - min(sizes[t] for t in range(tables)) <= 1 or not balanced
    for person in people:
        visited = Counter(row[person.id] for row in plan)
        if person.id in hosts:
            assert visited == {hosts[person.id]: rounds}
        elif rounds <= tables:
            assert len(visited) == rounds
        else:
            # Every table, then as few repeats as possible, spread evenly.
            assert {visited[t] for t in range(tables)} <= {rounds // tables, -(-rounds // tables)}


@pytest.mark.parametrize("tables, rounds", SHAPES)
@pytest.mark.parametrize("size", SIZES)
def test_rules_1_and_2_hold(size, tables, rounds):
    people = crowd(size)
    plan = plan_rotation(people, tables, rounds, seed=3)
    assert len(plan) == rounds
    assert_rules_1_and_2(plan, people, tables)
    result = score(plan, people, tables)
    assert result["max_size_spread"] == (0 if size % tables == 0 else 1)
    assert result["repeat_visits"] == size * max(0, rounds - tables)


@pytest.mark.parametrize("tables, rounds", [(4, 4), (6, 6), (4, 3), (6, 4), (2, 5), (7, 7)])
@pytest.mark.parametrize("size", [7, 23, 57])
def test_rules_1_and_2_hold_on_other_shapes(size, tables, rounds):
    people = crowd(size, seed=size)
    plan = plan_rotation(people, tables, rounds, seed=1)
    assert_rules_1_and_2(plan, people, tables)


@pytest.mark.parametrize(
    "size, tables, rounds, host, seed",
    [(4, 6, 5, False, 1), (4, 6, 8, False, 1), (6, 5, 4, True, 0), (8, 5, 5, True, 1), (9, 7, 6, True, 0)],
)
def test_small_awkward_cases_keep_rule_1(size, tables, rounds, host, seed):
    # Here the round-by-round greedy corners itself and the block is rebuilt from a König decomposition.
    people = [Person(f"p{i}") for i in range(size)]
    hosts = {"p0": 0} if host else None
    plan = plan_rotation(people, tables, rounds, seed=seed, hosts=hosts)
    assert_rules_1_and_2(plan, people, tables, hosts, balanced=not host or rounds < tables)


@pytest.mark.parametrize("tables, rounds", SHAPES + [(4, 4)])
def test_hosts_stay_at_their_table(tables, rounds):
    people = crowd(40)
    hosts = {people[t].id: t for t in range(tables)}
    plan = plan_rotation(people, tables, rounds, hosts=hosts)
    assert_rules_1_and_2(plan, people, tables, hosts)
    assert score(plan, people, tables, hosts=hosts)["repeat_visits"] == (40 - tables) * max(0, rounds - tables)


def test_uneven_hosts_still_allow_balanced_tables_when_rounds_leave_room():
    people = crowd(40)
    hosts = {people[0].id: 0, people[10].id: 0, people[20].id: 1}
    plan = plan_rotation(people, 5, 3, hosts=hosts)
    assert_rules_1_and_2(plan, people, 5, hosts)


def test_uneven_hosts_widen_the_spread_only_as_rule_1_requires():
    # Tables within one of each other would mean 4, 4, 4 in every round, so 3 seats a round beside the host
    # of table 0: 9 over the 3 rounds, for 11 non-hosts who must each sit there once (rule 1 comes first).
    people = [Person(f"p{i}") for i in range(12)]
    hosts = {"p0": 0}
    plan = plan_rotation(people, 3, 3, hosts=hosts)
    for person in people[1:]:
        assert sorted(row[person.id] for row in plan) == [0, 1, 2]
    assert score(plan, people, 3, hosts=hosts)["max_size_spread"] == 2


def test_same_seed_gives_the_same_plan_and_another_seed_another():
    people = crowd(120)
    assert plan_rotation(people, 5, 3, seed=11) == plan_rotation(people, 5, 3, seed=11)
    assert plan_rotation(people, 5, 3, seed=11) != plan_rotation(people, 5, 3, seed=12)
    assert plan_rotation(people, 4, 3, seed=11) == plan_rotation(people, 4, 3, seed=11)
    assert random_plan(people, 5, 3, seed=2) == random_plan(people, 5, 3, seed=2)


@pytest.mark.parametrize("seed", range(5))
def test_organisations_of_five_never_share_a_table(seed):
    people = [Person(f"p{i}", f"org{i % 8}") for i in range(40)]
    rng = random.Random(seed)
    rng.shuffle(people)
    plan = plan_rotation(people, 5, 3, seed=seed)
    result = score(plan, people, 5)
    assert result["same_org_pairs"] == 0
    # Optimal for rule 4 too: only people on the same itinerary (two per itinerary) meet twice.
    assert result["distinct_pairs_met"] == result["upper_bound_rule1"] == 380


def test_an_organisation_bigger_than_the_tables_is_spread_evenly():
    people = [Person(f"a{i}", "big") for i in range(7)] + [Person(f"p{i}") for i in range(33)]
    plan = plan_rotation(people, 5, 3)
    # Seven people at five tables: two tables with two of them, one pair each, in every round.
    assert score(plan, people, 5)["same_org_pairs"] == 3 * 2


@pytest.mark.parametrize("size", [40, 120, 300])
def test_organisations_are_spread_as_far_as_possible(size):
    people = crowd(size)
    plan = plan_rotation(people, 5, 3)
    assert score(plan, people, 5)["same_org_pairs"] == fewest_same_org_pairs(people, 5, 3)


@pytest.mark.parametrize("size", [40, 120, 300])
def test_plan_meets_more_people_than_random_plans(size):
    people = crowd(size)
    planned = score(plan_rotation(people, 5, 3), people, 5)
    randoms = [score(random_plan(people, 5, 3, seed=seed), people, 5) for seed in range(5)]
    assert planned["distinct_pairs_met"] > max(r["distinct_pairs_met"] for r in randoms)
    assert planned["same_org_pairs"] < min(r["same_org_pairs"] for r in randoms)


def test_three_hundred_people_reach_the_best_possible_under_rule_1():
    people = crowd(300)
    result = score(plan_rotation(people, 5, 3), people, 5)
    # Tables of 60: 3 × 5 × C(60, 2) = 26550 meetings; the 300 people spread over the 25 (table, table)
    # cells of two rounds leave at least 25 × C(12, 2) = 1650 pairs meeting twice, 20 × C(15, 2) = 2100
    # when no one may sit at the same table twice.
    assert result["upper_bound"] == 26550 - 2 * 1650 == 23250
    assert result["upper_bound_rule1"] == 26550 - 2 * 2100 == 22350
    assert result["distinct_pairs_met"] == 22350
    assert result["share_of_bound"] == pytest.approx(22350 / 23250)


def test_plan_at_other_shapes_beats_random():
    # Not at every shape: with 4 tables × 3 rounds, keeping people off tables they visited (rule 1) and apart
    # from colleagues (rule 3) can cost a few meetings that random plans, which keep neither, do not pay.
    people = crowd(120)
    for tables, rounds in [(6, 4), (3, 4), (4, 4), (6, 6)]:
        planned = score(plan_rotation(people, tables, rounds), people, tables)
        randoms = [score(random_plan(people, tables, rounds, seed=seed), people, tables) for seed in range(5)]
        assert planned["distinct_pairs_met"] > max(r["distinct_pairs_met"] for r in randoms)


def test_zero_effort_still_keeps_the_rules():
    people = crowd(120)
    for tables, rounds in [(5, 3), (4, 3), (3, 4)]:
        assert_rules_1_and_2(plan_rotation(people, tables, rounds, effort=0), people, tables)


def test_one_table_seats_everyone_together():
    people = crowd(23)
    plan = plan_rotation(people, 1, 3)
    assert all(set(row.values()) == {0} for row in plan)
    result = score(plan, people, 1)
    assert result["distinct_pairs_met"] == result["upper_bound"] == comb(23, 2)
    assert result["repeat_visits"] == 23 * 2


def test_one_person():
    plan = plan_rotation([Person("solo", "org")], 5, 3)
    assert len({row["solo"] for row in plan}) == 3
    assert score(plan, [Person("solo", "org")], 5)["distinct_pairs_met"] == 0


def test_random_plan_is_balanced():
    people = crowd(23)
    plan = random_plan(people, 5, 3, seed=4)
    assert score(plan, people, 5)["max_size_spread"] == 1
    assert all(set(row) == {p.id for p in people} for row in plan)


def test_score_counts_a_small_plan_by_hand():
    people = [Person("a", "x"), Person("b", "x"), Person("c", "y"), Person("d")]
    plan = [{"a": 0, "b": 0, "c": 1, "d": 1}, {"a": 0, "b": 1, "c": 0, "d": 1}]
    result = score(plan, people, 2)
    assert result["distinct_pairs_met"] == 4  # a-b, c-d, a-c, b-d
    assert result["same_org_pairs"] == 1  # a and b in round 0
    assert result["repeat_visits"] == 2  # a at table 0 twice, d at table 1 twice
    assert result["max_size_spread"] == 0
    assert score(plan, people, 2, hosts={"a": 0, "d": 1})["repeat_visits"] == 0


def all_plans(people: int, rounds: int):
    """Yield every plan seating `people` people at two tables of equal size, each round, as lists of tables."""
    seatings = []
    for first_table in itertools.combinations(range(people), people // 2):
        seatings.append([0 if p in first_table else 1 for p in range(people)])
    yield from itertools.product(seatings, repeat=rounds)


def pairs_met(rows) -> int:
    """Count the distinct pairs sharing a table at least once."""
    return len({(a, b) for row in rows for a, b in itertools.combinations(range(len(row)), 2) if row[a] == row[b]})


def test_upper_bound_is_never_beaten_and_tight_on_a_small_case():
    # 2 tables of 3: 6 meetings a round; two rounds share at least 2 pairs (6 people in 4 cells: 2, 2, 1, 1).
    assert pair_upper_bound(6, 2, [[3, 3]] * 2) == 6 + 6 - 2 == max(pairs_met(rows) for rows in all_plans(6, 2))
    assert pair_upper_bound(6, 2, [[3, 3]] * 3) == 6 + 6 + 6 - 2 - 2 >= max(pairs_met(rows) for rows in all_plans(6, 3))


def test_upper_bound_under_rule_1_is_never_beaten_by_plans_that_keep_it():
    sizes = [[3, 3], [3, 3]]
    keeping = [rows for rows in all_plans(6, 2) if all(a != b for a, b in zip(*rows, strict=True))]
    best = max(pairs_met(rows) for rows in keeping)
    # Moving everyone to the other table keeps both groups whole: 6 people in the 2 off-diagonal cells.
    assert best == pair_upper_bound(6, 2, sizes, hosts_per_table=[0, 0]) == 6


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda people: plan_rotation([], 5, 3), "no people"),
        (lambda people: plan_rotation(people, 0, 3), "tables must be at least 1"),
        (lambda people: plan_rotation(people, 5, 0), "rounds must be at least 1"),
        (lambda people: plan_rotation(people + [Person("p1")], 5, 3), "duplicate person ids: 'p1'"),
        (lambda people: plan_rotation(people, 5, 3, hosts={"nobody": 0}), "'nobody' is not one of the people"),
        (lambda people: plan_rotation(people, 5, 3, hosts={"p0": 5}), "expected 0..4"),
        (lambda people: plan_rotation(people, 5, 3, effort=-1), "effort"),
        (lambda people: random_plan(people, 5, 0), "rounds must be at least 1"),
        (lambda people: random_plan([], 5, 3), "no people"),
        (lambda people: score([{"p0": 0}], people, 5), "does not place exactly"),
    ],
)
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call(crowd(10))


def test_a_latecomer_takes_the_emptiest_unvisited_table_each_round_away_from_colleagues():
    from workshops.world_cafe.rotation import seat_latecomer

    rounds = [{"a": 0, "b": 0, "c": 1, "d": 2}, {"a": 1, "b": 2, "c": 2, "d": 0}, {"a": 2, "b": 1, "c": 0, "d": 1}]
    organisations = {"a": "mes", "b": None, "c": "mes", "d": None, "late": "mes"}
    # Round 1: tables 1 and 2 hold one each, but table 1 has a colleague; round 2: tables 0 and 1 (table 2 is
    # visited) hold one each, table 1 a colleague; round 3: table 1 is the one left unvisited, however full.
    assert seat_latecomer(rounds, 3, Person("late", "mes"), organisations) == [2, 0, 1]
    assert seat_latecomer([{}, {}], 2, Person("x"), {}) == [0, 1]
