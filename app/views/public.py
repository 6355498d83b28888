"""Pages anyone can open: home, the phone page, the projector wall, QR codes, health."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for

from carnet.documents import participant_pdf

from ..services import network, qr
from ..services.errors import ServiceError
from ..services.events import single_event
from ..services.harvest import categories, harvest_of, table_for_host
from ..services.joining import participant_by_token
from ..services.sessions import normalise_code, resolve, session_payload

bp = Blueprint("public", __name__)


def session_or_404(code: str):
    """Return the live session a session or table code names, or answer 404."""
    return table_or_404(code)[0]


def table_or_404(code: str):
    """Return (session, table or None) for a join code, or answer 404."""
    try:
        return resolve(code)
    except ServiceError:
        abort(404)


@bp.get("/")
def home():
    """Ask a participant for the code shown on the screen."""
    code = normalise_code(request.args.get("code", ""))
    if code:
        return redirect(url_for("public.phone", code=code))
    return render_template("home.html", event=single_event())


@bp.get("/healthz")
def healthz():
    """Tell load balancers and scripts the server is up."""
    return jsonify(status="ok")


@bp.get("/j/<code>")
def phone(code: str):
    """The participant's phone page for one session."""
    normal = normalise_code(code)
    if not normal:
        abort(404)
    if code != normal:
        return redirect(url_for("public.phone", code=normal))
    session, table = table_or_404(code)
    participant = participant_by_token(session, request.cookies.get("rouages_participant"))
    return render_template("phone.html", session=session, table=table, payload=session_payload(session, table),
                           participant=participant)


_DOCUMENT = re.compile(r"^[a-z0-9_-]{1,40}$")


@bp.get("/j/<code>/documents/<name>.pdf")
def document(code: str, name: str):
    """A document of the session's format for the participant this phone's cookie names (a team's wheel, say)."""
    session, _table = table_or_404(code)
    if not _DOCUMENT.match(name):
        abort(404)
    participant = participant_by_token(session, request.cookies.get("rouages_participant"))
    if participant is None:
        abort(403)
    try:
        pdf = participant_pdf(session, participant, name)
    except ServiceError as error:
        abort(error.status if error.status >= 400 else 400)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{session.key}-{name}.pdf"', "Cache-Control": "no-store"})


@bp.get("/h/<token>")
def host(token: str):
    """A table host's phone page: the table's posts from every round and the harvest to write."""
    try:
        table = table_for_host(token)
    except ServiceError:
        abort(404)
    return render_template("host.html", session=table.session, table=table, categories=categories(table),
                           harvest=harvest_of(table))


@bp.get("/wall/<code>")
def wall(code: str):
    """The full-screen projector wall of one session."""
    session, table = table_or_404(code)
    join_code = table.code if table else session.code
    return render_template("wall.html", session=session, table=table, payload=session_payload(session, table),
                           join_code=join_code, join_url=network.join_url(join_code))


def _join_code(code: str) -> str:
    """Return the canonical join code of a session or table, or answer 404."""
    session, table = table_or_404(code)
    return table.code if table else session.code


@bp.get("/qr/<code>.svg")
def qr_svg(code: str):
    """The session's join QR code for screens."""
    return Response(qr.svg(network.join_url(_join_code(code))), mimetype="image/svg+xml")


@bp.get("/qr/<code>.png")
def qr_png(code: str):
    """The session's join QR code for print."""
    join_code = _join_code(code)
    response = Response(qr.png(network.join_url(join_code)), mimetype="image/png")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="rouages-{join_code}.png"'
    return response
