"""Table hosts: the secret host link and the harvest they write per category."""

from __future__ import annotations

import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from ..extensions import db, socketio
from flask import url_for

from ..models import Harvest, Participant, Session, Table
from .errors import ServiceError, whole_number
from .sessions import attendees, live_tables, participant_room, room, table_payload
from .text import clean_block

TEXT_MAX = 3000
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def table_for_host(token) -> Table:
    """Return the live table whose host link carries this token, or refuse."""
    table = None
    if isinstance(token, str) and _TOKEN.match(token):
        table = db.session.scalar(select(Table).where(Table.host_token == token, Table.removed.is_(False)))
    if table is None or table.session.removed:
        raise ServiceError("unknown_host_link", _l("This host link is not valid. Check it with the facilitators."), 404)
    return table


def categories(table: Table) -> list[dict]:
    """Return the categories a table harvests, as its session's format defined them."""
    return table.session.settings.get("harvest", [])


def harvest_of(table: Table) -> dict[str, str]:
    """Return a table's harvest text by category."""
    return {h.category: h.text for h in table.harvests}


def harvest_payload(session) -> dict[str, dict[str, str]]:
    """Return every table's harvest of a session, by table key then category."""
    return {t.key: harvest_of(t) for t in session.tables if not t.removed and t.harvests}


def save(table: Table, category, text) -> dict:
    """Store what the host wrote for one category and show it on every screen of the session."""
    if not isinstance(category, str) or category not in {c["key"] for c in categories(table)}:
        raise ServiceError("unknown_category", _l("This table does not harvest this category."))
    if not isinstance(text, str):
        raise ServiceError("invalid_field", _l("The field %(field)s must be text.", field="text"))
    text = clean_block(text)
    if len(text) > TEXT_MAX:
        raise ServiceError("text_too_long", _l("The harvest is too long: %(max)s characters at most.", max=TEXT_MAX))
    row = db.session.scalar(select(Harvest).where(Harvest.table_id == table.id, Harvest.category == category))
    if row is None:
        row = Harvest(table_id=table.id, category=category)
        db.session.add(row)
    row.text = text
    db.session.commit()
    payload = {"code": table.session.code, "table": table.key, "category": category, "text": text}
    socketio.emit("harvest", payload, to=room(table.session.id))
    return payload


def host_link(table: Table) -> dict:
    """Return what a promoted host's phone is told: the table and the path of its host page."""
    return {"code": table.session.code, "table": table_payload(table), "url": url_for("public.host",
                                                                                      token=table.host_token)}


def hosted_by(session: Session, participant: Participant) -> dict | None:
    """Return the host link of the live table of `session` this participant was made host of, if any."""
    # One indexed look-up rather than loading every table: a whole room asks this as it rejoins.
    # The host is this participant, already loaded: no need to join it in.
    table = db.session.scalar(select(Table).options(lazyload(Table.host_participant)).where(
        Table.session_id == session.id, Table.removed.is_(False), Table.host_participant_id == participant.id))
    return host_link(table) if table is not None else None


def people(session: Session) -> dict:
    """Return who joined the session, to pick a table's host from."""
    return {"people": [{"id": p.id, "name": p.name, "organisation": p.organisation} for p in attendees(session)]}


def set_host(session: Session, payload: dict) -> dict:
    """Make participant `payload["participant"]` (None: nobody) the host of table `payload["table"]`."""
    key, participant_id = payload.get("table"), payload.get("participant")
    table = next((t for t in live_tables(session) if t.key == key), None) if isinstance(key, str) else None
    if table is None:
        raise ServiceError("unknown_table", _l("This workshop has no such table."), 404)
    participant = None
    if participant_id is not None:
        participant_id = whole_number(participant_id, "participant", 1)
        participant = next((p for p in attendees(session) if p.id == participant_id), None)
        if participant is None:
            raise ServiceError("unknown_participant", _l("This person has not joined this workshop."), 404)
    if table.host_participant_id == participant_id:
        return {"table": table_payload(table), "host_url": url_for("public.host", token=table.host_token)}
    # One table per host; a promoted host who is replaced loses the link they were given: a new one is made.
    changed = [t for t in live_tables(session) if t is table or (
        participant_id is not None and t.host_participant_id == participant_id)]
    dropped = {t.host_participant_id for t in changed if t.host_participant_id is not None} - {participant_id}
    for other in changed:
        if other.host_participant_id is not None:
            other.host_token = secrets.token_urlsafe(24)
        other.host_participant_id = None
    table.host_participant_id = participant_id
    db.session.commit()
    for gone in sorted(dropped):
        socketio.emit("host", {"code": session.code, "table": None, "url": None}, to=participant_room(gone))
    if participant is not None:
        socketio.emit("host", host_link(table), to=participant_room(participant.id))
    for other in changed:
        socketio.emit("host_changed", {"code": session.code, "table": table_payload(other),
                                       "participant": other.host_participant_id}, to=room(session.id))
    return {"table": table_payload(table), "host_url": url_for("public.host", token=table.host_token)}
