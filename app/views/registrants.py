"""A registrant's own QR code (`/p/<badge>`), and the organisers' page of the event's registration list."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo
from urllib.parse import quote

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from ..extensions import db
from ..models import Event, Participant
from ..services import eventfile
from ..services import registrants as service
from ..services.errors import ServiceError
from ..services.events import get_event, live_sessions
from ..services.registrations import import_registrants, read_list
from . import errors

bp = Blueprint("registrants", __name__)
COOKIE = "rouages_participant"
COOKIE_SECONDS = 30 * 86400  # as long as the phone page keeps it (static/js/phone.js)


class RegistrantsForm(FlaskForm):
    """Upload of the event's registration list."""

    file = FileField(_l("Registration list (CSV)"), validators=[FileRequired()])


def _refused(error: ServiceError):
    """Answer a refused personal code with a page in the participant's language (nothing was changed)."""
    db.session.rollback()
    headers = {"Retry-After": str(error.details["retry_after"])} if "retry_after" in error.details else {}
    if error.status == 409:
        return render_template("badge.html", state="taken"), 409, headers
    title = errors.TITLES.get(error.status, errors.TITLES[400])
    return render_template("error.html", status=error.status, title=title, message=error.message,
                           organiser=False), error.status, headers


def _claimed(participant: Participant):
    """The page of a phone that now is this person: it keeps the identity, then opens the event's page."""
    event = db.session.get(Event, participant.event_id)
    claim = {"slug": event.slug, "token": participant.token, "name": participant.name,
             "organisation": participant.organisation, "next": f"{request.script_root}/e/{quote(event.slug)}"}
    open_now = [s for s in live_sessions(event) if s.is_open]
    response = current_app.make_response(render_template("badge.html", state="claimed", person=participant,
                                                         event=event, claim=claim, open_now=open_now))
    response.set_cookie(COOKIE, participant.token, max_age=COOKIE_SECONDS, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    response.headers["Cache-Control"] = "no-store"  # the page holds the person's token
    return response


@bp.get("/p/<badge>")
def badge(badge: str):
    """Ask « is this you? » before claiming: a link previewer opening the address claims nothing."""
    try:
        participant = service.by_badge(badge, request.remote_addr)
    except ServiceError as error:
        return _refused(error)
    if service.holds(participant, request.cookies.get(COOKIE)):
        return _claimed(participant)
    if participant.badge_claimed_at is not None:
        return _refused(service.badge_taken())
    event = db.session.get(Event, participant.event_id)
    return render_template("badge.html", state="confirm", person=participant, event=event, form=FlaskForm())


@bp.post("/p/<badge>")
def claim(badge: str):
    """Make this phone the person of the code, if no other phone is already."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        participant = service.claim_badge(service.by_badge(badge, request.remote_addr), request.cookies.get(COOKIE))
    except ServiceError as error:
        return _refused(error)
    current_app.logger.info("Personal code of participant %s claimed from %s", participant.id, request.remote_addr)
    return _claimed(participant)


def _event_or_404(slug: str) -> Event:
    event = get_event(slug)
    if event is None:
        abort(404)
    return event


def _activated(participant: Participant, zone: ZoneInfo) -> str | None:
    """Say when a person's code was claimed, in the event's time zone, as the organisers at the venue read it."""
    if participant.badge_claimed_at is None:
        return None
    moment = participant.badge_claimed_at.replace(tzinfo=UTC).astimezone(zone)
    return _l("QR activated on %(day)s at %(time)s", day=format_date(moment.date(), "d MMMM"),
              time=moment.strftime("%H:%M"))


@bp.get("/console/e/<slug>/registrants")
@login_required
def console(slug: str):
    """The event's registration list: import it, see whose code is activated, reset one."""
    event = _event_or_404(slug)
    people = service.registrants(event)
    zone = eventfile.timezone(event.spec)
    return render_template("organiser/registrants.html", event=event, people=people, form=RegistrantsForm(),
                           reset_form=FlaskForm(), activated={p.id: _activated(p, zone) for p in people},
                           claimed=sum(p.badge_claimed_at is not None for p in people),
                           personal_url=service.personal_url, logout_form=FlaskForm())


@bp.post("/console/e/<slug>/registrants")
@login_required
def upload(slug: str):
    """Replace the event's registration list by a CSV file, keeping who is who."""
    event = _event_or_404(slug)
    form = RegistrantsForm()
    if not form.validate_on_submit():
        flash(_l("Choose a CSV file."), "error")
    else:
        try:
            counts = import_registrants(event, read_list(form.file.data))
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(_l("Registration list imported: %(added)s added, %(updated)s already known, %(removed)s no longer "
                     "on it, %(skipped)s lines skipped (no name, or twice).", **counts), "info")
    return redirect(url_for("registrants.console", slug=event.slug), 303)


@bp.post("/console/e/<slug>/registrants/<int:participant_id>/reset")
@login_required
def reset(slug: str, participant_id: int):
    """Give a person's QR code back: the phone that had it loses the identity, the next phone to scan it owns it."""
    event = _event_or_404(slug)
    if not FlaskForm().validate_on_submit():
        abort(400)
    participant = service.registrant(event, participant_id)
    if participant is None:
        abort(404)
    service.reset_badge(participant)
    current_app.logger.info("Personal code of participant %s reset by an organiser", participant.id)
    flash(_l("The QR code of %(name)s is free again: the next phone to scan it becomes this person.",
             name=participant.name), "info")
    return redirect(url_for("registrants.console", slug=event.slug), 303)
