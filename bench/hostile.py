"""Hostile phones against a real server: what an honest phone still gets while one of them misbehaves.

Three experiments, each against a fresh `rouages serve` (gevent) on 127.0.0.1 with the small test event:

- `poison`: 3 sockets in one session send text holding a lone surrogate as fast as their acks come, while
  honest phones in another session post in a loop; counts honest posts acked on first try and refused.
  Post rate limits are turned off for this one: it measures the writer, not the limits.
- `flood`: one phone pipelines 2,000 posts five times without waiting for acks (rejoining with its token when
  cut off), while 30 honest phones post one idea every 100 ms between them (each every 3 s); their ack latency
  while the flood lasts.
- `signin`: 8 threads send wrong passwords to /login as fast as they are answered, while the 30 honest phones
  post; their ack latency and the sign-in answers by status.

Run from the repository root (the server is started from the current directory's code):
    python bench/hostile.py [poison|flood|signin ...] [--seconds 15] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from server import Server  # noqa: E402  (tests/server.py: a real `rouages serve` on 127.0.0.1)

EVENT = ROOT / "tests" / "data" / "small.yaml"
# Honest phones post one idea every 0.1 s between them: each one every 3 s, as fast as a person may.
HONEST_PHONES = 30
TAGS = {"function": "animation"}


def percentile(values: list[float], p: float) -> float | None:
    """Return the p-th percentile (nearest rank) of values, in the values' unit."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def latency(values: list[float]) -> dict:
    """Return p50/p95/max of seconds, in milliseconds."""
    return {k: round(v * 1000, 1) if v is not None else None for k, v in
            (("p50", percentile(values, 50)), ("p95", percentile(values, 95)), ("max", max(values, default=None)))}


class Phone:
    """A real python-socketio phone joined to one session."""

    def __init__(self, url: str, code: str, token: str | None = None):
        self.code = code
        self.client = socketio.Client(reconnection=False)
        self.client.connect(url, transports=["websocket"], wait_timeout=10)
        ack = self.client.call("join", {"code": code, "token": token}, timeout=10)
        if not ack["ok"]:
            raise RuntimeError(ack)
        self.token = ack["participant"]["token"]

    def post(self, text: str, tags: dict, timeout: float = 30) -> dict:
        """Post and wait for the ack."""
        return self.client.call("post", {"code": self.code, "client_id": uuid.uuid4().hex, "text": text,
                                         "tags": tags}, timeout=timeout)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()


def paced(phones: list[Phone], stop: threading.Event, every: float, out: list[tuple[float, float]],
          errors: Counter) -> None:
    """Post one idea every `every` seconds, phones taking turns, until stopped; record (sent at, ack latency)."""
    next_at = time.monotonic()
    turn = 0
    while not stop.is_set():
        phone, turn = phones[turn % len(phones)], turn + 1
        sent = time.monotonic()
        try:
            ack = phone.post("Une idée honnête", TAGS)
            if ack["ok"]:
                out.append((sent, time.monotonic() - sent))
            else:
                errors[ack["error"]["code"]] += 1
        except socketio.exceptions.TimeoutError:
            errors["timeout"] += 1
        next_at += every
        time.sleep(max(0.0, next_at - time.monotonic()))


EXTRA_ENV: dict[str, str] = {}  # --env KEY=VALUE: settings for every experiment's server


def start(data: Path, env: dict | None = None) -> tuple[Server, str, str]:
    """Start a server with the small event; return it and its two sessions' codes (café, other)."""
    server = Server(data, extra_env={**(env or {}), **EXTRA_ENV})
    server.cli("event", "import", str(EVENT))
    server.cli("user", "add", "orga@example.org", "--password", "correct-horse-battery")
    sessions = json.loads(server.cli("sessions", "petite-rencontre", "--json").stdout)
    server.start()
    cafe = next(s["code"] for s in sessions if s["key"] == "world-cafe")
    other = next(s["code"] for s in sessions if s["key"] != "world-cafe")
    return server, cafe, other


def poison(seconds: float) -> dict:
    """Honest posts acked and refused while 3 sockets send unstorable text to another session."""
    with tempfile.TemporaryDirectory() as tmp:
        server, cafe, other = start(Path(tmp), {"ROUAGES_LIMIT_POSTS_BURST": "0"})
        try:
            honest = [Phone(server.url, cafe) for _ in range(4)]
            hostile = [Phone(server.url, other) for _ in range(3)]
            stop = threading.Event()
            counts: Counter = Counter()

            def loop(phone: Phone, kind: str, text: str, tags: dict) -> None:
                while not stop.is_set():
                    try:
                        ack = phone.post(text, tags)
                        counts[(kind, "acked" if ack["ok"] else ack["error"]["code"])] += 1
                    except socketio.exceptions.TimeoutError:
                        counts[(kind, "timeout")] += 1

            threads = [threading.Thread(target=loop, args=(p, "honest", "Une idée honnête", TAGS)) for p in honest]
            threads += [threading.Thread(target=loop, args=(p, "hostile", "x\udfff", {})) for p in hostile]
            for thread in threads:
                thread.start()
            time.sleep(seconds)
            stop.set()
            for thread in threads:
                thread.join(60)
            for phone in honest + hostile:
                phone.close()
            log = server.log.read_text()
        finally:
            server.stop()
    return {"seconds": seconds, "honest_acked": counts[("honest", "acked")],
            "honest_refused": sum(v for (kind, what), v in counts.items() if kind == "honest" and what != "acked"),
            "hostile": {what: v for (kind, what), v in counts.items() if kind == "hostile"},
            "log_tracebacks": log.count("Traceback"), "log_bytes": len(log)}


def flood(seconds: float) -> dict:
    """Honest phones' ack latency while one phone pipelines 5 × 2,000 posts (rejoining when it is cut off)."""
    with tempfile.TemporaryDirectory() as tmp:
        server, cafe, _other = start(Path(tmp))
        try:
            honest = [Phone(server.url, cafe) for _ in range(HONEST_PHONES)]
            flooder = Phone(server.url, cafe)
            stop, latencies, errors = threading.Event(), [], Counter()
            flood_acks: Counter = Counter()
            done = threading.Semaphore(0)
            rejoins = 0

            def on_ack(ack):
                flood_acks["acked" if ack["ok"] else ack["error"]["code"]] += 1
                done.release()

            pacer = threading.Thread(target=paced, args=(honest, stop, 0.1, latencies, errors))
            pacer.start()
            time.sleep(1)
            started = time.monotonic()
            for _wave in range(5):
                if not flooder.client.connected:  # cut off for flooding: come back, as an attacker would
                    flooder = Phone(server.url, cafe, token=flooder.token)
                    rejoins += 1
                for _ in range(2000):
                    try:
                        flooder.client.emit("post", {"code": cafe, "client_id": uuid.uuid4().hex, "text": "flood",
                                                     "tags": TAGS}, callback=on_ack)
                    except socketio.exceptions.BadNamespaceError:
                        break
                deadline = time.monotonic() + 5
                for _ in range(2000):
                    if not flooder.client.connected or not done.acquire(timeout=max(0.0, deadline - time.monotonic())):
                        break
            flood_seconds = time.monotonic() - started
            time.sleep(max(0.0, seconds - flood_seconds))
            stop.set()
            pacer.join(60)
            for phone in [*honest, flooder]:
                if phone.client.connected:
                    phone.close()
            log = server.log.read_text()
        finally:
            server.stop()
    during = [lat for sent, lat in latencies if started <= sent <= started + flood_seconds]
    return {"flood_posts": 10_000, "flood_seconds": round(flood_seconds, 1), "flood_answers": dict(flood_acks),
            "flooder_cut_off_and_rejoined": rejoins, "flood_log_lines": log.count("flooding"),
            "honest_acks": len(latencies), "honest_errors": dict(errors),
            "honest_ack_ms_during_flood": latency(during), "honest_acks_during_flood": len(during),
            "honest_ack_ms": latency([lat for _sent, lat in latencies])}


def signin(seconds: float) -> dict:
    """A phone's ack latency while 8 threads send wrong passwords to the sign-in form."""
    with tempfile.TemporaryDirectory() as tmp:
        server, cafe, _other = start(Path(tmp))
        try:
            phones = [Phone(server.url, cafe) for _ in range(HONEST_PHONES)]
            stop, latencies, errors, answers = threading.Event(), [], Counter(), Counter()

            def guess(n: int) -> None:
                http = requests.Session()
                while not stop.is_set():
                    page = http.get(f"{server.url}/login", timeout=30).text
                    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
                    response = http.post(f"{server.url}/login", timeout=30, allow_redirects=False, data={
                        "email": "orga@example.org", "password": f"wrong-{n}-{time.monotonic()}",
                        "csrf_token": token[1] if token else ""})
                    answers[response.status_code] += 1

            pacer = threading.Thread(target=paced, args=(phones, stop, 0.1, latencies, errors))
            pacer.start()
            time.sleep(1)
            guessers = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
            for thread in guessers:
                thread.start()
            time.sleep(seconds)
            stop.set()
            for thread in [pacer, *guessers]:
                thread.join(60)
            for phone in phones:
                phone.close()
        finally:
            server.stop()
    return {"seconds": seconds, "signin_answers": {str(k): v for k, v in sorted(answers.items())},
            "phone_acks": len(latencies), "phone_errors": dict(errors),
            "phone_ack_ms": latency([lat for _sent, lat in latencies])}


EXPERIMENTS = {"poison": poison, "flood": flood, "signin": signin}


def main() -> None:
    """Run the chosen experiments and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiments", nargs="*", help=f"any of {', '.join(EXPERIMENTS)} [all]")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each experiment [15]")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for the servers, e.g. ROUAGES_SIGNIN_FAILURES_PER_ADDRESS=0 (repeatable)")
    args = parser.parse_args()
    EXTRA_ENV.update(item.split("=", 1) for item in args.env)
    unknown = set(args.experiments) - set(EXPERIMENTS)
    if unknown:
        parser.error(f"unknown experiment(s): {', '.join(sorted(unknown))}")
    figures = {}
    for name in args.experiments or EXPERIMENTS:
        figures[name] = EXPERIMENTS[name](args.seconds)
        print(f"{name}: {json.dumps(figures[name], ensure_ascii=False)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
