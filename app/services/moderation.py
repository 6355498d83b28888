"""Moderation: hiding a post from the wall and bringing it back."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..extensions import db, socketio
from ..models import Post, Session
from .errors import ServiceError
from .posting import post_payload
from .sessions import room


def set_hidden(session: Session, post_id, hidden: bool) -> dict:
    """Hide or restore a post of the session and tell every client."""
    if isinstance(post_id, bool) or not isinstance(post_id, int):
        raise ServiceError("invalid_field", _l("The field %(field)s must be a whole number.", field="post_id"))
    post = db.session.scalar(select(Post).where(Post.id == post_id, Post.session_id == session.id))
    if post is None:
        raise ServiceError("unknown_post", _l("This post does not exist in this workshop."), 404)
    changed = post.hidden != hidden
    if changed:
        rev = db.session.execute(
            update(Session).where(Session.id == session.id).values(last_rev=Session.last_rev + 1)
            .returning(Session.last_rev)).scalar_one()
        post.hidden = hidden
        post.rev = rev
        db.session.commit()
    payload = post_payload(post, session)
    if not changed:
        return payload
    if hidden:
        event_payload = {"code": session.code, "id": post.id, "seq": post.seq, "rev": post.rev}
        socketio.emit("post_hidden", event_payload, to=room(session))
    else:
        socketio.emit("post_restored", payload, to=room(session))
    return payload
