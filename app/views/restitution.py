"""The restitution's web page: organisers only until they publish it, then anyone with its address."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
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
    if event.published_at is None:  # organisers only: the public photo addresses answer once it is published
        def photo_url(photo):
            return url_for("photos.original", slug=event.slug, photo_id=photo.id)
    else:
        def photo_url(photo):
            return url_for("photos.public", slug=event.slug, filename=photo.filename, width=1200)
    body = web_html(event, photo_url=photo_url)
    return render_template("restitution.html", event=event, body=Markup(body), private=event.published_at is None)
