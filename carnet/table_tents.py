"""Table tents: one A4 page per table, folded across its middle into a card that stands on the table.

The top half is printed upside down, so that once folded each face reads the right way up from its side of the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.models import Event, Session, Table
from app.services import network, qr
from app.services.errors import ServiceError
from app.services.events import live_sessions
from app.services.sessions import live_tables

from . import render
from .templating import environment


def themes(table: Table, frameworks: list[dict]) -> list[dict]:
    """Return the framework items a table is about, each as {label, description}."""
    found = []
    for framework in frameworks:
        item_key = table.tags.get(framework["key"])
        for item in framework["items"]:
            if item["key"] == item_key:
                found.append({"label": item["label"], "description": item.get("description", "")})
    return found


def tent(table: Table) -> dict:
    """Return what one tent prints: the table, its themes, its session's question, host and join QR code."""
    session = table.session
    host = table.host_participant.name if table.host_participant is not None else None
    url = network.join_url(table.code)
    found = themes(table, session.event.spec.get("frameworks", []))
    # A table named after its only theme would say it twice.
    shown = [t for t in found if t["label"].casefold() not in table.name.casefold()] if len(found) == 1 else found
    description = found[0]["description"] if len(found) == 1 else ""
    return {"name": table.name, "themes": [t["label"] for t in shown], "description": description,
            "question": session.question or "", "session": session.title, "host": host or table.host or "",
            "code": table.code, "url": url, "qr": qr.print_data_uri(url)}


def tables_of(target: Event | Session) -> list[Table]:
    """Return the tables of a session, or of every live session of an event, in programme order."""
    sessions = [target] if isinstance(target, Session) else live_sessions(target)
    return [table for session in sessions for table in live_tables(session)]


def table_tents_html(target: Event | Session) -> str:
    """Return the table tents of a session or an event as the HTML WeasyPrint lays out."""
    event = target if isinstance(target, Event) else target.event
    tables = tables_of(target)
    if not tables:
        raise ServiceError("no_tables", _l("“%(title)s” has no tables: table tents are printed for the tables of a "
                                           "world café.", title=target.title))
    language = event.spec.get("language", "fr")
    with force_locale(language):
        return environment().get_template("print/table_tents.html").render(
            event=event, tents=[tent(table) for table in tables], lang=language)


def write_table_tents(target: Event | Session, output: Path | BinaryIO) -> int:
    """Write one folding table tent per table of a session or an event to ``output`` (path or binary file); return its pages."""
    event = target if isinstance(target, Event) else target.event
    with force_locale(event.spec.get("language", "fr")):
        return render.write_pdf(table_tents_html(target), output)
