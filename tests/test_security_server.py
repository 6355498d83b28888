"""Security against real `rouages` processes: sign-in guessing beside a posting phone, proxies, the demo, file modes."""

from __future__ import annotations

import os
import re
import stat
import threading
import uuid

import pytest
import requests
import socketio

from conftest import DATA
from server import ROUAGES, Server
from test_security_http import DEMO_REFUSED, WRONG

pytestmark = pytest.mark.server


def sessions_of(server: Server) -> dict[str, str]:
    """Import the small event and return its session codes by key."""
    sessions_listed = server.prepare(str(DATA / "small.yaml"), "petite-rencontre", organiser=False)
    return {s["key"]: s["code"] for s in sessions_listed}


def sign_in(url: str, email: str, password: str, **headers) -> requests.Response:
    """Post the real sign-in form with its CSRF token, as a browser would."""
    http = requests.Session()
    page = http.get(f"{url}/login", timeout=30, headers=headers).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    return http.post(f"{url}/login", timeout=30, allow_redirects=False, headers=headers,
                     data={"email": email, "password": password, "csrf_token": token})


def flashed(response: requests.Response) -> list[str]:
    """Return the messages flashed on a page."""
    import html

    return [html.unescape(m) for m in re.findall(r'<p class="flash[^"]*" role="status">([^<]*)</p>', response.text)]


def phone(url: str, code: str, **headers) -> tuple[socketio.Client, dict]:
    """Connect a real Socket.IO phone and join a session; return it and the join's ack."""
    client = socketio.Client(reconnection=False)
    client.connect(url, transports=["websocket"], wait_timeout=10, headers=headers)
    return client, client.call("join", {"code": code}, timeout=10)


def test_a_phone_keeps_posting_while_eight_clients_guess_passwords(tmp_path, server_env):
    # Limits off, so every guess is a real scrypt check rather than a quick refusal.
    server = Server(tmp_path / "data", extra_env={**server_env, "ROUAGES_SIGNIN_FAILURES_PER_ADDRESS": "0",
                                                  "ROUAGES_SIGNIN_FAILURES_PER_ACCOUNT": "0"})
    codes = sessions_of(server)
    server.cli("user", "add", "orga@example.org", "--password", "correct-horse-battery")
    with server:
        client, joined = phone(server.url, codes["world-cafe"])
        assert joined["ok"]
        stop, answers = threading.Event(), []

        def guess(n: int) -> None:
            while not stop.is_set():
                answers.append(sign_in(server.url, "orga@example.org", f"wrong-{n}-{uuid.uuid4().hex}").status_code)

        guessers = [threading.Thread(target=guess, args=(n,)) for n in range(8)]
        for thread in guessers:
            thread.start()
        try:
            # The phone's own client gives up on an ack after 10 s and sends the idea again.
            acks = [client.call("post", {"code": codes["world-cafe"], "client_id": uuid.uuid4().hex,
                                         "text": f"Idée {i}", "tags": {"function": "animation"}}, timeout=10)
                    for i in range(20)]
        finally:
            stop.set()
            for thread in guessers:
                thread.join(60)
            client.disconnect()
        assert all(ack["ok"] for ack in acks) and len({ack["post"]["id"] for ack in acks}) == 20
        assert answers and set(answers) == {401}
        assert sign_in(server.url, "orga@example.org", "correct-horse-battery").status_code == 302
    assert "Traceback" not in server.log.read_text()


def test_behind_a_trusted_proxy_socket_io_sees_the_forwarded_address_and_hosts_are_checked(tmp_path, server_env):
    # One new phone per address per minute: whether two phones are two addresses shows in their joins.
    server = Server(tmp_path / "data", extra_env={**server_env, "ROUAGES_TRUSTED_PROXIES": "1",
                                                  "ROUAGES_LIMIT_JOINS_BURST": "1", "ROUAGES_LIMIT_JOINS_PER_MINUTE": "1"})
    code = sessions_of(server)["world-cafe"]
    with server:
        first, first_ack = phone(server.url, code, **{"X-Forwarded-For": "203.0.113.1"})
        second, second_ack = phone(server.url, code, **{"X-Forwarded-For": "203.0.113.2"})
        third, third_ack = phone(server.url, code, **{"X-Forwarded-For": "203.0.113.1"})
        for client in (first, second, third):
            client.disconnect()
        assert first_ack["ok"] and second_ack["ok"]
        assert third_ack["error"]["code"] == "too_many_joins"

        polling = requests.get(f"{server.url}/socket.io/?EIO=4&transport=polling", timeout=10)
        assert polling.status_code == 200 and polling.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in polling.headers["Content-Security-Policy"]
        rebound = requests.get(f"{server.url}/socket.io/?EIO=4&transport=polling", timeout=10,
                               headers={"Host": f"rebound.example.com:{server.port}"})
        assert rebound.status_code == 400
        assert requests.get(f"{server.url}/", timeout=10, headers={"Host": "rebound.example.com"}).status_code == 400


class Demo(Server):
    """`rouages demo` on 127.0.0.1."""

    def command(self) -> list[str]:
        """Return the command line that runs the demo."""
        return [*ROUAGES, "demo", "--host", "127.0.0.1", "--port", str(self.port)]

    def password(self) -> str:
        """Return the demo password this run printed."""
        return re.findall(r"sign in as demo@rouages\.invalid / (\S+)", self.log.read_text())[-1]


def test_the_demo_password_is_new_at_each_start_and_serve_refuses_the_demo_account(tmp_path, server_env):
    data = tmp_path / "data"
    with Demo(data, extra_env=server_env) as demo:
        first = demo.password()
        assert len(first) >= 16 and first != "rouages-demo"
        assert "Reachable from the network" not in demo.log.read_text()
        assert sign_in(demo.url, "demo@rouages.invalid", first).status_code == 302
    with Server(data, extra_env=server_env) as served:
        refused = sign_in(served.url, "demo@rouages.invalid", first)
        assert refused.status_code == 403 and flashed(refused) == [DEMO_REFUSED]
    with Demo(data, extra_env=server_env) as demo:
        second = demo.password()
        assert second != first
        wrong = sign_in(demo.url, "demo@rouages.invalid", first)
        assert wrong.status_code == 401 and flashed(wrong) == [WRONG]
        assert sign_in(demo.url, "demo@rouages.invalid", second).status_code == 302


def test_the_demo_says_when_other_machines_can_reach_it(app):
    from app.services.network import exposed_urls, lan_addresses

    assert exposed_urls("127.0.0.1", 5000) is None and exposed_urls("::1", 5000) is None
    assert exposed_urls("localhost", 5000) is None
    assert exposed_urls("0.0.0.0", 5000) == [f"http://{a}:5000" for a in lan_addresses()]
    assert exposed_urls("192.0.2.5", 8000) == ["http://192.0.2.5:8000"]


def test_the_data_directory_is_private_and_every_file_in_it_is_for_its_owner(tmp_path, server_env):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    server = Server(data, extra_env=server_env)
    code = sessions_of(server)["world-cafe"]
    server.cli("user", "add", "orga@example.org", "--password", "correct-horse-battery")
    with server:
        client, joined = phone(server.url, code)
        ack = client.call("post", {"code": code, "client_id": uuid.uuid4().hex, "text": "Une idée",
                                   "tags": {"function": "animation"}}, timeout=10)
        client.disconnect()
        assert joined["ok"] and ack["ok"]
        modes = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in data.iterdir() if p.name != "server.log"}
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    if not server_env:  # SQLite: the database, its log and shared memory and the migration lock live here
        assert {"rouages.db", "rouages.db-wal", "rouages.db-shm", "rouages.db.migrate-lock"} <= set(modes)
    assert "secret_key" in modes
    assert modes == dict.fromkeys(modes, 0o600)


def test_an_existing_open_data_directory_is_tightened_once_and_said_so(tmp_path, server_env):
    data = tmp_path / "data"
    server = Server(data, extra_env=server_env)
    server.cli("db", "upgrade")
    data.chmod(0o755)
    with server:
        pass
    with server:
        pass
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert server.log.read_text().count(f"Data directory {data.resolve()} was readable by others (755): now 700.") == 1
