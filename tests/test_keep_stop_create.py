"""Keep / stop / create: the grid's settings, its cells as the session's frameworks, real clients through its phases."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.services import eventfile, sessions
from app.services.events import demo_text
from app.rehearsal import builtin_corpus
from conftest import DATA, events_named, import_file, login
from server import Server
from workshops import registry

ATELIERS = DATA / "ateliers.yaml"
TOPICS = ["formalisation", "scic", "financement", "foncier"]
COLUMNS = ["a_maintenir", "a_arreter", "a_creer"]


def item_with(settings: dict, frameworks: list[dict] | None = None, **extra) -> dict:
    """Return a one-item event around a keep/stop/create item with these settings."""
    item = {"id": "grille", "start": "10:00", "end": "11:00", "title": "Grille", "workshop": "keep_stop_create",
            "question": "Que garder ?", "settings": settings, **extra}
    event = {"slug": "grille", "title": "Grille", "programme": [{"date": "2026-06-10", "items": [item]}]}
    if frameworks is not None:
        event["frameworks"] = frameworks
    return event


def problems_of(event: dict) -> list[str]:
    return [str(p) for p in eventfile.check(event, {}, registry())]


RELATION = {"key": "relation", "label": "Relations", "items": [{"key": k, "label": k.title()} for k in TOPICS]}
PRACTICE = {"key": "practice", "label": "Pratiques", "items": [{"key": k, "label": k} for k in COLUMNS]}


def test_a_grid_without_topics_nor_a_relation_framework_is_refused_with_its_path():
    assert problems_of(item_with({})) == [
        "programme[0].items[0].settings.topics: this event has no 'relation' framework: list the grid's topics "
        "(settings.topics) or name a framework (settings.topic_framework)"]


def test_topics_and_columns_must_be_items_of_the_frameworks_they_name():
    event = item_with({"topic_framework": "relation", "topics": ["scic", "transport"], "columns": {"a_oublier": "Oublier"}},
                      [RELATION, PRACTICE])
    assert problems_of(event) == [
        "programme[0].items[0].settings.columns.a_oublier: 'a_oublier' is not a column of this grid "
        "(columns: a_maintenir, a_arreter, a_creer)",
        "programme[0].items[0].settings.topics[1]: 'transport' is not an item of 'relation' "
        "(known: formalisation, scic, financement, foncier)"]
    assert problems_of(item_with({"topic_framework": "movement", "column_framework": "function"})) == [
        "programme[0].items[0].settings.column_framework: 'function' has 5 items: a grid takes two to four columns"]
    assert problems_of(item_with({"topic_framework": "movement", "column_framework": "movement"})) == [
        "programme[0].items[0].settings.column_framework: 'movement' already gives the topics: the columns need "
        "another framework"]
    assert problems_of(item_with({"topic_framework": "nope"})) == [
        "programme[0].items[0].settings.topic_framework: 'nope' is not a framework of this event "
        "(known: function, movement, category)"]


def test_own_topics_must_differ_and_item_tags_are_refused():
    event = item_with({"topics": ["Foncier", "foncier !"]}, tags=[{"framework": "function"}])
    assert problems_of(event) == [
        "programme[0].items[0].settings.topics[1]: 'foncier !' is too close to another topic: give each topic its "
        "own name",
        "programme[0].items[0].tags: a keep/stop/create grid tags posts with its topics and columns "
        "(settings.topic_framework, settings.column_framework): remove tags"]


def test_without_relation_nor_practice_the_grid_brings_its_own_keep_stop_create(app):
    imported = import_file(app, eventfile.dump(item_with({"topics": ["Financer", "Accès au foncier"],
                                                          "columns": {"stop": "Ne plus faire"}})))
    with app.test_request_context():
        frameworks = sessions.frameworks_of(sessions.get_session(imported.sessions[0].code))
    assert frameworks == [
        {"key": "topic", "label": "Thèmes", "required": True,
         "items": [{"key": "financer", "label": "Financer"}, {"key": "acces-au-foncier", "label": "Accès au foncier"}]},
        {"key": "column", "label": "Pratiques", "required": True,
         "items": [{"key": "keep", "label": "À maintenir"}, {"key": "stop", "label": "Ne plus faire"},
                   {"key": "create", "label": "À créer"}]}]


def test_own_topics_and_columns_become_the_sessions_two_required_frameworks(app):
    imported = import_file(app, ATELIERS)
    code = next(s.code for s in imported.sessions if s.key == "grille-libre")
    with app.test_request_context():
        session = sessions.get_session(code)
        assert sessions.frameworks_of(session) == [
            {"key": "topic", "label": "Thèmes", "required": True,
             "items": [{"key": "les-reunions", "label": "Les réunions"},
                       {"key": "les-outils-partages", "label": "Les outils partagés"}]},
            {"key": "practice", "label": "Pratiques", "required": True,
             "items": [{"key": "a_maintenir", "label": "À maintenir"}, {"key": "a_arreter", "label": "Ne plus faire"},
                       {"key": "a_creer", "label": "À créer"}]}]
        assert session.tables == [] and [p["key"] for p in session.settings["phases"]] == \
            ["welcome", "collect", "vote", "done"]


def test_the_demo_ateliers_are_a_grid_of_its_relations_with_a_qr_code_per_topic(app):
    imported = import_file(app, demo_text())
    code = next(s.code for s in imported.sessions if s.key == "ateliers-relations")
    with app.test_request_context():
        payload = sessions.session_payload(sessions.get_session(code))
    assert payload["workshop"] == "keep_stop_create"
    assert [(t["key"], t["name"], t["tags"]) for t in payload["tables"]] == [
        ("formalisation", "Formaliser les échanges", {"relation": "formalisation"}),
        ("scic", "Collectivités dans les SCIC", {"relation": "scic"}),
        ("financement", "Financer", {"relation": "financement"}),
        ("foncier", "Accès au foncier", {"relation": "foncier"})]
    assert [fw["key"] for fw in payload["frameworks"]] == ["relation", "practice"]
    assert [p["minutes"] for p in payload["phases"]] == [None, 45, None, None]


def test_the_console_of_a_grid_with_a_qr_code_per_topic_lists_each_topics_code_and_cards(app, organiser):
    imported = import_file(app, demo_text())
    session = next(s for s in imported.sessions if s.key == "ateliers-relations")
    with app.app_context():
        codes = {t.key: t.code for t in sessions.live_tables(sessions.get_session(session.code))}
    http = app.test_client()
    login(http)
    page = http.get(f"/console/s/{session.code}").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-table="([a-z_]+)">.*?<td class="code">([A-Z0-9]+)</td>', page, re.S))
    assert rows == codes and len(rows) == 4
    assert f'href="/console/s/{session.code}/tables/print"' in page


def test_a_topic_qr_presets_the_topic_whatever_the_phone_chose(app, phone):
    imported = import_file(app, ATELIERS)
    session = next(s for s in imported.sessions if s.key == "ateliers-relations")
    with app.test_request_context():
        live = sessions.get_session(session.code)
        foncier = next(t.code for t in live.tables if t.key == "foncier")
        sessions.set_phase(live, "collect")
        db.session.commit()
    joined = phone.emit("join", {"code": foncier, "name": "Inès"}, callback=True)
    assert joined["session"]["table"]["tags"] == {"relation": "foncier"}
    ack = phone.emit("post", {"code": foncier, "client_id": "preset-0001", "text": "Des foncières solidaires",
                              "tags": {"practice": "a_creer"}}, callback=True)
    assert ack["ok"] and ack["post"]["tags"] == {"relation": "foncier", "practice": "a_creer"}
    other = phone.emit("post", {"code": foncier, "client_id": "preset-0002", "text": "Le bail emphytéotique",
                                "tags": {"relation": "scic", "practice": "a_maintenir"}}, callback=True)
    assert other["post"]["tags"] == {"relation": "foncier", "practice": "a_maintenir"}
    # The table's code presets the topic only: the column is still the phone's to choose.
    missing = phone.emit("post", {"code": foncier, "client_id": "preset-0003", "text": "Sans colonne"}, callback=True)
    assert missing["error"] == {"code": "missing_tag", "message": "Choisissez une option\u00a0: Pratiques."}
    assert [p["text"] for p in events_named(phone, "post")] == []


# --- A realistic run with real clients on a real server ---------------------------------------------------------


def connect(url: str, headers=None):
    from test_server import Recorder

    return Recorder(url, headers)


@pytest.fixture
def server(tmp_path, server_env):
    """A real server with the ateliers event imported and an organiser."""
    srv = Server(tmp_path / "data", extra_env=server_env)
    srv.sessions = srv.prepare(str(ATELIERS), "ateliers")
    with srv:
        yield srv


def corpus_texts() -> dict[tuple[str, str], list[str]]:
    """Return the built-in rehearsal corpus's texts for each cell of the seed's grid."""
    found: dict[tuple[str, str], list[str]] = {}
    for text in builtin_corpus().ideas:
        if set(text.tags) == {"relation", "practice"}:
            found.setdefault((text.tags["relation"], text.tags["practice"]), []).append(text.text)
    return found


@pytest.mark.server
def test_the_ateliers_run_through_every_phase_with_real_clients(server, tmp_path):
    from test_server import organiser_cookie, wait_until

    grid = next(s for s in server.sessions if s["key"] == "ateliers-relations")
    code, tables = grid["code"], {t["key"]: t for t in grid["tables"]}
    assert sorted(tables) == sorted(TOPICS)
    console = connect(server.url, {"Cookie": organiser_cookie(server)})
    wall = connect(server.url)
    assert wall.call("watch", {"code": code})["ok"]
    texts = corpus_texts()
    assert sorted(texts) == sorted((t, c) for t in TOPICS for c in COLUMNS)

    # Eight phones, two per topic group, each scanning its group's QR code.
    phones = []
    for n in range(8):
        topic = TOPICS[n % 4]
        phone = connect(server.url)
        joined = phone.call("join", {"code": tables[topic]["code"], "name": f"Personne {n}"})
        assert joined["ok"] and joined["session"]["phase"]["key"] == "welcome"
        assert joined["session"]["table"]["tags"] == {"relation": topic}
        phones.append((phone, topic))
    closed = phones[0][0].call("post", {"code": tables["scic"]["code"], "client_id": "welcome-0001",
                                        "text": "Trop tôt", "tags": {"practice": "a_creer"}})
    assert closed["error"]["code"] == "session_closed"

    ack = console.call("phase_set", {"code": code})
    assert ack["ok"] and ack["phase"]["key"] == "collect" and ack["phase"]["minutes"] == 30
    stored = []
    for n, (phone, topic) in enumerate(phones):
        for column in COLUMNS:
            text = texts[(topic, column)][n // 4]
            posted = phone.call("post", {"code": tables[topic]["code"], "client_id": f"ksc-{n}-{column}",
                                         "text": text, "tags": {"practice": column}, "opening": ack.get("opening")})
            assert posted["ok"], posted
            assert posted["post"]["tags"] == {"relation": topic, "practice": column}
            stored.append(posted["post"])

    # The grid's own QR code: the phone chooses its cell, and a cell the grid does not have is refused.
    loose = connect(server.url)
    assert loose.call("join", {"code": code, "name": "Sans table"})["ok"]
    refusals = {
        "unknown topic": {"relation": "transport", "practice": "a_creer"},
        "unknown column": {"relation": "scic", "practice": "a_oublier"},
        "no column": {"relation": "scic"},
        "no topic": {"practice": "a_creer"},
        "malformed": ["scic", "a_creer"],
    }
    errors = {name: loose.call("post", {"code": code, "client_id": f"bad-{n:04d}", "text": "Hors grille",
                                        "tags": tags})["error"]
              for n, (name, tags) in enumerate(refusals.items())}
    assert {name: error["code"] for name, error in errors.items()} == {
        "unknown topic": "unknown_tag", "unknown column": "unknown_tag", "no column": "missing_tag",
        "no topic": "missing_tag", "malformed": "invalid_tags"}
    assert errors["unknown topic"]["message"] == \
        "Relations collectivités – coopérations\u00a0: ce choix n’appartient pas à cet atelier."
    assert errors["unknown column"]["message"] == "Pratiques\u00a0: ce choix n’appartient pas à cet atelier."
    assert errors["no column"]["message"] == "Choisissez une option\u00a0: Pratiques."
    assert errors["no topic"]["message"] == "Choisissez une option\u00a0: Relations collectivités – coopérations."
    chosen = loose.call("post", {"code": code, "client_id": "grid-0001", "text": "Un guichet unique pour les démarches",
                                 "tags": {"relation": "formalisation", "practice": "a_creer"}})
    assert chosen["ok"]
    stored.append(chosen["post"])

    ack = console.call("phase_set", {"code": code})
    assert ack["ok"] and ack["phase"]["key"] == "vote" and ack["phase"]["posting"] is False
    late = loose.call("post", {"code": code, "client_id": "late-0001", "text": "Trop tard",
                               "tags": {"relation": "scic", "practice": "a_creer"}})
    assert late["error"]["code"] == "session_closed"
    assert console.call("vote_open", {"code": code, "budget": 3, "max_per_post": 2})["ok"]
    ids = [post["id"] for post in stored]
    voter = phones[0][0]
    over = voter.call("vote", {"code": code, "dots": {str(ids[0]): 2, str(ids[1]): 2}})
    assert over["error"] == {"code": "over_budget", "message": "Vous avez 3 gommettes en tout."}
    too_many = voter.call("vote", {"code": code, "dots": {str(ids[0]): 3}})
    assert too_many["error"]["code"] == "too_many_dots_on_post"
    unknown = voter.call("vote", {"code": code, "dots": {"999999": 1}})
    assert unknown["error"]["code"] == "unknown_post"
    # Each phone puts two dots on one idea of its own topic and one on the next idea in the list.
    dots: dict[int, int] = {}
    for n, (phone, _topic) in enumerate(phones):
        first, second = ids[(5 * n) % len(ids)], ids[(5 * n + 7) % len(ids)]
        assert phone.call("vote", {"code": code, "dots": {str(first): 2, str(second): 1}})["ok"]
        dots[first] = dots.get(first, 0) + 2
        dots[second] = dots.get(second, 0) + 1
    revealed = console.call("vote_reveal", {"code": code})["vote"]
    assert {r["post_id"]: r["dots"] for r in revealed["results"]} == dots
    assert console.call("phase_set", {"code": code})["phase"]["key"] == "done"

    wait_until(lambda: len(wall.got("post")) == len(stored) and len(wall.got("phase")) == 3
               and len(phones[3][0].got("phase")) == 3)
    assert [p["id"] for p in wall.got("post")] == ids
    assert [p["phase"]["key"] for p in wall.got("phase")] == ["collect", "vote", "done"]
    assert [p["phase"]["key"] for p in phones[3][0].got("phase")] == ["collect", "vote", "done"]
    for client in [console, wall, loose, *(phone for phone, _ in phones)]:
        client.client.disconnect()

    # The synthesis: the grid, each cell's ideas most dotted first, counts and totals.
    export = json.loads(server.cli("export", "ateliers").stdout)
    data = next(s for s in export["sessions"] if s["key"] == "ateliers-relations")["synthesis"]
    assert data["format"] == "keep_stop_create" and data["total"] == 25 and data["dots"] == 24
    assert [c["label"] for c in data["columns"]] == ["À maintenir", "À arrêter", "À créer"]
    assert [c["total"] for c in data["columns"]] == [8, 8, 9]
    assert [(t["label"], t["total"]) for t in data["topics"]] == [
        ("Formaliser les échanges", 7), ("Collectivités dans les SCIC", 6), ("Financer", 6), ("Accès au foncier", 6)]
    for topic in data["topics"]:
        for cell in topic["cells"]:
            expected = sorted((p for p in stored if p["tags"] == {"relation": topic["key"], "practice": cell["key"]}),
                              key=lambda p: (-dots.get(p["id"], 0), p["seq"]))
            assert [(i["text"], i["dots"]) for i in cell["ideas"]] == \
                [(p["text"], dots.get(p["id"], 0)) for p in expected]
            assert cell["count"] == len(expected) and cell["dots"] == sum(dots.get(p["id"], 0) for p in expected)
    assert data["other"] == []
    # The votes reordered some cells: ranking by dots is what the checks above saw, not posting order.
    assert any([i["seq"] for i in cell["ideas"]] != sorted(i["seq"] for i in cell["ideas"])
               for topic in data["topics"] for cell in topic["cells"])

    # The restitution prints the grid, one block per topic, on A4 and on A5; looked at as images too.
    for size in ("a4", "a5"):
        pdf = tmp_path / f"restitution-{size}.pdf"
        server.cli("restitution", "ateliers", "-o", str(pdf), *(["--a5"] if size == "a5" else []))
        text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
        flat = " ".join(re.sub(r"[\u2010-]\s*\n", "", text).split())  # words hyphenated at a line's end made whole
        for label in ("Formaliser les échanges", "Collectivités dans les SCIC", "Accès au foncier", "À maintenir",
                      "À arrêter", "À créer", "25 idées"):
            assert label in flat, (size, label)
        # Each cell's ideas are printed most dotted first, whatever order they were posted in.
        for topic in data["topics"]:
            for cell in topic["cells"]:
                places = [flat.find(idea["text"]) for idea in cell["ideas"]]
                assert -1 not in places and places == sorted(places), (size, cell["ideas"])
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / f"page-{size}")], check=True)
        assert list(tmp_path.glob(f"page-{size}*.png"))


def test_ideas_left_outside_a_grid_that_shrank_are_kept_and_printed_apart(app, phone):
    from app.models import Session
    from carnet.restitution import environment

    imported = import_file(app, ATELIERS)
    code = next(s.code for s in imported.sessions if s.key == "ateliers-relations")
    with app.test_request_context():
        sessions.set_phase(sessions.get_session(code), "collect")
        db.session.commit()
    assert phone.emit("join", {"code": code, "name": "Inès"}, callback=True)["ok"]
    for n, (topic, column) in enumerate([("foncier", "a_creer"), ("scic", "a_maintenir")]):
        assert phone.emit("post", {"code": code, "client_id": f"shrink-{n:04d}", "text": f"Idée {topic}",
                                   "tags": {"relation": topic, "practice": column}}, callback=True)["ok"]
    # The organisers keep two topics only: the idea on land stays stored, outside the grid.
    source = ATELIERS.read_text("utf-8").replace("          qr: topic\n", "          qr: topic\n"
                                                 "          topic_framework: relation\n"
                                                 "          topics: [formalisation, scic]\n", 1)
    import_file(app, source)
    with app.test_request_context():
        session = db.session.get(Session, sessions.get_session(code).id)
        data = registry()["keep_stop_create"].synthesise(session)
        html = environment().get_template("keep_stop_create/booklet.html").render(
            data=data, session=session, show_names=False)
    assert [t["key"] for t in data["topics"]] == ["formalisation", "scic"]
    assert [i["text"] for i in data["other"]] == ["Idée foncier"] and data["total"] == 2
    assert [c["total"] for c in data["columns"]] == [1, 0, 0]
    assert "Idée scic" in html and "Autres idées" in html and html.index("Idée scic") < html.index("Idée foncier")
