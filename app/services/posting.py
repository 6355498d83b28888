"""Posting ideas: validation, idempotent storage with a per-session sequence, broadcast."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db, socketio
from ..models import Participant, Post, Session, Table
from .errors import ServiceError, require_dict
from .sessions import frameworks_of, room
from .text import clean_post_text

TEXT_MAX = 500
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def check_text(text) -> str:
    """Return the cleaned text of a post, or refuse it."""
    if not isinstance(text, str):
        raise ServiceError("invalid_field", _l("The field %(field)s must be text.", field="text"))
    text = clean_post_text(text)
    if not text:
        raise ServiceError("empty_text", _l("Write something before sending."))
    if len(text) > TEXT_MAX:
        raise ServiceError("text_too_long", _l("Your idea is too long: %(max)s characters at most.", max=TEXT_MAX))
    return text


def check_tags(session: Session, tags) -> dict:
    """Return the tags if each names a framework of the session and one of its items, and none required is missing."""
    if tags is None:
        tags = {}
    if not isinstance(tags, dict):
        raise ServiceError("invalid_tags", _l("The tags are malformed."))
    frameworks = {fw["key"]: fw for fw in frameworks_of(session)}
    clean = {}
    for key, value in tags.items():
        if value is None:
            continue
        fw = frameworks.get(key)
        if fw is None or not isinstance(value, str) or value not in {item["key"] for item in fw["items"]}:
            raise ServiceError("unknown_tag", _l("This tag does not belong to this workshop."))
        clean[key] = value
    for fw in frameworks.values():
        if fw["required"] and fw["key"] not in clean:
            raise ServiceError("missing_tag", _l("Choose one: %(label)s.", label=fw["label"]))
    return clean


def check_client_id(client_id) -> str:
    """Return the phone-made idempotency key, or refuse it."""
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise ServiceError("invalid_client_id", _l("The request is malformed."))
    return client_id


def _existing(participant: Participant, client_id: str) -> Post | None:
    return db.session.scalar(
        select(Post).where(Post.participant_id == participant.id, Post.client_id == client_id))


def create_post(session: Session, participant: Participant, data, table: Table | None = None) -> tuple[Post, bool]:
    """Store a post once per client id and broadcast it; return (post, created). A table's tags are imposed."""
    data = require_dict(data)
    client_id = check_client_id(data.get("client_id"))
    existing = _existing(participant, client_id)
    if existing is not None:
        if existing.session_id != session.id:
            raise ServiceError("client_id_reused", _l("This idea was already sent to another workshop."), 409)
        return existing, False
    text = check_text(data.get("text"))
    tags = data.get("tags")
    if table is not None and isinstance(tags if tags is not None else {}, dict):
        tags = {**(tags or {}), **table.tags}
    tags = check_tags(session, tags)
    if not session.is_open:
        raise ServiceError("session_closed", _l("Posting is closed for this workshop."), 409)
    seq, rev = db.session.execute(
        update(Session).where(Session.id == session.id)
        .values(last_seq=Session.last_seq + 1, last_rev=Session.last_rev + 1)
        .returning(Session.last_seq, Session.last_rev)).one()
    post = Post(session_id=session.id, participant_id=participant.id, client_id=client_id,
                seq=seq, rev=rev, text=text, tags=tags)
    db.session.add(post)
    try:
        db.session.commit()
    except IntegrityError:
        # The same post raced in on another connection: the first one stored wins.
        db.session.rollback()
        existing = _existing(participant, client_id)
        if existing is None:
            raise
        return existing, False
    socketio.emit("post", post_payload(post, session), to=room(session))
    return post, True


def post_payload(post: Post, session: Session) -> dict:
    """Return a post as every client receives it."""
    participant = post.participant
    return {
        "id": post.id,
        "code": session.code,
        "seq": post.seq,
        "rev": post.rev,
        "client_id": post.client_id,
        "text": post.text,
        "tags": post.tags,
        "author": participant.name,
        "organisation": participant.organisation,
        "hidden": post.hidden,
        "merged_into": post.merged_into_id,
        "created_at": post.created_at.isoformat(timespec="seconds") + "Z",
    }


def check_cursor(value, field: str) -> int:
    """Return a sequence or revision cursor sent by a client (0 when absent)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ServiceError("invalid_field", _l("The field %(field)s must be a whole number.", field=field))
    return value


def posts_since(session: Session, since: int = 0, include_hidden: bool = False) -> list[Post]:
    """Return the posts after sequence `since`, in order."""
    query = select(Post).where(Post.session_id == session.id, Post.seq > since).order_by(Post.seq)
    if not include_hidden:
        query = query.where(Post.hidden.is_(False))
    return list(db.session.scalars(query))


def changed_since(session: Session, since: int, rev: int) -> list[Post]:
    """Return posts a client already had (seq <= since) that were hidden or restored after revision `rev`."""
    return list(db.session.scalars(
        select(Post).where(Post.session_id == session.id, Post.seq <= since, Post.rev > rev).order_by(Post.seq)))


def posts_of(session: Session, participant: Participant) -> list[Post]:
    """Return a participant's own posts in a session, hidden ones included."""
    return list(db.session.scalars(
        select(Post).where(Post.session_id == session.id, Post.participant_id == participant.id).order_by(Post.seq)))
