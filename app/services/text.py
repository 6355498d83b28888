"""Small text helpers shared by the domain."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Control characters other than tab and newline never belong in a post.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# A lone surrogate (half of a UTF-16 pair, e.g. an emoji cut in two by a phone's keyboard or sent on purpose)
# decodes from JSON but has no UTF-8 form: no database can store it.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable(value: str) -> str:
    """Return text every database can store: lone surrogates become U+FFFD and control characters go."""
    return _CONTROL.sub("", _SURROGATE.sub(REPLACEMENT, value))


def slugify(value: str) -> str:
    """Return a lower-case ASCII slug made of letters, digits and dashes."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "item"


def person_key(value: str | None) -> str:
    """Return a name as compared when matching people: case, accents, spacing and punctuation ignored."""
    letters = "".join(c for c in unicodedata.normalize("NFKD", value or "") if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", letters.casefold()))


def clean_post_text(value: str) -> str:
    """Normalise a participant's text: NFC, no control characters, single spaces, trimmed."""
    value = unicodedata.normalize("NFC", storable(value))
    lines = [_SPACES.sub(" ", line).strip() for line in value.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def clean_line(value: str) -> str:
    """Normalise a one-line field (a name, an organisation): storable, NFC, single spaces, trimmed."""
    return " ".join(unicodedata.normalize("NFC", storable(value)).split())


def clean_block(value: str) -> str:
    """Normalise a multi-line text written by a host: storable, NFC, lines right-trimmed, trimmed."""
    value = unicodedata.normalize("NFC", _SURROGATE.sub(REPLACEMENT, value))
    value = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", value)
    return "\n".join(line.rstrip() for line in value.strip().splitlines())
