"""Registration lists: the event's list of registrants, and per-session lists seating people ahead in a plan."""

from __future__ import annotations

import csv
import io
import secrets

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..extensions import db
from ..models import Attendance, Event, Participant, Session
from .errors import ServiceError
from .text import clean_line, person_key

NAME_COLUMNS = ("name", "nom", "prénom nom", "nom complet")
ORGANISATION_COLUMNS = ("organisation", "organization", "structure", "organisme")
EMAIL_COLUMNS = ("email", "e-mail", "mail", "courriel", "adresse e-mail", "adresse mail", "adresse électronique")
ROLE_COLUMNS = ("role", "rôle", "fonction", "qualité")
MAX_ROWS = 5000
MAX_BYTES = 2_000_000  # far more than MAX_ROWS people take: a larger file is the wrong file


def read_list(stream) -> str:
    """Return the text of an uploaded CSV list (a binary stream), refusing a file over MAX_BYTES rather than cut it."""
    raw = stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ServiceError("list_too_large", _l("The file is larger than %(size)s MB: it cannot be a list of people.",
                                                size=MAX_BYTES // 1_000_000), 413)
    return decode_list(raw)


def decode_list(raw: bytes) -> str:
    """Return a CSV list's text: UTF-8 (with or without a byte-order mark), else Windows-1252 (Excel in French)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise ServiceError("unreadable_list", _l("This file is neither UTF-8 nor Windows-1252 text: save it as "
                                                 "“CSV UTF-8” and try again.")) from None


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    return next((lowered.index(n) for n in names if n in lowered), None)


def _read(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Return a CSV list's header and its rows, each with the line it ends on; refuse what cannot be a list."""
    if not text.strip():
        raise ServiceError("empty_list", _l("The list is empty."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error:  # a field over the csv module's limit, a NUL byte…
        raise ServiceError("unreadable_list", _l("This file cannot be read as a CSV list.")) from None
    if _column(rows[0][1], NAME_COLUMNS) is None:
        raise ServiceError("no_name_column", _l("The list needs a column named “name” (or “nom”)."))
    if len(rows) - 1 > MAX_ROWS:
        raise ServiceError("list_too_long", _l("The list has more than %(max)s people.", max=MAX_ROWS))
    return rows[0][1], rows[1:]


def _cell(row: list[str], at: int | None, limit: int) -> str | None:
    """Return a row's cleaned field at a column (None when absent or blank), cut to the column's size."""
    return (clean_line(row[at])[:limit] or None) if at is not None and at < len(row) else None


def import_csv(session: Session, text: str) -> dict:
    """Add every person of a CSV list (name, organisation, email…) to the session's attendance, once each.

    Someone already on the event's registration list is seated in the session as themselves, not added twice.
    """
    header, rows = _read(text)
    name_at, organisation_at = _column(header, NAME_COLUMNS), _column(header, ORGANISATION_COLUMNS)
    known = {_key(p) for p in _attendees(session)}
    registered = {_key(p): p for p in db.session.scalars(select(Participant).where(
        Participant.event_id == session.event_id, Participant.registered_position.is_not(None)))}
    added = skipped = 0
    for _line, row in rows:
        name = _cell(row, name_at, 80) or ""
        organisation = _cell(row, organisation_at, 120)
        key = (person_key(name), person_key(organisation))
        if not key[0] or key in known:
            skipped += 1
            continue
        participant = registered.get(key)
        if participant is None:
            participant = Participant(event_id=session.event_id, token=secrets.token_urlsafe(24), name=name,
                                      organisation=organisation, listed=True)
            db.session.add(participant)
            db.session.flush()
        db.session.add(Attendance(session_id=session.id, participant_id=participant.id))
        known.add(key)
        added += 1
    db.session.commit()
    return {"added": added, "skipped": skipped}


def _key(participant: Participant) -> tuple[str, str]:
    return person_key(participant.name), person_key(participant.organisation)


def _email(raw: str | None, line: int) -> str | None:
    """Return an e-mail address as stored (its domain normalised), or refuse it with the line it is on."""
    if raw is None:
        return None
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ServiceError("invalid_email", _l("Line %(line)s: “%(email)s” is not a valid e-mail address.",
                                               line=line, email=raw)) from None


def import_registrants(event: Event, text: str) -> dict:
    """Make a CSV list (name, organisation, e-mail, role) the event's registration list, in its order.

    Someone already known (by e-mail, else by name and organisation) keeps their badge, token, claim and ideas and
    takes their new place; a newcomer gets a badge of their own. People no longer on the list are kept (they may
    have posted) but leave the list. A bad e-mail address refuses the whole file: nothing changes.
    """
    header, rows = _read(text)
    at = {field: _column(header, names) for field, names in (
        ("name", NAME_COLUMNS), ("organisation", ORGANISATION_COLUMNS), ("email", EMAIL_COLUMNS),
        ("role", ROLE_COLUMNS))}
    wanted: list[dict] = []
    skipped = 0
    for line, row in rows:
        entry = {"name": _cell(row, at["name"], 80), "organisation": _cell(row, at["organisation"], 120),
                 "email": _email(_cell(row, at["email"], 254), line), "role": _cell(row, at["role"], 120)}
        if not person_key(entry["name"]):
            skipped += 1
            continue
        wanted.append(entry)
    known = list(db.session.scalars(select(Participant).where(Participant.event_id == event.id,
                                                              Participant.badge.is_not(None))
                                    .order_by(Participant.registered_position, Participant.id)))
    by_email = {p.email.casefold(): p for p in known if p.email}
    by_key: dict[tuple[str, str], Participant] = {}
    for participant in known:
        by_key.setdefault(_key(participant), participant)
    placed: set[int] = set()
    added = updated = 0
    position = 0
    for entry in wanted:
        email = entry["email"].casefold() if entry["email"] else None
        person = by_email.get(email) if email else None
        if person is None:
            person = by_key.get((person_key(entry["name"]), person_key(entry["organisation"])))
            if person is not None and email and person.email and person.email.casefold() != email:
                person = None  # a namesake from the same place, with another address: someone else
        if person is not None and person.id in placed:
            skipped += 1  # the same person twice in the list
            continue
        position += 1
        if person is None:
            person = Participant(event_id=event.id, token=secrets.token_urlsafe(24), badge=secrets.token_urlsafe(9),
                                 listed=True)
            db.session.add(person)
            added += 1
        else:
            updated += 1
        person.name, person.organisation, person.role = entry["name"], entry["organisation"], entry["role"]
        person.email = entry["email"] or person.email
        person.registered_position = position
        db.session.flush()
        placed.add(person.id)
        if email:
            by_email[email] = person
        by_key.setdefault((person_key(person.name), person_key(person.organisation)), person)
    removed = 0
    for participant in known:
        if participant.id not in placed and participant.registered_position is not None:
            participant.registered_position = None
            removed += 1
    db.session.commit()
    return {"added": added, "updated": updated, "skipped": skipped, "removed": removed}


def seat_registrants(session: Session) -> int:
    """Count the event's registration list among the people a session's plan seats; return how many were added.

    Someone already seated through the session's own list (the same name and organisation) is not seated twice:
    their phone takes that entry when it gives their name. People who left the list and never claimed their
    code leave the session too.
    """
    rows = db.session.execute(select(Attendance, Participant).join(Participant, Attendance.participant_id == Participant.id)
                              .where(Attendance.session_id == session.id)).all()
    seated = {participant.id for _attendance, participant in rows}
    for attendance, participant in rows:
        if (participant.badge is not None and participant.registered_position is None and participant.listed
                and attendance.table_key is None):
            db.session.delete(attendance)
            seated.discard(participant.id)
    listed_keys = {_key(participant) for _attendance, participant in rows
                   if participant.listed and participant.badge is None}
    added = 0
    for participant in db.session.scalars(select(Participant).where(
            Participant.event_id == session.event_id, Participant.registered_position.is_not(None))
            .order_by(Participant.registered_position)):
        if participant.id in seated or _key(participant) in listed_keys:
            continue
        db.session.add(Attendance(session_id=session.id, participant_id=participant.id))
        added += 1
    db.session.flush()
    return added


def _attendees(session: Session, *criteria) -> list[Participant]:
    return list(db.session.scalars(select(Participant).join(Attendance, Attendance.participant_id == Participant.id)
                                   .where(Attendance.session_id == session.id, *criteria)))


def claim(session: Session, phone: Participant) -> list[Session]:
    """Seat a phone in place of the unclaimed entry of this session's own list that bears its name, if exactly one does.

    Only entries without a personal QR code are matched: a registrant (on the event's registration list, with a
    code) is only ever claimed by scanning that code, never by a name anyone can type. The phone keeps its identity
    (token, ideas, dots); the entry's attendances and its seats in rotation plans pass to it. The entry is deleted.
    Returns the sessions whose plan changed, to send out once committed.
    """
    wanted, organisation_key = person_key(phone.name), person_key(phone.organisation)
    if not wanted or phone.listed:
        return []
    candidates = _attendees(session, Participant.listed.is_(True), Participant.badge.is_(None),
                            Participant.registered_position.is_(None), Participant.id != phone.id)
    matches = [p for p in candidates if person_key(p.name) == wanted]
    if organisation_key:
        matches = [p for p in matches if person_key(p.organisation) == organisation_key] or [
            p for p in matches if not p.organisation]
    if len(matches) != 1:
        return []
    entry = matches[0]
    # A conditional update, so that two phones giving the same name at once cannot both take the entry.
    taken = db.session.execute(update(Participant).where(Participant.id == entry.id, Participant.listed.is_(True),
                                                         Participant.badge.is_(None))
                               .values(listed=False).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        return []
    if not phone.organisation and phone.registered_position is None:
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
