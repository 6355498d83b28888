"""HTTP API: the same contract as the Socket.IO events, for phones whose WebSocket is blocked."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException
from flask_babel import lazy_gettext as _l

from workshops import registry

from ..extensions import csrf, db
from ..services import limits, photos, posting, sessions, storage
from ..services.errors import ServiceError, whole_number
from ..services.events import get_event
from ..services.joining import join, participant_of_event, participant_payload, require_participant
from . import errors
from .photos import uploaded

bp = Blueprint("api", __name__, url_prefix="/api")
# Participants authenticate with their token, not a cookie session; JSON bodies cannot be sent cross-site
# without a CORS preflight this server never grants, so CSRF tokens add nothing here.
csrf.exempt(bp)


@bp.before_request
def limit_body() -> None:
    """Read no JSON body larger than a Socket.IO message may be (the whole app's cap is for uploads)."""
    request.max_content_length = current_app.config["MAX_JSON_LENGTH"]


def _body() -> dict:
    if not request.is_json:
        raise ServiceError("invalid_payload", _l("The request is malformed."), 415)
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: as malformed as bad JSON
        data = None
    if not isinstance(data, dict):
        raise ServiceError("invalid_payload", _l("The request is malformed."))
    return data


@bp.errorhandler(ServiceError)
def service_error(error: ServiceError):
    """Answer a refused request with its code and message."""
    db.session.rollback()
    response = jsonify(ok=False, error=error.as_dict())
    if "retry_after" in error.details:
        response.headers["Retry-After"] = str(error.details["retry_after"])
    return response, error.status


def register_json_errors(app) -> None:
    """Answer every failure under /api/ in JSON, unexpected ones included."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error  # a redirect raised as an exception (routing's trailing slash, say)
        if not request.path.startswith(bp.url_prefix + "/"):
            return errors.page(error.code)
        return jsonify(ok=False, error={"code": "http_error", "message": error.description}), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        if isinstance(error, storage.STORAGE_ERRORS) and request.path.startswith(bp.url_prefix + "/"):
            return service_error(storage.unavailable(error))
        current_app.logger.exception("Request %s %s failed", request.method, request.path)
        if not request.path.startswith(bp.url_prefix + "/"):
            return errors.page(500)
        message = str(_l("Something went wrong on the server. Try again."))
        return jsonify(ok=False, error={"code": "internal_error", "message": message}), 500


@bp.get("/sessions/<code>")
def session_info(code: str):
    """Describe a session."""
    return jsonify(ok=True, session=sessions.session_payload(sessions.get_session(code)))


def _whole_arg(name: str, default: int) -> int:
    """Read a whole-number query argument, or refuse it."""
    raw = request.args.get(name)
    if raw is None:
        return default
    return whole_number(int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 16 else -1, name)


@bp.get("/sessions/<code>/posts")
def list_posts(code: str):
    """List the visible posts after sequence `since`, a page at a time (walls that cannot hold a WebSocket)."""
    session = sessions.get_session(code)
    since = _whole_arg("since", 0)
    size = current_app.config["WATCH_PAGE"]
    limit = min(_whole_arg("limit", size), size) if size else _whole_arg("limit", 0)
    limits.check_watch(f"http {request.remote_addr} {session.code}")
    posts, more = posting.page_since(session, since, False, limit)
    return jsonify(ok=True, session=sessions.session_payload(session), posts=posts, more=more,
                   next=posts[-1]["seq"] if more else None)


@bp.post("/sessions/<code>/join")
def join_http(code: str):
    """Join a session over HTTP."""
    data = {**_body(), "code": code}
    data.setdefault("token", request.cookies.get("rouages_participant"))
    participant, session, table, attendance = join(data, request.remote_addr)
    registry()[session.workshop].joined(session, participant)
    return jsonify(ok=True, participant=participant_payload(participant),
                   session=sessions.session_payload(session, table),
                   posts=posting.own_payloads(session, participant),
                   assignment=sessions.assignment_of(session, participant),
                   seat=sessions.seat_of(session, participant, attendance))


@bp.post("/sessions/<code>/posts")
def create_post(code: str):
    """Post an idea over HTTP: same payload, idempotency and errors as the `post` event."""
    data = _body()
    target = sessions.post_target(code)
    participant = require_participant(sessions.get_session(code),
                                      data.get("token") or request.cookies.get("rouages_participant"))
    post, created = posting.create_post(target, participant, data)
    return jsonify(ok=True, post=post), 201 if created else 200


@bp.post("/events/<slug>/photos")
def send_photo(slug: str):
    """A participant's photo from their phone (multipart: `photo`, `caption`), when the organisers allow it.

    The participant is the phone's token cookie (or a `token` field); the photo waits for the organisers' review.
    """
    event = get_event(slug)
    if event is None:
        raise ServiceError("unknown_event", _l("This event does not exist."), 404)
    if not event.participant_photos:
        raise ServiceError("photos_disabled", _l("The organisers have not opened photo sending for this event."),
                           403)
    # The cookie is read before the body: a refused phone costs no upload.
    participant = participant_of_event(event.id, request.cookies.get("rouages_participant"))
    if participant is not None:
        limits.check_photo(participant.id)
    stream, caption = uploaded()
    if participant is None:
        participant = participant_of_event(event.id, request.form.get("token"))
        if participant is None:
            raise ServiceError("not_joined", _l("Join a workshop of this event before sending a photo."), 403)
        limits.check_photo(participant.id)
    photo = photos.add_photo(event, stream, caption, participant=participant)
    return jsonify(ok=True, photo={"id": photo.id, "status": photo.status, "caption": photo.caption,
                                   "width": photo.width, "height": photo.height}), 201
