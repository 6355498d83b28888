"""Load benchmark: N phones post ideas to one session while a wall watches; measure throughput and latency.

Run from the repository root:  python bench/phones.py [--phones 100] [--rate 50] [--duration 20] [--burst]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import psutil
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from server import Server  # noqa: E402  (tests/server.py: a real `rouages serve` on 127.0.0.1)

EVENT_FILE = ROOT / "tests" / "data" / "small.yaml"
SESSION_KEY = "world-cafe"
TAGS = {"function": "animation"}
BURST_WINDOW = 10.0  # seconds in which every phone posts once in --burst mode
DRAIN = 5.0  # seconds after the last post is sent during which the wall may still see acked posts
CONNECT_TIMEOUT = 15.0
CALL_TIMEOUT = 10.0
CONNECT_CONCURRENCY = 10
RSS_PERIOD = 0.5
RSS_MAX_SAMPLES = 4 * 3600 * 2  # four hours of samples at most


@dataclass
class Record:
    """What the benchmark learns about one post, all times from time.perf_counter()."""

    scheduled: float
    sent: float | None = None
    acked: float | None = None
    seen: float | None = None
    seq: int | None = None


@dataclass
class Run:
    """Everything measured during one run."""

    records: dict[str, Record] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    unexpected: int = 0
    disconnects: int = 0

    def error(self, kind: str) -> None:
        """Count one error of a kind."""
        self.errors[kind] = self.errors.get(kind, 0) + 1


class RssSampler(threading.Thread):
    """Sample a process's resident memory every RSS_PERIOD seconds in the background."""

    def __init__(self, proc: psutil.Process):
        super().__init__(daemon=True)
        self.proc = proc
        self.peak = 0
        self.halt = threading.Event()

    def run(self) -> None:
        """Record the peak RSS until stopped or the sample budget runs out."""
        for _ in range(RSS_MAX_SAMPLES):
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            if self.halt.wait(RSS_PERIOD):
                return


def percentile(values: list[float], p: float) -> float | None:
    """Return the nearest-rank percentile of values, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def schedule(args) -> list[tuple[float, int]]:
    """Return (offset in seconds, phone index) for every post to send, in time order."""
    if args.burst:
        # Like the end of a round: each phone sends its last idea at a random moment of the window.
        rng = random.Random(args.seed)
        return sorted((rng.uniform(0, BURST_WINDOW), phone) for phone in range(args.phones))
    total = int(args.rate * args.duration)
    return [(i / args.rate, i % args.phones) for i in range(total)]


async def connect(url: str, run: Run) -> socketio.AsyncClient:
    """Open one WebSocket-only Socket.IO connection."""
    client = socketio.AsyncClient(reconnection=False)

    @client.event
    async def disconnect(*_):
        run.disconnects += 1

    await asyncio.wait_for(client.connect(url, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT),
                           CONNECT_TIMEOUT)
    return client


async def connect_phone(url: str, code: str, index: int, run: Run, gate: asyncio.Semaphore):
    """Connect and join one phone; return its client, or None if it failed."""
    async with gate:
        try:
            client = await connect(url, run)
            ack = await client.call("join", {"code": code, "name": f"Phone {index}"}, timeout=CALL_TIMEOUT)
        except Exception as exc:  # a phone that cannot join is counted, not fatal
            run.error(f"join:{type(exc).__name__}")
            return None
        if not ack.get("ok"):
            run.error(f"join:{ack.get('error', {}).get('code')}")
            await client.disconnect()
            return None
        return client


async def connect_wall(url: str, code: str, run: Run) -> socketio.AsyncClient:
    """Connect the wall, record when each post reaches it, and start watching."""
    client = await connect(url, run)

    @client.on("post")
    async def on_post(post):
        now = time.perf_counter()
        record = run.records.get(post.get("client_id"))
        if record is None:
            run.unexpected += 1
        elif record.seen is not None:
            run.duplicates += 1
        else:
            record.seen = now

    ack = await client.call("watch", {"code": code}, timeout=CALL_TIMEOUT)
    if not ack.get("ok"):
        raise RuntimeError(f"watch refused: {ack}")
    return client


async def send_post(client: socketio.AsyncClient, code: str, client_id: str, record: Record, run: Run) -> None:
    """Post one idea and record when it was sent and acked."""
    payload = {"code": code, "client_id": client_id, "text": f"Idée {client_id} : mutualiser un poste d'animation",
               "tags": TAGS}
    record.sent = time.perf_counter()
    try:
        ack = await client.call("post", payload, timeout=CALL_TIMEOUT)
    except Exception as exc:
        run.error(f"post:{type(exc).__name__}")
        return
    if ack.get("ok"):
        record.acked = time.perf_counter()
        record.seq = ack["post"]["seq"]
    else:
        run.error(f"post:{ack.get('error', {}).get('code')}")


async def offer_load(phones: list, code: str, plan: list[tuple[float, int]], run: Run) -> tuple[float, float]:
    """Send posts on schedule without waiting for acks (open loop); return (start, last send) times."""
    prefix = secrets.token_hex(4)
    tasks = []
    start = time.perf_counter()
    for n, (offset, index) in enumerate(plan):
        delay = start + offset - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        client_id = f"b{prefix}-{n:07d}"
        record = run.records[client_id] = Record(scheduled=start + offset)
        tasks.append(asyncio.create_task(send_post(phones[index], code, client_id, record, run)))
    end = time.perf_counter()
    # Each call is bounded by CALL_TIMEOUT; the outer bound only guards against a stuck task.
    if tasks:
        await asyncio.wait(tasks, timeout=CALL_TIMEOUT + 5)
    return start, end


async def drain(run: Run, deadline: float) -> None:
    """Wait until the wall has seen every acked post, or the deadline passes."""
    while time.perf_counter() < deadline:
        if all(r.seen is not None for r in run.records.values() if r.acked is not None):
            return
        await asyncio.sleep(0.05)


async def close_all(clients: list) -> None:
    """Disconnect every client, each within a bounded time."""
    async def close(client):
        try:
            await asyncio.wait_for(client.disconnect(), 5)
        except Exception:
            pass

    await asyncio.gather(*(close(c) for c in clients if c is not None))


async def bench(srv: Server, code: str, args) -> dict:
    """Connect the phones and the wall, offer the load, and return the measurements."""
    run = Run()
    # SIGTERM cancels the run like Ctrl+C does, so the clients are closed and the server stopped.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    proc = psutil.Process(srv.process.pid)
    clients: list = []
    try:
        t0 = time.perf_counter()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        phones = await asyncio.gather(*(connect_phone(srv.url, code, i, run, gate) for i in range(args.phones)))
        clients.extend(phones)
        wall = await connect_wall(srv.url, code, run)
        clients.append(wall)
        connect_s = time.perf_counter() - t0
        live = [p for p in phones if p is not None]
        if not live:
            raise RuntimeError(f"no phone could join: {run.errors}")
        # Posts of phones that failed to join go to the next live phone, so the offered load stays the same.
        phones = [p if p is not None else live[i % len(live)] for i, p in enumerate(phones)]
        plan = schedule(args)

        cpu0, bench_cpu0, busy0 = sum(proc.cpu_times()[:2]), time.process_time(), machine_busy()
        start, end = await offer_load(phones, code, plan, run)
        await drain(run, end + DRAIN)
        stop = time.perf_counter()
        cpu1, bench_cpu1, busy1 = sum(proc.cpu_times()[:2]), time.process_time(), machine_busy()
        disconnects_during_load = run.disconnects
    finally:
        await close_all(clients)
    result = summarise(run, args, len(live), connect_s, start, end, stop, cpu1 - cpu0, bench_cpu1 - bench_cpu0,
                       disconnects_during_load)
    # Whatever else ran on the machine meanwhile competed for the same cores and skews every figure.
    result["other_cpu_s"] = round(max(0.0, busy1 - busy0 - (cpu1 - cpu0) - (bench_cpu1 - bench_cpu0)), 2)
    return result


def machine_busy() -> float:
    """Return the CPU seconds all cores of the machine spent busy (or stolen by the hypervisor) since boot."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + t.steal


def ms(value: float | None) -> float | None:
    """Return seconds as milliseconds rounded to 0.1, keeping None."""
    return None if value is None else round(value * 1000, 1)


def spread(values: list[float]) -> dict:
    """Return p50, p95, p99 and max of latencies in milliseconds."""
    return {f"p{p}": ms(percentile(values, p)) for p in (50, 95, 99)} | {"max": ms(max(values, default=None))}


def summarise(run: Run, args, phones: int, connect_s: float, start: float, end: float, stop: float,
              server_cpu: float, bench_cpu: float, disconnects: int) -> dict:
    """Turn the raw records into the figures reported."""
    records = list(run.records.values())
    acked = [r for r in records if r.acked is not None]
    seen = [r for r in records if r.seen is not None]
    lost = [r for r in acked if r.seen is None]
    ack_lat = [r.acked - r.sent for r in acked]
    wall_lat = [r.seen - r.sent for r in seen]
    # Late sends mean the load generator, not the server, could not keep up with the schedule.
    send_lag = [r.sent - r.scheduled for r in records if r.sent is not None]
    last_ack = max((r.acked for r in acked), default=start)
    seqs = sorted(r.seq for r in acked)
    return {
        "mode": "burst" if args.burst else "steady",
        "async_mode": args.async_mode,
        "phones_asked": args.phones,
        "phones_connected": phones,
        "connect_join_s": round(connect_s, 2),
        "offered_rate": None if args.burst else args.rate,
        "duration_s": BURST_WINDOW if args.burst else args.duration,
        "sent": sum(r.sent is not None for r in records),
        "acked": len(acked),
        "seen_by_wall": len(seen),
        "duplicates_on_wall": run.duplicates,
        "unexpected_on_wall": run.unexpected,
        "lost": len(lost),
        "errors": sum(run.errors.values()),
        "error_kinds": run.errors,
        "disconnects_during_load": disconnects,
        "seq_gapless": seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True,
        "achieved_posts_per_s": round(len(acked) / (last_ack - start), 1) if acked and last_ack > start else 0.0,
        "send_window_s": round(end - start, 2),
        "elapsed_s": round(stop - start, 2),
        "send_lag_ms": {"p50": ms(percentile(send_lag, 50)), "p99": ms(percentile(send_lag, 99)),
                        "max": ms(max(send_lag, default=None))},
        "ack_latency_ms": spread(ack_lat),
        "wall_latency_ms": spread(wall_lat),
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_pct": round(100 * server_cpu / (stop - start), 1) if stop > start else None,
        "bench_cpu_s": round(bench_cpu, 2),
    }


def machine() -> dict:
    """Describe the machine the figures were measured on."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": model, "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "python_socketio": metadata.version("python-socketio"),
            "aiohttp": metadata.version("aiohttp")}


def table(result: dict) -> str:
    """Render the result as a readable two-column table."""
    def lat(d):
        return " / ".join("-" if d[k] is None else f"{d[k]:.1f}" for k in ("p50", "p95", "p99", "max"))

    if result["mode"] == "burst":
        rate = f"burst: every phone once in {BURST_WINDOW:g} s"
    else:
        rate = f"{result['offered_rate']:g}/s for {result['duration_s']:g} s"
    rows = [
        ("server", f"{result['async_mode']}  (machine: {result['machine']['nproc']} cpu, {result['machine']['cpu']})"),
        ("offered load", rate),
        ("phones connected", f"{result['phones_connected']} / {result['phones_asked']}  "
                             f"(connect+join {result['connect_join_s']} s)"),
        ("posts sent / acked / seen by wall", f"{result['sent']} / {result['acked']} / {result['seen_by_wall']}"),
        ("duplicates on wall", result["duplicates_on_wall"]),
        (f"lost (acked, unseen after {DRAIN:g} s)", result["lost"]),
        ("errors", f"{result['errors']} {result['error_kinds'] or ''}".strip()),
        ("disconnects during load", result["disconnects_during_load"]),
        ("achieved posts/s (acked)", result["achieved_posts_per_s"]),
        ("ack latency ms p50/p95/p99/max", lat(result["ack_latency_ms"])),
        ("post→wall latency ms p50/p95/p99/max", lat(result["wall_latency_ms"])),
        ("generator send lag ms p50/p99/max", " / ".join("-" if v is None else f"{v:.1f}"
                                                         for v in result["send_lag_ms"].values())),
        ("server CPU s (load + drain)", f"{result['server_cpu_s']}  ({result['server_cpu_pct']}% of one core)"),
        ("server peak RSS MiB", result["server_peak_rss_mib"]),
        ("load generator CPU s", result["bench_cpu_s"]),
        ("other processes' CPU s", result["other_cpu_s"]),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def parse(argv=None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=100, help="phones joining the session [100]")
    parser.add_argument("--rate", type=float, default=50, help="posts per second offered, round-robin [50]")
    parser.add_argument("--duration", type=float, default=20, help="seconds of offered load [20]")
    parser.add_argument("--burst", action="store_true",
                        help=f"every phone posts once at a random moment of a {BURST_WINDOW:g} s window instead")
    parser.add_argument("--async-mode", choices=("gevent", "eventlet"), default="gevent",
                        help="server runtime (ROUAGES_ASYNC_MODE) [gevent]")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the burst schedule [1]")
    args = parser.parse_args(argv)
    if args.phones < 1 or args.rate <= 0 or args.duration <= 0:
        parser.error("--phones, --rate and --duration must be positive")
    if args.phones > 5000 or args.rate * args.duration > 1_000_000:
        parser.error("refusing a run that large (over 5000 phones or a million posts)")
    return args


def main(argv=None) -> int:
    """Start a server on loopback, run the benchmark, stop the server, print the figures."""
    args = parse(argv)
    # SIGTERM unwinds like Ctrl+C so that the server is stopped too (inside the run, bench() takes over).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="rouages-bench-") as tmp:
        srv = Server(Path(tmp) / "data", async_mode=args.async_mode)
        sampler = None
        try:
            srv.cli("event", "import", str(EVENT_FILE))
            sessions = json.loads(srv.cli("sessions", "petite-rencontre", "--json").stdout)
            code = next(s["code"] for s in sessions if s["key"] == SESSION_KEY)
            srv.start()
            sampler = RssSampler(psutil.Process(srv.process.pid))
            sampler.start()
            result = asyncio.run(bench(srv, code, args))
        except (KeyboardInterrupt, asyncio.CancelledError):
            # asyncio.run turns Ctrl+C into a cancellation, which may surface as either.
            print("interrupted; server stopped", file=sys.stderr)
            return 130
        finally:
            if sampler is not None:
                sampler.halt.set()
                sampler.join(timeout=2)
            srv.stop()
        result["server_peak_rss_mib"] = round(sampler.peak / 2**20, 1)
        result["machine"] = machine()
        server_errors = [line for line in srv.log.read_text(errors="replace").splitlines()
                         if "ERROR" in line or "Traceback" in line]
        result["server_log_errors"] = len(server_errors)
    print(table(result))
    if result["other_cpu_s"] > 0.1 * result["send_window_s"]:
        print(f"warning: other processes used {result['other_cpu_s']} CPU s during the run; the figures are skewed")
    if result["bench_cpu_s"] > 0.85 * result["elapsed_s"]:
        # Every phone also receives every post, so the generator's work grows with phones × posts.
        print("warning: the load generator was CPU-bound; latencies include its own backlog, not only the server's")
    if server_errors:
        print(f"server log: {len(server_errors)} error lines, first: {server_errors[0]}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) if isinstance(v, Path) else v
                                                   for k, v in vars(args).items()}, **result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
