"""The interface language: ?lang=, then the remembered choice, then the browser's; labels translated when shown."""

from __future__ import annotations

import pytest

from app.extensions import db, socketio
from app.models import Session
from app.services import eventfile
from conftest import import_file
from workshops import registry


@pytest.fixture
def world_cafe(app):
    """An event whose only session is the world-café format's example (3 rounds)."""
    item = registry()["world_cafe"].example
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    return import_file(app, eventfile.dump(doc)).sessions[0]


def page_language(response) -> str:
    """Return the lang attribute of a page."""
    html = response.get_data(as_text=True)
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize(("header", "expected"), [
    ("en-US,en;q=0.9", "en"), ("en-GB", "en"), ("de-DE,de;q=0.9", "fr"), ("de, en;q=0.5", "en"),
    ("en;q=0.4, fr;q=0.8", "fr"), (None, "fr")])
def test_the_browser_language_decides_when_nothing_was_chosen(client, header, expected):
    response = client.get("/", headers={"Accept-Language": header} if header else {})
    assert page_language(response) == expected
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


def test_an_explicit_choice_wins_over_the_browser_language_and_is_remembered(client):
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    response = client.get("/?lang=fr", headers=english_browser)
    assert page_language(response) == "fr" and "rouages_lang=fr" in response.headers["Set-Cookie"]
    assert page_language(client.get("/", headers=english_browser)) == "fr"  # from the cookie
    assert page_language(client.get("/?lang=en", headers={"Accept-Language": "fr"})) == "en"
    assert page_language(client.get("/", headers={"Accept-Language": "fr"})) == "en"
    client.set_cookie("rouages_lang", "xx")  # a value that names no language is ignored
    assert page_language(client.get("/", headers=english_browser)) == "en"


def test_socket_io_speaks_the_language_of_its_handshake(app, client):
    english = socketio.test_client(app, headers={"Accept-Language": "en-US,en;q=0.9"})
    french = socketio.test_client(app, headers={"Accept-Language": "de"})
    chosen = socketio.test_client(app, headers={"Accept-Language": "en", "Cookie": "rouages_lang=fr"})
    messages = [c.emit("join", {"code": "ZZZZZZ"}, callback=True)["error"]["message"] for c in (english, french, chosen)]
    assert messages[0].startswith("No workshop has this code")
    assert messages[1].startswith("Aucun atelier") and messages[2] == messages[1]
    for c in (english, french, chosen):
        c.disconnect()


def test_phase_labels_follow_the_language_of_each_request(client, world_cafe):
    def labels(language):
        session = client.get(f"/api/sessions/{world_cafe.code}", headers={"Accept-Language": language}).json["session"]
        return [p["label"] for p in session["phases"]], session["phase"]["label"]

    client.delete_cookie("rouages_lang")
    assert labels("en") == (["Welcome", "Round 1", "Round 2", "Round 3", "Harvest", "Vote", "Done"], "Welcome")
    assert labels("fr") == (["Accueil", "Tour 1", "Tour 2", "Tour 3", "Récolte", "Vote", "Terminé"], "Accueil")


def test_phase_labels_are_stored_as_message_ids_not_in_the_import_language(read, world_cafe):
    stored = read(lambda: db.session.get(Session, world_cafe.id).settings["phases"])
    assert stored[1] == {"key": "round_1", "label": "Round 1", "label_msgid": "Round %(n)s", "label_params": {"n": 1},
                         "posting": True, "minutes": 20}


def test_sessions_stored_with_french_labels_are_still_translated(app, client, world_cafe):
    with app.app_context():
        session = db.session.get(Session, world_cafe.id)
        old = [{"key": p["key"], "label": label, "posting": p["posting"], "minutes": p["minutes"]}
               for p, label in zip(session.settings["phases"],
                                   ["Accueil", "Tour 1", "Tour 2", "Tour 3", "Récolte", "Vote", "Terminé"], strict=True)]
        session.settings = {**session.settings, "phases": old}
        db.session.commit()
    session = client.get(f"/api/sessions/{world_cafe.code}", headers={"Accept-Language": "en"}).json["session"]
    assert [p["label"] for p in session["phases"]] == ["Welcome", "Round 1", "Round 2", "Round 3", "Harvest", "Vote",
                                                       "Done"]
    assert set(session["phases"][0]) == {"key", "label", "posting", "minutes"}
