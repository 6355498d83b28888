"""World-café rotation: which table each participant sits at in each round.

Rules, in priority order:

1. each participant visits as many different tables as the rounds allow (hosts excepted);
2. table sizes, hosts included, differ by at most one in every round;
3. people of the same organisation are spread out;
4. as many distinct pairs of people as possible meet at least once.

`plan_rotation` builds a plan, `random_plan` is the naive baseline, `score` measures both.

How a plan is built: up to two candidates, and the one with fewer same-organisation pairs, then more pairs
met, is kept.

- Cyclic (a prime number of tables, or any number whose prime factors are all >= rounds; hosts spread
  evenly): non-hosts follow itineraries a, a+k, a+2k, … that pairwise share at most one table, dealt so that
  colleagues take disjoint itineraries. It is returned at once when it reaches both the fewest possible
  same-organisation pairs and `pair_upper_bound` under rule 1, i.e. when it is provably optimal.
- Greedy: table sizes first (rotating big tables, or a small flow when hosts are uneven), then round by round
  each non-host takes the table, not yet visited, where they know fewest people; a swap search then raises
  the pairs met, itineraries are regrouped and exchanged to part colleagues, and a last swap search puts
  organisations first.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import ceil, comb

Plan = list[dict[str, int]]

_CANDIDATES = 4  # best movers per side tried together when looking for a swap between two tables
_PASSES_PER_EFFORT = 4  # sweeps over all rounds of the local search at effort 1.0
_ITINERARY_SWEEPS = 10  # sweeps of itinerary exchanges per pass
_ITINERARY_SAMPLE = 150  # partners tried for each person in an itinerary exchange
_EXCHANGE_SAMPLE = 40  # partners tried for each person when exchanging tables over several rounds
_EXCHANGE_BUDGET = 40_000  # partners examined per pass by an exchange search, so big plans stay fast


@dataclass(frozen=True)
class Person:
    """A participant: a unique id and, optionally, the organisation they come from."""

    id: str
    organisation: str | None = None


def plan_rotation(
    people: Sequence[Person],
    tables: int,
    rounds: int,
    *,
    seed: int = 0,
    hosts: Mapping[str, int] | None = None,
    effort: float = 1.0,
) -> Plan:
    """Return, for each round, a mapping person id -> table index (0..tables-1)."""
    _check_arguments(people, tables, rounds)
    host_table = _host_tables(people, tables, hosts)
    if effort < 0:
        raise ValueError(f"effort must be 0 or more, got {effort}")
    n = len(people)
    rng = random.Random(seed)
    org_of, org_members = _organisations(people)
    host_of = [host_table.get(person.id, -1) for person in people]
    host_counts = [0] * tables
    for table in host_of:
        if table >= 0:
            host_counts[table] += 1
    sizes = _table_sizes(n, tables, rounds, host_counts)
    # A same-organisation pair must outweigh any change in meetings one move or swap can make (rule 3 before 4).
    org_weight = 2 * max(max(row) for row in sizes) + 2
    org_others = [0] * n
    for members in org_members:
        mask = 0
        for p in members:
            mask |= 1 << p
        for p in members:
            org_others[p] = mask & ~(1 << p)

    passes = ceil(_PASSES_PER_EFFORT * effort)
    candidates: list[_Builder] = []

    rows = _cyclic_rows(org_of, host_of, tables, rounds, rng) if len(set(host_counts)) == 1 else None
    if rows is not None:
        cyclic = _Builder(n, tables, host_of, org_of, org_others, rng)
        cyclic.load(rows)
        cyclic.spread_organisations(passes, regroup=False)
        _polish(cyclic, passes, org_weight)
        candidates.append(cyclic)
        fewest_org_pairs = rounds * sum(_fewest_pairs(len(members), tables) for members in org_members)
        best_meetings = pair_upper_bound(n, tables, cyclic.sizes(), hosts_per_table=host_counts)
        if _quality(cyclic.table_of, org_of, tables) == (fewest_org_pairs, -best_meetings):
            return _as_plan(cyclic.table_of, people)

    greedy = _Builder(n, tables, host_of, org_of, org_others, rng)
    for start in range(0, rounds, tables):
        greedy.add_block([[s - h for s, h in zip(row, host_counts, strict=True)] for row in sizes[start : start + tables]])
    # Meetings first, blind to organisations: who meets whom depends only on the multiset of itineraries, and
    # groups that travel together (the best layouts) are hard to reach once organisations constrain every swap.
    for _ in range(passes):
        if not greedy.improve_all_rounds(0):
            break
    if rounds >= tables > 1:
        greedy.improve_by_exchanges(0, passes)
    greedy.spread_organisations(passes, regroup=True)
    _polish(greedy, passes, org_weight)
    candidates.append(greedy)
    best = min(candidates, key=lambda builder: _quality(builder.table_of, org_of, tables))
    return _as_plan(best.table_of, people)


def seat_latecomer(
    rounds: Sequence[Mapping[str, int]], tables: int, person: Person, organisations: Mapping[str, str | None]
) -> list[int]:
    """Return the tables, round by round, of someone who arrives once a plan is made, keeping its rules.

    Each round they take, among the tables they have not visited yet (rule 1), the emptiest (rule 2), then the one
    with fewest people of their organisation (rule 3), then the first.
    """
    if tables < 1:
        raise ValueError(f"tables must be at least 1, got {tables}")
    seats: list[int] = []
    for row in rounds:
        sizes, colleagues = [0] * tables, [0] * tables
        for pid, table in row.items():
            if pid != person.id and 0 <= table < tables:
                sizes[table] += 1
                if person.organisation is not None and organisations.get(pid) == person.organisation:
                    colleagues[table] += 1
        unvisited = [t for t in range(tables) if t not in seats] or list(range(tables))
        seats.append(min(unvisited, key=lambda t: (sizes[t], colleagues[t], t)))
    return seats


def random_plan(people: Sequence[Person], tables: int, rounds: int, seed: int = 0) -> Plan:
    """Return a random balanced plan: each round, shuffle the people and deal them round-robin to the tables."""
    _check_arguments(people, tables, rounds)
    rng = random.Random(seed)
    ids = [person.id for person in people]
    plan: Plan = []
    for _ in range(rounds):
        rng.shuffle(ids)
        plan.append({pid: position % tables for position, pid in enumerate(ids)})
    return plan


def score(plan: Plan, people: Sequence[Person], tables: int, *, hosts: Mapping[str, int] | None = None) -> dict:
    """Measure a plan against the four rules; pass the plan's hosts so that their fixed seats are not counted as repeats."""
    if tables < 1:
        raise ValueError(f"tables must be at least 1, got {tables}")
    ids = [person.id for person in people]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate person ids")
    index = {pid: p for p, pid in enumerate(ids)}
    n = len(ids)
    host_ids = set(hosts or ())
    org_of, _ = _organisations(people)
    met = [0] * n
    visited: list[list[int]] = [[] for _ in range(n)]
    sizes: list[list[int]] = []
    same_org_pairs = 0
    for number, row in enumerate(plan):
        if set(row) != set(index):
            raise ValueError(f"round {number} does not place exactly the given people")
        masks = [0] * tables
        org_counts: list[dict[int, int]] = [{} for _ in range(tables)]
        for pid, table in row.items():
            if not 0 <= table < tables:
                raise ValueError(f"round {number} puts {pid!r} at table {table}, expected 0..{tables - 1}")
            p = index[pid]
            masks[table] |= 1 << p
            visited[p].append(table)
            if org_of[p] >= 0:
                counts = org_counts[table]
                same_org_pairs += counts.get(org_of[p], 0)
                counts[org_of[p]] = counts.get(org_of[p], 0) + 1
        for pid, table in row.items():
            met[index[pid]] |= masks[table]
        sizes.append([mask.bit_count() for mask in masks])
    distinct_pairs_met = (sum(mask.bit_count() for mask in met) - n) // 2 if plan else 0
    bound = pair_upper_bound(n, tables, sizes)
    hosts_per_table = [0] * tables
    for pid, table in (hosts or {}).items():
        if pid in index and 0 <= table < tables:
            hosts_per_table[table] += 1
    return {
        "distinct_pairs_met": distinct_pairs_met,
        "upper_bound": bound,
        "share_of_bound": distinct_pairs_met / bound if bound else 1.0,
        # Only meaningful for plans that keep rule 1, which random plans do not.
        "upper_bound_rule1": pair_upper_bound(n, tables, sizes, hosts_per_table=hosts_per_table),
        "max_size_spread": max((max(row) - min(row) for row in sizes), default=0),
        "repeat_visits": sum(len(seen) - len(set(seen)) for pid, seen in zip(ids, visited, strict=True) if pid not in host_ids),
        "same_org_pairs": same_org_pairs,
    }


def fewest_same_org_pairs(people: Sequence[Person], tables: int, rounds: int) -> int:
    """Return the same-organisation pairs no plan can avoid: every organisation spread evenly over the tables."""
    total = 0
    for size in Counter(p.organisation for p in people if p.organisation is not None).values():
        base, extra = divmod(size, tables)
        total += extra * comb(base + 1, 2) + (tables - extra) * comb(base, 2)
    return rounds * total


def pair_upper_bound(
    people: int, tables: int, sizes: Sequence[Sequence[int]], *, hosts_per_table: Sequence[int] | None = None
) -> int:
    """Return an upper bound on the distinct pairs that can meet, given each round's table sizes."""
    # Let P_r be the set of pairs sharing a table in round r, so |P_r| = sum of C(size, 2) over its tables.
    # Hunter's bound on a union, with the path 1 - 2 - … - R as spanning tree, gives
    #     |P_1 ∪ … ∪ P_R| <= sum |P_r| - sum over r >= 2 of |P_{r-1} ∩ P_r|.
    # Two rounds split the people into tables × tables cells (table in the first round, table in the
    # second); the pairs meeting in both rounds are the pairs inside a cell, at least the sum of C(x, 2)
    # with the people spread as evenly as possible over the cells (C(x, 2) is convex). The result is also
    # capped by C(people, 2). It holds for any plan with these table sizes.
    # With `hosts_per_table` and at most `tables` rounds, the bound holds only for plans that keep rule 1, and is
    # tighter: a non-host never sits at the same table twice, so non-hosts fill only the tables × (tables - 1)
    # off-diagonal cells and the diagonal cells hold the hosts alone.
    rounds = len(sizes)
    total = sum(comb(size, 2) for row in sizes for size in row)
    if rounds < 2:
        least_overlap = 0
    elif hosts_per_table is not None and rounds <= tables:
        movers = people - sum(hosts_per_table)
        least_overlap = sum(comb(hosted, 2) for hosted in hosts_per_table) + _fewest_pairs(movers, tables * (tables - 1))
    else:
        least_overlap = _fewest_pairs(people, tables * tables)
    return max(0, min(comb(people, 2), total - (rounds - 1) * least_overlap))


def _fewest_pairs(people: int, groups: int) -> int:
    """Return the fewest pairs sharing a group when people are split into groups (as evenly as possible)."""
    if groups < 1:
        return comb(people, 2)
    base, extra = divmod(people, groups)
    return extra * comb(base + 1, 2) + (groups - extra) * comb(base, 2)


def _as_plan(rows: list[list[int]], people: Sequence[Person]) -> Plan:
    """Turn rows of table numbers into the public plan."""
    return [{person.id: row[p] for p, person in enumerate(people)} for row in rows]


def _polish(builder: _Builder, passes: int, org_weight: int) -> None:
    """Run the swap search, organisations first, until it stalls or the passes run out."""
    for _ in range(passes):
        if not builder.improve_all_rounds(org_weight):
            return


def _check_arguments(people: Sequence[Person], tables: int, rounds: int) -> None:
    """Raise ValueError for arguments no plan can be made from."""
    if tables < 1:
        raise ValueError(f"tables must be at least 1, got {tables}")
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    if not people:
        raise ValueError("no people to place: give at least one Person")
    seen: set[str] = set()
    duplicates = sorted({person.id for person in people if person.id in seen or seen.add(person.id)})
    if duplicates:
        raise ValueError(f"duplicate person ids: {', '.join(map(repr, duplicates))}")


def _host_tables(people: Sequence[Person], tables: int, hosts: Mapping[str, int] | None) -> dict[str, int]:
    """Check the hosts mapping and return it as a dict."""
    known = {person.id for person in people}
    for pid, table in (hosts or {}).items():
        if pid not in known:
            raise ValueError(f"host {pid!r} is not one of the people")
        if not isinstance(table, int) or not 0 <= table < tables:
            raise ValueError(f"host {pid!r} is given table {table!r}, expected 0..{tables - 1}")
    return dict(hosts or {})


def _organisations(people: Sequence[Person]) -> tuple[list[int], list[list[int]]]:
    """Number the organisations: each person's organisation number (-1 for none) and each organisation's members."""
    numbers: dict[str, int] = {}
    members: list[list[int]] = []
    org_of = []
    for p, person in enumerate(people):
        if person.organisation is None:
            org_of.append(-1)
            continue
        number = numbers.setdefault(person.organisation, len(numbers))
        if number == len(members):
            members.append([])
        members[number].append(p)
        org_of.append(number)
    return org_of, members


def _table_sizes(people: int, tables: int, rounds: int, host_counts: list[int]) -> list[list[int]]:
    """Choose every round's table sizes, hosts included: balanced, and letting every non-host visit distinct tables."""
    movers = people - sum(host_counts)
    sizes: list[list[int]] = []
    for start in range(0, rounds, tables):
        sizes.extend(_block_sizes(people, tables, min(tables, rounds - start), host_counts, movers))
    return sizes


def _block_sizes(people: int, tables: int, length: int, host_counts: list[int], movers: int) -> list[list[int]]:
    """Table sizes for a block of at most `tables` rounds in which every non-host visits distinct tables."""
    # Non-hosts can visit distinct tables iff no table offers more non-host seats over the block than there are non-hosts (König:
    # the rounds × tables multigraph of non-host seats then splits into one matching per non-host). The big tables rotate, which
    # meets that whenever hosts are spread evenly; otherwise a small flow finds balanced sizes, and only if none exists (hosts
    # piled on few tables) is the spread widened.
    low, extra = divmod(people, tables)
    rotation = [[low + ((t - r * extra) % tables < extra) for t in range(tables)] for r in range(length)]
    if _seats_fit(rotation, host_counts, movers):
        return rotation
    lo, hi = 1, max(1, people)
    best = _sizes_within_spread(people, tables, length, host_counts, movers, hi)
    while lo < hi:
        middle = (lo + hi) // 2
        found = _sizes_within_spread(people, tables, length, host_counts, movers, middle)
        if found is None:
            lo = middle + 1
        else:
            hi, best = middle, found
    assert best is not None  # spread = people always fits
    return best


def _seats_fit(sizes: list[list[int]], host_counts: list[int], movers: int) -> bool:
    """Tell whether sizes leave room for the hosts and let every non-host visit distinct tables."""
    for t, hosted in enumerate(host_counts):
        if any(row[t] < hosted for row in sizes) or sum(row[t] - hosted for row in sizes) > movers:
            return False
    return True


def _sizes_within_spread(
    people: int, tables: int, length: int, host_counts: list[int], movers: int, spread: int
) -> list[list[int]] | None:
    """Find sizes within [lowest, lowest + spread] in every round that fit hosts and distinct visits, or None."""
    for lowest in range(people // tables, max(0, -(-people // tables) - spread) - 1, -1):
        base = [max(0, lowest - hosted) for hosted in host_counts]
        room = [lowest + spread - hosted - b for hosted, b in zip(host_counts, base, strict=True)]
        needed = movers - sum(base)
        column_room = [movers - length * b for b in base]
        if needed < 0 or min(room) < 0 or min(column_room) < 0:
            continue
        # Nodes: 0 source, 1..length rounds, then tables, then the sink.
        sink = length + tables + 1
        capacity = [[0] * (sink + 1) for _ in range(sink + 1)]
        for r in range(length):
            capacity[0][1 + r] = needed
            for t in range(tables):
                capacity[1 + r][1 + length + t] = room[t]
        for t in range(tables):
            capacity[1 + length + t][sink] = column_room[t]
        flow = _max_flow(capacity, 0, sink)
        if sum(flow[0]) == needed * length:
            return [[base[t] + host_counts[t] + flow[1 + r][1 + length + t] for t in range(tables)] for r in range(length)]
    return None


def _max_flow(capacity: list[list[int]], source: int, sink: int) -> list[list[int]]:
    """Edmonds–Karp on a small dense graph; return the flow matrix."""
    size = len(capacity)
    flow = [[0] * size for _ in range(size)]
    while True:
        parent = [-1] * size
        parent[source] = source
        queue = [source]
        for u in queue:
            for v in range(size):
                if parent[v] < 0 and capacity[u][v] > flow[u][v]:
                    parent[v] = u
                    queue.append(v)
        if parent[sink] < 0:
            return flow
        push, v = None, sink
        while v != source:
            u = parent[v]
            push = capacity[u][v] - flow[u][v] if push is None else min(push, capacity[u][v] - flow[u][v])
            v = u
        v = sink
        while v != source:
            u = parent[v]
            flow[u][v] += push
            flow[v][u] -= push
            v = u


def _trajectories(seats: list[list[int]], movers: int) -> list[list[int]]:
    """Split a block's non-host seats (rounds × tables) into one list of distinct tables per non-host."""
    # Padding with dummy rounds makes the multigraph `movers`-regular on tables × tables; a regular bipartite multigraph has a
    # perfect matching, and removing it keeps it regular.
    tables = len(seats[0])
    multiplicity = [row[:] for row in seats]
    deficits = [movers - sum(row[t] for row in seats) for t in range(tables)]
    for _ in range(tables - len(seats)):
        row, wanted = [0] * tables, movers
        for t in range(tables):
            taken = min(wanted, deficits[t])
            row[t], deficits[t], wanted = taken, deficits[t] - taken, wanted - taken
        multiplicity.append(row)
    paths: list[list[int]] = []
    while len(paths) < movers:
        match = _perfect_matching(multiplicity)
        copies = min(multiplicity[r][match[r]] for r in range(tables))
        for r in range(tables):
            multiplicity[r][match[r]] -= copies
        paths.extend([match[: len(seats)]] * copies)
    return paths


def _perfect_matching(multiplicity: list[list[int]]) -> list[int]:
    """Return row -> column of a perfect matching of a regular bipartite multigraph (Kuhn's algorithm)."""
    size = len(multiplicity)
    row_of = [-1] * size

    def augment(r: int, seen: list[bool]) -> bool:
        for c in range(size):
            if multiplicity[r][c] and not seen[c]:
                seen[c] = True
                if row_of[c] < 0 or augment(row_of[c], seen):
                    row_of[c] = r
                    return True
        return False

    for r in range(size):
        augment(r, [False] * size)
    column_of = [0] * size
    for c, r in enumerate(row_of):
        column_of[r] = c
    return column_of


def _cyclic_rows(org_of: list[int], host_of: list[int], tables: int, rounds: int, rng: random.Random) -> list[list[int]] | None:
    """Lay non-hosts out on cyclic itineraries, organisations packed apart; None unless `tables` suits them."""
    # Itinerary (start a, step k) visits tables a, a+k, a+2k, … (mod tables). When every prime factor of `tables` is at least
    # `rounds` (a prime number of tables, say), every step 1..tables-1 visits distinct tables (rule 1), and two itineraries of
    # different steps share at most one table, since j·(k - k') ≡ a' - a has at most one solution j below `rounds`. Non-hosts are
    # dealt in bins of `tables` people, each bin on one step and every member of a bin on its own start, so tables stay balanced
    # (rule 2), a bin never seats two people together (rule 3 when an organisation fits in a bin), and the only pairs meeting more
    # than once are people on the same itinerary, the fewest wasted meetings (rule 4).
    if tables < 2 or any(tables % factor == 0 for factor in range(2, min(rounds, tables))):
        return None
    steps = range(1, tables)
    movers = [p for p, table in enumerate(host_of) if table < 0]
    rows = [host_of[:] for _ in range(rounds)]
    if not movers:
        return rows
    rng.shuffle(movers)
    bins = -(-len(movers) // tables)
    room = [tables] * bins
    room[-1] = len(movers) - (bins - 1) * tables
    contents: list[list[int]] = [[] for _ in range(bins)]
    groups: dict[int, list[int]] = {}
    loose = []
    for p in movers:
        if org_of[p] < 0:
            loose.append(p)
        else:
            groups.setdefault(org_of[p], []).append(p)
    parts = [members[i : i + tables] for members in groups.values() for i in range(0, len(members), tables)]
    parts.sort(key=len, reverse=True)
    for part in parts:
        fitting = [b for b in range(bins) if room[b] >= len(part)]
        if fitting:
            chosen = min(fitting, key=lambda b: room[b])
            contents[chosen].extend(part)
            room[chosen] -= len(part)
            continue
        # No bin holds the whole part: split it over the emptiest bins; the exchanges that follow tidy up.
        while part:
            chosen = max(range(bins), key=lambda b: room[b])
            taken = min(room[chosen], len(part))
            contents[chosen].extend(part[:taken])
            room[chosen] -= taken
            part = part[taken:]
    for b in range(bins):
        contents[b].extend(loose[: room[b]])
        loose = loose[room[b] :]
    for b, members in enumerate(contents):
        step = steps[b % len(steps)]
        starts = rng.sample(range(tables), len(members))
        for p, first in zip(members, starts, strict=True):
            for r, row in enumerate(rows):
                row[p] = (first + r * step) % tables
    return rows


def _quality(rows: list[list[int]], org_of: list[int], tables: int) -> tuple[int, int]:
    """Rank a layout, lower is better: same-organisation pairs (rule 3), then minus the distinct pairs met (rule 4)."""
    n = len(org_of)
    met = [0] * n
    same_org = 0
    for row in rows:
        masks = [0] * tables
        counts: dict[tuple[int, int], int] = {}
        for p, table in enumerate(row):
            masks[table] |= 1 << p
            if org_of[p] >= 0:
                key = (table, org_of[p])
                same_org += counts.get(key, 0)
                counts[key] = counts.get(key, 0) + 1
        for p, table in enumerate(row):
            met[p] |= masks[table]
    return same_org, -((sum(mask.bit_count() for mask in met) - n) // 2)


class _Builder:
    """The plan under construction: who sits where, as table numbers and as bitmasks of people per table."""

    def __init__(
        self,
        people: int,
        tables: int,
        host_of: list[int],
        org_of: list[int],
        org_others: list[int],
        rng: random.Random,
    ) -> None:
        self.n = people
        self.tables = tables
        self.host_of = host_of
        self.org_of = org_of
        self.org_others = org_others
        self.rng = rng
        self.movers = [p for p in range(people) if host_of[p] < 0]
        self.table_of: list[list[int]] = []
        self.masks: list[list[int]] = []
        self.visits = [[0] * tables for _ in range(people)]
        self.met = [0] * people

    def add_block(self, seats: list[list[int]]) -> None:
        """Add up to `tables` rounds in which non-hosts visit distinct tables, given non-host seats per table."""
        first = len(self.table_of)
        block_visits = [0] * self.n
        for row in seats:
            placed = self._greedy_round(row, block_visits)
            if placed is None:
                # The greedy choices of earlier rounds left no way to finish the block: rebuild it safely.
                del self.table_of[first:], self.masks[first:]
                self._add_rows(self._block_from_trajectories(seats))
                self._recount()
                return
            self._add_rows([placed])
            for p, table in enumerate(placed):
                block_visits[p] |= 1 << table

    def sizes(self) -> list[list[int]]:
        """Return each round's table sizes."""
        return [[mask.bit_count() for mask in masks] for masks in self.masks]

    def load(self, rows: list[list[int]]) -> None:
        """Start from finished rounds."""
        self._add_rows(rows)

    def _add_rows(self, rows: list[list[int]]) -> None:
        """Append finished rounds and record visits and meetings."""
        for row in rows:
            masks = [0] * self.tables
            for p, table in enumerate(row):
                masks[table] |= 1 << p
            for p, table in enumerate(row):
                self.visits[p][table] += 1
                self.met[p] |= masks[table]
            self.table_of.append(row)
            self.masks.append(masks)

    def _greedy_round(self, seats: list[int], block_visits: list[int]) -> list[int] | None:
        """Seat non-hosts one by one at the cheapest allowed table with room; None if no complete round exists."""
        n, tables = self.n, self.tables
        table_of = [-1] * n
        masks = [0] * tables
        members: list[list[int]] = [[] for _ in range(tables)]
        free = seats[:]
        for p, table in enumerate(self.host_of):
            if table >= 0:
                table_of[p] = table
                masks[table] |= 1 << p
        order = self.movers[:]
        self.rng.shuffle(order)
        offset = self.rng.randrange(tables)
        for p in order:
            met, visited = self.met[p], block_visits[p]
            best, best_key = -1, None
            for t in range(tables):
                if free[t] and not visited >> t & 1:
                    mask = masks[t]
                    key = ((met & mask).bit_count(), -free[t], (t - offset) % tables)
                    if best_key is None or key < best_key:
                        best, best_key = t, key
            if best < 0:
                best = self._make_room(p, free, members, table_of, masks, block_visits)
                if best < 0:
                    return None
            table_of[p] = best
            masks[best] |= 1 << p
            members[best].append(p)
            free[best] -= 1
        return table_of

    def _make_room(
        self,
        p: int,
        free: list[int],
        members: list[list[int]],
        table_of: list[int],
        masks: list[int],
        block_visits: list[int],
    ) -> int:
        """Free a seat for p at a table p may visit by moving people along a chain of tables; -1 if impossible."""
        tables = self.tables
        came_from: dict[int, tuple[int, int] | None] = {}
        queue = []
        for t in range(tables):
            if not block_visits[p] >> t & 1:
                came_from[t] = None
                queue.append(t)
        end = -1
        for table in queue:
            if free[table]:
                end = table
                break
            for q in members[table]:
                for t in range(tables):
                    if t not in came_from and not block_visits[q] >> t & 1:
                        came_from[t] = (table, q)
                        queue.append(t)
        if end < 0:
            return -1
        while came_from[end] is not None:
            source, q = came_from[end]
            members[source].remove(q)
            masks[source] &= ~(1 << q)
            members[end].append(q)
            masks[end] |= 1 << q
            table_of[q] = end
            free[end] -= 1
            free[source] += 1
            end = source
        return end

    def _block_from_trajectories(self, seats: list[list[int]]) -> list[list[int]]:
        """Build a block from a König decomposition of its seats, non-hosts in random order."""
        order = self.movers[:]
        self.rng.shuffle(order)
        rows = [self.host_of[:] for _ in seats]
        for p, path in zip(order, _trajectories(seats, len(order)), strict=True):
            for row, table in zip(rows, path, strict=True):
                row[p] = table
        return rows

    def improve_all_rounds(self, org_weight: int) -> bool:
        """Run the swap search on every round in turn; tell whether anything improved."""
        improved = False
        for r in range(len(self.table_of)):
            improved |= self._improve_round(r, org_weight)
        return improved

    def spread_organisations(self, sweeps: int, *, regroup: bool) -> None:
        """Reassign the non-hosts' itineraries so as to minimise same-organisation pairs."""
        # With `regroup`, everyone first takes a new itinerary, greedily, from the same multiset of itineraries: table sizes,
        # visits and the pairs that meet stay as they were. Then pairs of people exchange their tables over some rounds (see
        # `_exchange_itineraries`).
        org_of, movers = self.org_of, self.movers
        organisations = max(org_of, default=-1) + 1
        if not organisations or not movers:
            return
        rounds = len(self.table_of)
        counts = [[[0] * organisations for _ in range(self.tables)] for _ in range(rounds)]
        for count, row in zip(counts, self.table_of, strict=True):
            for p in range(self.n):
                if self.host_of[p] >= 0 and org_of[p] >= 0:
                    count[row[p]][org_of[p]] += 1
        if regroup:
            self._regroup(counts)
            self._recount()
        else:
            for count, row in zip(counts, self.table_of, strict=True):
                for p in movers:
                    if org_of[p] >= 0:
                        count[row[p]][org_of[p]] += 1
        # Whole itineraries first, which keeps every meeting; partial exchanges only for what remains.
        self._exchange_itineraries(counts, sweeps, partial=False)
        self._exchange_itineraries(counts, sweeps, partial=True)

    def _recount(self) -> None:
        """Rebuild the bitmasks, visit counts and meetings from the table numbers."""
        rows = self.table_of
        self.table_of, self.masks = [], []
        self.visits = [[0] * self.tables for _ in range(self.n)]
        self.met = [0] * self.n
        self._add_rows(rows)

    def _regroup(self, counts: list[list[list[int]]]) -> None:
        """Give every non-host an itinerary again, big organisations first, each where it meets fewest colleagues."""
        org_of, rng, movers = self.org_of, self.rng, self.movers
        organisations = len(counts[0][0])
        left: dict[tuple[int, ...], int] = {}
        for p in movers:
            path = tuple(row[p] for row in self.table_of)
            left[path] = left.get(path, 0) + 1
        paths = list(left)
        rng.shuffle(paths)
        org_sizes = [0] * organisations
        for p in movers:
            if org_of[p] >= 0:
                org_sizes[org_of[p]] += 1
        order = movers[:]
        rng.shuffle(order)
        # Big organisations first, while itineraries apart from their colleagues are still free.
        order.sort(key=lambda p: -org_sizes[org_of[p]] if org_of[p] >= 0 else 1)
        for p in order:
            org = org_of[p]
            free = [path for path in paths if left[path]]
            if org < 0:
                best = free[0]
            else:
                best = min(
                    free, key=lambda path: (sum(count[t][org] for count, t in zip(counts, path, strict=True)), -left[path])
                )
            left[best] -= 1
            for count, row, t in zip(counts, self.table_of, best, strict=True):
                row[p] = t
                if org >= 0:
                    count[t][org] += 1

    def _exchange_itineraries(self, counts: list[list[list[int]]], sweeps: int, *, partial: bool) -> None:
        """Let a person with a colleague at their table exchange tables with someone else over some rounds."""
        # Two people may exchange over a set of rounds closed under "the table one gets is one the other leaves elsewhere in the
        # set", so that visits stay as even as before (rule 1); sizes never change (rule 2). All the rounds where they sit apart
        # form such a set and leave the pairs met unchanged. The best exchange is taken when it removes same-organisation pairs
        # (rule 3) or, with as many of those, meets more people (rule 4); exchanges that change nothing are taken now and then, to
        # walk off plateaus.
        org_of, rng, rows, masks, visits = self.org_of, self.rng, self.table_of, self.masks, self.visits
        rounds, tables = len(rows), self.tables
        fewest_visits, most_visits = rounds // tables, -(-rounds // tables)
        org_sizes = [0] * len(counts[0][0])
        for org in org_of:
            if org >= 0:
                org_sizes[org] += 1
        fewest = [rounds * _fewest_pairs(size, tables) for size in org_sizes]
        pool = self.movers[:]
        rng.shuffle(pool)
        sample = min(len(pool), _ITINERARY_SAMPLE if not partial else _EXCHANGE_SAMPLE)
        budget = _EXCHANGE_BUDGET * sweeps
        stale = 0
        for _ in range(_ITINERARY_SWEEPS * sweeps):
            pairs = [0] * len(org_sizes)
            for count in counts:
                for at_table in count:
                    for org, present in enumerate(at_table):
                        pairs[org] += present * (present - 1) // 2
            # Organisations already at their fewest possible pairs cannot gain from an exchange.
            crowded = [
                p
                for p in pool
                if org_of[p] >= 0
                and pairs[org_of[p]] > fewest[org_of[p]]
                and any(c[row[p]][org_of[p]] > 1 for c, row in zip(counts, rows, strict=True))
            ]
            if not crowded:
                return
            improved = False
            for p in crowded:
                if budget <= 0:
                    return
                budget -= sample
                org_p = org_of[p]
                met_p = 0
                for row, masks_r in zip(rows, masks, strict=True):
                    met_p |= masks_r[row[p]]
                start = rng.randrange(len(pool))
                # Among exchanges that remove same-organisation pairs, the one losing fewest meetings.
                best, chosen = (True, 0, 0), None
                for q in (pool[start:] + pool[:start])[:sample]:
                    org_q = org_of[q]
                    if org_q == org_p:
                        continue
                    apart = [r for r in range(rounds) if rows[r][p] != rows[r][q]]
                    changes = []
                    for r in apart:
                        x, y = rows[r][p], rows[r][q]
                        change = counts[r][y][org_p] - counts[r][x][org_p] + 1
                        if org_q >= 0:
                            change += counts[r][x][org_q] - counts[r][y][org_q] + 1
                        changes.append(change)
                    whole = sum(changes)
                    key = (whole >= 0, 0, whole)
                    if whole <= 0 and (key < best or key == best and (chosen is None or rng.random() < 0.5)):
                        best, chosen = key, (q, apart)
                    for part in self._closed_parts(p, q, apart) if partial else ():
                        if len(part) == len(apart):
                            continue
                        change = sum(changes[apart.index(r)] for r in part)
                        if change > 0 or (change == 0 and not best[0]):
                            continue
                        if not self._stays_even(p, q, part, fewest_visits, most_visits):
                            continue
                        gain = self._meetings_gained(p, q, part, met_p)
                        key = (change >= 0, -gain, change)
                        if key < best and (change < 0 or gain > 0):
                            best, chosen = key, (q, part)
                if chosen is None:
                    continue
                improved |= not best[0] or best[1] < 0
                q, part = chosen
                org_q = org_of[q]
                both = 1 << p | 1 << q
                for r in part:
                    x, y = rows[r][p], rows[r][q]
                    rows[r][p], rows[r][q] = y, x
                    masks[r][x] ^= both
                    masks[r][y] ^= both
                    visits[p][x] -= 1
                    visits[p][y] += 1
                    visits[q][y] -= 1
                    visits[q][x] += 1
                    counts[r][x][org_p] -= 1
                    counts[r][y][org_p] += 1
                    if org_q >= 0:
                        counts[r][y][org_q] -= 1
                        counts[r][x][org_q] += 1
            stale = 0 if improved else stale + 1
            if stale >= 3:
                return

    def improve_by_exchanges(self, org_weight: int, sweeps: int) -> bool:
        """Let pairs of people exchange tables over closed sets of rounds while it lowers the penalty."""
        # The moves of `_improve_round` keep rule 1 only when someone has a table left to visit; once every table is visited (as
        # many rounds as tables) only exchanges over several rounds remain.
        rows, masks, org_of, org_others, rng = self.table_of, self.masks, self.org_of, self.org_others, self.rng
        rounds, tables = len(rows), self.tables
        fewest_visits, most_visits = rounds // tables, -(-rounds // tables)
        pool = self.movers[:]
        sample = min(len(pool), _EXCHANGE_SAMPLE)
        budget = _EXCHANGE_BUDGET * sweeps
        improved = False
        for _ in range(sweeps):
            changed = False
            rng.shuffle(pool)
            for p in pool:
                if budget <= 0:
                    return improved
                budget -= sample
                met_p = 0
                for row, masks_r in zip(rows, masks, strict=True):
                    met_p |= masks_r[row[p]]
                colleagues_p = org_others[p]
                start = rng.randrange(len(pool))
                best, chosen = 0, None
                for q in (pool[start:] + pool[:start])[:sample]:
                    apart = [r for r in range(rounds) if rows[r][p] != rows[r][q]]
                    parts = self._closed_parts(p, q, apart)
                    if len(parts) < 2:
                        continue
                    colleagues_q = org_others[q]
                    same_org = org_of[p] == org_of[q] >= 0
                    for part in parts:
                        if not self._stays_even(p, q, part, fewest_visits, most_visits):
                            continue
                        penalty = 0
                        if not same_org:
                            for r in part:
                                at_p, at_q = masks[r][rows[r][p]], masks[r][rows[r][q]]
                                penalty += (colleagues_p & at_q).bit_count() - (colleagues_p & at_p).bit_count()
                                penalty += (colleagues_q & at_p).bit_count() - (colleagues_q & at_q).bit_count()
                        delta = org_weight * penalty - self._meetings_gained(p, q, part, met_p)
                        if delta < best:
                            best, chosen = delta, (q, part)
                if chosen is None:
                    continue
                q, part = chosen
                self._exchange(p, q, part)
                changed = improved = True
            if not changed:
                break
        return improved

    def _exchange(self, p: int, q: int, part: list[int]) -> None:
        """Exchange p's and q's tables in the rounds of `part`."""
        both = 1 << p | 1 << q
        for r in part:
            row, masks = self.table_of[r], self.masks[r]
            x, y = row[p], row[q]
            row[p], row[q] = y, x
            masks[x] ^= both
            masks[y] ^= both
            self.visits[p][x] -= 1
            self.visits[p][y] += 1
            self.visits[q][y] -= 1
            self.visits[q][x] += 1

    def _closed_parts(self, p: int, q: int, apart: list[int]) -> list[list[int]]:
        """Split the rounds where p and q sit apart into the smallest sets they can exchange tables over."""
        rows = self.table_of
        rounds_of_p: dict[int, list[int]] = {}
        rounds_of_q: dict[int, list[int]] = {}
        for r in apart:
            rounds_of_p.setdefault(rows[r][p], []).append(r)
            rounds_of_q.setdefault(rows[r][q], []).append(r)
        parts = []
        placed: set[int] = set()
        for r in apart:
            if r in placed:
                continue
            placed.add(r)
            part = [r]
            for s in part:
                # p takes q's table of round s, so p's own rounds at that table follow; likewise for q.
                for t in rounds_of_p.get(rows[s][q], []) + rounds_of_q.get(rows[s][p], []):
                    if t not in placed:
                        placed.add(t)
                        part.append(t)
            parts.append(part)
        return parts

    def _stays_even(self, p: int, q: int, part: list[int], fewest: int, most: int) -> bool:
        """Tell whether exchanging p's and q's tables over `part` keeps both people's visits even (rule 1)."""
        rows = self.table_of
        for person, other in ((p, q), (q, p)):
            visits = self.visits[person][:]
            for r in part:
                visits[rows[r][person]] -= 1
                visits[rows[r][other]] += 1
            if min(visits) < fewest or max(visits) > most:
                return False
        return True

    def _meetings_gained(self, p: int, q: int, part: list[int], met_p: int) -> int:
        """Return how many more distinct pairs meet if p and q exchange tables over `part`."""
        rows, masks = self.table_of, self.masks
        both = 1 << p | 1 << q
        met_q = new_p = new_q = 0
        for r, (row, masks_r) in enumerate(zip(rows, masks, strict=True)):
            at_p, at_q = masks_r[row[p]], masks_r[row[q]]
            met_q |= at_q
            if r in part:
                new_p |= at_q ^ both
                new_q |= at_p ^ both
            else:
                new_p |= at_p
                new_q |= at_q
        # Pairs that involve neither p nor q do not change; the pair p-q shows in both masks.
        before = met_p.bit_count() + met_q.bit_count() - (met_p >> q & 1)
        after = new_p.bit_count() + new_q.bit_count() - (new_p >> q & 1)
        return after - before

    def _improve_round(self, r: int, weight: int) -> bool:
        """Swap pairs of people between two tables of round r while it lowers the round's penalty."""
        # The penalty is org_weight per same-organisation pair plus one per pair that also meets in another round; with the other
        # rounds fixed, lowering it raises the distinct pairs met by as much.
        n, tables = self.n, self.tables
        row, masks, visits = self.table_of[r], self.masks[r], self.visits
        org_others = self.org_others
        other = [0] * n
        for s, (row_s, masks_s) in enumerate(zip(self.table_of, self.masks, strict=True)):
            if s != r:
                for p in range(n):
                    other[p] |= masks_s[row_s[p]]
        for p in range(n):
            other[p] &= ~(1 << p)
        members: list[list[int]] = [[] for _ in range(tables)]
        for p in self.movers:
            members[row[p]].append(p)
        pairs = [(a, b) for a in range(tables) for b in range(a + 1, tables)]
        improved = False
        while True:
            swapped = False
            self.rng.shuffle(pairs)
            for a, b in pairs:
                while True:
                    mask_a, mask_b = masks[a], masks[b]
                    leaving_a = []
                    for p in members[a]:
                        # Moving p from a to b must not make its table visits less even (rule 1).
                        if visits[p][b] < visits[p][a]:
                            o, c = other[p], org_others[p]
                            gain = (o & mask_b).bit_count() - (o & mask_a).bit_count()
                            gain += weight * ((c & mask_b).bit_count() - (c & mask_a).bit_count())
                            leaving_a.append((gain, p))
                    if not leaving_a:
                        break
                    leaving_b = []
                    for q in members[b]:
                        if visits[q][a] < visits[q][b]:
                            o, c = other[q], org_others[q]
                            gain = (o & mask_a).bit_count() - (o & mask_b).bit_count()
                            gain += weight * ((c & mask_a).bit_count() - (c & mask_b).bit_count())
                            leaving_b.append((gain, q))
                    if not leaving_b:
                        break
                    leaving_a.sort()
                    leaving_b.sort()
                    best, chosen = 0, None
                    for gain_p, p in leaving_a[:_CANDIDATES]:
                        o, c = other[p], org_others[p]
                        for gain_q, q in leaving_b[:_CANDIDATES]:
                            # p and q stop counting each other once they trade places.
                            delta = gain_p + gain_q - 2 * ((o >> q & 1) + weight * (c >> q & 1))
                            if delta < best:
                                best, chosen = delta, (p, q)
                    if chosen is None:
                        break
                    p, q = chosen
                    both = 1 << p | 1 << q
                    masks[a] ^= both
                    masks[b] ^= both
                    row[p], row[q] = b, a
                    members[a][members[a].index(p)] = q
                    members[b][members[b].index(q)] = p
                    visits[p][a] -= 1
                    visits[p][b] += 1
                    visits[q][b] -= 1
                    visits[q][a] += 1
                    swapped = improved = True
            if not swapped:
                return improved
