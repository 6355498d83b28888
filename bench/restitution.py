"""The restitution PDF of a 2,000-idea event: render time and memory, and whether phones notice it rendering.

Run from the repository root:  python bench/restitution.py [--ideas 2000] [--phones 100] [--rate 20] [--a5]

It starts a real `rouages serve` (gevent) with the demo event, fills it through the live server as a day would
(ideas in the world café's rounds and on three boards, every café table's harvest, a dot vote revealed), then
keeps phones posting at a steady rate to one board while a wall watches it, and measures post→wall latency first
without, then while the restitution renders through the console's route (in its own process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from phases import PASSWORD, TIMEOUT, console_client, demo_world_cafe  # noqa: E402
from phones import LeanPhone, percentile  # noqa: E402

CAFE = "world-cafe-fonctions"
# The boards of the demo and the tags each needs; the load goes to the first one.
BOARDS = {"arbres-a-idees": {"movement": ["amorcer", "maintenir", "renforcer"]},
          "ateliers-relations": {"relation": ["formalisation", "scic", "financement", "foncier"],
                                 "practice": ["a_maintenir", "a_arreter", "a_creer"]},
          "lecons-des-duos": {}}
WORDS = ("mutualiser un poste d’animation entre structures voisines", "ouvrir le comité de pilotage aux habitants",
         "financer l’ingénierie de coopération sur trois ans", "cartographier les acteurs du territoire",
         "partager un outil de gestion de projet commun", "former les élus aux sociétés coopératives",
         "valoriser les réussites dans la presse locale", "créer un fonds d’amorçage pour les tiers-lieux",
         "organiser une rencontre annuelle des coopérations", "documenter les pratiques qui marchent")
now = time.monotonic


def idea(n: int, rng: random.Random) -> str:
    """Return an idea text of the length people write (one or two clauses)."""
    first, second = rng.sample(WORDS, 2)
    return f"{first.capitalize()} ({n})" + (f", et {second}" if rng.random() < 0.5 else "")


def signed_in(url: str) -> requests.Session:
    """Return an HTTP session of the bench organiser, signed in through the real form."""
    http = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', http.get(f"{url}/login", timeout=10).text)[1]
    http.post(f"{url}/login", data={"email": "bench@example.org", "password": PASSWORD, "csrf_token": token},
              timeout=30)
    return http


async def lean_phones(url: str, code: str, count: int, name: str) -> list[LeanPhone]:
    """Connect and join `count` lean phones to a code, 20 at a time."""
    phones: list[LeanPhone] = []

    async def one(i: int):
        phone = LeanPhone(url, lambda: None)
        await phone.connect()
        ack = await phone.call("join", {"code": code, "name": f"{name} {i}"}, TIMEOUT)
        assert ack.get("ok"), ack
        phones.append(phone)

    for start in range(0, count, 20):
        await asyncio.gather(*(one(i) for i in range(start, min(count, start + 20))))
    return phones


async def post_all(phones: list, jobs: list[tuple[str, dict, str]]) -> int:
    """Post (code, tags, text) jobs spread over the phones, 100 at a time; return how many were stored."""
    stored = 0
    for start in range(0, len(jobs), 100):
        acks = await asyncio.gather(*(phones[i % len(phones)].call("post", {
            "code": code, "client_id": f"seed-{code}-{i:05d}", "text": text, "tags": tags}, TIMEOUT)
            for i, (code, tags, text) in enumerate(jobs[start:start + 100], start)))
        stored += sum(bool(a.get("ok")) for a in acks)
        refused = [a for a in acks if not a.get("ok")]
        if refused:
            print(f"refused: {len(refused)}, e.g. {refused[0]}", file=sys.stderr)
    return stored


async def seed(url: str, server, cafe_code: str, tables: list[dict], ideas: int, rng: random.Random) -> dict:
    """Fill the event as a day would; return what was stored."""
    sessions = {s["key"]: s for s in json.loads(server.cli("sessions", "demo", "--json").stdout)}
    console = await console_client(url)
    ack = await console.call("phase_set", {"code": cafe_code, "phase": "round_1"}, timeout=TIMEOUT)
    assert ack["ok"], ack
    cafe_share = ideas // 2
    board_share = (ideas - cafe_share) // len(BOARDS)
    stored = {}
    # The café: ideas at each table (its tags come from the table), then every table's harvest.
    phones = []
    for table in tables:
        phones += [(table["code"], p) for p in await lean_phones(url, table["code"], 8, table["key"])]
    cafe_jobs = [(phones[i % len(phones)][0], {"category": rng.choice(["missions", "actions", "besoins"])},
                  idea(i, rng)) for i in range(cafe_share)]
    count = 0
    for start in range(0, len(cafe_jobs), 100):
        acks = await asyncio.gather(*(p.call("post", {"code": code, "client_id": f"cafe-{start + j:06d}", "text": text,
                                                      "tags": tags}, TIMEOUT)
                                      for j, (code, tags, text) in enumerate(cafe_jobs[start:start + 100])
                                      for p in [phones[(start + j) % len(phones)][1]]))
        count += sum(bool(a.get("ok")) for a in acks)
    stored[CAFE] = count
    harvests = 0
    host = socketio.AsyncClient(reconnection=False)
    await host.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
    for table in sessions[CAFE]["tables"]:
        token = table["host_url"].rsplit("/", 1)[1]
        joined = await host.call("host_join", {"token": token}, timeout=TIMEOUT)
        for category in joined.get("categories", []):
            text = "\n".join(f"- {idea(n, rng)}" for n in range(6))
            saved = await host.call("harvest_save", {"token": token, "category": category["key"], "text": text},
                                    timeout=TIMEOUT)
            harvests += bool(saved.get("ok"))
    await host.disconnect()
    stored["harvests"] = harvests
    # The boards.
    for key, frameworks in BOARDS.items():
        code = sessions[key]["code"]
        board_phones = await lean_phones(url, code, 20, key)
        share = board_share + (ideas - cafe_share - board_share * len(BOARDS) if key == list(BOARDS)[-1] else 0)
        jobs = [(code, {name: rng.choice(values) for name, values in frameworks.items()}, idea(i, rng))
                for i in range(share)]
        stored[key] = await post_all(board_phones, jobs)
        if key == "lecons-des-duos":  # a dot vote, closed and revealed
            ack = await console.call("vote_open", {"code": code, "budget": 3, "max_per_post": 2}, timeout=TIMEOUT)
            assert ack["ok"], ack
            posts = [p["id"] for p in ack["vote"].get("posts", [])] or None
            if posts is None:
                watcher = socketio.AsyncClient(reconnection=False)
                await watcher.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
                posts = [p["id"] for p in (await watcher.call("watch", {"code": code}, timeout=60))["posts"]]
                await watcher.disconnect()
            votes = await asyncio.gather(*(p.call("vote", {"code": code, "dots": {str(rng.choice(posts)): 1,
                                                                                    str(rng.choice(posts)): 1}},
                                                  TIMEOUT) for p in board_phones))
            stored["voters"] = sum(bool(v.get("ok")) for v in votes)
            await console.call("vote_close", {"code": code}, timeout=TIMEOUT)
            await console.call("vote_reveal", {"code": code}, timeout=TIMEOUT)
        for phone in board_phones:
            await phone.disconnect()
    for _, phone in phones:
        await phone.disconnect()
    await console.disconnect()
    return stored


class Load:
    """Phones posting to one board at a steady rate while a wall records when each post reaches it."""

    def __init__(self, url: str, code: str, tags: dict, phones: list, wall: socketio.AsyncClient):
        self.url, self.code, self.tags, self.phones, self.wall = url, code, tags, phones, wall
        self.sent: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self.errors = 0

        @wall.on("post")
        async def on_post(post):
            self.seen.setdefault(post.get("client_id"), now())

    async def run(self, rate: float, stop: asyncio.Event, prefix: str) -> None:
        """Post at `rate` per second, phones taking turns, without waiting for acks, until told to stop."""
        start, n, tasks = now(), 0, []
        while not stop.is_set():
            delay = start + n / rate - now()
            if delay > 0:
                await asyncio.sleep(delay)
            cid = f"{prefix}-{n:06d}"
            tasks.append(asyncio.create_task(self._post(self.phones[n % len(self.phones)], cid)))
            n += 1
        await asyncio.gather(*tasks)
        await asyncio.sleep(1)  # the wall's last posts

    async def _post(self, phone, cid: str) -> None:
        self.sent[cid] = now()
        try:
            ack = await phone.call("post", {"code": self.code, "client_id": cid, "tags": self.tags,
                                            "text": f"Idée en direct {cid}"}, TIMEOUT)
            self.errors += not ack.get("ok")
        except Exception:
            self.errors += 1

    def latencies(self, prefix: str, since: float = 0.0, until: float = float("inf")) -> list[float]:
        """Return post→wall seconds of the posts sent between two instants."""
        return [self.seen[c] - t for c, t in self.sent.items() if c.startswith(prefix + "-") and since <= t <= until
                and c in self.seen]


def figures(values: list[float]) -> dict:
    return {"posts": len(values), "p50_ms": round(percentile(values, 50) * 1000, 1) if values else None,
            "p95_ms": round(percentile(values, 95) * 1000, 1) if values else None}


def render(url: str, slug: str, a5: bool, out: dict) -> None:
    """Press « Générer la restitution (PDF) » and follow it as the console does; record the render's figures."""
    http = signed_in(url)
    page = http.get(f"{url}/console/", timeout=30).text
    base = f"/console/e/{slug}/booklets/restitution"
    form = re.search(rf'action="{base}">(.*?)</form>', page, re.S)[1]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)[1]
    out["started"] = now()
    started = http.post(f"{url}{base}", data={"csrf_token": token, **({"a5": "y"} if a5 else {})},
                        headers={"Accept": "application/json"}, timeout=30).json()
    rss, fmt, status = 0, started["format"], started
    process = psutil.Process(started["pid"])
    checked = now()
    while status["state"] == "running":
        try:
            rss = max(rss, process.memory_info().rss)
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.05)
        if now() - checked >= 0.25:  # as the console's script, a little more often
            status = http.get(f"{url}{base}/status", params={"format": fmt}, timeout=30).json()
            checked = now()
    out["finished"] = now()
    out["status"] = status
    out["rss_peak_mb"] = round(rss / 2**20, 1)
    if status["state"] == "done":
        pdf = http.get(f"{url}{base}.pdf", params={"format": fmt}, timeout=60).content
        out["pdf_bytes"] = len(pdf)


async def measure(url: str, server, code: str, tables: list[dict], args) -> dict:
    """Seed the event, then measure post→wall without and during the render."""
    rng = random.Random(args.seed)
    t0 = now()
    stored = await seed(url, server, code, tables, args.ideas, rng)
    seeded = now() - t0
    sessions = {s["key"]: s for s in json.loads(server.cli("sessions", "demo", "--json").stdout)}
    board = sessions["arbres-a-idees"]["code"]
    phones = await lean_phones(url, board, args.phones, "load")
    wall = socketio.AsyncClient(reconnection=False)
    await wall.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
    await wall.call("watch", {"code": board}, timeout=60)
    load = Load(url, board, {"movement": "amorcer"}, phones, wall)
    # Without the render.
    stop = asyncio.Event()
    task = asyncio.create_task(load.run(args.rate, stop, "quiet"))
    await asyncio.sleep(args.quiet)
    stop.set()
    await task
    quiet = figures(load.latencies("quiet"))
    # While the restitution renders: the load starts first, the render is pressed a second later.
    stop = asyncio.Event()
    task = asyncio.create_task(load.run(args.rate, stop, "render"))
    await asyncio.sleep(1)
    out: dict = {}
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(1) as pool:
        await loop.run_in_executor(pool, render, url, "demo", args.a5, out)
    stop.set()
    await task
    during = figures(load.latencies("render", out["started"], out["finished"]))
    for phone in phones:
        await phone.disconnect()
    await wall.disconnect()
    status = out["status"]
    return {"stored": stored, "seed_s": round(seeded, 1), "render": {
        "state": status["state"], "error": status.get("error"), "format": status["format"],
        "seconds_from_click": round(out["finished"] - out["started"], 2), "job_seconds": status.get("seconds"),
        "startup_seconds": status.get("startup_seconds"), "cpu_seconds": status.get("cpu_seconds"),
        "write_pdf_seconds": status.get("render_seconds"), "peak_rss_mb_psutil": out["rss_peak_mb"],
        "peak_rss_mb_getrusage": status.get("peak_memory_mb"), "pages": status.get("pages"),
        "pdf_mb": round(out.get("pdf_bytes", 0) / 1e6, 2)},
        "post_to_wall": {"without_render": quiet, "during_render": during}, "errors": load.errors,
        "lost": len(load.sent) - len(load.seen.keys() & load.sent.keys())}


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=2000, help="ideas posted before the render")
    parser.add_argument("--phones", type=int, default=100, help="phones posting during the measurement")
    parser.add_argument("--rate", type=float, default=20.0, help="posts per second, phones taking turns")
    parser.add_argument("--quiet", type=float, default=15.0, help="seconds of load measured without a render")
    parser.add_argument("--a5", action="store_true", help="render the A5 booklet instead of the A4 one")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with demo_world_cafe("gevent") as (server, code, tables):
        result = asyncio.run(measure(server.url, server, code, tables, args))
    result["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    r, p = result["render"], result["post_to_wall"]
    print(f"{os.cpu_count()} CPUs; load average (1 min) {result['load_average'][0]} before, "
          f"{result['load_average'][1]} after: above the CPU count, other work skews every figure")
    print(f"event: {result['stored']} (seeded in {result['seed_s']} s)")
    print(f"render ({r['format']}): {r['state']}{' — ' + r['error'] if r['error'] else ''}; "
          f"{r['seconds_from_click']} s from the click to « done » (job {r['job_seconds']} s, {r['cpu_seconds']} s of CPU: "
          f"start-up {r['startup_seconds']} s, write_pdf {r['write_pdf_seconds']} s); "
          f"peak memory {r['peak_rss_mb_psutil']} MB (psutil), "
          f"{r['peak_rss_mb_getrusage']} MB (getrusage); {r['pages']} pages, {r['pdf_mb']} MB")
    print(f"post→wall at {args.rate:g} posts/s from {args.phones} phones: without the render p50 "
          f"{p['without_render']['p50_ms']} ms, p95 {p['without_render']['p95_ms']} ms "
          f"({p['without_render']['posts']} posts); during it p50 {p['during_render']['p50_ms']} ms, p95 "
          f"{p['during_render']['p95_ms']} ms ({p['during_render']['posts']} posts); errors {result['errors']}, "
          f"lost {result['lost']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
