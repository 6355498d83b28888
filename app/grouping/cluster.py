"""Average-linkage clustering of a similarity matrix, with pairs people said belong together or apart."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def components(n: int, links: Iterable[tuple[int, int]]) -> list[int]:
    """Return, per item, the smallest item it is linked to through `links` (a union-find's roots)."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [root(i) for i in range(n)]


def average_linkage(similarity: np.ndarray, threshold: float, together: Iterable[tuple[int, int]] = (),
                    apart: Iterable[tuple[int, int]] = ()) -> list[list[int]]:
    """Return clusters of item indices: pairs `together` start in one cluster, no cluster holds a pair `apart`.

    Two clusters merge while the mean similarity of their members' pairs is at least `threshold`, best first.
    Each cluster keeps its best neighbour, so a merge recomputes only the merged row and the rows that pointed at
    the pair (a merged mean never exceeds the better of the two it replaces): about n² work rather than n³.
    """
    n = len(similarity)
    if n == 0:
        return []
    roots = components(n, together)
    starts = sorted(set(roots))
    index = {r: k for k, r in enumerate(starts)}
    members: list[list[int]] = [[] for _ in starts]
    for i, r in enumerate(roots):
        members[index[r]].append(i)
    m = len(members)
    indicator = np.zeros((m, n))
    for k, items in enumerate(members):
        indicator[k, items] = 1.0 / len(items)
    link = indicator @ np.asarray(similarity, dtype=float) @ indicator.T
    # A pair kept apart makes every cluster pair containing it -inf, and averaging keeps it so.
    for a, b in apart:
        ka, kb = index[roots[a]], index[roots[b]]
        link[ka, kb] = link[kb, ka] = -np.inf
    np.fill_diagonal(link, -np.inf)
    size = np.array([len(items) for items in members], dtype=float)
    best = np.argmax(link, axis=1)
    best_value = link[np.arange(m), best]
    alive = np.ones(m, dtype=bool)
    while True:
        i = int(np.argmax(np.where(alive, best_value, -np.inf)))
        if not alive[i] or best_value[i] < threshold:
            break
        j = int(best[i])
        with np.errstate(invalid="ignore"):
            row = (link[i] * size[i] + link[j] * size[j]) / (size[i] + size[j])
        row[np.isnan(row)] = -np.inf
        row[i] = row[j] = -np.inf
        link[i], link[:, i] = row, row
        link[j], link[:, j] = -np.inf, -np.inf
        size[i] += size[j]
        members[i] += members[j]
        members[j] = []
        alive[j], best_value[j] = False, -np.inf
        stale = np.flatnonzero(alive & ((best == i) | (best == j)))
        stale = np.union1d(stale, [i])
        best[stale] = np.argmax(link[stale], axis=1)
        best_value[stale] = link[stale, best[stale]]
    return [sorted(items) for items in members if items]
