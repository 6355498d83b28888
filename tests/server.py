"""Run real `rouages` processes on loopback for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROUAGES = [sys.executable, "-m", "app.server"]


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

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run a `rouages` command against this server's data directory."""
        return subprocess.run([*ROUAGES, *args], env=self.env, capture_output=True, text=True, input=input,
                              timeout=60, check=True)

    def start(self, timeout: float = 30) -> Server:
        """Start the server and wait until /healthz answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([*ROUAGES, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT)
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
