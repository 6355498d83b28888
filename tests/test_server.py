"""Real `rouages serve` processes under gevent and eventlet, driven by real python-socketio clients."""

from __future__ import annotations

import re
import threading
import time
import uuid

import pytest
import requests
import socketio

from conftest import DATA
from server import Server

pytestmark = pytest.mark.server
MODES = ["gevent", "eventlet"]


def connect(url: str, **kwargs) -> socketio.Client:
    """Connect a real Socket.IO client over WebSocket."""
    client = socketio.Client(reconnection=False)
    client.connect(url, transports=["websocket"], wait_timeout=10, **kwargs)
    return client


@pytest.fixture(params=MODES)
def server(request, tmp_path, server_env):
    """A real server with the small event imported, under each async runtime."""
    srv = Server(tmp_path / "data", async_mode=request.param, extra_env=server_env)
    srv.sessions = srv.prepare(str(DATA / "small.yaml"), "petite-rencontre")
    with srv:
        yield srv


def cafe_code(srv) -> str:
    return next(s["code"] for s in srv.sessions if s["key"] == "world-cafe")


class Wall:
    """A real Socket.IO client watching a session and recording every post it receives."""

    def __init__(self, url: str, code: str):
        self.posts: list[dict] = []
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("post", self._on_post)
        self.client.connect(url, transports=["websocket"], wait_timeout=10)
        self.ack = self.client.call("watch", {"code": code}, timeout=10)

    def _on_post(self, post):
        with self.lock:
            self.posts.append(post)

    def wait_for(self, count: int, timeout: float = 20) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.posts) < count:
            time.sleep(0.05)
        time.sleep(0.3)  # anything arriving late would be a duplicate
        return list(self.posts)


def run_phones(url: str, code: str, phones: int, posts_each: int) -> list[dict]:
    """Join `phones` real clients and have them post concurrently; return every ack."""
    acks: list[dict] = []
    errors: list[BaseException] = []

    def phone(index: int):
        try:
            client = connect(url)
            joined = client.call("join", {"code": code, "name": f"Phone {index}"}, timeout=10)
            assert joined["ok"], joined
            for n in range(posts_each):
                ack = client.call("post", {"code": code, "client_id": uuid.uuid4().hex,
                                           "text": f"Idée {n} du téléphone {index}",
                                           "tags": {"function": "animation"}}, timeout=10)
                acks.append(ack)
            client.disconnect()
        except BaseException as exc:  # surfaced below with the test's own assertion
            errors.append(exc)

    threads = [threading.Thread(target=phone, args=(i,)) for i in range(phones)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return acks


def test_wall_gets_every_post_exactly_once_in_sequence_order(server):
    code = cafe_code(server)
    wall = Wall(server.url, code)
    assert wall.ack["ok"] and wall.ack["posts"] == []
    acks = run_phones(server.url, code, phones=6, posts_each=8)
    assert len(acks) == 48 and all(ack["ok"] for ack in acks)
    assert sorted(ack["post"]["seq"] for ack in acks) == list(range(1, 49))
    received = wall.wait_for(48)
    assert [p["seq"] for p in received] == list(range(1, 49))
    assert {p["id"]: p["text"] for p in received} == {a["post"]["id"]: a["post"]["text"] for a in acks}
    wall.client.disconnect()


def test_acked_posts_survive_sigkill_and_resends_are_stored_once(server):
    code = cafe_code(server)
    phone = connect(server.url)
    token = phone.call("join", {"code": code}, timeout=10)["participant"]["token"]
    sent = []
    for n in range(20):
        payload = {"code": code, "client_id": f"crash-{n:04d}", "text": f"Idée {n}", "tags": {"function": "support"}}
        ack = phone.call("post", payload, timeout=10)
        assert ack["ok"]
        sent.append((payload, ack["post"]))
    server.kill()
    phone.disconnect()
    server.start()

    wall = Wall(server.url, code)
    assert [(p["seq"], p["text"]) for p in wall.ack["posts"]] == [(post["seq"], post["text"]) for _, post in sent]

    # The phone never saw the last ack (say): it resends with the same client id after the restart.
    phone = connect(server.url)
    assert phone.call("join", {"code": code, "token": token}, timeout=10)["ok"]
    payload, stored = sent[-1]
    again = phone.call("post", payload, timeout=10)
    assert again["post"] == stored
    assert wall.wait_for(1, timeout=1) == []
    assert len(requests.get(f"{server.url}/api/sessions/{code}/posts", timeout=5).json()["posts"]) == 20
    phone.disconnect()
    wall.client.disconnect()


def test_http_fallback_shares_the_contract_with_the_socket(server):
    code = cafe_code(server)
    wall = Wall(server.url, code)
    joined = requests.post(f"{server.url}/api/sessions/{code}/join", json={"name": "Sans WebSocket"}, timeout=5).json()
    body = {"client_id": "http-00001", "text": "Par HTTP", "tags": {"function": "valorisation"},
            "token": joined["participant"]["token"]}
    first = requests.post(f"{server.url}/api/sessions/{code}/posts", json=body, timeout=5)
    second = requests.post(f"{server.url}/api/sessions/{code}/posts", json=body, timeout=5)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert [p["text"] for p in wall.wait_for(1)] == ["Par HTTP"]
    bad = requests.post(f"{server.url}/api/sessions/{code}/posts", json={**body, "client_id": "http-00002", "text": ""},
                        timeout=5)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "empty_text"
    wall.client.disconnect()


def test_console_actions_need_a_signed_in_organiser(server):
    code = cafe_code(server)
    phone = connect(server.url)
    phone.call("join", {"code": code}, timeout=10)
    refused = phone.call("session_open", {"code": code, "open": False}, timeout=10)
    assert refused["error"]["code"] == "forbidden"

    http = requests.Session()
    page = http.get(f"{server.url}/login", timeout=5).text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    http.post(f"{server.url}/login", data={"email": "orga@example.org", "password": "correct-horse-battery",
                                           "csrf_token": csrf}, timeout=5)
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    states = []
    phone.on("session_state", states.append)
    console = connect(server.url, headers={"Cookie": cookie})
    assert console.call("session_open", {"code": code, "open": False}, timeout=10)["is_open"] is False
    deadline = time.monotonic() + 5
    while not states and time.monotonic() < deadline:
        time.sleep(0.05)
    assert states == [{"code": code, "is_open": False, "opening": None, "review": False, "srev": states[0]["srev"]}]
    # Never stamped with an opening: refused at once, whatever the grace period after closing.
    closed = phone.call("post", {"code": code, "client_id": "late-00001", "text": "Trop tard",
                                 "tags": {"function": "animation"}}, timeout=10)
    assert closed["error"]["code"] == "session_closed"
    console.disconnect()
    phone.disconnect()


class Recorder:
    """A real Socket.IO client that records every event it receives, by name."""

    def __init__(self, url: str, headers=None):
        self.events: dict[str, list] = {}
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record)
        self.client.connect(url, transports=["websocket"], wait_timeout=10, headers=headers or {})

    def _record(self, event, data=None):
        with self.lock:
            self.events.setdefault(event, []).append(data)

    def call(self, event: str, data: dict) -> dict:
        return self.client.call(event, data, timeout=10)

    def got(self, event: str) -> list:
        with self.lock:
            return list(self.events.get(event, []))


def wait_until(check, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)


def organiser_cookie(server) -> str:
    http = requests.Session()
    page = http.get(f"{server.url}/login", timeout=5).text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    http.post(f"{server.url}/login", data={"email": "orga@example.org", "password": "correct-horse-battery",
                                           "csrf_token": csrf}, timeout=5)
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def test_the_demo_world_cafe_runs_through_every_phase_with_real_clients(server):
    sessions_listed = server.prepare("--demo", "demo", organiser=False)
    code = next(s["code"] for s in sessions_listed if s["key"] == "world-cafe-fonctions")
    info = requests.get(f"{server.url}/api/sessions/{code}", timeout=5).json()["session"]
    tables = info["tables"]
    phases = [p["key"] for p in info["phases"]]
    assert phases == ["welcome", "round_1", "round_2", "round_3", "harvest", "vote", "done"]

    console = Recorder(server.url, {"Cookie": organiser_cookie(server)})
    wall = Recorder(server.url)
    wall.call("watch", {"code": code})
    phones = []
    for i in range(10):
        phone = Recorder(server.url)
        joined = phone.call("join", {"code": tables[i % 5]["code"], "name": f"P{i}", "organisation": f"Org {i % 3}"})
        assert joined["ok"] and joined["session"]["phase"]["key"] == "welcome"
        phones.append((phone, joined["participant"]["id"], tables[i % 5]))
    plan = console.call("world_cafe.plan", {"code": code})["plan"]
    assert len(plan["assignments"]) == 10

    posts = 0
    for key in phases[1:]:
        ack = console.call("phase_set", {"code": code})
        assert ack["ok"] and ack["phase"]["key"] == key
        if key.startswith("round_"):
            for n, (phone, _pid, table) in enumerate(phones):
                posted = phone.call("post", {"code": table["code"], "client_id": f"{key}-{n:04d}",
                                             "text": f"Idée {n} au {key}", "tags": {"category": "actions"}})
                assert posted["ok"] and posted["post"]["tags"]["function"] == table["tags"]["function"]
                posts += 1
        if key == "vote":
            assert console.call("vote_open", {"code": code, "budget": 3, "max_per_post": 1})["ok"]
            wall_posts = wall.call("watch", {"code": code})["posts"]
            for n, (phone, _pid, _table) in enumerate(phones):
                chosen = {str(wall_posts[(n + k) % len(wall_posts)]["id"]): 1 for k in range(3)}
                assert phone.call("vote", {"code": code, "dots": chosen})["ok"]
            revealed = console.call("vote_reveal", {"code": code})["vote"]
            assert sum(r["dots"] for r in revealed["results"]) == 30

    clients = [wall] + [phone for phone, _, _ in phones]
    wait_until(lambda: all(len(c.got("phase")) == 6 for c in clients) and len(wall.got("post")) == posts)
    assert sorted(p["seq"] for p in wall.got("post")) == list(range(1, posts + 1))
    for client in clients:
        assert [p["phase"]["key"] for p in client.got("phase")] == phases[1:]
        if client is wall:
            # A screen also hears each new voter, so the count it shows is live.
            wait_until(lambda: len(wall.got("vote_state")) == 12)
            assert [(v["state"], v["voters"]) for v in wall.got("vote_state")] == [
                *(("open", n) for n in range(11)), ("revealed", 10)]
        else:
            assert [v["state"] for v in client.got("vote_state")] == ["open", "revealed"]
        assert len(client.got("plan")) == 1
    assert posts == 30
    for client in clients + [console]:
        client.client.disconnect()


REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_or_skip() -> None:
    """Skip locally when Redis is down; in CI that is a failure."""
    import os

    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        if os.environ.get("CI"):
            raise RuntimeError("CI must run the multi-worker tests, but Redis is unreachable") from error
        pytest.skip(f"Redis at {REDIS_URL} is unreachable")


def two_workers(tmp_path, databases, mode: str = "gevent", queue: str = REDIS_URL,
                postgres: bool = False) -> tuple[Server, Server, str]:
    """Two workers on one database joined by Redis, with the demo and an organiser; return them and the café's code.

    `postgres` puts them on PostgreSQL whatever the run's database, as a deployment of several workers is.
    """
    if queue == REDIS_URL:
        redis_or_skip()
    database = databases.empty_url(backend="postgresql" if postgres else None)
    if database.startswith("sqlite"):
        database = f"sqlite:///{tmp_path / 'shared.db'}"
    env = {"ROUAGES_DATABASE_URL": database, "ROUAGES_MESSAGE_QUEUE": queue,
           "ROUAGES_MESSAGE_QUEUE_CHANNEL": f"rouages-test-{uuid.uuid4().hex}"}
    first = Server(tmp_path / "a", async_mode=mode, extra_env=env)
    first.sessions = first.prepare("--demo", "demo")
    second = Server(tmp_path / "b", async_mode=mode, extra_env=env)
    # Both workers sign cookies with one key, as behind one address.
    first.env["ROUAGES_SECRET_KEY"] = second.env["ROUAGES_SECRET_KEY"] = (tmp_path / "a" / "secret_key").read_text()
    code = next(s["code"] for s in first.sessions if s["key"] == "world-cafe-fonctions")
    return first, second, code


@pytest.mark.parametrize("mode", MODES)
def test_two_workers_joined_by_redis_deliver_everything_to_every_client_once(tmp_path, databases, mode):
    first, second, code = two_workers(tmp_path, databases, mode)
    with first, second:
        tables = requests.get(f"{first.url}/api/sessions/{code}", timeout=5).json()["session"]["tables"]
        wall = Recorder(first.url)
        wall.call("watch", {"code": code})
        console = Recorder(second.url, {"Cookie": organiser_cookie(second)})
        phones = []
        for i in range(8):
            server = first if i % 2 else second
            phone = Recorder(server.url)
            assert phone.call("join", {"code": tables[i % 5]["code"], "name": f"P{i}"})["ok"]
            phones.append((phone, tables[i % 5]))
        plan = console.call("world_cafe.plan", {"code": code})["plan"]
        assert console.call("phase_set", {"code": code})["phase"]["key"] == "round_1"
        acks = [phone.call("post", {"code": table["code"], "client_id": f"two-workers-{n:03d}",
                                    "text": f"Idée {n}", "tags": {}}) for n, (phone, table) in enumerate(phones)]
        assert all(ack["ok"] for ack in acks)
        hidden = acks[3]["post"]["id"]
        assert console.call("post_hide", {"code": code, "post_id": hidden})["ok"]
        assert console.call("vote_open", {"code": code, "budget": 2, "max_per_post": 1})["ok"]
        # While a vote runs, phones are sent new ideas too, from whichever worker stored them.
        late = phones[0][0].call("post", {"code": tables[0]["code"], "client_id": "two-workers-late",
                                          "text": "Idée tardive", "tags": {}})
        assert late["ok"] and late["post"]["seq"] == 9
        assert console.call("vote_reveal", {"code": code})["ok"]

        clients = [wall] + [phone for phone, _ in phones]
        wait_until(lambda: len(wall.got("post")) == 9 and all(
            c.got("post") and c.got("post_hidden") and len(c.got("vote_state")) == 2 for c in clients))
        assert sorted(p["seq"] for p in wall.got("post")) == list(range(1, 10))
        for phone, _table in phones:
            assert [p["seq"] for p in phone.got("post")] == [9]
        for client in clients:
            assert [p["phase"]["key"] for p in client.got("phase")] == ["round_1"]
            assert [h["id"] for h in client.got("post_hidden")] == [hidden]
            assert [v["state"] for v in client.got("vote_state")] == ["open", "revealed"]
            assert [p["plan"] for p in client.got("plan")] == [plan]
        for client in clients + [console]:
            client.client.disconnect()


def nginx_or_skip() -> None:
    """Skip locally when nginx is not installed; in CI that is a failure."""
    import os
    import shutil

    if shutil.which("nginx") is None:
        if os.environ.get("CI"):
            raise RuntimeError("CI must run the nginx test: install Debian's nginx (.ci/run does)")
        pytest.skip("nginx is not installed (apt-get install nginx)")


def test_two_workers_behind_nginx_serve_every_client_through_one_address(tmp_path, databases):
    from server import Nginx

    nginx_or_skip()
    first, second, code = two_workers(tmp_path, databases)
    with first, second, Nginx(tmp_path / "nginx", [first.url, second.url]) as proxy:
        tables = requests.get(f"{proxy.url}/api/sessions/{code}", timeout=5).json()["session"]["tables"]
        wall = Recorder(proxy.url)
        assert wall.call("watch", {"code": code})["ok"]
        console = Recorder(proxy.url, {"Cookie": organiser_cookie(first)})
        phones = [Recorder(proxy.url) for _ in range(6)]
        for i, phone in enumerate(phones):
            assert phone.call("join", {"code": tables[i % 5]["code"], "name": f"P{i}"})["ok"]
        assert console.call("phase_set", {"code": code})["phase"]["key"] == "round_1"
        acks = [phone.call("post", {"code": tables[i % 5]["code"], "client_id": f"through-nginx-{i:02d}",
                                    "text": f"Idée {i}", "tags": {}}) for i, phone in enumerate(phones)]
        assert all(ack["ok"] for ack in acks)

        wait_until(lambda: len(wall.got("post")) == 6 and all(p.got("phase") for p in phones))
        assert sorted(p["seq"] for p in wall.got("post")) == list(range(1, 7))
        for client in [wall, *phones]:
            assert [p["phase"]["key"] for p in client.got("phase")] == ["round_1"]
        for client in [wall, console, *phones]:
            client.client.disconnect()
        # The WebSockets were spread over both workers, so broadcasts crossed between them through Redis.
        # (nginx logs a WebSocket when it closes.)
        wait_until(lambda: len(proxy.upstreams_used()) == 8)
        used = proxy.upstreams_used()
        assert len(used) == 8 and set(used) == {first.url.removeprefix("http://"), second.url.removeprefix("http://")}
