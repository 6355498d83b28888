"""Format records: a format's own state in a session, kept as JSON under a key, written with revision checks.

A client reads a record with its revision and writes back saying which revision it saw. A write made meanwhile
by someone else makes that revision stale: the write is refused with the record as it is now, so a person
never overwrites a teammate's answer without seeing it first. The check is one conditional ``UPDATE`` (or an
insert guarded by the unique key), so it holds between workers and on PostgreSQL's concurrent transactions.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db, socketio
from ..models import FormatRecord, Session, utcnow
from .errors import ServiceError
from .sessions import participant_room, screens_room

KEY_MAX = 120


def record_payload(record: FormatRecord | None) -> dict | None:
    """Return a record as clients receive it: its key, data and revision."""
    if record is None:
        return None
    return {"key": record.key, "data": record.data, "rev": record.rev}


def get(session: Session, key: str) -> FormatRecord | None:
    """Return the session's record under `key`, or None."""
    return db.session.scalar(select(FormatRecord).where(FormatRecord.session_id == session.id, FormatRecord.key == key))


def find(session: Session, prefix: str = "") -> list[FormatRecord]:
    """Return the session's records whose key starts with `prefix`, in key order."""
    query = select(FormatRecord).where(FormatRecord.session_id == session.id)
    if prefix:
        # Prefixes are the format's own (never a client's text), but LIKE's wildcards are escaped all the same.
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(FormatRecord.key.like(f"{escaped}%", escape="\\"))
    return list(db.session.scalars(query.order_by(FormatRecord.key)))


def stale(session: Session, key: str) -> ServiceError:
    """Return the refusal of a write based on an old revision, carrying the record as it is now."""
    error = ServiceError("stale_record", _l("Someone changed this at the same time as you: check their answer, "
                                            "then send yours again."), 409)
    error.details = {"record": record_payload(get(session, key))}
    return error


def put(session: Session, key: str, data: dict, rev: int | None) -> FormatRecord:
    """Store `data` under `key` if its revision is still `rev` (0: the record must not exist yet; None: whatever it is).

    Commits and returns the stored record; refuses with `stale_record` (and the current record) otherwise.
    """
    if len(key) > KEY_MAX:
        raise ValueError(f"record key longer than {KEY_MAX} characters: {key!r}")
    if rev is None:
        current = get(session, key)
        rev = current.rev if current is not None else 0
    if rev == 0:
        record = FormatRecord(session_id=session.id, key=key, data=data, rev=1)
        db.session.add(record)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise stale(session, key) from None
        return record
    done = db.session.execute(update(FormatRecord)
                              .where(FormatRecord.session_id == session.id, FormatRecord.key == key,
                                     FormatRecord.rev == rev)
                              .values(data=data, rev=rev + 1, updated_at=utcnow()))
    if done.rowcount != 1:
        db.session.rollback()
        raise stale(session, key)
    db.session.commit()
    return get(session, key)


def delete(session: Session, key: str) -> bool:
    """Remove the session's record under `key`; return whether there was one."""
    record = get(session, key)
    if record is None:
        return False
    db.session.delete(record)
    db.session.commit()
    return True


def tell_participants(participant_ids, event: str, payload: dict) -> None:
    """Send a format's event to the phones of these participants (the members of a team, say)."""
    for participant_id in participant_ids:
        socketio.emit(event, payload, to=participant_room(participant_id))


def tell_screens(session: Session, event: str, payload: dict) -> None:
    """Send a format's event to the walls and consoles following the session."""
    socketio.emit(event, payload, to=screens_room(session.id))
