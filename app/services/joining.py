"""Participants: joining a session from a phone, with no account."""

from __future__ import annotations

import re
import secrets
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Attendance, Participant, Session, Table, utcnow
from .errors import ServiceError, optional_str, require_dict
from .limits import check_new_participant
from .registrations import claim
from .sessions import resolve, seating_changed, send_plan

NAME_MAX = 80
# Tokens are made by secrets.token_urlsafe: anything else names nobody and never reaches the database.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
ORGANISATION_MAX = 120


def participant_by_token(session: Session, token) -> Participant | None:
    """Return the participant of the session's event holding this token, if any."""
    return participant_of_event(session.event_id, token)


def participant_of_event(event_id: int, token) -> Participant | None:
    """Return the participant of this event holding this token, if any."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None
    return db.session.scalar(select(Participant).where(Participant.token == token, Participant.event_id == event_id))


class Joined(NamedTuple):
    """Who joined what: the participant, the session, the table whose code they used (if any), their attendance."""

    participant: Participant
    session: Session
    table: Table | None
    attendance: Attendance


def join(data, address: str | None = None) -> Joined:
    """Join a session (or one of its tables) by code: reuse the participant behind a known token, else create one.

    A new participant counts against the joins allowed from the client's `address`.
    """
    data = require_dict(data)
    session, table = resolve(data.get("code"))
    name = optional_str(data, "name", NAME_MAX)
    organisation = optional_str(data, "organisation", ORGANISATION_MAX)
    participant, attendance = _participant_and_attendance(session, data.get("token"))
    # A room of phones rejoining at once mostly changes nothing: then nothing is written and the rows just read stay
    # loaded for the answer (a commit would expire them and have each read again).
    new = changed = participant is None
    if new:
        check_new_participant(address)
        participant = Participant(event_id=session.event_id, token=secrets.token_urlsafe(24))
        db.session.add(participant)
    elif participant.listed:
        # A phone holds this listed person's token (given out by the organisers): nobody may take the entry by name
        # now, nor claim their personal QR code.
        participant.listed, changed = False, True
        if participant.badge is not None and participant.badge_claimed_at is None:
            participant.badge_claimed_at = utcnow()
    # A registrant's name is the registration list's: what a phone types never replaces it (the next import
    # recognises people by name and organisation when there is no e-mail).
    renamed = False
    if participant.registered_position is None:
        if name is not None and name != participant.name:
            participant.name, renamed = name, True
        if organisation is not None and organisation != participant.organisation:
            participant.organisation, renamed = organisation, True
    db.session.flush()
    attended = select(Attendance).where(Attendance.session_id == session.id,
                                        Attendance.participant_id == participant.id)
    # Someone on the session's registration list, giving their name, takes their place on it. A phone already in
    # the session under the same name was skipped by any list imported since (registrations.import_list), so only
    # a first join or a new name can match an entry.
    replanned = []
    if name is not None and (renamed or attendance is None):
        replanned, changed = claim(session, participant), True
        attendance = db.session.scalar(attended)
    if attendance is None:
        attendance, changed = Attendance(session_id=session.id, participant_id=participant.id), True
        db.session.add(attendance)
    if table is not None:
        # Scanning a table's card says « I am at this table » (see sessions.seat_of).
        attendance.table_key, attendance.seated_phase, changed = table.key, session.phase, True
    if changed or renamed:
        db.session.commit()
    if table is not None:
        seating_changed(session)
    for changed_session in replanned:
        send_plan(changed_session)
    return Joined(participant, session, table, attendance)


def _participant_and_attendance(session: Session, token) -> tuple[Participant | None, Attendance | None]:
    """Return the participant of the session's event holding this token and their attendance of the session, in one
    query (a room rejoining at once asks it for every phone)."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None, None
    row = db.session.execute(
        select(Participant, Attendance)
        .outerjoin(Attendance, (Attendance.participant_id == Participant.id) & (Attendance.session_id == session.id))
        .where(Participant.token == token, Participant.event_id == session.event_id)).first()
    return (row.Participant, row.Attendance) if row is not None else (None, None)


def participant_payload(participant: Participant) -> dict:
    """Return what a phone keeps about itself."""
    return {"id": participant.id, "token": participant.token, "name": participant.name,
            "organisation": participant.organisation}


def require_participant(session: Session, token) -> Participant:
    """Return the participant behind a token, or refuse as not joined."""
    participant = participant_by_token(session, token)
    if participant is None:
        raise ServiceError("not_joined", _l("Join the workshop before posting."), 403)
    return participant
