"""Name badges: eight A7 badges (105 × 74 mm, the common lanyard pouch) per A4 sheet, in registration-list order.

Eight A7 cards tile an A4 sheet exactly, so one cut down the middle and three across separate them; each badge keeps
its text 6 mm inside its edges, clear of what an office printer cannot print.
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.models import Event, Participant
from app.services import qr
from app.services.errors import ServiceError
from app.services.registrants import personal_url, registrants

from . import render
from .templating import environment

PER_SHEET = 8


def _name_size(name: str) -> str:
    """Return the size class of a name, so that long names still fit on one or two lines."""
    return "long" if len(name) > 26 else "medium" if len(name) > 18 else "short"


def badge(participant: Participant) -> dict:
    """Return what one badge prints: the person's name, organisation, role and own QR code."""
    name = (participant.name or "").strip()
    # Someone listed before personal QR codes existed has none yet: their badge still names them.
    url = personal_url(participant) if participant.badge else None
    return {"name": name, "size": _name_size(name), "organisation": (participant.organisation or "").strip(),
            "role": (participant.role or "").strip(), "qr": qr.print_data_uri(url) if url else None}


def badges_html(event: Event) -> str:
    """Return the badge sheets of an event's registration list as the HTML WeasyPrint lays out."""
    people = registrants(event)
    if not people:
        raise ServiceError("no_registrants", _l("The event “%(title)s” has no registration list: import one before "
                                                "printing badges.", title=event.title))
    cards = [badge(person) for person in people]
    sheets = [cards[i:i + PER_SHEET] for i in range(0, len(cards), PER_SHEET)]
    language = event.spec.get("language", "fr")
    with force_locale(language):
        return environment().get_template("print/badges.html").render(event=event, sheets=sheets, lang=language)


def write_badges(event: Event, output: Path) -> int:
    """Write the name badges of an event's registration list to ``output``; return the number of A4 sheets."""
    with force_locale(event.spec.get("language", "fr")):
        return render.write_pdf(badges_html(event), Path(output))
