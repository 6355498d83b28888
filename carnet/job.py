"""One booklet render, in a process of its own: `python -m carnet.job SLUG FORMAT --booklet NAME --job ID --time-limit S`.

Started by carnet.jobs.start with ROUAGES_DATA_DIR and ROUAGES_DATABASE_URL set to the server's, it creates its
own application (no async runtime, no message queue), renders the PDF to a temporary file beside the others,
renames it into place and keeps the status file up to date; it releases the booklet's lock when it ends.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

from carnet import jobs

PROGRESS_PERIOD = 0.2  # seconds between two writes of the status while the render reports progress
NICENESS = 10


class TimeLimit(Exception):
    """The render ran past its time limit."""


def _on_alarm(_signum, _frame):
    raise TimeLimit


def _peak_memory_mb() -> float:
    """Return this process's peak resident memory in MB (Linux gives kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def render(slug: str, booklet: str, fmt: str, where: jobs.Paths, status: dict, time_limit: float) -> dict:
    """Render the booklet inside an application context; return the final status."""
    from flask_babel import gettext as _

    from app.services.errors import ServiceError
    from app.services.events import get_event

    from .builds import build

    event = get_event(slug)
    if event is None:
        message = _("There is no event “%(slug)s”.", slug=slug)
        return {**status, "state": "failed", "error": message, "message": message}
    written = [0.0]

    def progress(message) -> None:
        found = re.search(r"(\d+)", str(message))
        status.update(message=str(message), page=int(found[1]) if found else status.get("page"))
        if time.monotonic() - written[0] >= PROGRESS_PERIOD:
            jobs.write_status(where, status)
            written[0] = time.monotonic()

    fd, temporary = tempfile.mkstemp(dir=where.pdf.parent, prefix=f".{where.pdf.stem}-", suffix=".part")
    os.close(fd)
    began = time.monotonic()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        pages = build(event, booklet, fmt, Path(temporary), progress=progress)
        signal.setitimer(signal.ITIMER_REAL, 0)
        os.chmod(temporary, 0o600)
        os.replace(temporary, where.pdf)
    except TimeLimit:
        message = _("The render took longer than %(seconds)s s and was stopped.", seconds=round(time_limit))
        return {**status, "state": "failed", "error": message, "message": message}
    except ServiceError as error:  # refused with a reason for the organiser (no registration list, no tables)
        logging.getLogger("rouages").info("The %s %s booklet of %s was refused: %s", fmt, booklet, slug, error.code)
        message = str(error.message)
        return {**status, "state": "failed", "error": message, "message": message}
    except Exception as error:
        logging.getLogger("rouages").exception("The %s booklet of %s could not be made", fmt, slug)
        message = _("The booklet could not be made: %(error)s", error=str(error) or type(error).__name__)
        return {**status, "state": "failed", "error": message, "message": message}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        Path(temporary).unlink(missing_ok=True)
    finished = jobs.now_iso()
    size = where.pdf.stat().st_size
    return {**status, "state": "done", "message": _("Done"), "page": pages, "pages": pages, "size": size,
            "render_seconds": round(time.monotonic() - began, 2),
            "file": {"job": status["job"], "pages": pages, "size": size, "generated_at": finished}}


def main(argv: list[str] | None = None) -> int:
    """Run one job; the exit status is 0 when the PDF was made."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slug")
    parser.add_argument("format")
    parser.add_argument("--booklet", choices=sorted(jobs.BOOKLETS), default="restitution")
    parser.add_argument("--job", required=True)
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args(argv)
    os.umask(0o077)
    # A render is background work: on a laptop with two cores, the room's posts must still go first. Linux's idle
    # class gives the render only the time nothing else wants; elsewhere a lower priority is what there is.
    os.nice(NICENESS)
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    # Into the server's log (our standard error is its own): warnings and errors only, not the layout's progress,
    # which the renderer turns on at INFO level for the status file.
    to_log = logging.StreamHandler()
    to_log.setLevel(logging.WARNING)
    to_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[to_log])
    began = time.monotonic()
    where = jobs.paths(os.environ["ROUAGES_DATA_DIR"], args.slug, args.format, args.booklet)
    status = {**jobs.read_status(where), "job": args.job, "pid": os.getpid()}
    try:
        from app import create_app

        app = create_app({"ASYNC_MODE": "threading", "MESSAGE_QUEUE": None, "AUTO_MIGRATE": False})
        with app.app_context():
            status["startup_seconds"] = round(time.monotonic() - began, 2)
            status = render(args.slug, args.booklet, args.format, where, status, args.time_limit)
    except Exception as error:  # the application itself could not start: the database is unreachable, say
        logging.getLogger("rouages").exception("The booklet job could not start")
        status = {**status, "state": "failed", "error": str(error), "message": str(error)}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    status.update(finished_at=jobs.now_iso(), seconds=round(time.monotonic() - began, 2),
                  cpu_seconds=round(usage.ru_utime + usage.ru_stime, 2), peak_memory_mb=_peak_memory_mb())
    with jobs.guarded(where):
        jobs.write_status(where, status)
        if jobs.lock_owner(where) == os.getpid():
            where.lock.unlink(missing_ok=True)
    return 0 if status["state"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
