"""Dot voting, for every format: a budget of dots per participant, hidden results until the reveal."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from ..extensions import db, socketio
from ..models import Participant, Post, Session, Vote
from .errors import MAX_WHOLE, ServiceError
from .posting import visible_payloads
from .sessions import room, screens_room

MAX_BUDGET = 20
_POST_KEY = re.compile(r"^[0-9]{1,16}$")
STATES = ("none", "open", "closed", "revealed")


def _whole(value, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ServiceError("invalid_vote_settings", _l("%(field)s must be a whole number from %(low)s to %(high)s.",
                                                       field=field, low=low, high=high))
    return value


def vote_payload(session: Session, voters: bool = True) -> dict:
    """Return the vote's state and rules, with the results once revealed (and how many voted, unless not asked)."""
    payload = {"code": session.code, "srev": session.state_rev, "state": session.vote_state,
               "budget": session.vote_budget, "max_per_post": session.vote_max_per_post}
    if voters:
        payload["voters"] = db.session.scalar(select(func.count(func.distinct(Vote.participant_id)))
                                              .where(Vote.session_id == session.id))
    if session.vote_state == "revealed":
        payload["results"] = results(session)
    return payload


def _announce(session: Session, with_posts: bool = False) -> dict:
    db.session.commit()
    payload = vote_payload(session)
    # Phones are not sent ideas outside a vote: the opening carries the list, encoded once for the whole room,
    # rather than every phone fetching it at the same instant.
    # `seq` and `rev` are the list's cursors: a phone that reconnects during the vote asks for what changed since.
    message = {**payload, "posts": visible_payloads(session)[0], "seq": session.last_seq,
               "rev": session.last_rev} if with_posts else payload
    socketio.emit("vote_state", message, to=room(session.id))
    return payload


def open_vote(session: Session, budget, max_per_post) -> dict:
    """Open the vote with `budget` dots each, at most `max_per_post` on one idea; dots are kept if the rules are."""
    budget = _whole(budget, "budget", 1, MAX_BUDGET)
    max_per_post = _whole(max_per_post, "max_per_post", 1, budget)
    if not db.session.scalar(select(Post.id).where(Post.session_id == session.id, Post.hidden.is_(False)).limit(1)):
        # An empty vote would reach every phone with nothing to put dots on.
        raise ServiceError("no_ideas", _l("There is no idea to vote on yet."), 409)
    if (budget, max_per_post) != (session.vote_budget, session.vote_max_per_post):
        # New rules make a new vote: dots placed under the old ones could break them.
        db.session.execute(delete(Vote).where(Vote.session_id == session.id))
    session.vote_budget, session.vote_max_per_post = budget, max_per_post
    session.vote_state = "open"
    return _announce(session, with_posts=True)


def close_vote(session: Session) -> dict:
    """Stop accepting dots; results stay hidden."""
    if session.vote_state not in ("open", "closed"):
        raise ServiceError("vote_not_open", _l("The vote is not open."), 409)
    session.vote_state = "closed"
    return _announce(session)


def reveal(session: Session) -> dict:
    """Close the vote if needed and show the ranked results to everyone."""
    if session.vote_state == "none":
        raise ServiceError("vote_not_open", _l("The vote is not open."), 409)
    session.vote_state = "revealed"
    return _announce(session)


def cast(session: Session, participant: Participant, dots) -> dict:
    """Replace a participant's dots with `dots` ({post id: count}); resending the same allocation changes nothing."""
    if session.vote_state != "open":
        raise ServiceError("vote_not_open", _l("The vote is not open."), 409)
    if not isinstance(dots, dict):
        raise ServiceError("invalid_vote", _l("The vote is malformed."))
    allocation: dict[int, int] = {}
    for key, count in dots.items():
        # JSON object keys are strings: only ASCII digits name a post ("²" and "١" are digits to str.isdigit).
        post_id = int(key) if isinstance(key, str) and _POST_KEY.match(key) else None
        if post_id is None or post_id > MAX_WHOLE or isinstance(count, bool) or not isinstance(count, int) \
                or count < 0:
            raise ServiceError("invalid_vote", _l("The vote is malformed."))
        if count > session.vote_max_per_post:
            raise ServiceError("too_many_dots_on_post", _l("At most %(max)s dots on one idea.",
                                                           max=session.vote_max_per_post))
        if count:
            allocation[post_id] = allocation.get(post_id, 0) + count
    if sum(allocation.values()) > session.vote_budget:
        raise ServiceError("over_budget", _l("You have %(budget)s dots in all.", budget=session.vote_budget))
    if allocation:
        valid = set(db.session.scalars(select(Post.id).where(
            Post.session_id == session.id, Post.hidden.is_(False), Post.id.in_(allocation))))
        if valid != set(allocation):
            raise ServiceError("unknown_post", _l("This post does not exist in this workshop."), 404)
    had = db.session.execute(delete(Vote).where(Vote.session_id == session.id,
                                                Vote.participant_id == participant.id)).rowcount > 0
    db.session.add_all(Vote(session_id=session.id, participant_id=participant.id, post_id=post_id, dots=count)
                       for post_id, count in allocation.items())
    db.session.commit()
    if had != bool(allocation):
        # The number of voters changed: consoles and walls show it live (phones need not hear about it).
        socketio.emit("vote_state", vote_payload(session), to=screens_room(session.id))
    return {"dots": {str(k): v for k, v in allocation.items()}, "left": session.vote_budget - sum(allocation.values())}


def dots_of(session: Session, participant: Participant) -> dict[str, int]:
    """Return a participant's current dots in a session, keyed by post id."""
    rows = db.session.execute(select(Vote.post_id, Vote.dots).where(
        Vote.session_id == session.id, Vote.participant_id == participant.id))
    return {str(post_id): dots for post_id, dots in rows}


def dots_per_post(session: Session) -> dict[int, int]:
    """Return the dots each idea of a session received by post id, dots on a merged idea counting on the one kept."""
    kept = func.coalesce(Post.merged_into_id, Post.id)
    return {post_id: int(dots) for post_id, dots in db.session.execute(
        select(kept, func.sum(Vote.dots)).join(Post, Post.id == Vote.post_id).where(Vote.session_id == session.id)
        .group_by(kept))}


def results(session: Session) -> list[dict]:
    """Return the visible posts that got dots, most dots first, with their rank (ties share a rank).

    Dots placed on an idea before it was merged count on the idea kept: the merge is one idea, counted once.
    """
    totals = dots_per_post(session)
    posts = db.session.scalars(select(Post).where(Post.id.in_(totals), Post.hidden.is_(False))).all() if totals else []
    posts = sorted(posts, key=lambda p: (-totals[p.id], p.seq))
    ranked, previous, rank = [], None, 0
    for index, post in enumerate(posts, 1):
        if totals[post.id] != previous:
            rank, previous = index, totals[post.id]
        ranked.append({"post_id": post.id, "seq": post.seq, "text": post.text, "tags": post.tags,
                       "dots": int(totals[post.id]), "rank": rank})
    return ranked
