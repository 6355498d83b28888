"""Duo feedback: duos from the event file, takeaways and questions per duo, upvotes, key lessons, the booklet."""

from __future__ import annotations


import pytest
import requests
from pypdf import PdfReader

from app.extensions import db
from app.models import Session
from app.services import records
from app.services.sessions import format_state
from conftest import events_named, import_file, socket_client
from test_server import Recorder, organiser_cookie, wait_until
from workshops import get

EVENT = """
slug: duos
title: Rencontre des collectivités
language: fr
guests:
  - name: Ecopôle Alimentaire
    kind: ptce
programme:
  - date: "2026-06-10"
    items:
      - id: duos
        start: "09:30"
        end: "11:00"
        title: Retours d’expérience en duo
        kind: duo
        workshop: duo
        question: Que retenez-vous de ce duo ?
        duos:
          - title: Alimentation durable et locale
            authority: {name: Felix Degrave, role: Chargé de mission, organisation: Agglomération de Lens-Liévin}
            cooperation: {name: Dominique Hays, role: Fondateur, organisation: Ecopôle Alimentaire}
            summary: Un écopôle alimentaire porté par un PTCE.
          - title: Habitat inclusif
            authority: {name: Ville de Lille, organisation: Ville de Lille}
            cooperation: {name: Didier Sparels, role: Directeur, organisation: APF Nord-Pas-de-Calais}
        settings:
          parallel: PARALLEL
          minutes: 20
"""
FOOD, HOUSING = "alimentation-durable-et-locale", "habitat-inclusif"


def imported(app, tmp_path, parallel: bool):
    """Import the event with duos in parallel or in turn; return the session's code and its tables' codes by key."""
    source = tmp_path / "duos.yaml"
    source.write_text(EVENT.replace("PARALLEL", "true" if parallel else "false"), encoding="utf-8")
    code = import_file(app, source).sessions[0].code
    with app.app_context():
        session = db.session.scalar(db.select(Session).where(Session.code == code))
        return code, {t.key: t.code for t in session.tables}


@pytest.fixture
def duos(app, tmp_path):
    """The duo session, its duos one after another: its code."""
    return imported(app, tmp_path, parallel=False)[0]


def call(client, event: str, **data) -> dict:
    """Emit an event with an ack and return the ack."""
    return client.emit(event, data, callback=True)


def session_of(code: str) -> Session:
    return db.session.scalar(db.select(Session).where(Session.code == code))


def test_duos_in_turn_get_a_phase_each_and_in_parallel_a_table_each(app, tmp_path, read):
    code, tables = imported(app, tmp_path, parallel=False)
    settings = read(lambda: session_of(code).settings)
    assert tables == {}
    assert [(p["key"], p["label"], p["posting"], p["minutes"]) for p in settings["phases"]] == [
        ("welcome", "Welcome", False, None), ("duo-1", "Alimentation durable et locale", True, 20),
        ("duo-2", "Habitat inclusif", True, 20), ("done", "Done", False, None)]
    assert settings["frameworks"] == [
        {"key": "duo", "label": "Duo", "required": True, "items": [
            {"key": FOOD, "label": "Alimentation durable et locale"}, {"key": HOUSING, "label": "Habitat inclusif"}]},
        {"key": "kind", "label": "Mon message est", "required": True, "items": [
            {"key": "takeaway", "label": "Ce que je retiens"}, {"key": "question", "label": "Une question"}]}]
    code, tables = imported(app, tmp_path, parallel=True)
    assert set(tables) == {FOOD, HOUSING}
    assert [p["key"] for p in read(lambda: session_of(code).settings)["phases"]] == ["welcome", "duos", "done"]
    fmt = get("duo")
    assert fmt.questions and fmt.review({"moderation": "review"}) and not fmt.review({})
    assert fmt.spotlight_scope({"duo": FOOD, "kind": "question"}) == FOOD


def test_the_event_file_needs_duos_each_with_its_own_title():
    fmt = get("duo")
    assert fmt.check_settings({"title": "Duos"}, {})[0][0] == ("duos",)
    twice = {"title": "Duos", "duos": [{"title": "Habitat inclusif"}, {"title": "Habitat  inclusif !"}]}
    assert [path for path, _ in fmt.check_settings(twice, {})] == [("duos", 1, "title")]
    assert fmt.check_settings({"duos": [{"title": "A"}], "tags": []}, {})[0][0] == ("tags",)
    assert fmt.settings_problems({"settings": {"parallel": "yes"}}, {})[0][0] == ("settings", "parallel")


def lessons_stored(read, code: str) -> dict:
    return read(lambda: {r.key: (r.data, r.rev) for r in records.find(session_of(code), "lessons:")})


def test_key_lessons_are_written_with_revisions_and_the_screens_hear_them(app, duos, read, console):
    wall = socket_client(app)
    assert call(wall, "watch", code=duos)["ok"]
    ack = call(console, "duo.lessons", code=duos, duo=FOOD, lessons=["  L’échelle  territoriale ", "Le temps long"],
               rev=0)
    assert ack == {"ok": True, "record": {"key": f"lessons:{FOOD}", "data": {"lessons": [
        "L’échelle territoriale", "Le temps long"]}, "rev": 1}}
    assert events_named(wall, "duo.lessons")[-1] == {"code": duos, "duo": FOOD, "record": ack["record"]}
    stale = call(console, "duo.lessons", code=duos, duo=FOOD, lessons=["Autre chose"], rev=0)
    assert stale["error"]["code"] == "stale_record" and stale["error"]["record"]["rev"] == 1
    assert call(console, "duo.lessons", code=duos, duo=FOOD, lessons=["Un", "Deux", "Trois"], rev=1)["record"]["rev"] == 2
    overview = call(console, "duo.overview", code=duos)["duos"]
    assert [(d["key"], d["lessons"] and d["lessons"]["rev"], d["takeaways"], d["questions"]) for d in overview] == [
        (FOOD, 2, 0, 0), (HOUSING, None, 0, 0)]
    assert overview[0]["presenters"][1] == {"name": "Dominique Hays", "role": "Fondateur",
                                            "organisation": "Ecopôle Alimentaire", "side": "cooperation",
                                            "guest": {"anchor": "guest-ecopole-alimentaire",
                                                      "name": "Ecopôle Alimentaire"}}
    assert overview[0]["presenters"][0]["guest"] is None
    phone = socket_client(app)
    assert call(phone, "join", code=duos, name="Alice")["ok"]
    assert call(phone, "duo.lessons", code=duos, duo=FOOD, lessons=["Moi"], rev=2)["error"]["code"] == "forbidden"
    assert lessons_stored(read, duos)[f"lessons:{FOOD}"] == ({"lessons": ["Un", "Deux", "Trois"]}, 2)


@pytest.mark.parametrize("change, code", [
    ({"duo": "autre"}, "unknown_duo"),
    ({"duo": None}, "unknown_duo"),
    ({"lessons": []}, "lessons_count"),
    ({"lessons": ["a", "b", "c", "d", "e", "f"]}, "lessons_count"),
    ({"lessons": "une leçon"}, "invalid_field"),
    ({"lessons": ["a", 2]}, "invalid_field"),
    ({"lessons": ["a", "   "]}, "lesson_empty"),
    ({"lessons": ["x" * 301]}, "field_too_long"),
    ({"rev": -1}, "invalid_field"),
    ({"rev": True}, "invalid_field"),
    ({"rev": None}, "invalid_field"),
])
def test_bad_lessons_are_refused_with_their_code_and_change_nothing(app, duos, read, console, change, code):
    assert call(console, "duo.lessons", code=duos, duo=FOOD, lessons=["Avant"], rev=0)["ok"]
    before = lessons_stored(read, duos)
    ack = call(console, "duo.lessons", **{"code": duos, "duo": FOOD, "lessons": ["Après"], "rev": 1, **change})
    assert ack["ok"] is False and ack["error"]["code"] == code, ack
    assert lessons_stored(read, duos) == before


def test_two_duos_in_parallel_each_get_their_own_questions_votes_and_spotlight(server_env, tmp_path):
    from server import Server

    srv = Server(tmp_path / "data", extra_env=server_env)
    (tmp_path / "duos.yaml").write_text(EVENT.replace("PARALLEL", "true"), encoding="utf-8")
    sessions_listed = srv.prepare(str(tmp_path / "duos.yaml"), "duos")
    with srv:
        code = sessions_listed[0]["code"]
        tables = {t["key"]: t for t in requests.get(f"{srv.url}/api/sessions/{code}", timeout=5).json()["session"]
                  ["tables"]}
        console = Recorder(srv.url, {"Cookie": organiser_cookie(srv)})
        assert console.call("watch", {"code": code})["ok"]
        assert console.call("phase_set", {"code": code, "phase": "duos"})["ok"]
        rooms = {}
        for duo in (FOOD, HOUSING):
            wall = Recorder(srv.url)
            assert wall.call("watch", {"code": tables[duo]["code"]})["ok"]
            phones = [Recorder(srv.url) for _ in range(4)]
            for n, phone in enumerate(phones):
                joined = phone.call("join", {"code": tables[duo]["code"], "name": f"{duo[:4]}{n}"})
                assert joined["ok"] and joined["upvoted"] == []
            rooms[duo] = (wall, phones)
        asked = {}
        for duo, (_wall, phones) in rooms.items():
            # Each room posts through its own table's code, which puts every post in its duo whatever the phone says.
            for n, phone in enumerate(phones[:2]):
                ack = phone.call("post", {"code": tables[duo]["code"], "client_id": f"{duo[:4]}{n}".ljust(16, "x"),
                                          "text": f"Question {n} au duo {duo}", "tags": {"kind": "question",
                                                                                      "duo": FOOD}})
                assert ack["ok"] and ack["post"]["tags"] == {"duo": duo, "kind": "question"}
                assert ack["post"]["author"] is None
                asked.setdefault(duo, []).append(ack["post"]["id"])
        # Everyone in each room upvotes their room's first question; the second gets one vote, then it is withdrawn.
        for duo, (_wall, phones) in rooms.items():
            for phone in phones:
                assert phone.call("upvote", {"code": tables[duo]["code"], "post_id": asked[duo][0], "on": True})["ok"]
            assert phones[0].call("upvote", {"code": code, "post_id": asked[duo][1], "on": True})["upvotes"] == 1
            assert phones[0].call("upvote", {"code": code, "post_id": asked[duo][1], "on": False})["upvotes"] == 0
        for duo in rooms:
            assert console.call("question_spotlight", {"code": code, "post_id": asked[duo][0], "on": True})["ok"]
        assert console.call("question_answered", {"code": code, "post_id": asked[HOUSING][0], "answered": True})["ok"]
        for wall, _phones in rooms.values():
            wait_until(lambda w=wall: any(s.get("state", {}).get("spotlight", {}).get(HOUSING)
                                          for s in w.got("format_state")))
            spot = [s["state"]["spotlight"] for s in wall.got("format_state") if "spotlight" in s.get("state", {})][-1]
            assert spot == {FOOD: asked[FOOD][0], HOUSING: asked[HOUSING][0]}
            assert {p["id"] for p in wall.got("post")} == set(asked[FOOD] + asked[HOUSING])
        overview = console.call("duo.overview", {"code": code})["duos"]
        assert [(d["key"], d["takeaways"], d["questions"]) for d in overview] == [(FOOD, 0, 2), (HOUSING, 0, 2)]
        assert console.call("duo.lessons", {"code": code, "duo": HOUSING, "lessons": ["Un pas de côté"], "rev": 0})["ok"]
        for wall, phones in rooms.values():
            for client in [wall, *phones]:
                client.client.disconnect()
        console.client.disconnect()
    srv.cli("restitution", "duos", "-o", str(tmp_path / "r.pdf"))
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(tmp_path / "r.pdf").pages)
    assert f"Question 0 au duo {HOUSING} 4 votes répondue" in text
    assert f"Question 0 au duo {FOOD} 4 votes" in text and "Un pas de côté" in text
    assert "Le retour d’expérience de ce duo concerne 1 point" in text


def test_the_booklet_prints_each_duo_with_its_lessons_and_the_rooms_best_takeaways(app, duos, read, console):
    phones = []
    for n in range(3):
        phone = socket_client(app)
        assert call(phone, "join", code=duos, name=f"P{n}", organisation="Ecopôle")["ok"]
        phones.append(phone)
    assert call(console, "phase_set", code=duos, phase="duo-1")["ok"]
    posted = []
    for n, (text, kind, signed) in enumerate([("Animer à deux change tout", "takeaway", False),
                                              ("Le temps long compte", "takeaway", True),
                                              ("Comment partager les risques ?", "question", False)]):
        ack = call(phones[n], "post", code=duos, client_id=f"p{n}".ljust(16, "0"), text=text,
                   tags={"duo": FOOD, "kind": kind}, signed=signed)
        assert ack["ok"], ack
        posted.append(ack["post"]["id"])
    for phone in phones[1:]:
        assert call(phone, "upvote", code=duos, post_id=posted[0], on=True)["ok"]
    assert call(console, "duo.lessons", code=duos, duo=FOOD, lessons=["L’échelle", "L’opérateur", "Le temps long"],
                rev=0)["ok"]

    def section():
        session = session_of(duos)
        data = get("duo").synthesise(session)
        from carnet.templating import environment
        return data, environment().get_template("duo/booklet.html").render(data=data, session=session,
                                                                           show_names=True)
    data, html = read(section)
    food = data["duos"][0]
    assert [(p["text"], p["upvotes"], p["author"]) for p in food["takeaways"]] == [
        ("Animer à deux change tout", 2, None), ("Le temps long compte", 0, "P1")]
    assert [(p["text"], p["answered"]) for p in food["questions"]] == [("Comment partager les risques ?", False)]
    assert food["lessons"] == ["L’échelle", "L’opérateur", "Le temps long"]
    assert data["figures"] == "2 duos · 2 choses retenues · 1 question" and data["total"] == 3
    assert "Le retour d’expérience de ce duo concerne 3 points principaux :" in html
    assert "Ce que la salle retient" in html and "2 votes" in html and "— P1, Ecopôle" in html
    assert html.count("— P") == 1  # unsigned posts print no author
    assert "Rien n’a été posté pour ce duo." in html  # the second duo
    assert read(lambda: format_state(session_of(duos))).get("spotlight", {}) == {}
