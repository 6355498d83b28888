"""Questions that rise: upvotes once per person, answered questions, the spotlight and the review queue.

Any format whose ``questions`` is true uses them. An upvote is not the dot
vote: no budget, one per person per question, withdrawable, counted live. A question merged into another
counts its people on the one kept, each person once.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select, update

from ..extensions import db, socketio
from ..models import Participant, Post, Session, Upvote
from .errors import ServiceError, whole_number
from .posting import post_payload
from .sessions import format_state, organisers_room, room, screens_room, store_state


def format_of(session: Session):
    """Return the session's format, or refuse when it takes no questions."""
    from workshops import registry

    fmt = registry().get(session.workshop)
    if fmt is None or not fmt.questions:
        raise ServiceError("no_upvotes", _l("This workshop does not take questions."), 409)
    return fmt


def _visible(session: Session, post_id, field: str = "post_id") -> Post:
    post_id = whole_number(post_id, field, low=1)
    post = db.session.scalar(select(Post).where(Post.id == post_id, Post.session_id == session.id))
    if post is None or post.hidden:
        raise ServiceError("unknown_post", _l("This post does not exist in this workshop."), 404)
    return post


def _check_bool(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise ServiceError("invalid_field", _l("The field %(field)s must be true or false.", field=field))
    return value


def _counted_on(session: Session, post_id) -> Post:
    """Return the visible post an upvote counts on: for a question merged into another, the one kept."""
    post_id = whole_number(post_id, "post_id", low=1)
    post = db.session.scalar(select(Post).where(Post.id == post_id, Post.session_id == session.id))
    if post is not None and post.merged_into_id is not None:
        # A phone that has not heard of the merge yet still shows the duplicate: its person's upvote goes on.
        post = db.session.get(Post, post.merged_into_id)
    if post is None or post.hidden:
        raise ServiceError("unknown_post", _l("This post does not exist in this workshop."), 404)
    return post


def _take_rev(session: Session) -> int:
    """Take the session's next revision; on PostgreSQL this also holds its row until commit, one change at a time."""
    return db.session.execute(update(Session).where(Session.id == session.id)
                              .values(last_rev=Session.last_rev + 1).returning(Session.last_rev)).scalar_one()


def _group_of(run, post_id: int) -> list[int]:
    """Return the ids of a kept post and of the posts merged into it, read through a session or a connection."""
    return [post_id, *run.scalars(select(Post.id).where(Post.merged_into_id == post_id))]


def _people(run, group: list[int]) -> int:
    return run.scalar(select(func.count(func.distinct(Upvote.participant_id))).where(Upvote.post_id.in_(group))) or 0


def _group(post: Post) -> list[int]:
    """Return the ids of a kept post and of the posts merged into it."""
    return _group_of(db.session, post.id)


def count(post: Post) -> int:
    """Return how many people upvoted a post or one merged into it, each person once."""
    return _people(db.session, _group(post))


def upvote(session: Session, participant: Participant, post_id, on) -> dict:
    """Set whether a participant upvotes a visible post (sending the same twice changes nothing); tell the screens."""
    format_of(session)
    on = _check_bool(on, "on")
    post_id, session_id, code, person = _counted_on(session, post_id).id, session.id, session.code, participant.id
    # Written like posts: on SQLite through the posts' writer, which commits without waiting for the disk, then
    # synced in a native thread before the ack. A commit with synchronous=FULL held the event loop for its fsync,
    # most of the loop's time at 100 upvotes/s (bench/upvotes.py).
    engine = current_app.extensions.get("rouages.post_engine") or db.engine
    sync = current_app.extensions.get("rouages.post_sync")
    db.session.rollback()  # the reads above are over; on SQLite they held no lock anyway
    with engine.connect() as conn:
        # Taken first: the check below and the count after the change then see every other upvote already made.
        rev = conn.execute(update(Session).where(Session.id == session_id).values(last_rev=Session.last_rev + 1)
                           .returning(Session.last_rev)).scalar_one()
        group = _group_of(conn, post_id)
        mine = conn.scalar(select(func.count()).select_from(Upvote).where(
            Upvote.post_id.in_(group), Upvote.participant_id == person)) > 0
        if mine == on:
            upvotes = conn.scalar(select(Post.upvotes).where(Post.id == post_id))
            conn.rollback()
            return {"post_id": post_id, "upvotes": upvotes, "mine": on}
        if on:
            conn.execute(insert(Upvote).values(session_id=session_id, post_id=post_id, participant_id=person))
        else:
            conn.execute(delete(Upvote).where(Upvote.post_id.in_(group), Upvote.participant_id == person))
        upvotes = _people(conn, group)
        conn.execute(update(Post).where(Post.id == post_id).values(upvotes=upvotes, rev=rev))
        conn.commit()
    if sync is not None:
        sync()  # durable before it is acknowledged or shown
    # Syncs end in any order: a count older than one already sent would leave the walls showing it, so it is not
    # sent (the newer one counted this change too). Checked and set with no yield between, one loop per process.
    sent = current_app.extensions.setdefault("rouages.upvotes_sent", {})  # post id → rev of the last count sent
    if sent.get(post_id, 0) < rev:
        sent[post_id] = rev
        socketio.emit("upvotes", {"code": code, "id": post_id, "upvotes": upvotes, "rev": rev},
                      to=screens_room(session_id))
    return {"post_id": post_id, "upvotes": upvotes, "mine": on}


def recount(*posts: Post) -> None:
    """Count again the people behind posts whose merges changed (not committed)."""
    for post in posts:
        post.upvotes = count(post)


def upvoted(session: Session, participant: Participant) -> list[int]:
    """Return the visible posts a participant upvoted (for a merged one, the post kept)."""
    from workshops import registry

    if not getattr(registry().get(session.workshop), "questions", False):
        return []
    kept = func.coalesce(Post.merged_into_id, Post.id)
    return sorted(set(db.session.scalars(
        select(kept).join(Upvote, Upvote.post_id == Post.id)
        .where(Upvote.session_id == session.id, Upvote.participant_id == participant.id))))


def _changed(session: Session, post: Post, rooms: list[str]) -> dict:
    payload = post_payload(post, session)
    socketio.emit("post_updated", payload, to=rooms)
    return {"post": payload}


def set_answered(session: Session, post_id, answered) -> dict:
    """Mark a visible question answered (or not) and tell everyone in the session."""
    format_of(session)
    answered = _check_bool(answered, "answered")
    post = _visible(session, post_id)
    if post.answered != answered:
        post.answered, post.rev = answered, _take_rev(session)
        db.session.commit()
    return _changed(session, post, [room(session.id)])


def spotlight(session: Session, post_id, on) -> dict:
    """Put a visible question on the walls, large, or take it off; one per scope (see spotlight_scope) at a time."""
    fmt = format_of(session)
    on = _check_bool(on, "on")
    post = _visible(session, post_id)
    state = format_state(session)
    shown = dict(state.get("spotlight") or {})
    scope = fmt.spotlight_scope(post.tags)
    if on:
        shown[scope] = post.id
    elif shown.get(scope) == post.id:
        del shown[scope]
    else:
        return {"code": session.code, "state": state}
    return store_state(session, {**state, "spotlight": shown})


def set_review(session: Session, review) -> dict:
    """Choose whether new posts wait for a moderator before they show; tell every phone, which says so."""
    from .sessions import state_payload

    review = _check_bool(review, "review")
    if session.review != review:
        session.review = review
        db.session.commit()
        socketio.emit("session_state", state_payload(session), to=room(session.id))
    return state_payload(session)


def _held(session: Session, post_id) -> Post:
    post_id = whole_number(post_id, "post_id", low=1)
    post = db.session.scalar(select(Post).where(Post.id == post_id, Post.session_id == session.id))
    if post is None:
        raise ServiceError("unknown_post", _l("This post does not exist in this workshop."), 404)
    if not post.held:
        raise ServiceError("not_held", _l("This post is not waiting for review."), 409)
    return post


def approve(session: Session, post_id) -> dict:
    """Publish a post waiting for review: every wall and phone receives it as a restored post."""
    post = _held(session, post_id)
    post.held = post.hidden = False
    post.rev = _take_rev(session)
    db.session.commit()
    payload = post_payload(post, session)
    socketio.emit("post_restored", payload, to=room(session.id))
    return {"post": payload}


def reject(session: Session, post_id) -> dict:
    """Turn down a post waiting for review: it stays hidden, an ordinary hidden post an organiser may restore."""
    post = _held(session, post_id)
    post.held = False
    post.rev = _take_rev(session)
    db.session.commit()
    return _changed(session, post, [organisers_room(session.id)])


def held(session: Session) -> list[dict]:
    """Return the posts waiting for review, oldest first."""
    return [post_payload(p, session) for p in db.session.scalars(
        select(Post).where(Post.session_id == session.id, Post.held.is_(True)).order_by(Post.seq))]


def ranked(session: Session, *criteria) -> list[Post]:
    """Return the visible posts, most upvoted first, then oldest first."""
    return list(db.session.scalars(select(Post).where(Post.session_id == session.id, Post.hidden.is_(False),
                                                      *criteria).order_by(Post.upvotes.desc(), Post.seq)))

