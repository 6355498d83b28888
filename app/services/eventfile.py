"""Read and check the organisers' event file (YAML), reporting each problem with its field and line."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from datetime import date
from importlib import resources
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import jsonschema
import yaml

from .text import slugify

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an event file."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.path or '(file)'}: {self.message}{where}"


class EventFileError(Exception):
    """The event file cannot be used; `problems` says why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def schema() -> dict:
    """Return the JSON Schema of the event file."""
    return json.loads(resources.files("app.data").joinpath("event.schema.json").read_text("utf-8"))


def default_frameworks() -> list[dict]:
    """Return the "Rouages de la Coopération" frameworks used when a file names none."""
    return yaml.safe_load(resources.files("app.data").joinpath("frameworks.yaml").read_text("utf-8"))


def format_path(parts) -> str:
    """Render a path like programme[1].items[3].end."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Reader:
    """Turn a YAML node tree into plain values, remembering the line of every path."""

    _scalars = yaml.constructor.SafeConstructor()

    def __init__(self):
        self.lines: dict[tuple, int] = {}
        self.problems: list[Problem] = []

    def value(self, node, path: tuple) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out = {}
            for key_node, value_node in node.value:
                key = self.value(key_node, path + ("<key>",))
                if not isinstance(key, str):
                    key = str(key)
                if key in out:
                    self.problems.append(Problem(format_path(path + (key,)), "is given twice", key_node.start_mark.line + 1))
                out[key] = self.value(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.value(child, path + (i,)) for i, child in enumerate(node.value)]
        # Times (10:30) and dates stay text: YAML 1.1 would read them as base-60 numbers and date objects.
        if node.tag.endswith((":int", ":float")) and ":" in node.value:
            return node.value
        if node.tag.endswith(":timestamp"):
            return node.value
        return self._scalars.construct_object(node)


# What the parser's words usually mean, and whether the line to show is where the construct began (its
# context) rather than where the parser gave up: an unclosed bracket or quote is noticed lines later.
_YAML_HINTS = [
    ("cannot start any token", "'\\t'", False, "a tab is used for indentation: indent with spaces only"),
    ("flow sequence", "", True, "a '[' is not closed: put the text in quotes if it starts with '['"),
    ("flow mapping", "", True, "a '{' is not closed: put the text in quotes if it starts with '{'"),
    ("quoted scalar", "", True, "a quote is not closed: end the text with the same quote it starts with"),
    ("simple key", "", True, "this line has no ':' after its field name (or a quoted text is not closed)"),
    ("mapping values are not allowed", "", False,
     "a text contains ': ': put the whole text in quotes, or check the indentation"),
    ("expected <block end>", "", False,
     "this line is not indented like the fields around it (or a text before it needs quotes)"),
    ("cannot start any token", "", False,
     "a text starts with a character YAML reserves (` @ % …): put the text in quotes"),
]


def _yaml_problem(exc: yaml.YAMLError) -> Problem:
    """Explain a YAML syntax error in a sentence, at the line to fix, with the parser's own words after it."""
    detail = "; ".join(str(part) for part in (getattr(exc, "context", None), getattr(exc, "problem", None)) if part)
    detail = detail or str(exc)
    words = f"{detail} {getattr(exc, 'problem', '') or ''}"
    sentence, at_context = "the file is not valid YAML", False
    for needle, also, context_first, plain in _YAML_HINTS:
        if needle in words and also in words:
            sentence, at_context = plain, context_first
            break
    mark = getattr(exc, "context_mark", None) if at_context else None
    mark = mark or getattr(exc, "problem_mark", None)
    return Problem("", f"{sentence} (YAML parser: {detail})", mark.line + 1 if mark else None)


def parse(text: str) -> tuple[dict, dict[tuple, int]]:
    """Parse YAML text into a dict and a map of path -> line number."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise EventFileError([_yaml_problem(exc)]) from None
    if node is None:
        raise EventFileError([Problem("", "the file is empty", 1)])
    reader = _Reader()
    data = reader.value(node, ())
    if not isinstance(data, dict):
        raise EventFileError([Problem("", "the file must be a mapping of fields (slug, title, programme…)", 1)])
    if reader.problems:
        raise EventFileError(reader.problems)
    return data, reader.lines


format_checker = jsonschema.FormatChecker(formats=())


@format_checker.checks("time-of-day")
def _is_time(value) -> bool:
    match = _TIME.match(value) if isinstance(value, str) else None
    return bool(match) and int(match[1]) < 24 and int(match[2]) < 60


@format_checker.checks("date")
def _is_date(value) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


@format_checker.checks("email")
def _is_email(value) -> bool:
    return isinstance(value, str) and bool(_EMAIL.match(value))


_TYPE_NAMES = {"string": "text", "object": "a mapping of fields", "array": "a list", "boolean": "true or false",
               "integer": "a whole number", "number": "a number"}
_FORMAT_MESSAGES = {"time-of-day": "is not a time (HH:MM)", "date": "is not a date (YYYY-MM-DD)",
                    "email": "is not an e-mail address"}


def schema_message(error: jsonschema.ValidationError) -> tuple[tuple, str]:
    """Turn a schema error into (path, plain message)."""
    path = tuple(error.absolute_path)
    v, inst = error.validator, error.instance
    if v == "required":
        missing = next((name for name in error.validator_value if name not in inst), "?")
        return path + (missing,), "is required"
    if v == "unknown_field":
        return path, "is not a known field"
    if v == "additionalProperties":
        extra = sorted(set(inst) - set(error.schema.get("properties", {})))
        return path + (extra[0],), "is not a known field"
    if v == "type":
        return path, f"must be {_TYPE_NAMES.get(error.validator_value, error.validator_value)}"
    if v == "format":
        return path, f"{inst} {_FORMAT_MESSAGES.get(error.validator_value, 'is not valid')}"
    if v == "enum":
        return path, f"{inst!r} is not one of: {', '.join(map(str, error.validator_value))}"
    if v == "pattern":
        return path, f"{inst!r} may only use lower-case letters, digits, '-' and '_'"
    if v in ("minLength", "minItems"):
        return path, "must not be empty"
    if v in ("maxLength", "maxItems"):
        return path, f"is too long (at most {error.validator_value})"
    return path, error.message


def _each_unknown_field(validator, additional, instance, schema):
    """Report every field a closed mapping does not know, each at its own path, instead of one per mapping."""
    if additional is not False or not validator.is_type(instance, "object"):
        yield from jsonschema.Draft202012Validator.VALIDATORS["additionalProperties"](
            validator, additional, instance, schema)
        return
    known = set(schema.get("properties", {}))
    patterns = list(schema.get("patternProperties", {}))
    for name in instance:
        if name not in known and not any(re.search(pattern, name) for pattern in patterns):
            yield jsonschema.ValidationError(f"{name!r} is not a known field", validator="unknown_field",
                                             path=[name], instance=instance[name])


_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                          {"additionalProperties": _each_unknown_field})


def schema_problems(value, against: dict) -> list[tuple[tuple, str]]:
    """Return (path, message) for every way a value departs from a JSON Schema, unknown fields one by one."""
    return [schema_message(e) for e in _Validator(against, format_checker=format_checker).iter_errors(value)]


# The kinds of guest organisation every event knows; an event file adds its own (or relabels these) in guest_kinds.
GUEST_KINDS = {"ptce": "PTCE", "tiers-lieu": "Tiers-lieu", "projet-collectif": "Projet collectif",
               "collectivite": "Collectivité", "reseau": "Réseau", "entreprise": "Entreprise", "etat": "État",
               "autre": "Autre"}


def guest_kinds(data: dict) -> dict[str, str]:
    """Return the guest kinds an event document knows, key -> label: the built-in ones and its own."""
    return {**GUEST_KINDS, **data.get("guest_kinds", {})}


# Where the programme's times are read when the file names no time zone: the events Rouages was made for.
DEFAULT_TIMEZONE = "Europe/Paris"


def timezone(data: dict) -> ZoneInfo:
    """Return the time zone an event document's times are in."""
    return ZoneInfo(data.get("timezone") or DEFAULT_TIMEZONE)


@cache
def _timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _timezone_problem(name: str) -> str | None:
    # The list of names, not ZoneInfo(name): it also opens files such as "zone.tab" or "localtime".
    if name in _timezone_names():
        return None
    return f"{name!r} is not a time zone: give an IANA name such as Europe/Paris, America/Montreal or Africa/Dakar"


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _semantic_problems(data: dict, formats: Mapping) -> list[tuple[tuple, str]]:
    """Checks the schema cannot express: times in order, unique keys, known frameworks and formats."""
    problems = []
    if "timezone" in data and (message := _timezone_problem(data["timezone"])):
        problems.append((("timezone",), message))
    frameworks = data.get("frameworks") or default_frameworks()
    known = {}
    for i, framework in enumerate(frameworks):
        if framework["key"] in known:
            problems.append((("frameworks", i, "key"), f"{framework['key']!r} is used by another framework"))
        items = [item["key"] for item in framework["items"]]
        for j, key in enumerate(items):
            if key in items[:j]:
                problems.append((("frameworks", i, "items", j, "key"), f"{key!r} is used twice in this framework"))
        known[framework["key"]] = framework
    kinds = guest_kinds(data)
    for g, guest in enumerate(data.get("guests", [])):
        if "kind" in guest and guest["kind"] not in kinds:
            problems.append((("guests", g, "kind"), f"{guest['kind']!r} is not a kind of guest (known: "
                             f"{', '.join(kinds)}): add it under guest_kinds"))
    seen_sheets = set()
    for i, sheet in enumerate(data.get("sheets", [])):
        if sheet["key"] in seen_sheets:
            problems.append((("sheets", i, "key"), f"{sheet['key']!r} is used by another sheet"))
        seen_sheets.add(sheet["key"])
    ids: set[str] = set()
    for d, day in enumerate(data["programme"]):
        for n, item in enumerate(day["items"]):
            base = ("programme", d, "items", n)
            if _minutes(item["end"]) <= _minutes(item["start"]):
                problems.append((base + ("end",), f"{item['end']} is not after the start ({item['start']})"))
            key = item_key(item)
            if "workshop" in item or "id" in item:
                if key in ids:
                    problems.append((base + ("id",), f"{key!r} is used by another item: give each workshop its own id"))
                ids.add(key)
            if "workshop" in item and item["workshop"] not in formats:
                problems.append((base + ("workshop",), f"{item['workshop']!r} is not a workshop format "
                                 f"(known: {', '.join(formats)})"))
            elif "workshop" in item:
                fmt = formats[item["workshop"]]
                found = [(("settings",) + path, message)
                         for path, message in schema_problems(item.get("settings", {}), fmt.settings_schema)]
                found = found or fmt.settings_problems(item, {**data, "frameworks": frameworks})
                problems += [(base + path, message) for path, message in found]
            for fmt in formats.values():
                for field in fmt.item_fields:
                    if field in item and item.get("workshop") != fmt.slug:
                        problems.append((base + (field,), f"only applies to an item of the {fmt.slug} format "
                                         f"(add workshop: {fmt.slug})"))
            if "workshop" not in item:
                for field in ("question", "tags", "settings"):
                    if field in item:
                        problems.append((base + (field,), "only applies to a workshop item (add workshop: board)"))
            used = []
            for t, tag in enumerate(item.get("tags", [])):
                if tag["framework"] not in known:
                    problems.append((base + ("tags", t, "framework"),
                                     f"{tag['framework']!r} is not a framework of this event (known: {', '.join(known)})"))
                elif tag["framework"] in used:
                    problems.append((base + ("tags", t, "framework"), f"{tag['framework']!r} is listed twice"))
                used.append(tag["framework"])
    problems += _date_problems(data)
    return problems


def _date_problems(data: dict) -> list[tuple[tuple, str]]:
    """The event's dates are in order and each day falls within them; the days follow one another."""
    problems = []
    span = data.get("dates")
    if span:
        span = {field: date.fromisoformat(value) for field, value in span.items()}
    if span and span["end"] < span["start"]:
        problems.append((("dates", "end"), f"{span['end']} is before the start of the event ({span['start']})"))
        span = None
    dates = [date.fromisoformat(day["date"]) for day in data["programme"]]
    for d, value in enumerate(dates):
        if value in dates[:d]:
            problems.append((("programme", d, "date"), f"{value} is already another day of the programme"))
        elif d and value < max(dates[:d]):
            problems.append((("programme", d, "date"), f"{value} comes before the day listed above it "
                             f"({max(dates[:d])}): list the days in order"))
        if span and not span["start"] <= value <= span["end"]:
            problems.append((("programme", d, "date"), f"{value} is outside the event's dates "
                             f"({span['start']} to {span['end']})"))
    return problems


def item_key(item: dict) -> str:
    """Return the stable key of a programme item: its id, else a slug of its title."""
    return item.get("id") or slugify(item["title"])


def check(data: dict, lines: dict[tuple, int] | None, formats: Mapping) -> list[Problem]:
    """Return every problem in an event document, schema errors first, in file order."""
    lines = lines or {}

    def line_of(path: tuple) -> int | None:
        while path not in lines and path:
            path = path[:-1]
        return lines.get(path)

    found = schema_problems(data, schema())
    if not found:
        found = _semantic_problems(data, formats)
    problems = {Problem(format_path(path), message, line_of(path)) for path, message in found}
    return sorted(problems, key=lambda p: (p.line or 0, p.path, p.message))


def load(source: str | Path, formats: Mapping) -> dict:
    """Read, check and normalise an event file; raise EventFileError listing every problem."""
    text = Path(source).read_text("utf-8") if isinstance(source, Path) else source
    data, lines = parse(text)
    problems = check(data, lines, formats)
    if problems:
        raise EventFileError(problems)
    return data


def normalise(data: dict) -> dict:
    """Fill in the defaults a checked document leaves implicit."""
    data = json.loads(json.dumps(data))
    data.setdefault("frameworks", default_frameworks())
    for day in data["programme"]:
        for item in day["items"]:
            if "workshop" in item:
                item.setdefault("id", item_key(item))
                item.setdefault("kind", "workshop")
    return data


def dump(data: dict) -> str:
    """Write an event document back as YAML."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
