"""Load benchmark: N phones post ideas to one session while a wall watches; measure throughput and latency.

Run from the repository root:  python bench/phones.py [--phones 100] [--scenario rate|burst|steady|soak]
                                                    [--rate 50] [--duration 20] [--curve 100,200,400,800]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import multiprocessing as mp
import os
import platform
import queue
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, namedtuple
from importlib import metadata
from pathlib import Path

import psutil

try:
    import aiohttp  # noqa: F401  (the python-socketio phones and the wall need it)
except ImportError:
    sys.exit("bench/phones.py needs the benchmark extras: pip install -e '.[bench]'")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from server import Server  # noqa: E402  (tests/server.py: a real `rouages serve` on 127.0.0.1)

EVENT_FILE = ROOT / "tests" / "data" / "small.yaml"
SESSION_KEY = "world-cafe"
TAGS = {"function": "animation"}
BURST_WINDOW = 10.0  # seconds in which every phone posts once in the burst scenario
SOAK_MINUTES = 20.0
STEADY_MINUTES = 5.0  # default of --minutes for the steady scenario
DRAIN = 5.0  # seconds after the last post is sent during which the wall may still see acked posts
CONNECT_TIMEOUT = 15.0
CALL_TIMEOUT = 10.0
CONNECT_CONCURRENCY = 10  # per generator process
PHONES_PER_PROC = 250
START_LEAD = 1.0  # seconds between the parent's "go" and the shared start instant
SETTLE_MAX = 60.0  # seconds to wait at most for the server to go idle between curve steps
RSS_PERIOD = 0.5
RSS_MAX_SAMPLES = 4 * 3600 * 2  # four hours of samples at most
WORKER_IDLE_LIMIT = 900.0  # a worker that hears nothing from the parent for this long closes its phones and exits
MAX_STEPS = 64

# CLOCK_MONOTONIC is one clock for the whole machine on Linux, so the send times taken in the generator processes
# and the receive times taken by the wall in the parent process are comparable.
now = time.monotonic


# ---------------------------------------------------------------------------------------------------------------
# Figures


def percentile(values: list[float], p: float) -> float | None:
    """Return the nearest-rank percentile of values, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def ms(value: float | None) -> float | None:
    """Return seconds as milliseconds rounded to 0.1, keeping None."""
    return None if value is None else round(value * 1000, 1)


def spread(values: list[float]) -> dict:
    """Return p50, p95, p99 and max of latencies in milliseconds."""
    return {f"p{p}": ms(percentile(values, p)) for p in (50, 95, 99)} | {"max": ms(max(values, default=None))}


def mib(value: float | None) -> float | None:
    return None if value is None else round(value / 2**20, 1)


# ---------------------------------------------------------------------------------------------------------------
# Schedules: (offset in seconds from the shared start, phone index), in time order


def rate_plan(phones: int, rate: float, duration: float) -> list[tuple[float, int]]:
    """Open loop: phones take turns at `rate` posts/s for `duration` seconds."""
    return [(i / rate, i % phones) for i in range(int(rate * duration))]


def burst_plan(phones: int, seed: int) -> list[tuple[float, int]]:
    """Like the end of a round: each phone sends its last idea at a random moment of the window."""
    rng = random.Random(seed)
    return sorted((rng.uniform(0, BURST_WINDOW), phone) for phone in range(phones))


def steady_plan(phones: int, interval: float, minutes: float, seed: int) -> list[tuple[float, int]]:
    """Each phone posts every `interval` seconds, from a random phase, for `minutes` minutes."""
    rng = random.Random(seed)
    span = minutes * 60
    plan = []
    for phone in range(phones):
        t = rng.uniform(0, interval)
        while t < span:
            plan.append((t, phone))
            t += interval
    return sorted(plan)


# ---------------------------------------------------------------------------------------------------------------
# Phones: two clients that send the same frames to the server


class SioPhone:
    """A phone as python-socketio's AsyncClient: it decodes every broadcast, like a real phone's JavaScript."""

    def __init__(self, url: str, on_disconnect):
        import socketio

        self.url = url
        self.client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.client.on("disconnect", lambda *_: on_disconnect())
        self.client.on("post", self._post)
        self.broadcasts = 0

    async def _post(self, _post):
        self.broadcasts += 1

    async def connect(self) -> None:
        await asyncio.wait_for(self.client.connect(self.url, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT),
                               CONNECT_TIMEOUT)

    async def call(self, event: str, data: dict, timeout: float):
        return await self.client.call(event, data, timeout=timeout)

    async def disconnect(self) -> None:
        await self.client.disconnect()


def ws_frame(text: str, opcode: int = 1) -> bytes:
    """Return one masked client WebSocket frame (RFC 6455) carrying `text`."""
    data = text.encode()
    n = len(data)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    masked = (int.from_bytes(data, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
    return header + mask + masked


class LeanPhone(asyncio.Protocol):
    """A phone speaking just enough WebSocket, Engine.IO 4 and Socket.IO 5 over a bare asyncio connection.

    It answers pings, matches acks to calls, and counts broadcasts without decoding them, all inside
    data_received (no task, future or JSON per broadcast). The server sends, and the kernel carries, exactly the
    same frames as to a SioPhone, but the generator spends far less CPU per broadcast, so more of the machine is
    left to the server.
    """

    def __init__(self, url: str, on_disconnect):
        host_port = url.split("://", 1)[1]
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        self.on_disconnect = on_disconnect
        self.transport = None
        self.buffer = bytearray()
        self.upgraded: asyncio.Future | None = None
        self.early: asyncio.Queue | None = None  # text frames before the namespace is connected
        self.ready = False
        self.pending: dict[int, asyncio.Future] = {}
        self.next_id = 0
        self.broadcasts = 0
        self.closed = False

    # asyncio.Protocol

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        if not self.upgraded.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            del buf[:end + 4]
            if head.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_result(True)
            else:
                self.upgraded.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace")))
                return
        pos, size = 0, len(buf)
        while size - pos >= 2:  # bounded by the bytes received
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if size - pos < head + length:
                break
            self._frame(b0 & 0x0F, buf[pos + head:pos + head + length])
            pos += head + length
        if pos:
            del buf[:pos]

    def connection_lost(self, exc) -> None:
        self.closed = True
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionError("disconnected"))
        if self.upgraded is not None and not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed during the handshake"))
        self.on_disconnect()

    def _frame(self, opcode: int, payload: bytearray) -> None:
        if opcode == 1:
            if payload[:2] == b"42" and self.ready:
                self.broadcasts += 1
            elif payload == b"2":
                self.transport.write(ws_frame("3"))
            elif payload[:2] == b"43":
                bracket = payload.index(b"[")
                future = self.pending.pop(int(payload[2:bracket]), None)
                if future is not None and not future.done():
                    future.set_result(json.loads(payload[bracket:].decode())[0])
            elif not self.ready:
                self.early.put_nowait(payload.decode())
        elif opcode == 9:
            self.transport.write(ws_frame(payload.decode(errors="replace"), opcode=10))
        elif opcode == 8 and self.transport is not None:
            self.transport.close()

    # The phone

    async def _early_text(self) -> str:
        return await asyncio.wait_for(self.early.get(), CONNECT_TIMEOUT)

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        self.upgraded, self.early = loop.create_future(), asyncio.Queue()
        await asyncio.wait_for(loop.create_connection(lambda: self, self.host, self.port), CONNECT_TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n\r\n".encode())
        await asyncio.wait_for(self.upgraded, CONNECT_TIMEOUT)
        opening = await self._early_text()
        if not opening.startswith("0{"):
            raise ConnectionError(f"no Engine.IO open packet: {opening[:40]!r}")
        self.transport.write(ws_frame("40"))
        text = await self._early_text()
        if not text.startswith("40"):
            raise ConnectionError(f"namespace refused: {text[:80]!r}")
        self.ready = True

    async def call(self, event: str, data: dict, timeout: float):
        if self.closed:
            raise ConnectionError("disconnected")
        self.next_id += 1
        ack_id = self.next_id
        future = asyncio.get_running_loop().create_future()
        self.pending[ack_id] = future
        try:
            self.transport.write(ws_frame(f"42{ack_id}" + json.dumps([event, data], separators=(",", ":"))))
            return await asyncio.wait_for(future, timeout)
        finally:
            self.pending.pop(ack_id, None)

    async def disconnect(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(ws_frame("41"))
            self.transport.write(bytes((0x88, 0x80)) + os.urandom(4))  # a masked close frame without payload
            self.transport.close()


# ---------------------------------------------------------------------------------------------------------------
# Generator worker processes (multiprocessing, spawn): each holds some phones in its own event loop


class WorkerState:
    def __init__(self):
        self.errors: Counter = Counter()
        self.disconnects = 0

    def disconnected(self) -> None:
        self.disconnects += 1


async def connect_phone(kind: str, url: str, code: str, index: int, state: WorkerState, gate: asyncio.Semaphore):
    """Connect and join one phone; return it, or None if it failed."""
    async with gate:
        phone = SioPhone(url, state.disconnected) if kind == "socketio" else LeanPhone(url, state.disconnected)
        try:
            await phone.connect()
            ack = await phone.call("join", {"code": code, "name": f"Phone {index}"}, CALL_TIMEOUT)
        except Exception as exc:  # a phone that cannot join is counted, not fatal
            state.errors[f"join:{type(exc).__name__}"] += 1
            await close_all([phone])
            return None
        if not ack.get("ok"):
            state.errors[f"join:{ack.get('error', {}).get('code')}"] += 1
            await close_all([phone])
            return None
        return phone


async def close_all(clients: list) -> None:
    """Disconnect every client, each within a bounded time."""
    async def close(client):
        try:
            await asyncio.wait_for(client.disconnect(), 5)
        except Exception:
            pass

    await asyncio.gather(*(close(c) for c in clients if c is not None))


async def send_post(phone, code: str, client_id: str, record: list, errors: Counter) -> None:
    """Post one idea; fill record = [scheduled, sent, acked, seq]."""
    payload = {"code": code, "client_id": client_id, "text": f"Idée {client_id} : mutualiser un poste d'animation",
               "tags": TAGS}
    record[1] = now()
    try:
        ack = await phone.call("post", payload, CALL_TIMEOUT)
    except Exception as exc:
        errors[f"post:{type(exc).__name__}"] += 1
        return
    if ack.get("ok"):
        record[2] = now()
        record[3] = ack["post"]["seq"]
    else:
        errors[f"post:{ack.get('error', {}).get('code')}"] += 1


async def run_plan(phones: list, code: str, plan: list, start: float, prefix: str, errors: Counter, stop):
    """Send this worker's share of a plan on schedule, without waiting for acks (open loop); stop early if told."""
    records: dict[str, list] = {}
    tasks = []
    for n, offset, local in plan:  # bounded by the plan's length
        delay = start + offset - now()
        while delay > 0 and not stop.is_set():
            await asyncio.sleep(min(delay, 0.5))
            delay = start + offset - now()
        if stop.is_set():
            break
        client_id = f"b{prefix}-{n:07d}"  # n is the post's rank in the whole plan: unique across the workers
        record = records[client_id] = [start + offset, None, None, None]
        tasks.append(asyncio.create_task(send_post(phones[local], code, client_id, record, errors)))
    end = now()
    # Each call is bounded by CALL_TIMEOUT; the outer bound only guards against a stuck task.
    deadline = now() + CALL_TIMEOUT + 5
    while tasks and now() < deadline and not stop.is_set():
        _, pending = await asyncio.wait(tasks, timeout=0.5)
        if not pending:
            break
    return [(cid, *r) for cid, r in records.items()], end


async def next_command(commands, parent_pid: int, stop):
    """Wait for the parent's next command; None if told to stop, or the parent is gone or silent for too long."""
    loop = asyncio.get_running_loop()
    deadline = now() + WORKER_IDLE_LIMIT
    while now() < deadline and not stop.is_set():
        try:
            return await loop.run_in_executor(None, commands.get, True, 1.0)
        except queue.Empty:
            if os.getppid() != parent_pid:
                return None
    return None


async def worker_async(wid: int, url: str, code: str, indices: list[int], kind: str, commands, results,
                       stop, parent_pid: int) -> None:
    state = WorkerState()
    phones: list = []
    try:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        t0 = now()
        phones = list(await asyncio.gather(*(connect_phone(kind, url, code, i, state, gate) for i in indices)))
        live = [p for p in phones if p is not None]
        results.put(("ready", wid, len(live), dict(state.errors), now() - t0))
        # Posts of phones that failed to join go to another live phone, so the offered load stays the same.
        usable = [p if p is not None else live[i % len(live)] for i, p in enumerate(phones)] if live else []
        for _ in range(MAX_STEPS):
            command = await next_command(commands, parent_pid, stop)
            if command is None or command[0] == "close":
                break
            _, step, start, plan, prefix = command
            state.errors.clear()
            disconnects0, cpu0 = state.disconnects, time.process_time()
            records, end = await run_plan(usable, code, plan, start, prefix, state.errors, stop) if usable else ([], start)
            results.put(("result", wid, step, records, dict(state.errors), state.disconnects - disconnects0, end,
                         time.process_time() - cpu0, sum(p.broadcasts for p in live)))
    finally:
        await close_all(phones)
        results.put(("closed", wid))


def worker_main(wid: int, url: str, code: str, indices: list[int], kind: str, commands, results, stop,
                parent_pid: int) -> None:
    """Entry point of a generator process."""
    # Ctrl+C reaches the whole process group: the parent handles it and tells the workers to close.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(worker_async(wid, url, code, indices, kind, commands, results, stop, parent_pid))
    except Exception as exc:
        results.put(("failed", wid, repr(exc)))


# ---------------------------------------------------------------------------------------------------------------
# The parent: servers, wall, orchestration


class RssSampler(threading.Thread):
    """Sample a process's resident memory every RSS_PERIOD seconds in the background."""

    def __init__(self, proc: psutil.Process):
        super().__init__(daemon=True)
        self.proc = proc
        self.samples: list[tuple[float, int]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        for _ in range(RSS_MAX_SAMPLES):
            try:
                self.samples.append((now(), self.proc.memory_info().rss))
            except psutil.Error:
                return
            if self.halt.wait(RSS_PERIOD):
                return

    def current(self) -> int | None:
        try:
            return self.proc.memory_info().rss
        except psutil.Error:
            return None

    def peak(self, t0: float = 0.0, t1: float = math.inf) -> int | None:
        return max((rss for t, rss in list(self.samples) if t0 <= t <= t1), default=None)

    def timeline(self, t0: float, t1: float, every: float = 60.0) -> list[tuple[float, float]]:
        """Return (seconds since t0, RSS MiB) about every `every` seconds between t0 and t1."""
        out, mark = [], t0
        for t, rss in list(self.samples):
            if t0 <= t <= t1 and t >= mark:
                out.append((round(t - t0, 1), mib(rss)))
                mark += every
        return out


def machine_busy() -> float:
    """Return the CPU seconds all cores of the machine spent busy (or stolen by the hypervisor) since boot."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + t.steal


def cpu_of(proc: psutil.Process) -> float:
    return sum(sys_cpu_of(proc, both=True))


def sys_cpu_of(proc: psutil.Process, both: bool = False):
    """Return the process's kernel CPU seconds (or (user, kernel) with both=True)."""
    try:
        times = proc.cpu_times()
    except psutil.Error:
        return (0.0, 0.0) if both else 0.0
    return (times.user, times.system) if both else times.system


class Fleet:
    """K generator processes holding the phones, and the wall in this process's event loop."""

    def __init__(self, urls: list[str], code: str, args):
        # Generator process k connects its phones to worker k mod N; the wall watches the first worker.
        self.urls, self.url, self.code, self.args = urls, urls[0], code, args
        self.procs: list = []
        self.commands: list = []
        self.results = None
        self.stop = None
        self.seen: dict[str, float] = {}
        self.duplicates: Counter = Counter()  # by post id prefix, i.e. by step
        self.wall = None
        self.wall_disconnects = 0
        self.connected = 0
        self.join_errors: Counter = Counter()
        self.connect_s = 0.0

    async def _get(self, timeout: float):
        try:
            return await asyncio.get_running_loop().run_in_executor(None, self.results.get, True, timeout)
        except queue.Empty:
            return None

    async def _collect(self, kind: str, count: int, timeout: float, step: int | None = None) -> list:
        """Collect `count` messages of a kind from the workers within `timeout` seconds."""
        got, deadline = [], now() + timeout
        while len(got) < count and now() < deadline:
            message = await self._get(min(1.0, max(0.01, deadline - now())))
            if message is None:
                if not any(p.is_alive() for p in self.procs):
                    break
                continue
            if message[0] == "failed":
                raise RuntimeError(f"generator process {message[1]} failed: {message[2]}")
            if message[0] == kind and (step is None or message[2] == step):
                got.append(message)
        return got

    async def open(self) -> None:
        ctx = mp.get_context("spawn")
        k = self.args.procs
        self.results = ctx.Queue()
        self.stop = ctx.Event()  # set when the run ends or is interrupted: workers drop what they are doing
        t0 = now()
        for wid in range(k):
            commands = ctx.Queue()
            indices = list(range(wid, self.args.phones, k))  # phone i lives in process i % K as its (i // K)-th
            proc = ctx.Process(target=worker_main, name=f"phones-{wid}", daemon=True,
                               args=(wid, self.urls[wid % len(self.urls)], self.code, indices,
                                     self.args.phone_client, commands,
                                     self.results, self.stop, os.getpid()))
            proc.start()
            self.procs.append(proc)
            self.commands.append(commands)
        ready = await self._collect("ready", k, timeout=60 + self.args.phones * 0.2)
        if len(ready) < k:
            raise RuntimeError(f"only {len(ready)} of {k} generator processes got their phones connected")
        for _, _, connected, errors, _ in ready:
            self.connected += connected
            self.join_errors.update(errors)
        await self._connect_wall()
        self.connect_s = now() - t0
        if not self.connected:
            raise RuntimeError(f"no phone could join: {dict(self.join_errors)}")

    async def _connect_wall(self) -> None:
        import socketio

        client = socketio.AsyncClient(reconnection=False, handle_sigint=False)

        @client.on("post")
        async def on_post(post):
            t = now()
            cid = post.get("client_id")
            if cid in self.seen:
                self.duplicates[str(cid).split("-", 1)[0]] += 1
            else:
                self.seen[cid] = t

        @client.event
        async def disconnect(*_):
            self.wall_disconnects += 1

        await asyncio.wait_for(client.connect(self.url, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT),
                               CONNECT_TIMEOUT)
        self.wall = client
        ack = await client.call("watch", {"code": self.code}, timeout=CALL_TIMEOUT)
        if not ack.get("ok"):
            raise RuntimeError(f"watch refused: {ack}")

    async def step(self, step: int, plan: list[tuple[float, int]]) -> dict:
        """Run one plan across the workers; return the raw figures of the step."""
        k = self.args.procs
        prefix = f"{secrets.token_hex(3)}s{step}"
        shares: list[list] = [[] for _ in range(k)]
        for n, (offset, phone) in enumerate(plan):
            shares[phone % k].append((n, offset, phone // k))
        wall_disconnects0 = self.wall_disconnects
        start = now() + START_LEAD
        for wid in range(k):
            self.commands[wid].put(("run", step, start, shares[wid], prefix))
        span = plan[-1][0] if plan else 0.0
        replies = await self._collect("result", k, timeout=START_LEAD + span + CALL_TIMEOUT + 60, step=step)
        if len(replies) < k:
            raise RuntimeError(f"only {len(replies)} of {k} generator processes reported step {step}")
        records: dict[str, tuple] = {}
        errors: Counter = Counter()
        end, disconnects, worker_cpu, broadcasts = start, 0, [], 0
        for _, _, _, recs, errs, disc, wend, cpu, bcast in replies:
            for cid, *rest in recs:
                records[cid] = tuple(rest)
            errors.update(errs)
            disconnects += disc
            end = max(end, wend)
            worker_cpu.append(cpu)
            broadcasts += bcast
        # Wait until the wall has seen every acked post, or DRAIN seconds after the last send.
        acked = [cid for cid, r in records.items() if r[2] is not None]
        deadline = end + DRAIN
        while now() < deadline and not all(cid in self.seen for cid in acked):
            await asyncio.sleep(0.05)
        return {"prefix": prefix, "start": start, "end": end, "stop": now(), "records": records, "errors": errors,
                "disconnects": disconnects + self.wall_disconnects - wall_disconnects0, "worker_cpu": worker_cpu}

    async def close(self) -> None:
        """Tell the workers to close their phones, then make sure they are gone."""
        if self.stop is not None:
            self.stop.set()
        for commands in self.commands:
            commands.put(("close",))
        if self.wall is not None:
            try:
                await asyncio.wait_for(self.wall.disconnect(), 5)
            except Exception:
                pass
        if self.procs:
            await self._collect("closed", sum(p.is_alive() for p in self.procs), timeout=20)
        reap(self.procs)


def reap(procs: list) -> None:
    """Join the worker processes, terminating any that linger."""
    for proc in procs:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)


def summarise(raw: dict, fleet: Fleet, label: str, offered_rate: float | None, duration: float) -> dict:
    """Turn the raw records of a step into the figures reported."""
    records = raw["records"]
    start, end, stop = raw["start"], raw["end"], raw["stop"]
    seen = {cid: t for cid, t in fleet.seen.items() if cid.startswith(f"b{raw['prefix']}-")}
    acked = {cid: r for cid, r in records.items() if r[2] is not None}
    ack_lat = [r[2] - r[1] for r in acked.values()]
    wall_lat = [t - records[cid][1] for cid, t in seen.items() if cid in records and records[cid][1] is not None]
    lost = [cid for cid in acked if cid not in seen]
    send_lag = [r[1] - r[0] for r in records.values() if r[1] is not None]
    last_ack = max((r[2] for r in acked.values()), default=start)
    last_seen = max(seen.values(), default=start)
    seqs = sorted(r[3] for r in acked.values())
    return {
        "scenario": label,
        "offered_rate": offered_rate,
        "duration_s": round(duration, 1),
        "sent": sum(r[1] is not None for r in records.values()),
        "acked": len(acked),
        "seen_by_wall": len(seen),
        "duplicates_on_wall": fleet.duplicates[f"b{raw['prefix']}"],
        "unexpected_on_wall": sum(cid not in records for cid in seen),
        "lost": len(lost),
        "errors": sum(raw["errors"].values()),
        "error_kinds": dict(raw["errors"]),
        "disconnects_during_load": raw["disconnects"],
        "seq_gapless": seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True,
        "achieved_posts_per_s": round(len(acked) / (last_ack - start), 1) if acked and last_ack > start else 0.0,
        "wall_posts_per_s": round(len(seen) / (last_seen - start), 1) if seen and last_seen > start else 0.0,
        "send_window_s": round(end - start, 2),
        "elapsed_s": round(stop - start, 2),
        "send_lag_ms": {"p50": ms(percentile(send_lag, 50)), "p99": ms(percentile(send_lag, 99)),
                        "max": ms(max(send_lag, default=None))},
        "ack_latency_ms": spread(ack_lat),
        "wall_latency_ms": spread(wall_lat),
    }


async def settle(proc: psutil.Process, limit: float = SETTLE_MAX) -> None:
    """Wait until the server uses under 10 % of a core over a second (its backlog is flushed), `limit` s at most."""
    deadline = now() + limit
    while now() < deadline:
        c0, t0 = cpu_of(proc), now()
        await asyncio.sleep(1.0)
        if cpu_of(proc) - c0 < 0.1 * (now() - t0):
            return


def steps_of(args) -> list[tuple[str, float | None, float, list]]:
    """Return (label, offered rate, duration, plan) of every step the options ask for."""
    if args.curve:
        return [(f"rate {rate:g}/s", rate, args.duration, rate_plan(args.phones, rate, args.duration))
                for rate in args.curve]
    if args.scenario == "burst":
        return [("burst", args.phones / BURST_WINDOW, BURST_WINDOW, burst_plan(args.phones, args.seed))]
    if args.scenario in ("steady", "soak"):
        return [(f"{args.scenario}: every {args.interval:g} s for {args.minutes:g} min",
                 args.phones / args.interval, args.minutes * 60,
                 steady_plan(args.phones, args.interval, args.minutes, args.seed))]
    return [(f"rate {args.rate:g}/s", args.rate, args.duration, rate_plan(args.phones, args.rate, args.duration))]


def sustains(step: dict, target_ms: float) -> bool:
    """Whether a step kept up: nearly all posts acked at the offered rate, none lost, p95 post→wall within target."""
    p95 = step["wall_latency_ms"]["p95"]
    return (step["sent"] > 0 and step["acked"] == step["sent"] and step["lost"] == 0 and step["errors"] == 0
            and step["achieved_posts_per_s"] >= 0.95 * step["offered_rate"] and p95 is not None and p95 <= target_ms)


def start_profiler(pid: int, out: Path, seconds: float) -> subprocess.Popen | None:
    """Start py-spy on the server for `seconds`, writing collapsed stacks to `out`; None if py-spy is missing."""
    exe = shutil.which("py-spy") or (str(Path(sys.executable).parent / "py-spy")
                                     if (Path(sys.executable).parent / "py-spy").exists() else None)
    if exe is None:
        print("warning: py-spy not found (pip install py-spy); no profile taken", file=sys.stderr)
        return None
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
                             "--format", "raw", "--rate", "100", "--nonblocking", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_top(path: Path, top: int = 15) -> dict:
    """Summarise py-spy collapsed stacks: the functions with the most samples on CPU, self and inclusive."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f.split(" (", 1)[0] + " (" + f.split(" (", 1)[1].split(":")[0].rsplit("/", 1)[-1] + ")"
                  if " (" in f else f for f in stack.split(";")]
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n

    def share(c):
        return [(f, round(100 * n / total, 1)) for f, n in c.most_common(top)] if total else []

    return {"samples": total, "self_pct": share(own), "inclusive_pct": share(inclusive)}


async def bench_target(target: str, srv, code: str, args, workdir: Path) -> dict:
    """Connect the phones and the wall to one server, run every step, and return the figures."""
    pids = srv.pids if isinstance(srv, Workers) else [srv.process.pid]
    proc = ProcGroup([psutil.Process(pid) for pid in pids])
    sampler = RssSampler(proc)
    sampler.start()
    fleet = Fleet(srv.urls if isinstance(srv, Workers) else [srv.url], code, args)
    out: dict = {"target": target, "steps": []}
    profiler = None
    try:
        await fleet.open()
        out |= {"phones_asked": args.phones, "phones_connected": fleet.connected, "procs": args.procs,
                "connect_join_s": round(fleet.connect_s, 2), "join_errors": dict(fleet.join_errors)}
        skip = False
        for n, (label, rate, duration, plan) in enumerate(steps_of(args)):
            if skip:
                out["steps"].append({"scenario": label, "offered_rate": rate, "skipped": True})
                continue
            await settle(proc)  # the joins, or the previous step's backlog, are over
            if args.py_spy and target == "rouages" and n == 0:
                profiler = start_profiler(proc.pid, args.py_spy, min(duration, args.py_spy_seconds) + START_LEAD)
            rss0, cpu0, busy0, me0 = sampler.current(), cpu_of(proc), machine_busy(), time.process_time()
            sys0 = sys_cpu_of(proc)
            t0 = now()
            raw = await fleet.step(n, plan)
            rss1, cpu1, busy1, me1 = sampler.current(), cpu_of(proc), machine_busy(), time.process_time()
            sys1 = sys_cpu_of(proc)
            step = summarise(raw, fleet, label, rate, duration)
            server_cpu, gen_cpu = cpu1 - cpu0, sum(raw["worker_cpu"]) + (me1 - me0)
            elapsed = raw["stop"] - raw["start"]
            step |= {
                "server_cpu_s": round(server_cpu, 2),
                "server_cpu_kernel_s": round(sys1 - sys0, 2),
                "server_cpu_pct": round(100 * server_cpu / elapsed, 1) if elapsed > 0 else None,
                "generator_cpu_s": round(gen_cpu, 2),
                "generator_cpu_max_proc_s": round(max(raw["worker_cpu"], default=0.0), 2),
                # Whatever else ran on the machine meanwhile competed for the same cores and skews every figure.
                "other_cpu_s": round(max(0.0, busy1 - busy0 - server_cpu - gen_cpu), 2),
                "rss_start_mib": mib(rss0), "rss_end_mib": mib(rss1),
                "rss_growth_pct": round(100 * (rss1 - rss0) / rss0, 1) if rss0 and rss1 else None,
                "server_peak_rss_mib": mib(sampler.peak(t0, now())),
            }
            if args.scenario in ("steady", "soak") and not args.curve:
                step["rss_timeline_mib"] = sampler.timeline(raw["start"], raw["stop"])
            out["steps"].append(step)
            p95 = step["wall_latency_ms"]["p95"]
            if args.curve and (p95 is None or p95 > args.curve_stop_ms
                               or step["achieved_posts_per_s"] < 0.5 * rate):
                skip = True  # saturated: higher rates would only pile up a backlog of minutes
    finally:
        await fleet.close()
        sampler.halt.set()
        sampler.join(timeout=2)
        if profiler is not None:
            try:
                profiler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                profiler.kill()
    out["server_peak_rss_mib"] = mib(sampler.peak())
    if profiler is not None and args.py_spy.exists():
        out["profile"] = profile_top(args.py_spy)
    return out


class BareServer(Server):
    """bench/bare_server.py, the bare Flask-SocketIO ceiling, run as a subprocess on 127.0.0.1 and a free port."""

    def __init__(self, log: Path, async_mode: str = "gevent", queue: list[str] | None = None):
        super().__init__(Path(log).parent, async_mode=async_mode)
        self.async_mode = async_mode
        self.log = Path(log)
        self.queue = queue or []  # --message-queue, --channel, --worker, --workers when one of several

    def command(self) -> list[str]:
        return [sys.executable, str(ROOT / "bench" / "bare_server.py"), "--port", str(self.port),
                "--async-mode", self.async_mode, *self.queue]


CpuTimes = namedtuple("CpuTimes", "user system")
MemoryInfo = namedtuple("MemoryInfo", "rss")


class ProcGroup:
    """Several server processes seen as one: summed CPU times and resident memory."""

    def __init__(self, procs: list[psutil.Process]):
        self.procs = procs
        self.pid = procs[0].pid

    def cpu_times(self):
        times = [p.cpu_times() for p in self.procs]
        return CpuTimes(sum(t.user for t in times), sum(t.system for t in times))

    def memory_info(self):
        return MemoryInfo(sum(p.memory_info().rss for p in self.procs))


class Workers:
    """N `rouages serve` workers on one PostgreSQL database, joined by Redis, as the several-workers set-up."""

    def __init__(self, tmp: Path, args):
        from databases import Databases  # tests/databases.py: a fresh PostgreSQL database

        self.databases = Databases(tmp)
        os.environ["ROUAGES_TEST_DB"] = "postgresql"
        database = self.databases.empty_url()
        env = {**limits_env(args), "ROUAGES_DATABASE_URL": database, "ROUAGES_MESSAGE_QUEUE": args.redis,
               "ROUAGES_MESSAGE_QUEUE_CHANNEL": f"rouages-bench-{secrets.token_hex(4)}"}
        self.servers = [Server(tmp / f"w{i}", async_mode=args.async_mode, extra_env=env)
                        for i in range(args.workers)]
        self.log = self.servers[0].log

    def cli(self, *argv: str):
        return self.servers[0].cli(*argv)

    def start(self) -> None:
        for server in self.servers:
            server.start()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.databases.drop_all()

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    @property
    def pids(self) -> list[int]:
        return [server.process.pid for server in self.servers]


class BareWorkers(Workers):
    """N bare servers joined by the same Redis as Rouages' workers: the ceiling of the several-workers set-up."""

    def __init__(self, tmp: Path, args):
        channel = f"bare-bench-{secrets.token_hex(4)}"
        self.servers = [BareServer(tmp / f"bare{i}.log", args.async_mode, [
            "--message-queue", args.redis, "--channel", channel, "--worker", str(i), "--workers", str(args.workers)])
            for i in range(args.workers)]
        self.log = self.servers[0].log

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def limits_env(args) -> dict:
    """Per-address limits off: every generated phone comes from 127.0.0.1, standing for a thousand addresses.

    The per-participant post limit stays as deployed, except for a saturation curve, where each phone posts
    far faster than a person does.
    """
    env = {"ROUAGES_LIMIT_WEBSOCKETS_PER_ADDRESS": "0", "ROUAGES_LIMIT_CONNECTS_BURST": "0",
           "ROUAGES_LIMIT_JOINS_BURST": "0"}
    if args.curve:
        env["ROUAGES_LIMIT_POSTS_BURST"] = "0"
    return env


def start_server(target: str, args, tmp: Path):
    """Start Rouages (with the test event imported) or the bare server; return (server, session code)."""
    if target == "rouages":
        srv = Workers(tmp, args) if args.workers > 1 else \
            Server(tmp / "data", async_mode=args.async_mode, extra_env=limits_env(args))
        srv.cli("event", "import", str(EVENT_FILE))
        sessions = json.loads(srv.cli("sessions", "petite-rencontre", "--json").stdout)
        code = next(s["code"] for s in sessions if s["key"] == SESSION_KEY)
        return srv, code
    if args.workers > 1:
        return BareWorkers(tmp, args), "BARE01"
    return BareServer(tmp / "bare.log", async_mode=args.async_mode), "BARE01"


def log_errors(srv) -> list[str]:
    try:
        text = srv.log.read_text(errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if "ERROR" in line or "Traceback" in line]


async def bench(args) -> dict:
    """Run the asked steps against Rouages, then (unless told not to) against the bare server."""
    # SIGTERM cancels the run like Ctrl+C does, so the workers are closed and the servers stopped.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    targets = ["rouages", "bare"] if args.compare_bare else ["rouages"]
    out = {}
    for target in targets:
        with tempfile.TemporaryDirectory(prefix=f"rouages-bench-{target}-") as tmp:
            srv, code = start_server(target, args, Path(tmp))
            try:
                srv.start()
                out[target] = await bench_target(target, srv, code, args, Path(tmp))
            finally:
                srv.stop()
            out[target]["server_log_errors"] = log_errors(srv)[:5]
        if target != targets[-1]:
            await asyncio.sleep(2)  # let the machine go quiet between the two servers
    return out


# ---------------------------------------------------------------------------------------------------------------
# Reporting


def ratio(a, b) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def compare(results: dict, args) -> dict:
    """Rouages against the bare server: sustained posts/s and p95 post→wall, and the curve's saturation points."""
    if "bare" not in results:
        return {}
    out = {}
    r_steps, b_steps = results["rouages"]["steps"], results["bare"]["steps"]
    if not args.curve:
        r, b = r_steps[0], b_steps[0]
        out["posts_per_s_ratio"] = ratio(r["achieved_posts_per_s"], b["achieved_posts_per_s"])
        out["p95_wall_ratio"] = ratio(r["wall_latency_ms"]["p95"], b["wall_latency_ms"]["p95"])
        return out
    for name, steps in (("rouages", r_steps), ("bare", b_steps)):
        ok = [s for s in steps if not s.get("skipped") and sustains(s, args.p95_target)]
        best = max(ok, key=lambda s: s["offered_rate"], default=None)
        out[f"{name}_max_sustained_offered"] = best["offered_rate"] if best else None
        out[f"{name}_max_sustained_achieved"] = best["achieved_posts_per_s"] if best else None
    out["sustained_ratio"] = ratio(out["rouages_max_sustained_achieved"], out["bare_max_sustained_achieved"])
    return out


def lat(d: dict) -> str:
    return " / ".join("-" if d[k] is None else f"{d[k]:.1f}" for k in ("p50", "p95", "p99", "max"))


def step_rows(step: dict) -> list[tuple[str, str]]:
    if step.get("skipped"):
        return [("offered load", step["scenario"]), ("result", "not run: a lower rate already saturated")]
    return [
        ("offered load", f"{step['scenario']} ({step['offered_rate']:.1f} posts/s for {step['duration_s']:g} s)"),
        ("posts sent / acked / seen by wall", f"{step['sent']} / {step['acked']} / {step['seen_by_wall']}"),
        ("duplicates / unexpected on wall", f"{step['duplicates_on_wall']} / {step['unexpected_on_wall']}"),
        (f"lost (acked, unseen after {DRAIN:g} s)", str(step["lost"])),
        ("errors", f"{step['errors']} {step['error_kinds'] or ''}".strip()),
        ("disconnects during load", str(step["disconnects_during_load"])),
        ("achieved posts/s (acked / on wall)", f"{step['achieved_posts_per_s']} / {step['wall_posts_per_s']}"),
        ("ack latency ms p50/p95/p99/max", lat(step["ack_latency_ms"])),
        ("post→wall latency ms p50/p95/p99/max", lat(step["wall_latency_ms"])),
        ("generator send lag ms p50/p99/max", " / ".join("-" if v is None else f"{v:.1f}"
                                                         for v in step["send_lag_ms"].values())),
        ("server CPU s (load + drain)", f"{step['server_cpu_s']} ({step['server_cpu_pct']}% of one core; "
                                        f"kernel {step['server_cpu_kernel_s']})"),
        ("server RSS MiB start / end / peak", f"{step['rss_start_mib']} / {step['rss_end_mib']} / "
                                              f"{step['server_peak_rss_mib']} ({step['rss_growth_pct']:+}%)"
         if step["rss_growth_pct"] is not None else "-"),
        ("generator CPU s (all procs; busiest)", f"{step['generator_cpu_s']}; {step['generator_cpu_max_proc_s']}"),
        ("other processes' CPU s", str(step["other_cpu_s"])),
    ]


def table(report: dict) -> str:
    """Render the figures: one column per server, one block per step, then the comparison."""
    args, results = report["args"], report["results"]
    names = list(results)
    lines = [f"runtime {args['async_mode']}; machine: {report['machine']['nproc']} cpu, {report['machine']['cpu']}; "
             f"{args['phones']} phones in {args['procs']} generator process(es), {args['phone_client']} client"]
    head = [("", names)]
    head.append(("phones connected (connect+join s)",
                 [f"{results[n]['phones_connected']} / {results[n]['phones_asked']} ({results[n]['connect_join_s']})"
                  for n in names]))
    blocks = [head]
    for i in range(len(results[names[0]]["steps"])):
        per = [dict(step_rows(results[n]["steps"][i])) for n in names]
        keys = list(dict.fromkeys(k for p in per for k in p))
        blocks.append([(k, [p.get(k, "") for p in per]) for k in keys])
    width = max(len(k) for block in blocks for k, _ in block)
    cols = [max([len(n)] + [len(v[j]) for block in blocks for _, v in block]) for j, n in enumerate(names)]
    for block in blocks:
        for k, values in block:
            if not k:
                lines.append(" " * width + "  " + "  ".join(n.ljust(c) for n, c in zip(names, cols, strict=True)))
            else:
                lines.append(f"{k.ljust(width)}  " + "  ".join(v.ljust(c) for v, c in zip(values, cols, strict=True)).rstrip())
        lines.append("")
    comp = report.get("comparison") or {}
    if args["curve"] and "bare" in results:
        lines.append(f"saturation curve (achieved posts/s, p95 post→wall ms; sustained = all acked, none lost, "
                     f"≥95 % of offered, p95 ≤ {args['p95_target']:g} ms)")
        lines.append("offered  " + "  ".join(f"{n:>26}" for n in names))
        for i, rate in enumerate(args["curve"]):
            cells = []
            for n in names:
                s = results[n]["steps"][i]
                if s.get("skipped"):
                    cells.append(f"{'not run':>26}")
                else:
                    mark = "*" if sustains(s, args["p95_target"]) else " "
                    cells.append(f"{s['achieved_posts_per_s']:>10.1f}/s {s['wall_latency_ms']['p95'] or 0:>10.1f} ms {mark}")
            lines.append(f"{rate:>7g}  " + "  ".join(cells))
        def best(name):
            offered = comp[f"{name}_max_sustained_offered"]
            if offered is None:
                return f"{name} none of these rates"
            top = "≥ " if offered == max(args["curve"]) else ""  # the top rate held: the ceiling is higher
            return f"{name} {top}{offered:g}/s offered ({comp[f'{name}_max_sustained_achieved']}/s achieved)"

        lines.append(f"highest rate sustained: {best('rouages')}; {best('bare')}; ratio rouages/bare "
                     f"{comp['sustained_ratio'] if comp['sustained_ratio'] is not None else '-'}")
    elif comp:
        lines.append(f"rouages / bare: sustained posts/s ×{comp['posts_per_s_ratio']}, "
                     f"p95 post→wall ×{comp['p95_wall_ratio']}")
    prof = results.get("rouages", {}).get("profile")
    if prof:
        lines.append(f"rouages server profile ({prof['samples']} py-spy samples): top functions by own samples")
        lines.extend(f"  {pct:5.1f}%  {f}" for f, pct in prof["self_pct"][:10])
        lines.append("  by inclusive samples:")
        lines.extend(f"  {pct:5.1f}%  {f}" for f, pct in prof["inclusive_pct"][:15])
    return "\n".join(lines)


def warnings_of(report: dict) -> list[str]:
    out = []
    for name, res in report["results"].items():
        for step in res["steps"]:
            if step.get("skipped"):
                continue
            where = f"{name}, {step['scenario']}"
            elapsed = max(step["elapsed_s"], 1e-9)
            if step["other_cpu_s"] > 0.1 * step["send_window_s"]:
                out.append(f"{where}: other processes used {step['other_cpu_s']} CPU s; the figures are skewed")
            if step["generator_cpu_max_proc_s"] > 0.85 * elapsed:
                out.append(f"{where}: a generator process was CPU-bound; latencies include its own backlog")
            used = step["server_cpu_s"] + step["generator_cpu_s"] + step["other_cpu_s"]
            if used > 0.85 * (report["machine"]["nproc"] or 1) * elapsed:
                out.append(f"{where}: the machine's cores were ≥85 % busy; latencies include CPU contention "
                           f"between the server and the generator")
            if step["generator_cpu_s"] > step["server_cpu_s"]:
                hint = " (try --phone-client lean)" if report["args"]["phone_client"] == "socketio" else ""
                out.append(f"{where}: the generator used more CPU than the server; it competes with the server "
                           f"for the cores{hint}")
        if res.get("server_log_errors"):
            out.append(f"{name}: server log has error lines, first: {res['server_log_errors'][0]}")
    return out


def machine() -> dict:
    """Describe the machine the figures were measured on."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    versions = {}
    for package in ("python-socketio", "python-engineio", "flask-socketio", "aiohttp", "gevent", "eventlet"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"nproc": os.cpu_count(), "cpu": model, "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), **versions}


def parse(argv=None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=100, help="phones joining the session [100]")
    parser.add_argument("--scenario", choices=("rate", "burst", "steady", "soak"), default="rate",
                        help="rate: open loop at --rate for --duration; burst: every phone once within "
                             f"{BURST_WINDOW:g} s; steady: each phone every --interval s for --minutes; "
                             f"soak: steady for {SOAK_MINUTES:g} min [rate]")
    parser.add_argument("--rate", type=float, default=50, help="posts per second offered, round-robin [50]")
    parser.add_argument("--duration", type=float, default=20, help="seconds of offered load (rate, curve) [20]")
    parser.add_argument("--burst", action="store_true", help="same as --scenario burst")
    parser.add_argument("--interval", type=float, default=10, help="seconds between a phone's posts (steady) [10]")
    parser.add_argument("--minutes", type=float, default=None,
                        help=f"minutes of steady load [{STEADY_MINUTES:g}; soak {SOAK_MINUTES:g}]")
    parser.add_argument("--curve", type=lambda s: [float(x) for x in s.split(",") if x.strip()], default=None,
                        metavar="R1,R2,...", help="saturation curve: one --duration step per offered rate")
    parser.add_argument("--p95-target", type=float, default=150.0,
                        help="p95 post→wall (ms) a curve step must stay within to count as sustained [150]")
    parser.add_argument("--curve-stop-ms", type=float, default=2000.0,
                        help="skip a curve's higher rates after a step whose p95 post→wall exceeds this [2000]")
    parser.add_argument("--compare-bare", action=argparse.BooleanOptionalAction, default=True,
                        help="run the same load against bench/bare_server.py right after Rouages [on]")
    parser.add_argument("--procs", type=int, default=None,
                        help=f"generator processes holding the phones [one per {PHONES_PER_PROC} phones]")
    parser.add_argument("--phone-client", choices=("socketio", "lean"), default="socketio",
                        help="socketio: python-socketio AsyncClient, decodes every broadcast; lean: minimal "
                             "Engine.IO client that only counts broadcasts (less generator CPU) [socketio]")
    parser.add_argument("--async-mode", choices=("gevent", "eventlet"), default="gevent",
                        help="server runtime (ROUAGES_ASYNC_MODE, and the bare server's) [gevent]")
    parser.add_argument("--py-spy", type=Path, metavar="FILE", default=None,
                        help="profile the Rouages server with py-spy during its first step (collapsed stacks)")
    parser.add_argument("--py-spy-seconds", type=float, default=20, help="seconds of profile [20]")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    parser.add_argument("--workers", type=int, default=1,
                        help="Rouages workers: 1 runs on SQLite; 2 or more on PostgreSQL joined by Redis [1]")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis URL for --workers [%(default)s]")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the burst and steady schedules [1]")
    args = parser.parse_args(argv)
    if args.burst:
        args.scenario = "burst"
    if args.minutes is None:
        args.minutes = SOAK_MINUTES if args.scenario == "soak" else STEADY_MINUTES
    if args.procs is None:
        args.procs = max(1, math.ceil(args.phones / PHONES_PER_PROC))
    if (args.phones < 1 or args.rate <= 0 or args.duration <= 0 or args.interval <= 0 or args.minutes <= 0
            or args.procs < 1 or (args.curve is not None and (not args.curve or min(args.curve) <= 0))):
        parser.error("--phones, --rate, --duration, --interval, --minutes, --procs and curve rates must be positive")
    if args.curve and len(args.curve) > MAX_STEPS:
        parser.error(f"at most {MAX_STEPS} curve steps")
    if args.procs > min(args.phones, 32):
        parser.error("--procs must be at most the phones, and 32")
    posts = sum(len(plan) for *_, plan in steps_of(args))
    if args.phones > 5000 or posts > 1_000_000 or args.minutes > 240:
        parser.error("refusing a run that large (over 5000 phones, a million posts or four hours)")
    return args


def main(argv=None) -> int:
    """Start each server on loopback, run the benchmark, stop the servers, print the figures."""
    args = parse(argv)
    # SIGTERM unwinds like Ctrl+C so that the servers and workers are stopped too (inside the run, bench() takes over).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # Ctrl+C must reach asyncio even when started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        results = asyncio.run(bench(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        # asyncio.run turns Ctrl+C into a cancellation, which may surface as either; every finally has run.
        print("interrupted; servers and generator processes stopped", file=sys.stderr)
        return 130
    finally:
        reap(mp.active_children())
    report = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "machine": machine(), "results": results}
    report["comparison"] = compare(results, args)
    print(table(report))
    for warning in warnings_of(report):
        print(f"warning: {warning}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
