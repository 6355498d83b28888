"""Backups of the SQLite database: a consistent copy while the server runs, and bringing one back."""

from __future__ import annotations

import fcntl
import os
import shlex
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from .storage import fsync

LOCK_FILE = "server.lock"
BACKUP_DIR = "backups"
SQLITE_HEADER = b"SQLite format 3\x00"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class BackupError(Exception):
    """A backup or a restore refused or failed: nothing was changed."""


@dataclass(frozen=True)
class Copy:
    """A database file written by a backup or a restore: where, how large, how many posts."""

    path: Path
    size: int
    posts: int


def sqlite_path(database_url: str) -> Path | None:
    """Return the file of an SQLite database URL, or None for another database (or an in-memory one)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser().resolve()


def default_name(data_dir: Path, suffix: str = ".db", label: str = "rouages") -> Path:
    """Return a new backup's default path: `backups/rouages-YYYYmmdd-HHMMSS.db` in the data directory."""
    return Path(data_dir) / BACKUP_DIR / f"{label}-{datetime.now():%Y%m%d-%H%M%S}{suffix}"


def pg_commands(database_url: str, output: Path) -> tuple[str, str, bool]:
    """Return the pg_dump and pg_restore command lines for a PostgreSQL URL, and whether a password was left out."""
    url = make_url(database_url)
    # Never printed: a terminal's scrollback or a shell history is no place for it; libpq finds it in
    # PGPASSWORD or ~/.pgpass.
    libpq = url._replace(drivername="postgresql", password=None).render_as_string(hide_password=False)
    dump = f"pg_dump --format=custom --file={shlex.quote(str(output))} {shlex.quote(libpq)}"
    restore = f"pg_restore --clean --if-exists --dbname={shlex.quote(libpq)} {shlex.quote(str(output))}"
    return dump, restore, url.password is not None


# flock locks belong to the open file, so the kernel drops them when the process ends however it ends (a crash or
# SIGKILL leaves no stale lock behind, unlike a PID file). Servers share the lock, as several workers may run on
# one data directory (PostgreSQL); a restore needs it alone, so it fails while any server runs and no server
# starts meanwhile. The descriptor is closed only by release(): losing the object does not drop the lock.
class ServerLock:
    """The data directory's server lock: shared by running servers, exclusive for a restore."""

    def __init__(self, data_dir: Path, exclusive: bool):
        path = Path(data_dir) / LOCK_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            if exclusive:
                raise BackupError(f"A Rouages server is running on {data_dir}: stop it first.") from None
            raise BackupError(f"A restore is in progress in {data_dir}: start the server once it is done.") from None

    def release(self) -> None:
        """Let the lock go."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ServerLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    # mode=rw / ro never creates a missing file, which sqlite3.connect would do silently.
    mode = "ro" if read_only else "rw"
    conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=15, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=15000")
    return conn


def _posts(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM post").fetchone()[0]


def _integrity(conn: sqlite3.Connection) -> str:
    """Return 'ok', or the problems integrity_check found."""
    rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    return "ok" if rows == ["ok"] else "; ".join(rows[:5])


def _write_copy(source: sqlite3.Connection, target: Path) -> Copy:
    """Copy a database with SQLite's backup API into a new 0600 file, then rename it to `target`."""
    # One backup step (the default, pages=-1) copies every page inside one read transaction: the copy is the
    # database as of one commit, while the server's writers go on appending to the write-ahead log. The file
    # appears under its name only once complete and on disk: a crash never leaves half a backup under a good name.
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")  # mode 0600
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        dest = sqlite3.connect(tmp, isolation_level=None)
        try:
            source.backup(dest)
            # A copy of a WAL database is in WAL mode too; a single file is what a backup should be.
            dest.execute("PRAGMA journal_mode=DELETE")
            problems = _integrity(dest)
            if problems != "ok":
                raise BackupError(f"The copy failed its integrity check: {problems}")
            posts = _posts(dest)
        finally:
            dest.close()
        os.chmod(tmp, 0o600)
        fsync(tmp)
        os.replace(tmp, target)
        fsync(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Copy(target, target.stat().st_size, posts)


def backup(database: Path, target: Path) -> Copy:
    """Write a consistent copy of a live SQLite database to `target` (a new file, mode 0600)."""
    database, target = Path(database), Path(target).expanduser().absolute()
    if not database.is_file():
        raise BackupError(f"There is no database at {database}.")
    if target.exists() or target.is_symlink():
        raise BackupError(f"{target} already exists: choose another name.")
    if target.resolve() in {database.with_name(database.name + end) for end in ("", "-wal", "-shm", "-journal")}:
        raise BackupError(f"{target} is the live database or one of its journals.")
    source = _connect(database, read_only=True)
    try:
        return _write_copy(source, target)
    finally:
        source.close()


def check_backup(path: Path) -> str:
    """Return the schema revision of a Rouages backup, or refuse a file that is not a sound one."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    with open(path, "rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not an SQLite database.")
    try:
        conn = _connect(path, read_only=True)
        try:
            problems = _integrity(conn)
            if problems != "ok":
                raise BackupError(f"{path} is damaged: {problems}")
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"alembic_version", "post", "event"} <= tables:
                raise BackupError(f"{path} is not a Rouages database (no alembic_version, event or post table).")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} cannot be read as a database: {error}") from None
    if row is None:
        raise BackupError(f"{path} is not a Rouages database (its schema version is missing).")
    if not (MIGRATIONS / "versions").is_dir() or not _known_revision(row[0]):
        raise BackupError(f"{path} comes from a newer version of Rouages (schema {row[0]}): upgrade Rouages first.")
    return row[0]


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    try:
        return ScriptDirectory(str(MIGRATIONS)).get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown revision
        return False


def holds_data(database: Path) -> bool:
    """Tell whether a database file exists and any of its tables (the schema version aside) has a row."""
    database = Path(database)
    if not database.exists() or database.stat().st_size == 0:
        return False
    conn = _connect(database)
    try:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'alembic_version'")]
        return any(conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() for name in tables)
    finally:
        conn.close()


@dataclass(frozen=True)
class Restored:
    """What a restore did: the database written, and the copy of the one it replaced (if it held data)."""

    database: Copy
    previous: Copy | None


def restore(source: Path, database: Path, data_dir: Path, force: bool = False) -> Restored:
    """Bring a backup back into the live database path; the caller holds the exclusive ServerLock."""
    # The pages go through SQLite's backup API into the database itself, not a file renamed over it: SQLite then
    # keeps the database, its -wal and its -shm consistent, where a renamed file would meet a stale log.
    source, database = Path(source).expanduser().absolute(), Path(database)
    check_backup(source)
    if source.resolve() == database.resolve():
        raise BackupError(f"{source} is the live database itself.")
    previous = None
    if holds_data(database):
        if not force:
            raise BackupError(f"The database {database} holds data: add --force to replace it "
                              "(a copy of it is kept in the backups directory).")
        previous = backup(database, default_name(data_dir, label="rouages-before-restore"))
    database.parent.mkdir(parents=True, exist_ok=True)
    src = _connect(source, read_only=True)
    try:
        dest = sqlite3.connect(database, timeout=15, isolation_level=None)
        try:
            dest.execute("PRAGMA journal_mode=WAL")  # what the server uses: the log is then reset with the pages
            src.backup(dest)
            problems = _integrity(dest)
            if problems != "ok":
                raise BackupError(f"The restored database failed its integrity check: {problems}")
            posts = _posts(dest)
            dest.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            dest.close()
    finally:
        src.close()
    return Restored(Copy(database, database.stat().st_size, posts), previous)
