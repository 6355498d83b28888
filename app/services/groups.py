"""Groups of ideas in the synthesis: computed by app/grouping, steered by people.

Hosts and organisers answer suggestions (« the same idea? »); organisers rename groups, move an idea, merge and
split groups. Every answer and edit is stored as a decision on a pair of posts (`GroupDecision`) or a title on a
post, never as a snapshot of groups: re-running the synthesis, with new ideas since, keeps them all.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence

import numpy as np
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from app.grouping import NONE, Grouper, Grouping, Settings, embed, merged_synonyms

from ..config import native_thread_runner
from ..extensions import db, socketio
from ..models import Event, GroupDecision, IdeaVector, Post, Session, Table
from . import moderation
from .errors import ServiceError, whole_number
from .sessions import screens_room
from .text import clean_line

MAX_TITLE = 300
#: How many suggestions a host or an organiser is offered at once.
SUGGESTIONS = 10

_groupers: dict[tuple, Grouper] = {}
# Under gevent or eventlet the standard library is monkey-patched: this lock is cooperative.
_embedding = threading.Lock()


def settings_of(event: Event) -> Settings:
    """Return the grouping settings of an event: the server's, then its event file's `grouping` (docs/synthesis.md)."""
    own = event.spec.get("grouping", {})
    config = current_app.config
    return Settings(threshold=own.get("threshold", config["GROUPING_THRESHOLD"]),
                    suggest=own.get("suggest", config["GROUPING_SUGGEST"]),
                    embedder=config["GROUPING_EMBEDDER"])


def grouper_of(event: Event) -> Grouper:
    """Return the event's grouper, built once per process for its settings and synonyms."""
    settings, synonyms = settings_of(event), event.spec.get("grouping", {}).get("synonyms", {})
    key = (settings, json.dumps(synonyms, sort_keys=True))
    if key not in _groupers:
        _groupers.clear()
        _groupers[key] = Grouper(settings, merged_synonyms(synonyms))
    return _groupers[key]


def vectors(posts: Sequence[Post], grouper: Grouper) -> np.ndarray | None:
    """Return the posts' sentence vectors, computing and storing those not yet stored (None: words only).

    A host page and the console ask for suggestions as ideas arrive, so most vectors are stored during the round and
    the synthesis finds them ready.
    """
    model = grouper.settings.embedder
    if model == NONE or not posts:
        return None
    ids = [p.id for p in posts]
    stored = {row.post_id: np.frombuffer(row.vector, dtype=np.float32) for row in db.session.scalars(
        select(IdeaVector).where(IdeaVector.model == model, IdeaVector.post_id.in_(ids)))}
    missing = [p for p in posts if p.id not in stored]
    if missing:
        texts = [p.text for p in missing]
        # Loading the model takes seconds and encoding is CPU work: in a native thread, the room goes on meanwhile.
        run = native_thread_runner(current_app.config["ASYNC_MODE"]) or (lambda fn: fn())
        # One at a time: hosts asking at once must not each load the model (seconds of CPU, 150 MB apiece).
        with _embedding:
            computed = run(lambda: embed(texts, model))
        rows = []
        for post, vector in zip(missing, computed, strict=True):
            stored[post.id] = vector
            rows.append({"post_id": post.id, "model": model, "vector": vector.tobytes()})
        # On a connection of their own: the caller may be reading a snapshot (an export), read-only on PostgreSQL,
        # and another process may have stored the same vectors meanwhile.
        dialect = db.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        with db.engine.begin() as connection:
            connection.execute(insert(IdeaVector).values(rows).on_conflict_do_nothing())
    return np.stack([stored[i] for i in ids])


def _decisions(session: Session) -> list[GroupDecision]:
    return list(db.session.scalars(select(GroupDecision).where(GroupDecision.session_id == session.id)
                                   .order_by(GroupDecision.id)))


def bucket_of(tags: dict) -> str:
    """Return the bucket of a post: ideas group only with ideas carrying the same tags."""
    return json.dumps(tags or {}, sort_keys=True)


def compute(session: Session, posts: Sequence[Post]) -> Grouping:
    """Group visible posts of a session (kept ones: merged duplicates travel with the post they were merged into)."""
    grouper = grouper_of(session.event)
    index = {p.id: k for k, p in enumerate(posts)}
    together, apart = [], []
    for decision in _decisions(session):
        pair = (index.get(decision.post_id), index.get(decision.other_id))
        if None not in pair:
            (together if decision.same else apart).append(pair)
    return grouper.group([p.text for p in posts], vectors(posts, grouper), [bucket_of(p.tags) for p in posts],
                         together, apart)


def visible(session: Session, within: dict | None = None) -> list[Post]:
    """Return a session's visible posts in `seq` order (those carrying the tags `within`, for a table's host)."""
    posts = db.session.scalars(select(Post).where(Post.session_id == session.id, Post.hidden.is_(False))
                               .order_by(Post.seq))
    return [p for p in posts if not within or all(p.tags.get(k) == v for k, v in within.items())]


def title_of(members: Sequence[Post]) -> str | None:
    """Return the title an organiser gave a group: the one on its earliest titled member."""
    return next((p.group_title for p in members if p.group_title), None)


def suggestions(session: Session, table: Table | None = None) -> list[dict]:
    """Return the pairs of ideas that may say the same thing and nobody decided on, best first."""
    posts = visible(session, table.tags if table is not None else None)
    grouping = compute(session, posts)
    found = []
    for suggestion in grouping.suggestions[:SUGGESTIONS]:
        first, second = sorted((posts[suggestion.first], posts[suggestion.second]), key=lambda p: p.seq)
        found.append({"post": {"id": first.id, "text": first.text, "tags": first.tags},
                      "other": {"id": second.id, "text": second.text, "tags": second.tags},
                      "score": round(suggestion.score, 3)})
    return found


def _pair(session: Session, post_id, other_id, within: dict | None = None) -> tuple[Post, Post]:
    post = moderation._post(session, post_id, "post_id", within)
    other = moderation._post(session, other_id, "other_id", within)
    if post.id == other.id:
        raise ServiceError("invalid_pair", _l("Choose two different ideas."))
    return post, other


def _record(session: Session, a: int, b: int, same: bool, table: Table | None = None,
            organiser_id: int | None = None) -> None:
    """Store what was said of a pair of posts, replacing what was said of it before."""
    low, high = sorted((a, b))
    db.session.execute(delete(GroupDecision).where(GroupDecision.session_id == session.id,
                                                   GroupDecision.post_id == low, GroupDecision.other_id == high))
    db.session.add(GroupDecision(session_id=session.id, post_id=low, other_id=high, same=same,
                                 table_id=table.id if table is not None else None, organiser_id=organiser_id))


def answer(session: Session, post_id, other_id, same, table: Table | None = None,
           organiser_id: int | None = None) -> dict:
    """Record a host's or an organiser's answer to a suggestion; « the same » also merges them on the wall."""
    if not isinstance(same, bool):
        raise ServiceError("invalid_field", _l("The field %(field)s must be true or false.", field="same"))
    post, other = _pair(session, post_id, other_id, table.tags if table is not None else None)
    if post.hidden or other.hidden:
        raise ServiceError("already_hidden", _l("This idea is already hidden or merged: restore it first."), 409)
    _record(session, post.id, other.id, same, table, organiser_id)
    db.session.commit()
    merged = None
    if same:
        # The newer idea joins the older one on the screens, as a host's own merge does, when a merge is possible.
        newer, older = sorted((post, other), key=lambda p: p.seq, reverse=True)
        for duplicate, kept in ((newer, older), (older, newer)):
            try:
                merged = moderation.merge(session, duplicate.id, kept.id, table=table, organiser_id=organiser_id)
                break
            except ServiceError:
                db.session.rollback()
    payload = {"code": session.code, "post_id": min(post.id, other.id), "other_id": max(post.id, other.id),
               "same": same}
    socketio.emit("group_answered", payload, to=screens_room(session.id))
    return {"answer": payload, "merged": merged is not None}


# --- The organiser's editor -------------------------------------------------------------------------------------

def _members_of(session: Session, post: Post) -> list[Post]:
    """Return the ideas of the group a post belongs to in the synthesis, its representative first."""
    posts = visible(session)
    grouping = compute(session, posts)
    index = {p.id: k for k, p in enumerate(posts)}
    kept = post if post.merged_into_id is None else db.session.get(Post, post.merged_into_id)
    if kept.id not in index:
        raise ServiceError("unknown_post", _l("This post does not exist in this workshop."), 404)
    group = grouping.groups[grouping.group_of[index[kept.id]]]
    return [posts[i] for i in group.members]


def rename(session: Session, post_id, title) -> dict:
    """Name the group a post belongs to (an empty title gives it back its representative idea's text)."""
    post = moderation._post(session, post_id)
    if not isinstance(title, str):
        raise ServiceError("invalid_field", _l("The field %(field)s must be text.", field="title"))
    title = clean_line(title)
    if len(title) > MAX_TITLE:
        raise ServiceError("title_too_long", _l("A title holds at most %(max)s characters.", max=MAX_TITLE))
    members = _members_of(session, post)
    for member in members:
        member.group_title = None
    members[0].group_title = title or None
    db.session.commit()
    return {"title": title or None}


def move(session: Session, post_id, into_id=None, organiser_id: int | None = None) -> dict:
    """Move an idea out of its group, into the group of `into_id` or on its own; a merge on the wall is undone."""
    post = moderation._post(session, post_id)
    into = None if into_id is None else moderation._post(session, into_id, "into")
    if post.merged_into_id is not None:
        moderation.unmerge(session, post.id)
        post = db.session.get(Post, post.id)
    if post.hidden:
        raise ServiceError("already_hidden", _l("This idea is already hidden or merged: restore it first."), 409)
    members = _members_of(session, post)
    db.session.execute(delete(GroupDecision).where(GroupDecision.session_id == session.id,
                                                   or_(GroupDecision.post_id == post.id,
                                                       GroupDecision.other_id == post.id)))
    for member in members:
        if member.id != post.id:
            _record(session, post.id, member.id, False, organiser_id=organiser_id)
    if into is not None and into.id != post.id:
        target = into if into.merged_into_id is None else db.session.get(Post, into.merged_into_id)
        if bucket_of(target.tags) != bucket_of(post.tags):
            raise ServiceError("other_tags", _l("Only ideas with the same tags can be grouped."), 409)
        _record(session, post.id, target.id, True, organiser_id=organiser_id)
    post.group_title = None
    db.session.commit()
    return {"post_id": post.id}


def merge_groups(session: Session, post_id, other_id, organiser_id: int | None = None) -> dict:
    """Make one group of the groups two ideas belong to."""
    post, other = _pair(session, post_id, other_id)
    if bucket_of(post.tags) != bucket_of(other.tags):
        raise ServiceError("other_tags", _l("Only ideas with the same tags can be grouped."), 409)
    first, second = _members_of(session, post), _members_of(session, other)
    # Anything said to keep the two groups apart gives way to this newer word.
    ids_a, ids_b = {p.id for p in first}, {p.id for p in second}
    for decision in db.session.scalars(select(GroupDecision).where(GroupDecision.session_id == session.id,
                                                                    GroupDecision.same.is_(False))):
        if {decision.post_id, decision.other_id} & ids_a and {decision.post_id, decision.other_id} & ids_b:
            db.session.delete(decision)
    db.session.flush()
    _record(session, first[0].id, second[0].id, True, organiser_id=organiser_id)
    db.session.commit()
    return {"post_id": first[0].id}


def split(session: Session, post_ids, organiser_id: int | None = None) -> dict:
    """Take some ideas out of their group into a group of their own."""
    if not isinstance(post_ids, list) or not post_ids or len(post_ids) > 500:
        raise ServiceError("invalid_field", _l("The field %(field)s must be a list of ideas.", field="post_ids"))
    chosen = [moderation._post(session, whole_number(i, "post_ids", low=1)) for i in post_ids]
    members = _members_of(session, chosen[0])
    ids = {p.id for p in members}
    if any(p.id not in ids for p in chosen):
        raise ServiceError("other_group", _l("Choose ideas of one group."), 409)
    chosen_ids = {p.id for p in chosen}
    rest = [p for p in members if p.id not in chosen_ids]
    if not rest:
        raise ServiceError("whole_group", _l("Leave at least one idea in the group."), 409)
    for post in chosen:
        for other in rest:
            _record(session, post.id, other.id, False, organiser_id=organiser_id)
    for post in chosen[1:]:
        _record(session, chosen[0].id, post.id, True, organiser_id=organiser_id)
    db.session.commit()
    return {"post_id": chosen[0].id}


def key_phrases(session: Session, found: list[dict]) -> dict[str, list[str]]:
    """Return, per bucket of tags, the words that set its ideas apart from the session's others (`found`: ideas())."""
    said = [[t for m in i["members"] for t in [m["text"], *m["merged"]]] or [i["text"], *i["merged"]] for i in found]
    return grouper_of(session.event).key_phrases(said, [bucket_of(i["tags"]) for i in found])


def editor(session: Session) -> dict:
    """Return the session's groups as the synthesis prints them, per tag, with every idea and its id, to edit them."""
    from workshops import ideas

    from .sessions import frameworks_of

    labels = {(fw["key"], item["key"]): item["label"] for fw in frameworks_of(session) for item in fw.get("items", [])}
    found = ideas(session)
    sections: dict[str, dict] = {}
    for idea in found:
        bucket = bucket_of(idea["tags"])
        section = sections.setdefault(bucket, {"tags": idea["tags"], "groups": [], "label": " · ".join(
            str(labels.get((k, v), v)) for k, v in sorted(idea["tags"].items())) or None})
        members = idea["members"] or [{"id": idea["id"], "text": idea["text"], "merged": idea["merged"],
                                       "dots": idea["dots"]}]
        section["groups"].append({"id": members[0]["id"], "text": idea["text"], "title": idea["title"],
                                  "size": len(idea["merged"]) + 1, "dots": idea["dots"], "members": members})
    phrases = key_phrases(session, found)
    for bucket, section in sections.items():
        section["key_phrases"] = phrases.get(bucket, [])
    return {"code": session.code, "sections": list(sections.values())}
