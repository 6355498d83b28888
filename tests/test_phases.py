"""Phases from the console: each step reaches every client, opens or closes posting and starts its countdown."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Post, Session, Table
from app.services import eventfile, sessions
from conftest import events_named, import_file
from workshops import registry


@pytest.fixture
def world_cafe(app):
    """An event whose only session is the world-café format's example (3 rounds of 20 minutes)."""
    item = registry()["world_cafe"].example
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    return import_file(app, eventfile.dump(doc)).sessions[0]


def test_a_new_world_cafe_waits_in_its_welcome_phase(phone, world_cafe):
    ack = phone.emit("join", {"code": world_cafe.code}, callback=True)
    session = ack["session"]
    assert session["phase"] == {"key": "welcome", "label": "Accueil", "posting": False, "minutes": None}
    assert [p["key"] for p in session["phases"]] == ["welcome", "round_1", "round_2", "round_3", "harvest",
                                                     "vote", "done"]
    assert session["frameworks"][0]["key"] == "function" and session["frameworks"][0]["required"] is True


def test_next_phase_reaches_every_client_and_opens_a_timed_round(phone, wall, console, world_cafe):
    phone.emit("join", {"code": world_cafe.code}, callback=True)
    wall.emit("watch", {"code": world_cafe.code}, callback=True)
    phone.get_received()
    wall.get_received()
    ack = console.emit("phase_set", {"code": world_cafe.code}, callback=True)
    assert ack["ok"] and ack["phase"]["key"] == "round_1" and ack["is_open"] is True
    assert ack["index"] == 1 and ack["count"] == 7
    timer = ack["timer"]
    assert timer["seconds"] == 1200 and 1_199_000 <= timer["ends_at"] - timer["now"] <= 1_200_000
    expected = {k: v for k, v in ack.items() if k != "ok"}
    assert events_named(phone, "phase") == [expected]
    assert events_named(wall, "phase") == [expected]
    posted = phone.emit("post", {"code": world_cafe.code, "client_id": "round-0001", "text": "Une idée",
                                 "tags": {"function": "animation"}}, callback=True)
    assert posted["ok"]


def test_harvest_closes_posting_and_stops_the_countdown(phone, console, world_cafe):
    phone.emit("join", {"code": world_cafe.code}, callback=True)
    ack = console.emit("phase_set", {"code": world_cafe.code, "phase": "harvest"}, callback=True)
    assert ack["is_open"] is False and ack["timer"]["ends_at"] is None
    refused = phone.emit("post", {"code": world_cafe.code, "client_id": "late-0001", "text": "Trop tard",
                                  "tags": {"function": "animation"}}, callback=True)
    assert refused["error"]["code"] == "session_closed"


def test_phase_errors_change_nothing(phone, console, world_cafe):
    assert console.emit("phase_set", {"code": world_cafe.code, "phase": "round_9"}, callback=True)["error"]["code"] \
        == "unknown_phase"
    assert console.emit("phase_set", {"code": world_cafe.code, "phase": 3}, callback=True)["error"]["code"] \
        == "unknown_phase"
    console.emit("phase_set", {"code": world_cafe.code, "phase": "done"}, callback=True)
    last = console.emit("phase_set", {"code": world_cafe.code}, callback=True)
    assert last["error"] == {"code": "last_phase", "message": "Cet atelier est déjà à sa dernière étape."}
    refused = phone.emit("phase_set", {"code": world_cafe.code, "phase": "round_1"}, callback=True)
    assert refused["error"]["code"] == "forbidden"
    assert phone.emit("join", {"code": world_cafe.code}, callback=True)["session"]["phase"]["key"] == "done"


def test_each_table_gets_its_own_code_and_imposes_its_theme(phone, wall, world_cafe, read):
    tables = read(lambda: [(t.key, t.code, t.name, t.tags, t.host) for t in
                           db.session.query(Table).order_by(Table.position)])
    assert [(key, name, tags, host) for key, _, name, tags, host in tables] == [
        ("animation", "Animation", {"function": "animation"}, "Camille"),
        ("creativite", "Créativité", {"function": "creativite"}, None),
        ("valorisation", "Valorisation", {"function": "valorisation"}, None),
        ("support", "Support", {"function": "support"}, None),
        ("gestion-de-projet", "Gestion de projet", {"function": "gestion_de_projet"}, None)]
    codes = [code for _, code, *_ in tables]
    assert len(set(codes + [world_cafe.code])) == 6

    creativite = codes[1]
    joined = phone.emit("join", {"code": creativite.lower()}, callback=True)
    assert joined["session"]["code"] == world_cafe.code
    assert joined["session"]["table"] == {"key": "creativite", "code": creativite, "name": "Créativité",
                                          "tags": {"function": "creativite"}, "host": None}
    assert len(joined["session"]["tables"]) == 5
    wall.emit("watch", {"code": world_cafe.code}, callback=True)
    closed = phone.emit("post", {"code": creativite, "client_id": "closed-0001", "text": "x", "tags": {}}, callback=True)
    assert closed["error"]["code"] == "session_closed"
    # Round 1 opens posting; a post from the table carries the table's theme, whatever the phone sent.
    read(lambda: sessions.set_phase(db.session.get(Session, world_cafe.id), "round_1"))
    wall.get_received()
    ack = phone.emit("post", {"code": creativite, "client_id": "table-0001", "text": "Des visites inspirantes",
                              "tags": {"function": "support", "category": "actions"}}, callback=True)
    assert ack["post"]["tags"] == {"function": "creativite", "category": "actions"}
    assert [p["tags"] for p in events_named(wall, "post")] == [{"function": "creativite", "category": "actions"}]
    assert read(lambda: db.session.query(Post).count()) == 1


def test_the_console_computes_a_rotation_plan_that_reaches_every_phone(app, console, world_cafe):
    from collections import Counter

    from conftest import socket_client

    assert console.emit("world_cafe.plan", {"code": world_cafe.code}, callback=True)["error"]["code"] == "nobody_joined"
    phones = []
    for i in range(12):
        phone = socket_client(app)
        ack = phone.emit("join", {"code": world_cafe.code, "name": f"P{i}", "organisation": f"Org {i % 4}"},
                         callback=True)
        assert ack["assignment"] is None
        phones.append((phone, ack["participant"]["id"], ack["participant"]["token"]))
    refused = phones[0][0].emit("world_cafe.plan", {"code": world_cafe.code}, callback=True)
    assert refused["error"]["code"] == "forbidden"

    ack = console.emit("world_cafe.plan", {"code": world_cafe.code}, callback=True)
    plan = ack["plan"]
    tables = ["animation", "creativite", "valorisation", "support", "gestion-de-projet"]
    assert plan["rounds"] == 3 and plan["tables"] == tables
    assignments = plan["assignments"]
    assert sorted(assignments, key=int) == sorted((str(pid) for _, pid, _ in phones), key=int)
    assert all(len(route) == 3 and len(set(route)) == 3 for route in assignments.values())
    for round_index in range(3):
        sizes = Counter(route[round_index] for route in assignments.values())
        assert max(sizes.values()) - min(sizes[t] for t in tables) <= 1
    for phone, pid, token in phones:
        [sent] = events_named(phone, "plan")
        assert sent == {"code": world_cafe.code, "plan": plan, "srev": sent["srev"]} and sent["srev"] > 0
        rejoined = phone.emit("join", {"code": world_cafe.code, "token": token}, callback=True)
        assert rejoined["assignment"] == assignments[str(pid)]
        phone.disconnect()
    assert console.emit("watch", {"code": world_cafe.code}, callback=True)["plan"] == plan
