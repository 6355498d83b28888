"""Reconnections: phones ask from their cursors, a list many phones get is encoded once, state broadcasts are
numbered so that a late one can be told from a fresh one."""

from __future__ import annotations

import json

import orjson

from app.extensions import WireJSON, db
from app.models import Session
from app.services import posting
from conftest import events_named, socket_client

TAGS = {"function": "animation"}


def ok(ack: dict) -> dict:
    assert ack["ok"], ack
    return ack


def post(phone, code: str, texts: list[str], prefix: str) -> list[int]:
    return [ok(phone.emit("post", {"code": code, "client_id": f"{prefix}-{n:04d}", "text": text, "tags": TAGS},
                          callback=True))["post"]["id"] for n, text in enumerate(texts)]


def apply(held: dict, ack: dict) -> dict:
    """Apply a watch ack to a phone's list as vote.js does: new posts, then changed ones (hidden ones leave)."""
    for item in ack["posts"]:
        held[item["id"]] = item
    for item in ack["changed"]:
        if item["hidden"]:
            held.pop(item["id"], None)
        else:
            held[item["id"]] = item
    return held


def test_a_phone_back_from_a_lost_connection_is_sent_only_what_changed_since_its_cursors(
        app, phone, wall, console, cafe):
    token = ok(phone.emit("join", {"code": cafe.code, "name": "Awa"}, callback=True))["participant"]["token"]
    ids = post(phone, cafe.code, [f"Idée {n}" for n in range(6)], "first")
    ok(console.emit("post_hide", {"code": cafe.code, "post_id": ids[5]}, callback=True))
    phone.get_received()
    opened = ok(console.emit("vote_open", {"code": cafe.code, "budget": 3, "max_per_post": 1}, callback=True))
    [opening] = events_named(phone, "vote_state")
    assert opening["srev"] == opened["vote"]["srev"]
    held = {p["id"]: p for p in opening["posts"]}
    assert sorted(held) == ids[:5]
    phone.disconnect()

    # Away: one idea hidden, the one hidden before restored, three new ones from someone else.
    ok(console.emit("post_hide", {"code": cafe.code, "post_id": ids[0]}, callback=True))
    ok(console.emit("post_restore", {"code": cafe.code, "post_id": ids[5]}, callback=True))
    other = socket_client(app)
    ok(other.emit("join", {"code": cafe.code, "name": "Bastien"}, callback=True))
    late = post(other, cafe.code, ["Une", "Deux", "Trois"], "late")

    back = socket_client(app)
    ok(back.emit("join", {"code": cafe.code, "token": token}, callback=True))
    ack = ok(back.emit("watch", {"code": cafe.code, "since": opening["seq"], "rev": opening["rev"]}, callback=True))
    assert [p["id"] for p in ack["posts"]] == late
    assert {p["id"]: p["hidden"] for p in ack["changed"]} == {ids[0]: True, ids[5]: False}
    hidden = next(p for p in ack["changed"] if p["hidden"])
    assert set(hidden) == {"id", "code", "seq", "rev", "hidden"}  # never a hidden idea's text
    assert sorted(apply(held, ack)) == sorted(ids[1:] + late)
    listed = ok(wall.emit("watch", {"code": cafe.code}, callback=True))["posts"]
    assert {p["id"]: p["text"] for p in listed if not p["hidden"]} == {k: v["text"] for k, v in held.items()}

    # Back again with the cursors of that answer: nothing to send.
    again = ok(back.emit("watch", {"code": cafe.code, "since": ack["session"]["seq"], "rev": ack["session"]["rev"]},
                         callback=True))
    assert again["posts"] == [] and again["changed"] == [] and again["more"] is False
    for client in (other, back):
        client.disconnect()


def test_every_phone_fetching_the_list_gets_the_same_correct_list_encoded_once(app, phone, wall, console, cafe):
    ok(phone.emit("join", {"code": cafe.code, "name": "Awa"}, callback=True))
    ids = post(phone, cafe.code, [f"Une idée numéro {n} « accentuée »" for n in range(12)], "shared")
    ok(console.emit("post_hide", {"code": cafe.code, "post_id": ids[3]}, callback=True))
    ok(console.emit("vote_open", {"code": cafe.code, "budget": 3, "max_per_post": 1}, callback=True))
    phones = [socket_client(app) for _ in range(5)]
    for n, client in enumerate(phones):
        ok(client.emit("join", {"code": cafe.code, "name": f"P{n}"}, callback=True))
    acks = [ok(client.emit("watch", {"code": cafe.code}, callback=True)) for client in phones]
    expected = [p for p in ok(wall.emit("watch", {"code": cafe.code}, callback=True))["posts"] if not p["hidden"]]
    assert [p["id"] for p in expected] == ids[:3] + ids[4:]
    for ack in acks:
        assert ack["posts"] == expected
        assert ack["session"] == acks[0]["session"] | {"timer": ack["session"]["timer"]}

    with app.app_context():
        session = db.session.get(Session, cafe.id)
        page, more, _next = posting.shared_page(session, 0, 500)
        assert posting.shared_page(session, 0, 500)[0] is page and more is False  # the same bytes for all
    ok(console.emit("post_hide", {"code": cafe.code, "post_id": ids[0]}, callback=True))
    with app.app_context():
        session = db.session.get(Session, cafe.id)
        assert posting.shared_page(session, 0, 500)[0] is not page  # a new state, encoded anew
    after = ok(phones[0].emit("watch", {"code": cafe.code}, callback=True))["posts"]
    assert [p["id"] for p in after] == ids[1:3] + ids[4:]
    for client in phones:
        client.disconnect()


def test_state_broadcasts_carry_a_revision_each_change_raises(app, phone, wall, console, cafe):
    ok(phone.emit("join", {"code": cafe.code, "name": "Awa"}, callback=True))
    post(phone, cafe.code, ["Une idée"], "state")
    first = ok(wall.emit("watch", {"code": cafe.code}, callback=True))["session"]["srev"]
    wall.get_received()
    steps = [("timer_start", {"seconds": 300}, "timer"), ("timer_stop", {}, "timer"),
             ("session_open", {"open": False}, "session_state"), ("session_open", {"open": True}, "session_state"),
             ("vote_open", {"budget": 3, "max_per_post": 1}, "vote_state"), ("vote_close", {}, "vote_state")]
    revisions = []
    for event, data, broadcast in steps:
        ok(console.emit(event, {"code": cafe.code, **data}, callback=True))
        [payload] = events_named(wall, broadcast)
        revisions.append(payload["srev"])
    assert revisions == sorted(set(revisions)) and revisions[0] > first
    # A snapshot says the revision it was read at: the last change's.
    assert ok(wall.emit("watch", {"code": cafe.code}, callback=True))["session"]["srev"] == revisions[-1]
    # Posting and hiding change posts, not the state: the revision stays.
    post(phone, cafe.code, ["Une autre idée"], "state2")
    assert ok(wall.emit("watch", {"code": cafe.code}, callback=True))["session"]["srev"] == revisions[-1]


def test_frames_are_written_with_shared_fragments_and_survive_a_lone_surrogate():
    page = orjson.Fragment(orjson.dumps([{"id": 1, "text": "Idée « une »"}]))
    assert json.loads(WireJSON.dumps({"posts": page, 7: "sept"})) == {
        "posts": [{"id": 1, "text": "Idée « une »"}], "7": "sept"}
    # A client may send a lone surrogate as a JSON escape; a frame echoing it is still written.
    assert WireJSON.dumps(["error", {"field": json.loads('"a\\ud800b"')}]) == '["error",{"field":"a?b"}]'
