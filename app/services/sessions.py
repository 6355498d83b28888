"""Live sessions: join codes, what clients are told about a session, posting state and countdowns."""

from __future__ import annotations

import re
import secrets
import time
from typing import NamedTuple

from flask import current_app
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, event, inspect, or_, select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import lazyload

from ..extensions import db, socketio
from ..models import Attendance, Event, Participant, Session, Table
from .errors import ServiceError

# No 0/O, 1/I/L: a code read aloud or from the back of a hall must not be ambiguous.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
_CODE_CHARS = re.compile(r"^[A-Z0-9]{1,8}$")
MAX_TIMER_SECONDS = 4 * 3600


def new_join_code() -> str:
    """Return a random join code that no session uses yet."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        taken = db.session.scalar(select(Session.id).where(Session.code == code)) or \
            db.session.scalar(select(Table.id).where(Table.code == code))
        if taken is None:
            return code


def normalise_code(code) -> str:
    """Upper-case a typed code and drop spaces and dashes; "" when it cannot be a code at all."""
    if not isinstance(code, str) or len(code) > 40:
        return ""
    code = code.strip().upper().replace(" ", "").replace("-", "")
    # Only the code alphabet (and the look-alikes a person may type) can name something: nothing else is looked up.
    return code if _CODE_CHARS.match(code) else ""


def resolve(code) -> tuple[Session, Table | None]:
    """Return the live session a join code names, with the table when it is a table's code; or refuse."""
    code = normalise_code(code)
    # One query for both kinds of code: phones post through table codes, many times a second.
    row = db.session.execute(
        select(Session, Table)
        .outerjoin(Table, and_(Table.session_id == Session.id, Table.code == code, Table.removed.is_(False)))
        .where(or_(Session.code == code, Table.code.is_not(None)))).first() if code else None
    if row is None or row.Session.removed:
        raise ServiceError("unknown_code", _l("No workshop has this code. Check the code shown on the screen."), 404)
    return row.Session, row.Table


class PostTarget(NamedTuple):
    """What posting needs of a session, reached through one of its codes."""

    session_id: int
    code: str  # the session's own code, even when reached through a table's
    frameworks: list[dict]
    table_tags: dict
    state: dict  # the format state, which opens the framework items that name a flag of it
    workshop: str = "board"


# Phones post many times a second through a few codes: what posting needs of them is kept this long, so a
# re-import that changes a session's tags, or retires it, reaches posting within seconds (open/closed does not
# depend on it: the writer reads it in its own transaction).
POST_TARGET_SECONDS = 5.0


def post_target(code) -> PostTarget:
    """Return what posting needs of the live session a code names (cached briefly per process), or refuse."""
    code = normalise_code(code)
    cache = current_app.extensions.setdefault("rouages.post_targets", {})
    hit = cache.get(code)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    session, table = resolve(code)
    target = PostTarget(session.id, session.code, frameworks_of(session), dict(table.tags) if table else {},
                        format_state(session), session.workshop)
    cache[code] = (time.monotonic() + POST_TARGET_SECONDS, target)
    return target


def forget_post_targets() -> None:
    """Drop the cached post targets (after an import in this process)."""
    current_app.extensions.pop("rouages.post_targets", None)


def get_session(code) -> Session:
    """Return the live session a session or table join code names, or refuse."""
    return resolve(code)[0]


def live_tables(session: Session) -> list[Table]:
    """Return the session's tables still in its settings."""
    return [t for t in session.tables if not t.removed]


def table_payload(table: Table) -> dict:
    """Return a table as clients receive it."""
    host = table.host_participant.name if table.host_participant is not None else None
    return {"key": table.key, "code": table.code, "name": table.name, "tags": table.tags, "host": host or table.host}


def room(session_id: int) -> str:
    """Return the Socket.IO room of everyone joined to or watching a session."""
    return f"session:{session_id}"


def participant_room(participant_id: int) -> str:
    """Return the room of one participant's phones, which hear that they were made a table's host."""
    return f"participant:{participant_id}"


def screens_room(session_id: int) -> str:
    """Return the room of the walls, consoles and hosts' pages, which receive every new post as it comes."""
    return f"session:{session_id}:screens"


def organisers_room(session_id: int) -> str:
    """Return the room of the organisers' consoles, the only screens shown posts waiting for review."""
    return f"session:{session_id}:organisers"


def format_state(session: Session) -> dict:
    """Return what the facilitator switched on or off in the session's format (its own flags), {} at first."""
    return dict(session.settings.get("state") or {})


# A format's state is a few flags, never a store of content.
STATE_KEYS_MAX = 20


def set_format_state(session: Session, changes: dict) -> dict:
    """Merge `changes` (flag names to true, false, a number or a short text) into the format state; tell everyone."""
    if not isinstance(changes, dict) or not changes:
        raise ServiceError("invalid_state", _l("Nothing to change."))
    for name, value in changes.items():
        if not isinstance(name, str) or not 0 < len(name) <= 40 or not (
                value is None or isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= 200)):
            raise ServiceError("invalid_state", _l("This change cannot be stored."))
    state = {**format_state(session), **changes}
    if len(state) > STATE_KEYS_MAX:
        raise ServiceError("invalid_state", _l("This change cannot be stored."))
    return store_state(session, state)


def store_state(session: Session, state: dict) -> dict:
    """Store a session's whole format state, commit and tell everyone (its values already checked)."""
    # The column is plain JSON: a new mapping is what tells SQLAlchemy it changed.
    session.settings = {**session.settings, "state": state}
    db.session.commit()
    forget_post_targets()  # this process posts under the new state at once; other workers within POST_TARGET_SECONDS
    payload = {"code": session.code, "state": state, "srev": session.state_rev}
    socketio.emit("format_state", payload, to=room(session.id))
    return payload


def fresh_state(session_id: int) -> dict:
    """Return a session's format state read now, past the post targets' cache."""
    settings = db.session.scalar(select(Session.settings).where(Session.id == session_id))
    return dict((settings or {}).get("state") or {})


def frameworks_of(session: Session) -> list[dict]:
    """Return the frameworks posts of this session are tagged with, with their items."""
    if "frameworks" in session.settings:  # kept there by the import: no need to read the event on each post
        return session.settings["frameworks"]
    return derive_frameworks(session.event.spec, session.settings.get("tags", []))


def derive_frameworks(spec: dict, tags: list[dict]) -> list[dict]:
    """Return the frameworks an event file's session tags name, with their items (those a tag lists), in the tags' order."""
    by_key = {fw["key"]: fw for fw in spec.get("frameworks", [])}
    out = []
    for tag in tags:
        fw = by_key.get(tag["framework"])
        if fw is None:
            continue
        out.append({
            "key": fw["key"],
            "label": fw["label"],
            "required": bool(tag.get("required", False)),
            "items": [{"key": item["key"], "label": item["label"]} for item in fw["items"]
                      if "items" not in tag or item["key"] in tag["items"]],
        })
    return out


def now_ms() -> int:
    """Return the current Unix time in milliseconds."""
    return int(time.time() * 1000)


def timer_payload(session: Session) -> dict:
    """Return the countdown as clients render it; `now` lets them correct their clock."""
    ends_at = session.timer_ends_at if session.timer_ends_at and session.timer_ends_at > now_ms() else None
    return {"code": session.code, "srev": session.state_rev, "ends_at": ends_at,
            "seconds": session.timer_seconds if ends_at else None,
            "now": now_ms()}


# Columns of a session that its snapshot does not show, or shows read afresh: changing them is no new state.
_NOT_STATE = frozenset({"last_seq", "last_rev", "state_rev"})


@event.listens_for(OrmSession, "before_flush")
def _number_state_changes(orm_session: OrmSession, _context, _instances) -> None:
    """Bump `state_rev` of every session whose snapshot a flush changes, in the same transaction."""
    touched: set[int] = set()
    with orm_session.no_autoflush:
        for obj in orm_session.dirty:
            if isinstance(obj, Session):
                state = inspect(obj)
                if any(state.attrs[name].history.has_changes() for name in state.mapper.columns.keys()
                       if name not in _NOT_STATE):
                    touched.add(obj.id)
            elif isinstance(obj, Table) and orm_session.is_modified(obj) and obj.session_id is not None:
                touched.add(obj.session_id)
            elif isinstance(obj, Participant) and inspect(obj).attrs.name.history.has_changes():
                # A table's host is shown by name.
                touched.update(orm_session.scalars(select(Table.session_id).where(Table.host_participant_id == obj.id)))
            elif isinstance(obj, Event) and inspect(obj).attrs.title.history.has_changes():
                touched.update(orm_session.scalars(select(Session.id).where(Session.event_id == obj.id)))
        for obj in orm_session.new | orm_session.deleted:
            if isinstance(obj, Table) and obj.session_id is not None:
                touched.add(obj.session_id)
        for session_id in touched:
            session = orm_session.get(Session, session_id)
            if session is not None and session not in orm_session.new:
                session.state_rev = Session.state_rev + 1


def session_payload(session: Session, table: Table | None = None) -> dict:
    """Return the public description of a session (seen from one of its tables, when given).

    Built once per state of the session, table and language in each process, then shared: when a room of phones
    rejoins at once, each one's ack costs a dictionary copy, not a dozen queries.
    """
    cache = current_app.extensions.setdefault("rouages.session_payloads", {})
    key = (session.id, table.id if table is not None else None, str(get_locale()))
    hit = cache.get(key)
    if hit is None or hit[0] != session.state_rev:
        hit = cache[key] = (session.state_rev, _session_payload(session, table))
    return {**hit[1], "timer": timer_payload(session), "seq": session.last_seq, "rev": session.last_rev}


def _session_payload(session: Session, table: Table | None) -> dict:
    from workshops import registry

    event: Event = session.event
    return {
        "table": table_payload(table) if table is not None else None,
        "tables": [table_payload(t) for t in live_tables(session)],
        "code": session.code,
        "key": session.key,
        "title": session.title,
        "question": session.question,
        "workshop": session.workshop,
        "event": {"slug": event.slug, "title": event.title},
        "is_open": session.is_open,
        "opening": opening_of(session),
        "phase": current_phase(session),
        "phases": [phase_view(p) for p in session.settings.get("phases", [])],
        "harvest_categories": session.settings.get("harvest", []),
        "actions": session.settings.get("actions", []),
        "frameworks": frameworks_of(session),
        "state": format_state(session),
        "vote": {"state": session.vote_state, "budget": session.vote_budget,
                 "max_per_post": session.vote_max_per_post},
        "srev": session.state_rev,
        "screens": fmt.screens() if (fmt := registry().get(session.workshop)) is not None else {},
        "posts": fmt.takes_posts if fmt is not None else True,
        "questions": fmt.questions if fmt is not None else False,
        "review": session.review,
    }


def current_phase(session: Session) -> dict | None:
    """Return the session's current phase as its format defined it, labelled in the request's language."""
    phase = next((p for p in session.settings.get("phases", []) if p["key"] == session.phase), None)
    return phase_view(phase) if phase is not None else None


# Sessions imported before labels were stored as message ids hold the label in the import's language; the
# built-in formats' steps are recognised by their key so that they are translated too (a re-import stores ids).
_LEGACY_LABELS = {"welcome": "Welcome", "harvest": "Harvest", "vote": "Vote", "done": "Done",
                  "collect": "Collecting ideas"}
_LEGACY_ROUND = re.compile(r"^round_(\d+)$")


def phase_view(phase: dict) -> dict:
    """Return a stored phase as clients receive it, its label translated into the current language."""
    msgid, params = phase.get("label_msgid"), phase.get("label_params") or {}
    if msgid is None:
        round_ = _LEGACY_ROUND.match(phase["key"])
        msgid, params = ("Round %(n)s", {"n": int(round_[1])}) if round_ else (_LEGACY_LABELS.get(phase["key"]), {})
    shown = {name: value for name, value in phase.items() if name not in ("label_msgid", "label_params")}
    return {**shown, "label": gettext(msgid, **params)} if msgid is not None else shown


def set_phase(session: Session, key=None) -> dict:
    """Move to phase `key` (the next one when None): posting and countdown follow the phase; tell everyone."""
    phases = session.settings.get("phases", [])
    keys = [p["key"] for p in phases]
    if key is None:
        index = keys.index(session.phase) + 1 if session.phase in keys else 0
        if index >= len(keys):
            raise ServiceError("last_phase", _l("This workshop is already at its last step."), 409)
        key = keys[index]
    if not isinstance(key, str) or key not in keys:
        raise ServiceError("unknown_phase", _l("This workshop has no such step."))
    phase = phase_view(phases[keys.index(key)])
    session.phase = key
    set_posting(session, phase["posting"])
    if phase["minutes"]:
        session.timer_seconds = phase["minutes"] * 60
        session.timer_ends_at = now_ms() + session.timer_seconds * 1000
    else:
        session.timer_seconds = session.timer_ends_at = None
    db.session.commit()
    payload = {"code": session.code, "phase": phase, "index": keys.index(key), "count": len(keys),
               "is_open": session.is_open, "opening": opening_of(session), "timer": timer_payload(session),
               "srev": session.state_rev}
    socketio.emit("phase", payload, to=room(session.id))
    return payload


def attendees(session: Session) -> list[Participant]:
    """Return the participants who joined the session, first come first."""
    return list(db.session.scalars(select(Participant).join(Attendance, Attendance.participant_id == Participant.id)
                                   .where(Attendance.session_id == session.id).order_by(Attendance.id)))


def store_plan(session: Session, plan: dict) -> dict:
    """Keep a rotation plan ({tables, rounds, assignments: {participant id: [table key per round]}}) and send it out."""
    session.plan = plan
    db.session.commit()
    return send_plan(session)


def send_plan(session: Session) -> dict:
    """Send a session's rotation plan to everyone in it."""
    payload = {"code": session.code, "plan": session.plan, "srev": session.state_rev}
    socketio.emit("plan", payload, to=room(session.id))
    return payload


def assignment_of(session: Session, participant: Participant) -> list[str] | None:
    """Return the table keys a participant goes to, round by round, if a plan seats them."""
    return (session.plan or {}).get("assignments", {}).get(str(participant.id))


_ROUND = re.compile(r"^round_(\d+)$")


def plan_round(session: Session) -> int | None:
    """Return the index in the plan of the round the session is in (0 for « Round 1 »), if it is in a round."""
    match = _ROUND.match(session.phase or "")
    return int(match[1]) - 1 if match else None


def _attendance(session: Session, participant: Participant) -> Attendance | None:
    return db.session.scalar(select(Attendance).where(Attendance.session_id == session.id,
                                                      Attendance.participant_id == participant.id))


def seat_of(session: Session, participant: Participant, attendance: Attendance | None = None) -> dict | None:
    """Return the table a participant is at, which their posts go to, and why; None when nothing seats them.

    The one rule: the plan says where to go, a post goes to where the person is. Where they are is the table they
    last stated (scanned its card, or said « I am at table X ») during the current step; else, in a round, the plan's
    table for it; else the table they last stated.
    """
    attendance = attendance if attendance is not None else _attendance(session, participant)
    assigned = assignment_of(session, participant) or []
    index = plan_round(session)
    wanted = {attendance.table_key} if attendance is not None and attendance.table_key else set()
    if index is not None and index < len(assigned):
        wanted.add(assigned[index])
    if not wanted:
        return None
    # Only the tables that may seat them, not every table: a room rejoining at once asks this for each phone.
    tables = {t.key: t for t in db.session.scalars(select(Table).options(lazyload(Table.host_participant)).where(
        Table.session_id == session.id, Table.key.in_(wanted), Table.removed.is_(False)))}
    stated = attendance.table_key if attendance is not None and attendance.table_key in tables else None
    planned = assigned[index] if index is not None and index < len(assigned) and assigned[index] in tables else None
    if stated and (planned is None or attendance.seated_phase == session.phase):
        key, source = stated, "stated"
    elif planned:
        key, source = planned, "plan"
    else:
        return None
    table = tables[key]
    return {"key": key, "code": table.code, "name": table.name, "tags": table.tags, "source": source,
            "planned": planned, "late": str(participant.id) in (session.plan or {}).get("late", [])}


def state_seat(session: Session, participant: Participant, key) -> dict | None:
    """Record that a participant is at table `key` now (« I am at table X »), tell the screens, return the seat."""
    if not isinstance(key, str) or key not in {t.key for t in live_tables(session)}:
        raise ServiceError("unknown_table", _l("This workshop has no such table."))
    attendance = _attendance(session, participant)
    if attendance is None:
        raise ServiceError("not_joined", _l("Join the workshop before posting."), 403)
    attendance.table_key, attendance.seated_phase = key, session.phase
    db.session.commit()
    seating_changed(session)
    return seat_of(session, participant, attendance)


def seating_changed(session: Session) -> None:
    """Tell the consoles that someone stated where they are (they ask for `seating` again)."""
    socketio.emit("seating_changed", {"code": session.code}, to=screens_room(session.id))


def seating(session: Session, organiser: bool) -> dict:
    """Return who goes to which table in each round of the plan (by name), and, for organisers, who is where now."""
    tables = live_tables(session)
    plan = session.plan or {}
    rows = db.session.execute(select(Attendance, Participant).join(Participant, Attendance.participant_id == Participant.id)
                              .where(Attendance.session_id == session.id).order_by(Attendance.id)).all()
    names = {str(p.id): p.name for _a, p in rows}
    rounds = []
    for index in range(plan.get("rounds", 0)):
        going = {t.key: [] for t in tables}
        for pid, keys in plan.get("assignments", {}).items():
            if index < len(keys) and keys[index] in going:
                going[keys[index]].append(names.get(pid))
        rounds.append([{"key": t.key, "name": t.name, "people": sorted(n for n in going[t.key] if n),
                        "unnamed": sum(1 for n in going[t.key] if not n)} for t in tables])
    out: dict = {"code": session.code, "round": plan_round(session), "rounds": rounds}
    if organiser:
        here = {t.key: {"key": t.key, "name": t.name, "planned": 0, "here": 0, "elsewhere": []} for t in tables}
        for attendance, participant in rows:
            seat = seat_of(session, participant, attendance)
            if seat is None:
                continue
            here[seat["key"]]["here"] += 1
            if seat["planned"]:
                here[seat["planned"]]["planned"] += 1
                if seat["planned"] != seat["key"]:
                    here[seat["key"]]["elsewhere"].append({"name": participant.name, "planned": seat["planned"]})
        out["tables"] = list(here.values())
    return out


def set_open(session: Session, is_open) -> dict:
    """Open or close posting, and tell every client of the session."""
    if not isinstance(is_open, bool):
        raise ServiceError("invalid_field", _l("The field %(field)s must be true or false.", field="open"))
    if session.is_open != is_open:
        set_posting(session, is_open)
        db.session.commit()
        socketio.emit("session_state", state_payload(session), to=room(session.id))
    return state_payload(session)


def state_payload(session: Session) -> dict:
    """Return whether posting is open, as the `session_state` event and `session_open` ack say it."""
    return {"code": session.code, "is_open": session.is_open, "opening": opening_of(session), "review": session.review,
            "srev": session.state_rev}


def set_posting(session: Session, is_open: bool) -> None:
    """Open or close posting (not committed): each opening gets a new number, each closing its time."""
    if is_open and not session.is_open:
        session.opening += 1
    elif session.is_open and not is_open:
        session.closed_at = now_ms()
    session.is_open = is_open


def opening_of(session: Session) -> int | None:
    """Return the opening phones stamp their ideas with: given out only while posting is open."""
    return session.opening if session.is_open else None


def start_timer(session: Session, seconds) -> dict:
    """Start a countdown of `seconds`, shown in sync on the wall and the phones."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= MAX_TIMER_SECONDS:
        raise ServiceError("invalid_timer", _l("The countdown must last between 1 second and 4 hours."))
    session.timer_seconds = seconds
    session.timer_ends_at = now_ms() + seconds * 1000
    db.session.commit()
    payload = timer_payload(session)
    socketio.emit("timer", payload, to=room(session.id))
    return payload


def stop_timer(session: Session) -> dict:
    """Stop the countdown everywhere."""
    session.timer_ends_at = None
    session.timer_seconds = None
    db.session.commit()
    payload = timer_payload(session)
    socketio.emit("timer", payload, to=room(session.id))
    return payload
