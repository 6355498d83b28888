"""Vote fan-out: how long after « Ouvrir le vote » every phone holds the list of ideas to put its dots on.

Phones are not sent ideas outside a vote: the opening's `vote_state` carries the list (an older server made
each phone fetch it with `watch`, which this script still does when the list is absent).
Run from the repository root:  python bench/vote_open.py [--phones 300] [--posts 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from phases import TIMEOUT, console_client, demo_world_cafe, join_phones  # noqa: E402


async def run(url: str, code: str, tables: list[dict], phones: int, posts: int, pid: int,
              profile: Path | None = None) -> dict:
    """Join the phones, have them post `posts` ideas, open the vote, and time each phone's list."""
    loaded: list[tuple[float, int]] = []

    async def fetch(client):
        ack = await client.call("watch", {"code": code}, timeout=60)
        loaded.append((time.perf_counter(), len(ack["posts"]) if ack.get("ok") else -1))

    def listen(client):
        @client.on("vote_state")
        async def on_vote_state(state):
            if state["state"] == "open" and "posts" in state:
                loaded.append((time.perf_counter(), len(state["posts"])))
            elif state["state"] == "open":
                asyncio.ensure_future(fetch(client))  # a server that does not send the list with the opening

    console = await console_client(url)
    await console.call("phase_set", {"code": code, "phase": "round_1"}, timeout=TIMEOUT)  # posting opens
    clients = await join_phones(url, tables, phones, listen)
    for start in range(0, posts, 50):
        await asyncio.gather(*(clients[i % phones].call("post", {
            "code": tables[i % phones % len(tables)]["code"], "client_id": f"vote-bench-{i}",
            "text": f"Idée numéro {i} : une action concrète pour coopérer sur le territoire"}, timeout=TIMEOUT)
            for i in range(start, min(posts, start + 50))))
    server = psutil.Process(pid)
    cpu = sum(server.cpu_times()[:2])
    sent = time.perf_counter()
    ack = await console.call("vote_open", {"code": code, "budget": 5, "max_per_post": 2}, timeout=TIMEOUT)
    assert ack["ok"], ack
    deadline = time.monotonic() + 120
    while len(loaded) < phones and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    cpu = sum(server.cpu_times()[:2]) - cpu
    result = {"phones": phones, "posts": posts, **_figures(loaded, sent, posts), "server_cpu_s": round(cpu, 2)}
    # Then every phone fetches the list at once, as after a server restart or a Wi-Fi access point rebooting.
    loaded.clear()
    spy = subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "--output",
                            str(profile), "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) \
        if profile else None
    await asyncio.sleep(1 if spy else 0)
    cpu = sum(server.cpu_times()[:2])
    sent = time.perf_counter()
    await asyncio.gather(*(fetch(client) for client in clients), return_exceptions=True)
    cpu = sum(server.cpu_times()[:2]) - cpu
    result["refetch"] = {**_figures(loaded, sent, posts), "server_cpu_s": round(cpu, 2)}
    if spy:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=30)
    for client in clients + [console]:
        await client.disconnect()
    return result


def _figures(loaded: list[tuple[float, int]], sent: float, posts: int) -> dict:
    times = sorted((at - sent) * 1000 for at, _count in loaded)
    return {"loaded": len(loaded), "complete_lists": sum(count == posts for _at, count in loaded),
            "median_ms": round(statistics.median(times), 1) if times else None,
            "last_ms": round(times[-1], 1) if times else None}


def main() -> None:
    """Start a server with the demo event, open a vote over its world café, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=300)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--async-mode", choices=["gevent", "eventlet"], default="gevent")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--py-spy", type=Path, metavar="FILE", help="profile the server during the refetch into FILE "
                        "(py-spy's collapsed stacks)")
    args = parser.parse_args()
    with demo_world_cafe(args.async_mode) as (server, code, tables):
        result = asyncio.run(run(server.url, code, tables, args.phones, args.posts, server.process.pid, args.py_spy))
    print(f"{result['phones']} phones, {result['posts']} ideas, {args.async_mode}: from « Ouvrir le vote » to each "
          f"phone's list — {result['loaded']} loaded ({result['complete_lists']} complete), median "
          f"{result['median_ms']} ms, last {result['last_ms']} ms; server CPU {result['server_cpu_s']} s")
    again = result["refetch"]
    print(f"then every phone fetching it at once with `watch` — {again['loaded']} loaded ({again['complete_lists']} "
          f"complete), median {again['median_ms']} ms, last {again['last_ms']} ms; server CPU {again['server_cpu_s']} s")
    if args.json:
        args.json.write_text(json.dumps({**result, "async_mode": args.async_mode}, indent=2))


if __name__ == "__main__":
    main()
