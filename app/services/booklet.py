"""What an organiser adds to the booklets: texts per section, photo places, publication and naming choices."""

from __future__ import annotations

import hashlib
import unicodedata

from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import BookletText, Event, Organiser, Session, utcnow
from .errors import ServiceError
from .events import live_sessions
from .text import storable


def photo_sections(event: Event) -> list[dict]:
    """Return the booklets' sections a photo can be placed in, in booklet order: [{key, label}]."""
    return ([{"key": "origin", "label": _l("Origin and context")},
             {"key": "programme", "label": _l("The programme as it happened")}]
            + [{"key": f"session:{s.key}", "label": s.title} for s in live_sessions(event)]
            + [{"key": "perspectives", "label": _l("Perspectives")},
               # Not the restitution's: the logos on the cover of the Carnet de Bord, in this order.
               {"key": "carnet-logos", "label": _l("Carnet de Bord: logos on the cover")}])


def text_slots(event: Event) -> list[dict]:
    """Return the organiser's texts of the restitution, in booklet order: [{key, label, section}].

    ``intro:<key>`` opens a session's section, ``retain:<key>`` is its « À retenir » box.
    """
    slots = [{"key": "origin", "label": _l("Origin and context"), "section": "origin"}]
    for s in live_sessions(event):
        slots.append({"key": f"intro:{s.key}", "label": _l("%(title)s: introduction", title=s.title),
                      "section": f"session:{s.key}"})
        slots.append({"key": f"retain:{s.key}", "label": _l("%(title)s: key points", title=s.title),
                      "section": f"session:{s.key}"})
    slots += [{"key": "perspectives", "label": _l("Perspectives"), "section": "perspectives"},
              {"key": "contacts", "label": _l("Contacts (besides the organisers of the event file)"),
               "section": "contacts"}]
    return slots


# A long text is a page or two of the booklet; anything longer is pasted by mistake.
MAX_TEXT = 20_000


def _slot_keys(event: Event) -> list[str]:
    return [slot["key"] for slot in text_slots(event)]


def texts(event: Event) -> dict[str, str]:
    """Return the organiser's texts of the event's current slots, in booklet order: {slot key: Markdown body}.

    A retired session's texts stay stored and come back with it; empty slots are absent.
    """
    stored = {row.section: row.body for row in db.session.scalars(
        select(BookletText).where(BookletText.event_id == event.id))}
    return {key: stored[key] for key in _slot_keys(event) if stored.get(key)}


def version(body: str) -> str:
    """Return a short fingerprint of a text as stored, to tell whether it changed since a page showed it."""
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def clean_text(body) -> str:
    """Return an organiser's Markdown as stored: text a database takes, Unix line endings, no outer blank space."""
    if not isinstance(body, str):
        raise ServiceError("invalid_field", _l("The field %(field)s must be text.", field="body"))
    # Line endings first: storable() drops carriage returns, which would join lines ending with a lone \r.
    body = unicodedata.normalize("NFC", storable(body.replace("\r\n", "\n").replace("\r", "\n"))).strip()
    if len(body) > MAX_TEXT:
        raise ServiceError("text_too_long", _l("A text holds at most %(max)s characters; this one has %(n)s.",
                                               max=format_number(MAX_TEXT), n=format_number(len(body))))
    return body


def retain_text(session: Session) -> dict:
    """Return a session's « À retenir » slot as an editor shows it: {key, body, version}."""
    key = f"retain:{session.key}"
    body = texts(session.event).get(key, "")
    return {"key": key, "body": body, "version": version(body)}


def set_texts(event: Event, bodies: dict, organiser: Organiser | None,
              shown: dict[str, str] | None = None) -> list[str]:
    """Store several texts at once, or none if one is refused; return the keys of the texts that changed.

    `shown` maps a slot to the `version` of the text the organiser's page showed: a text they left as shown is
    not written (another organiser may have changed it meanwhile), and one they changed while someone else saved
    another version is refused with `text_conflict` (its key in the error's `keys`), so nobody's words are lost.
    An empty text deletes the slot's row.
    """
    if not isinstance(bodies, dict):
        raise ServiceError("invalid_payload", _l("The request is malformed."))
    slots = _slot_keys(event)
    unknown = [key for key in bodies if key not in slots]
    if unknown:
        error = ServiceError("unknown_section", _l("This booklet has no text called \"%(key)s\".",
                                                   key=str(unknown[0])[:80]))
        error.details["keys"] = [str(key)[:80] for key in unknown]
        raise error
    cleaned = {}
    for key, body in bodies.items():
        try:
            cleaned[key] = clean_text(body)
        except ServiceError as error:
            error.details["keys"] = [key]
            raise
    rows = {row.section: row for row in db.session.scalars(
        select(BookletText).where(BookletText.event_id == event.id, BookletText.section.in_(cleaned)))}
    changed, conflicts = [], []
    for key in slots:
        if key not in cleaned:
            continue
        body, row = cleaned[key], rows.get(key)
        stored = row.body if row else ""
        if body == stored:
            continue
        if shown is not None and key in shown:
            if version(body) == shown[key]:
                continue  # left as the page showed it: whatever was saved since stays
            if version(stored) != shown[key]:
                conflicts.append(key)
                continue
        changed.append(key)
    if conflicts:
        error = ServiceError("text_conflict", _l("Someone else saved this text while you were editing it: "
                                                 "compare both versions, then save again."), 409)
        error.details["keys"] = conflicts
        raise error
    for key in changed:
        row = rows.get(key)
        if not cleaned[key]:
            db.session.delete(row)
        elif row is None:
            db.session.add(BookletText(event_id=event.id, section=key, body=cleaned[key],
                                       updated_by_id=organiser.id if organiser else None))
        else:
            row.body = cleaned[key]
            row.updated_by_id = organiser.id if organiser else None
    try:
        db.session.commit()
    except IntegrityError:
        # Another organiser created the same slot's row a moment ago: theirs stays, ours is a conflict to compare.
        db.session.rollback()
        error = ServiceError("text_conflict", _l("Someone else saved this text while you were editing it: "
                                                 "compare both versions, then save again."), 409)
        error.details["keys"] = changed
        raise error from None
    return changed


def set_text(event: Event, key, body, organiser: Organiser | None) -> str:
    """Store one text of the booklet (an empty one deletes it) and return it as stored."""
    if not isinstance(key, str):
        raise ServiceError("unknown_section", _l("This booklet has no text called \"%(key)s\".", key=str(key)[:80]))
    set_texts(event, {key: body}, organiser)
    return texts(event).get(key, "")


def set_options(event: Event, *, published: bool, show_names: bool, participant_photos: bool) -> None:
    """Publish or withdraw the restitution and choose whether names show and participants may send photos."""
    for field, value in (("published", published), ("show_names", show_names),
                         ("participant_photos", participant_photos)):
        if not isinstance(value, bool):
            raise ServiceError("invalid_field", _l("The field %(field)s must be true or false.", field=field))
    if not published:
        event.published_at = None
    elif event.published_at is None:
        event.published_at = utcnow()
    event.show_names = show_names
    event.participant_photos = participant_photos
    db.session.commit()
