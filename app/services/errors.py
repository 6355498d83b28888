"""Errors as values: a stable code for programs and a human message for people."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .text import clean_line

# The largest whole number a client may send: the largest a database INTEGER column holds (PostgreSQL's are
# 32-bit), which sequence numbers, revisions and ids are. Larger ones are refused here rather than in a query.
MAX_WHOLE = 2**31 - 1


class ServiceError(Exception):
    """A refused request: nothing was changed."""

    def __init__(self, code: str, message, status: int = 400):
        super().__init__(code)
        self.code = code
        self.message = message
        self.status = status
        self.details: dict = {}
        self.flood = False  # the client keeps sending after being refused: close its connection

    def as_dict(self) -> dict:
        """Return the error as it travels in an ack or a JSON response (with `retry_after` seconds, say)."""
        return {"code": self.code, "message": str(self.message), **self.details}


def invalid_payload() -> ServiceError:
    """Return the error for a payload that is not an object of the expected fields."""
    return ServiceError("invalid_payload", _l("The request is malformed."))


def require_dict(data) -> dict:
    """Return data if it is a JSON object, else refuse it."""
    if not isinstance(data, dict):
        raise invalid_payload()
    return data


def optional_str(data: dict, field: str, max_length: int) -> str | None:
    """Read an optional short text field; refuse anything that is not text or too long."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ServiceError("invalid_field", _l("The field %(field)s must be text.", field=field))
    value = clean_line(value)
    if len(value) > max_length:
        raise ServiceError("field_too_long", _l("The field %(field)s is too long (at most %(max)s characters).",
                                                 field=field, max=max_length))
    return value or None


def whole_number(value, field: str, low: int = 0, high: int = MAX_WHOLE) -> int:
    """Return `value` if it is a whole number from `low` to `high` (not a boolean), else refuse it."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ServiceError("invalid_field", _l("The field %(field)s must be a whole number.", field=field))
    return value
