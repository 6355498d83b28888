"""The event's public page (/e/<slug>) and the service worker that keeps it readable offline."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from ..services import eventpage
from ..services.events import get_event

bp = Blueprint("event", __name__)

# What the page loads: the service worker keeps exactly these (and the page) for offline reading.
ASSETS = ("css/base.css", "css/event.css", "js/event.js", "js/page.js")


def _event_or_404(slug: str):
    event = get_event(slug)
    if event is None:
        abort(404)
    return event


@bp.get("/e/<slug>")
def page(slug: str):
    """The Carnet de Bord on a phone: programme, now and next, guests, sheets, join links, contacts."""
    from workshops import registry

    event = _event_or_404(slug)
    with force_locale(event.spec.get("language", "fr")):
        data = eventpage.page(event, registry())
        data["hello"] = _("Hello %(name)s")  # filled on the phone (static/js/event.js)
        data["clock"]["worker"] = {"url": url_for("event.worker", slug=slug), "scope": url_for("event.page", slug=slug)}
        response = Response(render_template("event.html", **data, web_link=eventpage.web_link,
                                            phone_link=eventpage.phone_link, paragraphs=eventpage.paragraphs,
                                            print=False))
    # Always asked again when online (the programme changes); the service worker keeps a copy for when it is not.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/e/<slug>/sw.js")
def worker(slug: str):
    """The page's service worker, served under the event's path so that its scope can cover /e/<slug>."""
    _event_or_404(slug)
    keep = [url_for("event.page", slug=slug), *(url_for("static", filename=name) for name in ASSETS)]
    static = Path(current_app.static_folder)
    script = (static / "js" / "event-sw.js").read_text("utf-8")
    # A new release is a new version of the worker, which drops the copies the previous one kept.
    version = hashlib.sha256(script.encode())
    for name in ASSETS:
        version.update((static / name).read_bytes())
    response = Response(f"const KEEP = {json.dumps(keep)};\nconst VERSION = {json.dumps(version.hexdigest()[:16])};\n"
                        f"{script}", mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("event.page", slug=slug)
    response.headers["Cache-Control"] = "no-cache"
    return response
