"""Moderation: hiding a post from the wall and bringing it back, merging duplicates and undoing a merge."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..extensions import db, socketio
from ..models import Post, Session, Table, utcnow
from .errors import ServiceError, whole_number
from .posting import post_payload
from .questions import recount
from .sessions import room


def _post(session: Session, post_id, field: str = "post_id", within: dict | None = None) -> Post:
    """Return a post of the session (carrying the tags `within`, for a table's host), or refuse."""
    post_id = whole_number(post_id, field, low=1)
    post = db.session.scalar(select(Post).where(Post.id == post_id, Post.session_id == session.id))
    if post is None or (within and any(post.tags.get(k) != v for k, v in within.items())):
        raise ServiceError("unknown_post", _l("This post does not exist in this workshop."), 404)
    return post


def _next_revs(session: Session, count: int) -> int:
    """Take `count` new revisions of the session and return the last one."""
    return db.session.execute(
        update(Session).where(Session.id == session.id).values(last_rev=Session.last_rev + count)
        .returning(Session.last_rev)).scalar_one()


def merge(session: Session, post_id, into_id, table: Table | None = None, organiser_id: int | None = None) -> dict:
    """Merge a duplicate into another idea of the session: it is hidden, shown on the kept idea, and can be undone.

    A table's host (`table`) merges only among the posts carrying their table's tags; an organiser any two posts.
    """
    within = table.tags if table is not None else None
    post, into = _post(session, post_id, within=within), _post(session, into_id, "into", within=within)
    if post.id == into.id:
        raise ServiceError("invalid_merge", _l("An idea can only be merged into another visible idea."))
    if into.merged_into_id is not None:
        raise ServiceError("merge_target_merged", _l("The idea to keep is itself merged into another: "
                                                     "merge into that one."), 409)
    if into.hidden:
        raise ServiceError("invalid_merge", _l("An idea can only be merged into another visible idea."))
    if post.hidden:
        # Merging would record nothing a reader sees and could silently re-point an earlier merge.
        raise ServiceError("already_hidden", _l("This idea is already hidden or merged: restore it first."), 409)
    if db.session.scalar(select(Post.id).where(Post.merged_into_id == post.id).limit(1)) is not None:
        # A chain would hide the ideas merged into this one behind a card that is itself hidden.
        raise ServiceError("merge_chain", _l("Other ideas are merged into this one: merge the other way round, "
                                             "or undo those merges first."), 409)
    rev = _next_revs(session, 2)
    post.hidden, post.merged_into_id, post.merged_at = True, into.id, utcnow()
    post.merged_by_table_id = table.id if table is not None else None
    post.merged_by_organiser_id = organiser_id if table is None else None
    post.rev, into.rev = rev - 1, rev
    recount(into)
    db.session.commit()
    return _announce("post_merged", session, post, into)


def unmerge(session: Session, post_id, table: Table | None = None) -> dict:
    """Undo a merge: the duplicate is shown again on its own. A host may undo only a merge made at their table."""
    post = _post(session, post_id, within=table.tags if table is not None else None)
    if post.merged_into_id is None:
        raise ServiceError("not_merged", _l("This idea is not merged into another."), 409)
    if table is not None and post.merged_by_table_id != table.id:
        raise ServiceError("not_your_merge", _l("Only the organisers or the host who merged this idea can undo it."),
                           403)
    return _separate(session, post)


def _separate(session: Session, post: Post) -> dict:
    into = db.session.get(Post, post.merged_into_id)
    rev = _next_revs(session, 2)
    post.hidden, post.merged_into_id, post.merged_at = False, None, None
    post.merged_by_table_id = post.merged_by_organiser_id = None
    post.rev, into.rev = rev - 1, rev
    db.session.flush()
    recount(post, into)
    db.session.commit()
    return _announce("post_unmerged", session, post, into)


def _announce(event: str, session: Session, post: Post, into: Post) -> dict:
    """Tell every client of the session (screens and phones) about a merge or its undoing; return the post."""
    payload, kept = post_payload(post, session), post_payload(into, session)
    socketio.emit(event, {"code": session.code, "post": payload, "into": kept}, to=room(session.id))
    return {"post": payload, "into": kept}


def merged_posts(session: Session) -> dict[int, list[Post]]:
    """Return, per kept post id, the posts merged into it (in `seq` order): what the synthesis counts on it."""
    merged: dict[int, list[Post]] = {}
    for post in db.session.scalars(select(Post).where(Post.session_id == session.id, Post.merged_into_id.is_not(None))
                                   .order_by(Post.seq)):
        merged.setdefault(post.merged_into_id, []).append(post)
    return merged


def set_hidden(session: Session, post_id, hidden: bool) -> dict:
    """Hide or restore a post of the session and tell every client; restoring a merged post undoes its merge."""
    post = _post(session, post_id)
    if not hidden and post.merged_into_id is not None:
        return {"post": _separate(session, post)["post"]}
    # Restoring a post waiting for review publishes it.
    changed = post.hidden != hidden or (not hidden and post.held)
    if changed:
        post.hidden = hidden
        post.held = post.held and hidden
        post.rev = _next_revs(session, 1)
        db.session.commit()
    payload = post_payload(post, session)
    if not changed:
        return {"post": payload}
    if hidden:
        event_payload = {"code": session.code, "id": post.id, "seq": post.seq, "rev": post.rev,
                         "merged_into": post.merged_into_id}
        socketio.emit("post_hidden", event_payload, to=room(session.id))
    else:
        socketio.emit("post_restored", payload, to=room(session.id))
    return {"post": payload}
