"""Typed SQLAlchemy models: the stored shape of events, sessions, participants and posts."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    """Return the current UTC time without tzinfo (stored the same way on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Organiser(UserMixin, db.Model):
    """A person who prepares and runs events from the console."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of the login cookie: changing it signs the organiser out everywhere, open WebSockets included.
    login_token: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def get_id(self) -> str:
        """Return the identity stored in the session cookie."""
        return f"{self.id}.{self.login_token}"


class Event(db.Model):
    """A rencontre, as described by its event file."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    spec: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: When the organiser made the restitution's web page public; None while it is private.
    published_at: Mapped[datetime | None]
    #: Whether the booklets print the names participants gave next to their ideas.
    show_names: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Whether participants may upload photos from their phone (organisers always can).
    participant_photos: Mapped[bool] = mapped_column(default=False, server_default=false())

    sessions: Mapped[list[Session]] = relationship(back_populates="event", order_by="Session.position")


class Session(db.Model):
    """A programme item that runs a live workshop: it has a join code and collects posts."""

    __table_args__ = (UniqueConstraint("event_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(6), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300))
    workshop: Mapped[str] = mapped_column(String(40), default="board")
    question: Mapped[str | None] = mapped_column(String(300))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    is_open: Mapped[bool] = mapped_column(default=True)
    # How many times posting has opened: phones stamp each idea with the opening they saw, so that one reaching
    # the server just after closing is still stored within the grace period (docs/protocol.md, "Closing").
    opening: Mapped[int] = mapped_column(default=0, server_default="0")
    # When posting last closed, as Unix time in milliseconds (None while it has never closed).
    closed_at: Mapped[int | None] = mapped_column(BigInteger)
    # Key of the current phase among settings["phases"], which the workshop format defines.
    phase: Mapped[str | None] = mapped_column(String(40))
    # Countdown end as Unix time in milliseconds: every worker and client computes the same remaining time.
    timer_ends_at: Mapped[int | None] = mapped_column(BigInteger)
    timer_seconds: Mapped[int | None]
    last_seq: Mapped[int] = mapped_column(default=0)
    last_rev: Mapped[int] = mapped_column(default=0)
    # Bumped by every change of what a session's snapshot shows (phase, timer, vote, plan, tables, format state):
    # state broadcasts carry it, so a client drops one older than what it already applied (see sessions.py).
    state_rev: Mapped[int] = mapped_column(default=0, server_default="0")
    removed: Mapped[bool] = mapped_column(default=False)
    # Dot vote: "none", "open", "closed" or "revealed"; results stay hidden until "revealed".
    vote_state: Mapped[str] = mapped_column(String(10), default="none")
    vote_budget: Mapped[int] = mapped_column(default=5)
    vote_max_per_post: Mapped[int] = mapped_column(default=2)
    # New posts wait in a review queue (stored hidden and held) until a moderator publishes them.
    review: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A rotation plan computed by the format: {"tables": [names], "assignments": {participant id: [table per round]}}.
    plan: Mapped[dict | None] = mapped_column(JSON)

    event: Mapped[Event] = relationship(back_populates="sessions")
    tables: Mapped[list[Table]] = relationship(back_populates="session", order_by="Table.position")


class Table(db.Model):
    """A physical table (or group) of a session, with its own join code; its posts carry its preset tags."""

    __tablename__ = "session_table"  # "table" is an SQL keyword
    __table_args__ = (UniqueConstraint("session_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(6), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(80))
    tags: Mapped[dict] = mapped_column(JSON, default=dict)
    host: Mapped[str | None] = mapped_column(String(80))
    # Secret of the host's link: whoever opens it hosts the table (sees all its posts, writes its harvest).
    host_token: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: secrets.token_urlsafe(24))
    # A participant the facilitators made this table's host from the console: their phone is given the host link.
    host_participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    removed: Mapped[bool] = mapped_column(default=False)

    session: Mapped[Session] = relationship(back_populates="tables")
    host_participant: Mapped[Participant | None] = relationship(lazy="joined")
    harvests: Mapped[list[Harvest]] = relationship(back_populates="table", order_by="Harvest.category")


class Harvest(db.Model):
    """What a table's host wrote for one category (missions, actions, besoins…) of the table's theme."""

    __table_args__ = (UniqueConstraint("table_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("session_table.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    table: Mapped[Table] = relationship(back_populates="harvests")


class Participant(db.Model):
    """A phone that joined an event, known by the token it keeps in a cookie; no account."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(80))
    organisation: Mapped[str | None] = mapped_column(String(120))
    # From a registration list, and no phone has claimed it yet (see registrations.claim).
    listed: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # On the event's registration list: its place in that list (the order carnets and badges print in), and what
    # the list said. None for someone who only ever joined from a phone.
    registered_position: Mapped[int | None]
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str | None] = mapped_column(String(120))
    # The code of the person's own QR code (carnet, badge): /p/<badge> gives whoever claims it first this identity.
    badge: Mapped[str | None] = mapped_column(String(32), unique=True)
    badge_claimed_at: Mapped[datetime | None]


class Vote(db.Model):
    """The dots one participant put on one post; a participant's allocation is replaced whole, never added to."""

    __table_args__ = (UniqueConstraint("participant_id", "post_id"), Index("ix_vote_session", "session_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    dots: Mapped[int]


class Attendance(db.Model):
    """A participant who joined a session (the people a rotation plan seats)."""

    __table_args__ = (UniqueConstraint("session_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The table the participant last said they are at (a table's card scanned, or « I am at table X »), and the step
    # they said it in: see sessions.seat_of for how it weighs against the rotation plan.
    table_key: Mapped[str | None] = mapped_column(String(60))
    seated_phase: Mapped[str | None] = mapped_column(String(40))

    participant: Mapped[Participant] = relationship()


class Post(db.Model):
    """An idea a participant posted to a session, with its tags."""

    __table_args__ = (
        UniqueConstraint("session_id", "seq"),
        UniqueConstraint("participant_id", "client_id"),
        Index("ix_post_session_rev", "session_id", "rev"),
        # The ideas merged into a few given ones (a phone's own, on each join) without reading the whole session.
        Index("ix_post_merged_into", "merged_into_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int]
    rev: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    tags: Mapped[dict] = mapped_column(JSON, default=dict)
    hidden: Mapped[bool] = mapped_column(default=False)
    # Set when a host or an organiser merged this post into another as a duplicate (it is then hidden); who and
    # when are kept so that the merge can be undone by whoever may and the synthesis can count it on the kept idea.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"))
    merged_at: Mapped[datetime | None]
    merged_by_table_id: Mapped[int | None] = mapped_column(ForeignKey("session_table.id", ondelete="SET NULL"))
    merged_by_organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Waiting in the session's review queue: hidden until a moderator publishes it (then both turn False).
    held: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Shown without its author's name and organisation, everywhere (a question not signed, say).
    anonymous: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: A question the speakers answered.
    answered: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: How many people upvoted it or an idea merged into it (each person once): kept with the Upvote rows.
    upvotes: Mapped[int] = mapped_column(default=0, server_default="0")
    #: An organiser's name for the group of ideas this post belongs to in the synthesis (docs/synthesis.md).
    group_title: Mapped[str | None] = mapped_column(String(300))

    participant: Mapped[Participant] = relationship()


class GroupDecision(db.Model):
    """What a host or an organiser said of two ideas of a session: the same idea, or two different ones.

    The synthesis keeps the pair together or apart whatever the scores say, and never asks about it again.
    `post_id` is the smaller of the two ids.
    """

    __table_args__ = (UniqueConstraint("session_id", "post_id", "other_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    other_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    same: Mapped[bool]
    table_id: Mapped[int | None] = mapped_column(ForeignKey("session_table.id", ondelete="SET NULL"))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdeaVector(db.Model):
    """A post's sentence vector for grouping, computed once per model (float32 bytes)."""

    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class Upvote(db.Model):
    """One person's upvote on a question: one per person per post, withdrawable; not the dot vote."""

    __table_args__ = (UniqueConstraint("post_id", "participant_id"), Index("ix_upvote_session", "session_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BookletText(db.Model):
    """An organiser's text for one section of the booklets, in Markdown; kept when a booklet is regenerated."""

    __tablename__ = "booklet_text"
    __table_args__ = (UniqueConstraint("event_id", "section"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    #: Which text: see app/services/booklet.py (``origin``, ``perspectives``, ``retain:<session key>``…).
    section: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))


class Photo(db.Model):
    """A photo uploaded during the event, checked and re-encoded, placed by an organiser in a booklet section."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    #: Who sent it: a participant's phone or an organiser (one of the two).
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    #: The re-encoded file's name in the event's upload folder (a random token, never what the client sent).
    filename: Mapped[str] = mapped_column(String(80), unique=True)
    caption: Mapped[str] = mapped_column(String(300), default="")
    width: Mapped[int]
    height: Mapped[int]
    size: Mapped[int]
    #: ``pending`` (a participant's, not yet looked at), ``shown`` or ``hidden``.
    status: Mapped[str] = mapped_column(String(10), default="pending")
    #: The booklet section it is placed in (a key of app/services/booklet.py), None while unplaced.
    section: Mapped[str | None] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FormatRecord(db.Model):
    """A piece of a format's own state in a session (a diagnostic team's answers, say), kept as JSON under a key.

    ``rev`` grows by one at each write: a client says which revision it last saw, so that two phones editing the
    same record at once never overwrite each other silently (app/services/records.py).
    """

    __tablename__ = "format_record"
    __table_args__ = (UniqueConstraint("session_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    rev: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
