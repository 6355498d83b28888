"""HTTP API: the same contract as the Socket.IO events, for phones whose WebSocket is blocked."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError
from flask_babel import lazy_gettext as _l

from ..extensions import csrf, db
from ..services import posting, sessions
from ..services.errors import ServiceError
from ..services.joining import join, participant_payload, require_participant
from ..services.posting import post_payload

bp = Blueprint("api", __name__, url_prefix="/api")
# Participants authenticate with their token, not a cookie session; JSON bodies cannot be sent cross-site
# without a CORS preflight this server never grants, so CSRF tokens add nothing here.
csrf.exempt(bp)


def _body() -> dict:
    if not request.is_json:
        raise ServiceError("invalid_payload", _l("The request is malformed."), 415)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ServiceError("invalid_payload", _l("The request is malformed."))
    return data


@bp.errorhandler(ServiceError)
def service_error(error: ServiceError):
    """Answer a refused request with its code and message."""
    db.session.rollback()
    return jsonify(ok=False, error=error.as_dict()), error.status


def register_json_errors(app) -> None:
    """Answer every failure under /api/ in JSON, unexpected ones included."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if not request.path.startswith(bp.url_prefix + "/"):
            return error
        return jsonify(ok=False, error={"code": "http_error", "message": error.description}), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        current_app.logger.exception("Request %s %s failed", request.method, request.path)
        if not request.path.startswith(bp.url_prefix + "/"):
            return InternalServerError()
        message = str(_l("Something went wrong on the server. Try again."))
        return jsonify(ok=False, error={"code": "internal_error", "message": message}), 500


@bp.get("/sessions/<code>")
def session_info(code: str):
    """Describe a session."""
    return jsonify(ok=True, session=sessions.session_payload(sessions.get_session(code)))


@bp.get("/sessions/<code>/posts")
def list_posts(code: str):
    """List the visible posts after sequence `since` (walls that cannot hold a WebSocket poll this)."""
    session = sessions.get_session(code)
    try:
        since = int(request.args.get("since", 0))
    except ValueError:
        since = -1
    since = posting.check_cursor(since, "since")
    return jsonify(ok=True, session=sessions.session_payload(session),
                   posts=posting.payloads_since(session, since))


@bp.post("/sessions/<code>/join")
def join_http(code: str):
    """Join a session over HTTP."""
    data = {**_body(), "code": code}
    data.setdefault("token", request.cookies.get("rouages_participant"))
    participant, session, table = join(data)
    return jsonify(ok=True, participant=participant_payload(participant),
                   session=sessions.session_payload(session, table),
                   posts=[post_payload(p, session) for p in posting.posts_of(session, participant)])


@bp.post("/sessions/<code>/posts")
def create_post(code: str):
    """Post an idea over HTTP: same payload, idempotency and errors as the `post` event."""
    data = _body()
    target = sessions.post_target(code)
    participant = require_participant(sessions.get_session(code),
                                      data.get("token") or request.cookies.get("rouages_participant"))
    post, created = posting.create_post(target, participant, data)
    return jsonify(ok=True, post=post), 201 if created else 200
