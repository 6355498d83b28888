"""Moderation: hiding a post from the wall and bringing it back."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..extensions import db, socketio
from ..models import Post, Session
from .errors import ServiceError, whole_number
from .posting import post_payload
from .sessions import room


def _post(session: Session, post_id, field: str = "post_id") -> Post:
    post_id = whole_number(post_id, field, low=1)
    post = db.session.scalar(select(Post).where(Post.id == post_id, Post.session_id == session.id))
    if post is None:
        raise ServiceError("unknown_post", _l("This post does not exist in this workshop."), 404)
    return post


def merge(session: Session, post_id, into_id, within: dict | None = None) -> dict:
    """Merge a duplicate into another post of the session: the duplicate is hidden and remembers its original.

    `within` restricts both posts to those carrying these tags (a host merges only at their own table).
    """
    post, into = _post(session, post_id), _post(session, into_id, "into")
    for candidate in (post, into):
        if within and any(candidate.tags.get(k) != v for k, v in within.items()):
            raise ServiceError("unknown_post", _l("This post does not exist in this workshop."), 404)
    if post.id == into.id or into.hidden:
        raise ServiceError("invalid_merge", _l("An idea can only be merged into another visible idea."))
    if post.hidden:
        # Merging would record nothing a reader sees and could silently re-point an earlier merge.
        raise ServiceError("already_hidden", _l("This idea is already hidden or merged: restore it first."), 409)
    post.merged_into_id = into.id
    db.session.flush()
    return set_hidden(session, post.id, True)


def set_hidden(session: Session, post_id, hidden: bool) -> dict:
    """Hide or restore a post of the session and tell every client."""
    post = _post(session, post_id)
    if not hidden:
        post.merged_into_id = None
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
        event_payload = {"code": session.code, "id": post.id, "seq": post.seq, "rev": post.rev,
                         "merged_into": post.merged_into_id}
        socketio.emit("post_hidden", event_payload, to=room(session.id))
    else:
        socketio.emit("post_restored", payload, to=room(session.id))
    return payload
