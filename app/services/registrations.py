"""Registration lists: seating people who registered ahead, even without a phone, in a session's plan."""

from __future__ import annotations

import csv
import io
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..extensions import db
from ..models import Attendance, Participant, Session
from .errors import ServiceError
from .text import clean_line, person_key

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
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error:  # a field over the csv module's limit, a NUL byte…
        raise ServiceError("unreadable_list", _l("This file cannot be read as a CSV list.")) from None
    name_at = _column(rows[0], NAME_COLUMNS)
    if name_at is None:
        raise ServiceError("no_name_column", _l("The list needs a column named “name” (or “nom”)."))
    if len(rows) - 1 > MAX_ROWS:
        raise ServiceError("list_too_long", _l("The list has more than %(max)s people.", max=MAX_ROWS))
    organisation_at = _column(rows[0], ORGANISATION_COLUMNS)
    known = {(person_key(p.name), person_key(p.organisation)) for p in _attendees(session)}
    added = skipped = 0
    for row in rows[1:]:
        name = clean_line(row[name_at])[:80] if name_at < len(row) else ""
        organisation = (clean_line(row[organisation_at])[:120] or None) \
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


def claim(session: Session, phone: Participant) -> list[Session]:
    """Seat a phone in place of the unclaimed entry of this session's list that bears its name, if exactly one does.

    The phone keeps its identity (token, ideas, dots); the entry's attendances and its seats in rotation plans pass
    to it, and the entry is deleted. Returns the sessions whose plan changed, to send out once committed.
    """
    wanted, organisation_key = person_key(phone.name), person_key(phone.organisation)
    if not wanted or phone.listed:
        return []
    matches = [p for p in _attendees(session, Participant.listed.is_(True)) if person_key(p.name) == wanted]
    if organisation_key:
        matches = [p for p in matches if person_key(p.organisation) == organisation_key] or [
            p for p in matches if not p.organisation]
    if len(matches) != 1:
        return []
    entry = matches[0]
    # A conditional update, so that two phones giving the same name at once cannot both take the entry.
    taken = db.session.execute(update(Participant).where(Participant.id == entry.id, Participant.listed.is_(True))
                               .values(listed=False).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        return []
    if not phone.organisation:
        phone.organisation = entry.organisation
    own = {a.session_id: a for a in db.session.scalars(select(Attendance).where(Attendance.participant_id == phone.id))}
    theirs = list(db.session.scalars(select(Attendance).where(Attendance.participant_id == entry.id)))
    for attendance in theirs:
        if attendance.session_id in own:
            mine = own[attendance.session_id]
            # Where the phone said it is stays said (see sessions.seat_of).
            attendance.table_key, attendance.seated_phase = mine.table_key, mine.seated_phase
            db.session.delete(mine)
    db.session.flush()  # the phone's own attendances go before the entry's take their place (one per session)
    replanned = []
    for attendance in theirs:
        attendance.participant_id = phone.id  # keeps the entry's place in the order people were listed
        listed_in = db.session.get(Session, attendance.session_id)
        assignments = dict((listed_in.plan or {}).get("assignments", {}))
        if str(entry.id) in assignments:
            # The printed plan is what a listed person looks up: they take the entry's tables.
            assignments[str(phone.id)] = assignments.pop(str(entry.id))
            # A phone seated as a late arrival before it gave its name now has the entry's seats instead.
            late = [pid for pid in listed_in.plan.get("late", []) if pid != str(phone.id)]
            listed_in.plan = {**listed_in.plan, "assignments": assignments, "late": late}
            replanned.append(listed_in)
    db.session.flush()
    db.session.delete(entry)
    return replanned
