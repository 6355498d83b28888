"""Phase fan-out: how long a console's « Étape suivante » takes to reach every phone of a world café.

Run from the repository root:  python bench/phases.py [--phones 120] [--async-mode gevent]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from server import Server  # noqa: E402  (tests/server.py: a real `rouages serve` on 127.0.0.1)

PASSWORD = "bench-password-123"
TIMEOUT = 15.0


def organiser_cookie(url: str) -> str:
    """Sign in through the real form and return the session cookie header."""
    http = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', http.get(f"{url}/login", timeout=5).text)[1]
    http.post(f"{url}/login", data={"email": "bench@example.org", "password": PASSWORD, "csrf_token": token},
              timeout=5)
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


async def join_phones(url: str, tables: list[dict], phones: int, listen) -> list[socketio.AsyncClient]:
    """Connect `phones` phones, 20 at a time, each joining a table in turn; `listen(client)` adds its handlers."""
    clients = []

    async def connect(index: int):
        client = socketio.AsyncClient(reconnection=False)
        listen(client)
        await client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        ack = await client.call("join", {"code": tables[index % len(tables)]["code"], "name": f"P{index}"},
                                timeout=TIMEOUT)
        assert ack["ok"], ack
        clients.append(client)

    for start in range(0, phones, 20):
        await asyncio.gather(*(connect(i) for i in range(start, min(phones, start + 20))))
    return clients


async def console_client(url: str) -> socketio.AsyncClient:
    """Connect a signed-in console."""
    console = socketio.AsyncClient(reconnection=False)
    await console.connect(url, transports=["websocket"], headers={"Cookie": organiser_cookie(url)},
                          wait_timeout=TIMEOUT)
    return console


@contextmanager
def demo_world_cafe(async_mode: str):
    """Run a server with the demo event and a bench organiser; yield it, the world café's code and its tables."""
    with tempfile.TemporaryDirectory() as data:
        # Every phone comes from 127.0.0.1, standing for a room of addresses: the per-address limits are off.
        server = Server(Path(data), async_mode=async_mode, extra_env={
            "ROUAGES_LIMIT_WEBSOCKETS_PER_ADDRESS": "0", "ROUAGES_LIMIT_CONNECTS_BURST": "0",
            "ROUAGES_LIMIT_JOINS_BURST": "0", "ROUAGES_LIMIT_POSTS_BURST": "0"})
        server.cli("event", "import", "--demo")
        server.cli("user", "add", "bench@example.org", "--password", PASSWORD)
        code = next(s["code"] for s in json.loads(server.cli("sessions", "demo", "--json").stdout)
                    if s["key"] == "world-cafe-fonctions")
        with server:
            tables = requests.get(f"{server.url}/api/sessions/{code}", timeout=5).json()["session"]["tables"]
            yield server, code, tables


async def run(url: str, code: str, tables: list[dict], phones: int) -> list[dict]:
    """Join `phones` phones at the tables, step through every phase, and time each step's arrival."""
    arrivals: dict[str, list[float]] = {}

    def listen(client):
        @client.on("phase")
        async def on_phase(state):
            arrivals.setdefault(state["phase"]["key"], []).append(time.perf_counter())

    clients = await join_phones(url, tables, phones, listen)
    console = await console_client(url)
    steps = []
    while True:
        sent = time.perf_counter()
        ack = await console.call("phase_set", {"code": code}, timeout=TIMEOUT)
        if not ack["ok"]:
            break
        key = ack["phase"]["key"]
        deadline = time.monotonic() + TIMEOUT
        while len(arrivals.get(key, [])) < phones and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        got = arrivals.get(key, [])
        steps.append({"phase": key, "reached": len(got),
                      "last_phone_ms": round((max(got) - sent) * 1000, 1) if got else None,
                      "median_phone_ms": round((statistics.median(got) - sent) * 1000, 1) if got else None})
        await asyncio.sleep(0.5)
    for client in clients + [console]:
        await client.disconnect()
    return steps


def main() -> None:
    """Start a server with the demo event, run the fan-out, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=120)
    parser.add_argument("--async-mode", choices=["gevent", "eventlet"], default="gevent")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with demo_world_cafe(args.async_mode) as (server, code, tables):
        steps = asyncio.run(run(server.url, code, tables, args.phones))
    print(f"{args.phones} phones at {len(tables)} tables, {args.async_mode}; time from the console's phase_set "
          "to the phones' `phase` event")
    print(f"{'phase':<10} {'reached':>8} {'median ms':>10} {'last ms':>8}")
    for step in steps:
        print(f"{step['phase']:<10} {step['reached']:>8} {step['median_phone_ms']!s:>10} {step['last_phone_ms']!s:>8}")
    if args.json:
        args.json.write_text(json.dumps({"phones": args.phones, "async_mode": args.async_mode, "steps": steps},
                                        indent=2))


if __name__ == "__main__":
    main()
