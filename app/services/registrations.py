"""Registration lists: seating people who registered ahead, even without a phone, in a session's plan."""

from __future__ import annotations

import csv
import io
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Attendance, Participant, Session
from .errors import ServiceError

NAME_COLUMNS = ("name", "nom", "prénom nom", "nom complet")
ORGANISATION_COLUMNS = ("organisation", "organization", "structure", "organisme")
MAX_ROWS = 5000


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    return next((lowered.index(n) for n in names if n in lowered), None)


def import_csv(session: Session, text: str) -> dict:
    """Add every person of a CSV list (name, organisation, email…) to the session's attendance, once each."""
    if not text.strip():
        raise ServiceError("empty_list", _l("The list is empty."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    name_at = _column(rows[0], NAME_COLUMNS)
    if name_at is None:
        raise ServiceError("no_name_column", _l("The list needs a column named « name » (or « nom »)."))
    if len(rows) - 1 > MAX_ROWS:
        raise ServiceError("list_too_long", _l("The list has more than %(max)s people.", max=MAX_ROWS))
    organisation_at = _column(rows[0], ORGANISATION_COLUMNS)
    known = {(p.name, p.organisation) for p in db.session.scalars(
        select(Participant).join(Attendance, Attendance.participant_id == Participant.id)
        .where(Attendance.session_id == session.id))}
    added = skipped = 0
    for row in rows[1:]:
        name = " ".join(row[name_at].split())[:80] if name_at < len(row) else ""
        organisation = (" ".join(row[organisation_at].split())[:120] or None) \
            if organisation_at is not None and organisation_at < len(row) else None
        if not name or (name, organisation) in known:
            skipped += 1
            continue
        participant = Participant(event_id=session.event_id, token=secrets.token_urlsafe(24), name=name,
                                  organisation=organisation)
        db.session.add(participant)
        db.session.flush()
        db.session.add(Attendance(session_id=session.id, participant_id=participant.id))
        known.add((name, organisation))
        added += 1
    db.session.commit()
    return {"added": added, "skipped": skipped}
