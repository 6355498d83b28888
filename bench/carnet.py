"""Personal carnets for a registration list: total time and peak memory of `rouages carnet --per-participant`.

Run from the repository root:  python bench/carnet.py [--people 120] [--a4] [--json out.json]

It makes a throw-away data directory with the demo event, puts N people on its registration list (a third of
them sharing an organisation, as at a real event), seats them all in the world café's rotation plan, then runs
the real command in its own process and samples the memory of that process and its children every 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path, where its name would hide the `carnet` package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
PUBLIC_URL = "http://192.168.1.20:5000"


def prepare(data_dir: Path, people: int) -> None:
    """Import the demo event into a fresh data directory, register `people` people and seat them in the world café."""
    from app import create_app
    from app.extensions import db
    from app.factory import ensure_schema
    from app.models import Attendance, Participant
    from app.services.events import demo_text, import_event
    from workshops import registry

    app = create_app({"DATA_DIR": data_dir, "PUBLIC_URL": PUBLIC_URL, "ASYNC_MODE": "threading", "MESSAGE_QUEUE": None})
    ensure_schema(app)
    with app.test_request_context():
        event, _counts = import_event(demo_text(), registry())
        cafe = next(s for s in event.sessions if s.workshop == "world_cafe")
        for n in range(1, people + 1):
            person = Participant(event_id=event.id, token=secrets.token_urlsafe(24), name=f"Personne Inscrite {n}",
                                 organisation=f"Structure {n % (people // 3 or 1)}", listed=True,
                                 registered_position=n, badge=secrets.token_urlsafe(9))
            db.session.add(person)
            db.session.flush()
            db.session.add(Attendance(session_id=cafe.id, participant_id=person.id))
        db.session.commit()
        registry()["world_cafe"].compute_plan(cafe, {})
        db.engine.dispose()


def run(data_dir: Path, out_dir: Path, a4: bool) -> dict:
    """Run the command, sampling the resident memory of its process tree; return time, peak and exit code."""
    command = [str(Path(sys.executable).parent / "rouages"), "--data", str(data_dir), "carnet", "demo", "--per-participant",
               "-o", str(out_dir)] + (["--a4"] if a4 else [])
    env = {**os.environ, "ROUAGES_PUBLIC_URL": PUBLIC_URL}
    before, load = resource.getrusage(resource.RUSAGE_CHILDREN), os.getloadavg()[0]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    root, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The CPU time says what the wall-clock time would be on an idle machine; the load says how idle it was.
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "load_before": round(load, 1),
            "peak_mb": round(peak / 1e6), "exit": process.returncode,
            "output": process.stdout.read().strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=120)
    parser.add_argument("--a4", action="store_true")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, out_dir = Path(tmp) / "data", Path(tmp) / "carnets"
        prepare(data_dir, options.people)
        figures = run(data_dir, out_dir, options.a4)
        files = sorted(out_dir.glob("*.pdf"))
        merged = out_dir / "carnets-all.pdf"
        figures.update({
            "people": options.people, "format": "A4" if options.a4 else "A5", "files": len(files),
            "pages_each": len(PdfReader(files[0]).pages) if files else 0,
            "pages_merged": len(PdfReader(merged).pages) if merged.exists() else 0,
            "merged_mb": round(merged.stat().st_size / 1e6, 1) if merged.exists() else 0,
            "total_mb": round(sum(f.stat().st_size for f in files) / 1e6, 1),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        })
    print(f"{figures['people']} personal carnets ({figures['format']}, {figures['pages_each']} pages each) and "
          f"the merged file ({figures['pages_merged']} pages, {figures['merged_mb']} MB): "
          f"{figures['seconds']} s ({figures['cpu_seconds']} s of CPU, load {figures['load_before']} before), "
          f"peak memory {figures['peak_mb']} MB (exit {figures['exit']}).")
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2), "utf-8")


if __name__ == "__main__":
    main()
