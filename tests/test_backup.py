"""`rouages backup` and `rouages restore` against real servers, with real clients posting meanwhile."""

from __future__ import annotations

import re
import shlex
import shutil
import sqlite3
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio

from app.services.backup import ServerLock, pg_commands
from conftest import DATA
from databases import BACKEND
from server import ROUAGES, Server

sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="rouages backup and restore copy SQLite databases; "
                                                             "PostgreSQL is backed up with pg_dump")


def rouages(srv: Server, *args: str) -> subprocess.CompletedProcess:
    """Run a `rouages` command on a server's data directory; its exit status is the caller's to check."""
    return subprocess.run([*ROUAGES, *args], env=srv.env, capture_output=True, text=True, timeout=60)


def started(tmp_path: Path, name: str = "data", extra_env=None) -> tuple[Server, str]:
    """Return a server with the small event imported (not started yet) and its world café's join code."""
    # Phones here post as fast as their acks come, far beyond a person: the post rate limit is not under test.
    srv = Server(tmp_path / name, extra_env={"ROUAGES_LIMIT_POSTS_BURST": "0", **(extra_env or {})})
    sessions_listed = srv.prepare(str(DATA / "small.yaml"), "petite-rencontre", organiser=False)
    sessions = sessions_listed
    return srv, next(s["code"] for s in sessions if s["key"] == "world-cafe")


def stored_client_ids(path: Path) -> set[str]:
    """Read the client ids of the posts in a database file, after checking its integrity."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return {row[0] for row in conn.execute("SELECT client_id FROM post")}
    finally:
        conn.close()


class Phones:
    """Real Socket.IO clients posting one idea after another, each waiting for its ack, until stopped."""

    def __init__(self, url: str, code: str, count: int):
        self.acked: set[str] = set()
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(url, code, i)) for i in range(count)]
        for thread in self.threads:
            thread.start()

    def _run(self, url: str, code: str, index: int) -> None:
        client = socketio.Client(reconnection=False)
        try:
            client.connect(url, transports=["websocket"], wait_timeout=10)
            assert client.call("join", {"code": code, "name": f"Phone {index}"}, timeout=10)["ok"]
            n = 0
            while not self.stopping.is_set():
                client_id = f"phone{index}-{n:06d}"
                ack = client.call("post", {"code": code, "client_id": client_id, "text": f"Idée {n}",
                                           "tags": {"function": "animation"}}, timeout=10)
                assert ack["ok"], ack
                with self.lock:
                    self.acked.add(client_id)
                n += 1
        except BaseException as exc:  # surfaced by stop()
            self.errors.append(exc)
        finally:
            client.disconnect()

    def snapshot(self) -> set[str]:
        with self.lock:
            return set(self.acked)

    def wait_for(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.snapshot()) < count and time.monotonic() < deadline and not self.errors:
            time.sleep(0.05)
        assert len(self.snapshot()) >= count, self.errors

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)
        assert self.errors == []


@sqlite_only
@pytest.mark.server
def test_backups_taken_while_posts_arrive_hold_every_post_acked_before(tmp_path):
    srv, code = started(tmp_path)
    with srv:
        phones = Phones(srv.url, code, count=3)
        try:
            phones.wait_for(30)
            grew = 0
            for index in range(4):
                before = phones.snapshot()
                args = ("backup",) if index == 0 else ("backup", "-o", str(tmp_path / f"copy-{index}.db"))
                result = rouages(srv, *args)
                assert result.returncode == 0, result.stderr
                path = Path(re.match(r"Wrote (.+) \(\d+ KiB, (\d+) posts\)\.$", result.stdout.strip())[1])
                printed = int(re.search(r"(\d+) posts", result.stdout)[1])
                if index == 0:  # the default name, in the data directory
                    first = path
                    assert path.parent == srv.data_dir.resolve() / "backups"
                    assert re.fullmatch(r"rouages-\d{8}-\d{6}\.db", path.name)
                assert stat.S_IMODE(path.stat().st_mode) == 0o600
                stored = stored_client_ids(path)
                assert before <= stored, f"{len(before - stored)} acked posts missing from {path.name}"
                assert printed == len(stored)
                grew += len(phones.snapshot() - before)
            assert grew > 0, "no post was acked while the backups ran: the test proved nothing"
        finally:
            phones.stop()
        # The backups directory holds the backup alone: no temporary file, no journal left behind.
        assert [p.name for p in (srv.data_dir / "backups").iterdir()] == [first.name]
        assert stat.S_IMODE((srv.data_dir / "backups").stat().st_mode) == 0o700


def post_texts(srv: Server, code: str) -> list[str]:
    return [p["text"] for p in requests.get(f"{srv.url}/api/sessions/{code}/posts", timeout=5).json()["posts"]]


def post_some(srv: Server, code: str, texts: list[str]) -> None:
    client = socketio.Client(reconnection=False)
    client.connect(srv.url, transports=["websocket"], wait_timeout=10)
    try:
        assert client.call("join", {"code": code}, timeout=10)["ok"]
        for text in texts:
            ack = client.call("post", {"code": code, "client_id": f"c-{text.replace(' ', '-')}", "text": text,
                                       "tags": {"function": "support"}}, timeout=10)
            assert ack["ok"], ack
    finally:
        client.disconnect()


@sqlite_only
@pytest.mark.server
def test_restore_brings_a_backup_back_only_when_safe(tmp_path):
    srv, code = started(tmp_path)
    backup = tmp_path / "before.db"
    with srv:
        post_some(srv, code, ["kept 1", "kept 2", "kept 3"])
        assert rouages(srv, "backup", "-o", str(backup)).returncode == 0
        post_some(srv, code, ["after 1", "after 2"])

        running = rouages(srv, "restore", str(backup), "--force")
        assert running.returncode == 1 and "server is running" in running.stderr
        assert len(post_texts(srv, code)) == 5

    refused = rouages(srv, "restore", str(backup))
    assert refused.returncode == 1 and "holds data" in refused.stderr and "--force" in refused.stderr

    done = rouages(srv, "restore", str(backup), "--force")
    assert done.returncode == 0, done.stderr
    kept = Path(re.search(r"Kept the replaced database in (\S+) \(5 posts\)", done.stdout)[1])
    assert len(stored_client_ids(kept)) == 5
    assert done.stdout.splitlines()[-1].endswith(", 3 posts).")
    with srv:
        assert post_texts(srv, code) == ["kept 1", "kept 2", "kept 3"]
        post_some(srv, code, ["after restore"])  # the sequence goes on from the restored one
        assert post_texts(srv, code)[-1] == "after restore"

    # Disaster recovery: a new machine, an empty data directory, the backup file.
    fresh = Server(tmp_path / "fresh")
    result = rouages(fresh, "restore", str(backup))
    assert result.returncode == 0, result.stderr
    with fresh:
        assert post_texts(fresh, code) == ["kept 1", "kept 2", "kept 3"]


@sqlite_only
def test_restore_refuses_what_is_not_a_rouages_backup(tmp_path):
    srv = Server(tmp_path / "data")
    srv.cli("event", "import", str(DATA / "small.yaml"))
    text = tmp_path / "notes.db"
    text.write_text("not a database")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE post (id INTEGER PRIMARY KEY)")
    conn.close()
    damaged = tmp_path / "damaged.db"
    srv.cli("backup", "-o", str(damaged))
    data = bytearray(damaged.read_bytes())
    data[4096 * 3:4096 * 3 + 512] = b"\xff" * 512  # overwrite part of a b-tree page
    damaged.write_bytes(bytes(data))

    for path, reason in ((text, "not an SQLite database"), (other, "not a Rouages database"),
                         (damaged, "damaged")):
        result = rouages(srv, "restore", str(path), "--force")
        assert result.returncode == 1 and reason in result.stderr, (path.name, result.stderr)
    assert list((srv.data_dir / "backups").glob("rouages-before-restore-*")) == []


@sqlite_only
def test_backup_never_overwrites_a_file(tmp_path):
    srv = Server(tmp_path / "data")
    srv.cli("event", "import", str(DATA / "small.yaml"))
    for target in (tmp_path / "exists.db", srv.data_dir / "rouages.db"):
        target.touch()
        result = rouages(srv, "backup", "-o", str(target))
        assert result.returncode == 1 and "already exists" in result.stderr
    wal = rouages(srv, "backup", "-o", str(srv.data_dir / "rouages.db-journal"))
    assert wal.returncode == 1 and "live database" in wal.stderr


@pytest.mark.server
def test_a_server_does_not_start_during_a_restore(tmp_path, server_env):
    srv = Server(tmp_path / "data", extra_env=server_env)
    srv.data_dir.mkdir(parents=True)
    with ServerLock(srv.data_dir, exclusive=True), pytest.raises(RuntimeError, match="restore is in progress"):
        srv.start()
    with srv:  # the lock went with the restore
        assert requests.get(f"{srv.url}/healthz", timeout=5).ok


def test_postgresql_commands_never_show_the_password():
    dump, restore, password = pg_commands("postgresql+psycopg://rouages:s3cret@db.example:5433/rouages?sslmode=require",
                                          Path("/srv/backups/my dump.dump"))
    assert password and "s3cret" not in dump + restore
    assert shlex.split(dump) == ["pg_dump", "--format=custom", "--file=/srv/backups/my dump.dump",
                                 "postgresql://rouages@db.example:5433/rouages?sslmode=require"]
    assert shlex.split(restore) == ["pg_restore", "--clean", "--if-exists",
                                    "--dbname=postgresql://rouages@db.example:5433/rouages?sslmode=require",
                                    "/srv/backups/my dump.dump"]


@pytest.mark.skipif(BACKEND != "postgresql", reason="needs ROUAGES_TEST_DB=postgresql")
def test_backup_on_postgresql_points_to_a_working_pg_dump(tmp_path, server_env):
    srv = Server(tmp_path / "data", extra_env=server_env)
    srv.cli("event", "import", str(DATA / "small.yaml"))
    target = tmp_path / "event.dump"
    result = rouages(srv, "backup", "-o", str(target))
    assert result.returncode == 2 and result.stdout == ""
    command = next(line.strip() for line in result.stderr.splitlines() if line.strip().startswith("pg_dump "))
    database = server_env["ROUAGES_DATABASE_URL"].rsplit("/", 1)[1]
    assert command.endswith(f"/{database}'") or command.endswith(f"/{database}")
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed: the command was printed but not run")
    subprocess.run(shlex.split(command), check=True, timeout=60)
    listing = subprocess.run(["pg_restore", "--list", str(target)], check=True, capture_output=True, text=True)
    assert "TABLE public post" in listing.stdout
    restore = rouages(srv, "restore", str(target))
    assert restore.returncode == 2 and "pg_restore --clean --if-exists" in restore.stderr
