"""The event's registration list: who is expected, in list order, each with their own QR code.

A registrant's QR code (`/p/<badge>`) makes the phone that claims it first that person for the whole event; another
phone is refused until an organiser resets the code, which takes the identity away from the phone that had it.
"""

from __future__ import annotations

import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..extensions import db, socketio
from ..models import Event, Participant, utcnow
from . import network
from .errors import MAX_WHOLE, ServiceError
from .limits import check_badge_lookup
from .sessions import participant_room

# Badges are made by secrets.token_urlsafe(9): anything else names nobody and never reaches the database.
_BADGE = re.compile(r"^[A-Za-z0-9_-]{8,32}$")


def registrants(event: Event) -> list[Participant]:
    """Return the people of the event's registration list, in list order."""
    return list(db.session.scalars(select(Participant).where(Participant.event_id == event.id,
                                                             Participant.registered_position.is_not(None))
                                   .order_by(Participant.registered_position)))


def personal_url(participant: Participant) -> str:
    """Return the URL of a registrant's own QR code: opening it on a phone joins the event as them."""
    return f"{network.public_url()}/p/{participant.badge}"


def by_badge(badge, address: str | None) -> Participant:
    """Return the person whose QR code this is, or refuse; unknown codes count against the client's address.

    Past the limit only unknown codes are refused: a real code always works, so one phone probing behind a venue's
    shared address cannot keep the room from scanning its badges.
    """
    found = db.session.scalar(select(Participant).where(Participant.badge == badge)) \
        if isinstance(badge, str) and _BADGE.match(badge) else None
    if found is None:
        check_badge_lookup(address)
        raise ServiceError("unknown_badge", _l("This personal code is unknown. Check the address, or ask the "
                                               "welcome desk."), 404)
    return found


def holds(participant: Participant, token) -> bool:
    """Whether a phone presenting this token already is this person."""
    return isinstance(token, str) and secrets.compare_digest(token.encode(), participant.token.encode())


def badge_taken() -> ServiceError:
    """Return the refusal of a personal code another phone already holds."""
    return ServiceError("badge_taken", _l("Another phone already uses this personal code. If it is yours, ask the "
                                          "welcome desk: they can give it back to you."), 409)


def claim_badge(participant: Participant, token) -> Participant:
    """Make the phone presenting `token` this person: the first phone to claim a code owns it, the same one may again.

    A conditional update, so that of two phones claiming at once only one wins.
    """
    if holds(participant, token):
        return participant
    if participant.badge_claimed_at is not None:
        raise badge_taken()
    won = db.session.execute(update(Participant).where(Participant.id == participant.id,
                                                       Participant.badge_claimed_at.is_(None))
                             .values(badge_claimed_at=utcnow(), listed=False)
                             .execution_options(synchronize_session=False))
    if won.rowcount != 1:
        db.session.rollback()
        raise badge_taken()
    db.session.commit()
    db.session.refresh(participant)
    return participant


def registrant(event: Event, participant_id) -> Participant | None:
    """Return the event's registrant with this id, or None (also for an id no row can hold)."""
    if isinstance(participant_id, bool) or not isinstance(participant_id, int) or not 0 < participant_id <= MAX_WHOLE:
        return None
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.event_id != event.id or participant.badge is None:
        return None
    return participant


def reset_badge(participant: Participant) -> None:
    """Take a registrant's identity away from the phone that claimed their code: the next phone to scan it owns it.

    The token changes, so the old phone's next join or post is refused or makes it a new participant, and its
    open connections lose the person's private messages (a host link, say) at once.
    """
    if participant.badge is None:
        raise ServiceError("not_registrant", _l("This person is not on the registration list."), 404)
    participant.token = secrets.token_urlsafe(24)
    participant.badge_claimed_at = None
    db.session.commit()
    room = participant_room(participant.id)
    socketio.emit("identity_reset", {"participant": participant.id}, to=room)
    socketio.close_room(room)
