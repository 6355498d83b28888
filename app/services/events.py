"""Events: importing an event file into the database and exporting it back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import Event, Session, Table
from . import eventfile
from .sessions import derive_frameworks, forget_post_targets, new_join_code, set_posting


# The event file's slug pattern: what no event can have is looked up nowhere (PostgreSQL refuses NUL outright).
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def demo_text() -> str:
    """Return the bundled demo event file."""
    return resources.files("app.data").joinpath("demo.yaml").read_text("utf-8")


class ImportFailed(Exception):
    """The database refused an import; it was rolled back, so nothing changed."""


def workshop_items(spec: dict):
    """Yield (position, day, item) for every programme item that runs a workshop."""
    position = 0
    for day in spec["programme"]:
        for item in day["items"]:
            if "workshop" in item:
                yield position, day, item
                position += 1


def import_event(source: str | Path, formats: Mapping) -> tuple[Event, dict]:
    """Create or update the event a file describes; return it with counts of what changed.

    `formats` maps workshop slugs to their formats (workshops.registry()). Re-importing the same file
    changes nothing: sessions are matched by item id and keep their join codes and their current phase.
    """
    spec = eventfile.normalise(eventfile.load(source, formats))
    try:
        event, counts = _apply(spec, formats)
        db.session.commit()
    except SQLAlchemyError as exc:
        # One transaction: whatever the database refuses, the event stays as it was before the import.
        db.session.rollback()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ImportFailed(f"the database refused the import ({type(exc).__name__}: {reason}); "
                           "nothing was changed") from exc
    forget_post_targets()
    return event, counts


def _apply(spec: dict, formats: Mapping) -> tuple[Event, dict]:
    """Write a checked, normalised event into the current transaction without committing it."""
    event = db.session.scalar(select(Event).where(Event.slug == spec["slug"]))
    created = event is None
    previous = {} if created else event.spec
    if created:
        event = Event(slug=spec["slug"], title=spec["title"], spec=spec)
        db.session.add(event)
        db.session.flush()
    else:
        event.title = spec["title"]
        event.spec = spec
    existing = {s.key: s for s in db.session.scalars(select(Session).where(Session.event_id == event.id))}
    counts = {"event_created": created, "sessions_created": 0, "sessions_updated": 0, "sessions_removed": 0,
              **plain_item_changes(previous, spec), "details_updated": not created and details(previous) != details(spec)}
    seen = set()
    for position, day, item in workshop_items(spec):
        key = item["id"]
        seen.add(key)
        session = existing.get(key)
        if session is None:
            # Closed until its first step says otherwise: opening it then numbers the first opening of posting.
            session = Session(event_id=event.id, key=key, code=new_join_code(), is_open=False)
            db.session.add(session)
            counts["sessions_created"] += 1
        fmt = formats[item["workshop"]]
        phases = [phase.as_dict() for phase in fmt.item_phases(item, spec)]
        tags = fmt.tags(item, spec)
        # What the facilitator switched on during the session survives a re-import of the file.
        state = (session.settings or {}).get("state") if session.id is not None else None
        values = {
            "position": position,
            "title": item["title"],
            "workshop": item["workshop"],
            "question": item.get("question"),
            "settings": {"tags": tags, "frameworks": fmt.frameworks(item, spec, derive_frameworks(spec, tags)),
                         "format": item.get("settings", {}), "phases": phases,
                         "harvest": fmt.harvest(item, spec), "actions": sorted(fmt.actions()),
                         "day": day["date"], "start": item["start"], "end": item["end"], "room": item.get("room"),
                         **({"state": state} if state else {})},
            "removed": False,
        }
        # The file's moderation applies when it is new or changed; the console's switch holds otherwise.
        review = fmt.review(item.get("settings", {}))
        if session.id is None or review != fmt.review((session.settings or {}).get("format") or {}):
            values["review"] = review
        if session.id is not None and any(getattr(session, k) != v for k, v in values.items()):
            counts["sessions_updated"] += 1
        for name, value in values.items():
            setattr(session, name, value)
        db.session.flush()
        sync_tables(session, fmt.tables(item, spec))
        if session.phase not in {phase["key"] for phase in phases}:
            session.phase = phases[0]["key"]
            set_posting(session, phases[0]["posting"])
    for key, session in existing.items():
        # A session dropped from the file keeps its posts: it is retired, never deleted.
        if key not in seen and not session.removed:
            session.removed = True
            counts["sessions_removed"] += 1
    db.session.flush()
    return event, counts


def details(spec: dict) -> dict:
    """Return what an event file says besides its programme items: title, place, frameworks, guests, days…"""
    out = {key: value for key, value in spec.items() if key != "programme"}
    out["days"] = [{key: value for key, value in day.items() if key != "items"} for day in spec.get("programme", [])]
    return out


def plain_item_changes(before: dict, after: dict) -> dict:
    """Count the programme items without a workshop that an import adds, changes or removes.

    Items are matched by id (or title slug), then by day and start time, so a meal whose title changed is
    one item updated rather than one removed and one added.
    """

    def plain(spec: dict) -> list[tuple[str, dict]]:
        return [(day["date"], item) for day in spec.get("programme", []) for item in day["items"]
                if "workshop" not in item]

    old, new = plain(before), plain(after)
    counts = {"items_added": 0, "items_updated": 0, "items_removed": 0}
    unmatched = []
    for when, item in new:
        match = next((o for o in old if eventfile.item_key(o[1]) == eventfile.item_key(item) and o[0] == when), None)
        if match is None:
            unmatched.append((when, item))
            continue
        old.remove(match)
        counts["items_updated"] += match[1] != item
    for when, item in unmatched:
        match = next((o for o in old if o[0] == when and o[1]["start"] == item["start"]), None)
        if match is None:
            counts["items_added"] += 1
        else:
            old.remove(match)
            counts["items_updated"] += 1
    counts["items_removed"] = len(old)
    return counts


def sync_tables(session: Session, wanted: list[dict]) -> None:
    """Create, update or retire the session's tables to match its format; codes never change."""
    existing = {t.key: t for t in session.tables}
    for position, spec in enumerate(wanted):
        table = existing.pop(spec["key"], None)
        if table is None:
            table = Table(session_id=session.id, key=spec["key"], code=new_join_code())
            db.session.add(table)
            session.tables.append(table)
        table.position, table.name, table.tags, table.host = position, spec["name"], spec["tags"], spec.get("host")
        table.removed = False
    for table in existing.values():
        table.removed = True


def get_event(slug: str) -> Event | None:
    """Return the event with this slug, or None (also for text that cannot be a slug)."""
    if not isinstance(slug, str) or len(slug) > 60 or not _SLUG.fullmatch(slug):
        return None
    return db.session.scalar(select(Event).where(Event.slug == slug))


def single_event() -> Event | None:
    """Return the only event of this server, or None when there are none or several."""
    found = db.session.scalars(select(Event).limit(2)).all()
    return found[0] if len(found) == 1 else None


def export_event(event: Event) -> str:
    """Return the event as an event file that re-imports to the same event."""
    return eventfile.dump(event.spec)


def live_sessions(event: Event) -> list[Session]:
    """Return the event's sessions that are still in its programme."""
    return [s for s in event.sessions if not s.removed]
