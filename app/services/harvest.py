"""Table hosts: the secret host link and the harvest they write per category."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db, socketio
from ..models import Harvest, Table
from .errors import ServiceError
from .sessions import room
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
