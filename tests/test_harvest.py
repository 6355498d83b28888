"""Table hosts: the secret host link, the harvest per category, and what walls and the synthesis get."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Harvest, Session, Table
from app.services import eventfile, sessions
from conftest import events_named, import_file
from workshops import registry


@pytest.fixture
def cafe_tables(app, read):
    """The world-café example imported; returns (session, [(key, code, host_token)])."""
    item = registry()["world_cafe"].example
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    session = import_file(app, eventfile.dump(doc)).sessions[0]
    tables = read(lambda: [(t.key, t.code, t.host_token) for t in db.session.query(Table).order_by(Table.position)])
    return session, tables


def test_the_host_sees_every_post_of_their_table_and_harvests(app, phone, wall, cafe_tables, read):
    session, tables = cafe_tables
    key, code, token = tables[0]
    read(lambda: sessions.set_phase(db.session.get(Session, session.id), "round_1"))
    phone.emit("join", {"code": code}, callback=True)
    phone.emit("post", {"code": code, "client_id": "host-post-1", "text": "Un animateur dédié", "tags": {}},
               callback=True)
    other = tables[1][1]
    phone.emit("join", {"code": other}, callback=True)
    phone.emit("post", {"code": other, "client_id": "host-post-2", "text": "Autre table", "tags": {}}, callback=True)

    host = app.extensions["socketio"].test_client(app)
    ack = host.emit("host_join", {"token": token}, callback=True)
    assert ack["session"]["table"]["key"] == key
    assert [p["text"] for p in ack["posts"]] == ["Un animateur dédié"]
    assert [c["key"] for c in ack["categories"]] == ["missions", "actions", "besoins"]
    assert ack["harvest"] == {}

    wall.emit("watch", {"code": session.code}, callback=True)
    wall.get_received()
    saved = host.emit("harvest_save", {"token": token, "category": "missions",
                                       "text": "  Incarner le projet collectif\nÊtre tiers de confiance  "}, callback=True)
    assert saved == {"ok": True, "code": session.code, "table": key, "category": "missions",
                     "text": "Incarner le projet collectif\nÊtre tiers de confiance"}
    assert events_named(wall, "harvest") == [{k: v for k, v in saved.items() if k != "ok"}]
    host.emit("harvest_save", {"token": token, "category": "missions", "text": "Incarner le projet"}, callback=True)
    assert read(lambda: [(h.category, h.text) for h in db.session.query(Harvest)]) == [("missions", "Incarner le projet")]
    assert wall.emit("watch", {"code": session.code}, callback=True)["harvest"] == {key: {"missions": "Incarner le projet"}}

    with app.test_request_context():
        data = registry()["world_cafe"].synthesise(db.session.get(Session, session.id))
    first = data["tables"][0]
    assert first["categories"][0] == {"key": "missions", "label": "Missions", "posts": [], "key_phrases": [],
                                      "harvest": "Incarner le projet",
                                      "harvests": [{"table": first["name"], "text": "Incarner le projet"}]}
    assert [(idea["text"], idea["dots"], idea["merged"]) for idea in first["other"]] == [("Un animateur dédié", 0, [])]


def test_host_errors_change_nothing(app, cafe_tables, read):
    _session, tables = cafe_tables
    token = tables[0][2]
    host = app.extensions["socketio"].test_client(app)
    assert host.emit("host_join", {"token": "not-a-real-token-at-all"}, callback=True)["error"]["code"] == \
        "unknown_host_link"
    assert host.emit("harvest_save", {"token": token, "category": "cuisine", "text": "x"}, callback=True)["error"][
        "code"] == "unknown_category"
    assert host.emit("harvest_save", {"token": token, "category": "missions", "text": 3}, callback=True)["error"][
        "code"] == "invalid_field"
    assert host.emit("harvest_save", {"token": token, "category": "missions", "text": "x" * 3001},
                     callback=True)["error"]["code"] == "text_too_long"
    assert read(lambda: db.session.query(Harvest).count()) == 0


def test_a_host_merges_a_duplicate_of_their_table_only(app, phone, wall, cafe_tables, read):
    from app.models import Post

    session, tables = cafe_tables
    read(lambda: sessions.set_phase(db.session.get(Session, session.id), "round_1"))
    ids = []
    for n, (code, text) in enumerate([(tables[0][1], "Un poste d'animateur"), (tables[0][1], "un poste animateur !"),
                                      (tables[1][1], "Une autre table")]):
        phone.emit("join", {"code": code}, callback=True)
        ids.append(phone.emit("post", {"code": code, "client_id": f"merge-{n:04d}", "text": text, "tags": {}},
                              callback=True)["post"]["id"])
    host = app.extensions["socketio"].test_client(app)
    token = tables[0][2]
    wall.emit("watch", {"code": session.code}, callback=True)
    wall.get_received()
    ack = host.emit("host_merge", {"token": token, "post_id": ids[1], "into": ids[0]}, callback=True)
    assert ack["post"]["hidden"] is True and ack["post"]["merged_into"] == ids[0]
    merged = events_named(wall, "post_merged")
    assert [(m["post"]["id"], m["post"]["merged_into"], m["into"]["id"]) for m in merged] == [(ids[1], ids[0], ids[0])]
    assert read(lambda: (db.session.get(Post, ids[1]).merged_into_id, db.session.get(Post, ids[1]).hidden)) == \
        (ids[0], True)
    # Another table's idea, itself, or a hidden idea cannot be merged into.
    for post_id, into in ((ids[2], ids[0]), (ids[0], ids[2]), (ids[0], ids[0]), (ids[0], ids[1])):
        refused = host.emit("host_merge", {"token": token, "post_id": post_id, "into": into}, callback=True)
        assert refused["ok"] is False, (post_id, into)
    assert read(lambda: db.session.get(Post, ids[0]).hidden) is False
