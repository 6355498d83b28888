"""Time the event exports on a large world café: how long one holds a worker; prints a table.

Run from the repository root:  python bench/export.py [--ideas 1000 3000 6000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.factory import ensure_schema  # noqa: E402
from app.models import Participant, Post, Vote  # noqa: E402
from app.services import exports  # noqa: E402
from app.services.events import import_event  # noqa: E402
from workshops import registry  # noqa: E402

CATEGORIES = ("missions", "actions", "besoins")


def filled_app(ideas: int, people: int = 300):
    """Return an app on a throw-away SQLite database holding the 15-table café with `ideas` ideas and 5 dots each."""
    data = Path(tempfile.mkdtemp(prefix="rouages-bench-export-"))
    app = create_app({"DATA_DIR": data, "SECRET_KEY": "bench", "ASYNC_MODE": "threading", "AUTO_MIGRATE": False,
                      "PUBLIC_URL": "http://127.0.0.1:5999", "MESSAGE_QUEUE": None})
    ensure_schema(app)
    with app.app_context():
        event, _ = import_event(ROOT / "tests" / "data" / "cafe15.yaml", registry())
        session = event.sessions[0]
        tables = session.tables
        crowd = [Participant(event_id=event.id, token=f"bench-{n:05d}", name=f"Personne {n}", organisation="Structure")
                 for n in range(people)]
        db.session.add_all(crowd)
        db.session.flush()
        posts = [Post(session_id=session.id, participant_id=crowd[n % people].id, client_id=f"bench-{n:07d}",
                      seq=n + 1, rev=n + 1, text=f"Idée {n} : mutualiser un poste pour animer la coopération",
                      tags={**tables[n % len(tables)].tags, "category": CATEGORIES[n % 3]}) for n in range(ideas)]
        db.session.add_all(posts)
        db.session.flush()
        db.session.add_all([Vote(session_id=session.id, participant_id=crowd[n].id,
                                 post_id=posts[(n * 7 + k) % ideas].id, dots=1) for n in range(people) for k in range(5)])
        session.last_seq = session.last_rev = ideas
        db.session.commit()
    return app


def best(fn, repeat: int) -> tuple[float, int]:
    """Run fn `repeat` times; return the best wall time in milliseconds and the size of what it returned."""
    wall, size = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        size = len(fn())
        wall = min(wall, time.perf_counter() - start)
    return wall * 1000, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, nargs="+", default=[1000, 3000, 6000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; best of {args.repeat}")
    print("| ideas | JSON ms | JSON KiB | CSV ms | CSV KiB |\n| --- | --- | --- | --- | --- |")
    for ideas in args.ideas:
        app = filled_app(ideas)
        with app.test_request_context():
            event = exports.event_or_refuse("cafe15")
            json_ms, json_size = best(partial(exports.as_json, event, registry()), args.repeat)
            csv_ms, csv_size = best(partial(exports.as_csv, event), args.repeat)
        print(f"| {ideas:,} | {json_ms:.0f} | {json_size // 1024:,} | {csv_ms:.0f} | {csv_size // 1024:,} |")


if __name__ == "__main__":
    main()
