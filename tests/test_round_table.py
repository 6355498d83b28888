"""The round table: speakers from the event file, the room's questions under review and upvoted, quotes by consent."""

from __future__ import annotations

import json

import pytest
import requests
from pypdf import PdfReader

from app.extensions import db
from app.models import Event, Session
from app.services import records
from carnet.restitution import write_pdf
from conftest import import_file, login, socket_client
from test_server import Recorder, organiser_cookie, wait_until
from workshops import get

EVENT = """
slug: table-ronde
title: Rencontre des collectivités
language: fr
programme:
  - date: "2026-06-10"
    items:
      - id: table-ronde
        start: "14:00"
        end: "15:45"
        title: Politiques publiques et coopérations
        kind: round_table
        workshop: round_table
        question: Quelle question poseriez-vous aux intervenants ?
        speakers:
          - name: Patricia Andriot
            role: Vice-présidente
            organisation: RTES
          - name: Arnaud Decagny
            role: Vice-président à l’économie sociale et solidaire
            organisation: Conseil régional des Hauts-de-France
        settings:
          moderation: review
          minutes: 30
"""

SECRET = "Propos tenus hors micro, sans accord de publication"
PUBLIC = "Revoir les politiques publiques avec un autre imaginaire."


@pytest.fixture
def table(app, tmp_path):
    """The round table session, imported: its code."""
    source = tmp_path / "table.yaml"
    source.write_text(EVENT, encoding="utf-8")
    return import_file(app, source).sessions[0].code


def call(client, event: str, **data) -> dict:
    """Emit an event with an ack and return the ack."""
    return client.emit(event, data, callback=True)


def quotes_stored(read, code: str) -> dict:
    """Return the session's quote records: {key: (data, rev)}."""
    def load():
        session = db.session.scalar(db.select(Session).where(Session.code == code))
        return {r.key: (r.data, r.rev) for r in records.find(session, "quote:")}
    return read(load)


def test_speakers_phases_and_moderation_come_from_the_event_file(app, table, read):
    def load():
        session = db.session.scalar(db.select(Session).where(Session.code == table))
        return session.settings, session.review, session.phase
    settings, review, phase = read(load)
    assert settings["frameworks"] == [{"key": "speaker", "label": "Ma question s’adresse à", "required": False,
                                       "items": [{"key": "patricia-andriot", "label": "Patricia Andriot"},
                                                 {"key": "arnaud-decagny", "label": "Arnaud Decagny"}]}]
    assert [(p["key"], p["posting"], p["minutes"]) for p in settings["phases"]] == [
        ("welcome", False, None), ("talk", True, None), ("questions", True, 30), ("closing", False, None),
        ("done", False, None)]
    assert review is True and phase == "welcome"
    fmt = get("round_table")
    assert fmt.questions and fmt.review({}) is False and fmt.spotlight_scope({"speaker": "x"}) == ""


def test_the_event_file_needs_speakers_each_named_once():
    fmt = get("round_table")
    item = {"title": "Table", "workshop": "round_table", "speakers": [{"name": "Anne Dupont"}, {"name": "anne  dupont"}]}
    assert fmt.check_settings(item, {}) == [(("speakers", 1, "name"), "'anne  dupont' is listed twice")]
    assert fmt.check_settings({"title": "Table", "tags": []}, {})[0][0] == ("tags",)
    assert fmt.check_settings({"title": "Table"}, {})[0][0] == ("speakers",)
    assert fmt.settings_problems({"settings": {"moderation": "later"}}, {})[0][0] == ("settings", "moderation")


def test_a_quote_is_written_edited_and_deleted_with_revisions(app, table, read, console):
    ack = call(console, "round_table.quote", code=table, speaker="patricia-andriot", text="  Revoir les politiques "
               "publiques   avec un autre imaginaire. ", consent=False)
    assert ack["ok"], ack
    assert ack["record"] == {"key": "quote:1", "data": {"speaker": "patricia-andriot", "text": PUBLIC,
                                                        "consent": False}, "rev": 1}
    second = call(console, "round_table.quote", code=table, speaker="arnaud-decagny", text="Faire avec.",
                  consent=True, rev=0)
    assert second["record"]["key"] == "quote:2"
    # The speaker agrees: the facilitator ticks the box on the quote as it was.
    edited = call(console, "round_table.quote", code=table, key="quote:1", speaker="patricia-andriot", text=PUBLIC,
                  consent=True, rev=1)
    assert edited["record"]["rev"] == 2 and edited["record"]["data"]["consent"] is True
    stale = call(console, "round_table.quote", code=table, key="quote:1", speaker="patricia-andriot", text="Autre",
                 consent=False, rev=1)
    assert stale["error"]["code"] == "stale_record" and stale["error"]["record"]["data"]["text"] == PUBLIC
    assert call(console, "round_table.quote_delete", code=table, key="quote:2", rev=0)["error"]["code"] == \
        "invalid_field"
    assert call(console, "round_table.quote_delete", code=table, key="quote:2", rev=1) == {"ok": True, "key": "quote:2"}
    listed = call(console, "round_table.quotes", code=table)["quotes"]
    assert [(q["key"], q["data"]["consent"], q["rev"]) for q in listed] == [("quote:1", True, 2)]
    assert quotes_stored(read, table) == {"quote:1": ({"speaker": "patricia-andriot", "text": PUBLIC,
                                                       "consent": True}, 2)}


def test_a_quote_written_under_a_key_of_its_own_is_written_once(app, table, read, console):
    """With a key and revision 0 a quote is created at that key; sent again (a retry, a rehearsal run twice), it is
    `stale_record` and the first stands."""
    first = call(console, "round_table.quote", code=table, key="quote:7", rev=0, speaker="arnaud-decagny",
                 text="Une page à écrire ensemble.", consent=True)
    assert first["ok"] and first["record"]["key"] == "quote:7" and first["record"]["rev"] == 1, first
    again = call(console, "round_table.quote", code=table, key="quote:7", rev=0, speaker="arnaud-decagny",
                 text="Autre chose", consent=False)
    assert again["error"]["code"] == "stale_record"
    for key in ("quote:0", "quote:1001", "quote:²", "quote:", "quote:-1", 7):
        refused = call(console, "round_table.quote", code=table, key=key, rev=0, speaker="arnaud-decagny",
                       text="Non", consent=True)
        assert refused["error"]["code"] == "unknown_quote", (key, refused)
    assert quotes_stored(read, table) == {"quote:7": ({"speaker": "arnaud-decagny",
                                                       "text": "Une page à écrire ensemble.", "consent": True}, 1)}


@pytest.mark.parametrize("change, code", [
    ({"speaker": "someone-else"}, "unknown_speaker"),
    ({"speaker": 3}, "unknown_speaker"),
    ({"text": "   "}, "quote_empty"),
    ({"text": "x" * 601}, "field_too_long"),
    ({"text": ["a"]}, "invalid_field"),
    ({"consent": "yes"}, "invalid_field"),
    ({"consent": None}, "invalid_field"),
    ({"rev": 3}, "invalid_field"),
    ({"key": "quote:9", "rev": 1}, "unknown_quote"),
    ({"key": "lessons:x", "rev": 1}, "unknown_quote"),
    ({"key": "quote:1", "rev": "1"}, "invalid_field"),
])
def test_a_bad_quote_is_refused_with_its_code_and_changes_nothing(app, table, read, console, change, code):
    assert call(console, "round_table.quote", code=table, speaker="arnaud-decagny", text="Avant", consent=True)["ok"]
    before = quotes_stored(read, table)
    ack = call(console, "round_table.quote", **{"code": table, "speaker": "arnaud-decagny", "text": "Après",
                                                 "consent": True, **change})
    assert ack["ok"] is False and ack["error"]["code"] == code, ack
    assert quotes_stored(read, table) == before


def test_quotes_are_the_consoles_only(app, table, read):
    phone = socket_client(app)
    assert call(phone, "join", code=table, name="Alice")["ok"]
    for event, data in (("round_table.quote", {"speaker": "arnaud-decagny", "text": "Moi", "consent": True}),
                        ("round_table.quotes", {}), ("round_table.quote_delete", {"key": "quote:1", "rev": 1})):
        assert call(phone, event, code=table, **data)["error"]["code"] == "forbidden"
    wall = socket_client(app)
    assert call(wall, "round_table.quotes", code=table)["error"]["code"] == "forbidden"
    assert quotes_stored(read, table) == {}


def test_an_unapproved_quote_reaches_no_output_and_an_approved_one_every_output(app, table, read, console, tmp_path):
    assert call(console, "round_table.quote", code=table, speaker="patricia-andriot", text=PUBLIC, consent=True)["ok"]
    assert call(console, "round_table.quote", code=table, speaker="arnaud-decagny", text=SECRET, consent=False)["ok"]
    # A quote whose consent is withdrawn afterwards leaves the outputs too.
    withdrawn = call(console, "round_table.quote", code=table, speaker="arnaud-decagny", text="Dit puis retiré",
                     consent=True)["record"]
    assert call(console, "round_table.quote", code=table, key=withdrawn["key"], speaker="arnaud-decagny",
                text="Dit puis retiré", consent=False, rev=withdrawn["rev"])["ok"]

    def synthesis():
        return get("round_table").synthesise(db.session.scalar(db.select(Session).where(Session.code == table)))
    data = read(synthesis)
    assert data["quotes"] == [{"text": PUBLIC, "speaker": "Patricia Andriot", "role": "Vice-présidente",
                               "organisation": "RTES"}]

    def pdf():
        event = db.session.scalar(db.select(Event).where(Event.slug == "table-ronde"))
        write_pdf(event, tmp_path / "restitution.pdf")
    read(pdf)
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(tmp_path / "restitution.pdf").pages)
    assert "Revoir les politiques publiques avec un autre imaginaire." in text and "Patricia Andriot" in text
    assert "Le mot de la fin" in text
    assert "hors micro" not in text and "retiré" not in text

    http = app.test_client()
    login(http)
    page = http.get("/e/table-ronde/restitution").get_data(as_text=True)
    assert PUBLIC in page and "Le mot de la fin" in page
    assert "hors micro" not in page and "retiré" not in page
    exported = http.get("/console/e/table-ronde/export.json")
    assert exported.status_code == 200
    dumped = json.dumps(exported.get_json(), ensure_ascii=False)
    assert PUBLIC in dumped and "hors micro" not in dumped and "retiré" not in dumped


def test_the_room_asks_through_review_upvotes_and_the_console_answers(server_env, tmp_path):
    from server import Server

    srv = Server(tmp_path / "data", extra_env=server_env)
    (tmp_path / "table.yaml").write_text(EVENT, encoding="utf-8")
    sessions_listed = srv.prepare(str(tmp_path / "table.yaml"), "table-ronde")
    with srv:
        code = sessions_listed[0]["code"]
        info = requests.get(f"{srv.url}/api/sessions/{code}", timeout=5).json()["session"]
        assert info["questions"] is True and info["review"] is True
        console = Recorder(srv.url, {"Cookie": organiser_cookie(srv)})
        assert console.call("watch", {"code": code})["ok"]
        wall = Recorder(srv.url)
        assert wall.call("watch", {"code": code})["ok"]
        phones = [Recorder(srv.url) for _ in range(6)]
        for n, phone in enumerate(phones):
            assert phone.call("join", {"code": code, "name": f"P{n}"})["ok"]
        assert console.call("phase_set", {"code": code, "phase": "talk"})["ok"]
        asked = phones[0].call("post", {"code": code, "client_id": "q1" * 8, "text": "Des financements pluriannuels ?",
                                        "tags": {"speaker": "arnaud-decagny"}})
        assert asked["ok"], asked
        assert asked["post"]["held"] is True and asked["post"]["author"] is None
        signed = phones[1].call("post", {"code": code, "client_id": "q2" * 8, "text": "Et le foncier ?", "tags": {},
                                         "signed": True})
        post_id, other_id = asked["post"]["id"], signed["post"]["id"]
        # Held: nobody can upvote it and the wall never hears of it; the console does.
        assert phones[2].call("upvote", {"code": code, "post_id": post_id, "on": True})["error"]["code"] == \
            "unknown_post"
        wait_until(lambda: len(console.got("post")) == 2)
        assert [p["held"] for p in console.got("post")] == [True, True]
        assert console.call("post_approve", {"code": code, "post_id": post_id})["ok"]
        assert console.call("post_reject", {"code": code, "post_id": other_id})["ok"]
        wait_until(lambda: len(wall.got("post_restored")) == 1)
        assert [p["id"] for p in wall.got("post_restored")] == [post_id] and wall.got("post") == []
        # Five phones upvote, one twice (counted once), one withdraws.
        for phone in phones[1:]:
            assert phone.call("upvote", {"code": code, "post_id": post_id, "on": True})["ok"]
        assert phones[1].call("upvote", {"code": code, "post_id": post_id, "on": True})["upvotes"] == 5
        assert phones[2].call("upvote", {"code": code, "post_id": post_id, "on": False}) == {
            "ok": True, "post_id": post_id, "upvotes": 4, "mine": False}
        assert phones[3].call("upvote", {"code": code, "post_id": other_id, "on": True})["error"]["code"] == \
            "unknown_post"
        assert console.call("question_answered", {"code": code, "post_id": post_id, "answered": True})["ok"]
        wait_until(lambda: wall.got("upvotes") and wall.got("upvotes")[-1]["upvotes"] == 4)
        wait_until(lambda: any(p["answered"] for p in wall.got("post_updated")))
        for client in [console, wall, *phones]:
            client.client.disconnect()
    srv.cli("restitution", "table-ronde", "-o", str(tmp_path / "r.pdf"))
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(tmp_path / "r.pdf").pages)
    assert "Des financements pluriannuels ? (à Arnaud Decagny) 4 votes répondue" in text
    assert "Et le foncier" not in text
