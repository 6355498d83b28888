"""Organiser accounts: creation, password checks, device cookies and the throttling of failed sign-ins."""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
import threading
import time
from collections import deque

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import config as config_module
from ..extensions import db
from ..models import Organiser
from .errors import ServiceError
from .text import storable

PASSWORD_MIN = 10
DEMO_EMAIL = "demo@rouages.invalid"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# scrypt is memory-hard; werkzeug's parameters follow its current recommendation.
_METHOD = "scrypt"
# Each scrypt takes tens of milliseconds of a core and 32 MiB: at most this many at once, so that a burst of
# sign-ins, honest or not, leaves the other cores to the room.
_HASHING = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) // 2))
# Checked against when no account has the address, so that an unknown address costs as much as a known one.
_DUMMY_HASH: list[str] = []
# Keys of failure windows beyond which a sweep forgets the expired ones, so memory stays bounded.
_SWEEP_ABOVE = 10_000
# The device cookie: a browser that signed in to an account before, named by a token signed with the app's secret.
DEVICE_COOKIE = "rouages_device"
DEVICE_SECONDS = 365 * 24 * 3600
_DEVICE_SALT = "rouages.device"


def normalise_email(email: str) -> str:
    """Return an e-mail address as stored: trimmed and lower-case."""
    return (email or "").strip().lower()


def _check_password(password: str) -> None:
    if len(password or "") < PASSWORD_MIN:
        raise ServiceError("weak_password", _l("The password must have at least %(min)s characters.", min=PASSWORD_MIN))


def add_organiser(email: str, password: str, name: str = "") -> Organiser:
    """Create an organiser account, or refuse a bad address, a short password or a taken address."""
    email = normalise_email(email)
    if not _EMAIL.match(email):
        raise ServiceError("invalid_email", _l("This is not an e-mail address."))
    _check_password(password)
    if find_organiser(email) is not None:
        raise ServiceError("email_taken", _l("An organiser already has this address."), 409)
    organiser = Organiser(email=email, name=name or "", password_hash=_hash(password))
    db.session.add(organiser)
    db.session.commit()
    return organiser


def set_password(organiser: Organiser, password: str) -> None:
    """Replace an organiser's password and sign them out everywhere."""
    _check_password(password)
    organiser.password_hash = _hash(password)
    sign_out_everywhere(organiser)


def sign_out_everywhere(organiser: Organiser) -> None:
    """Invalidate every session of an organiser, on every device and open WebSocket."""
    organiser.login_token = secrets.token_hex(16)
    db.session.commit()


def find_organiser(email: str) -> Organiser | None:
    """Return the organiser with this address (none has control characters or lone surrogates in theirs)."""
    email = normalise_email(email)
    if storable(email) != email:  # PostgreSQL would refuse the query itself (a NUL byte, say)
        return None
    return db.session.scalar(select(Organiser).where(func.lower(Organiser.email) == email))


def usable(organiser: Organiser) -> bool:
    """Whether this account may be signed in: the demo account only while `rouages demo` runs."""
    return organiser.email != DEMO_EMAIL or bool(current_app.config.get("DEMO"))


def authenticate(email: str, password: str, address: str | None = None,
                 device: str | None = None) -> Organiser | None:
    """Return the organiser if the password matches, None if not; refuse when too many sign-ins failed.

    An unknown address is checked against a dummy hash, so that it takes as long as a wrong password. `device` is
    the browser's device cookie, if any (see `device_token`).
    """
    email = normalise_email(email)
    if email == DEMO_EMAIL and not current_app.config.get("DEMO"):
        raise ServiceError("demo_account", _l("The demo account only works while \"rouages demo\" runs: "
                                              "create an organiser account with \"rouages user add\"."), 403)
    windows = _failure_windows()
    # A venue puts every phone behind the organisers' address, so a participant could otherwise lock them out by
    # guessing: a browser that signed in to this account before is counted on its own bound instead (OWASP's
    # device cookies), and everyone else keeps the address and account limits.
    device_key = _trusted_device(device, email)
    if device_key is not None:
        counted = ((windows["device"], device_key),)
    else:
        counted = ((windows["address"], address or ""), (windows["account"], email))
    now = time.monotonic()
    wait = max(window.wait(key, now) for window, key in counted)
    if wait:
        minutes = math.ceil(wait / 60)
        error = ServiceError("too_many_sign_ins", ngettext(
            "Too many sign-in attempts. Try again in %(num)s minute.",
            "Too many sign-in attempts. Try again in %(num)s minutes.", minutes), 429)
        error.details = {"retry_after": math.ceil(wait)}
        raise error
    # Counted as failed before the check, so that guesses sent together cannot overrun the limit.
    for window, key in counted:
        window.add(key, now)
    dummy = _dummy_hash()  # made on the first attempt, known address or not, so that it reveals nothing
    organiser = find_organiser(email)
    stored = organiser.password_hash if organiser is not None else dummy
    if not _off_loop(lambda: check_password_hash(stored, password or "")) or organiser is None:
        return None
    for window, key in counted:
        window.discard(key, now)
    return organiser


def device_token(organiser: Organiser) -> str:
    """Return a new device cookie value for a browser the organiser has just signed in on."""
    return _devices().dumps([organiser.id, _password_fingerprint(organiser), secrets.token_urlsafe(9)])


def _trusted_device(token: str | None, email: str) -> str | None:
    """Return the failure key of a valid device cookie for the account `email`, else None."""
    if not token:
        return None
    try:
        organiser_id, fingerprint, nonce = _devices().loads(token, max_age=DEVICE_SECONDS)
    except (BadData, TypeError, ValueError):
        return None
    organiser = find_organiser(email)
    if (organiser is None or organiser.id != organiser_id
            or not secrets.compare_digest(str(fingerprint), _password_fingerprint(organiser))):
        return None
    return f"{organiser_id}.{nonce}"


def _password_fingerprint(organiser: Organiser) -> str:
    # Of the password hash, not of the login token: signing out changes the token and must keep the device
    # trusted, while a new password (a new salt, even for the same password) must forget every device. The cookie
    # is readable but the hash's salt is not in it, so the fingerprint gives no offline way to test passwords.
    return hashlib.sha256(organiser.password_hash.encode()).hexdigest()[:16]


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_DEVICE_SALT)


def _hash(password: str) -> str:
    return _off_loop(lambda: generate_password_hash(password, _METHOD))


def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(_hash(secrets.token_hex(16)))
    return _DUMMY_HASH[0]


def _off_loop(fn):
    """Run a password hash in a native thread under gevent or eventlet: it would stall every phone otherwise."""
    run = config_module.native_thread_runner(current_app.config["ASYNC_MODE"]) or (lambda f: f())
    with _HASHING:
        return run(fn)


class FailureWindow:
    """Failed attempts by key in a sliding window: at most `limit` in any `seconds` (a limit of 0 is off)."""

    def __init__(self, limit: int, seconds: float):
        self.limit = limit
        self.seconds = seconds
        self.state: dict[str, deque] = {}
        self.sweep_at = _SWEEP_ABOVE

    def wait(self, key: str, now: float) -> float:
        """Return 0 if `key` may try again, else the seconds until its oldest failure leaves the window."""
        stamps = self.state.get(key)
        if not self.limit or stamps is None:
            return 0.0
        while stamps and stamps[0] <= now - self.seconds:
            stamps.popleft()
        return stamps[0] + self.seconds - now if len(stamps) >= self.limit else 0.0

    def add(self, key: str, now: float) -> None:
        """Count one failure of `key`."""
        if not self.limit:
            return
        self.state.setdefault(key, deque(maxlen=self.limit)).append(now)
        if len(self.state) > self.sweep_at:
            # A key whose last failure left the window is the same as no key: forget those.
            self.state = {k: v for k, v in self.state.items() if v and v[-1] > now - self.seconds}
            self.sweep_at = max(_SWEEP_ABOVE, 2 * len(self.state))

    def discard(self, key: str, now: float) -> None:
        """Uncount the failure counted at `now` for `key` (the attempt succeeded)."""
        stamps = self.state.get(key)
        if stamps and now in stamps:
            stamps.remove(now)


def _failure_windows() -> dict[str, FailureWindow]:
    windows = current_app.extensions.get("rouages.sign_in_failures")
    if windows is None:
        config = current_app.config
        seconds = config["SIGNIN_WINDOW_SECONDS"]
        windows = current_app.extensions["rouages.sign_in_failures"] = {
            "address": FailureWindow(config["SIGNIN_FAILURES_PER_ADDRESS"], seconds),
            "account": FailureWindow(config["SIGNIN_FAILURES_PER_ACCOUNT"], seconds),
            "device": FailureWindow(config["SIGNIN_FAILURES_PER_DEVICE"], seconds)}
    return windows
