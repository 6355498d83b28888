"""What a short French text becomes before it is compared: folded words, field synonyms, stems, no stop words."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import snowballstemmer
import yaml

SYNONYMS = Path(__file__).resolve().parent.parent / "data" / "synonyms.yaml"

# Words that carry no idea of their own in a sticky note (articles, pronouns, auxiliaries, fillers), folded.
STOP_WORDS = frozenset("""
a afin ai aie ainsi alors apres au aucun aussi autre autres aux avant avec avoir bien c ca car ce ceci cela celle
celles celui ces cet cette chaque chez comme comment d dans de deja des donc dont du elle elles en encore entre est et
etc etre eu eux faire fait faut faudrait il ils j je juste l la le les leur leurs lui m ma mais me meme mes moi mon n ne
ni nos notre nous on ont ou par pas peu peut plus pour pourquoi qu quand que quel quelle quelque quelques qui quoi s
sa sans se ses si sinon soit son sont sous suis sur svp t ta te tes toi ton tous tout toute toutes tres tu un une vers
via vos votre vous y
""".split())

_APOSTROPHES = re.compile(r"[’'`´ʼ]")
_NOT_WORD = re.compile(r"[^a-z0-9\-]+")
_LOOSE_DASH = re.compile(r"(?<![a-z0-9])-|-(?![a-z0-9])")


def fold(text: str) -> list[str]:
    """Return the words of a text in lower case without accents, emoji or punctuation (dashes inside words kept)."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("œ", "oe").replace("æ", "ae")
    text = _NOT_WORD.sub(" ", _APOSTROPHES.sub(" ", text))
    return _LOOSE_DASH.sub(" ", text).split()


def read_synonyms(path: Path) -> dict[str, list[str]]:
    """Read a synonyms file: a YAML mapping of a concept to the words and phrases that say it."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v) for k, v in data.items()):
        raise ValueError(f"{path}: a synonyms file maps each concept to a list of words or phrases")
    return data


class Normaliser:
    """Turn texts into comparable tokens: field synonyms become one concept (``#concept``), other words their stem."""

    def __init__(self, synonyms: dict[str, list[str]] | None = None):
        table: dict[tuple[str, ...], str] = {}
        for concept, phrases in (synonyms if synonyms is not None else default_synonyms()).items():
            for phrase in [concept, *phrases]:
                words = tuple(fold(phrase))
                if words:
                    table[words] = "#" + "_".join(fold(concept))
        self.table = table
        self.longest = max(map(len, table), default=1)
        self.stemmer = snowballstemmer.stemmer("french")

    def tokens(self, text: str) -> list[str]:
        """Return a text's tokens: the longest synonym phrase first, then stems of the words that are not stop words."""
        return [token for token, _said in self.said(text)]

    def said(self, text: str) -> list[tuple[str, str]]:
        """Return a text's tokens, each with the words that said it as written (accents kept, lower case)."""
        pairs = written(text)
        words, found, i = [folded for folded, _w in pairs], [], 0
        while i < len(words):
            for size in range(min(self.longest, len(words) - i), 0, -1):
                concept = self.table.get(tuple(words[i:i + size]))
                if concept:
                    found.append((concept, " ".join(w for _f, w in pairs[i:i + size])))
                    i += size
                    break
            else:
                word = words[i]
                if word not in STOP_WORDS and (len(word) > 1 or word.isdigit()):
                    found.append((self.stemmer.stemWord(word), pairs[i][1]))
                i += 1
        return found


def written(text: str) -> list[tuple[str, str]]:
    """Return the words of `fold(text)`, each with the word as written (lower case, accents kept)."""
    pairs = []
    for chunk in re.split(r"[\s’'`´ʼ]+", text):
        folded = fold(chunk)
        plain = chunk.strip(".,;:!?()[]{}«»\"“”…/*+=_~#@&%").casefold()
        pairs += [(word, plain if len(folded) == 1 else word) for word in folded]
    return pairs


@lru_cache(maxsize=1)
def default_synonyms() -> dict[str, list[str]]:
    """Return the synonyms of the field shipped with Rouages (app/data/synonyms.yaml)."""
    return read_synonyms(SYNONYMS)


def merged_synonyms(*extra: dict[str, list[str]]) -> dict[str, list[str]]:
    """Return the shipped synonyms with an event's or a file's own added: same concept, phrases appended."""
    merged = {concept: list(phrases) for concept, phrases in default_synonyms().items()}
    for more in extra:
        for concept, phrases in more.items():
            merged.setdefault(concept, []).extend(phrases)
    return merged
