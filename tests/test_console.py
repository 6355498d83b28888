"""The session console's server side: no empty vote, a live voter count, table hosts picked among participants."""

from __future__ import annotations


import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Session, Table
from app.services import eventfile
from conftest import DATA, events_named, import_file, socket_client
from server import serving
from test_server import Recorder, organiser_cookie, wait_until
from workshops import registry


def test_a_vote_on_a_session_without_ideas_is_refused_and_reaches_no_phone(phone, console, cafe, read):
    phone.emit("join", {"code": cafe.code}, callback=True)
    phone.get_received()
    ack = console.emit("vote_open", {"code": cafe.code, "budget": 5, "max_per_post": 2}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "no_ideas"
    assert read(lambda: db.session.get(Session, cafe.id).vote_state) == "none"
    assert events_named(phone, "vote_state") == []
    # A hidden idea is nothing to vote on either.
    post = phone.emit("post", {"code": cafe.code, "client_id": "only-idea-0001", "text": "Une idée",
                               "tags": {"function": "animation"}}, callback=True)["post"]
    console.emit("post_hide", {"code": cafe.code, "post_id": post["id"]}, callback=True)
    assert console.emit("vote_open", {"code": cafe.code, "budget": 5, "max_per_post": 2},
                        callback=True)["error"]["code"] == "no_ideas"
    console.emit("post_restore", {"code": cafe.code, "post_id": post["id"]}, callback=True)
    assert console.emit("vote_open", {"code": cafe.code, "budget": 5, "max_per_post": 2}, callback=True)["ok"]


@pytest.fixture
def live(tmp_path, server_env):
    """A real gevent server with the small event and an organiser."""
    with serving(tmp_path / "data", DATA / "small.yaml", "petite-rencontre", "world-cafe", server_env) as srv:
        yield srv


def test_every_console_sees_the_voter_count_as_people_vote(live):
    code = live.code
    cookie = {"Cookie": organiser_cookie(live)}
    consoles = [Recorder(live.url, cookie) for _ in range(2)]
    for console in consoles:
        assert console.call("watch", {"code": code})["ok"]
    phones = [Recorder(live.url) for _ in range(4)]
    for n, phone in enumerate(phones):
        assert phone.call("join", {"code": code, "name": f"P{n}"})["ok"]
    idea = phones[0].call("post", {"code": code, "client_id": "voters-idea-001", "text": "Une idée",
                                   "tags": {"function": "animation"}})["post"]["id"]
    assert consoles[0].call("vote_open", {"code": code, "budget": 3, "max_per_post": 2})["ok"]
    for phone in phones:
        assert phone.call("vote", {"code": code, "dots": {str(idea): 1}})["ok"]
    # Moving one's dots again changes no count and sends nothing more.
    assert phones[0].call("vote", {"code": code, "dots": {str(idea): 2}})["ok"]
    for console in consoles:
        wait_until(lambda c=console: [v["voters"] for v in c.got("vote_state")][-1:] == [4])
        counts = [v["voters"] for v in console.got("vote_state")]
        assert counts == [0, 1, 2, 3, 4], counts
        assert console.got("vote_state")[-1]["state"] == "open"
    # Phones are not sent the count: at a hundred phones that fan-out would be for nothing they show.
    assert [v["voters"] for v in phones[3].got("vote_state")] == [0]
    assert phones[1].call("vote", {"code": code, "dots": {}})["ok"]  # took their dots back: one voter less
    wait_until(lambda: consoles[1].got("vote_state")[-1]["voters"] == 3)
    assert consoles[1].got("vote_state")[-1]["voters"] == 3
    for client in (*consoles, *phones):
        client.client.disconnect()


@pytest.fixture
def world(app):
    """A world café with the format's example tables."""
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09",
                                                            "items": [registry()["world_cafe"].example]}]}
    return import_file(app, eventfile.dump(doc)).sessions[0]


def _tables(read, cafe):
    return read(lambda: [(t.key, t.host_token, t.host_participant_id) for t in db.session.scalars(
        select(Table).where(Table.session_id == cafe.id).order_by(Table.position))])


def test_the_console_makes_a_participant_a_table_host_and_their_phone_gets_the_host_page(app, console, world, read,
                                                                                         client):
    cafe = world
    console.emit("watch", {"code": cafe.code}, callback=True)
    phone, other = socket_client(app), socket_client(app)
    joined = phone.emit("join", {"code": cafe.code, "name": "Camille"}, callback=True)
    other_id = other.emit("join", {"code": cafe.code, "name": "Dominique"}, callback=True)["participant"]["id"]
    assert joined["host"] is None
    me = joined["participant"]["id"]
    people = console.emit("world_cafe.people", {"code": cafe.code}, callback=True)["people"]
    assert [(p["id"], p["name"]) for p in people] == [(me, "Camille"), (other_id, "Dominique")]
    (key_a, token_a, _), (key_b, token_b, _) = _tables(read, cafe)[:2]
    phone.get_received()

    ack = console.emit("world_cafe.host", {"code": cafe.code, "table": key_a, "participant": me}, callback=True)
    assert ack["ok"] and ack["table"]["host"] == "Camille" and ack["host_url"] == f"/h/{token_a}"
    assert _tables(read, cafe)[0] == (key_a, token_a, me)
    [told] = events_named(phone, "host")
    assert told["url"] == f"/h/{token_a}" and told["table"]["key"] == key_a
    assert events_named(other, "host") == []
    assert client.get(told["url"]).status_code == 200
    # A phone that comes back is told again, and every console sees the new host.
    assert phone.emit("join", {"code": cafe.code, "token": joined["participant"]["token"]},
                      callback=True)["host"]["url"] == f"/h/{token_a}"
    assert [e["table"]["host"] for e in events_named(console, "host_changed")] == ["Camille"]

    # Moving the host to another table takes the first table's link away from them.
    console.emit("world_cafe.host", {"code": cafe.code, "table": key_b, "participant": me}, callback=True)
    (_, new_a, host_a), (_, same_b, host_b) = _tables(read, cafe)[:2]
    assert (host_a, host_b) == (None, me) and new_a != token_a and same_b == token_b
    # Another participant replacing them: they are told, and the link they had no longer opens the page.
    console.emit("world_cafe.host", {"code": cafe.code, "table": key_b, "participant": other_id}, callback=True)
    assert events_named(phone, "host")[-1] == {"code": cafe.code, "table": None, "url": None}
    assert client.get(f"/h/{token_b}").status_code == 404
    console.emit("world_cafe.host", {"code": cafe.code, "table": key_b, "participant": None}, callback=True)
    assert [row[2] for row in _tables(read, cafe)] == [None] * len(_tables(read, cafe))
    phone.disconnect()
    other.disconnect()


def test_host_promotion_refuses_bad_input_and_non_organisers_and_changes_nothing(app, console, phone, world, read,
                                                                                 event):
    cafe = world
    me = phone.emit("join", {"code": cafe.code, "name": "Camille"}, callback=True)["participant"]["id"]
    stranger = socket_client(app)
    board = next(s for s in event.sessions if s.key == "world-cafe")  # a board, in another event
    outsider = stranger.emit("join", {"code": board.code}, callback=True)["participant"]["id"]
    key = _tables(read, cafe)[0][0]
    before = _tables(read, cafe)
    cases = [({"table": "nowhere", "participant": me}, "unknown_table"),
             ({"table": 3, "participant": me}, "unknown_table"),
             ({"participant": me}, "unknown_table"),
             ({"table": key, "participant": outsider}, "unknown_participant"),
             ({"table": key, "participant": 2**40}, "invalid_field"),
             ({"table": key, "participant": "1"}, "invalid_field"),
             ({"table": key, "participant": True}, "invalid_field"),
             ({"table": key, "participant": 0}, "invalid_field")]
    for data, code in cases:
        ack = console.emit("world_cafe.host", {"code": cafe.code, **data}, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == code, data
    for name in ("world_cafe.host", "world_cafe.people"):
        ack = phone.emit(name, {"code": cafe.code, "table": key, "participant": me}, callback=True)
        assert ack["error"]["code"] == "forbidden"
    ack = console.emit("world_cafe.host", {"code": board.code, "table": key, "participant": me}, callback=True)
    assert ack["error"]["code"] == "wrong_format"
    assert _tables(read, cafe) == before
    stranger.disconnect()
