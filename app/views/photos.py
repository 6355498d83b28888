"""Photos: the organisers' page (upload, moderation, placement) and the files, private or published."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import csrf, db
from ..models import Event
from ..services import photos
from ..services.booklet import photo_sections
from ..services.errors import ServiceError
from ..services.events import get_event
from . import errors

bp = Blueprint("photos", __name__)
# Room for the multipart framing, the caption and the CSRF token around the photo itself.
_FORM_OVERHEAD = 64 * 1024


def event_or_404(slug: str) -> Event:
    """Return the event with this slug, or answer 404."""
    event = get_event(slug)
    if event is None:
        abort(404)
    return event


def uploaded(field: str = "photo"):
    """Return the uploaded file's stream and the caption, reading a body as large as a photo may be, no larger."""
    cap = current_app.config["PHOTO_MAX_BYTES"]
    # The rest of the application reads bodies of MAX_CONTENT_LENGTH at most; this request may carry a photo.
    request.max_content_length = cap + _FORM_OVERHEAD if cap else None
    if cap and (request.content_length or 0) > cap + _FORM_OVERHEAD:
        raise photos.too_large(cap)
    try:
        upload = request.files.get(field)
        caption = request.form.get("caption")
    except RequestEntityTooLarge:
        raise photos.too_large(cap) from None
    if upload is None:
        raise ServiceError("photo_empty", _l("Choose a photo to send."))
    return upload.stream, caption


def _page(event: Event):
    return redirect(url_for("photos.console", slug=event.slug), 303)


@bp.errorhandler(ServiceError)
def refused(error: ServiceError):
    """Show a refusal on the photos page (nothing was changed)."""
    db.session.rollback()
    slug = (request.view_args or {}).get("slug")
    if not request.path.startswith("/console/") or get_event(slug) is None:
        return errors.page(404)
    flash(error.message, "error")
    return redirect(url_for("photos.console", slug=slug), 303)


@bp.get("/console/e/<slug>/photos")
@login_required
def console(slug: str):
    """The event's photos: upload, show or hide, caption, place in the booklet and order."""
    event = event_or_404(slug)
    sections = photo_sections(event)
    return render_template("organiser/photos.html", event=event, photos=photos.photos_of(event), sections=sections,
                           section_labels={s["key"]: s["label"] for s in sections},
                           caption_max=photos.CAPTION_MAX, max_bytes=current_app.config["PHOTO_MAX_BYTES"],
                           logout_form=FlaskForm())


@bp.post("/console/e/<slug>/photos")
@csrf.exempt  # the form's own CSRF check runs below, once the body is allowed to be as large as a photo
@login_required
def upload(slug: str):
    """Add an organiser's photo, shown at once."""
    event = event_or_404(slug)
    stream, caption = uploaded()
    if not FlaskForm().validate_on_submit():
        abort(400)
    photos.add_photo(event, stream, caption, organiser=current_user)
    flash(_l("Photo added."), "info")
    return _page(event)


@bp.post("/console/e/<slug>/photos/settings")
@login_required
def settings(slug: str):
    """Let participants send photos from their phone, or stop them."""
    event = event_or_404(slug)
    # A hidden "0" goes before the checkbox, so that unticking it is sent too.
    photos.set_participant_photos(event, "1" in request.form.getlist("participant_photos"))
    flash(_l("Participants can send photos.") if event.participant_photos
          else _l("Participants cannot send photos."), "info")
    return _page(event)


@bp.post("/console/e/<slug>/photos/<int:photo_id>")
@login_required
def edit(slug: str, photo_id: int):
    """Change a photo's caption, section, and whether it is shown."""
    event = event_or_404(slug)
    photo = photos.get_photo(event, photo_id)
    section = request.form.get("section")
    photos.update(photo, caption=request.form.get("caption"), status=request.form.get("status"),
                  section=... if section is None else (section or None))
    flash(_l("Photo saved."), "info")
    return _page(event)


@bp.post("/console/e/<slug>/photos/<int:photo_id>/move")
@login_required
def move(slug: str, photo_id: int):
    """Move a photo one place up or down within its section."""
    event = event_or_404(slug)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""), 0)
    photos.move(photos.get_photo(event, photo_id), step)
    return _page(event)


@bp.post("/console/e/<slug>/photos/<int:photo_id>/delete")
@login_required
def delete(slug: str, photo_id: int):
    """Delete a photo and its files."""
    event = event_or_404(slug)
    photos.delete(photos.get_photo(event, photo_id))
    flash(_l("Photo deleted."), "info")
    return _page(event)


def _send(path, public: bool):
    """Send a stored JPEG: always as image/jpeg (nosniff is on every answer), revalidated before reuse."""
    response = send_file(path, mimetype="image/jpeg", conditional=True, max_age=0)
    response.headers["Cache-Control"] = ("public" if public else "private") + ", no-cache"
    return response


def _photo_or_404(slug: str, photo_id: int):
    """Return a photo of the event, or answer 404."""
    event = event_or_404(slug)
    try:
        return photos.get_photo(event, photo_id)
    except ServiceError:
        abort(404)


@bp.get("/console/e/<slug>/photos/<int:photo_id>.jpg")
@login_required
def original(slug: str, photo_id: int):
    """Any photo of the event, for the organisers."""
    return _send(photos.file_path(_photo_or_404(slug, photo_id)), public=False)


@bp.get("/console/e/<slug>/photos/<int:photo_id>/thumb.jpg")
@login_required
def thumbnail(slug: str, photo_id: int):
    """A small copy of a photo for the organisers' list."""
    return _send(photos.resized(_photo_or_404(slug, photo_id), photos.WEB_WIDTHS[0]), public=False)


@bp.get("/e/<slug>/photos/<filename>")
@bp.get("/e/<slug>/photos/<int:width>/<filename>")
def public(slug: str, filename: str, width: int | None = None):
    """A photo of a published restitution, shown and placed in it; else 404, as for a photo that does not exist."""
    event = event_or_404(slug)
    photo = photos.by_filename(event, filename)
    if photo is None or not photos.is_public(event, photo) or (width is not None and width not in photos.WEB_WIDTHS):
        abort(404)
    path = photos.file_path(photo) if width is None else photos.resized(photo, width)
    return _send(path, public=True)
