"""Run real `rouages` processes on loopback for tests and benchmarks."""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROUAGES = [sys.executable, "-m", "app.server"]
PREPARE = Path(__file__).resolve().parent / "prepare.py"
# Data folders of events already prepared in this run: {what was prepared: (folder, its server's URL, sessions)}.
_PREPARED: dict[tuple, tuple[Path, str, str]] = {}


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A `rouages serve` process with its own data directory, listening on 127.0.0.1 only."""

    def __init__(self, data_dir: Path, async_mode: str = "gevent", port: int | None = None, extra_env=None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "ROUAGES_DATA_DIR": str(self.data_dir), "ROUAGES_ASYNC_MODE": async_mode,
                    "ROUAGES_PUBLIC_URL": self.url, **(extra_env or {})}
        self.process: subprocess.Popen | None = None
        self.log = self.data_dir / "server.log"

    def command(self) -> list[str]:
        """Return the command line that runs the server."""
        return [*ROUAGES, "serve", "--host", "127.0.0.1", "--port", str(self.port)]

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run a `rouages` command against this server's data directory."""
        return subprocess.run([*ROUAGES, *args], env=self.env, capture_output=True, text=True, input=input,
                              timeout=60, check=True)

    def cli_many(self, *commands: list[str]) -> list[str]:
        """Run several `rouages` commands against this server's data directory in one process; return their outputs."""
        done = subprocess.run([sys.executable, str(PREPARE), json.dumps([list(map(str, c)) for c in commands])],
                              env=self.env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout, done.stderr)
        return json.loads(done.stdout.splitlines()[-1])

    def prepare(self, event: str | Path, slug: str, organiser: bool = True) -> list[dict]:
        """Import an event (a file, or `--demo`), add the organiser, and return `rouages sessions SLUG --json`.

        On SQLite, the data folder this leaves is kept the first time and copied the next: the same event prepared
        for another test costs a copy, not the migrations, the import and the password hashing again.
        """
        key = self._prepared_key(event, slug, organiser)
        if key in _PREPARED:
            template, url, listed = _PREPARED[key]
            shutil.copytree(template, self.data_dir, dirs_exist_ok=True)
            return json.loads(listed.replace(url, self.url))
        commands = [["event", "import", str(event)]]
        if organiser:
            commands.append(["user", "add", "orga@example.org", "--password", "correct-horse-battery"])
        listed = self.cli_many(*commands, ["sessions", slug, "--json"])[-1]
        if key is not None:
            template = Path(tempfile.mkdtemp(prefix="rouages-prepared-"))
            atexit.register(shutil.rmtree, template, True)
            shutil.copytree(self.data_dir, template, dirs_exist_ok=True)
            _PREPARED[key] = (template, self.url, listed)
        return json.loads(listed)

    def _prepared_key(self, event: str | Path, slug: str, organiser: bool) -> tuple | None:
        """Return what makes two preparations alike, or None when this one cannot be copied (not SQLite, not new)."""
        if self.env.get("ROUAGES_DATABASE_URL") or (self.data_dir.exists() and any(self.data_dir.iterdir())):
            return None
        content = Path(event).read_bytes() if str(event) != "--demo" else b""
        settings = sorted((k, v) for k, v in self.env.items() if (k.startswith("ROUAGES_") or k == "PYTHONPATH")
                          and k not in ("ROUAGES_DATA_DIR", "ROUAGES_PUBLIC_URL"))
        return str(event), hashlib.sha256(content).hexdigest(), slug, organiser, tuple(settings)

    def start(self, timeout: float = 30) -> Server:
        """Start the server and wait until /healthz answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command(), env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).json() == {"status": "ok"}:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """Kill the server at once, as a crash or a power cut would."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server politely, then firmly."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


NGINX_CONF = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 512; }}
http {{
    log_format upstream '$request_method $uri $status $upstream_addr';
    access_log {dir}/access.log upstream;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream rouages {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location /socket.io/ {{
            proxy_pass http://rouages;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 120s;
        }}
        location / {{
            proxy_pass http://rouages;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


@contextmanager
def serving(data_dir: Path, event_file: Path, slug: str, key: str | None = None, extra_env=None):
    """Run a server with `event_file` imported and an organiser; `code` is session `key`'s (the first when None)."""
    srv = Server(data_dir, extra_env=extra_env)
    srv.sessions = srv.prepare(event_file, slug)
    srv.code = next(s["code"] for s in srv.sessions if key is None or s["key"] == key)
    with srv:
        yield srv


class Nginx:
    """nginx on 127.0.0.1 spreading connections over workers as docs/deploy.md sets it up (round robin)."""

    def __init__(self, directory: Path, upstreams: list[str]):
        self.dir = Path(directory)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        servers = "\n".join(f"        server {u.removeprefix('http://')};" for u in upstreams)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(NGINX_CONF.format(dir=self.dir, port=self.port, servers=servers))
        self.process: subprocess.Popen | None = None

    def upstreams_used(self, path_prefix: str = "/socket.io/") -> list[str]:
        """Return the worker address of every request logged under a path, in order."""
        lines = (self.dir / "access.log").read_text().splitlines()
        return [line.split()[3] for line in lines if line.split()[1].startswith(path_prefix)]

    def __enter__(self) -> Nginx:
        self.process = subprocess.Popen(
            ["nginx", "-p", str(self.dir), "-e", str(self.dir / "error.log"), "-c", str(self.conf),
             "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.dir / 'error.log').read_text()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("nginx did not answer within 15 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Redis:
    """A `redis-server` of a test's own on loopback, without persistence as the deployment guide sets it up.

    It can be stopped and started again on the same port, as a restarted Redis would be.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> Redis:
        """Start the server and wait until it answers."""
        import redis

        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                 "--dir", str(self.folder)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()
                return self
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer within {timeout}s:\n{(self.folder / 'redis.log').read_text()}")

    def kill(self) -> None:
        """Stop it at once, losing whatever it held."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> Redis:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()
