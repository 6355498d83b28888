"""The restitution's web page: organisers only until they publish it, then anyone with its address."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from markupsafe import Markup

from ..services.events import get_event

bp = Blueprint("restitution", __name__)


@bp.get("/e/<slug>/restitution")
def page(slug: str):
    """Show the restitution as a responsive page (the same content as the booklet)."""
    from carnet.restitution import web_html

    event = get_event(slug)
    if event is None or (event.published_at is None and not current_user.is_authenticated):
        abort(404)
    body = web_html(event, photo_url=lambda photo: f"/e/{event.slug}/photos/{photo.filename}")
    return render_template("restitution.html", event=event, body=Markup(body), private=event.published_at is None)
