"""Organiser routes of the booklets: render a booklet's PDF in another process, follow it, download it."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import SelectField

from carnet import jobs

from ..models import Event
from ..services.events import get_event

bp = Blueprint("booklets", __name__)


BOOKLET_URL = "/console/e/<slug>/booklets/<any(restitution, carnet, badges, \"table-tents\"):booklet>"
# What each format of each booklet is (carnet/builds.py writes them): a short name for the console's list of files,
# and a longer one for the choice of what to generate.
FORMAT_NAMES = {
    "restitution": {"a4": (_l("A4"), _l("A4")), "a5": (_l("A5"), _l("A5 (folded booklet)"))},
    "carnet": {
        "a5": (_l("A5"), _l("A5, to read on screen or print at a print shop without bleed")),
        "a4": (_l("A4"), _l("A4, one page per sheet")),
        "imposed": (_l("Imposed"), _l("For an office printer: A4, two pages per side, to fold and staple")),
        "print-shop": (_l("Print shop"), _l("For a print shop: A5 with 3 mm bleed and crop marks")),
        "personal": (_l("Personalised"), _l("One carnet per registrant, with their name and own QR code, in one file")),
    },
    "badges": {"a4": (_l("A4"), _l("A4 sheets of badges to cut"))},
    "table-tents": {"a4": (_l("A4"), _l("One A4 sheet per world café table, folded in two"))},
}
TITLES = {"restitution": _l("Restitution booklet (PDF)"), "carnet": _l("Carnet de Bord (PDF)"),
          "badges": _l("Name badges (PDF)"), "table-tents": _l("Table tent cards (PDF)")}
BUTTONS = {"restitution": _l("Generate the restitution (PDF)"), "carnet": _l("Generate the carnet (PDF)"),
           "badges": _l("Generate the badges (PDF)"), "table-tents": _l("Generate the table tents (PDF)")}


class RenderForm(FlaskForm):
    """Start a render of a booklet (CSRF token and the format)."""

    format = SelectField(_l("File"))

    def __init__(self, booklet: str, *args, **kwargs):
        # A request that names no format gets the booklet's first: the default is the field's data until the form
        # sends one.
        super().__init__(*args, format=jobs.BOOKLETS[booklet][0], **kwargs)
        self.format.choices = [(fmt, str(names[1])) for fmt, names in FORMAT_NAMES[booklet].items()]


def _event_or_404(slug: str) -> Event:
    event = get_event(slug) if len(slug) <= 60 else None
    if event is None:
        abort(404)
    return event


def _format(booklet: str) -> str:
    fmt = request.args.get("format", jobs.BOOKLETS[booklet][0])
    if fmt not in jobs.BOOKLETS[booklet]:
        abort(400)
    return fmt


def _data_dir():
    return current_app.config["DATA_DIR"]


def _stopped() -> str:
    return _("The render stopped before finishing. Start it again.")


def render_status(slug: str, booklet: str, fmt: str, status: dict | None = None) -> dict:
    """Return a booklet's status as the console shows it: the job's, plus labels and the download's address."""
    if status is None:
        status = jobs.status(_data_dir(), slug, fmt, booklet=booklet, stopped_message=_stopped())
    shown = {key: status.get(key) for key in ("job", "pid", "state", "message", "page", "pages", "size",
                                               "started_at", "finished_at", "error", "seconds", "cpu_seconds",
                                               "startup_seconds", "render_seconds", "peak_memory_mb", "joined")}
    shown["format"] = fmt
    shown["booklet"] = booklet
    shown["name"] = str(FORMAT_NAMES[booklet][fmt][0])
    shown["status_url"] = url_for("booklets.status_json", slug=slug, booklet=booklet, format=fmt)
    file = status.get("file") if jobs.finished_pdf(_data_dir(), slug, fmt, booklet) else None
    shown["file"] = file and {**file, "url": url_for("booklets.pdf", slug=slug, booklet=booklet, format=fmt),
                              "label": _download_label(file)}
    if status.get("state") == "busy":
        shown["label"] = _busy_label(status["busy"])
    elif status.get("state") == "running":
        shown["label"] = status.get("message") or _("Starting…")
    elif status.get("state") == "failed":
        shown["label"] = _("Failed: %(error)s", error=status.get("error") or "")
    else:
        shown["label"] = ""
    return shown


def _busy_label(other: dict) -> str:
    """« Another PDF is being made (Carnet de Bord (PDF), A5, demo): try again in a moment. »"""
    names = FORMAT_NAMES.get(other["booklet"], {}).get(other["format"])
    what = ", ".join(str(part) for part in (TITLES.get(other["booklet"]), names and names[0], other["slug"]) if part)
    return _("Another PDF is being made (%(what)s): try again in a moment.", what=what)


def _download_label(file: dict) -> str:
    """« Download the PDF (12 pages, 1.4 MB, made at 18:02) », the time in this machine's time zone."""
    made = datetime.fromisoformat(file["generated_at"]).astimezone().strftime("%H:%M")
    return ngettext("Download the PDF (%(num)d page, %(size)s MB, made at %(time)s)",
                    "Download the PDF (%(num)d pages, %(size)s MB, made at %(time)s)", file["pages"],
                    size=format_decimal(round(file["size"] / 1_000_000, 1), "#,##0.0"), time=made)


@bp.post(BOOKLET_URL)
@login_required
def start(slug: str, booklet: str):
    """Start rendering a booklet, or join the render already running; JSON for scripts, else a page."""
    event = _event_or_404(slug)
    form = RenderForm(booklet)
    if not form.validate_on_submit():
        abort(400)
    fmt = form.format.data
    limit = current_app.config["RENDER_TIME_LIMIT"]
    status = jobs.start(_data_dir(), current_app.config["SQLALCHEMY_DATABASE_URI"], event.slug, fmt, booklet=booklet,
                        time_limit=limit, locale=current_app.config["BABEL_DEFAULT_LOCALE"],
                        starting_message=_("Starting…"), stopped_message=_stopped(),
                        time_limit_message=_("The render took longer than %(seconds)s s and was stopped.",
                                             seconds=limit))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(render_status(event.slug, booklet, fmt, status)), 409 if status["state"] == "busy" else 200
    if status["state"] == "busy":
        flash(_busy_label(status["busy"]), "error")
    return redirect(url_for("booklets.page", slug=event.slug, booklet=booklet, format=fmt), 303)


@bp.get(BOOKLET_URL)
@login_required
def page(slug: str, booklet: str):
    """Follow a render without JavaScript: the page reloads itself while the render runs."""
    event = _event_or_404(slug)
    fmt = _format(booklet)
    return render_template("organiser/render.html", event=event, booklet=booklet, logout_form=FlaskForm(),
                           refresh=render_status(event.slug, booklet, fmt)["state"] == "running")


@bp.get(BOOKLET_URL + "/status")
@login_required
def status_json(slug: str, booklet: str):
    """The render's status as JSON (state, message, page, times, error, the finished file)."""
    event = _event_or_404(slug)
    return jsonify(render_status(event.slug, booklet, _format(booklet)))


@bp.get(BOOKLET_URL + ".pdf")
@login_required
def pdf(slug: str, booklet: str):
    """Download the last finished PDF of a booklet in the format asked (the booklet's first by default)."""
    event = _event_or_404(slug)
    fmt = _format(booklet)
    found = jobs.finished_pdf(_data_dir(), event.slug, fmt, booklet)
    if found is None:
        message = _("No “%(format)s” PDF of this booklet yet: generate it from the console first.",
                    format=FORMAT_NAMES[booklet][fmt][0])
        return render_template("error.html", status=404, title=_("Page not found"), message=message,
                               organiser=True), 404
    return send_file(found, mimetype="application/pdf", as_attachment=True, download_name=found.name, max_age=0)


@bp.app_template_global()
def booklet_renders(slug: str, booklet: str) -> list[dict]:
    """Return the status of every format of an event's booklet, for organiser/_render.html."""
    return [render_status(slug, booklet, fmt) for fmt in jobs.BOOKLETS[booklet]]


@bp.app_context_processor
def render_form() -> dict:
    """Give organiser/_render.html its form, title and button label wherever it is included."""
    return {"booklet_render_form": RenderForm, "booklet_titles": TITLES, "booklet_buttons": BUTTONS}
