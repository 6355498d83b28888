"""Rate limits: no participant, phone or address may take more than its share of the server.

Each limit is a token bucket kept in this process (a few dictionary operations per request): `burst` actions
at once, refilled at `per_minute`. Several workers each keep their own, so behind N workers a client may get
up to N times the figures; a venue puts everyone behind one address, so per-address limits are sized for a
full room (see docs/security.md). A limit set to 0 is off.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from .errors import ServiceError

# Buckets forgotten once full again: beyond this many keys, a sweep drops them so memory stays bounded.
_SWEEP_ABOVE = 20_000


class Buckets:
    """Token buckets by key: `take(key)` spends a token, or returns how many seconds until one is back."""

    def __init__(self, burst: int, per_minute: float):
        self.burst = burst
        self.rate = per_minute / 60.0
        self.state: dict = {}
        self.refused: dict = {}  # refusals in a row by key: a client that keeps sending is flooding
        self.sweep_at = _SWEEP_ABOVE

    @property
    def active(self) -> bool:
        """Whether this limit is on."""
        return self.burst > 0 and self.rate > 0

    def take(self, key) -> float:
        """Spend one token of `key`'s bucket; return 0, or the seconds to wait when it is empty."""
        if not self.active:
            return 0.0
        now = time.monotonic()
        tokens, stamp = self.state.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if tokens < 1:
            self.state[key] = (tokens, now)
            self.refused[key] = self.refused.get(key, 0) + 1
            return (1 - tokens) / self.rate
        self.state[key] = (tokens - 1, now)
        if self.refused:
            self.refused.pop(key, None)
        if len(self.state) > self.sweep_at:
            self._sweep(now)
        return 0.0

    def flooding(self, key) -> bool:
        """Whether `key` was refused more times in a row than its burst: no phone's outbox does that."""
        return self.refused.get(key, 0) > 2 * self.burst

    def _sweep(self, now: float) -> None:
        # A bucket refilled to the brim is the same as no bucket: forget those.
        self.state = {k: v for k, v in self.state.items() if v[0] + (now - v[1]) * self.rate < self.burst}
        self.refused = {k: v for k, v in self.refused.items() if k in self.state}
        self.sweep_at = max(_SWEEP_ABOVE, 2 * len(self.state))


@dataclass
class Limits:
    """Every rate limit of one application, from its settings."""

    posts: Buckets
    actions: Buckets
    joins: Buckets
    watches: Buckets
    photos: Buckets
    badge_misses: Buckets

    @classmethod
    def from_config(cls, config) -> Limits:
        """Build the limits from the LIMIT_* settings (app/config.py)."""
        # A format's participant actions weigh what a post does: the same figures.
        return cls(posts=Buckets(config["LIMIT_POSTS_BURST"], config["LIMIT_POSTS_PER_MINUTE"]),
                   actions=Buckets(config["LIMIT_POSTS_BURST"], config["LIMIT_POSTS_PER_MINUTE"]),
                   joins=Buckets(config["LIMIT_JOINS_BURST"], config["LIMIT_JOINS_PER_MINUTE"]),
                   watches=Buckets(config["LIMIT_WATCH_BURST"], config["LIMIT_WATCH_PER_MINUTE"]),
                   photos=Buckets(config["LIMIT_PHOTOS_BURST"], config["LIMIT_PHOTOS_PER_MINUTE"]),
                   badge_misses=Buckets(config["LIMIT_BADGE_MISSES_BURST"],
                                        config["LIMIT_BADGE_MISSES_PER_MINUTE"]))


def _limits() -> Limits:
    limits = current_app.extensions.get("rouages.limits")
    if limits is None:
        limits = current_app.extensions["rouages.limits"] = Limits.from_config(current_app.config)
    return limits


def _refuse(code: str, message, wait: float) -> ServiceError:
    error = ServiceError(code, message, 429)
    error.details = {"retry_after": math.ceil(wait)}
    return error


def check_post(author) -> None:
    """Let an author (a participant, with the token they post with) post, or refuse: a few ideas a minute, plus resends.

    A refusal of a client that keeps sending regardless is marked `flood`: its connection is then closed, so the
    events it has queued are dropped instead of each costing the server a refusal (see realtime.handler).
    """
    posts = _limits().posts
    wait = posts.take(author)
    if wait:
        error = _refuse("too_many_posts", _l("You are sending ideas very fast: your idea will be sent again in "
                                             "%(seconds)s seconds.", seconds=math.ceil(wait)), wait)
        error.flood = posts.flooding(author)
        raise error


def check_action(author) -> None:
    """Let a participant take one more of a format's actions, or refuse, as posts are."""
    actions = _limits().actions
    wait = actions.take(author)
    if wait:
        error = _refuse("too_many_requests", _l("Too many requests: try again in %(seconds)s seconds.",
                                                seconds=math.ceil(wait)), wait)
        error.flood = actions.flooding(author)
        raise error


def check_new_participant(address: str | None) -> None:
    """Let one more phone without a token become a participant from this address, or refuse."""
    wait = _limits().joins.take(address or "")
    if wait:
        raise _refuse("too_many_joins", _l("Too many new phones are joining from this network: try again in "
                                           "%(seconds)s seconds.", seconds=math.ceil(wait)), wait)


def check_watch(client: str) -> None:
    """Let a screen or script read a session's posts again, or refuse: a full read costs the server."""
    wait = _limits().watches.take(client)
    if wait:
        raise _refuse("too_many_requests", _l("Too many requests: try again in %(seconds)s seconds.",
                                              seconds=math.ceil(wait)), wait)


def check_photo(participant_id: int) -> None:
    """Let a participant send one more photo, or refuse: each costs the server a decode and some disk."""
    wait = _limits().photos.take(participant_id)
    if wait:
        raise _refuse("too_many_photos", _l("You have sent many photos in a short time: try again in "
                                            "%(seconds)s seconds.", seconds=math.ceil(wait)), wait)


def check_badge_lookup(address: str | None) -> None:
    """Count one unknown personal code tried from an address, or refuse it: unknown codes are what probing is."""
    wait = _limits().badge_misses.take(address or "")
    if wait:
        raise _refuse("too_many_requests", _l("Too many requests: try again in %(seconds)s seconds.",
                                              seconds=math.ceil(wait)), wait)
