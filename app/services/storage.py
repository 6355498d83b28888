"""Storage failures (disk full, database locked or unreachable): a clear refusal, and one log line per outage."""

from __future__ import annotations

import os

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError

from .errors import ServiceError

# What the database or the disk raises when it cannot write now: a bug raises something else.
STORAGE_ERRORS = (OperationalError, OSError)


def unavailable(error: BaseException) -> ServiceError:
    """Return the refusal for a write the storage could not take, logging the cause once per outage."""
    state = current_app.extensions.setdefault("rouages.storage", {"failing": 0})
    if not state["failing"]:
        cause = str(getattr(error, "orig", None) or error).splitlines()[0]
        current_app.logger.error("Cannot write to the database (%s): writes are refused until it recovers; "
                                 "phones keep their ideas and send them again.", cause)
    state["failing"] += 1
    return ServiceError("storage_unavailable", _l("The server cannot save right now. Your idea stays on your "
                                                  "phone and will be sent again."), 503)


def recovered() -> None:
    """Note a successful write: log the end of an outage, once."""
    state = current_app.extensions.get("rouages.storage")
    if state and state["failing"]:
        current_app.logger.warning("The database takes writes again (%s refused meanwhile).", state["failing"])
        state["failing"] = 0


def fsync(path) -> None:
    """Flush a file to the disk (it must exist: a missing write-ahead log or copy is an error)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
