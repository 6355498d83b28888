"""A participant's own documents from a format (a diagnostic team's wheel): one short PDF laid out in the request."""

from __future__ import annotations

import io

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.models import Participant, Session
from app.services.errors import ServiceError
from workshops import registry

from . import render
from .templating import environment


def participant_pdf(session: Session, participant: Participant, name: str) -> bytes:
    """Return the PDF of document `name` of the session's format for this participant, or refuse."""
    fmt = registry()[session.workshop]
    make = fmt.documents().get(name)
    if make is None:
        raise ServiceError("unknown_document", _l("This workshop has no such document."), 404)
    language = session.event.spec.get("language", "fr")
    static = fmt.folder() / "static"
    with force_locale(language):
        data = make(session, participant)
        html = environment().get_template(f"{fmt.slug}/{name}.html").render(
            data=data, lang=language, format_static=static.resolve().as_uri())
        output = io.BytesIO()
        # One page, laid out in the request: the booklets' job queue is for documents that take minutes.
        render.write_pdf(html, output, roots=[static])
    return output.getvalue()
