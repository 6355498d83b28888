"""Exports: every stored idea once in CSV and JSON, cells a spreadsheet cannot run, the command and the console links."""

from __future__ import annotations

import csv
import io
import json
import re
from types import SimpleNamespace

import pytest
import yaml
from sqlalchemy import func, select

from app.cli import cli
from app.extensions import db
from app.models import BookletText, Participant, Photo, Post, Session, Table
from app.services import eventfile, exports, harvest, moderation, sessions, votes
from conftest import DATA, import_file, login, socket_client
from workshops import registry

BOM = b"\xef\xbb\xbf"


def running_event(app) -> SimpleNamespace:
    """Import the 15-table café with the small event's two boards after it, all three open for posting."""
    doc = yaml.safe_load((DATA / "cafe15.yaml").read_text("utf-8"))
    small = yaml.safe_load((DATA / "small.yaml").read_text("utf-8"))
    doc["programme"][0]["items"] += [item for item in small["programme"][0]["items"] if "workshop" in item]
    imported = import_file(app, eventfile.dump(doc))
    keys = {s.key: s for s in imported.sessions}
    with app.app_context():
        sessions.set_phase(db.session.get(Session, keys["cafe"].id), "round_1")
        tables = {t.key: t.code for t in db.session.scalars(select(Table).where(Table.session_id == keys["cafe"].id))}
    return SimpleNamespace(slug=imported.slug, sessions=keys, tables=tables)


def post(client, code: str, client_id: str, text: str, tags: dict | None = None) -> int:
    """Post an idea through a real Socket.IO event and return its stored id."""
    ack = client.emit("post", {"code": code, "client_id": client_id, "text": text, "tags": tags or {}}, callback=True)
    assert ack["ok"] is True, ack
    return ack["post"]["id"]


@pytest.fixture
def busy(app, organiser):
    """A running event: ideas in three sessions, one hidden, one merged, dots, a harvest, a text and a photo."""
    ev = running_event(app)
    cafe, board, trees = ev.sessions["cafe"], ev.sessions["world-cafe"], ev.sessions["arbres"]
    camille, anonymous = socket_client(app), socket_client(app)
    joined = camille.emit("join", {"code": ev.tables["animation-1"], "name": "Camille",
                                   "organisation": "Maison d’Économie Solidaire"}, callback=True)
    assert joined["ok"], joined
    token = anonymous.emit("join", {"code": board.code}, callback=True)["participant"]["token"]
    assert anonymous.emit("join", {"code": trees.code, "token": token}, callback=True)["ok"]
    ids = {
        "kept": post(camille, ev.tables["animation-1"], "export-0001", "Un poste d’animateur", {"category": "missions"}),
        "twin": post(camille, ev.tables["animation-2"], "export-0002", "un poste animateur !"),
        "hidden": post(camille, ev.tables["support-3"], "export-0003", "Un fonds commun"),
        "board": post(anonymous, board.code, "export-0004", "Une vitrine commune",
                      {"function": "valorisation", "category": "actions"}),
        "tree": post(anonymous, trees.code, "export-0005", "Planter des graines"),
    }
    with app.test_request_context():
        session = db.session.get(Session, cafe.id)
        moderation.set_hidden(session, ids["hidden"], True)
        votes.open_vote(session, 5, 2)
        voter = db.session.get(Participant, joined["participant"]["id"])
        votes.cast(session, voter, {str(ids["kept"]): 2, str(ids["twin"]): 1})
        # Merged after the vote: its dot stays its own in the export and counts on the kept idea in the results.
        moderation.merge(session, ids["twin"], ids["kept"])
        table = db.session.scalar(select(Table).where(Table.session_id == cafe.id, Table.key == "animation-1"))
        harvest.save(table, "missions", "Animer le réseau des coopérations")
        db.session.add(BookletText(event_id=session.event_id, section="retain:cafe", body="**À retenir** : tout."))
        db.session.add(Photo(event_id=session.event_id, participant_id=voter.id, filename="a1b2c3.jpg",
                             caption="La table Animation", width=1600, height=1200, size=240_000, status="shown",
                             section="session:cafe"))
        db.session.commit()
    yield SimpleNamespace(**vars(ev), ids=ids, camille=camille, anonymous=anonymous,
                          camille_id=joined["participant"]["id"])
    for client in (camille, anonymous):
        if client.is_connected():
            client.disconnect()


def export_json(app, slug: str = "cafe15") -> dict:
    """Export an event as JSON through the service and read it back."""
    with app.test_request_context():
        data = exports.as_json(exports.event_or_refuse(slug), registry())
    return json.loads(data)


def read_csv(data: bytes) -> list[dict]:
    """Read an export back as a spreadsheet would: UTF-8 after the byte-order mark, « ; » between cells."""
    assert data.startswith(BOM)
    return list(csv.DictReader(io.StringIO(data[len(BOM):].decode("utf-8")), delimiter=";"))


def export_csv(app, slug: str = "cafe15", lang: str = "fr") -> list[dict]:
    """Export an event as CSV in a language and read it back."""
    with app.test_request_context(headers={"Accept-Language": lang}):
        return read_csv(exports.as_csv(exports.event_or_refuse(slug)))


def stored_ids(read) -> list[int]:
    return read(lambda: sorted(db.session.scalars(select(Post.id))))


def test_every_stored_idea_is_exported_once_hidden_and_merged_ones_included(app, busy, read):
    ideas = export_json(app)["ideas"]
    assert sorted(i["id"] for i in ideas) == stored_ids(read) == sorted(busy.ids.values())
    by_id = {i["id"]: i for i in ideas}
    kept, twin, hidden = by_id[busy.ids["kept"]], by_id[busy.ids["twin"]], by_id[busy.ids["hidden"]]
    assert (kept["hidden"], kept["merged_into"], kept["dots"]) == (False, None, 2)
    assert (twin["hidden"], twin["merged_into"], twin["dots"]) == (True, kept["seq"], 1)
    assert (hidden["hidden"], hidden["merged_into"], hidden["dots"]) == (True, None, 0)
    assert [i["session"] for i in ideas] == ["cafe", "cafe", "cafe", "world-cafe", "arbres"]  # programme order
    assert kept["tags"] == {"function": "animation", "category": "missions"}
    assert (kept["author"], kept["organisation"]) == ("Camille", "Maison d’Économie Solidaire")
    board = by_id[busy.ids["board"]]
    assert (board["author"], board["organisation"], board["tables"]) == ("anonyme", None, [])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", kept["created_at"]), kept["created_at"]

    rows = export_csv(app)
    assert sorted((r["Clé de la session"], int(r["N°"])) for r in rows) == sorted((i["session"], i["seq"]) for i in ideas)
    row = {r["Idée"]: r for r in rows}
    assert row["un poste animateur !"]["Masquée"] == "oui" and row["Un poste d’animateur"]["Masquée"] == "non"
    assert row["un poste animateur !"]["Regroupée avec le n°"] == str(kept["seq"])
    assert row["Un poste d’animateur"]["Gommettes"] == "2" and row["Un fonds commun"]["Gommettes"] == "0"
    assert row["Un poste d’animateur"]["Nom"] == "Camille" and row["Planter des graines"]["Nom"] == "anonyme"
    assert row["Un poste d’animateur"]["Étiquettes"] == "function=animation, category=missions"
    assert row["Une vitrine commune"]["Session"] == "World café" and row["Un fonds commun"]["Session"] == \
        "World café des cinq fonctions"
    assert row["Un poste d’animateur"]["Publiée le (UTC)"] == kept["created_at"]


def test_a_post_names_the_tables_whose_tags_it_carries(app, busy):
    """Tables that share their tags are all named: a post records its table's tags, not the table."""
    by_id = {i["id"]: i for i in export_json(app)["ideas"]}
    assert by_id[busy.ids["kept"]]["tables"] == ["animation-1", "animation-2", "animation-3"]
    assert by_id[busy.ids["hidden"]]["tables"] == ["support-1", "support-2", "support-3"]
    row = {r["Idée"]: r for r in export_csv(app)}
    assert row["Un fonds commun"]["Table"] == "Support 1 / Support 2 / Support 3"
    assert row["Une vitrine commune"]["Table"] == ""


def test_a_table_of_its_own_tags_is_named_alone_and_tag_labels_get_columns(app, organiser):
    item = registry()["world_cafe"].example
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    imported = import_file(app, eventfile.dump(doc))
    with app.app_context():
        sessions.set_phase(db.session.get(Session, imported.sessions[0].id), "round_1")
        code = db.session.scalar(select(Table.code).where(Table.key == "gestion-de-projet"))
    phone = socket_client(app)
    assert phone.emit("join", {"code": code}, callback=True)["ok"]
    post(phone, code, "export-solo-1", "Un planning partagé", {"category": "besoins"})
    phone.disconnect()
    [row] = export_csv(app, "cafe")
    assert row["Table"] == "Gestion de projet"
    assert (row["Fonctions"], row["Catégories"]) == ("Gestion de projet", "Besoins d'accompagnement")
    assert export_json(app, "cafe")["ideas"][0]["tables"] == ["gestion-de-projet"]


FORMULAS = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(1)"]


def test_cells_a_spreadsheet_would_run_as_formulas_are_quoted(app, organiser):
    ev = running_event(app)
    phone = socket_client(app)
    assert phone.emit("join", {"code": ev.sessions["arbres"].code, "name": "=1+1", "organisation": "@org"},
                      callback=True)["ok"]
    for n, text in enumerate([*FORMULAS, "Une idée sans danger"]):
        post(phone, ev.sessions["arbres"].code, f"export-f-{n:03d}", text)
    phone.disconnect()
    rows = export_csv(app)
    assert [r["Idée"] for r in rows] == ["'" + text for text in FORMULAS] + ["Une idée sans danger"]
    assert {(r["Nom"], r["Structure"]) for r in rows} == {("'=1+1", "'@org")}
    assert [i["text"] for i in export_json(app)["ideas"]] == [*FORMULAS, "Une idée sans danger"]  # JSON unchanged


@pytest.mark.parametrize("value", ["=A1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_every_formula_start_owasp_lists_is_quoted(value):
    assert exports.safe_cell(value) == "'" + value
    assert exports.safe_cell("x" + value) == "x" + value
    assert exports.safe_cell(-2) == -2


def test_the_json_export_holds_what_the_booklet_is_rebuilt_from(app, busy):
    data = export_json(app)
    assert data["rouages_export"] == 1 and data["exported_at"].endswith("Z")
    assert data["event"]["slug"] == "cafe15" and data["event"]["spec"]["title"] == "Grand café"
    assert [s["key"] for s in data["sessions"]] == ["cafe", "world-cafe", "arbres"]
    cafe = data["sessions"][0]
    assert (cafe["workshop"], cafe["question"]) == ("world_cafe", "Quelles fonctions pour développer les coopérations "
                                                                  "territoriales ?")
    assert len(cafe["settings"]["format"]["tables"]) == 15 and len(cafe["tables"]) == 15
    animation = cafe["tables"][0]
    assert (animation["key"], animation["name"], animation["host"], animation["tags"]) == (
        "animation-1", "Animation 1", "Camille", {"function": "animation"})
    assert animation["harvest"] == {"missions": "Animer le réseau des coopérations"}
    # The format's own synthesis: visible ideas per theme (its three tables together) and category, merges
    # counted on the kept idea.
    synthesis = cafe["synthesis"]
    assert (synthesis["format"], synthesis["total"]) == ("world_cafe", 1)
    first = synthesis["tables"][0]
    assert (first["name"], first["tables"], first["total"], first["merged"]) == (
        "Animation", ["Animation 1", "Animation 2", "Animation 3"], 1, 1)
    assert [(i["text"], i["merged"], i["dots"]) for i in first["categories"][0]["posts"]] == [
        ("Un poste d’animateur", ["un poste animateur !"], 3)]
    assert first["categories"][0]["harvest"] == "Animer le réseau des coopérations"
    assert data["sessions"][1]["synthesis"]["posts"][0]["text"] == "Une vitrine commune"
    kept = busy.ids["kept"]
    assert cafe["vote"]["results"] == [{"idea": kept, "seq": 1, "dots": 3, "rank": 1}]
    assert sorted((v["idea"], v["participant"], v["dots"]) for v in data["votes"]) == sorted(
        [(kept, busy.camille_id, 2), (busy.ids["twin"], busy.camille_id, 1)])
    assert {p["id"]: (p["name"], p["organisation"]) for p in data["participants"]}[busy.camille_id] == (
        "Camille", "Maison d’Économie Solidaire")
    assert len(data["participants"]) == 2
    assert [(t["section"], t["body"]) for t in data["texts"]] == [("retain:cafe", "**À retenir** : tout.")]
    [photo] = data["photos"]
    assert (photo["filename"], photo["caption"], photo["section"], photo["participant"], photo["by_organiser"]) == (
        "a1b2c3.jpg", "La table Animation", "session:cafe", busy.camille_id, False)


def test_an_export_reads_one_state_and_never_holds_posting_back(app, busy, read):
    """An idea stored while an export reads is acknowledged at once, and left to the next export."""
    before = len(busy.ids)
    with app.app_context():
        with exports.snapshot():
            assert db.session.scalar(select(func.count(Post.id))) == before
            with app.app_context():  # the phone's request has its own context and session, as on a server
                post(busy.anonymous, busy.sessions["arbres"].code, "export-late-1", "Arrivée pendant l’export")
            assert db.session.scalar(select(func.count(Post.id))) == before
    assert len(export_json(app)["ideas"]) == before + 1


def test_the_command_writes_each_format_to_a_file_or_stdout(app, busy, runner, tmp_path):
    out = tmp_path / "idees.csv"
    result = runner.invoke(cli, args=["export", "cafe15", "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    assert sorted(r["Idée"] for r in read_csv(out.read_bytes())) == sorted(
        ["Un poste d’animateur", "un poste animateur !", "Un fonds commun", "Une vitrine commune",
         "Planter des graines"])
    result = runner.invoke(cli, args=["export", "cafe15"])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout_bytes)["ideas"]) == 5


def test_the_command_refuses_an_unknown_event_or_format(runner, busy):
    result = runner.invoke(cli, args=["export", "nope", "--format", "csv"])
    assert result.exit_code == 1 and "No event has the slug 'nope'." in result.output
    result = runner.invoke(cli, args=["export", "cafe15", "--format", "xlsx"])
    assert result.exit_code == 2 and "'xlsx' is not one of 'json', 'csv'" in result.output


def test_the_console_links_each_events_exports_which_download_for_organisers_only(app, busy, client):
    anonymous = app.test_client()
    for kind in ("json", "csv"):
        response = anonymous.get(f"/console/e/cafe15/export.{kind}")
        assert response.status_code == 302 and response.location.startswith("/login?next=")
    login(client)
    page = client.get("/console/").get_data(as_text=True)
    assert 'href="/console/e/cafe15/export.json"' in page and 'href="/console/e/cafe15/export.csv"' in page
    assert "Exporter les idées\u00a0:" in page
    response = client.get("/console/e/cafe15/export.csv")
    assert response.status_code == 200 and response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == "attachment; filename=rouages-cafe15-idees.csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert len(read_csv(response.data)) == 5
    response = client.get("/console/e/cafe15/export.json?lang=en")
    assert response.status_code == 200 and response.content_type == "application/json"
    assert response.headers["Content-Disposition"] == "attachment; filename=rouages-cafe15-export.json"
    ideas = {i["text"]: i for i in response.get_json()["ideas"]}
    assert ideas["Planter des graines"]["author"] == "anonymous"
    assert client.get("/console/e/nope/export.csv").status_code == 404
    assert client.get("/console/e/nope/export.json").status_code == 404


def test_the_csv_speaks_the_interface_language(app, busy):
    row = {r["Idea"]: r for r in export_csv(app, lang="en")}["Un fonds commun"]
    assert (row["Hidden"], row["Name"], row["Dots"]) == ("yes", "Camille", "0")


@pytest.mark.server
def test_a_running_cafe_exports_from_another_process_and_over_http_while_phones_post(tmp_path, server_env):
    """Exports taken while ideas pour in each read one state, and no phone waits for them."""
    import threading

    import requests
    import socketio

    from server import serving
    from test_server import organiser_cookie

    # One new phone per idea, all from this machine's address: more than the joins one address may make.
    env = {**server_env, "ROUAGES_LIMIT_JOINS_BURST": "5000", "ROUAGES_LIMIT_JOINS_PER_MINUTE": "100000"}
    with serving(tmp_path / "data", DATA / "cafe15.yaml", "cafe15", extra_env=env) as srv:
        cookie = organiser_cookie(srv)
        steering = socketio.Client(reconnection=False)
        steering.connect(srv.url, transports=["websocket"], headers={"Cookie": cookie}, wait_timeout=10)
        assert steering.call("phase_set", {"code": srv.code, "phase": "round_1"}, timeout=10)["ok"]
        steering.disconnect()
        tables = requests.get(f"{srv.url}/api/sessions/{srv.code}", timeout=5).json()["session"]["tables"]
        stored, failures, stop = [], [], threading.Event()

        def phones():
            n = 0
            while not stop.is_set() and n < 300:
                table = tables[n % len(tables)]["code"]
                try:
                    token = requests.post(f"{srv.url}/api/sessions/{table}/join", json={}, timeout=10).json()[
                        "participant"]["token"]
                    answer = requests.post(f"{srv.url}/api/sessions/{table}/posts", timeout=10, json={
                        "token": token, "client_id": f"live-export-{n:05d}", "text": f"Idée {n}"})
                    answer.raise_for_status()
                    stored.append(answer.json()["post"]["seq"])
                except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                    failures.append(repr(exc))
                n += 1
                stop.wait(0.02)  # a room's pace, leaving the machine to the server and the exports

        thread = threading.Thread(target=phones)
        thread.start()
        taken = []
        try:
            while len(stored) < 20 and thread.is_alive():
                stop.wait(0.05)
            srv.cli("export", "cafe15", "-o", str(tmp_path / "export.json"))
            taken.append(json.loads((tmp_path / "export.json").read_text("utf-8")))
            taken.append(requests.get(f"{srv.url}/console/e/cafe15/export.json", headers={"Cookie": cookie},
                                      timeout=30).json())
        finally:
            stop.set()
            thread.join()
        assert failures == []
        for data in taken:
            seqs = [i["seq"] for i in data["ideas"]]
            # One state: ideas numbered without a gap, and the synthesis, read by other queries, counts as many.
            assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 20
            assert data["sessions"][0]["synthesis"]["total"] == len(seqs)
        response = requests.get(f"{srv.url}/console/e/cafe15/export.csv", headers={"Cookie": cookie}, timeout=30)
        assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert sorted(int(r["N°"]) for r in read_csv(response.content)) == sorted(stored)
