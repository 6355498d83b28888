"""The event's registration list: who is expected, in list order, each with their own QR code."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Event, Participant
from . import network


def registrants(event: Event) -> list[Participant]:
    """Return the people of the event's registration list, in list order."""
    return list(db.session.scalars(select(Participant).where(Participant.event_id == event.id,
                                                             Participant.registered_position.is_not(None))
                                   .order_by(Participant.registered_position)))


def personal_url(participant: Participant) -> str:
    """Return the URL of a registrant's own QR code: opening it on a phone joins the event as them."""
    return f"{network.public_url()}/p/{participant.badge}"
