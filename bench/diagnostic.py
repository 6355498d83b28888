"""Benchmark a diagnostic's answers: the ack time of `diagnostic.answer` as the room fills with teams.

Each answer stores one record, then recomputes the team's result and the room's aggregate and broadcasts both, so
its cost grows with the number of teams. Runs in-process on a fresh SQLite database (Flask-SocketIO's test client);
prints a table. Run from the repository root:  python bench/diagnostic.py [--teams 10 30 60] [--members 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app import create_app  # noqa: E402
from app.extensions import socketio  # noqa: E402
from app.factory import ensure_schema  # noqa: E402
from app.services.events import import_event  # noqa: E402
from workshops import registry  # noqa: E402

EVENT = """
slug: bench-diag
title: Bench
programme:
  - date: "2026-06-09"
    items:
      - {id: diagnostic, start: "17:00", end: "18:00", title: Diagnostic, workshop: diagnostic}
"""
FUNCTIONS = ["animation", "creativite", "valorisation", "support", "gestion_de_projet"]
STAGES = ["a_lancer", "emergence", "structuration", "consolidation", "rayonnement"]


def run(teams: int, members: int) -> tuple[float, float, float]:
    """Fill a room with `teams` teams answering every function; return median, p95 and max ack times in ms."""
    data = Path(tempfile.mkdtemp(prefix="rouages-bench-diag-"))
    app = create_app({"DATA_DIR": data, "SECRET_KEY": "bench", "ASYNC_MODE": "threading", "MESSAGE_QUEUE": None,
                      "AUTO_MIGRATE": False, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data / 'bench.db'}",
                      "LIMIT_POSTS_BURST": 0, "LIMIT_JOINS_BURST": 0, "LIMIT_WATCH_BURST": 0})
    ensure_schema(app)
    source = data / "event.yaml"
    source.write_text(EVENT, encoding="utf-8")
    with app.app_context():
        code = import_event(source, registry())[0].sessions[0].code
    wall = socketio.test_client(app)
    wall.emit("watch", {"code": code}, callback=True)
    times = []
    for team in range(teams):
        phones = [socketio.test_client(app) for _ in range(members)]
        for n, phone in enumerate(phones):
            phone.emit("join", {"code": code, "name": f"P{team}-{n}"}, callback=True)
            phone.emit("diagnostic.team", {"code": code, "name": f"Équipe {team}"}, callback=True)
        for index, function in enumerate(FUNCTIONS):
            started = time.perf_counter()
            ack = phones[index % members].emit("diagnostic.answer", {"code": code, "function": function,
                                                                     "stage": STAGES[(team + index) % 5],
                                                                     "indicators": [], "rev": 0}, callback=True)
            times.append((time.perf_counter() - started) * 1000)
            assert ack["ok"], ack
        for phone in phones:
            phone.get_received()
            phone.disconnect()
        wall.get_received()
    last = times[-len(FUNCTIONS) * max(1, teams // 10):]  # the answers of the last tenth of the room
    return statistics.median(last), sorted(last)[int(0.95 * (len(last) - 1))], max(last)


def main() -> None:
    """Print one row per room size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, nargs="+", default=[10, 30, 60])
    parser.add_argument("--members", type=int, default=3)
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, SQLite, {args.members} phones per team")
    print("| teams | answer ack, median (ms) | p95 (ms) | max (ms) |")
    print("| ---: | ---: | ---: | ---: |")
    for teams in args.teams:
        median, p95, worst = run(teams, args.members)
        print(f"| {teams} | {median:.1f} | {p95:.1f} | {worst:.1f} |")


if __name__ == "__main__":
    main()
