"""Organiser pages: sign in, the console listing sessions, and one session's controls."""

from __future__ import annotations

import io
import secrets

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from workshops import registry

from ..extensions import db, login_manager
from ..models import Event, Organiser
from ..services import accounts, booklet, exports, network
from ..services.events import live_sessions
from ..services.errors import ServiceError
from ..services.registrations import import_csv, read_list
from ..services.sessions import attendees, live_tables, session_payload
from .public import session_or_404

bp = Blueprint("organiser", __name__)


class RegistrationForm(FlaskForm):
    """Upload of a registration list."""

    file = FileField(_l("Registration list (CSV)"), validators=[FileRequired()])


class LoginForm(FlaskForm):
    """The organiser sign-in form."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def init_login(app: Flask) -> None:
    """Tell Flask-Login how to load organisers."""
    login_manager.login_message = _l("Sign in to open the console.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        organiser_id, _, token = user_id.partition(".")
        organiser = db.session.get(Organiser, int(organiser_id)) if organiser_id.isdigit() else None
        if organiser is None or not accounts.usable(organiser):
            return None
        return organiser if secrets.compare_digest(organiser.login_token, token) else None


def _safe_next(target: str | None) -> str:
    """Only follow `next` to a path on this server."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("organiser.console")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign an organiser in."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            organiser = accounts.authenticate(form.email.data, form.password.data, request.remote_addr,
                                              request.cookies.get(accounts.DEVICE_COOKIE))
        except ServiceError as error:
            flash(error.message, "error")
            headers = {"Retry-After": str(error.details["retry_after"])} if "retry_after" in error.details else {}
            return render_template("organiser/login.html", form=form), error.status, headers
        if organiser is not None:
            login_user(organiser)
            response = redirect(_safe_next(request.args.get("next")))
            # Sent back to the sign-in page only, where it exempts this browser from the shared address's lock.
            response.set_cookie(accounts.DEVICE_COOKIE, accounts.device_token(organiser),
                                max_age=accounts.DEVICE_SECONDS, path=url_for("organiser.login"), httponly=True,
                                samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
            return response
        flash(_l("Wrong e-mail address or password."), "error")
    return render_template("organiser/login.html", form=form), 200 if request.method == "GET" or form.errors else 401


@bp.post("/logout")
@login_required
def logout():
    """Sign the organiser out."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    accounts.sign_out_everywhere(current_user)
    logout_user()
    return redirect(url_for("public.home"))


@bp.get("/console/")
@login_required
def console():
    """List every event and its sessions with their codes."""
    events = list(db.session.scalars(select(Event).order_by(Event.title)))
    url = network.public_url()
    return render_template("organiser/console.html", events=events, live_sessions=live_sessions,
                           public_url=url, warning=network.reachability_warning(url), event_url=network.event_url,
                           addresses=network.lan_addresses(), logout_form=FlaskForm())


def _export(slug: str, kind: str):
    """Answer an event's export as a download, or 404 for an unknown slug."""
    try:
        event = exports.event_or_refuse(slug)
    except ServiceError:
        abort(404)
    data = exports.as_csv(event) if kind == "csv" else exports.as_json(event, registry())
    response = send_file(io.BytesIO(data), as_attachment=True, download_name=exports.filename(event, kind),
                         mimetype="text/csv" if kind == "csv" else "application/json")
    response.headers["Cache-Control"] = "no-store"  # participants' names: no copy left in a cache
    return response


@bp.get("/console/e/<slug>/export.json")
@login_required
def export_json(slug: str):
    """Download everything the event's booklets are made of, as JSON."""
    return _export(slug, "json")


@bp.get("/console/e/<slug>/export.csv")
@login_required
def export_csv(slug: str):
    """Download every idea of the event, one per row, for a spreadsheet."""
    return _export(slug, "csv")


@bp.get("/console/s/<code>")
@login_required
def session_console(code: str):
    """Run one session: posting, countdown, moderation."""
    session = session_or_404(code)
    payload = session_payload(session)
    # The synthesis editor is for ideas: not for a format without posts, nor for questions and answers.
    retain = booklet.retain_text(session) if payload["posts"] and not payload["questions"] else None
    return render_template("organiser/session.html", session=session, payload=payload,
                           tables=live_tables(session), public_url=network.public_url(),
                           registration_form=RegistrationForm(), retain=retain, texts_form=FlaskForm(),
                           max_text=booklet.MAX_TEXT,
                           join_url=network.join_url(session.code), wall_url=network.wall_url(session.code),
                           logout_form=FlaskForm())


@bp.get("/console/s/<code>/print")
@login_required
def session_print(code: str):
    """A printable A4 poster with the session's QR code and join code."""
    session = session_or_404(code)
    return render_template("organiser/poster.html", session=session, join_url=network.join_url(session.code))


@bp.get("/console/s/<code>/tables/print")
@login_required
def table_cards(code: str):
    """One A5 card per table, with its name, the question, its QR code and its code, to stand on the table."""
    session = session_or_404(code)
    cards = [(table, network.join_url(table.code)) for table in live_tables(session)]
    return render_template("organiser/table_cards.html", session=session, cards=cards)


@bp.get("/console/s/<code>/table-tents.pdf")
@login_required
def table_tents(code: str):
    """Download one folding A4 table tent per table of the session, as a PDF."""
    # Imported here: WeasyPrint stays out of the server's memory until someone prints.
    from carnet.table_tents import write_table_tents

    session = session_or_404(code)
    pdf = io.BytesIO()
    try:
        write_table_tents(session, pdf)
    except ServiceError:
        abort(404)  # a session without tables
    pdf.seek(0)
    return send_file(pdf, mimetype="application/pdf", as_attachment=True,
                     download_name=f"{session.event.slug}-{session.key}-table-tents.pdf")


@bp.post("/console/s/<code>/registrations")
@login_required
def registrations(code: str):
    """Add a CSV registration list to the people a rotation plan seats."""
    session = session_or_404(code)
    form = RegistrationForm()
    if not form.validate_on_submit():
        flash(_l("Choose a CSV file."), "error")
    else:
        try:
            counts = import_csv(session, read_list(form.file.data))
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_l("%(added)s people added to the list (%(skipped)s already there or without a name).",
                     **counts), "info")
    return redirect(url_for("organiser.session_console", code=session.code))


@bp.get("/console/s/<code>/plan/print")
@login_required
def plan_print(code: str):
    """The rotation plan by name, to print and pin up for people without a phone."""
    session = session_or_404(code)
    if not session.plan:
        abort(404)
    names = {t.key: t.name for t in live_tables(session)}
    people = {str(p.id): p for p in attendees(session)}
    rows = sorted(((people[pid], [names.get(key, key) for key in route]) for pid, route in
                   session.plan["assignments"].items() if pid in people),
                  key=lambda row: ((row[0].name or "").lower(), row[0].id))
    return render_template("organiser/plan.html", session=session, rows=rows, rounds=session.plan["rounds"])
