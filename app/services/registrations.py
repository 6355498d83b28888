"""Registration lists: seating people who registered ahead, even without a phone, in a session's plan."""

from __future__ import annotations

import csv
import io
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update

from ..extensions import db
from ..models import Attendance, Participant, Post, Session, Vote
from .errors import ServiceError
from .text import person_key

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
    known = {(person_key(p.name), person_key(p.organisation)) for p in _attendees(session)}
    added = skipped = 0
    for row in rows[1:]:
        name = " ".join(row[name_at].split())[:80] if name_at < len(row) else ""
        organisation = (" ".join(row[organisation_at].split())[:120] or None) \
            if organisation_at is not None and organisation_at < len(row) else None
        key = (person_key(name), person_key(organisation))
        if not key[0] or key in known:
            skipped += 1
            continue
        participant = Participant(event_id=session.event_id, token=secrets.token_urlsafe(24), name=name,
                                  organisation=organisation, listed=True)
        db.session.add(participant)
        db.session.flush()
        db.session.add(Attendance(session_id=session.id, participant_id=participant.id))
        known.add(key)
        added += 1
    db.session.commit()
    return {"added": added, "skipped": skipped}


def _attendees(session: Session, *criteria) -> list[Participant]:
    return list(db.session.scalars(select(Participant).join(Attendance, Attendance.participant_id == Participant.id)
                                   .where(Attendance.session_id == session.id, *criteria)))


def claim(session: Session, phone: Participant | None, name: str, organisation: str | None) -> Participant | None:
    """Hand a phone the unclaimed list entry of this session that bears its name, if exactly one does.

    Only a phone that has not posted or voted yet can claim: its attendances move to the entry, so the rotation
    plan counts the person once and the phone is shown the tables the plan gave them.
    """
    wanted, organisation_key = person_key(name), person_key(organisation)
    if not wanted or (phone is not None and phone.listed):
        return None
    matches = [p for p in _attendees(session, Participant.listed.is_(True)) if person_key(p.name) == wanted]
    if organisation_key:
        matches = [p for p in matches if person_key(p.organisation) == organisation_key] or [
            p for p in matches if not p.organisation]
    if len(matches) != 1 or (phone is not None and _has_acted(phone)):
        return None
    entry = matches[0]
    # A conditional update, so that two phones giving the same name at once cannot both take the entry.
    taken = db.session.execute(update(Participant).where(Participant.id == entry.id, Participant.listed.is_(True))
                               .values(listed=False).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        return None
    entry.listed = False
    if phone is not None:
        attended = set(db.session.scalars(select(Attendance.session_id).where(Attendance.participant_id == entry.id)))
        for attendance in db.session.scalars(select(Attendance).where(Attendance.participant_id == phone.id)):
            if attendance.session_id in attended:
                db.session.delete(attendance)
            else:
                attendance.participant_id = entry.id
    return entry


def _has_acted(participant: Participant) -> bool:
    posted = exists().where(Post.participant_id == participant.id)
    voted = exists().where(Vote.participant_id == participant.id)
    return bool(db.session.scalar(select(posted | voted)))
