"""Keep / stop / create: practices sorted in a grid of topics × « à maintenir / à arrêter / à créer »."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.services.sessions import frameworks_of
from app.services.text import slugify
from workshops import N_, NP_, Phase, WorkshopFormat, ideas

# The topics and columns an event's own frameworks give when the settings name none (the seed's second day).
TOPIC_FRAMEWORK = "relation"
COLUMN_FRAMEWORK = "practice"
# Keys of the format's own frameworks, used when the event has no such framework.
OWN_TOPICS = "topic"
OWN_COLUMNS = "column"
OWN_COLUMN_ITEMS = (("keep", _l("To keep")), ("stop", _l("To stop")), ("create", _l("To create")))

SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "topic_framework": {"type": "string", "description": "Framework whose items are the grid's rows (default: "
                                                              "relation when the event has it)."},
        "topics": {"type": "array", "minItems": 1, "maxItems": 12, "uniqueItems": True,
                   "items": {"type": "string", "minLength": 1, "maxLength": 80},
                   "description": "With topic_framework, the items to use, in order; without it, the topics' own "
                                  "labels."},
        "column_framework": {"type": "string", "description": "Framework whose items are the grid's columns (default: "
                                                               "practice when the event has it, else keep/stop/create)."},
        "columns": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string", "minLength": 1,
                                                                                 "maxLength": 40},
                    "description": "Labels of the columns by key (keep, stop, create, or the column framework's items)."},
        "qr": {"enum": ["grid", "topic"],
               "description": "grid: one join QR code for the whole grid; topic: one per topic, which presets it."},
        "minutes": {"type": "integer", "minimum": 1, "maximum": 180,
                    "description": "Length of the collecting phase; the countdown starts with it."},
    },
}


def _by_key(event: dict) -> dict:
    return {fw["key"]: fw for fw in event.get("frameworks", [])}


def topics_of(settings: dict, event: dict) -> tuple[dict | None, list[tuple[tuple, str]]]:
    """Return the grid's rows as a framework {key, label, items}, or None and the problems found."""
    frameworks = _by_key(event)
    wanted = settings.get("topics")
    # Topics listed without a framework are the grid's own labels; a framework alone gives all its items.
    key = settings.get("topic_framework") or (
        TOPIC_FRAMEWORK if TOPIC_FRAMEWORK in frameworks and not wanted else None)
    if key is None:
        if not wanted:
            return None, [(("settings", "topics"), f"this event has no {TOPIC_FRAMEWORK!r} framework: list the "
                           "grid's topics (settings.topics) or name a framework (settings.topic_framework)")]
        items, problems = [], []
        for n, label in enumerate(wanted):
            slug = slugify(label)
            if any(item["key"] == slug for item in items):
                problems.append((("settings", "topics", n), f"{label!r} is too close to another topic: give each "
                                 "topic its own name"))
            items.append({"key": slug, "label": label})
        return ({"key": OWN_TOPICS, "label": None, "items": items}, []) if not problems else (None, problems)
    if key not in frameworks:
        return None, [(("settings", "topic_framework"), f"{key!r} is not a framework of this event "
                       f"(known: {', '.join(frameworks)})")]
    framework = frameworks[key]
    items = [{"key": item["key"], "label": item["label"]} for item in framework["items"]]
    if wanted:
        known = {item["key"]: item for item in items}
        problems = [(("settings", "topics", n), f"{topic!r} is not an item of {key!r} (known: {', '.join(known)})")
                    for n, topic in enumerate(wanted) if topic not in known]
        if problems:
            return None, problems
        items = [known[topic] for topic in wanted]
    return {"key": key, "label": framework["label"], "items": items}, []


def columns_of(settings: dict, event: dict) -> tuple[dict | None, list[tuple[tuple, str]]]:
    """Return the grid's columns as a framework {key, label, items}, or None and the problems found."""
    frameworks = _by_key(event)
    key = settings.get("column_framework") or (COLUMN_FRAMEWORK if COLUMN_FRAMEWORK in frameworks else None)
    if key is None:
        framework = {"key": OWN_COLUMNS, "label": None, "items": [{"key": k, "label": None} for k, _ in OWN_COLUMN_ITEMS]}
    elif key not in frameworks:
        return None, [(("settings", "column_framework"), f"{key!r} is not a framework of this event "
                       f"(known: {', '.join(frameworks)})")]
    else:
        framework = {"key": key, "label": frameworks[key]["label"],
                     "items": [{"key": item["key"], "label": item["label"]} for item in frameworks[key]["items"]]}
        if not 2 <= len(framework["items"]) <= 4:
            return None, [(("settings", "column_framework"), f"{key!r} has {len(framework['items'])} items: a grid "
                           "takes two to four columns")]
    keys = [item["key"] for item in framework["items"]]
    problems = [(("settings", "columns", name), f"{name!r} is not a column of this grid (columns: {', '.join(keys)})")
                for name in settings.get("columns", {}) if name not in keys]
    return (framework, []) if not problems else (None, problems)


def grid_of(item: dict, event: dict) -> tuple[dict, dict]:
    """Return the checked item's topics and columns as session frameworks, labelled in the event's language."""
    settings = item.get("settings", {})
    topics, _ = topics_of(settings, event)
    columns, _ = columns_of(settings, event)
    own = dict(OWN_COLUMN_ITEMS)
    with force_locale(event.get("language", "fr")):
        topics = {**topics, "label": topics["label"] or str(_l("Topics"))}
        labels = settings.get("columns", {})
        columns = {**columns, "label": columns["label"] or str(_l("Practices")),
                   "items": [{"key": c["key"], "label": labels.get(c["key"]) or c["label"] or str(own[c["key"]])}
                             for c in columns["items"]]}
    return {**topics, "required": True}, {**columns, "required": True}


def cells(found: list[dict], topics: dict, columns: dict) -> tuple[list[dict], list[dict]]:
    """Sort ideas into the grid, each cell's most dotted first; return the topics' rows and the ideas in no cell."""
    rows, placed = [], set()
    for topic in topics["items"]:
        row = []
        for column in columns["items"]:
            mine = [idea for idea in found
                    if idea["tags"].get(topics["key"]) == topic["key"] and idea["tags"].get(columns["key"]) == column["key"]]
            placed.update(idea["seq"] for idea in mine)
            row.append({"key": column["key"], "label": column["label"], "count": len(mine),
                        "dots": sum(idea["dots"] for idea in mine), "ideas": mine})
        rows.append({"key": topic["key"], "label": topic["label"], "total": sum(c["count"] for c in row),
                     "dots": sum(c["dots"] for c in row), "cells": row})
    return rows, [idea for idea in found if idea["seq"] not in placed]


class KeepStopCreate(WorkshopFormat):
    """A grid of topics × keep / stop / create that phones fill cell by cell."""

    slug = "keep_stop_create"
    title = _l("Keep / stop / create")
    description = _l("Participants sort practices into a grid: for each topic, what to keep, to stop and to create.")
    settings_schema = SETTINGS_SCHEMA
    strings = (
        N_("%(topic)s, %(column)s"),
        N_("Ideas per cell"),
        N_("Total"),
        N_("Pick your idea's box in the grid"),
        N_("Your idea, for this topic, is something…"),
        N_("Your idea goes in: %(topic)s › %(column)s"),
        N_("Choose a box, then write your idea."),
        NP_("%(count)s idea in all", "%(count)s ideas in all"),
        NP_("%(num)s dot", "%(num)s dots"),
        NP_("said %(count)s time", "said %(count)s times"),
        NP_("%(count)s more idea not shown", "%(count)s more ideas not shown"),
    )
    example = {"id": "ateliers-relations", "start": "11:30", "end": "12:45",
               "title": "Ateliers, renouveler les relations entre collectivités et coopérations",
               "workshop": "keep_stop_create",
               "question": "Entre collectivités et coopérations, quelles pratiques maintenir, arrêter ou créer ?",
               "settings": {"topics": ["Formaliser les échanges", "Collectivités dans les SCIC", "Financer",
                                       "Accès au foncier"], "qr": "topic", "minutes": 45}}

    def check_settings(self, item: dict, event: dict) -> list[tuple[tuple, str]]:
        """Topics and columns must name frameworks and items of the event, or be given as a list."""
        settings = item.get("settings", {})
        problems = []
        if "tags" in item:
            # The grid sets a post's tags; item tags would be exported yet ignored.
            problems.append((("tags",), "a keep/stop/create grid tags posts with its topics and columns "
                             "(settings.topic_framework, settings.column_framework): remove tags"))
        topics, found = topics_of(settings, event)
        problems += found
        columns, found = columns_of(settings, event)
        problems += found
        if topics and columns and topics["key"] == columns["key"]:
            problems.append((("settings", "column_framework"), f"{columns['key']!r} already gives the topics: the "
                             "columns need another framework"))
        return problems

    def tags(self, item: dict, event: dict) -> list[dict]:
        """Every post names its topic and its column."""
        topics, columns = grid_of(item, event)
        return [{"framework": topics["key"], "required": True}, {"framework": columns["key"], "required": True}]

    def frameworks(self, item: dict, event: dict, derived: list[dict]) -> list[dict]:
        """The topics, then the columns: the grid's rows and columns, whether the event's or the settings' own."""
        return list(grid_of(item, event))

    def tables(self, item: dict, event: dict) -> list[dict]:
        """With ``qr: topic``, one table per topic: its QR code presets the topic."""
        if item.get("settings", {}).get("qr") != "topic":
            return []
        topics, _columns = grid_of(item, event)
        return [{"key": slugify(topic["key"]), "name": topic["label"], "tags": {topics["key"]: topic["key"]},
                 "host": None} for topic in topics["items"]]

    def phases(self, settings: dict) -> list[Phase]:
        """Welcome, collecting (timed when the settings say so), the vote, the end."""
        # Posting opens when the facilitator starts the collecting, which starts its countdown too.
        return [Phase("welcome", _l("Welcome"), posting=False),
                Phase("collect", _l("Collecting ideas"), minutes=settings.get("minutes")),
                Phase("vote", _l("Vote"), posting=False), Phase("done", _l("Done"), posting=False)]

    def synthesise(self, session) -> dict:
        """Return the grid: per topic, each column's ideas most dotted first, with counts and totals."""
        topics, columns = frameworks_of(session)[:2]
        found = ideas(session)
        rows, other = cells(found, topics, columns)
        return {
            "format": self.slug,
            "title": session.title,
            "question": session.question,
            "total": len(found),
            "dots": sum(idea["dots"] for idea in found),
            "merged": sum(len(idea["merged"]) for idea in found),
            "topic_label": topics["label"],
            "columns": [{"key": c["key"], "label": c["label"],
                         "total": sum(row["cells"][n]["count"] for row in rows)}
                        for n, c in enumerate(columns["items"])],
            "topics": rows,
            "other": other,
        }


FORMAT = KeepStopCreate()
