"""Organiser pages of the restitution: the texts organisers write into the booklets, and publication choices."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField

from carnet.markdown import to_html

from ..models import Event
from ..services import booklet, network
from ..services.errors import ServiceError
from ..services.events import get_event

bp = Blueprint("booklet", __name__)


class OptionsForm(FlaskForm):
    """Publication and naming choices of the restitution."""

    published = BooleanField(_l("Publish the restitution"))
    show_names = BooleanField(_l("Show the names of the participants who gave one"))
    participant_photos = BooleanField(_l("Participants may send photos"))


def event_or_404(slug: str) -> Event:
    """Return the event with this slug, or answer 404."""
    event = get_event(slug)
    if event is None:
        abort(404)
    return event


def restitution_url(event: Event) -> str:
    """Return the public address of the event's restitution page."""
    return f"{network.public_url()}/e/{event.slug}/restitution"


def slot_groups(event: Event, bodies: dict[str, str]) -> list[dict]:
    """Return the text slots grouped by booklet section, in booklet order, each with its text and its version."""
    stored = booklet.texts(event)
    section_labels = {s["key"]: s["label"] for s in booklet.photo_sections(event)}
    groups: list[dict] = []
    for slot in booklet.text_slots(event):
        if not groups or groups[-1]["key"] != slot["section"]:
            groups.append({"key": slot["section"], "label": section_labels.get(slot["section"], slot["label"]),
                           "slots": []})
        body = bodies.get(slot["key"], stored.get(slot["key"], ""))
        groups[-1]["slots"].append({**slot, "body": body, "stored": stored.get(slot["key"], ""),
                                    "version": booklet.version(stored.get(slot["key"], ""))})
    return groups


def stored_versions(event: Event, keys) -> dict[str, dict]:
    """Return the stored text and version of each slot of `keys`, for a script editing them: {key: {body, version}}."""
    stored = booklet.texts(event)
    return {key: {"body": stored.get(key, ""), "version": booklet.version(stored.get(key, ""))} for key in keys}


def render_page(event: Event, *, bodies: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                preview: bool = False, status: int = 200):
    """Render the restitution page, with what the organiser typed if it was not saved."""
    bodies = bodies or {}
    groups = slot_groups(event, bodies)
    if preview:
        for group in groups:
            for slot in group["slots"]:
                slot["preview"] = to_html(slot["body"])
    options = OptionsForm(data={"published": event.published_at is not None, "show_names": event.show_names,
                                "participant_photos": event.participant_photos})
    return render_template("organiser/booklet.html", event=event, groups=groups, errors=errors or {},
                           preview=preview, options_form=options, texts_form=FlaskForm(),
                           restitution_url=restitution_url(event), max_text=booklet.MAX_TEXT,
                           logout_form=FlaskForm()), status


@bp.get("/console/e/<slug>/booklet")
@login_required
def page(slug: str):
    """The restitution's texts and choices of one event."""
    return render_page(event_or_404(slug))


@bp.post("/console/e/<slug>/booklet/texts")
@login_required
def save_texts(slug: str):
    """Save the organiser's texts (only those changed on this page), or show them rendered without saving.

    A script asking for JSON (the console's « À retenir » box) gets the outcome and the texts as now stored.
    """
    event = event_or_404(slug)
    if not FlaskForm().validate_on_submit():
        abort(400)
    keys = [slot["key"] for slot in booklet.text_slots(event)]
    bodies = {key: request.form[f"body-{key}"] for key in keys if f"body-{key}" in request.form}
    shown = {key: request.form[f"shown-{key}"] for key in keys if f"shown-{key}" in request.form}
    if request.form.get("action") == "preview":
        return render_page(event, bodies=bodies, preview=True)
    script = request.accept_mimetypes.best == "application/json"
    try:
        changed = booklet.set_texts(event, bodies, current_user, shown)
    except ServiceError as error:
        message = str(error.message)
        if script:
            return jsonify(ok=False, error={"code": error.code, "message": message,
                                            "keys": error.details.get("keys", [])},
                           texts=stored_versions(event, bodies)), error.status
        return render_page(event, bodies=bodies, errors={key: message for key in error.details.get("keys", [])}
                           or {"": message}, status=error.status)
    if script:
        return jsonify(ok=True, changed=changed, texts=stored_versions(event, bodies))
    flash(ngettext("%(num)s text saved.", "%(num)s texts saved.", len(changed)) if changed
          else _l("No text changed."), "info")
    return redirect(url_for("booklet.page", slug=event.slug))


@bp.post("/console/e/<slug>/booklet/options")
@login_required
def save_options(slug: str):
    """Publish or withdraw the restitution and store the naming and photo choices."""
    event = event_or_404(slug)
    form = OptionsForm()
    if not form.validate_on_submit():
        abort(400)
    booklet.set_options(event, published=form.published.data, show_names=form.show_names.data,
                        participant_photos=form.participant_photos.data)
    flash(_l("The restitution is public.") if event.published_at else _l("The restitution is private."), "info")
    return redirect(url_for("booklet.page", slug=event.slug))
