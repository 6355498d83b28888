"""Organiser accounts: creation and password checks."""

from __future__ import annotations

import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Organiser
from .errors import ServiceError

PASSWORD_MIN = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# scrypt is memory-hard; werkzeug's parameters follow its current recommendation.
_METHOD = "scrypt"


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
    organiser = Organiser(email=email, name=name or "", password_hash=generate_password_hash(password, _METHOD))
    db.session.add(organiser)
    db.session.commit()
    return organiser


def set_password(organiser: Organiser, password: str) -> None:
    """Replace an organiser's password and sign them out everywhere."""
    _check_password(password)
    organiser.password_hash = generate_password_hash(password, _METHOD)
    sign_out_everywhere(organiser)


def sign_out_everywhere(organiser: Organiser) -> None:
    """Invalidate every session of an organiser, on every device and open WebSocket."""
    organiser.login_token = secrets.token_hex(16)
    db.session.commit()


def find_organiser(email: str) -> Organiser | None:
    """Return the organiser with this address."""
    return db.session.scalar(select(Organiser).where(func.lower(Organiser.email) == normalise_email(email)))


def authenticate(email: str, password: str) -> Organiser | None:
    """Return the organiser if the password matches."""
    organiser = find_organiser(email)
    if organiser is None or not check_password_hash(organiser.password_hash, password or ""):
        return None
    return organiser
