"""Reconnections in Chromium: a phone back from a lost connection holds the exact vote list, asked from its
cursors; a wall drops a state broadcast older than what it shows, whenever it arrives."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
import socketio

import test_browser
from test_browser_cafe import PHONE
from test_server import organiser_cookie

from playwright.sync_api import expect  # noqa: E402  (after test_browser, which skips when chromium is missing)

pytestmark = pytest.mark.browser
browser, server, no_script_errors = test_browser.browser, test_browser.server, test_browser.no_script_errors


def ok(ack: dict) -> dict:
    assert ack["ok"], ack
    return ack


def clients(server):
    """A signed-in console and a phone that posts ideas, both over Socket.IO."""
    console = socketio.Client(reconnection=False)
    console.connect(server.url, transports=["websocket"], headers={"Cookie": organiser_cookie(server)},
                    wait_timeout=10)
    other = socketio.Client(reconnection=False)
    other.connect(server.url, transports=["websocket"], wait_timeout=10)
    ok(other.call("join", {"code": server.code, "name": "Camille"}, timeout=10))
    return console, other


def post(server, other, texts: list[str]) -> list[int]:
    return [ok(other.call("post", {"code": server.code, "client_id": f"storm-{uuid4().hex}", "text": text,
                                   "tags": {"function": "animation"}}, timeout=10))["post"]["id"] for text in texts]


def test_a_phone_back_from_a_lost_connection_holds_the_exact_list_asked_from_its_cursors(
        browser, server, no_script_errors):
    console, other = clients(server)
    act = lambda event, **data: ok(console.call(event, {"code": server.code, **data}, timeout=10))  # noqa: E731
    first = [f"Idée de départ {n}" for n in range(6)]
    ids = dict(zip(first, post(server, other, first), strict=True))
    act("post_hide", post_id=ids[first[5]])  # hidden before the phone goes: restored while it is away
    act("vote_open", budget=3, max_per_post=1)

    phone = browser.new_page(**PHONE)
    sent: list[str] = []
    phone.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
    phone.goto(f"{server.url}/j/{server.code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    expect(phone.locator(".vote-post__text")).to_have_text(first[:5], ignore_case=False)

    phone.context.set_offline(True)
    expect(phone.locator("#connection")).not_to_have_text("Connecté")
    act("post_hide", post_id=ids[first[0]])
    act("post_restore", post_id=ids[first[5]])
    late = ["Une idée arrivée pendant la coupure", "Une deuxième idée tardive", "Une troisième idée tardive"]
    post(server, other, late)
    sent.clear()
    phone.context.set_offline(False)

    expect(phone.locator("#connection")).to_have_text("Connecté")
    expected = sorted(first[1:] + late)
    expect(phone.locator(".vote-post__text")).to_have_count(len(expected))
    assert sorted(phone.locator(".vote-post__text").all_inner_texts()) == expected
    # It asked for what changed since its cursors, not for the list from the start.
    watches = [json.loads(frame[frame.index("["):])[1] for frame in sent if '"watch"' in frame]
    assert len(watches) == 1 and watches[0]["since"] > 0 and watches[0]["rev"] > 0, watches
    for client in (console, other):
        client.disconnect()


def test_a_wall_drops_a_late_state_broadcast_older_than_what_it_shows(browser, server, no_script_errors):
    console, other = clients(server)
    act = lambda event, **data: ok(console.call(event, {"code": server.code, **data}, timeout=10))  # noqa: E731
    post(server, other, ["Une idée sur le mur"])
    wall = browser.new_page(viewport={"width": 1366, "height": 768})
    frames: list[str] = []
    relay: list = []

    def route(ws):
        upstream = ws.connect_to_server()
        relay.append(ws)
        upstream.on_message(lambda message: (frames.append(str(message)), ws.send(message)))

    wall.route_web_socket("**/socket.io/**", route)
    wall.goto(f"{server.url}/wall/{server.code}")
    expect(wall.locator(".card__text")).to_have_text(["Une idée sur le mur"])
    countdown = wall.locator("#countdown")
    act("timer_start", seconds=600)
    expect(countdown).to_be_visible()
    act("timer_stop")
    expect(countdown).to_be_hidden()
    timers = [json.loads(f[2:])[1] for f in frames if f.startswith('42["timer"')]
    assert [bool(t["ends_at"]) for t in timers] == [True, False] and timers[0]["srev"] < timers[1]["srev"]

    # The countdown's start comes again, late; then a fresh broadcast that shows, so the late one was read first.
    relay[0].send(next(f for f in frames if f.startswith('42["timer"')))
    act("session_open", open=False)
    expect(wall.locator("#closed")).to_be_visible()
    expect(countdown).to_be_hidden()
    for client in (console, other):
        client.disconnect()
