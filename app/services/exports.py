"""Exports of an event: every stored idea as CSV for spreadsheets, and as JSON everything its booklets are made of."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import BookletText, Event, Participant, Photo, Post, Session, Table, Vote, utcnow
from .errors import ServiceError
from .events import get_event
from .harvest import harvest_of
from .sessions import live_tables, table_payload
from .votes import results

#: Changes whenever a field of the JSON export changes meaning or goes away (adding one does not).
JSON_VERSION = 1

# A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV Injection"): a quote before it
# makes the cell text, which Excel and LibreOffice show without the quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# French spreadsheets split CSV on « ; »: Excel uses the list separator of the system's regional settings, which is
# « ; » in French since « , » is the decimal separator, and LibreOffice proposes it too. A « sep=; » line would make
# Excel ignore the byte-order mark, and with it the UTF-8 accents, so there is none.
DELIMITER = ";"


def event_or_refuse(slug) -> Event:
    """Return the event with this slug, or refuse with a clear error."""
    event = get_event(slug) if isinstance(slug, str) else None
    if event is None:
        raise ServiceError("unknown_event", _l("No event has the slug %(slug)s.", slug=repr(slug)), 404)
    return event


@contextmanager
def snapshot() -> Iterator[None]:
    """Read every query inside from one state of the database while posts keep arriving, without locking them out.

    PostgreSQL reads a repeatable-read, read-only transaction; SQLite a deferred one (readers never block its
    writer in WAL mode). Whatever was read before is let go first: the snapshot starts here, and ends with a rollback.
    """
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
    elif db.engine.dialect.name == "sqlite":
        # Python's sqlite3 starts no transaction for a SELECT: each query would see the database as it then is.
        db.session.connection().exec_driver_sql("BEGIN")
    try:
        yield
    finally:
        db.session.rollback()


def _iso(moment: datetime | None) -> str | None:
    """Return a stored UTC time as ISO 8601 with its « Z »."""
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def _matching_tables(tags: dict, tables: list[tuple[str, dict]]) -> list[str]:
    """Return the keys of the tables a post with these tags was posted at: those whose every tag it carries, the most
    specific ones.

    A post records its table's tags, not the table: tables that share their tags (three « Animation » tables, say)
    all match, and are all named.
    """
    found = [(key, wanted) for key, wanted in tables if wanted and all(tags.get(k) == v for k, v in wanted.items())]
    most = max((len(wanted) for _key, wanted in found), default=0)
    return [key for key, wanted in found if len(wanted) == most]


def _sessions(event: Event) -> list[Session]:
    """Return every session of the event in programme order, retired ones (which keep their ideas) last."""
    return sorted(event.sessions, key=lambda s: (s.removed, s.position, s.id))


def _read(event: Event) -> dict:
    """Read what both exports are made of: sessions, their live tables, posts, votes and participants."""
    sessions = _sessions(event)
    ids = [s.id for s in sessions]
    posts = list(db.session.scalars(select(Post).where(Post.session_id.in_(ids)))) if ids else []
    order = {s.id: n for n, s in enumerate(sessions)}
    posts.sort(key=lambda p: (order[p.session_id], p.seq))
    votes = list(db.session.execute(select(Vote.post_id, Vote.participant_id, Vote.dots)
                                    .where(Vote.session_id.in_(ids))
                                    .order_by(Vote.post_id, Vote.participant_id))) if ids else []
    participants = {p.id: p for p in db.session.scalars(select(Participant).where(Participant.event_id == event.id))}
    return {"sessions": sessions, "tables": {s.id: live_tables(s) for s in sessions}, "posts": posts, "votes": votes,
            "participants": participants}


def _ideas(data: dict) -> list[dict]:
    """Return every stored idea, hidden and merged ones included, in programme then posting order."""
    sessions = {s.id: s for s in data["sessions"]}
    seq_of = {p.id: p.seq for p in data["posts"]}
    dots: dict[int, int] = {}
    for post_id, _participant, count in data["votes"]:
        dots[post_id] = dots.get(post_id, 0) + count
    tables = {sid: [(t.key, dict(t.tags)) for t in live] for sid, live in data["tables"].items()}
    # Ideas of one table carry the same tags: each set of tags is matched against the tables once.
    matched: dict[tuple, list[str]] = {}
    anonymous = _("anonymous")
    out = []
    for post in data["posts"]:
        session = sessions[post.session_id]
        participant = data["participants"].get(post.participant_id)
        seen = (session.id, *sorted(post.tags.items()))
        if seen not in matched:
            matched[seen] = _matching_tables(post.tags, tables[session.id])
        out.append({
            "id": post.id, "session": session.key, "seq": post.seq, "text": post.text, "tags": post.tags,
            "tables": matched[seen], "participant": post.participant_id,
            "author": (participant.name if participant is not None and not post.anonymous else None) or anonymous,
            "organisation": participant.organisation if participant is not None and not post.anonymous else None,
            "dots": dots.get(post.id, 0), "upvotes": post.upvotes, "answered": post.answered, "hidden": post.hidden,
            "held": post.held,
            "merged_into": seq_of.get(post.merged_into_id) if post.merged_into_id is not None else None,
            "merged_at": _iso(post.merged_at), "created_at": _iso(post.created_at),
        })
    return out


def _session(session: Session, tables: list[Table], formats: Mapping) -> dict:
    """Return a session as the booklets need it: its settings, tables with their harvest, vote and synthesis."""
    fmt = formats.get(session.workshop)
    return {
        "key": session.key, "title": session.title, "workshop": session.workshop, "question": session.question,
        "position": session.position, "removed": session.removed, "settings": session.settings,
        "phase": session.phase, "is_open": session.is_open,
        "tables": [{**{k: v for k, v in table_payload(t).items() if k != "code"}, "harvest": harvest_of(t)}
                   for t in tables],
        "vote": {"state": session.vote_state, "budget": session.vote_budget,
                 "max_per_post": session.vote_max_per_post,
                 "results": [{"idea": r["post_id"], "seq": r["seq"], "dots": r["dots"], "rank": r["rank"]}
                             for r in results(session)]},
        # A format no longer installed cannot summarise its sessions; their ideas are still all exported.
        "synthesis": fmt.synthesise(session) if fmt is not None else None,
    }


def as_data(event: Event, formats: Mapping) -> dict:
    """Return everything the event's booklets are made of, as plain data (see docs/exports.md)."""
    with snapshot():
        data = _read(event)
        ideas = _ideas(data)
        sessions = [_session(s, data["tables"][s.id], formats) for s in data["sessions"]]
        texts = db.session.scalars(select(BookletText).where(BookletText.event_id == event.id)
                                   .order_by(BookletText.section))
        photos = list(db.session.scalars(select(Photo).where(Photo.event_id == event.id)
                                         .order_by(Photo.section, Photo.position, Photo.id)))
        referred = ({i["participant"] for i in ideas} | {v.participant_id for v in data["votes"]}
                    | {p.participant_id for p in photos})
        return {
            "rouages_export": JSON_VERSION,
            "exported_at": _iso(utcnow()),
            "event": {"slug": event.slug, "title": event.title, "spec": event.spec,
                      "published_at": _iso(event.published_at), "show_names": event.show_names,
                      "participant_photos": event.participant_photos},
            "sessions": sessions,
            "participants": [{"id": p.id, "name": p.name, "organisation": p.organisation}
                             for pid, p in sorted(data["participants"].items()) if pid in referred],
            "ideas": ideas,
            "votes": [{"idea": post_id, "participant": participant_id, "dots": dots}
                      for post_id, participant_id, dots in data["votes"]],
            "texts": [{"section": t.section, "body": t.body, "updated_at": _iso(t.updated_at)} for t in texts],
            "photos": [{"id": p.id, "filename": p.filename, "caption": p.caption, "width": p.width,
                        "height": p.height, "size": p.size, "status": p.status, "section": p.section,
                        "position": p.position, "participant": p.participant_id,
                        "by_organiser": p.organiser_id is not None, "created_at": _iso(p.created_at)}
                       for p in photos],
        }


def as_json(event: Event, formats: Mapping) -> bytes:
    """Return the JSON export of an event, UTF-8."""
    # str() for anything a format's synthesis holds that JSON has no type for (a translatable label, a date). No
    # indent: Python's C encoder does not indent, and the pure-Python one would hold a worker ten times longer.
    return json.dumps(as_data(event, formats), ensure_ascii=False, default=str).encode("utf-8") + b"\n"


def safe_cell(value):
    """Return a cell a spreadsheet shows as text: one that would start a formula gets a quote before it."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _labels(event: Event, sessions: list[Session]) -> dict[str, dict]:
    """Return {framework key: {"label", "items": {item key: label}}} from the event file and the sessions."""
    found: dict[str, dict] = {}
    for framework in [*event.spec.get("frameworks", []), *(f for s in sessions for f in s.settings.get("frameworks", []))]:
        entry = found.setdefault(framework["key"], {"label": framework.get("label", framework["key"]), "items": {}})
        for item in framework.get("items", []):
            entry["items"].setdefault(item["key"], item.get("label", item["key"]))
    return found


def as_csv(event: Event) -> bytes:
    """Return one row per stored idea, hidden and merged ones included, as CSV a French spreadsheet opens."""
    yes, no = _("yes"), _("no")
    with snapshot():
        data = _read(event)
        ideas = _ideas(data)
        sessions = {s.key: s for s in data["sessions"]}
        names = {s.key: {t.key: t.name for t in data["tables"][s.id]} for s in data["sessions"]}
        labels = _labels(event, data["sessions"])
    used = {key for idea in ideas for key in idea["tags"]}
    # One column per framework an idea carries, in the event file's order, for filtering in the spreadsheet.
    columns = [key for key in labels if key in used] + sorted(used - labels.keys())
    out = io.StringIO()
    # The byte-order mark tells Excel the file is UTF-8: without it, accents come out garbled.
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow([_("Session key"), _("Session"), _("No."), _("Idea"), _("Table"), _("Tags"),
                     *(labels.get(key, {}).get("label", key) for key in columns),
                     _("Name"), _("Organisation"), _("Dots"), _("Hidden"), _("Merged into No."),
                     _("Posted at (UTC)")])
    for idea in ideas:
        tags = idea["tags"]
        item_labels = [labels.get(key, {}).get("items", {}).get(tags[key], tags[key]) if key in tags else ""
                       for key in columns]
        row = [idea["session"], sessions[idea["session"]].title, idea["seq"], idea["text"],
               " / ".join(names[idea["session"]].get(key, key) for key in idea["tables"]),
               ", ".join(f"{key}={tags[key]}" for key in columns if key in tags), *item_labels,
               idea["author"], idea["organisation"] or "", idea["dots"], yes if idea["hidden"] else no,
               idea["merged_into"] if idea["merged_into"] is not None else "", idea["created_at"]]
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue().encode("utf-8")


def filename(event: Event, kind: str) -> str:
    """Return the name an export is downloaded under."""
    return f"rouages-{event.slug}-idees.csv" if kind == "csv" else f"rouages-{event.slug}-export.json"
