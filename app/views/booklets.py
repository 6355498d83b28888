"""Organiser routes of the booklets: render the restitution PDF in another process, follow it, download it."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField

from carnet import jobs

from ..models import Event
from ..services.events import get_event

bp = Blueprint("booklets", __name__)


class RenderForm(FlaskForm):
    """Start a render of the restitution (CSRF token and the format)."""

    a5 = BooleanField()


def _event_or_404(slug: str) -> Event:
    event = get_event(slug) if len(slug) <= 60 else None
    if event is None:
        abort(404)
    return event


def _format() -> str:
    fmt = request.args.get("format", "a4")
    if fmt not in jobs.FORMATS:
        abort(400)
    return fmt


def _data_dir():
    return current_app.config["DATA_DIR"]


def _stopped() -> str:
    return _("The render stopped before finishing. Start it again.")


def restitution_status(slug: str, fmt: str, status: dict | None = None) -> dict:
    """Return a booklet's status as the console shows it: the job's, plus labels and the download's address."""
    if status is None:
        status = jobs.status(_data_dir(), slug, fmt, stopped_message=_stopped())
    shown = {key: status.get(key) for key in ("job", "pid", "state", "message", "page", "pages", "size",
                                               "started_at", "finished_at", "error", "seconds", "cpu_seconds", "startup_seconds",
                                               "render_seconds",
                                               "peak_memory_mb", "joined")}
    shown["format"] = fmt
    shown["status_url"] = url_for("booklets.restitution_status_json", slug=slug, format=fmt)
    file = status.get("file") if jobs.finished_pdf(_data_dir(), slug, fmt) else None
    shown["file"] = file and {**file, "url": url_for("booklets.restitution_pdf", slug=slug, format=fmt),
                              "label": _download_label(file)}
    if status.get("state") == "running":
        shown["label"] = status.get("message") or _("Starting…")
    elif status.get("state") == "failed":
        shown["label"] = _("Failed: %(error)s", error=status.get("error") or "")
    else:
        shown["label"] = ""
    return shown


def _download_label(file: dict) -> str:
    """« Download the PDF (12 pages, 1.4 MB, made at 18:02) », the time in this machine's time zone."""
    made = datetime.fromisoformat(file["generated_at"]).astimezone().strftime("%H:%M")
    return ngettext("Download the PDF (%(num)d page, %(size)s MB, made at %(time)s)",
                    "Download the PDF (%(num)d pages, %(size)s MB, made at %(time)s)", file["pages"],
                    size=format_decimal(round(file["size"] / 1_000_000, 1), "#,##0.0"), time=made)


@bp.post("/console/e/<slug>/booklets/restitution")
@login_required
def restitution_start(slug: str):
    """Start rendering the restitution, or join the render already running; JSON for scripts, else a page."""
    event = _event_or_404(slug)
    form = RenderForm()
    if not form.validate_on_submit():
        abort(400)
    fmt = "a5" if form.a5.data else "a4"
    limit = current_app.config["RENDER_TIME_LIMIT"]
    status = jobs.start(_data_dir(), current_app.config["SQLALCHEMY_DATABASE_URI"], event.slug, fmt, time_limit=limit,
               locale=current_app.config["BABEL_DEFAULT_LOCALE"], starting_message=_("Starting…"),
               stopped_message=_stopped(),
               time_limit_message=_("The render took longer than %(seconds)s s and was stopped.", seconds=limit))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(restitution_status(event.slug, fmt, status))
    return redirect(url_for("booklets.restitution_page", slug=event.slug, format=fmt), 303)


@bp.get("/console/e/<slug>/booklets/restitution")
@login_required
def restitution_page(slug: str):
    """Follow a render without JavaScript: the page reloads itself while the render runs."""
    event = _event_or_404(slug)
    fmt = _format()
    return render_template("organiser/render.html", event=event, logout_form=FlaskForm(),
                           refresh=restitution_status(event.slug, fmt)["state"] == "running")


@bp.get("/console/e/<slug>/booklets/restitution/status")
@login_required
def restitution_status_json(slug: str):
    """The render's status as JSON (state, message, page, times, error, the finished file)."""
    event = _event_or_404(slug)
    return jsonify(restitution_status(event.slug, _format()))


@bp.get("/console/e/<slug>/booklets/restitution.pdf")
@login_required
def restitution_pdf(slug: str):
    """Download the last finished restitution PDF in the format asked (a4 by default)."""
    event = _event_or_404(slug)
    fmt = _format()
    pdf = jobs.finished_pdf(_data_dir(), event.slug, fmt)
    if pdf is None:
        message = _("No %(format)s PDF of the restitution yet: generate it from the console first.",
                    format=fmt.upper())
        return render_template("error.html", status=404, title=_("Page not found"), message=message,
                               organiser=True), 404
    return send_file(pdf, mimetype="application/pdf", as_attachment=True, download_name=pdf.name, max_age=0)


@bp.app_template_global()
def restitution_renders(slug: str) -> list[dict]:
    """Return the status of both formats of an event's restitution, for organiser/_render.html."""
    return [restitution_status(slug, fmt) for fmt in jobs.FORMATS]


@bp.app_context_processor
def render_form() -> dict:
    """Give organiser/_render.html its form wherever it is included."""
    return {"restitution_render_form": RenderForm}
