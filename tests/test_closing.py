"""Closing posting: an idea written while it was open is stored within the grace period, never after, never forged.

Real `rouages serve` processes and real python-socketio clients; the grace period is the server's setting.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from conftest import DATA
from server import Server
from test_server import Wall, connect, organiser_cookie

pytestmark = pytest.mark.server


def start_server(tmp_path, server_env, grace: int) -> Server:
    srv = Server(tmp_path / "data", extra_env={**server_env, "ROUAGES_POSTING_GRACE_SECONDS": str(grace)})
    sessions_listed = srv.prepare(str(DATA / "small.yaml"), "petite-rencontre")
    srv.code = next(s["code"] for s in sessions_listed if s["key"] == "world-cafe")
    return srv


@pytest.fixture
def server(tmp_path, server_env):
    """A real server whose grace period after closing is a minute."""
    with start_server(tmp_path, server_env, 60) as srv:
        yield srv


@pytest.fixture
def console(server):
    """A signed-in organiser's Socket.IO client."""
    client = connect(server.url, headers={"Cookie": organiser_cookie(server)})
    yield client
    client.disconnect()


def phone_in(server, name: str = "Camille"):
    """A phone joined while posting is open; returns (client, join ack)."""
    client = connect(server.url)
    joined = client.call("join", {"code": server.code, "name": name}, timeout=10)
    assert joined["ok"], joined
    return client, joined


def idea(server, client_id: str, opening, text: str = "Une idée de dernière minute") -> dict:
    return {"code": server.code, "client_id": client_id, "text": text, "tags": {"function": "animation"},
            "opening": opening}


def stored(server) -> list[dict]:
    """Every stored post of the session, as a wall reads it over HTTP."""
    return requests.get(f"{server.url}/api/sessions/{server.code}/posts", timeout=10).json()["posts"]


def close(console, server) -> None:
    ack = console.call("session_open", {"code": server.code, "open": False}, timeout=10)
    assert ack == {"ok": True, "code": server.code, "is_open": False, "opening": None, "review": False,
                   "srev": ack["srev"]}


def test_an_idea_written_while_open_is_stored_once_after_closing_within_the_grace(server, console):
    phone, joined = phone_in(server)
    opening = joined["session"]["opening"]
    assert isinstance(opening, int)
    wall = Wall(server.url, server.code)
    first = phone.call("post", idea(server, "before-close-01", opening, "Avant la fermeture"), timeout=10)
    assert first["ok"] and first["post"]["seq"] == 1
    close(console, server)

    late = phone.call("post", idea(server, "after-close-001", opening), timeout=10)
    assert late["ok"] is True and late["post"]["seq"] == 2 and late["post"]["text"] == "Une idée de dernière minute"
    # A resend (the ack was lost) is answered with the same post, over the socket and over HTTP alike.
    again = phone.call("post", idea(server, "after-close-001", opening), timeout=10)
    assert again == late
    over_http = requests.post(f"{server.url}/api/sessions/{server.code}/posts", timeout=10,
                              json={**idea(server, "after-close-001", opening),
                                    "token": joined["participant"]["token"]})
    assert over_http.status_code == 200 and over_http.json()["post"] == late["post"]
    # The wall and the console get it like any other post, once.
    assert [(p["seq"], p["client_id"]) for p in wall.wait_for(2)] == [(1, "before-close-01"), (2, "after-close-001")]
    assert [p["client_id"] for p in stored(server)] == ["before-close-01", "after-close-001"]
    # Still closed for anything else: the phone that joined now was never given an opening.
    newcomer, joined_late = phone_in(server, "Dominique")
    assert joined_late["session"]["is_open"] is False and joined_late["session"]["opening"] is None
    wall.client.disconnect()
    for client in (phone, newcomer):
        client.disconnect()


def test_an_idea_never_stamped_open_or_stamped_with_another_opening_is_refused(server, console):
    phone, joined = phone_in(server)
    opening = joined["session"]["opening"]
    close(console, server)
    for n, stamp in enumerate([None, opening + 1, opening + 7, 2**31 - 1]):
        ack = phone.call("post", idea(server, f"forged-stamp-{n}", stamp), timeout=10)
        assert ack["ok"] is False and ack["error"]["code"] == "session_closed", stamp
        assert ack["error"]["message"] == "Les contributions sont fermées pour cet atelier."
    for stamp in ("1", 1.5, True, -1, [opening]):
        ack = phone.call("post", idea(server, "bad-stamp-01", stamp), timeout=10)
        assert ack["error"]["code"] == "invalid_field", stamp
    # Opened again then closed: the stamp of the earlier opening is no longer good, the new one is.
    reopened = console.call("session_open", {"code": server.code, "open": True}, timeout=10)
    assert reopened["opening"] == opening + 1
    close(console, server)
    assert phone.call("post", idea(server, "old-opening-1", opening), timeout=10)["error"]["code"] == "session_closed"
    ack = phone.call("post", idea(server, "new-opening-1", opening + 1), timeout=10)
    assert ack["ok"] is True and ack["post"]["seq"] == 1
    assert [p["client_id"] for p in stored(server)] == ["new-opening-1"]
    phone.disconnect()


def test_a_burst_just_after_closing_stores_the_stamped_ideas_with_contiguous_numbers(server, console):
    phones = [phone_in(server, f"Téléphone {n}") for n in range(12)]
    opening = phones[0][1]["session"]["opening"]
    wall = Wall(server.url, server.code)
    close(console, server)
    acks: dict[int, dict] = {}
    start = threading.Barrier(len(phones))

    def send(n: int, client) -> None:
        start.wait(10)
        # Every other phone saw posting open when its idea was written; the others claim nothing.
        acks[n] = client.call("post", idea(server, f"burst-idea-{n:02d}", opening if n % 2 == 0 else None,
                                           f"Idée {n}"), timeout=20)

    threads = [threading.Thread(target=send, args=(n, client)) for n, (client, _joined) in enumerate(phones)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(acks) == list(range(12))
    assert {n for n, ack in acks.items() if ack["ok"]} == set(range(0, 12, 2))
    assert {ack["error"]["code"] for ack in acks.values() if not ack["ok"]} == {"session_closed"}
    assert sorted(ack["post"]["seq"] for ack in acks.values() if ack["ok"]) == [1, 2, 3, 4, 5, 6]
    received = wall.wait_for(6)
    assert [p["seq"] for p in received] == [1, 2, 3, 4, 5, 6]
    assert sorted(p["client_id"] for p in stored(server)) == [f"burst-idea-{n:02d}" for n in range(0, 12, 2)]
    wall.client.disconnect()
    for client, _joined in phones:
        client.disconnect()


def test_an_idea_arriving_after_the_grace_period_is_refused(tmp_path, server_env):
    with start_server(tmp_path, server_env, 1) as server:
        console = connect(server.url, headers={"Cookie": organiser_cookie(server)})
        phone, joined = phone_in(server)
        opening = joined["session"]["opening"]
        close(console, server)
        time.sleep(1.5)
        ack = phone.call("post", idea(server, "too-late-0001", opening), timeout=10)
        assert ack["ok"] is False and ack["error"]["code"] == "session_closed"
        assert stored(server) == []
        phone.disconnect()
        console.disconnect()


def test_the_server_pings_every_five_seconds_so_a_phone_sees_a_lost_connection_quickly(server):
    handshake = requests.get(f"{server.url}/socket.io/?EIO=4&transport=polling", timeout=10).text
    opened = json.loads(handshake[handshake.index("{"):])
    assert (opened["pingInterval"], opened["pingTimeout"]) == (5000, 5000)


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("POSTING_GRACE_SECONDS", "two minutes", "must be a whole number"),
    ("POSTING_GRACE_SECONDS", "-1", "must be 0 or more"),
    ("PING_INTERVAL", "0", "must be 1 or more"),
    ("PING_TIMEOUT", "1.5", "must be a whole number"),
])
def test_closing_and_heartbeat_settings_are_checked(tmp_path, monkeypatch, name, raw, message):
    from app.config import from_environ

    monkeypatch.setenv(f"ROUAGES_{name}", raw)
    with pytest.raises(SystemExit, match=f"ROUAGES_{name} {message}"):
        from_environ(str(tmp_path), {"SECRET_KEY": "x"})
    monkeypatch.setenv(f"ROUAGES_{name}", "30")
    assert from_environ(str(tmp_path), {"SECRET_KEY": "x"})[name] == 30


def test_a_cafe_waiting_at_its_welcome_step_gives_out_no_opening_and_takes_no_stamp(app, phone):
    from app.services import eventfile
    from conftest import import_file
    from workshops import registry

    item = registry()["world_cafe"].example
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    cafe = import_file(app, eventfile.dump(doc)).sessions[0]
    session = phone.emit("join", {"code": cafe.code}, callback=True)["session"]
    assert session["is_open"] is False and session["opening"] is None
    # Posting never opened: there is no closing to be in grace of, whatever number a phone makes up.
    for n, stamp in enumerate((None, 0, 1)):
        ack = phone.emit("post", {"code": cafe.code, "client_id": f"welcome-{n:04d}", "text": "Trop tôt",
                                  "tags": {"function": "animation"}, "opening": stamp}, callback=True)
        assert ack["error"]["code"] == "session_closed", stamp
