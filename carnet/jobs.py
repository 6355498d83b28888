"""Booklet renders in a process of their own, one at a time per data directory, followed through a status file.

The live server runs on one event loop (gevent or eventlet): a render of several seconds of pure Python in it
would stall every phone. So a render runs as `python -m carnet.job` (carnet/job.py), which creates its own
application from the same data directory and database, writes the PDF beside the others and reports its
progress in a small JSON file that any worker of the server reads. Files in DATA_DIR/booklets/, per booklet and
format (here the A4 restitution):

- `<slug>-restitution-a4.pdf`: the last finished PDF, replaced only by a complete new one;
- `<slug>-restitution-a4.json`: the status of the last job, replaced atomically at each step;
- `<slug>-restitution-a4.lock`: exists while a job runs, created with O_EXCL, holding the job process's pid;
- `<slug>-restitution-a4.guard`: taken with flock() around every look at the lock, so that two workers never
  both find it stale and both start a job.

A render takes a few hundred MB and a core: on the organiser's laptop that also runs the live event, one at a time.
A request for the booklet being rendered joins its job; a request for another one while it runs is refused, and
`.renders.guard` (taken around every start) keeps two workers from starting two different ones at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

# Each booklet and the files it prints, the default first (what each one is: carnet/builds.py).
BOOKLETS = {"restitution": ("a4", "a5"), "carnet": ("a5", "a4", "imposed", "print-shop", "personal"),
            "badges": ("a4",), "table-tents": ("a4",)}
# The server's own check kills a job this long after the job's own time limit has passed without it giving up.
KILL_GRACE = 5.0
NO_STATUS = {"state": "none", "job": None, "file": None}


@dataclass(frozen=True)
class Paths:
    """Where one booklet's files live."""

    pdf: Path
    status: Path
    lock: Path
    guard: Path


def paths(data_dir: Path | str, slug: str, fmt: str, booklet: str = "restitution") -> Paths:
    """Return the files of booklet `booklet` of event `slug` in format `fmt`."""
    if fmt not in BOOKLETS.get(booklet, ()) or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug or ""):
        raise ValueError(f"no {booklet!r} booklet for {slug!r} in {fmt!r}")
    folder = Path(data_dir) / "booklets"
    stem = folder / f"{slug}-{booklet}-{fmt}"
    return Paths(pdf=stem.with_suffix(".pdf"), status=stem.with_suffix(".json"), lock=stem.with_suffix(".lock"),
                 guard=stem.with_suffix(".guard"))


def now_iso() -> str:
    """Return the current time in UTC, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_status(where: Paths) -> dict:
    """Return the stored status of a booklet, or the empty one."""
    try:
        return json.loads(where.status.read_text())
    except (FileNotFoundError, ValueError):
        return dict(NO_STATUS)


def write_status(where: Paths, status: dict) -> None:
    """Replace the status file in one step: readers see the old one or the new one, never half of one."""
    fd, temporary = tempfile.mkstemp(dir=where.status.parent, prefix=".status-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(status, fh)
        os.replace(temporary, where.status)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def _flocked(path: Path):
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(path, "a") as guard:
        # Held for a few milliseconds (a read, at most a process start): blocking the event loop that long is fine.
        fcntl.flock(guard, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(guard, fcntl.LOCK_UN)


def guarded(where: Paths):
    """Hold the booklet's guard: one process at a time looks at and changes its lock."""
    return _flocked(where.guard)


def _pid_in(lock: Path) -> int | None:
    try:
        text = lock.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def lock_owner(where: Paths) -> int | None:
    """Return the pid written in the lock, or None when there is no lock or it holds no pid."""
    return _pid_in(where.lock)


def rendering(data_dir: Path | str) -> dict | None:
    """Return the booklet a live job is rendering in this data directory ({slug, booklet, format}), or None."""
    for lock in sorted((Path(data_dir) / "booklets").glob("*.lock")):
        if not running(_pid_in(lock)):
            continue
        for booklet, formats in BOOKLETS.items():
            for fmt in formats:
                if lock.stem.endswith(f"-{booklet}-{fmt}"):
                    return {"slug": lock.stem.removesuffix(f"-{booklet}-{fmt}"), "booklet": booklet, "format": fmt}
        return {"slug": lock.stem, "booklet": None, "format": None}
    return None


def running(pid: int | None) -> bool:
    """Whether `pid` is a live booklet job (not a zombie, and not another program that got the pid since)."""
    if not pid:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return "carnet.job" in process.cmdline()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _stopped(status: dict, message: str) -> dict:
    return {**status, "state": "failed", "finished_at": now_iso(), "error": message, "message": message}


def _recover(where: Paths, status: dict, message: str) -> dict:
    """Under the guard: end a job whose process is gone (the lock goes, the status says it failed)."""
    if where.lock.exists() and not running(lock_owner(where)):
        where.lock.unlink(missing_ok=True)
    if status.get("state") == "running":
        status = _stopped(status, message)
        write_status(where, status)
    return status


def status(data_dir: Path | str, slug: str, fmt: str, *, booklet: str = "restitution",
           stopped_message: str = "The render stopped.") -> dict:
    """Return a booklet's status; a job whose process is gone is recorded as failed first."""
    where = paths(data_dir, slug, fmt, booklet)
    current = read_status(where)
    if current.get("state") != "running" or running(current.get("pid")) or running(lock_owner(where)):
        return current
    with guarded(where):
        current = read_status(where)
        if current.get("state") == "running" and not running(lock_owner(where)):
            current = _recover(where, current, stopped_message)
    return current


def finished_pdf(data_dir: Path | str, slug: str, fmt: str, booklet: str = "restitution") -> Path | None:
    """Return the last finished PDF of a booklet, or None."""
    pdf = paths(data_dir, slug, fmt, booklet).pdf
    return pdf if pdf.is_file() else None


def start(data_dir: Path | str, database_url: str, slug: str, fmt: str, *, time_limit: float, locale: str,
          starting_message: str, stopped_message: str, time_limit_message: str, booklet: str = "restitution") -> dict:
    """Start rendering a booklet in another process, or join the job already rendering it; return its status.

    The returned status has `joined`: True when another request's job was already running. While a job renders
    another booklet or format, nothing starts: the status returned is the booklet's own with `state` "busy" and
    `busy` naming what renders ({slug, booklet, format}).
    """
    where = paths(data_dir, slug, fmt, booklet)
    with _flocked(where.guard.parent / ".renders.guard"), guarded(where):
        current = read_status(where)
        if running(lock_owner(where)):
            return {**current, "joined": True}
        other = rendering(data_dir)
        if other is not None:
            return {**current, "state": "busy", "busy": other, "joined": False}
        if where.lock.exists():  # its process is gone: a crash, a kill, a restart of the machine
            current = _recover(where, current, stopped_message)
        fd = os.open(where.lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        for leftover in where.pdf.parent.glob(f".{where.pdf.stem}-*.part"):  # from a job killed mid-write
            leftover.unlink(missing_ok=True)
        for leftover in where.pdf.parent.glob(f".{where.pdf.stem}-*.build"):  # carnet/builds.py's work folders
            shutil.rmtree(leftover, ignore_errors=True)
        job = uuid.uuid4().hex
        last = current.get("file")  # the finished PDF stays downloadable while the next one renders
        started = {"job": job, "format": fmt, "state": "running", "message": str(starting_message), "page": None,
                   "started_at": now_iso(), "finished_at": None, "error": None, "pid": None,
                   "file": last if finished_pdf(data_dir, slug, fmt, booklet) else None}
        write_status(where, started)
        env = {**os.environ, "ROUAGES_DATA_DIR": str(data_dir), "ROUAGES_DATABASE_URL": database_url,
               "ROUAGES_LOCALE": locale}
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "carnet.job", slug, fmt, "--booklet", booklet, "--job", job,
                 "--time-limit", str(time_limit)],
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except OSError as error:
            os.close(fd)
            where.lock.unlink(missing_ok=True)
            failed = _stopped(started, f"{stopped_message} {error}")
            write_status(where, failed)
            return failed
        with os.fdopen(fd, "w") as lock:
            lock.write(f"{process.pid}\n")
        started = {**read_status(where), "pid": process.pid}
        if started.get("job") == job and started.get("state") == "running":
            write_status(where, started)
    # Waiting for the process also reaps it, so that a finished job never lingers as a zombie holding its pid.
    threading.Thread(target=_watch, args=(process, where, job, time_limit, time_limit_message, stopped_message),
                     daemon=True, name=f"booklet-{slug}-{fmt}").start()
    return {**started, "joined": False}


def _watch(process: subprocess.Popen, where: Paths, job: str, time_limit: float, time_limit_message: str,
           stopped_message: str) -> None:
    """Wait for a job's process; kill it once past its time limit; record a failure the job could not record."""
    try:
        process.wait(timeout=time_limit + KILL_GRACE)
    except subprocess.TimeoutExpired:
        # Killed and recorded under the guard: a status read in between would otherwise find the process gone and
        # record it as merely stopped. No waiting under the guard (another greenlet's flock would block the loop).
        with guarded(where):
            process.kill()
            _release(where, process.pid, job, time_limit_message)
        process.wait()
        return
    with guarded(where):
        _release(where, process.pid, job, stopped_message)


def _release(where: Paths, pid: int, job: str, message: str) -> None:
    """Under the guard: drop the lock of the job's process and record its failure unless it recorded its end."""
    if lock_owner(where) == pid:
        where.lock.unlink(missing_ok=True)
    current = read_status(where)
    if current.get("job") == job and current.get("state") == "running":
        write_status(where, _stopped(current, message))


def wait(data_dir: Path | str, slug: str, fmt: str, timeout: float = 120.0, booklet: str = "restitution") -> dict:
    """Return a booklet's status once no job runs (for scripts and the command line)."""
    deadline = time.monotonic() + timeout
    while True:
        current = status(data_dir, slug, fmt, booklet=booklet)
        if current.get("state") != "running" or time.monotonic() > deadline:
            return current
        time.sleep(0.2)
