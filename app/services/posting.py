"""Posting ideas: validation, idempotent storage with a per-session sequence, broadcast."""

from __future__ import annotations

import bisect
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Engine, and_, case, false, insert, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.exc import IntegrityError

from ..extensions import db, socketio
from ..models import Participant, Post, Session, Table, utcnow
from . import limits, storage
from .errors import ServiceError, require_dict, whole_number
from . import sessions
from .sessions import PostTarget, now_ms, organisers_room, room, screens_room
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


def check_tags(frameworks: list[dict], tags, state: dict | None = None) -> dict:
    """Return the tags if each names a framework and one of its items open in `state`, and none required is missing."""
    if tags is None:
        tags = {}
    if not isinstance(tags, dict):
        raise ServiceError("invalid_tags", _l("The tags are malformed."))
    frameworks = {fw["key"]: fw for fw in frameworks}
    clean = {}
    for key, value in tags.items():
        if value is None:
            continue
        fw = frameworks.get(key)
        item = next((i for i in fw["items"] if i["key"] == value), None) if fw and isinstance(value, str) else None
        if item is None:
            if fw is None:
                raise ServiceError("unknown_tag", _l("This tag does not belong to this workshop."))
            raise ServiceError("unknown_tag", _l("%(label)s: this choice does not belong to this workshop.",
                                                 label=fw["label"]))
        if item.get("opens_with") and not (state or {}).get(item["opens_with"]):
            raise ServiceError("closed_tag", _l("“%(label)s” is not open yet: the facilitators will open it.",
                                                label=item["label"]))
        clean[key] = value
    for fw in frameworks.values():
        if fw["required"] and fw["key"] not in clean:
            raise ServiceError("missing_tag", _l("Choose one: %(label)s.", label=fw["label"]))
    return clean


def check_opening(opening) -> int | None:
    """Return the opening of posting a phone saw when the idea was written (None: it saw posting closed)."""
    return None if opening is None else whole_number(opening, "opening")


def check_signed(signed) -> bool | None:
    """Return whether the phone asked to sign its post with its name (None: it did not say)."""
    if signed is not None and not isinstance(signed, bool):
        raise ServiceError("invalid_field", _l("The field %(field)s must be true or false.", field="signed"))
    return signed


def anonymous_post(workshop: str, signed: bool | None) -> bool:
    """Return whether a post goes without its author's name: a question is, unless its author signs it."""
    from workshops import registry

    fmt = registry().get(workshop)
    return bool(fmt is not None and fmt.questions and not signed)


def check_client_id(client_id) -> str:
    """Return the phone-made idempotency key, or refuse it."""
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise ServiceError("invalid_client_id", _l("The request is malformed."))
    return client_id


class Author(NamedTuple):
    """Who posts: a participant's id and the name and organisation shown with the post."""

    id: int
    name: str | None
    organisation: str | None
    # The token the connection joined with: the writer checks it still names this participant (see registrants).
    token: str | None = None


def _existing(participant_id: int, client_id: str) -> Post | None:
    return db.session.scalar(
        select(Post).where(Post.participant_id == participant_id, Post.client_id == client_id))


def _stored(post: Post, session_id: int, code: str) -> tuple[dict, bool]:
    """Answer a resend with the post stored under its client id, if it went to this session."""
    if post.session_id != session_id:
        raise ServiceError("client_id_reused", _l("This idea was already sent to another workshop."), 409)
    return _stored_wire(post, code), False


def create_post(target: PostTarget, author: Author | Participant, data) -> tuple[dict, bool]:
    """Store a post once per client id and broadcast it; return (its payload, created). A table's tags are imposed.

    Whether posting is open is checked by the writer, in the transaction that stores the post.
    """
    data = require_dict(data)
    # Counted per identity held: the refused posts of a phone whose code was reset never spend the new owner's.
    limits.check_post((author.id, author.token))
    client_id = check_client_id(data.get("client_id"))
    opening = check_opening(data.get("opening"))
    anonymous = anonymous_post(target.workshop, check_signed(data.get("signed")))
    try:
        text = check_text(data.get("text"))
        tags = data.get("tags")
        if target.table_tags and isinstance(tags if tags is not None else {}, dict):
            tags = {**(tags or {}), **target.table_tags}
        try:
            tags = check_tags(target.frameworks, tags, target.state)
        except ServiceError as error:
            if error.code != "closed_tag":
                raise
            # Opened a moment ago, maybe by another worker: the cached state may be stale, so ask the database.
            tags = check_tags(target.frameworks, tags, sessions.fresh_state(target.session_id))
    except ServiceError:
        # A resend of a stored post succeeds even if it would be refused now (the rules changed since, say).
        with _writer.idle():
            existing = _existing(author.id, client_id)
        if existing is not None:
            return _stored(existing, target.session_id, target.code)
        raise
    pending = _Pending(session_id=target.session_id, code=target.code, participant_id=author.id,
                       author=author.name, organisation=author.organisation, client_id=client_id, text=text, tags=tags,
                       opening=opening, token=author.token if isinstance(author, Author) else None,
                       anonymous=anonymous)
    if db.session.registry.has() and db.session().in_transaction():
        # The writer uses its own connection: end this one's transaction so it holds no lock the writer waits on.
        db.session.commit()
    return _writer.submit(pending)


@dataclass
class _Pending:
    """A validated post waiting for the writer; `payload` and `created` are set once it is stored."""

    session_id: int
    code: str
    participant_id: int
    author: str | None
    organisation: str | None
    client_id: str
    text: str
    tags: dict
    opening: int | None = None
    token: str | None = None
    anonymous: bool = False
    rooms: list[str] = field(default_factory=list)
    payload: dict | None = None
    created: bool = False
    error: BaseException | None = None
    done: bool = False


class _GroupCommit:
    """Store the posts of concurrent handlers in one transaction, then broadcast them in sequence order.

    The first handler to find no batch in progress writes every post queued so far; the others wait until
    theirs is done, or until the batch ends and one of them writes the next. One commit (one fsync on
    SQLite) then serves a whole burst, and broadcasts leave in `seq` order. Under gevent or eventlet the
    standard library is monkey-patched, so the condition variable is cooperative.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._writing = False

    def submit(self, pending: _Pending) -> tuple[dict, bool]:
        """Queue a post and return (payload, created) once it is durable and broadcast."""
        with self._cond:
            self._queue.append(pending)
        with self._turn(lambda: pending.done) as mine:
            if mine:
                time.sleep(0)  # let the handlers that are ready reach submit first: they join this batch
                with self._cond:
                    batch, self._queue = self._queue, []
                self._write(batch)
        if pending.error is not None:
            raise pending.error
        return pending.payload, pending.created

    @contextmanager
    def idle(self):
        """Hold off new batches meanwhile: every post this process committed is then durable.

        Needed only where the writer commits before it syncs (SQLite): a phone told its post is stored
        drops it from its outbox, so it must not read one still on its way to the disk.
        """
        if current_app.extensions.get("rouages.post_sync") is None:
            yield
            return
        with self._turn():
            yield

    @contextmanager
    def _turn(self, done=lambda: False):
        """Wait until no batch is being written or `done()`; unless done, hold the writer's turn. Yield if held."""
        with self._cond:
            while self._writing and not done():
                self._cond.wait()
            held = not done()
            if held:
                self._writing = True
        try:
            yield held
        finally:
            if held:
                with self._cond:
                    self._writing = False
                    self._cond.notify_all()

    def _write(self, batch: list[_Pending]) -> None:
        # On SQLite the writer has its own connection, which commits without waiting for the disk, and a
        # sync that waits for it in a native thread: the event loop keeps serving phones meanwhile.
        engine = current_app.extensions.get("rouages.post_engine") or db.engine
        sync = current_app.extensions.get("rouages.post_sync")
        try:
            created = self._store_each(engine, batch)
            if sync is not None:
                sync()  # durable before anything is acknowledged or broadcast
        except BaseException as error:
            # Stored or not, none is known durable: each phone resends and finds its post if it was stored.
            failure = storage.unavailable(error) if isinstance(error, storage.STORAGE_ERRORS) else error
            for pending in batch:
                pending.payload, pending.created, pending.error = None, False, pending.error or failure
                pending.done = True
            if failure is error:
                raise
            return
        storage.recovered()
        for pending in created:
            try:
                socketio.emit("post", pending.payload, to=pending.rooms)
            except Exception:  # the post is stored: walls find it when they resync from the gap
                current_app.logger.exception("Broadcasting post %s failed", pending.payload["id"])
        for pending in batch:
            if pending.payload is None and pending.error is None:
                try:
                    self._answer_stored(pending)
                except Exception as error:
                    pending.error = error
            pending.done = True

    def _store_each(self, engine: Engine, batch: list[_Pending]) -> list[_Pending]:
        """Store the batch in one transaction; if a member breaks it, store each alone so only that one fails."""
        try:
            return self._store(engine, batch)
        except storage.STORAGE_ERRORS:
            raise  # the disk or the database, not a post: every member would fail alike
        except Exception:
            pass
        # A resend raced in through another worker (IntegrityError), or one post cannot be stored: one by one,
        # so that the others are stored and acknowledged and only the culprit gets an error of its own.
        created = []
        for pending in batch:
            pending.error = None
            try:
                created += self._store(engine, [pending])
            except storage.STORAGE_ERRORS:
                raise
            except IntegrityError:
                pass  # stored meanwhile: answered with the stored post
            except Exception as error:
                current_app.logger.error("Post %s of participant %s could not be stored: %r",
                                         pending.client_id, pending.participant_id, error)
                pending.error = ServiceError("post_not_stored", _l("This idea could not be saved. Check its "
                                                                   "text and send it again."), 422)
        return created

    @staticmethod
    def _store(engine: Engine, batch: list[_Pending]) -> list[_Pending]:
        """Insert the batch's new posts in one transaction; return them in `seq` order."""
        new: dict[tuple[int, str], _Pending] = {}
        with engine.begin() as conn:
            keys = [(p.participant_id, p.client_id) for p in batch]
            # Two IN lists, not a row-value IN: SQLite would scan the whole unique index for the latter.
            stored = {tuple(row) for row in conn.execute(select(Post.participant_id, Post.client_id).where(
                Post.participant_id.in_({k[0] for k in keys}), Post.client_id.in_({k[1] for k in keys})))}
            for key, pending in zip(keys, batch, strict=True):
                if key not in stored and key not in new:
                    new[key] = pending
            _drop_reset_authors(conn, new)
            by_session: dict[int, list[_Pending]] = {}
            for pending in new.values():
                by_session.setdefault(pending.session_id, []).append(pending)
            numbered = []  # (pending, seq, rev, rooms, held)
            for session_id, posts in sorted(by_session.items()):  # one lock order across workers
                # Checked here, in the transaction that stores the posts: a post is never stored after closing,
                # but for one written while posting was open that arrives within the grace period.
                row = _number(conn, session_id, posts, Session.is_open.is_(True))
                if row is None:
                    posts, late = _written_before_closing(conn, session_id, posts)
                    row = _number(conn, session_id, posts, _in_grace(posts[0].opening)) if posts else None
                    if row is None:
                        late += posts
                    for pending in late:
                        pending.error = ServiceError("session_closed", _l("Posting is closed for this workshop."),
                                                     409)
                if row is None:
                    continue
                first_seq, first_rev = row.last_seq - len(posts) + 1, row.last_rev - len(posts) + 1
                if row.review:
                    rooms = [organisers_room(session_id)]  # held: no public screen sees its text before review
                else:
                    rooms = [screens_room(session_id)]
                    if row.vote_state != "none" or _questions(row.workshop):
                        rooms.append(room(session_id))
                numbered += [(pending, first_seq + i, first_rev + i, rooms, row.review)
                             for i, pending in enumerate(posts)]
            if not numbered:
                return []
            created_at = utcnow()
            ids = conn.execute(
                insert(Post).returning(Post.id, sort_by_parameter_order=True),
                [{"session_id": p.session_id, "participant_id": p.participant_id, "client_id": p.client_id,
                  "seq": seq, "rev": rev, "text": p.text, "tags": p.tags, "hidden": held, "held": held,
                  "anonymous": p.anonymous, "created_at": created_at}
                 for p, seq, rev, _rooms, held in numbered]).scalars().all()
        for (pending, seq, rev, rooms, held), post_id in zip(numbered, ids, strict=True):
            pending.payload = _wire(post_id, pending.code, seq, rev, pending.client_id, pending.text, pending.tags,
                                    pending.author, pending.organisation, held, None, created_at, 0, False, held,
                                    pending.anonymous)
            pending.rooms = rooms
            pending.created = True
        return [pending for pending, *_rest in sorted(numbered, key=lambda n: n[1])]

    @staticmethod
    def _answer_stored(pending: _Pending) -> None:
        """Answer a post already stored under its client id with the stored post."""
        post = _existing(pending.participant_id, pending.client_id)
        if post is None:
            raise RuntimeError("a post refused as already stored cannot be found")
        try:
            pending.payload, pending.created = _stored(post, pending.session_id, pending.code)
        except ServiceError as error:
            pending.error = error


_writer = _GroupCommit()


def _drop_reset_authors(conn, new: dict[tuple[int, str], _Pending]) -> None:
    """Refuse, in the writer's transaction, posts of connections whose participant's token changed since they joined.

    An organiser resetting someone's personal QR code gives them a new token: the phone that held the code must
    stop posting as them at once, even on a connection that joined before (it keeps who it joined as in memory).
    """
    tokens = {p.participant_id: p.token for p in new.values() if p.token is not None}
    if not tokens:
        return
    current = dict(conn.execute(select(Participant.id, Participant.token).where(Participant.id.in_(tokens))).all())
    for key, pending in list(new.items()):
        if pending.token is not None and current.get(pending.participant_id) != pending.token:
            pending.error = identity_lost()
            del new[key]


def identity_lost() -> ServiceError:
    """Return the refusal of a connection whose participant's identity was given back by the organisers."""
    return ServiceError("not_joined", _l("This phone no longer holds this identity: the organisers reset it. "
                                         "Reload the page to join again."), 403)


def _number(conn, session_id: int, posts: list[_Pending], condition):
    """Reserve `seq` and `rev` numbers for the posts if the session is live and `condition` holds; else None."""
    return conn.execute(
        update(Session).where(Session.id == session_id, Session.removed.is_(False), condition)
        .values(last_seq=Session.last_seq + len(posts), last_rev=Session.last_rev + len(posts))
        .returning(Session.last_seq, Session.last_rev, Session.vote_state, Session.review,
                   Session.workshop)).one_or_none()


def _questions(workshop: str) -> bool:
    """Return whether a session of this format sends new posts to its phones (to upvote them)."""
    from workshops import registry

    fmt = registry().get(workshop)
    return bool(fmt is not None and fmt.questions)


def _written_before_closing(conn, session_id: int, posts: list[_Pending]) -> tuple[list[_Pending], list[_Pending]]:
    """Split the posts into those stamped with the session's last opening and the others."""
    opening = conn.execute(select(Session.opening).where(Session.id == session_id)).scalar()
    stamped, others = [], []
    for pending in posts:
        (stamped if pending.opening is not None and pending.opening == opening else others).append(pending)
    return stamped, others


def _in_grace(opening: int):
    """Return the condition under which ideas written during the last opening are stored: see docs/protocol.md.

    The stamp is a number the server gave out while posting was open, and the grace is measured by the
    server's clock from the closing it recorded: a phone cannot keep a round open by claiming it saw it open.
    Posting open again (a new opening) stores them too.
    """
    grace_ms = current_app.config["POSTING_GRACE_SECONDS"] * 1000
    late = and_(Session.opening == opening, Session.closed_at >= now_ms() - grace_ms) if grace_ms else false()
    return or_(Session.is_open.is_(True), late)


def _wire(post_id: int, code: str, seq: int, rev: int, client_id: str, text: str, tags: dict, author: str | None,
          organisation: str | None, hidden: bool, merged_into: int | None, created_at, upvotes: int = 0,
          answered: bool = False, held: bool = False, anonymous: bool = False) -> dict:
    """Return a post as every client receives it (`merged` and `kept` are filled by `_with_merges`)."""
    if anonymous:
        author = organisation = None
    return {"id": post_id, "code": code, "seq": seq, "rev": rev, "client_id": client_id, "text": text, "tags": tags,
            "author": author, "organisation": organisation, "hidden": hidden, "merged_into": merged_into,
            "merged": [], "kept": None, "created_at": _iso(created_at), "upvotes": upvotes, "answered": answered,
            "held": held}


def _iso(moment) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


_KEPT = aliased(Post)
# Built once: an alias and a join are costly to build, and a room of phones rejoining reads this once each.
_MERGES = (select(Post.id, Post.seq, Post.text, case((Post.anonymous.is_(True), None), else_=Participant.name),
                  Post.merged_at, Table.key, Post.merged_by_organiser_id, Post.merged_into_id, _KEPT.seq, _KEPT.text)
           .join(Post.participant).join(_KEPT, _KEPT.id == Post.merged_into_id)
           .outerjoin(Table, Table.id == Post.merged_by_table_id)
           .where(Post.merged_into_id.is_not(None)).order_by(Post.seq))


def _with_merges(session_id: int, payloads: list[dict], *criteria) -> list[dict]:
    """Fill each payload's `merged` (the ideas merged into it) and `kept` (the idea it was merged into).

    One query for the whole list: a session has few merges, so the session's merged posts are read (or those the
    `criteria` select) rather than a query per post.
    """
    if not payloads:
        return payloads
    # Criteria name posts of the session already: without the session's filter SQLite reads them through their
    # own indexes rather than through every post of the session.
    query = _MERGES.where(*(criteria or (Post.session_id == session_id,)))
    merged: dict[int, list[dict]] = {}
    kept_of: dict[int, dict] = {}
    for (post_id, seq, text, author, merged_at, table, organiser_id, into_id, kept_seq,
         kept_text) in db.session.execute(query):
        merged.setdefault(into_id, []).append({
            "id": post_id, "seq": seq, "text": text, "author": author,
            "merged_at": _iso(merged_at) if merged_at else None,
            "by": "host" if table else "organiser" if organiser_id else None, "table": table})
        kept_of[post_id] = {"id": into_id, "seq": kept_seq, "text": kept_text}
    for payload in payloads:
        payload["merged"] = merged.get(payload["id"], [])
        payload["kept"] = kept_of.get(payload["id"])
    return payloads


def post_payload(post: Post, session: Session) -> dict:
    """Return a stored post as every client receives it."""
    return _stored_wire(post, session.code)


def _stored_wire(post: Post, code: str) -> dict:
    participant = post.participant
    payload = _wire(post.id, code, post.seq, post.rev, post.client_id, post.text, post.tags, participant.name,
                    participant.organisation, post.hidden, post.merged_into_id, post.created_at, post.upvotes,
                    post.answered, post.held, post.anonymous)
    return _with_merges(post.session_id, [payload], or_(Post.id == post.id, Post.merged_into_id == post.id))[0]


def check_cursor(value, field: str) -> int:
    """Return a sequence or revision cursor sent by a client (0 when absent)."""
    return 0 if value is None else whole_number(value, field)


def posts_since(session: Session, since: int = 0, include_hidden: bool = False) -> list[Post]:
    """Return the posts after sequence `since`, in order."""
    query = select(Post).where(Post.session_id == session.id, Post.seq > since).order_by(Post.seq)
    if not include_hidden:
        query = query.where(Post.hidden.is_(False))
    return list(db.session.scalars(query))


# The columns of a post's wire shape, in `_wire`'s order after the code: read as plain rows, a wall's resync or
# a phone's fetch before a vote builds thousands of payloads without an ORM object or a query per author.
_WIRE_COLUMNS = (Post.id, Post.seq, Post.rev, Post.client_id, Post.text, Post.tags, Participant.name,
                 Participant.organisation, Post.hidden, Post.merged_into_id, Post.created_at, Post.upvotes,
                 Post.answered, Post.held, Post.anonymous)


def _wired(session: Session, *criteria, limit: int | None = None) -> list[dict]:
    query = (select(*_WIRE_COLUMNS).join(Post.participant).where(Post.session_id == session.id, *criteria)
             .order_by(Post.seq).limit(limit))
    return _with_merges(session.id, [_wire(row[0], session.code, *row[1:]) for row in db.session.execute(query)])


def payloads_since(session: Session, since: int = 0, include_hidden: bool = False,
                   limit: int | None = None) -> list[dict]:
    """Return the posts after sequence `since` as clients receive them, in order (at most `limit`)."""
    return _wired(session, Post.seq > since, *(() if include_hidden else (Post.hidden.is_(False),)), limit=limit)


def page_since(session: Session, since: int, include_hidden: bool, size: int) -> tuple[list[dict], bool]:
    """Return one page of the posts after `since` and whether more follow (a page ends at its last `seq`)."""
    posts = payloads_since(session, since, include_hidden, limit=size + 1 if size else None)
    return (posts[:size], True) if size and len(posts) > size else (posts, False)


def visible_payloads(session: Session, since: int = 0, size: int = 0) -> tuple[list[dict], bool]:
    """Return the visible posts after `since` (one page of `size`, 0 for all) and whether more follow.

    Read once per process for each state of the session: when a room of phones rejoins at once during a vote
    (a restart, a Wi-Fi access point rebooting) the list is read once, not once per phone. Any new, hidden or
    restored post moves `last_seq` or `last_rev`; an author renamed since is shown under the old name until
    then, which phones' vote lists do not show.
    """
    _state, posts, seqs, _pages = _visible(session)
    start = bisect.bisect_right(seqs, since)
    end = start + size if size else len(posts)
    return (posts if start == 0 and end >= len(posts) else posts[start:end]), end < len(posts)


def shared_page(session: Session, since: int = 0, size: int = 0) -> tuple[orjson.Fragment, bool, int | None]:
    """Return visible_payloads' page already encoded, whether more follow and where the next page starts.

    The same page of the same state is encoded once and its bytes shared by every phone that asks for it.
    """
    _state, posts, seqs, pages = _visible(session)
    start = bisect.bisect_right(seqs, since)
    end = min(start + size if size else len(posts), len(posts))
    page = pages.get((start, end))
    if page is None:
        page = pages[(start, end)] = orjson.Fragment(orjson.dumps(posts[start:end], option=orjson.OPT_NON_STR_KEYS))
    more = end < len(posts)
    return page, more, seqs[end - 1] if more else None


def _visible(session: Session) -> tuple:
    lists = current_app.extensions.setdefault("rouages.visible_posts", {})
    state = (session.code, session.last_seq, session.last_rev)
    cached = lists.get(session.id)
    if cached is not None and cached[0] != state:
        (code, seq, rev), posts, seqs, _pages = cached
        if code == state[0] and state[1] - seq == state[2] - rev > 0:
            # Only new posts since (each raises both counters by one): read those, keep the rest. The old list
            # is left as it is, as acks on their way may hold it.
            new = payloads_since(session, seq)
            cached = lists[session.id] = (state, posts + new, seqs + [p["seq"] for p in new], {})
    if cached is None or cached[0] != state:
        posts = payloads_since(session)
        cached = lists[session.id] = (state, posts, [p["seq"] for p in posts], {})
    return cached


def payloads_changed(session: Session, since: int, rev: int) -> list[dict]:
    """Return posts a client already had (seq <= since) that were hidden or restored after revision `rev`."""
    return _wired(session, Post.seq <= since, Post.rev > rev)


def shared_changes(session: Session, since: int, rev: int) -> list[dict]:
    """Return payloads_changed for phones, hidden posts as their id only; read once per state and cursors.

    The phones of a room got their list at the same moment, so after a storm they all ask with the same cursors.
    """
    pages = _visible(session)[3]
    changed = pages.get(("changed", since, rev))
    if changed is None:
        changed = pages[("changed", since, rev)] = public_changes(payloads_changed(session, since, rev))
    return changed


def public_changes(changed: list[dict]) -> list[dict]:
    """Return changed posts as public screens and phones get them: hidden ones as their id, never their text."""
    return [p if not p["hidden"] else {k: p[k] for k in ("id", "code", "seq", "rev", "hidden")} for p in changed]


def own_payloads(session: Session, participant: Participant) -> list[dict]:
    """Return a participant's own posts in a session as clients receive them, hidden ones included; durable ones."""
    with _writer.idle():
        # Through the author's index (a participant posts to a few sessions): not every post of the session.
        rows = db.session.execute(select(Post.session_id, *_WIRE_COLUMNS).join(Post.participant).where(
            Post.participant_id == participant.id)).all()
    payloads = sorted((_wire(row[1], session.code, *row[2:]) for row in rows if row[0] == session.id),
                      key=lambda p: p["seq"])
    ids = [p["id"] for p in payloads]
    return _with_merges(session.id, payloads, or_(Post.id.in_(ids), Post.merged_into_id.in_(ids)))
