"""What the Engine.IO heartbeat costs the server: N idle joined phones, server CPU per ping interval.

    python bench/heartbeat.py --phones 1000 --intervals 20,5 --seconds 30

For each interval it starts a real `rouages serve` (ROUAGES_PING_INTERVAL = ROUAGES_PING_TIMEOUT = the
interval), connects and joins N phones that do nothing but answer pings (a bare asyncio WebSocket client,
so that the generator stays light), waits for the joins to settle, then measures the server's CPU time over
`--seconds` and counts the phones the server dropped. A benchmark: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from server import Server  # noqa: E402

EVENT_FILE = ROOT / "tests" / "data" / "small.yaml"


def ws_frame(text: str, opcode: int = 1) -> bytes:
    """Return one masked client WebSocket frame carrying `text` (payloads under 126 bytes here)."""
    data = text.encode()
    mask = os.urandom(4)
    return bytes((0x80 | opcode, 0x80 | len(data))) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


class IdlePhone(asyncio.Protocol):
    """A joined phone that answers pings and nothing else."""

    def __init__(self):
        self.buffer = bytearray()
        self.texts: asyncio.Queue = asyncio.Queue()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.transport = None
        self.pings = 0
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.closed = True

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.upgraded.set_result(self.buffer.startswith(b"HTTP/1.1 101"))
            del self.buffer[:end + 4]
        while len(self.buffer) >= 2:
            length, head = self.buffer[1] & 0x7F, 2
            if length == 126:
                length, head = int.from_bytes(self.buffer[2:4], "big"), 4
            if len(self.buffer) < head + length:
                return
            payload = bytes(self.buffer[head:head + length])
            del self.buffer[:head + length]
            if payload == b"2":
                self.pings += 1
                self.transport.write(ws_frame("3"))
            else:
                self.texts.put_nowait(payload.decode(errors="replace"))

    async def join(self, port: int, code: str, index: int) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: self, "127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                             f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                             f"Sec-WebSocket-Version: 13\r\n\r\n".encode())
        if not await asyncio.wait_for(self.upgraded, 30):
            raise ConnectionError("no upgrade")
        await asyncio.wait_for(self.texts.get(), 30)  # Engine.IO open
        self.transport.write(ws_frame("40"))
        await asyncio.wait_for(self.texts.get(), 30)  # namespace connected
        self.transport.write(ws_frame("421" + json.dumps(["join", {"code": code, "name": f"P{index}"}])))
        ack = await asyncio.wait_for(self.texts.get(), 30)
        if '"ok":true' not in ack:
            raise ConnectionError(ack[:80])


async def measure(server: Server, code: str, phones: int, seconds: float) -> dict:
    gate = asyncio.Semaphore(20)

    async def one(index: int) -> IdlePhone:
        async with gate:
            phone = IdlePhone()
            await phone.join(server.port, code, index)
            return phone

    clients = await asyncio.gather(*(one(i) for i in range(phones)))
    proc = psutil.Process(server.process.pid)
    await asyncio.sleep(5)  # let the joins' work finish
    before, pings_before, start = proc.cpu_times(), sum(c.pings for c in clients), time.monotonic()
    await asyncio.sleep(seconds)
    after, elapsed = proc.cpu_times(), time.monotonic() - start
    cpu = (after.user + after.system) - (before.user + before.system)
    result = {"phones": phones, "pings_per_second": (sum(c.pings for c in clients) - pings_before) / elapsed,
              "server_cpu_percent": 100 * cpu / elapsed, "dropped": sum(c.closed for c in clients)}
    for client in clients:
        if client.transport is not None:
            client.transport.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--intervals", default="20,5")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    print(f"{'interval':>8} {'phones':>7} {'pings/s':>8} {'server CPU %':>13} {'dropped':>8}")
    for interval in [int(i) for i in args.intervals.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            env = {"ROUAGES_PING_INTERVAL": str(interval), "ROUAGES_PING_TIMEOUT": str(interval),
                   "ROUAGES_LIMIT_WEBSOCKETS_PER_ADDRESS": "0", "ROUAGES_LIMIT_CONNECTS_BURST": "0",
                   "ROUAGES_LIMIT_JOINS_BURST": "0"}
            server = Server(Path(tmp) / "data", extra_env=env)
            server.cli("event", "import", str(EVENT_FILE))
            sessions = json.loads(server.cli("sessions", "petite-rencontre", "--json").stdout)
            code = next(s["code"] for s in sessions if s["key"] == "world-cafe")
            with server:
                r = asyncio.run(measure(server, code, args.phones, args.seconds))
        print(f"{interval:>7}s {r['phones']:>7} {r['pings_per_second']:>8.0f} {r['server_cpu_percent']:>13.1f} "
              f"{r['dropped']:>8}")


if __name__ == "__main__":
    main()
