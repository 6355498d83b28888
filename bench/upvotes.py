"""Upvotes under load: N phones of a round table upvote questions; how long each upvote takes to reach the console and the wall.

Phones post some questions, then upvote them at --rate votes/s for --duration seconds while a few phones go on
posting questions; the moderator's console and a wall record every `upvotes` and `post` event. Each upvote's
latency is from its send (in a generator process) to the first `upvotes` event for its question whose count has
reached the count its ack returned; posts are timed from their send to the wall's `post` event, in the same run.
Run from the repository root:  python bench/upvotes.py [--phones 1000] [--rate 100] [--duration 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing as mp
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from phases import PASSWORD, organiser_cookie  # noqa: E402
from phones import Fleet as PhoneFleet  # noqa: E402
from phones import (CALL_TIMEOUT, CONNECT_TIMEOUT, ProcGroup, WorkerState, Workers, close_all,  # noqa: E402
                    connect_phone, cpu_of, limits_env, machine, machine_busy, mib, next_command, profile_top,
                    reap, spread)
from server import Server  # noqa: E402  (tests/server.py: a real `rouages serve` on 127.0.0.1)

EVENT = """
slug: bench-upvotes
title: Banc d'essai des votes
programme:
  - date: "2026-06-10"
    items:
      - id: table-ronde
        start: "14:00"
        end: "15:45"
        title: Politiques publiques et coopérations territoriales, quels enjeux ?
        kind: round_table
        workshop: round_table
        question: Quelle question poseriez-vous aux intervenants ?
        speakers:
          - {name: Anne-Laure Federici, role: Animation, organisation: RTES}
          - {name: Laurent Buchaillat, role: Secrétaire général pour les affaires régionales, organisation: SGAR}
          - {name: Patricia Andriot, role: Vice-présidente, organisation: RTES}
"""
SESSION_FORMAT = "round_table"
OPEN_PHASE = "questions"  # « Questions de la salle »: posting open
SEED_RATE = 20.0  # questions per second while the room fills the list before the votes start
DRAIN = 5.0  # seconds after the last send during which the screens may still receive what was acked
PHONES_PER_PROC = 250
START_LEAD = 1.0
CONNECT_CONCURRENCY = 10
now = time.monotonic  # CLOCK_MONOTONIC: one clock for every process of the machine


# ---------------------------------------------------------------------------------------------------------------
# Generator processes: each holds some phones and runs its share of a plan


async def send(phone, code: str, action: tuple, record: list, errors: Counter) -> None:
    """Send one post or upvote; record = [sent, acked, result] (result: post id, or the ack's upvote count)."""
    kind, arg = action
    if kind == "post":
        event, payload = "post", {"code": code, "client_id": arg, "text": f"Question {arg} : comment financer "
                                  "les coopérations dans la durée ?", "tags": {}}
    else:
        event, payload = "upvote", {"code": code, "post_id": arg, "on": True}
    record[0] = now()
    try:
        ack = await phone.call(event, payload, CALL_TIMEOUT)
    except Exception as exc:
        errors[f"{kind}:{type(exc).__name__}"] += 1
        return
    if not ack.get("ok"):
        errors[f"{kind}:{ack.get('error', {}).get('code')}"] += 1
        return
    record[1] = now()
    record[2] = ack["post"]["id"] if kind == "post" else ack["upvotes"]
    if kind == "upvote" and not ack.get("mine"):
        errors["upvote:not_mine"] += 1


async def run_plan(phones: list, code: str, plan: list, start: float, errors: Counter, stop) -> list:
    """Send this process's share of a plan on schedule (open loop); return (n, action, sent, acked, result)."""
    records, tasks = [], []
    for n, offset, local, action in plan:
        delay = start + offset - now()
        while delay > 0 and not stop.is_set():
            await asyncio.sleep(min(delay, 0.5))
            delay = start + offset - now()
        if stop.is_set():
            break
        record = [None, None, None]
        records.append((n, action, record))
        tasks.append(asyncio.create_task(send(phones[local], code, action, record, errors)))
    if tasks:
        await asyncio.wait(tasks, timeout=CALL_TIMEOUT + 5)
    return [(n, action, *record) for n, action, record in records]


async def worker_async(wid, url, code, indices, kind, commands, results, stop, parent_pid) -> None:
    state = WorkerState()
    phones: list = []
    try:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        t0 = now()
        phones = list(await asyncio.gather(*(connect_phone(kind, url, code, i, state, gate) for i in indices)))
        live = [p for p in phones if p is not None]
        results.put(("ready", wid, len(live), dict(state.errors), now() - t0))
        usable = [p if p is not None else live[i % len(live)] for i, p in enumerate(phones)] if live else []
        while True:
            command = await next_command(commands, parent_pid, stop)
            if command is None or command[0] == "close":
                break
            _, step, start, plan = command
            state.errors.clear()
            cpu0 = time.process_time()
            records = await run_plan(usable, code, plan, start, state.errors, stop) if usable else []
            results.put(("result", wid, step, records, dict(state.errors), state.disconnects,
                         time.process_time() - cpu0))
    finally:
        await close_all(phones)
        results.put(("closed", wid))


def worker_main(*args) -> None:
    """Entry point of a generator process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(worker_async(*args))
    except Exception as exc:
        args[5].put(("failed", args[0], repr(exc)))


# ---------------------------------------------------------------------------------------------------------------
# The screens: the moderator's console and a wall, in the parent process


class Screen:
    """A console or a wall watching the session: every `upvotes` count per question and every `post`, timed."""

    def __init__(self, name: str):
        self.name = name
        self.counts: dict[int, list[tuple[int, float]]] = defaultdict(list)  # post id -> [(upvotes, arrival)]
        self.events = 0
        self.posts: dict[str, float] = {}
        self.foreign_posts = 0
        self.disconnects = 0
        self.client = None

    async def connect(self, url: str, code: str, headers: dict | None = None) -> None:
        import socketio

        client = socketio.AsyncClient(reconnection=False, handle_sigint=False)

        @client.on("upvotes")
        async def on_upvotes(data):
            self.events += 1
            self.counts[data["id"]].append((data["upvotes"], now()))

        @client.on("post")
        async def on_post(post):
            self.posts.setdefault(post.get("client_id"), now())

        @client.event
        async def disconnect(*_):
            self.disconnects += 1

        await asyncio.wait_for(client.connect(url, transports=["websocket"], headers=headers or {},
                                              wait_timeout=CONNECT_TIMEOUT), CONNECT_TIMEOUT)
        ack = await client.call("watch", {"code": code}, timeout=CALL_TIMEOUT)
        if not ack.get("ok"):
            raise RuntimeError(f"{self.name}: watch refused: {ack}")
        self.client = client

    def reached(self, post_id: int, count: int, sent: float) -> float | None:
        """When this screen first showed the question at `count` upvotes or more after `sent`, or None."""
        # Without withdrawals a question's count only grows: the first frame at `count` or above shows this vote.
        return min((at for upvotes, at in self.counts.get(post_id, []) if upvotes >= count and at >= sent),
                   default=None)


# ---------------------------------------------------------------------------------------------------------------
# Orchestration


def vote_plan(phones: int, questions: list[int], rate: float, duration: float, seed: int) -> list:
    """(offset, phone, ("upvote", post id)): phones take turns; questions drawn with a long tail, once per phone."""
    rng = random.Random(seed)
    weights = [1 / (k + 1) ** 0.8 for k in range(len(questions))]
    voted: dict[int, set] = defaultdict(set)
    plan = []
    for n in range(int(rate * duration)):
        phone = n % phones
        choice = None
        for _ in range(50):
            pick = rng.choices(questions, weights)[0]
            if pick not in voted[phone]:
                choice = pick
                break
        if choice is None:
            left = [q for q in questions if q not in voted[phone]]
            if not left:
                continue
            choice = rng.choice(left)
        voted[phone].add(choice)
        plan.append((n / rate, phone, ("upvote", choice)))
    return plan


def post_plan(phones: int, rate: float, duration: float, prefix: str, seed: int, offset0: float = 0.0) -> list:
    """(offset, phone, ("post", client id)) at `rate` questions/s from phones drawn at random."""
    rng = random.Random(seed)
    return [(offset0 + i / rate, rng.randrange(phones), ("post", f"{prefix}-{i:06d}"))
            for i in range(int(rate * duration))]


class Fleet(PhoneFleet):
    """The generator processes holding the phones (no wall of their own: the screens are timed apart)."""

    async def open(self) -> None:
        ctx = mp.get_context("spawn")
        k = self.args.procs
        self.results, self.stop = ctx.Queue(), ctx.Event()
        t0 = now()
        for wid in range(k):
            commands = ctx.Queue()
            indices = list(range(wid, self.args.phones, k))
            proc = ctx.Process(target=worker_main, name=f"phones-{wid}", daemon=True,
                               args=(wid, self.urls[wid % len(self.urls)], self.code, indices,
                                     self.args.phone_client, commands, self.results, self.stop, os.getpid()))
            proc.start()
            self.procs.append(proc)
            self.commands.append(commands)
        ready = await self._collect("ready", k, timeout=60 + self.args.phones * 0.2)
        if len(ready) < k:
            raise RuntimeError(f"only {len(ready)} of {k} generator processes got their phones connected")
        for _, _, connected, errors, _ in ready:
            self.connected += connected
            self.join_errors.update(errors)
        self.connect_s = now() - t0
        if not self.connected:
            raise RuntimeError(f"no phone could join: {dict(self.join_errors)}")

    async def run(self, step: int, plan: list) -> dict:
        """Run a plan of (offset, phone, action) across the processes; return its records and the CPU used."""
        k = self.args.procs
        shares: list[list] = [[] for _ in range(k)]
        for n, (offset, phone, action) in enumerate(plan):
            shares[phone % k].append((n, offset, phone // k, action))
        start = now() + START_LEAD
        for wid in range(k):
            self.commands[wid].put(("run", step, start, shares[wid]))
        span = plan[-1][0] if plan else 0.0
        replies = await self._collect("result", k, timeout=START_LEAD + span + CALL_TIMEOUT + 60, step=step)
        if len(replies) < k:
            raise RuntimeError(f"only {len(replies)} of {k} generator processes reported step {step}")
        records, errors, disconnects, cpu = [], Counter(), 0, []
        for _, _, _, recs, errs, disc, wcpu in replies:
            records.extend(recs)
            errors.update(errs)
            disconnects += disc
            cpu.append(wcpu)
        records.sort()
        end = max((r[2] for r in records if r[2] is not None), default=start)
        return {"start": start, "end": end, "records": records, "errors": errors, "disconnects": disconnects,
                "generator_cpu": cpu}


def start_profiler(pid: int, out: Path, seconds: float, idle: bool) -> subprocess.Popen | None:
    """Start py-spy on the server; with `idle`, the samples of threads waiting (an fsync, a lock) too."""
    exe = shutil.which("py-spy") or next((str(p) for p in [Path(sys.executable).parent / "py-spy"] if p.exists()),
                                         None)
    if exe is None:
        print("warning: py-spy not found (pip install py-spy); no profile taken", file=sys.stderr)
        return None
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
                             *(["--idle"] if idle else []), "--format", "raw", "--rate", "100", "--nonblocking",
                             "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_server(args, tmp: Path):
    """Start Rouages (one worker on SQLite, or --workers on PostgreSQL and Redis) with the demo's round table."""
    env = limits_env(args)
    if args.workers > 1:
        srv = Workers(tmp, args)
        key = secrets.token_urlsafe(32)  # one signing key, so the console's cookie holds on every worker
        for server in srv.servers:
            server.env["ROUAGES_SECRET_KEY"] = key
    else:
        srv = Server(tmp / "data", async_mode=args.async_mode, extra_env=env)
    event = tmp / "table-ronde.yaml"
    event.write_text(EVENT, encoding="utf-8")
    srv.cli("event", "import", str(event))
    srv.cli("user", "add", "bench@example.org", "--password", PASSWORD)
    sessions = json.loads(srv.cli("sessions", "bench-upvotes", "--json").stdout)
    code = next(s["code"] for s in sessions if s["workshop"] == SESSION_FORMAT)
    return srv, code


async def wait_screens(screens: list[Screen], done, deadline: float) -> None:
    while now() < deadline and not all(done(s) for s in screens):
        await asyncio.sleep(0.05)


async def bench(args) -> dict:
    """Start the server, fill the phones and screens, run the seed and the votes, and return the figures."""
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="rouages-bench-upvotes-") as tmp:
        srv, code = start_server(args, Path(tmp))
        urls = srv.urls if isinstance(srv, Workers) else [srv.url]
        fleet = Fleet(urls, code, args)
        screens = [Screen("console"), Screen("wall")]
        profiler = None
        try:
            srv.start()
            pids = srv.pids if isinstance(srv, Workers) else [srv.process.pid]
            server = ProcGroup([psutil.Process(pid) for pid in pids])
            cookie = organiser_cookie(urls[-1])
            await screens[0].connect(urls[-1], code, {"Cookie": cookie})
            await screens[1].connect(urls[0], code)
            ack = await screens[0].client.call("phase_set", {"code": code, "phase": OPEN_PHASE}, timeout=CALL_TIMEOUT)
            if not ack.get("ok"):
                raise RuntimeError(f"phase_set refused: {ack}")
            await fleet.open()
            out |= {"phones_asked": args.phones, "phones_connected": fleet.connected,
                    "connect_join_s": round(fleet.connect_s, 2), "join_errors": dict(fleet.join_errors)}

            # The room fills the list of questions first.
            prefix = secrets.token_hex(3)
            seed = await fleet.run(0, post_plan(args.phones, SEED_RATE, args.questions / SEED_RATE,
                                                f"seed{prefix}", args.seed))
            questions = [r[4] for r in seed["records"] if r[4] is not None]
            if len(questions) < 2:
                raise RuntimeError(f"the seed questions were refused: {dict(seed['errors'])}")
            await wait_screens(screens, lambda s: len(s.posts) >= len(questions), now() + DRAIN)
            await asyncio.sleep(1.0)

            # Then the votes, while a few phones go on asking.
            votes = vote_plan(args.phones, questions, args.rate, args.duration, args.seed)
            asks = post_plan(args.phones, args.post_rate, args.duration, f"live{prefix}", args.seed + 1,
                             offset0=0.5 / args.post_rate) if args.post_rate > 0 else []
            plan = sorted(votes + asks, key=lambda item: item[0])
            if args.py_spy:
                profiler = start_profiler(server.pid, args.py_spy, args.duration + START_LEAD, args.py_spy_idle)
            cpu0, busy0, me0 = cpu_of(server), machine_busy(), time.process_time()
            run = await fleet.run(1, plan)
            acked_votes = [r for r in run["records"] if r[1][0] == "upvote" and r[3] is not None]
            acked_posts = [r for r in run["records"] if r[1][0] == "post" and r[3] is not None]
            expected = Counter(r[1][1] for r in acked_votes)

            highest: dict[int, int] = {}
            for r in acked_votes:
                highest[r[1][1]] = max(highest.get(r[1][1], 0), r[4])

            def complete(screen):
                return (all(screen.counts.get(p) and screen.counts[p][-1][0] >= n for p, n in highest.items())
                        and all(r[1][1] in screen.posts for r in acked_posts))

            await wait_screens(screens, complete, run["end"] + DRAIN)
            stop = now()
            cpu1, busy1, me1 = cpu_of(server), machine_busy(), time.process_time()
            server_cpu, gen_cpu = cpu1 - cpu0, sum(run["generator_cpu"]) + (me1 - me0)
            elapsed = stop - run["start"]
            # Read the stored counts on a connection of its own: the screens above may have been dropped.
            reader = Screen("reader")
            await reader.connect(urls[0], code, {"Cookie": cookie})
            listing = await reader.client.call("watch", {"code": code}, timeout=CALL_TIMEOUT)
            await reader.client.disconnect()
            stored = {p["id"]: p["upvotes"] for p in listing.get("posts", [])}
            out |= figures(args, run, screens, acked_votes, acked_posts, expected, stored)
            out |= {"server_cpu_s": round(server_cpu, 2),
                    "server_cpu_pct": round(100 * server_cpu / elapsed, 1) if elapsed > 0 else None,
                    "generator_cpu_s": round(gen_cpu, 2),
                    "other_cpu_s": round(max(0.0, busy1 - busy0 - server_cpu - gen_cpu), 2),
                    "elapsed_s": round(elapsed, 2), "server_rss_mib": mib(server.memory_info().rss),
                    "questions_seeded": len(questions)}
        finally:
            for screen in screens:
                if screen.client is not None:
                    try:
                        await asyncio.wait_for(screen.client.disconnect(), 5)
                    except Exception:
                        pass
            await fleet.close()
            srv.stop()
            if profiler is not None:
                try:
                    profiler.wait(timeout=30)
                except Exception:
                    profiler.kill()
        if profiler is not None and args.py_spy.exists():
            out["profile"] = profile_top(args.py_spy)
        out["server_log_errors"] = [line for line in srv.log.read_text(errors="replace").splitlines()
                                    if "ERROR" in line or "Traceback" in line][:5]
    return out


def figures(args, run, screens, acked_votes, acked_posts, expected, stored) -> dict:
    """Latencies and counts of the vote phase."""
    sent = [r for r in run["records"] if r[2] is not None]
    out = {"votes_sent": sum(r[1][0] == "upvote" for r in sent), "votes_acked": len(acked_votes),
           "questions_sent": sum(r[1][0] == "post" for r in sent), "questions_acked": len(acked_posts),
           "errors": sum(run["errors"].values()), "error_kinds": dict(run["errors"]),
           "disconnects": run["disconnects"] + sum(s.disconnects for s in screens),
           "ack_ms": spread([r[3] - r[2] for r in acked_votes])}
    span = max((r[3] for r in acked_votes), default=run["start"]) - run["start"]
    out["achieved_votes_per_s"] = round(len(acked_votes) / span, 1) if span > 0 else 0.0
    for screen in screens:
        latencies, missed = [], 0
        for _, (_, post_id), t_sent, _, count in acked_votes:
            at = screen.reached(post_id, count, t_sent)
            if at is None:
                missed += 1
            else:
                latencies.append(at - t_sent)
        out[f"upvote_to_{screen.name}_ms"] = spread(latencies)
        out[f"upvote_missed_by_{screen.name}"] = missed
        out[f"upvotes_events_{screen.name}"] = screen.events
    wall = screens[1]
    post_latencies = [wall.posts[cid] - t_sent for _, (_, cid), t_sent, _, _ in acked_posts if cid in wall.posts]
    out["post_to_wall_ms"] = spread(post_latencies)
    out["posts_missed_by_wall"] = len(acked_posts) - len(post_latencies)
    # Exact counts: every acked vote counted once, on the server as on both screens.
    wrong = {p: (n, stored.get(p)) for p, n in expected.items() if stored.get(p) != n}
    out["stored_counts_exact"] = not wrong
    out["stored_counts_wrong"] = {str(p): v for p, v in list(wrong.items())[:10]}
    out["screens_final_counts_exact"] = all(s.counts.get(p) and s.counts[p][-1][0] == n
                                            for s in screens for p, n in expected.items())
    out["questions_voted"] = len(expected)
    out["top_question_upvotes"] = max(expected.values(), default=0)
    return out


def lat(d: dict) -> str:
    return " / ".join("-" if d[k] is None else f"{d[k]:.1f}" for k in ("p50", "p95", "p99", "max"))


def report(args, res: dict, where: dict) -> str:
    """The figures as a few lines of text."""
    db = "SQLite, one worker" if args.workers == 1 else f"PostgreSQL + Redis, {args.workers} workers"
    rows = [
        ("server", f"{db}, {args.async_mode}; {where['nproc']} cpu, {where['cpu']}"),
        ("phones connected (connect+join s)", f"{res['phones_connected']} / {res['phones_asked']} "
                                              f"({res['connect_join_s']}) in {args.procs} process(es), "
                                              f"{args.phone_client} client"),
        ("questions seeded, then asked live", f"{res['questions_seeded']}, {res['questions_acked']} / "
                                              f"{res['questions_sent']} acked ({args.post_rate:g}/s)"),
        ("upvotes sent / acked", f"{res['votes_sent']} / {res['votes_acked']} on {res['questions_voted']} "
                                 f"questions (top: {res['top_question_upvotes']}), {args.rate:g}/s offered for "
                                 f"{args.duration:g} s, {res['achieved_votes_per_s']}/s achieved"),
        ("counts exact (stored; both screens' last)", f"{res['stored_counts_exact']}; "
                                                      f"{res['screens_final_counts_exact']}"),
        ("errors; disconnects", f"{res['errors']} {res['error_kinds'] or ''}; {res['disconnects']}"),
        ("upvote ack ms p50/p95/p99/max", lat(res["ack_ms"])),
        ("upvote→moderator ms p50/p95/p99/max", lat(res["upvote_to_console_ms"])
         + f"  (missed {res['upvote_missed_by_console']}, {res['upvotes_events_console']} events)"),
        ("upvote→wall ms p50/p95/p99/max", lat(res["upvote_to_wall_ms"])
         + f"  (missed {res['upvote_missed_by_wall']}, {res['upvotes_events_wall']} events)"),
        ("post→wall ms p50/p95/p99/max", lat(res["post_to_wall_ms"]) + f"  (missed {res['posts_missed_by_wall']})"),
        ("server CPU s (% of one core)", f"{res['server_cpu_s']} ({res['server_cpu_pct']} %) over "
                                         f"{res['elapsed_s']} s; RSS {res['server_rss_mib']} MiB"),
        ("generator CPU s; other processes' CPU s", f"{res['generator_cpu_s']}; {res['other_cpu_s']}"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    prof = res.get("profile")
    if prof:
        lines.append(f"server profile ({prof['samples']} py-spy samples): top functions by own samples")
        lines.extend(f"  {pct:5.1f}%  {f}" for f, pct in prof["self_pct"][:10])
        lines.append("  by inclusive samples:")
        lines.extend(f"  {pct:5.1f}%  {f}" for f, pct in prof["inclusive_pct"][:15])
    if res.get("server_log_errors"):
        lines.append(f"warning: server log has error lines, first: {res['server_log_errors'][0]}")
    if res["other_cpu_s"] > 0.1 * res["elapsed_s"]:
        lines.append(f"warning: other processes used {res['other_cpu_s']} CPU s; the figures are skewed")
    return "\n".join(lines)


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=1000, help="phones joining the round table [1000]")
    parser.add_argument("--rate", type=float, default=100, help="upvotes per second offered [100]")
    parser.add_argument("--duration", type=float, default=20, help="seconds of votes [20]")
    parser.add_argument("--questions", type=int, default=40, help="questions posted before the votes [40]")
    parser.add_argument("--post-rate", type=float, default=1.0, help="questions per second during the votes [1]")
    parser.add_argument("--procs", type=int, default=None, help=f"generator processes [one per {PHONES_PER_PROC} phones]")
    parser.add_argument("--phone-client", choices=("socketio", "lean"), default="lean",
                        help="lean: bench/phones.py's minimal WebSocket/Engine.IO client, which counts the posts "
                             "it is sent without decoding them; socketio: python-socketio AsyncClient, which "
                             "decodes each (at 1,000 phones, more CPU than the server's) [lean]")
    parser.add_argument("--async-mode", choices=("gevent", "eventlet"), default="gevent")
    parser.add_argument("--workers", type=int, default=1,
                        help="Rouages workers: 1 on SQLite; 2 or more on PostgreSQL joined by Redis [1]")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis URL for --workers [%(default)s]")
    parser.add_argument("--py-spy", type=Path, metavar="FILE", help="profile the server during the votes (collapsed stacks)")
    parser.add_argument("--py-spy-idle", action="store_true",
                        help="count the samples of waiting threads too (an fsync on the event loop shows only so)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the plans [1]")
    args = parser.parse_args(argv)
    args.curve = None  # phones.limits_env: the deployed per-participant limits stay on
    if args.procs is None:
        args.procs = max(1, math.ceil(args.phones / PHONES_PER_PROC))
    if args.phones < 1 or args.rate <= 0 or args.duration <= 0 or args.questions < 2 or args.post_rate < 0:
        parser.error("--phones, --rate and --duration must be positive, --questions at least 2")
    if args.procs > min(args.phones, 32) or args.phones > 5000 or args.rate * args.duration > 200_000:
        parser.error("refusing a run that large (over 5000 phones, 200,000 votes, or more processes than phones)")
    if args.rate * args.duration > args.phones * args.questions:
        parser.error("more votes than phones × questions: a phone upvotes a question once")
    return args


def main(argv=None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        res = asyncio.run(bench(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; server and generator processes stopped", file=sys.stderr)
        return 130
    finally:
        reap(mp.active_children())
    where = machine()
    print(report(args, res, where))
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) if isinstance(v, Path) else v
                                                  for k, v in vars(args).items()},
                                         "machine": where, "results": res}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
