"""The restitution PDF rendered out of the live server's process: started from the console, followed, downloaded."""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid

import psutil
import pypdf
import pytest
import requests
import socketio

from carnet import jobs
from conftest import DATA
from databases import BACKEND
from server import Server, serving

SLUG = "petite-rencontre"
TITLE = "Petite rencontre"
BASE = f"/console/e/{SLUG}/booklets/restitution"


def signed_in(url: str) -> requests.Session:
    """Return an HTTP session signed in as the organiser through the real form."""
    http = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', http.get(f"{url}/login", timeout=5).text)[1]
    answer = http.post(f"{url}/login", data={"email": "orga@example.org", "password": "correct-horse-battery",
                                             "csrf_token": token}, timeout=10)
    assert answer.url.endswith("/console/"), answer.url
    return http


def render_token(http: requests.Session, url: str) -> str:
    """Return the CSRF token of the console's render form."""
    page = http.get(f"{url}/console/", timeout=10).text
    form = re.search(rf'<form class="render__form" method="post" action="{BASE}">(.*?)</form>', page, re.S)[1]
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)[1]


def start(http: requests.Session, url: str, a5: bool = False) -> dict:
    """Press « Générer la restitution (PDF) » as the page's script does; return the JSON answer."""
    data = {"csrf_token": render_token(http, url), **({"format": "a5"} if a5 else {})}
    answer = http.post(f"{url}{BASE}", data=data, headers={"Accept": "application/json"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def status(http: requests.Session, url: str, fmt: str = "a4") -> dict:
    answer = http.get(f"{url}{BASE}/status", params={"format": fmt}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def until_over(http: requests.Session, url: str, fmt: str = "a4", timeout: float = 120) -> tuple[dict, list[dict]]:
    """Poll the status until the render is over; return the last status and every one seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(status(http, url, fmt))
        if seen[-1]["state"] != "running":
            return seen[-1], seen
        time.sleep(0.1)
    raise AssertionError(f"still running after {timeout} s: {seen[-1]}")


def post_ideas(url: str, code: str, count: int) -> None:
    """Post ideas through a real Socket.IO phone."""
    phone = socketio.Client(reconnection=False)
    phone.connect(url, transports=["websocket"], wait_timeout=10)
    assert phone.call("join", {"code": code, "name": "Camille"}, timeout=10)["ok"]
    for n in range(count):
        ack = phone.call("post", {"code": code, "client_id": uuid.uuid4().hex, "tags": {"function": "animation"},
                                  "text": f"Idée {n} : mutualiser un poste d’animation entre structures"}, timeout=10)
        assert ack["ok"], ack
    phone.disconnect()


def pdf_of(content: bytes) -> pypdf.PdfReader:
    assert content.startswith(b"%PDF-")
    return pypdf.PdfReader(io.BytesIO(content))


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, databases):
    """A real `rouages serve` with the small event, a few ideas and an organiser, for the whole module."""
    env = {} if BACKEND == "sqlite" else {"ROUAGES_DATABASE_URL": databases.empty_url()}
    with serving(tmp_path_factory.mktemp("render") / "data", DATA / "small.yaml", SLUG, key="world-cafe",
                 extra_env=env) as srv:
        post_ideas(srv.url, srv.code, 12)
        yield srv


@pytest.fixture
def server(shared_server):
    """The module's server, with no booklet made or being made."""
    yield shared_server
    for fmt in jobs.BOOKLETS["restitution"]:
        pid = jobs.lock_owner(jobs.paths(shared_server.data_dir, SLUG, fmt))
        if jobs.running(pid):
            psutil.Process(pid).wait(timeout=120)
    shutil.rmtree(shared_server.data_dir / "booklets", ignore_errors=True)


def job_processes(parent: int) -> list[psutil.Process]:
    """Return the booklet jobs the server process started that are still alive."""
    return [p for p in psutil.Process(parent).children() if "carnet.job" in " ".join(p.cmdline())]


def test_render_from_the_console_route_gives_a_pdf_with_the_event(server):
    http = signed_in(server.url)
    assert http.get(f"{server.url}{BASE}.pdf", timeout=10).status_code == 404
    started = start(http, server.url)
    assert started["state"] == "running" and started["format"] == "a4" and started["joined"] is False
    assert started["pid"] != server.process.pid and started["started_at"]
    done, seen = until_over(http, server.url)
    assert done["state"] == "done", done
    assert done["job"] == started["job"] and all(s["job"] == started["job"] for s in seen)
    assert done["error"] is None and done["finished_at"] >= done["started_at"]
    assert done["pages"] > 1 and done["file"]["pages"] == done["pages"]
    assert done["peak_memory_mb"] > 0
    answer = http.get(f"{server.url}{done['file']['url']}", timeout=10)
    assert answer.headers["Content-Type"] == "application/pdf"
    assert f"{SLUG}-restitution-a4.pdf" in answer.headers["Content-Disposition"]
    reader = pdf_of(answer.content)
    assert len(reader.pages) == done["pages"] == done["file"]["pages"] and len(answer.content) == done["size"]
    text = " ".join(page.extract_text() for page in reader.pages)
    assert TITLE in text
    assert round(float(reader.pages[0].mediabox.width)) == 595  # A4, in points
    # The console shows the file with its figures; nothing is left behind but the PDF and its status.
    console = http.get(f"{server.url}/console/", timeout=10).text
    assert f'href="{BASE}.pdf?format=a4"' in console
    assert re.search(rf"\({done['pages']} pages, [0-9,.]+ Mo, généré à \d\d:\d\d\)", console), console
    folder = server.data_dir / "booklets"
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(".guard")) == [
        f"{SLUG}-restitution-a4.json", f"{SLUG}-restitution-a4.pdf"]


def test_a5_render_is_a_file_of_its_own(server):
    http = signed_in(server.url)
    started = start(http, server.url, a5=True)
    assert started["format"] == "a5"
    done, _ = until_over(http, server.url, "a5")
    assert done["state"] == "done", done
    reader = pdf_of(http.get(f"{server.url}{BASE}.pdf", params={"format": "a5"}, timeout=10).content)
    assert round(float(reader.pages[0].mediabox.width)) == 420  # A5, in points
    missing = http.get(f"{server.url}{BASE}.pdf", params={"format": "a4"}, timeout=10)
    assert missing.status_code == 404
    assert "Pas encore de PDF « A4 » pour ce livret" in missing.text
    assert http.get(f"{server.url}{BASE}.pdf", params={"format": "a3"}, timeout=10).status_code == 400


def test_requests_in_a_row_on_two_workers_share_one_job(tmp_path, server_env):
    """Two workers on one data directory: three presses while it renders start one process, and one file."""
    with serving(tmp_path / "data", DATA / "small.yaml", SLUG, key="world-cafe", extra_env=server_env) as first:
        post_ideas(first.url, first.code, 12)
        with Server(first.data_dir, extra_env=server_env) as second:
            a, b = signed_in(first.url), signed_in(second.url)
            answers = [start(a, first.url), start(b, second.url), start(a, first.url)]
            assert [x["joined"] for x in answers] == [False, True, True]
            assert len({x["job"] for x in answers}) == 1 and len({x["pid"] for x in answers}) == 1
            assert len(job_processes(first.process.pid)) <= 1 and job_processes(second.process.pid) == []
            done_a, _ = until_over(a, first.url)
            done_b = status(b, second.url)
            assert done_a == done_b and done_a["state"] == "done" and done_a["job"] == answers[0]["job"]
            one, two = (http.get(f"{srv.url}{BASE}.pdf", timeout=10).content for http, srv in ((a, first), (b, second)))
            assert one == two and len(pdf_of(one).pages) == done_a["pages"]
            assert not jobs.paths(first.data_dir, SLUG, "a4").lock.exists()


def test_stale_lock_of_a_dead_process_is_recovered(server):
    http = signed_in(server.url)
    where = jobs.paths(server.data_dir, SLUG, "a4")
    where.lock.parent.mkdir(exist_ok=True)
    gone = subprocess.Popen(["true"])
    gone.wait()
    where.lock.write_text(f"{gone.pid}\n")
    jobs.write_status(where, {"job": "crashed", "format": "a4", "state": "running", "message": "Mise en page… page 3",
                              "page": 3, "started_at": jobs.now_iso(), "finished_at": None, "error": None,
                              "pid": gone.pid, "file": None})
    stale = status(http, server.url)
    assert stale["state"] == "failed" and stale["job"] == "crashed"
    assert stale["error"] == "La mise en page s’est arrêtée avant la fin. Relancez-la."
    assert not where.lock.exists()
    # A lock naming a live process that is not a render (the pid was reused) is stale too; what a killed job left
    # half written goes.
    where.lock.write_text(f"{server.process.pid}\n")
    half = where.pdf.parent / f".{where.pdf.stem}-killed.part"
    half.write_bytes(b"%PDF-1.7 cut")
    work = where.pdf.parent / f".{where.pdf.stem}-killed-x1y2.build"  # carnet/builds.py's folder of a killed render
    (work / "a5.pdf").parent.mkdir()
    (work / "a5.pdf").write_bytes(b"%PDF-1.7 cut")
    started = start(http, server.url)
    assert not half.exists() and not work.exists()
    assert started["joined"] is False and started["job"] != "crashed"
    done, _ = until_over(http, server.url)
    assert done["state"] == "done" and done["job"] == started["job"]


def test_live_server_answers_while_the_render_runs(server):
    http = signed_in(server.url)
    phone = socketio.Client(reconnection=False)
    phone.connect(server.url, transports=["websocket"], wait_timeout=10)
    assert phone.call("join", {"code": server.code, "name": "Dominique"}, timeout=10)["ok"]
    started = start(http, server.url)
    job = psutil.Process(started["pid"])
    assert job.ppid() == server.process.pid and "carnet.job" in job.cmdline()
    during = []
    while (current := status(http, server.url))["state"] == "running":
        assert requests.get(f"{server.url}/healthz", timeout=5).json() == {"status": "ok"}
        if len(during) >= 5:  # a person's pace: the post limit allows a burst, not a flood
            continue
        ack = phone.call("post", {"code": server.code, "client_id": uuid.uuid4().hex, "text": "Pendant la mise en page",
                                  "tags": {"function": "animation"}}, timeout=5)
        assert ack["ok"], ack
        if status(http, server.url)["state"] == "running":
            during.append(ack["post"]["seq"])
    phone.disconnect()
    assert current["state"] == "done" and current["job"] == started["job"]
    assert during, "no post was acked while the render ran"
    # The server reaps its job: no zombie is left holding the pid.
    job.wait(timeout=30)
    assert not psutil.pid_exists(started["pid"])


def test_anonymous_visitors_are_sent_to_sign_in_and_start_nothing(server):
    http = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', http.get(f"{server.url}/login").text)[1]
    for method, path, data in (("POST", BASE, {"csrf_token": token}), ("GET", f"{BASE}/status", None),
                               ("GET", f"{BASE}.pdf", None), ("GET", BASE, None)):
        answer = http.request(method, f"{server.url}{path}", data=data, allow_redirects=False, timeout=10)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login"), (path, answer)
    # An earlier test's job watcher may still take its guard file (and so make the folder) after the teardown:
    # what matters is that no status, lock or PDF was made.
    made = [p.name for p in (server.data_dir / "booklets").glob("*") if p.suffix != ".guard"]
    assert made == []


def test_organiser_post_without_csrf_token_starts_nothing(server):
    http = signed_in(server.url)
    answer = http.post(f"{server.url}{BASE}", headers={"Accept": "application/json"}, timeout=10)
    assert answer.status_code == 400
    assert status(http, server.url)["state"] == "none"
    assert http.post(f"{server.url}/console/e/inconnu/booklets/restitution",
                     data={"csrf_token": render_token(http, server.url)}, timeout=10).status_code == 404


def test_render_of_an_unknown_event_fails_with_a_message(server):
    env = server.env
    database = env.get("ROUAGES_DATABASE_URL") or f"sqlite:///{server.data_dir / 'rouages.db'}"
    started = jobs.start(server.data_dir, database, "inconnu", "a4", time_limit=60, locale="fr",
                         starting_message="…", stopped_message="arrêté", time_limit_message="trop long")
    assert started["state"] == "running"
    over = jobs.wait(server.data_dir, "inconnu", "a4")
    assert over["state"] == "failed" and over["job"] == started["job"]
    assert over["error"] == "Il n’y a pas d’évènement «\u00a0inconnu\u00a0»."
    assert not jobs.paths(server.data_dir, "inconnu", "a4").lock.exists()
    assert jobs.finished_pdf(server.data_dir, "inconnu", "a4") is None


def test_no_javascript_fallback_follows_the_render_on_a_page(server):
    http = signed_in(server.url)
    answer = http.post(f"{server.url}{BASE}", data={"csrf_token": render_token(http, server.url)},
                       allow_redirects=False, timeout=10)
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"{BASE}?format=a4")
    page = http.get(f"{server.url}{answer.headers['Location']}", timeout=10).text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    until_over(http, server.url)
    page = http.get(f"{server.url}{answer.headers['Location']}", timeout=10).text
    assert 'http-equiv="refresh"' not in page and "Télécharger le PDF" in page


def test_status_file_is_json_replaced_whole(tmp_path):
    where = jobs.paths(tmp_path, SLUG, "a5")
    where.status.parent.mkdir()
    jobs.write_status(where, {"state": "running", "page": 1})
    jobs.write_status(where, {"state": "done", "page": 2})
    assert json.loads(where.status.read_text()) == {"state": "done", "page": 2}
    assert [p.name for p in where.status.parent.iterdir()] == [where.status.name]
    with pytest.raises(ValueError):
        jobs.paths(tmp_path, "../etc", "a4")


def test_a_render_past_its_time_limit_is_killed_and_marked_failed(server):
    """A job that cannot stop itself (here: frozen) is killed by its starter once past the limit."""
    database = server.env.get("ROUAGES_DATABASE_URL") or f"sqlite:///{server.data_dir / 'rouages.db'}"
    started = jobs.start(server.data_dir, database, SLUG, "a5", time_limit=1, locale="fr", starting_message="…",
                         stopped_message="arrêté", time_limit_message="trop long")
    # Frozen once it is the job: stopped between fork and exec, it would still look like its parent, not a job.
    deadline = time.monotonic() + 30
    while not jobs.running(started["pid"]) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(started["pid"], signal.SIGSTOP)
    over = jobs.wait(server.data_dir, SLUG, "a5", timeout=60)
    assert over["state"] == "failed" and over["error"] == "trop long" and over["job"] == started["job"]
    assert not psutil.pid_exists(started["pid"])  # killed, and reaped
    assert not jobs.paths(server.data_dir, SLUG, "a5").lock.exists()
    assert jobs.finished_pdf(server.data_dir, SLUG, "a5") is None


def test_render_under_eventlet_runs_and_is_reaped(tmp_path, server_env):
    """The server's other runtime starts, watches and reaps the job the same way."""
    env = {**server_env, "ROUAGES_ASYNC_MODE": "eventlet"}
    with serving(tmp_path / "data", DATA / "small.yaml", SLUG, key="world-cafe", extra_env=env) as srv:
        http = signed_in(srv.url)
        started = start(http, srv.url)
        job = psutil.Process(started["pid"])
        done, _ = until_over(http, srv.url)
        assert done["state"] == "done" and done["job"] == started["job"]
        assert TITLE in pdf_of(http.get(f"{srv.url}{BASE}.pdf", timeout=10).content).pages[0].extract_text()
        job.wait(timeout=30)
        assert not psutil.pid_exists(started["pid"])


def test_a_second_booklet_waits_for_the_running_render(server):
    """One render at a time per data directory: another format is refused while one runs, then starts."""
    database = server.env.get("ROUAGES_DATABASE_URL") or f"sqlite:///{server.data_dir / 'rouages.db'}"
    started = jobs.start(server.data_dir, database, SLUG, "a4", time_limit=120, locale="fr", starting_message="…",
                         stopped_message="arrêté", time_limit_message="trop long")
    os.kill(started["pid"], signal.SIGSTOP)  # held mid-render, so that the second press surely finds it running
    try:
        http = signed_in(server.url)
        data = {"csrf_token": render_token(http, server.url), "format": "a5"}
        answer = http.post(f"{server.url}{BASE}", data=data, headers={"Accept": "application/json"}, timeout=10)
        assert answer.status_code == 409, answer.text
        busy = answer.json()
        assert busy["state"] == "busy" and busy["format"] == "a5" and busy["label"] == (
            f"Un autre PDF est en cours de génération (Livret de restitution (PDF), A4, {SLUG})\u00a0: réessayez "
            "dans un instant.")
        a5 = jobs.paths(server.data_dir, SLUG, "a5")
        assert not a5.lock.exists() and not a5.status.exists()
        assert [p.pid for p in job_processes(server.process.pid)] == []  # nothing started by the server
        # Without JavaScript: the same refusal, on the page the form lands on.
        landed = http.post(f"{server.url}{BASE}", data=data, timeout=10)
        assert "Un autre PDF est en cours de génération" in html.unescape(landed.text)
        # The same booklet and format still joins the running job.
        joined = jobs.start(server.data_dir, database, SLUG, "a4", time_limit=120, locale="fr", starting_message="…",
                            stopped_message="arrêté", time_limit_message="trop long")
        assert joined["joined"] is True and joined["job"] == started["job"]
    finally:
        os.kill(started["pid"], signal.SIGCONT)
    assert jobs.wait(server.data_dir, SLUG, "a4")["state"] == "done"
    after = start(http, server.url, a5=True)
    assert after["state"] == "running" and after["joined"] is False
    assert until_over(http, server.url, "a5")[0]["state"] == "done"
