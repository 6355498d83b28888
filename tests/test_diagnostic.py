"""The Rouages diagnostic: teams answer per function over Socket.IO, get their wheel and PDF; the room an anonymous one."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import FormatRecord, Session
from app.services import records
from app.services.eventfile import default_frameworks
from app.services.errors import ServiceError
from conftest import events_named, import_file, login, socket_client
from workshops import get
from workshops.diagnostic import build_grid
from workshops.diagnostic.wheel import wheel_svg

EVENT = """
slug: forum-diag
title: Forum des coopérations
programme:
  - date: "2026-06-09"
    items:
      - id: diagnostic
        start: "17:00"
        end: "18:00"
        title: Le diagnostic des Rouages
        workshop: diagnostic
        question: Où en sont les rouages de votre coopération ?
      - id: autre
        start: "18:00"
        end: "19:00"
        title: Un tableau
        workshop: board
        question: Et ensuite ?
"""

FUNCTIONS = ["animation", "creativite", "valorisation", "support", "gestion_de_projet"]


@pytest.fixture
def diag(app, tmp_path):
    """The diagnostic session of a small forum: (its code, the board's code)."""
    source = tmp_path / "forum.yaml"
    source.write_text(EVENT, encoding="utf-8")
    imported = import_file(app, source)
    codes = {s.key: s.code for s in imported.sessions}
    return codes["diagnostic"], codes["autre"]


def joined_phone(app, code: str, name: str, http=None):
    """Return a Socket.IO client of a phone that joined the session as `name`."""
    client = socket_client(app, http)
    ack = client.emit("join", {"code": code, "name": name}, callback=True)
    assert ack["ok"], ack
    return client


def call(client, event: str, **data) -> dict:
    """Emit an event with an ack and return the ack."""
    return client.emit(event, data, callback=True)


def stored(read, code: str) -> dict[str, tuple[dict, int]]:
    """Return the session's format records: {key: (data, rev)}."""
    def load():
        session = db.session.scalar(db.select(Session).where(Session.code == code))
        return {r.key: (r.data, r.rev) for r in db.session.scalars(
            db.select(FormatRecord).where(FormatRecord.session_id == session.id))}
    return read(load)


def test_default_grid_has_stages_indicators_and_a_step_per_stage_for_the_five_functions(app):
    grid = build_grid({}, default_frameworks())
    assert [f["key"] for f in grid["functions"]] == FUNCTIONS
    stage_keys = [s["key"] for s in grid["stages"]]
    assert len(stage_keys) == 5
    for function in grid["functions"]:
        assert len(function["indicators"]) == 4
        assert set(function["next_steps"]) == set(stage_keys)


def test_a_team_answers_and_every_member_and_the_wall_see_it(app, diag, read):
    code, _board = diag
    alice, bruno = joined_phone(app, code, "Alice"), joined_phone(app, code, "Bruno")
    wall = socket_client(app)
    assert call(wall, "watch", code=code)["ok"]
    first = call(alice, "diagnostic.team", code=code, name="Tiers-lieu La Fabrique")
    assert first["ok"], first
    assert first["result"]["team"] == {"name": "Tiers-lieu La Fabrique", "members": 1}
    # Bruno types the name his own way: same team.
    second = call(bruno, "diagnostic.team", code=code, name="  tiers-lieu  la fabrique ")
    assert second["result"]["team"] == {"name": "Tiers-lieu La Fabrique", "members": 2}
    alice.get_received(), bruno.get_received(), wall.get_received()

    ack = call(alice, "diagnostic.answer", code=code, function="animation", stage="structuration",
               indicators=["rencontres", "porteur"], rev=0)
    assert ack["ok"], ack
    assert ack["record"] == {"key": "answer:team:tiers lieu la fabrique:animation",
                             "data": {"stage": "structuration", "indicators": ["porteur", "rencontres"]}, "rev": 1}
    animation = ack["result"]["functions"][0]
    assert (animation["stage"], animation["score"], animation["rev"]) == ("structuration", 0.5, 1)
    assert [i["done"] for i in animation["indicators"]] == [True, True, False, False]
    assert ack["result"]["answered"] == 1
    assert ack["result"]["next_steps"] == [{
        "function": "animation", "label": "Animation", "stage_label": "Structuration",
        "text": "Écrire ensemble les règles du collectif et financer du temps d'animation.",
        "missing": ["Des règles de fonctionnement sont écrites et partagées", "Du temps d'animation est financé"]}]
    assert "<svg" in ack["result"]["wheel"] and "Tiers-lieu La Fabrique" in ack["result"]["wheel"]

    # Both phones of the team hear the result; the wall hears the aggregate, which names no team.
    assert events_named(alice, "diagnostic.result")[-1]["answered"] == 1
    assert events_named(bruno, "diagnostic.result")[-1]["functions"][0]["stage"] == "structuration"
    aggregate = events_named(wall, "diagnostic.aggregate")[-1]
    assert aggregate["teams"] == 1
    assert aggregate["functions"][0]["stages"][2] == {"key": "structuration", "label": "Structuration", "count": 1}
    assert aggregate["functions"][0]["score"] == 0.5
    assert "Fabrique" not in str(aggregate)
    assert stored(read, code)["answer:team:tiers lieu la fabrique:animation"] == (
        {"stage": "structuration", "indicators": ["porteur", "rencontres"]}, 1)


def test_concurrent_edits_of_one_function_refuse_the_stale_one_with_the_teammates_answer(app, diag, read):
    code, _board = diag
    alice, bruno = joined_phone(app, code, "Alice"), joined_phone(app, code, "Bruno")
    for phone in (alice, bruno):
        assert call(phone, "diagnostic.team", code=code, name="PTCE Pays de Bray")["ok"]
    # Both phones saw the function unanswered (revision 0) and answer at once.
    assert call(alice, "diagnostic.answer", code=code, function="support", stage="emergence", indicators=[],
                rev=0)["ok"]
    late = call(bruno, "diagnostic.answer", code=code, function="support", stage="consolidation",
                indicators=["budget"], rev=0)
    assert late["ok"] is False
    assert late["error"]["code"] == "stale_record"
    assert late["error"]["record"] == {"key": "answer:team:ptce pays de bray:support",
                                       "data": {"stage": "emergence", "indicators": []}, "rev": 1}
    assert stored(read, code)["answer:team:ptce pays de bray:support"] == ({"stage": "emergence", "indicators": []}, 1)
    # Having seen Alice's answer, Bruno sends his on top of it; another function never conflicts.
    assert call(bruno, "diagnostic.answer", code=code, function="support", stage="consolidation",
                indicators=["budget"], rev=1)["record"]["rev"] == 2
    assert call(alice, "diagnostic.answer", code=code, function="valorisation", stage="emergence", indicators=[],
                rev=0)["ok"]
    data = stored(read, code)
    assert data["answer:team:ptce pays de bray:support"] == ({"stage": "consolidation", "indicators": ["budget"]}, 2)
    assert data["answer:team:ptce pays de bray:valorisation"][1] == 1


@pytest.mark.parametrize(("change", "error"), [
    ({"function": "gouvernance"}, "unknown_function"),
    ({"function": None}, "unknown_function"),
    ({"stage": "champion"}, "unknown_stage"),
    ({"stage": 3}, "unknown_stage"),
    ({"indicators": ["porteur", "inconnu"]}, "unknown_indicator"),
    ({"indicators": ["porteur", "porteur"]}, "unknown_indicator"),
    ({"indicators": "porteur"}, "invalid_field"),
    ({"indicators": [1]}, "invalid_field"),
    ({"rev": -1}, "invalid_field"),
    ({"rev": "1"}, "invalid_field"),
    ({"rev": True}, "invalid_field"),
])
def test_an_answer_outside_the_grid_is_refused_and_changes_nothing(app, diag, read, change, error):
    code, _board = diag
    phone = joined_phone(app, code, "Alice")
    assert call(phone, "diagnostic.team", code=code, name="Collectif Bourg Vivant")["ok"]
    before = stored(read, code)
    answer = {"code": code, "function": "animation", "stage": "emergence", "indicators": ["porteur"], "rev": 0}
    ack = phone.emit("diagnostic.answer", {**answer, **change}, callback=True)
    assert ack["ok"] is False
    assert ack["error"]["code"] == error
    assert ack["error"]["message"]
    assert stored(read, code) == before


def test_answers_need_a_joined_phone_a_team_and_an_open_session(app, diag, read, console):
    code, board = diag
    stranger = socket_client(app)
    ack = call(stranger, "diagnostic.answer", code=code, function="animation", stage="emergence", rev=0)
    assert ack["error"]["code"] == "not_joined"
    phone = joined_phone(app, code, "Alice")
    ack = call(phone, "diagnostic.answer", code=code, function="animation", stage="emergence", rev=0)
    assert ack["error"]["code"] == "no_team"
    for name, error in (("", "team_name_missing"), ("  !! ", "team_name_missing"), (7, "invalid_field"),
                        ("x" * 81, "field_too_long")):
        assert call(phone, "diagnostic.team", code=code, name=name)["error"]["code"] == error
    # The board's session is another format: its phones cannot take the diagnostic's actions.
    board_phone = joined_phone(app, board, "Bruno")
    assert call(board_phone, "diagnostic.team", code=board, name="Coop")["error"]["code"] == "wrong_format"
    assert call(phone, "diagnostic.team", code=code, name="Coop")["ok"]
    assert call(console, "phase_set", code=code, phase="share")["ok"]
    ack = call(phone, "diagnostic.answer", code=code, function="animation", stage="emergence", rev=0)
    assert ack["error"]["code"] == "answers_closed"
    assert not any(key.startswith("answer:") for key in stored(read, code))


def test_teams_is_for_organisers_and_counts_each_teams_progress(app, diag, console):
    code, _board = diag
    a, b, c = (joined_phone(app, code, name) for name in ("Alice", "Bruno", "Chloé"))
    call(a, "diagnostic.team", code=code, name="Coop A")
    call(b, "diagnostic.team", code=code, name="coop a")
    call(c, "diagnostic.team", code=code, name="Coop B")
    for function in FUNCTIONS[:3]:
        assert call(a, "diagnostic.answer", code=code, function=function, stage="emergence", rev=0)["ok"]
    assert call(a, "diagnostic.teams", code=code)["error"]["code"] == "forbidden"
    ack = call(console, "diagnostic.teams", code=code)
    assert ack["teams"] == [
        {"name": "Coop A", "members": 2, "answered": 3,
         "stages": {"animation": "emergence", "creativite": "emergence", "valorisation": "emergence",
                    "support": None, "gestion_de_projet": None}},
        {"name": "Coop B", "members": 1, "answered": 0, "stages": dict.fromkeys(FUNCTIONS)}]
    assert ack["aggregate"]["teams"] == 1


def test_a_member_who_changes_team_leaves_the_first(app, diag, read):
    code, _board = diag
    phone = joined_phone(app, code, "Alice")
    call(phone, "diagnostic.team", code=code, name="Coop A")
    ack = call(phone, "diagnostic.team", code=code, name="Coop B")
    assert ack["result"]["team"] == {"name": "Coop B", "members": 1}
    data = stored(read, code)
    assert data[f"member:{_participant_id(read, 'Alice')}"][0] == {"team": "team:coop b"}
    assert {key for key in data if key.startswith("team:")} == {"team:coop a", "team:coop b"}


def _participant_id(read, name: str) -> int:
    from app.models import Participant

    return read(lambda: db.session.scalar(db.select(Participant.id).where(Participant.name == name)))


def _run(app, code: str, teams: dict[str, dict[str, str]]) -> None:
    """Have one phone per team answer every function with the given stage."""
    for n, (team, stages) in enumerate(teams.items()):
        phone = joined_phone(app, code, f"Membre {n}")
        assert call(phone, "diagnostic.team", code=code, name=team)["ok"]
        for function, stage in stages.items():
            ack = call(phone, "diagnostic.answer", code=code, function=function, stage=stage, indicators=[], rev=0)
            assert ack["ok"], ack


REALISTIC = {
    "Tiers-lieu La Fabrique": {"animation": "consolidation", "creativite": "structuration", "valorisation": "emergence",
                               "support": "a_lancer", "gestion_de_projet": "structuration"},
    "PTCE Pays de Bray": {"animation": "rayonnement", "creativite": "consolidation", "valorisation": "structuration",
                          "support": "emergence", "gestion_de_projet": "consolidation"},
    "Coopérative Terres Communes": {"animation": "structuration", "creativite": "emergence",
                                    "valorisation": "emergence", "support": "a_lancer",
                                    "gestion_de_projet": "a_lancer"},
    "Collectif Bourg Vivant": {"animation": "emergence", "creativite": "emergence"},
}


def test_synthesis_of_a_realistic_run_is_anonymous_and_finds_the_common_weak_gears(app, diag, read):
    code, _board = diag
    _run(app, code, REALISTIC)

    def synthesise():
        session = db.session.scalar(db.select(Session).where(Session.code == code))
        return get("diagnostic").synthesise(session)

    data = read(synthesise)
    assert (data["format"], data["title"], data["teams"], data["total"]) == (
        "diagnostic", "Le diagnostic des Rouages", 4, 0)
    by_key = {f["key"]: f for f in data["functions"]}
    assert {s["key"]: s["count"] for s in by_key["animation"]["stages"]} == {
        "a_lancer": 0, "emergence": 1, "structuration": 1, "consolidation": 1, "rayonnement": 1}
    assert by_key["animation"]["score"] == pytest.approx((0.25 + 0.5 + 0.75 + 1) / 4, abs=1e-3)
    assert by_key["support"]["answered"] == 3
    assert by_key["support"]["score"] == pytest.approx((0 + 0.25 + 0) / 3, abs=1e-3)
    # Each team's two lowest gears: Fabrique valorisation and support, Bray valorisation and support, Terres Communes
    # support and project management, Bourg Vivant the only two it answered.
    assert data["common_weakest"] == ["support", "valorisation", "animation", "creativite", "gestion_de_projet"]
    assert [by_key[k]["weakest"] for k in data["common_weakest"]] == [3, 2, 1, 1, 1]
    # Support is weakest mostly at its first stage: the grid's first step for it.
    assert by_key["support"]["next_step"] == "Lister ce que chaque membre peut mettre en commun."
    text = str(data)
    assert not any(team in text for team in ("Fabrique", "Bray", "Terres", "Bourg"))


def test_restitution_section_prints_the_wheel_the_distribution_and_next_steps(app, diag, read):
    code, _board = diag
    _run(app, code, REALISTIC)
    from carnet.templating import environment

    def section():
        session = db.session.scalar(db.select(Session).where(Session.code == code))
        data = get("diagnostic").synthesise(session)
        return environment().get_template("diagnostic/booklet.html").render(data=data, session=session,
                                                                            show_names=True)

    html = read(section)
    assert "4 coopérations ont placé leurs rouages sur la grille." in html
    assert html.count("<svg") == 1
    assert re.search(r"<th scope=\"row\">Support</th><td>2</td><td>1</td><td></td><td></td><td></td>", html)
    assert "Lister ce que chaque membre peut mettre en commun." in html
    assert "Fabrique" not in html


def test_a_team_downloads_its_own_wheel_as_one_page(app, diag, tmp_path):
    code, _board = diag
    http = app.test_client()
    assert http.get(f"/j/{code}/documents/wheel.pdf").status_code == 403  # no cookie yet
    phone = joined_phone(app, code, "Alice", http)
    ack = phone.emit("join", {"code": code, "name": "Alice"}, callback=True)
    http.set_cookie("rouages_participant", ack["participant"]["token"])
    assert http.get(f"/j/{code}/documents/wheel.pdf").status_code == 404  # in no team
    call(phone, "diagnostic.team", code=code, name="Tiers-lieu La Fabrique")
    for function, stage in REALISTIC["Tiers-lieu La Fabrique"].items():
        call(phone, "diagnostic.answer", code=code, function=function, stage=stage, indicators=[], rev=0)
    assert http.get(f"/j/{code}/documents/other.pdf").status_code == 404
    assert http.get(f"/j/{code}/documents/..%2Fx.pdf").status_code == 404
    response = http.get(f"/j/{code}/documents/wheel.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in ("Tiers-lieu La Fabrique", "Forum des coopérations", "Animation", "Consolidation",
                     "Gestion de projet", "Support", "Lister ce que chaque membre peut mettre en commun."):
        assert expected in " ".join(text.split()), expected
    out = tmp_path / "wheel.pdf"
    out.write_bytes(response.data)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(out), str(tmp_path / "wheel")], check=True)


def test_wheel_svg_is_a_pure_function_of_its_scores():
    functions = [{"label": label, "score": score} for label, score in
                 (("Animation", 1.0), ("Créativité", 0.5), ("Valorisation", None), ("Support", 0.0),
                  ("Gestion de projet", 0.25))]
    svg = str(wheel_svg(functions, ["A", "B", "C", "D", "E"], "Roue <de> test", "desc", ident="t"))
    assert svg == str(wheel_svg(functions, ["A", "B", "C", "D", "E"], "Roue <de> test", "desc", ident="t"))
    assert svg.startswith("<svg") and 'aria-labelledby="t-title t-desc"' in svg
    assert "Roue &lt;de&gt; test" in svg
    assert svg.count('class="wheel-ring"') == 4
    assert svg.count('class="wheel-dot"') == 4  # the unanswered function has no dot
    # Animation, at the top, reaches the outer ring: 200 - 130.
    assert '<circle class="wheel-dot" cx="200.0" cy="70.0"' in svg


def test_records_refuse_a_stale_revision_and_keep_the_current_data(app, diag):
    code, _board = diag
    with app.app_context():
        session = db.session.scalar(db.select(Session).where(Session.code == code))
        first = records.put(session, "k", {"v": 1}, 0)
        assert (first.rev, first.data) == (1, {"v": 1})
        with pytest.raises(ServiceError) as refused:
            records.put(session, "k", {"v": 2}, 0)
        assert refused.value.code == "stale_record"
        assert refused.value.details["record"] == {"key": "k", "data": {"v": 1}, "rev": 1}
        assert records.put(session, "k", {"v": 3}, 1).rev == 2
        with pytest.raises(ServiceError):
            records.put(session, "k", {"v": 4}, 1)
        assert records.put(session, "k", {"v": 5}, None).rev == 3
        assert [r.key for r in records.find(session, "k")] == ["k"]
        records.put(session, "a_b", {}, 0)
        records.put(session, "axb", {}, 0)
        assert [r.key for r in records.find(session, "a_")] == ["a_b"]  # "_" is no wildcard
        assert records.delete(session, "k") and not records.delete(session, "k")


def _pdf_page_with(path, needle: str) -> tuple[int, str]:
    """Return the number (from 1) and text of the first page of a PDF whose text holds `needle`."""
    for number, page in enumerate(PdfReader(path).pages, start=1):
        text = " ".join(page.extract_text().split())
        if needle in text:
            return number, text
    raise AssertionError(f"no page of {path} holds {needle!r}")


def test_the_carnet_prints_a_worksheet_and_the_restitution_the_rooms_wheel(app, diag, tmp_path):
    code, _board = diag
    _run(app, code, REALISTIC)
    from app.models import Event
    from carnet import carnet, restitution

    with app.test_request_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == "forum-diag"))
        carnet.write_pdf(event, tmp_path / "carnet.pdf")
        restitution.write_pdf(event, tmp_path / "restitution.pdf")
    number, text = _pdf_page_with(tmp_path / "carnet.pdf", "Une structure porteuse reconnue")
    for expected in ("Le diagnostic des Rouages", "À lancer", "Rayonnement", "Gestion de projet",
                     "Une structure porteuse reconnue coordonne le collectif", "Le projet est évalué à dates fixes"):
        assert expected in text, expected
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", str(number), "-l", str(number), str(tmp_path / "carnet.pdf"),
                    str(tmp_path / "carnet")], check=True)
    number, text = _pdf_page_with(tmp_path / "restitution.pdf", "ont placé leurs rouages")
    # The session's opener counts cooperations, not ideas (it has none).
    _number, opener = _pdf_page_with(tmp_path / "restitution.pdf", "Où en sont les rouages de votre coopération ?")
    assert "4 coopérations" in opener and "idée" not in opener
    for expected in ("4 coopérations ont placé leurs rouages sur la grille.", "Support", "Structuration",
                     "Lister ce que chaque membre peut mettre en commun."):
        assert expected in text, expected
    assert not any(team in text for team in ("Fabrique", "Bray", "Terres", "Bourg"))
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", str(number), "-l", str(number),
                    str(tmp_path / "restitution.pdf"), str(tmp_path / "restitution")], check=True)


def test_migration_0015_goes_down_to_0014_and_up_again_keeping_the_rest(app, diag, read):
    from pathlib import Path

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    code, _board = diag
    phone = joined_phone(app, code, "Alice")
    assert call(phone, "diagnostic.team", code=code, name="Coop A")["ok"]
    directory = str(Path(__file__).resolve().parent.parent / "app" / "migrations")
    with app.app_context():
        db.session.remove()
        downgrade(directory=directory, revision="0014")
        assert "format_record" not in inspect(db.engine).get_table_names()
        upgrade(directory=directory)
        assert "format_record" in inspect(db.engine).get_table_names()
        db.session.remove()
    assert stored(read, code) == {}
    assert read(lambda: db.session.scalar(db.select(Session.title).where(Session.code == code))) == \
        "Le diagnostic des Rouages"


def test_any_screen_reads_the_anonymous_overview_and_nothing_more(app, diag):
    code, board = diag
    _run(app, code, {"Coop A": {"animation": "emergence"}})
    wall = socket_client(app)
    ack = call(wall, "diagnostic.overview", code=code)
    assert ack["ok"] and ack["aggregate"]["teams"] == 1
    assert ack["aggregate"]["functions"][0]["stages"][1]["count"] == 1
    assert "Coop A" not in str(ack)
    assert call(wall, "diagnostic.overview", code=board)["error"]["code"] == "wrong_format"
    assert call(wall, "diagnostic.overview", code="ZZZZZZ")["ok"] is False


def test_generated_payloads_get_clean_acks_and_store_only_answers_of_the_grid(app, diag, read):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    code, _board = diag
    # Rate limits would turn most generated requests into refusals before any validation runs.
    app.config.update(LIMIT_POSTS_BURST=0, LIMIT_POSTS_PER_MINUTE=0, LIMIT_WATCH_BURST=0, LIMIT_WATCH_PER_MINUTE=0)
    app.extensions.pop("rouages.limits", None)
    phone = joined_phone(app, code, "Alice")
    assert call(phone, "diagnostic.team", code=code, name="Coop A")["ok"]
    grid = build_grid({}, default_frameworks())
    stages = [s["key"] for s in grid["stages"]]
    indicators = {f["key"]: [i["key"] for i in f["indicators"]] for f in grid["functions"]}
    nasty = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=30),
                      st.lists(st.text(max_size=5), max_size=4), st.dictionaries(st.text(max_size=3), st.integers()))
    def mostly(valid):
        return st.one_of(valid, valid, valid, nasty)

    required = {"code": mostly(st.just(code)), "function": mostly(st.sampled_from(FUNCTIONS)),
                "stage": mostly(st.sampled_from(stages)), "rev": mostly(st.integers(0, 3))}
    optional = {"indicators": mostly(st.lists(st.sampled_from(indicators["animation"]), max_size=5, unique=True)),
                "name": mostly(st.sampled_from(["Coop A", "coop a"])), "junk": nasty}

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(event=st.sampled_from(["diagnostic.answer"] * 3 + ["diagnostic.team", "diagnostic.state",
                                                               "diagnostic.overview"]),
           payload=st.fixed_dictionaries(required, optional=optional))
    def run(event, payload):
        ack = phone.emit(event, payload, callback=True)
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
        if not ack["ok"]:
            assert set(ack) == {"ok", "error"} and ack["error"]["message"], ack
            assert ack["error"]["code"] != "internal_error", (event, payload, ack)

    run()
    found = stored(read, code)
    assert any(key.startswith("answer:") for key in found)  # valid answers got through: the refusals were chosen
    for key, (data, rev) in found.items():
        assert rev >= 1
        if key.startswith("answer:"):
            function = key.rsplit(":", 1)[1]
            assert function in indicators and data["stage"] in stages
            assert set(data["indicators"]) <= set(indicators[function])


def test_the_core_pages_leave_out_ideas_votes_and_posts_for_a_format_that_takes_none(app, diag, organiser):
    code, board = diag
    http = app.test_client()
    login(http)

    def hidden(page: str, pattern: str) -> bool:
        return re.search(pattern + r'[^>]*\bhidden\b', page) is not None

    console = http.get(f"/console/s/{code}").get_data(as_text=True)
    assert hidden(console, r'<section aria-labelledby="posts-title"')
    assert hidden(console, r'<div class="control"') and 'id="vote-form"' in console
    wall = http.get(f"/wall/{code}").get_data(as_text=True)
    assert hidden(wall, r'<span id="total"')
    assert hidden(http.get(f"/j/{code}").get_data(as_text=True), r'<section class="my-posts"')
    # A format that takes ideas keeps all of it.
    console = http.get(f"/console/s/{board}").get_data(as_text=True)
    assert not hidden(console, r'<section aria-labelledby="posts-title"')
    assert not hidden(http.get(f"/wall/{board}").get_data(as_text=True), r'<span id="total"')
    assert not hidden(http.get(f"/j/{board}").get_data(as_text=True), r'<section class="my-posts"')
