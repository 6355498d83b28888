"""Reconnection storm: every phone of a room reconnects at once (a Wi-Fi access point rebooting), during a vote
or on a live board, while a wall follows the posts; how long until every phone is whole again, at what cost.

Run from the repository root:  python bench/storm.py [--scenario vote|board] [--phones 1000] [--posts 1000]
                                                     [--no-cursors] [--bare] [--py-spy FILE]

During a vote each phone holds the list of ideas to put its dots on. While the phones are away an organiser
hides an idea, restores another, and three new ideas are posted; then every phone reconnects, joins again with
its token and asks for what changed since its cursors (or, with --no-cursors, for the whole list, as phones
did before they kept cursors). A phone counts as whole when its list is exactly the room's visible ideas. On a
board, a phone is whole once its join is acknowledged with its own ideas. Meanwhile one more phone posts ten
ideas a second and a wall times each from its send to the wall.

With --bare (board only), the same storm meets bench/bare_server.py, a Flask-SocketIO server that acks a join
with no database and no validation: the floor any server on this runtime pays to take a room back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from phases import TIMEOUT, console_client, demo_world_cafe  # noqa: E402
from phones import BareServer, LeanPhone, percentile  # noqa: E402

now = time.monotonic
POST_RATE = 10.0  # the wall's probe: posts per second during the storm


class Phone(LeanPhone):
    """A lean phone that keeps the vote list it is sent, as the real phone's JavaScript does."""

    def __init__(self, url: str):
        super().__init__(url, lambda: None)
        self.listen: dict[str, list] = {}  # event name → received payloads (decoded)

    def _frame(self, opcode: int, payload: bytearray) -> None:
        if opcode == 1 and payload[:2] == b"42" and self.ready:
            name = bytes(payload[4:payload.index(b'"', 4)]).decode()
            if name in self.listen:  # kept as received: decoded when needed (a vote's list is large)
                self.listen[name].append(bytes(payload[2:]))
        super()._frame(opcode, payload)

    def abort(self) -> None:
        """Lose the connection without a word, as when the access point goes."""
        self.transport.abort()


class VoteList:
    """A phone's list of ideas to vote on and its cursors, updated as the phone's vote.js updates it."""

    def __init__(self, posts: list[dict], seq: int, rev: int):
        self.posts = {p["id"]: p for p in posts if not p.get("hidden")}
        self.seq, self.rev = seq, rev

    def apply(self, ack: dict) -> None:
        for post in ack["posts"]:
            self.posts[post["id"]] = post
        for post in ack.get("changed", []):
            if post.get("hidden"):
                self.posts.pop(post["id"], None)
            else:
                self.posts[post["id"]] = post
        self.seq = max(self.seq, ack["session"]["seq"])
        self.rev = max(self.rev, ack["session"]["rev"])


async def connect(phone: Phone, gate: asyncio.Semaphore | None = None) -> None:
    if gate is None:
        await phone.connect()
        return
    async with gate:
        await phone.connect()


async def join_all(url: str, tables: list[dict], count: int, listen=()) -> tuple[list[Phone], list[str]]:
    """Connect and join `count` phones at the tables, 20 at a time; return them and their (token, name) in order."""
    phones, tokens = [], []
    gate = asyncio.Semaphore(20)

    async def one(index: int):
        phone = Phone(url)
        phone.listen = {name: [] for name in listen}
        await connect(phone, gate)
        ack = await phone.call("join", {"code": tables[index % len(tables)]["code"], "name": f"P{index}",
                                        "organisation": "Coopérative"}, TIMEOUT)
        assert ack["ok"], ack
        phones.append(phone)
        tokens.append((ack["participant"]["token"], ack["participant"]["name"]))

    await asyncio.gather(*(one(i) for i in range(count)))
    return phones, tokens


async def post_many(phones: list[Phone], tables: list[dict], count: int, prefix: str) -> None:
    for start in range(0, count, 50):
        acks = await asyncio.gather(*(phones[i % len(phones)].call("post", {
            "code": tables[i % len(tables)]["code"], "client_id": f"{prefix}-{i:06d}",
            "text": f"Idée numéro {i} : une action concrète pour coopérer sur le territoire"}, TIMEOUT)
            for i in range(start, min(count, start + 50))))
        assert all(a["ok"] for a in acks), [a for a in acks if not a["ok"]][:1]


class WallProbe:
    """A phone posting POST_RATE ideas a second and a wall timing each from send to its `post` broadcast."""

    def __init__(self, url: str, code: str, table_code: str):
        self.url, self.code, self.table_code = url, code, table_code
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.window: tuple[float, float] | None = None

    async def start(self) -> None:
        self.wall = Phone(self.url)
        self.wall.listen = {}
        await self.wall.connect()
        ack = await self.wall.call("watch", {"code": self.code, "since": 10**9}, TIMEOUT)
        assert ack["ok"], ack
        self.wall.listen["post"] = _Seen(self)
        self.poster = Phone(self.url)
        await self.poster.connect()
        assert (await self.poster.call("join", {"code": self.table_code, "name": "Sonde"}, TIMEOUT))["ok"]
        self.task = asyncio.create_task(self._post())

    async def _post(self) -> None:
        n = 0
        while True:
            client_id = f"probe-{n:06d}"
            self.sent[client_id] = now()
            asyncio.ensure_future(self.poster.call("post", {"code": self.table_code, "client_id": client_id,
                                                            "text": f"Sonde {n}"}, TIMEOUT))
            n += 1
            await asyncio.sleep(1 / POST_RATE)

    def during(self, start: float, end: float) -> list[float]:
        return [ms for at, ms in self.latencies if start <= at <= end]

    async def stop(self) -> None:
        self.task.cancel()
        await self.poster.disconnect()
        await self.wall.disconnect()


class _Seen(list):
    """The wall's `post` payloads, timed as they arrive."""

    def __init__(self, probe: WallProbe):
        super().__init__()
        self.probe = probe

    def append(self, raw: bytes) -> None:
        post = json.loads(raw)[1]
        sent = self.probe.sent.get(post.get("client_id"))
        if sent is not None:
            self.probe.latencies.append((now(), (now() - sent) * 1000))


async def storm(args, url: str, code: str, tables: list[dict], pid: int) -> dict:
    server = psutil.Process(pid)
    console = None if args.bare else await console_client(url)
    if console is not None:
        assert (await console.call("phase_set", {"code": code, "phase": "round_1"}, timeout=TIMEOUT))["ok"]
    vote = args.scenario == "vote"
    phones, tokens = await join_all(url, tables, args.phones, listen=("vote_state",) if vote else ())
    await post_many(phones, tables, args.posts, "storm")
    lists: list[VoteList] = []
    if vote:
        ack = await console.call("vote_open", {"code": code, "budget": 5, "max_per_post": 2}, timeout=TIMEOUT)
        assert ack["ok"], ack
        deadline = now() + 60
        while any(not p.listen["vote_state"] for p in phones) and now() < deadline:
            await asyncio.sleep(0.05)
        decoded: dict[bytes, dict] = {}  # every phone got the same bytes: decoded once
        for phone in phones:
            raw = phone.listen["vote_state"][0]
            opening = decoded.get(raw) or decoded.setdefault(raw, json.loads(raw)[1])
            posts = opening["posts"]
            lists.append(VoteList(posts, opening.get("seq", max(p["seq"] for p in posts)),
                                  opening.get("rev", max(p["rev"] for p in posts))))
    probe = WallProbe(url, code, tables[0]["code"])
    await probe.start()
    await asyncio.sleep(2)

    # The access point goes: every phone loses its connection; meanwhile the room goes on.
    for phone in phones:
        phone.abort()
    await asyncio.sleep(0.5)
    if vote:
        ideas = (await console.call("watch", {"code": code}, timeout=TIMEOUT))["posts"]
        first, second = ideas[0]["id"], ideas[1]["id"]
        for event, post in (("post_hide", first), ("post_hide", second), ("post_restore", second)):
            assert (await console.call(event, {"code": code, "post_id": post}, timeout=TIMEOUT))["ok"]
        helper, _ = await join_all(url, tables, 1)
        await post_many(helper, tables, 3, "away")
        await helper[0].disconnect()
    await asyncio.sleep(1)

    # It comes back: every phone reconnects at once.
    spy = subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--rate", "1000", "--format", "raw", "--output",
                            str(args.py_spy), "--nonblocking"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL) if args.py_spy else None
    if spy:
        await asyncio.sleep(1)
    done: list[float] = []
    whole: list[bool] = []
    errors: list[str] = []
    cpu0 = sum(server.cpu_times()[:2])
    start = now()

    async def back(index: int) -> None:
        phone = Phone(url)
        try:
            await phone.connect()
            # A phone rejoins with the session's code: its table's card is stated once per scan.
            # With its name and organisation, as static/js/phone.js sends them at every join.
            token, name = tokens[index]
            ack = await phone.call("join", {"code": code, "token": token, "name": name,
                                            "organisation": "Coopérative"}, TIMEOUT)
            if not ack["ok"]:
                raise RuntimeError(ack["error"]["code"])
            if vote:
                mine = lists[index]
                cursors = {"since": mine.seq, "rev": mine.rev} if not args.no_cursors else {"since": 0}
                while True:
                    if args.no_cursors and cursors["since"] == 0:
                        mine.posts.clear()  # the older phone dropped its list and fetched it whole
                    watched = await phone.call("watch", {"code": code, **cursors}, TIMEOUT)
                    if not watched["ok"]:
                        raise RuntimeError(watched["error"]["code"])
                    mine.apply(watched)
                    if not watched["more"]:
                        break
                    cursors = {**cursors, "since": watched["next"]}
            done.append(now() - start)
            phones[index] = phone
        except Exception as error:  # counted, not fatal
            errors.append(type(error).__name__ if not str(error) else str(error))

    await asyncio.gather(*(back(i) for i in range(len(phones))))
    end = now()
    cpu = sum(server.cpu_times()[:2]) - cpu0
    if spy:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
    await asyncio.sleep(0.5)
    if vote:
        final, since = [], 0
        while since is not None:  # every page
            page = await console.call("watch", {"code": code, "since": since}, timeout=TIMEOUT)
            final += page["posts"]
            since = page["next"] if page["more"] else None
        visible = {p["id"] for p in final if not p["hidden"] and not p["client_id"].startswith("probe-")}
        whole = [set(k for k, p in lst.posts.items() if not p["client_id"].startswith("probe-")) == visible
                 for lst in lists]
    during = probe.during(start, end + 0.5)
    await probe.stop()
    for phone in phones + ([console] if console else []):
        try:
            await phone.disconnect()
        except Exception:
            pass
    times = sorted(done)
    return {"scenario": args.scenario, "phones": args.phones, "posts": args.posts, "cursors": not args.no_cursors,
            "back": len(done), "errors": errors[:5], "error_count": len(errors),
            "whole": sum(whole) if vote else len(done),
            "median_s": round(statistics.median(times), 3) if times else None,
            "last_s": round(times[-1], 3) if times else None, "server_cpu_s": round(cpu, 2),
            "wall_posts": len(during), "wall_p50_ms": _round(percentile(during, 50)),
            "wall_p95_ms": _round(percentile(during, 95)), "wall_max_ms": _round(max(during, default=None))}


@contextmanager
def bare_server(async_mode: str):
    """Run bench/bare_server.py; yield it with a session code and tables as the demo's world café would have."""
    with tempfile.TemporaryDirectory() as data, BareServer(Path(data) / "bare.log", async_mode) as server:
        yield server, "BARE00", [{"code": "BARE00"}]  # one room: the wall hears the probe's posts


def _round(value):
    return None if value is None else round(value, 1)


def main() -> None:
    """Start a server with the demo event, run one storm, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["vote", "board"], default="vote")
    parser.add_argument("--phones", type=int)
    parser.add_argument("--posts", type=int)
    parser.add_argument("--no-cursors", action="store_true", help="phones fetch the whole list, as before cursors")
    parser.add_argument("--bare", action="store_true", help="the same storm on the bare Flask-SocketIO server (board)")
    parser.add_argument("--async-mode", choices=["gevent", "eventlet"], default="gevent")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--py-spy", type=Path, metavar="FILE", help="profile the server during the storm (raw)")
    args = parser.parse_args()
    args.phones = args.phones or (1000 if args.scenario == "vote" else 300)
    args.posts = args.posts if args.posts is not None else (1000 if args.scenario == "vote" else 300)
    if args.bare and args.scenario != "board":
        parser.error("--bare runs the board scenario only (the bare server holds no vote)")
    with bare_server(args.async_mode) if args.bare else demo_world_cafe(args.async_mode) as (server, code, tables):
        requests.get(f"{server.url}/healthz", timeout=5)
        result = asyncio.run(storm(args, server.url, code, tables, server.process.pid))
    print(f"{result['scenario']}: {result['phones']} phones reconnecting at once ({result['posts']} ideas, "
          f"{'with' if result['cursors'] else 'without'} cursors, {args.async_mode}"
          f"{', bare Flask-SocketIO server' if args.bare else ''})")
    print(f"  back {result['back']} (whole {result['whole']}, errors {result['error_count']} {result['errors']}); "
          f"median {result['median_s']} s, last {result['last_s']} s; server CPU {result['server_cpu_s']} s")
    print(f"  wall meanwhile: {result['wall_posts']} posts, p50 {result['wall_p50_ms']} ms, "
          f"p95 {result['wall_p95_ms']} ms, max {result['wall_max_ms']} ms")
    if args.json:
        args.json.write_text(json.dumps({**result, "async_mode": args.async_mode}, indent=2))


if __name__ == "__main__":
    main()
