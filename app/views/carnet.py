"""The organisers' page of what prints before the event: the Carnet de Bord, badges and table tent cards."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from ..extensions import db
from ..models import Participant, Photo
from ..services import network
from ..services.events import get_event

bp = Blueprint("carnet", __name__)


@bp.get("/console/e/<slug>/carnet")
@login_required
def page(slug: str):
    """Generate and download the carnet in its print files, the badges and the table tents."""
    event = get_event(slug) if len(slug) <= 60 else None
    if event is None:
        abort(404)
    registered = db.session.scalar(select(func.count()).select_from(Participant).where(
        Participant.event_id == event.id, Participant.registered_position.is_not(None)))
    logos = db.session.scalar(select(func.count()).select_from(Photo).where(
        Photo.event_id == event.id, Photo.section == "carnet-logos", Photo.status == "shown"))
    return render_template("organiser/carnet.html", event=event, registered=registered, logos=logos,
                           event_url=network.event_url(event.slug), logout_form=FlaskForm())
