"""Socket.IO handlers: parse the payload, call a service, return the ack."""

from __future__ import annotations

import functools

from flask import current_app, request
from flask import session as socket_session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_socketio import disconnect, join_room

from workshops import registry

from .extensions import MALFORMED, db, socketio
from .models import Participant
from .services import groups, harvest, limits, moderation, posting, questions, sessions, storage, votes
from .services.errors import ServiceError, invalid_payload, require_dict
from .services.joining import join as join_session
from .services.joining import participant_payload


def _fail(error: ServiceError) -> dict:
    return {"ok": False, "error": error.as_dict()}


def handler(event: str, organiser_only: bool = False):
    """Register a Socket.IO event whose errors become `{ok: false, error}` acks and change nothing."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(data=None, *extra):
            try:
                if organiser_only and not current_user.is_authenticated:
                    raise ServiceError("forbidden", _l("Only organisers can do this."), 403)
                return {"ok": True, **fn(require_dict(data))}
            except ServiceError as error:
                db.session.rollback()
                if error.flood and not socket_session.get("cut_off"):
                    # Events this connection already queued then find it gone and cost next to nothing.
                    socket_session["cut_off"] = True
                    current_app.logger.warning("Closed a connection flooding %r (sid %s, address %s)", event,
                                               request.sid, request.remote_addr)
                    disconnect()
                return _fail(error)
            except storage.STORAGE_ERRORS as error:
                db.session.rollback()
                return _fail(storage.unavailable(error))
            except Exception:
                db.session.rollback()
                current_app.logger.exception("Socket.IO event %r failed (sid %s)", event, request.sid)
                return _fail(ServiceError("internal_error", _l("Something went wrong on the server. Try again.")))

        socketio.on_event(event, wrapper)
        return wrapper

    return decorate


def _joined() -> dict:
    """Return {session code: (participant id, name, organisation, token)} for this connection."""
    return socket_session.setdefault("joined", {})


def _participant(session) -> Participant:
    """Return the participant this connection joined the session as, or refuse if their token changed since."""
    author = _author(session.code)
    participant = db.session.get(Participant, author.id)
    if participant is None or (author.token is not None and participant.token != author.token):
        _forget(session.code)
        raise posting.identity_lost()
    return participant


def _forget(code: str) -> None:
    """Forget this connection's join of a session: its next events are refused before any limit is counted."""
    if _joined().pop(code, None) is not None:
        socket_session.modified = True


def _author(code: str) -> posting.Author:
    """Return who this connection joined session `code` as, kept since its join (no query per post), or refuse."""
    joined = _joined().get(code)
    if joined is None:
        raise ServiceError("not_joined", _l("Join the workshop before posting."), 403)
    return posting.Author(*joined)


def _follow(*rooms: str, keep: tuple = ()) -> None:
    """Join rooms, then read afresh: a change made meanwhile is in the ack that follows or in a broadcast.

    The rows in `keep` are not read again: they are the phone's own (its participant, its attendance), which only
    its own actions change.
    """
    for name in rooms:
        join_room(name)
    # Ends the read transaction (nothing is pending here), so what the ack reports is read after the join.
    current = db.session()
    if not keep or current.new or current.dirty or current.deleted:
        current.rollback()
        return
    # A rollback would expire every row loaded, and each would be read again: a room rejoining at once pays for it.
    current.expire_on_commit = False
    try:
        current.commit()
    finally:
        current.expire_on_commit = True
    kept = {id(row) for row in keep}
    for row in list(current.identity_map.values()):
        if id(row) not in kept:
            current.expire(row)


@socketio.on(MALFORMED)
def on_malformed(*_ignored) -> dict:
    """A frame that is not valid Socket.IO (bad JSON, nesting too deep, no event name): refused, one log line."""
    current_app.logger.info("Malformed Socket.IO message refused (sid %s, address %s)", request.sid,
                            request.remote_addr)
    return _fail(invalid_payload())


@socketio.on("*")
def on_unknown(event, *_ignored) -> dict:
    """An event this server does not know: refused, so that a client waiting for an ack is not left hanging."""
    return _fail(ServiceError("unknown_event", _l("This server does not know this request.")))


@handler("join")
def on_join(data: dict) -> dict:
    """A phone joins a session, keeping its identity if it sends back its token."""
    if not data.get("token") and request.cookies.get("rouages_participant"):
        data = {**data, "token": request.cookies["rouages_participant"]}
    participant, session, table, attendance = join_session(data, request.remote_addr)
    registry()[session.workshop].joined(session, participant)
    _joined()[session.code] = (participant.id, participant.name, participant.organisation, participant.token)
    socket_session.modified = True
    _follow(sessions.room(session.id), sessions.participant_room(participant.id), keep=(participant, attendance))
    return {"participant": participant_payload(participant), "session": sessions.session_payload(session, table),
            "host": harvest.hosted_by(session, participant),
            "posts": posting.own_payloads(session, participant),
            "dots": votes.dots_of(session, participant),
            "upvoted": questions.upvoted(session, participant),
            "assignment": sessions.assignment_of(session, participant),
            "seat": sessions.seat_of(session, participant, attendance),
            "notice_minutes": (session.plan or {}).get("notice_minutes")}


@handler("seat")
def on_seat(data: dict) -> dict:
    """A joined phone asks where it is seated now, or says « I am at table `table` »."""
    session = sessions.get_session(data.get("code"))
    participant = _participant(session)
    if data.get("table") is None:
        return {"seat": sessions.seat_of(session, participant)}
    return {"seat": sessions.state_seat(session, participant, data.get("table"))}


@handler("seating")
def on_seating(data: dict) -> dict:
    """Who goes to which table in each round; organisers also get who is at which table now."""
    session = sessions.get_session(data.get("code"))
    _follow(sessions.room(session.id))  # then phases, countdowns and plans reach the list as they change
    return {"seating": sessions.seating(session, current_user.is_authenticated),
            "notice_minutes": (session.plan or {}).get("notice_minutes")}


@handler("post")
def on_post(data: dict) -> dict:
    """A phone posts an idea to a session it joined (through a table's code, the table's tags are imposed)."""
    target = sessions.post_target(data.get("code"))
    try:
        post, _created = posting.create_post(target, _author(target.code), data)
    except ServiceError as error:
        if error.code == "not_joined":
            _forget(target.code)
        raise
    return {"post": post}


@handler("watch")
def on_watch(data: dict) -> dict:
    """A wall or console follows a session; it gets the visible posts after `since`, a page at a time."""
    session, table = sessions.resolve(data.get("code"))
    since = posting.check_cursor(data.get("since"), "since")
    rev = posting.check_cursor(data.get("rev"), "rev")
    limits.check_watch(request.sid)
    organiser = current_user.is_authenticated
    size = current_app.config["WATCH_PAGE"]
    # A phone fetches the ideas to vote on with `watch` but is sent new ones only while a vote runs.
    screens = organiser or session.code not in _joined()
    _follow(sessions.room(session.id), *([sessions.screens_room(session.id)] if screens else []),
            *([sessions.organisers_room(session.id)] if organiser else []))
    if not screens:  # a phone fetching the ideas to vote on: the page every phone gets, encoded once
        page, more, after = posting.shared_page(session, since, size)
        return {"session": sessions.session_payload(session, table), "posts": page, "more": more, "next": after,
                "changed": posting.shared_changes(session, since, rev) if _behind(session, since, rev) else [],
                "vote": votes.vote_payload(session, voters=False)}
    posts, more = posting.page_since(session, since, organiser, size)
    changed = posting.payloads_changed(session, since, rev) if _behind(session, since, rev) else []
    return {"session": sessions.session_payload(session, table), "posts": posts,
            "changed": changed if organiser else posting.public_changes(changed),
            "more": more, "next": posts[-1]["seq"] if more else None,
            "vote": votes.vote_payload(session), "harvest": harvest.harvest_payload(session),
            "state": sessions.format_state(session), "plan": session.plan if organiser else None}


def _behind(session, since: int, rev: int) -> bool:
    """Whether a client at cursors (`since`, `rev`) may have missed a hide or restore of a post it holds."""
    return bool(since and rev and rev < session.last_rev)


@handler("session_open", organiser_only=True)
def on_session_open(data: dict) -> dict:
    """Open or close posting."""
    return sessions.set_open(sessions.get_session(data.get("code")), data.get("open"))


@handler("phase_set", organiser_only=True)
def on_phase_set(data: dict) -> dict:
    """Move the workshop to a given phase, or to the next one."""
    return sessions.set_phase(sessions.get_session(data.get("code")), data.get("phase"))


@handler("vote_open", organiser_only=True)
def on_vote_open(data: dict) -> dict:
    """Open dot voting with a budget per participant."""
    return {"vote": votes.open_vote(sessions.get_session(data.get("code")), data.get("budget"), data.get("max_per_post"))}


@handler("vote_close", organiser_only=True)
def on_vote_close(data: dict) -> dict:
    """Stop accepting dots."""
    return {"vote": votes.close_vote(sessions.get_session(data.get("code")))}


@handler("vote_reveal", organiser_only=True)
def on_vote_reveal(data: dict) -> dict:
    """Show the ranked results everywhere."""
    return {"vote": votes.reveal(sessions.get_session(data.get("code")))}


@handler("vote")
def on_vote(data: dict) -> dict:
    """A joined phone sets its whole allocation of dots."""
    session = sessions.get_session(data.get("code"))
    return votes.cast(session, _participant(session), data.get("dots"))


@handler("upvote")
def on_upvote(data: dict) -> dict:
    """A joined phone upvotes a question, or withdraws its upvote (`on`: false)."""
    session = sessions.get_session(data.get("code"))
    author = _author(session.code)
    limits.check_action((author.id, author.token))
    return questions.upvote(session, _participant(session), data.get("post_id"), data.get("on"))


@handler("question_answered", organiser_only=True)
def on_question_answered(data: dict) -> dict:
    """Mark a question answered, or not."""
    session = sessions.get_session(data.get("code"))
    return questions.set_answered(session, data.get("post_id"), data.get("answered"))


@handler("question_spotlight", organiser_only=True)
def on_question_spotlight(data: dict) -> dict:
    """Put a question on the walls, large, or take it off."""
    return questions.spotlight(sessions.get_session(data.get("code")), data.get("post_id"), data.get("on"))


@handler("review_set", organiser_only=True)
def on_review_set(data: dict) -> dict:
    """Choose whether new posts wait for a moderator before they show."""
    return questions.set_review(sessions.get_session(data.get("code")), data.get("review"))


@handler("post_approve", organiser_only=True)
def on_post_approve(data: dict) -> dict:
    """Publish a post waiting for review."""
    return questions.approve(sessions.get_session(data.get("code")), data.get("post_id"))


@handler("post_reject", organiser_only=True)
def on_post_reject(data: dict) -> dict:
    """Turn down a post waiting for review (it stays hidden)."""
    return questions.reject(sessions.get_session(data.get("code")), data.get("post_id"))


@handler("host_join")
def on_host_join(data: dict) -> dict:
    """A table's host opens their link: they follow the session and get every post of their table."""
    table = harvest.table_for_host(data.get("token"))
    session = table.session
    _follow(sessions.room(session.id), sessions.screens_room(session.id))
    posts = [p for p in posting.payloads_since(session) if all(p["tags"].get(k) == v for k, v in table.tags.items())]
    return {"session": sessions.session_payload(session, table), "posts": posts,
            "categories": harvest.categories(table), "harvest": harvest.harvest_of(table)}


@handler("harvest_save")
def on_harvest_save(data: dict) -> dict:
    """A host saves the harvest of one category of their table."""
    return harvest.save(harvest.table_for_host(data.get("token")), data.get("category"), data.get("text"))


@handler("host_merge")
def on_host_merge(data: dict) -> dict:
    """A table's host merges a duplicate into another idea of their table."""
    table = harvest.table_for_host(data.get("token"))
    return moderation.merge(table.session, data.get("post_id"), data.get("into"), table=table)


@handler("host_unmerge")
def on_host_unmerge(data: dict) -> dict:
    """A table's host undoes a merge they made."""
    table = harvest.table_for_host(data.get("token"))
    return moderation.unmerge(table.session, data.get("post_id"), table=table)


@handler("host_suggestions")
def on_host_suggestions(data: dict) -> dict:
    """A table's host asks which ideas of their table may say the same thing."""
    limits.check_watch(request.sid)
    table = harvest.table_for_host(data.get("token"))
    return {"suggestions": groups.suggestions(table.session, table)}


@handler("host_group_answer")
def on_host_group_answer(data: dict) -> dict:
    """A table's host says whether two ideas of their table are the same idea."""
    table = harvest.table_for_host(data.get("token"))
    return groups.answer(table.session, data.get("post_id"), data.get("other_id"), data.get("same"), table=table)


@handler("group_suggestions", organiser_only=True)
def on_group_suggestions(data: dict) -> dict:
    """An organiser asks which ideas of the session may say the same thing."""
    return {"suggestions": groups.suggestions(sessions.get_session(data.get("code")))}


@handler("group_answer", organiser_only=True)
def on_group_answer(data: dict) -> dict:
    """An organiser says whether two ideas of the session are the same idea."""
    return groups.answer(sessions.get_session(data.get("code")), data.get("post_id"), data.get("other_id"),
                         data.get("same"), organiser_id=current_user.id)


@handler("groups", organiser_only=True)
def on_groups(data: dict) -> dict:
    """An organiser reads the session's groups of ideas as the synthesis prints them, to edit them."""
    return groups.editor(sessions.get_session(data.get("code")))


@handler("group_rename", organiser_only=True)
def on_group_rename(data: dict) -> dict:
    """An organiser names the group an idea belongs to."""
    return groups.rename(sessions.get_session(data.get("code")), data.get("post_id"), data.get("title"))


@handler("group_move", organiser_only=True)
def on_group_move(data: dict) -> dict:
    """An organiser moves an idea into another idea's group, or on its own (`into` null)."""
    return groups.move(sessions.get_session(data.get("code")), data.get("post_id"), data.get("into"),
                       organiser_id=current_user.id)


@handler("group_merge", organiser_only=True)
def on_group_merge(data: dict) -> dict:
    """An organiser makes one group of two ideas' groups."""
    return groups.merge_groups(sessions.get_session(data.get("code")), data.get("post_id"), data.get("other_id"),
                               organiser_id=current_user.id)


@handler("group_split", organiser_only=True)
def on_group_split(data: dict) -> dict:
    """An organiser takes some ideas of a group into a group of their own."""
    return groups.split(sessions.get_session(data.get("code")), data.get("post_ids"), organiser_id=current_user.id)


@handler("timer_start", organiser_only=True)
def on_timer_start(data: dict) -> dict:
    """Start the countdown."""
    return {"timer": sessions.start_timer(sessions.get_session(data.get("code")), data.get("seconds"))}


@handler("timer_stop", organiser_only=True)
def on_timer_stop(data: dict) -> dict:
    """Stop the countdown."""
    return {"timer": sessions.stop_timer(sessions.get_session(data.get("code")))}


@handler("post_hide", organiser_only=True)
def on_post_hide(data: dict) -> dict:
    """Hide a post from the wall."""
    return moderation.set_hidden(sessions.get_session(data.get("code")), data.get("post_id"), True)


@handler("post_restore", organiser_only=True)
def on_post_restore(data: dict) -> dict:
    """Bring a hidden post back."""
    return moderation.set_hidden(sessions.get_session(data.get("code")), data.get("post_id"), False)


@handler("post_merge", organiser_only=True)
def on_post_merge(data: dict) -> dict:
    """An organiser merges a duplicate into another idea of the session."""
    session = sessions.get_session(data.get("code"))
    return moderation.merge(session, data.get("post_id"), data.get("into"), organiser_id=current_user.id)


@handler("post_unmerge", organiser_only=True)
def on_post_unmerge(data: dict) -> dict:
    """An organiser undoes any merge of the session."""
    return moderation.unmerge(sessions.get_session(data.get("code")), data.get("post_id"))


def _register_format_actions() -> None:
    """Expose each format's console actions as organiser-only events named `<slug>.<action>`."""
    for fmt in registry().values():
        for name, action in fmt.actions().items():
            def run(data: dict, action=action, slug=fmt.slug) -> dict:
                session = sessions.get_session(data.get("code"))
                if session.workshop != slug:
                    raise ServiceError("wrong_format", _l("This action does not belong to this workshop's format."))
                return action(session, data)

            run.__doc__ = action.__doc__
            handler(f"{fmt.slug}.{name}", organiser_only=True)(run)


def _register_participant_actions() -> None:
    """Expose each format's participant actions as events named `<slug>.<action>`, for phones that joined the session."""
    for fmt in registry().values():
        for name, action in fmt.participant_actions().items():
            def run(data: dict, action=action, slug=fmt.slug) -> dict:
                session = sessions.get_session(data.get("code"))
                if session.workshop != slug:
                    raise ServiceError("wrong_format", _l("This action does not belong to this workshop's format."))
                author = _author(session.code)
                limits.check_action((author.id, author.token))
                return action(session, _participant(session), data)

            run.__doc__ = action.__doc__
            handler(f"{fmt.slug}.{name}")(run)


def _register_screen_actions() -> None:
    """Expose each format's screen reads as events named `<slug>.<read>`, for anyone who knows the session's code."""
    for fmt in registry().values():
        for name, action in fmt.screen_actions().items():
            def run(data: dict, action=action, slug=fmt.slug) -> dict:
                limits.check_watch(request.sid)
                session = sessions.get_session(data.get("code"))
                if session.workshop != slug:
                    raise ServiceError("wrong_format", _l("This action does not belong to this workshop's format."))
                return action(session, data)

            run.__doc__ = action.__doc__
            handler(f"{fmt.slug}.{name}")(run)


_register_format_actions()
_register_participant_actions()
_register_screen_actions()
