"""Groups of ideas in the synthesis, steered by people: a host's and an organiser's answers to suggestions, the
organiser's edits (rename, move, merge, split), kept when the synthesis runs again with new ideas, and the booklet
printing groups instead of repeated ideas. Flask-SocketIO's test clients drive the real handlers."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Event, GroupDecision, IdeaVector, Post, Session, Table
from app.services import eventfile, sessions
from carnet.restitution import write_pdf
from conftest import import_file, login, socket_client
from server import serving
from test_questions import Client, wait_until
from test_server import organiser_cookie
from workshops import ideas, registry

# Table « Animation », category « besoins »: one idea said three times, two pairs that may say the same (between
# the event's two thresholds), and an idea of its own.
FUNDING = ["Trouver des financements pour le poste d'animateur", "trouver des financements pour le poste d'animatrice",
           "TROUVER DES FINANCEMENTS POUR LE POSTE D'ANIMATEUR !"]
TRAINING = ["Former l'animateur aux techniques de facilitation", "une formation à l'animation pour l'animatrice"]
NEWSLETTER = ["Une newsletter régulière pour informer les membres", "envoyer un petit mail d'actu chaque mois"]
ALONE = "Un potager partagé devant le tiers-lieu"
GROUPING = {"threshold": 0.6, "suggest": 0.3}


@pytest.fixture
def cafe(app, read, console, wall):
    """A world café in round 1 with ideas posted at table « Animation », its host and the console watching."""
    doc = {"slug": "cafe", "title": "Café", "grouping": GROUPING, "programme": [{"date": "2026-06-09",
                                                            "items": [registry()["world_cafe"].example]}]}
    session = import_file(app, eventfile.dump(doc)).sessions[0]
    tables = read(lambda: [(t.code, t.host_token) for t in db.session.scalars(select(Table).order_by(Table.position))])
    read(lambda: sessions.set_phase(db.session.get(Session, session.id), "round_1"))
    phone = socket_client(app)
    assert phone.emit("join", {"code": tables[0][0], "name": "Camille"}, callback=True)["ok"]
    ids = {}
    for n, text in enumerate(FUNDING + TRAINING + NEWSLETTER + [ALONE]):
        ack = phone.emit("post", {"code": tables[0][0], "client_id": f"group-{n:04d}", "text": text,
                                  "tags": {"category": "besoins"}}, callback=True)
        assert ack["ok"], ack
        ids[text] = ack["post"]["id"]
    host = socket_client(app)
    assert host.emit("host_join", {"token": tables[0][1]}, callback=True)["ok"]
    for screen in (console, wall):
        assert screen.emit("watch", {"code": session.code}, callback=True)["ok"]
    for client in (console, wall, host, phone):
        client.get_received()
    yield SimpleNamespace(code=session.code, id=session.id, ids=ids, host=host, token=tables[0][1], phone=phone,
                          table=tables[0][0])
    for client in (phone, host):
        if client.is_connected():
            client.disconnect()


def synthesis(read, session_id: int) -> list[dict]:
    return read(lambda: ideas(db.session.get(Session, session_id)))


def group_texts(found: list[dict]) -> list[set[str]]:
    """Every group's texts (its ideas and those merged into them on the wall), as sets."""
    return [{t for m in idea["members"] for t in [m["text"], *m["merged"]]} or {idea["text"], *idea["merged"]}
            for idea in found]


def test_the_synthesis_groups_what_was_said_the_same_way_and_stores_each_ideas_vector(app, read, cafe):
    found = synthesis(read, cafe.id)
    assert set(FUNDING) in group_texts(found)
    assert {ALONE} in group_texts(found)
    funding = next(i for i in found if set(FUNDING) == {m["text"] for m in i["members"]})
    assert funding["text"] in FUNDING and len(funding["merged"]) == 2
    assert not any(set(FUNDING) & g and set(TRAINING) & g for g in group_texts(found)), "funding is not training"
    assert read(lambda: db.session.query(IdeaVector).count()) == len(cafe.ids)


def ask(client, event: str, **data) -> dict:
    ack = client.emit(event, data, callback=True)
    assert ack["ok"], ack
    return ack


def test_a_host_confirms_one_suggestion_and_rejects_another_and_the_booklet_shows_both(app, read, cafe, console, wall,
                                                                                      tmp_path, organiser):
    suggested = ask(cafe.host, "host_suggestions", token=cafe.token)["suggestions"]
    pairs = [{s["post"]["text"], s["other"]["text"]} for s in suggested]
    assert set(TRAINING) in pairs and set(NEWSLETTER) in pairs, pairs
    training = next(s for s in suggested if {s["post"]["text"], s["other"]["text"]} == set(TRAINING))
    newsletter = next(s for s in suggested if {s["post"]["text"], s["other"]["text"]} == set(NEWSLETTER))
    ack = ask(cafe.host, "host_group_answer", token=cafe.token, post_id=training["post"]["id"],
              other_id=training["other"]["id"], same=True)
    assert ack["merged"] is True
    ask(cafe.host, "host_group_answer", token=cafe.token, post_id=newsletter["post"]["id"],
        other_id=newsletter["other"]["id"], same=False)
    # Every screen hears both answers; the confirmed pair is merged on the wall too.
    for screen in (console, wall, cafe.host):
        received = screen.get_received()
        answered = [m["args"][0] for m in received if m["name"] == "group_answered"]
        assert [(a["same"], {a["post_id"], a["other_id"]}) for a in answered] == [
            (True, {training["post"]["id"], training["other"]["id"]}),
            (False, {newsletter["post"]["id"], newsletter["other"]["id"]})]
        merged = [m["args"][0] for m in received if m["name"] == "post_merged"]
        assert [(m["post"]["id"], m["into"]["id"]) for m in merged] == [(cafe.ids[TRAINING[1]], cafe.ids[TRAINING[0]])]
    stored = read(lambda: sorted((d.post_id, d.other_id, d.same, d.table_id is not None)
                                 for d in db.session.scalars(select(GroupDecision))))
    assert stored == sorted([(*sorted((training["post"]["id"], training["other"]["id"])), True, True),
                             (*sorted((newsletter["post"]["id"], newsletter["other"]["id"])), False, True)])
    # Never asked twice.
    again = ask(cafe.host, "host_suggestions", token=cafe.token)["suggestions"]
    assert not [s for s in again if {s["post"]["text"], s["other"]["text"]} in (set(TRAINING), set(NEWSLETTER))]
    groups = group_texts(synthesis(read, cafe.id))
    assert set(TRAINING) in groups
    assert {NEWSLETTER[0]} in groups and {NEWSLETTER[1]} in groups
    # The booklet prints the confirmed pair once, « said twice », and the rejected pair as two ideas.
    path = tmp_path / "restitution.pdf"
    with app.test_request_context():
        write_pdf(db.session.get(Event, read(lambda: db.session.get(Session, cafe.id).event_id)), path)
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)
    assert f"{TRAINING[0]} (dit 2 fois)" in text
    assert TRAINING[1] not in text
    assert text.count("Une newsletter régulière pour informer les membres") == 1
    assert "envoyer un petit mail d'actu chaque mois" in text.replace("’", "'")
    funding = next(t for t in FUNDING if f"{t} (dit 3 fois)" in text.replace("’", "'"))
    assert all(other not in text.replace("’", "'") for other in FUNDING if other != funding)
    # The web version lists each group's ideas under it.
    http = app.test_client()
    login(http)
    page = http.get("/e/cafe/restitution").get_data(as_text=True)
    details = re.findall(r'<details class="idea__group">.*?</details>', page, re.S)
    listed = [set(html.unescape(t) for t in re.findall(r"<li>(.*?)</li>", d)) for d in details]
    assert set(FUNDING) in listed and set(TRAINING) in listed and len(listed) == 2


@pytest.mark.parametrize(("data", "code"), [
    ({"post_id": 1, "other_id": 1, "same": True}, "invalid_pair"),
    ({"post_id": 1, "other_id": 2, "same": "yes"}, "invalid_field"),
    ({"post_id": "x", "other_id": 2, "same": True}, "invalid_field"),
    ({"post_id": 1, "other_id": 99999, "same": True}, "unknown_post"),
])
def test_a_bad_answer_is_refused_with_its_code_and_changes_nothing(read, cafe, data, code):
    data = {**data, "post_id": cafe.ids[FUNDING[0]] if data["post_id"] == 1 else data["post_id"],
            "other_id": {1: cafe.ids[FUNDING[0]], 2: cafe.ids[FUNDING[1]]}.get(data["other_id"], data["other_id"])}
    ack = cafe.host.emit("host_group_answer", {"token": cafe.token, **data}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == code, ack
    assert read(lambda: db.session.query(GroupDecision).count()) == 0
    refused = cafe.phone.emit("group_answer", {"code": cafe.code, "post_id": cafe.ids[FUNDING[0]],
                                               "other_id": cafe.ids[FUNDING[1]], "same": True}, callback=True)
    assert refused["error"]["code"] == "forbidden"
    stranger = cafe.host.emit("host_group_answer", {"token": "x" * 32, "post_id": 1, "other_id": 2, "same": True},
                              callback=True)
    assert stranger["error"]["code"] == "unknown_host_link"


def test_organiser_edits_survive_a_new_synthesis_and_new_ideas(app, read, cafe, console):
    editor = ask(console, "groups", code=cafe.code)
    section = editor["sections"][0]
    assert section["label"] and section["key_phrases"]
    funding = next(g for g in section["groups"] if {m["text"] for m in g["members"]} == set(FUNDING))
    # Rename the funding group, take one idea out of it into the first training idea's, merge the newsletter pair,
    # then the training pair, and split the second training idea off again.
    ask(console, "group_rename", code=cafe.code, post_id=funding["id"], title="Financer l’animation dans la durée")
    ask(console, "group_move", code=cafe.code, post_id=cafe.ids[FUNDING[2]], into=cafe.ids[TRAINING[0]])
    ask(console, "group_merge", code=cafe.code, post_id=cafe.ids[NEWSLETTER[0]], other_id=cafe.ids[NEWSLETTER[1]])
    ask(console, "group_merge", code=cafe.code, post_id=cafe.ids[TRAINING[0]], other_id=cafe.ids[TRAINING[1]])
    assert {TRAINING[0], TRAINING[1], FUNDING[2]} in group_texts(synthesis(read, cafe.id))
    ask(console, "group_split", code=cafe.code, post_ids=[cafe.ids[TRAINING[1]]])

    def check(late: frozenset[str] = frozenset()):
        found = synthesis(read, cafe.id)
        groups = group_texts(found)
        assert {FUNDING[0], FUNDING[1]} | late in groups, groups
        assert {TRAINING[0], FUNDING[2]} in groups
        assert {TRAINING[1]} in groups
        assert set(NEWSLETTER) in groups
        titled = next(i for i in found if i["title"])
        assert titled["text"] == "Financer l’animation dans la durée"
        assert {m["text"] for m in titled["members"]} == {FUNDING[0], FUNDING[1]} | late

    check()
    # New ideas arrive, one saying the same as the funding group: the edits hold and it joins the titled group.
    for n, text in enumerate(["Trouver des financements pour le poste d'animateur en CDI", "Un composteur collectif"]):
        assert cafe.phone.emit("post", {"code": cafe.table, "client_id": f"late-{n:04d}", "text": text,
                                        "tags": {"category": "besoins"}}, callback=True)["ok"]
    check({"Trouver des financements pour le poste d'animateur en CDI"})
    # Giving the title back: the group shows its representative idea again.
    ask(console, "group_rename", code=cafe.code, post_id=cafe.ids[FUNDING[0]], title="  ")
    assert not any(i["title"] for i in synthesis(read, cafe.id))


def test_bad_edits_are_refused_with_their_code(read, cafe, console):
    cases = [("group_rename", {"post_id": cafe.ids[ALONE], "title": "x" * 301}, "title_too_long"),
             ("group_rename", {"post_id": cafe.ids[ALONE], "title": 3}, "invalid_field"),
             ("group_split", {"post_ids": []}, "invalid_field"),
             ("group_split", {"post_ids": [cafe.ids[ALONE]]}, "whole_group"),
             ("group_split", {"post_ids": [cafe.ids[FUNDING[0]], cafe.ids[ALONE]]}, "other_group"),
             ("group_move", {"post_id": 999999, "into": None}, "unknown_post"),
             ("group_merge", {"post_id": cafe.ids[ALONE], "other_id": cafe.ids[ALONE]}, "invalid_pair")]
    for event, data, code in cases:
        ack = console.emit(event, {"code": cafe.code, **data}, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == code, (event, ack)
    assert read(lambda: db.session.query(GroupDecision).count()) == 0
    assert read(lambda: [p.group_title for p in db.session.scalars(select(Post))]) == [None] * len(cafe.ids)


@pytest.mark.server
def test_through_a_real_server_a_host_answers_two_suggestions_and_the_printed_booklet_shows_both(tmp_path):
    """python-socketio clients against `rouages serve`: a phone posts, the host confirms one pair and rejects
    another, a wall hears both; `rouages restitution` then prints the confirmed pair once and the other two apart."""
    doc = {"slug": "cafe", "title": "Café", "grouping": GROUPING,
           "programme": [{"date": "2026-06-09", "items": [registry()["world_cafe"].example]}]}
    source = tmp_path / "cafe.yaml"
    source.write_text(eventfile.dump(doc), encoding="utf-8")
    with serving(tmp_path / "data", source, "cafe") as srv:
        listed = srv.sessions[0]
        table = listed["tables"][0]
        token = table["host_url"].rsplit("/", 1)[1]
        phone, host, wall = Client(srv.url), Client(srv.url), Client(srv.url)
        try:
            assert phone.call("join", {"code": table["code"]})["ok"]
            organiser = Client(srv.url, {"Cookie": organiser_cookie(srv)})
            assert organiser.call("phase_set", {"code": srv.code, "phase": "round_1"})["ok"]
            organiser.close()
            for n, text in enumerate(FUNDING + TRAINING + NEWSLETTER + [ALONE]):
                ack = phone.call("post", {"code": table["code"], "client_id": f"real-{n:04d}", "text": text,
                                          "tags": {"category": "besoins"}})
                assert ack["ok"], ack
            assert host.call("host_join", {"token": token})["ok"]
            assert wall.call("watch", {"code": srv.code})["ok"]
            suggested = host.call("host_suggestions", {"token": token})["suggestions"]
            pick = {frozenset({s["post"]["text"], s["other"]["text"]}): s for s in suggested}
            training, newsletter = pick[frozenset(TRAINING)], pick[frozenset(NEWSLETTER)]
            yes = host.call("host_group_answer", {"token": token, "post_id": training["post"]["id"],
                                                  "other_id": training["other"]["id"], "same": True})
            no = host.call("host_group_answer", {"token": token, "post_id": newsletter["post"]["id"],
                                                 "other_id": newsletter["other"]["id"], "same": False})
            assert yes["ok"] and yes["merged"] and no["ok"] and not no["merged"], (yes, no)
            wait_until(lambda: len(wall.got("group_answered")) == 2 and len(wall.got("post_merged")) == 1)
            assert [a["same"] for a in wall.got("group_answered")] == [True, False]
            left = host.call("host_suggestions", {"token": token})["suggestions"]
            assert not {frozenset({s["post"]["text"], s["other"]["text"]}) for s in left} & {
                frozenset(TRAINING), frozenset(NEWSLETTER)}
        finally:
            for client in (phone, host, wall):
                client.close()
        pdf = tmp_path / "restitution.pdf"
        srv.cli("restitution", "cafe", "-o", str(pdf))
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages).replace("’", "'")
    assert f"{TRAINING[0]} (dit 2 fois)" in text and TRAINING[1] not in text
    assert NEWSLETTER[0] in text and NEWSLETTER[1] in text
