"""Generated hostile payloads against every Socket.IO event and HTTP endpoint: documented answers, intact data.

Events and endpoints are read from the application itself (the Socket.IO handlers it registers and its URL
map), so a new event, format action or route is fuzzed as soon as it is registered. Each generated request
must get a documented answer (an `ok` ack or a clean `{ok: false, error: {code, message}}` refusal that is
not `internal_error`; an HTTP status below 500, and the same JSON shape under /api/), and the stored rows
must keep the invariants the protocol promises.

ROUAGES_FUZZ_EXAMPLES sets how many payloads each event and requests each endpoint gets (default below); every
payload is sent by an organiser, a joined phone and a stranger, so an event receives three times as many.
"""

from __future__ import annotations

import copy

import json
import os
import re
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from app import create_app
from app.extensions import db
from app.models import Harvest, Participant, Post, Session, Table, Vote
from app.services import eventfile
from app.services.harvest import TEXT_MAX as HARVEST_MAX
from app.services.posting import TEXT_MAX as POST_MAX
from conftest import base_config, import_file, login, socket_client
from workshops import registry

EXAMPLES = int(os.environ.get("ROUAGES_FUZZ_EXAMPLES", "200"))
BIG = 2**64

# Rate limits would turn most generated requests into `too_many_*` refusals before any validation runs.
NO_LIMITS = {"LIMIT_POSTS_BURST": 0, "LIMIT_POSTS_PER_MINUTE": 0, "LIMIT_JOINS_BURST": 0,
             "LIMIT_JOINS_PER_MINUTE": 0, "LIMIT_WATCH_BURST": 0, "LIMIT_WATCH_PER_MINUTE": 0}


# Discovery ---------------------------------------------------------------------------------------------------

def _discover():
    """Return the Socket.IO event names and the URL rules an application built from the code registers."""
    data_dir = Path(tempfile.mkdtemp(prefix="rouages-discover-"))
    application = create_app(base_config(data_dir, f"sqlite:///{data_dir / 'unused.db'}"))
    handlers = application.extensions["socketio"].server.handlers["/"]
    events = sorted(name for name in handlers if name not in ("connect", "disconnect"))
    rules = sorted((rule.rule, rule.endpoint, tuple(sorted(rule.methods))) for rule in application.url_map.iter_rules())
    return events, rules


EVENTS, RULES = _discover()
RAN: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def report_examples(request):
    """Print how many generated examples each event and endpoint received in this run."""
    yield
    if not RAN:
        return
    lines = [f"  {name}: {count}" for name, count in sorted(RAN.items())]
    report = "\nfuzz examples per event / endpoint:\n" + "\n".join(lines)
    plugins = request.config.pluginmanager
    reporter, capture = plugins.getplugin("terminalreporter"), plugins.getplugin("capturemanager")
    if reporter is None or capture is None:
        print(report)
        return
    with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
        reporter.write_line(report)


@pytest.fixture
def app(tmp_path, migrated_db, databases):
    """An application on its own copy of the migrated database, with the per-client rate limits off."""
    application = create_app({**base_config(tmp_path, databases.copy_url(migrated_db, tmp_path)), **NO_LIMITS})
    yield application
    with application.app_context():
        db.engine.dispose()


# The stage: a board event, a world café with tables and host links, an organiser, phones -------------------

def world_cafe_event(app, slug="cafe"):
    """Import the world-café format's example as its own event; return its session."""
    item = registry()["world_cafe"].example
    doc = {"slug": slug, "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    return import_file(app, eventfile.dump(doc)).sessions[0]


def duo_event(app):
    """Import the duo format's example, in parallel rooms with questions under review, as its own event."""
    item = copy.deepcopy(registry()["duo"].example)
    item["settings"] = {**item.get("settings", {}), "parallel": True, "moderation": "review"}
    doc = {"slug": "duos", "title": "Duos", "programme": [{"date": "2026-06-10", "items": [item]}]}
    return import_file(app, eventfile.dump(doc)).sessions[0]


def tables_of(app, session_id):
    """Return [(key, code, host token)] of a session's tables, in order."""
    with app.app_context():
        rows = db.session.scalars(select(Table).where(Table.session_id == session_id).order_by(Table.position))
        return [(t.key, t.code, t.host_token) for t in rows]


def csrf_of(http, path) -> str:
    """Return the CSRF token a page gives this client's cookie session."""
    page = http.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]


@dataclass
class Stage:
    """Everything a generated request may name: codes, tokens, post ids, and the clients that send it."""

    app: object
    board: SimpleNamespace
    other: SimpleNamespace
    cafe: SimpleNamespace
    duo: SimpleNamespace
    tables: list
    clients: dict
    http: dict
    csrf: dict
    participant_tokens: list
    post_ids: list
    client_ids: list
    codes: list = field(default_factory=list)
    host_tokens: list = field(default_factory=list)
    slugs: list = field(default_factory=list)
    fields: dict = field(default_factory=dict)


@pytest.fixture
def stage(app, event, organiser):
    """A board, a running world café and duos under review, an organiser watching everything, phones with posts,
    dots and upvotes."""
    board = next(s for s in event.sessions if s.key == "world-cafe")
    other = next(s for s in event.sessions if s.key != "world-cafe")
    cafe = world_cafe_event(app)
    tables = tables_of(app, cafe.id)
    duo = duo_event(app)
    duo_tables = tables_of(app, duo.id)

    http_organiser = app.test_client()
    login(http_organiser)
    console = socket_client(app, http_organiser)
    assert console.emit("phase_set", {"code": cafe.code, "phase": "round_1"}, callback=True)["ok"]
    assert console.emit("phase_set", {"code": duo.code, "phase": "duos"}, callback=True)["ok"]
    for session in (board, other, cafe, duo):
        assert console.emit("watch", {"code": session.code}, callback=True)["ok"]

    phone, neighbour, stranger = socket_client(app), socket_client(app), socket_client(app)
    # The phone is a participant of both events: of the board's, and of the café's through a table's code.
    token = phone.emit("join", {"code": board.code, "name": "Camille"}, callback=True)["participant"]["token"]
    cafe_token = phone.emit("join", {"code": tables[0][1]}, callback=True)["participant"]["token"]
    neighbour_token = neighbour.emit("join", {"code": other.code}, callback=True)["participant"]["token"]
    duo_token = phone.emit("join", {"code": duo_tables[0][1]}, callback=True)["participant"]["token"]
    posts, client_ids = [], []
    for n, (sender, code, tags) in enumerate([(phone, board.code, {"function": "animation"}),
                                              (phone, board.code, {"function": "support", "category": "actions"}),
                                              (phone, tables[0][1], {}), (phone, tables[0][1], {}),
                                              (phone, tables[1][1], {}), (neighbour, other.code, {}),
                                              (phone, duo_tables[0][1], {"kind": "question"}),
                                              (phone, duo_tables[0][1], {"kind": "takeaway"}),
                                              (phone, duo_tables[1][1], {"kind": "question"})]):
        client_id = f"stage-post-{n:04d}"
        ack = sender.emit("post", {"code": code, "client_id": client_id, "text": f"Idée {n}", "tags": tags},
                          callback=True)
        assert ack["ok"], ack
        posts.append(ack["post"]["id"])
        client_ids.append(client_id)
    for session in (board, cafe):
        assert console.emit("vote_open", {"code": session.code, "budget": 5, "max_per_post": 2}, callback=True)["ok"]
    assert phone.emit("vote", {"code": board.code, "dots": {str(posts[0]): 2}}, callback=True)["ok"]
    # Two of the duos' three posts published (the third stays in the review queue), one upvoted.
    for post_id in posts[6:8]:
        assert console.emit("post_approve", {"code": duo.code, "post_id": post_id}, callback=True)["ok"]
    assert phone.emit("upvote", {"code": duo.code, "post_id": posts[6], "on": True}, callback=True)["ok"]

    http_anonymous, http_phone = app.test_client(), app.test_client()
    http_phone.set_cookie("rouages_participant", token)
    csrf = {"organiser": csrf_of(http_organiser, f"/console/s/{board.code}"),
            "anonymous": csrf_of(http_anonymous, "/login"), "phone": csrf_of(http_phone, "/login")}
    built = Stage(app=app, board=board, other=other, cafe=cafe, duo=duo, tables=tables,
                  clients={"organiser": console, "phone": phone, "stranger": stranger},
                  http={"organiser": http_organiser, "anonymous": http_anonymous, "phone": http_phone},
                  csrf=csrf, participant_tokens=[token, neighbour_token, cafe_token, duo_token], post_ids=posts,
                  client_ids=client_ids)
    built.codes = [board.code, other.code, cafe.code, *(t[1] for t in tables), duo.code, *(t[1] for t in duo_tables)]
    built.host_tokens = [t[2] for t in tables]
    built.slugs = [event.slug]
    built.fields = field_values(built)
    yield built
    for client in (console, phone, neighbour, stranger):
        if client.is_connected():
            client.disconnect()


# Strategies --------------------------------------------------------------------------------------------------

FIELDS = ["code", "text", "tags", "client_id", "since", "rev", "post_id", "into", "dots", "budget",
          "max_per_post", "phase", "open", "seconds", "token", "category", "name", "organisation", "opening",
          "on", "answered", "review", "signed"]
RANDOM_KEYS = ["", "ok", "__proto__", "constructor", "code ", "CODE", "x" * 300, "\udfff", "\x00", "١", "limit"]

NASTY_STRINGS = [
    "x\udfff", "\ud83d", "\udfff" * 3, "\ud83d\ude00", "a\x00b", "\x00", "\x1b[2J", "\x7f\x85\x9f", "\u202e",
    "\u200b", "\ufeff", "²", "١", "٣٤", "𝟙", "1e3", " 1", "-1", "0x1F", "NaN", "Infinity", "", " ", "\n\n", "\t",
    "null", "true", "[]", "{}", "'; DROP TABLE post; --", "<script>alert(1)</script>", "%s%n", "../../etc/passwd",
    "é" * 81, "x" * 121, "x" * 501, "x" * 3001, "\udfff" * 600, "a\u0301" * 300, "ﷺ" * 200,
    str(2**53), str(2**63), str(BIG), "-" + str(BIG), "9" * 400,
]
NASTY_NUMBERS = [0, 1, -1, 2, 5, 20, 21, 14_400, 14_401, 2**31, 2**53 - 1, 2**53, 2**63 - 1, 2**63, BIG,
                 -(2**63) - 1, -BIG, 10**400, 0.0, -0.0, 1.5, 1e308, float("inf"), float("-inf"), float("nan")]

surrogate_text = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=4)
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
scalars = st.one_of(
    st.sampled_from(NASTY_STRINGS), st.sampled_from(NASTY_NUMBERS), any_text, surrogate_text,
    st.integers(), st.floats(), st.booleans(), st.none(),
)
junk = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from(RANDOM_KEYS + FIELDS), any_text),
                                                 inner, max_size=4)), max_leaves=8)


@st.composite
def deep(draw):
    """A list or object nested a few hundred levels deep (the test client's own encoder stops near 1,000)."""
    depth = draw(st.integers(min_value=30, max_value=400))
    value = draw(scalars)
    as_dict = draw(st.booleans())
    for _ in range(depth):
        value = {"code": value} if as_dict else [value]
    return value


def field_values(stage: Stage) -> dict:
    """Per field, values of the stage that pass the first check, so that validation goes deeper."""
    codes = stage.codes + [c.lower() for c in stage.codes] + [f" {c[:3]}-{c[3:]} " for c in stage.codes]
    post_ids = st.sampled_from(stage.post_ids + [0, -1, 2**31 - 1, 2**31, 2**53 - 1, 2**53, 2**63, BIG])
    post_keys = st.sampled_from([str(i) for i in stage.post_ids] + ["²", "١", str(BIG), "-1", " 1", "1e3", "", "01"])
    phases = ["welcome", "round_1", "round_2", "round_3", "harvest", "vote", "done", "collect", "duos"]
    client_id = st.one_of(st.sampled_from(stage.client_ids + [f"fuzz-{n:04d}" for n in range(8)]),
                          st.from_regex(r"\A[A-Za-z0-9_-]{8,64}\Z"))
    return {
        "code": st.sampled_from(codes),
        "token": st.sampled_from(stage.host_tokens + stage.participant_tokens + ["A" * 16, "A" * 65]),
        "post_id": post_ids,
        "into": post_ids,
        "since": st.sampled_from([0, 1, 2, 5, 499, 2**31 - 1, 2**53 - 1]),
        "rev": st.sampled_from([0, 1, 2, 5, 2**31 - 1, 2**53 - 1]),
        "client_id": client_id,
        "text": st.one_of(st.sampled_from(["Une idée", "  Une   idée \u200b ", "x" * 500, "x\udfff y"]), any_text),
        "tags": st.one_of(st.sampled_from([{}, {"function": "animation"}, {"function": "creativite"},
                                           {"function": "support", "category": "missions"}, {"category": "besoins"},
                                           {"function": None}, {"function": "nope"}, {"kind": "question"},
                                           {"kind": "takeaway", "duo": "alimentation-durable-et-locale"}])),
        "dots": st.dictionaries(post_keys, st.one_of(st.integers(-1, 6), scalars), max_size=4),
        "budget": st.integers(0, 21),
        "max_per_post": st.integers(0, 21),
        "phase": st.sampled_from(phases),
        "open": st.booleans(),
        "opening": st.sampled_from([0, 1, 2, None]),
        "seconds": st.integers(-1, 14_401),
        "category": st.sampled_from(["missions", "actions", "besoins", "animation"]),
        "name": st.sampled_from(["Camille", "Dominique", "  Léa  ", "x" * 80]),
        "organisation": st.sampled_from(["MES", "Pays de Bray", "x" * 120]),
        "on": st.booleans(),
        "answered": st.booleans(),
        "review": st.booleans(),
        "signed": st.booleans(),
    }


@st.composite
def socket_payloads(draw, stage: Stage):
    """Mostly objects of the protocol's field names with good or nasty values; sometimes no object at all."""
    shape = draw(st.sampled_from(["object"] * 8 + ["deep", "other"]))
    if shape == "deep":
        return (draw(deep()),)
    if shape == "other":
        return draw(st.sampled_from([(), (None,), ([],), ("join",), (42,), ({}, {}), ([{"code": stage.board.code}],)]))
    good = stage.fields
    keys = draw(st.lists(st.one_of(st.sampled_from(FIELDS), st.sampled_from(RANDOM_KEYS)), unique=True, max_size=9))
    payload = {}
    for key in keys:
        choice = draw(st.integers(0, 9))
        if key in good and choice < 6:
            payload[key] = draw(good[key])
        else:
            payload[key] = draw(junk if choice < 9 else deep())
    return (payload,)


# Checks ------------------------------------------------------------------------------------------------------

def check_ack(event: str, args, ack) -> None:
    """The ack is `{ok: true, ...}` or a clean refusal; `internal_error` and a missing ack are failures."""
    assert isinstance(ack, dict), f"{event} {args!r}: no ack or not an object: {ack!r}"
    if ack.get("ok") is True:
        return
    assert ack.get("ok") is False and set(ack) == {"ok", "error"}, f"{event} {args!r}: {ack!r}"
    error = ack["error"]
    assert isinstance(error, dict) and isinstance(error.get("code"), str), f"{event} {args!r}: {ack!r}"
    assert isinstance(error.get("message"), str) and error["message"], f"{event} {args!r}: {ack!r}"
    assert error["code"] != "internal_error", f"{event} {args!r}: {ack!r}"


# Each query returns the rows that break an invariant; portable SQL so PostgreSQL runs check the same rows.
INVARIANTS = {
    "posts' seq run 1..last_seq with no gap nor duplicate": """
        SELECT s.id FROM "session" s LEFT JOIN post p ON p.session_id = s.id GROUP BY s.id, s.last_seq
        HAVING COUNT(p.id) != s.last_seq OR COUNT(DISTINCT p.seq) != COUNT(p.id)
            OR COALESCE(MIN(p.seq), 1) != 1 OR COALESCE(MAX(p.seq), 0) != s.last_seq""",
    "posts' rev unique, from 1 to last_rev": """
        SELECT s.id FROM "session" s JOIN post p ON p.session_id = s.id GROUP BY s.id, s.last_rev
        HAVING COUNT(DISTINCT p.rev) != COUNT(p.id) OR MIN(p.rev) < 1 OR MAX(p.rev) > s.last_rev
            OR s.last_rev < s.last_seq""",
    "a post's participant belongs to its session's event": """
        SELECT p.id FROM post p JOIN "session" s ON s.id = p.session_id JOIN participant a ON a.id = p.participant_id
        WHERE a.event_id != s.event_id""",
    "a post's text is 1..500 characters and its client_id well formed": f"""
        SELECT id FROM post WHERE LENGTH(text) < 1 OR LENGTH(text) > {POST_MAX}
            OR LENGTH(client_id) < 8 OR LENGTH(client_id) > 64""",
    "a merged post is hidden and merged into a post of its session": """
        SELECT p.id FROM post p JOIN post q ON q.id = p.merged_into_id
        WHERE p.session_id != q.session_id OR p.hidden = false OR p.id = q.id""",
    "no chain of merges: a kept post is not merged itself": """
        SELECT p.id FROM post p JOIN post q ON q.id = p.merged_into_id WHERE q.merged_into_id IS NOT NULL""",
    "a merge records when and at most one who, and only a merged post has them": """
        SELECT id FROM post WHERE (merged_into_id IS NULL) != (merged_at IS NULL)
            OR (merged_by_table_id IS NOT NULL AND merged_by_organiser_id IS NOT NULL)
            OR (merged_into_id IS NULL AND (merged_by_table_id IS NOT NULL OR merged_by_organiser_id IS NOT NULL))""",
    "a host's merge was made by a table of the post's session": """
        SELECT p.id FROM post p JOIN session_table t ON t.id = p.merged_by_table_id WHERE t.session_id != p.session_id""",
    "a vote is on a post of its session, by a participant of its event": """
        SELECT v.id FROM vote v JOIN post p ON p.id = v.post_id JOIN "session" s ON s.id = v.session_id
        JOIN participant a ON a.id = v.participant_id
        WHERE p.session_id != v.session_id OR a.event_id != s.event_id""",
    "a vote gives 1..max_per_post dots": """
        SELECT v.id FROM vote v JOIN "session" s ON s.id = v.session_id
        WHERE v.dots < 1 OR v.dots > s.vote_max_per_post""",
    "a participant's dots stay within the session's budget": """
        SELECT v.participant_id FROM vote v JOIN "session" s ON s.id = v.session_id
        GROUP BY v.participant_id, v.session_id, s.vote_budget HAVING SUM(v.dots) > s.vote_budget""",
    "an attendance's participant belongs to the session's event": """
        SELECT t.id FROM attendance t JOIN "session" s ON s.id = t.session_id
        JOIN participant a ON a.id = t.participant_id WHERE a.event_id != s.event_id""",
    "vote rules, countdown and state within their ranges": """
        SELECT id FROM "session" WHERE vote_state NOT IN ('none', 'open', 'closed', 'revealed')
            OR vote_budget < 1 OR vote_budget > 20 OR vote_max_per_post < 1 OR vote_max_per_post > vote_budget
            OR (timer_seconds IS NOT NULL AND (timer_seconds < 1 OR timer_seconds > 14400))""",
    "names and organisations within their lengths": """
        SELECT id FROM participant WHERE LENGTH(name) > 80 OR LENGTH(organisation) > 120
            OR LENGTH(name) = 0 OR LENGTH(organisation) = 0""",
    f"a harvest text is at most {HARVEST_MAX} characters": f"""
        SELECT id FROM harvest WHERE LENGTH(text) > {HARVEST_MAX}""",
    "a post waiting for review is hidden": """
        SELECT id FROM post WHERE held = true AND hidden = false""",
    "an upvote is on a post of its session, by a participant of its event": """
        SELECT u.id FROM upvote u JOIN post p ON p.id = u.post_id JOIN "session" s ON s.id = u.session_id
        JOIN participant a ON a.id = u.participant_id
        WHERE p.session_id != u.session_id OR a.event_id != s.event_id""",
    "a kept post counts the people who upvoted it or a post merged into it, each once": """
        SELECT p.id FROM post p WHERE p.merged_into_id IS NULL AND p.upvotes != (
            SELECT COUNT(DISTINCT u.participant_id) FROM upvote u JOIN post q ON q.id = u.post_id
            WHERE q.id = p.id OR q.merged_into_id = p.id)""",
}
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def broken_invariants(app) -> list[str]:
    """Return a description of every invariant the stored rows break (cheap: a few aggregate queries)."""
    broken = []
    with app.app_context():
        for name, query in INVARIANTS.items():
            rows = db.session.execute(text(query)).fetchall()
            if rows:
                broken.append(f"{name}: {[tuple(r) for r in rows[:5]]}")
    return broken


def deep_check(app) -> list[str]:
    """The slower checks, once per test: stored text, harvest categories, plans, and the database file itself."""
    broken = broken_invariants(app)
    with app.app_context():
        for post in db.session.scalars(select(Post)):
            if _UNSTORABLE.search(post.text) or not post.text.strip() or "\x00" in post.client_id:
                broken.append(f"post {post.id} stored unclean text {post.text!r}")
        for person in db.session.scalars(select(Participant)):
            for value in (person.name, person.organisation):
                if value is not None and (_UNSTORABLE.search(value) or value != value.strip()):
                    broken.append(f"participant {person.id} stored unclean {value!r}")
        for row in db.session.scalars(select(Harvest)):
            keys = {c["key"] for c in row.table.session.settings.get("harvest", [])}
            if row.category not in keys or _UNSTORABLE.search(row.text.replace("\t", "")):
                broken.append(f"harvest {row.id} {row.category!r} {row.text[:40]!r}")
        for session in db.session.scalars(select(Session)):
            keys = [p["key"] for p in session.settings.get("phases", [])]
            if session.phase is not None and session.phase not in keys:
                broken.append(f"session {session.id} in unknown phase {session.phase!r}")
            if session.plan:
                tables = {t.key for t in session.tables}
                people = {str(p.id) for p in db.session.scalars(select(Participant).where(
                    Participant.event_id == session.event_id))}
                routes = session.plan.get("assignments", {})
                if not set(session.plan.get("tables", [])) <= tables or not set(routes) <= people or any(
                        not set(route) <= tables for route in routes.values()):
                    broken.append(f"session {session.id} plan names unknown tables or people")
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:
                integrity = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
                foreign = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if integrity != ["ok"]:
                broken.append(f"integrity_check: {integrity[:5]}")
            if foreign:
                broken.append(f"foreign_key_check: {foreign[:5]}")
    return broken


FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])


# Socket.IO ---------------------------------------------------------------------------------------------------

def test_discovery_finds_the_protocol_events():
    """The events read from the application include every documented one and each format action."""
    documented = {"join", "post", "watch", "session_open", "phase_set", "timer_start", "timer_stop", "post_hide",
                  "post_restore", "vote_open", "vote_close", "vote_reveal", "vote", "host_join", "harvest_save",
                  "host_merge", "host_unmerge", "post_merge", "post_unmerge", "upvote", "question_answered",
                  "question_spotlight", "review_set", "post_approve", "post_reject"}
    actions = {f"{fmt.slug}.{name}" for fmt in registry().values()
               for name in [*fmt.actions(), *fmt.participant_actions(), *fmt.screen_actions()]}
    assert documented | actions <= set(EVENTS)
    assert any(rule.startswith("/api/") for rule, _endpoint, _methods in RULES)


@pytest.mark.parametrize("event_name", EVENTS)
def test_every_event_answers_generated_payloads_cleanly(stage, event_name):
    """Any payload to any event, from an organiser, a joined phone or a stranger, gets a documented ack."""
    assert event_name in stage.app.extensions["socketio"].server.handlers["/"]

    @FUZZ
    @given(data=st.data())
    def run(data):
        args = data.draw(socket_payloads(stage), label="args")
        # Each payload goes out from every role, in a drawn order: generating it costs more than sending it.
        for sender in data.draw(st.permutations(["organiser", "phone", "stranger"]), label="senders"):
            RAN[event_name] += 1
            try:
                ack = stage.clients[sender].emit(event_name, *args, callback=True)
            except Exception as error:  # the server raised out of its handler: the client never gets an answer
                pytest.fail(f"{event_name} {args!r} from {sender}: {type(error).__name__}: {error}")
            check_ack(event_name, args, ack)
        assert not broken_invariants(stage.app), (event_name, args)

    run()
    assert deep_check(stage.app) == []


def test_any_sequence_of_events_keeps_the_invariants(stage):
    """Events drawn in any order (hide, merge, vote, reopen, re-plan…) never leave inconsistent rows."""
    events = [e for e in EVENTS if e not in ("*", "malformed_message")]

    @FUZZ
    @given(data=st.data())
    def run(data):
        event_name = data.draw(st.sampled_from(events), label="event")
        sender = data.draw(st.sampled_from(["organiser", "phone", "stranger"]), label="sender")
        args = data.draw(socket_payloads(stage), label="args")
        RAN["(any sequence)"] += 1
        ack = stage.clients[sender].emit(event_name, *args, callback=True)
        check_ack(event_name, args, ack)
        assert not broken_invariants(stage.app), (event_name, sender, args)

    run()
    assert deep_check(stage.app) == []


@pytest.fixture(scope="module")
def names_app(tmp_path_factory):
    """An application without a database: enough to route event names."""
    data_dir = tmp_path_factory.mktemp("names")
    return create_app(base_config(data_dir, f"sqlite:///{data_dir / 'unused.db'}"))


def test_unknown_event_names_get_unknown_event(names_app):
    """Any unregistered event name, `*` included, is answered `unknown_event` rather than raising."""
    registered = set(names_app.extensions["socketio"].server.handlers["/"]) - {"*"}

    @FUZZ
    @given(name=st.one_of(st.sampled_from(["*", "message", "json", "Join", "join ", "world_cafe.", ".plan",
                                           "world_cafe.nope", "board.plan", "__init__", "\udfff", ""]),
                          st.text(max_size=30)))
    def run(name):
        if name in registered or name in ("connect", "disconnect"):
            return
        RAN["(unknown event names)"] += 1
        client = socket_client(names_app)
        try:
            ack = client.emit(name, {"code": "ABCDEF"}, callback=True)
        except Exception as error:  # raised inside the server: the client is never answered
            pytest.fail(f"event {name!r}: {type(error).__name__}: {error}")
        finally:
            client.disconnect()
        assert isinstance(ack, dict) and ack.get("ok") is False, (name, ack)
        assert ack["error"]["code"] == "unknown_event", (name, ack)

    run()


# HTTP --------------------------------------------------------------------------------------------------------

PATH_JUNK = ["ZZZZZZ", "", "%00", "x\udfff", "²", "١", "..", "../..", "a/b", "x" * 300, "\x00", "<script>",
             "18446744073709551616", "%2F", "\u202e"]
QUERY_KEYS = ["since", "limit", "lang", "next", "code", "download", "token", "x"]
QUERY_VALUES = ["0", "1", "18446744073709551616", "-3", "²", "١", "1.5", "", "2147483647", "2147483648",
                "9007199254740991", "9007199254740992",
                "en", "fr", "xx", "/console/", "//evil.example", "https://evil.example/", "\\\\evil", "1" * 100,
                "x\udfff", "\x00", "true"]
RAW_BODIES = [b"", b"{", b"null", b"[]", b"42", b'"x"', b"\xff\xfe\x00", b'{"a": NaN}', b'{"text": "\\udfff"}',
              b"[" * 1000 + b"]" * 1000, b'{"a":' * 1000 + b"1" + b"}" * 1000,
              b"[" * 100_000 + b"]" * 100_000, b'{"name": "' + b"x" * 70_000 + b'"}']


class HttpRequest(SimpleNamespace):
    """A generated request; its repr cuts the body so that a failure report stays readable."""

    def __repr__(self) -> str:
        body = self.body if self.body is None or len(self.body) < 300 else self.body[:300] + b"..."
        return f"{self.method} {self.path[:300]} as {self.who} ({self.content_type}) body={body!r}"


def encode(value: str) -> str:
    """Percent-encode text for a URL, lone surrogates included (they become bytes no UTF-8 decoder accepts)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def http_requests(draw, stage: Stage, rule: str, methods: tuple):
    """A request to one URL rule: path parameters, query string, body and headers, good and hostile."""
    path_values = {
        "code": st.one_of(st.sampled_from(stage.codes + [c.lower() for c in stage.codes]), st.sampled_from(PATH_JUNK)),
        "token": st.one_of(st.sampled_from(stage.host_tokens + stage.participant_tokens), st.sampled_from(PATH_JUNK)),
        "slug": st.one_of(st.sampled_from(stage.slugs), st.sampled_from(PATH_JUNK)),
        "photo_id": st.one_of(st.integers(0, 3).map(str), st.sampled_from(PATH_JUNK)),
        "filename": st.sampled_from(["js/socket.js", "css/../../app/config.py", "..%2f..%2fpyproject.toml",
                                     "nope.js", "x\udfff", "%00"]),
    }
    if rule.startswith("/formats/"):
        # A format's own files: its slugs, its files, and ways out of its static folder.
        path_values["slug"] = st.one_of(st.sampled_from(sorted(registry())), st.sampled_from(PATH_JUNK))
        path_values["filename"] = st.sampled_from(["wall.js", "wall.css", "phone.js", "../__init__.py",
                                                   "..%2f__init__.py", "../templates/wall.html", "/etc/passwd",
                                                   "wall.js\x00", "%00", "x\udfff", "", "static"])

    def fill(match):
        name = match.group(1).split(":")[-1]
        value = draw(path_values.get(name, st.sampled_from(PATH_JUNK)))
        return value if value.startswith("..%2f") else encode(value)

    path = re.sub(r"<([^>]+)>", fill, rule)
    query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), st.one_of(st.sampled_from(QUERY_VALUES), any_text),
                                 max_size=3))
    if query:
        path += "?" + "&".join(f"{encode(k)}={encode(v)}" for k, v in query.items())
    allowed = [m for m in methods]
    method = draw(st.sampled_from(allowed + ["PUT", "DELETE"] if draw(st.integers(0, 9)) == 0 else allowed))
    who = draw(st.sampled_from(["organiser", "anonymous", "phone"]))
    body, content_type = None, None
    if method in ("POST", "PUT", "DELETE"):
        # The API reads JSON; the organiser pages read forms and uploads.
        kinds = ["json"] * 4 + ["raw", "form", "csv", "none"] if rule.startswith("/api/") else \
            ["json", "raw", "form", "form", "csv", "csv", "csv", "none"]
        kind = draw(st.sampled_from(kinds))
        if kind == "json":
            value = draw(st.one_of(socket_payloads(stage).map(lambda args: args[0] if args else None), junk))
            body = json.dumps(value).encode()
            content_type = draw(st.sampled_from(["application/json", "application/json; charset=latin-1",
                                                 "text/plain", "application/x-www-form-urlencoded"]))
        elif kind == "raw":
            body = draw(st.sampled_from(RAW_BODIES))
            content_type = draw(st.sampled_from(["application/json", "text/plain", None]))
        elif kind == "form":
            # Mostly with this client's CSRF token, so that the form reaches the view behind the CSRF check.
            form_value = st.one_of(st.sampled_from(["orga@example.org", "correct-horse-battery", "x" * 300]),
                                   st.sampled_from(NASTY_STRINGS), any_text)
            fields = draw(st.dictionaries(st.sampled_from(
                ["email", "password", "file", "x", "action", "body-origin", "body-retain:world-cafe", "shown-origin",
                 "published", "show_names", "participant_photos"]), form_value, max_size=3))
            if draw(st.integers(0, 4)):
                fields["csrf_token"] = stage.csrf[who]
            body = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in fields.items()}).encode()
            content_type = "application/x-www-form-urlencoded"
        elif kind == "csv":
            body, content_type = draw(csv_upload(stage.csrf[who]))
    return HttpRequest(method=method, path=path, who=who, body=body, content_type=content_type)


@st.composite
def csv_upload(draw, csrf_token):
    """A multipart registration list: a header, rows of nasty names, sometimes one field larger than csv allows."""
    header = draw(st.sampled_from(["name,organisation", "nom;structure", "email", "Prénom Nom\tOrganisme", ""]))
    rows = draw(st.lists(st.lists(st.one_of(st.sampled_from(NASTY_STRINGS + ["Camille", "Léa", '"quoted, name"', '"']),
                                            any_text), max_size=3), max_size=6))
    lines = [header] + [",".join(row) for row in rows]
    if draw(st.integers(0, 3)) == 0:
        lines.append("Big" + "x" * 140_000)
    content = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        content = b"\xef\xbb\xbf" + content + b"\x00\xff"
    boundary = "fuzzboundary"
    parts = []
    if draw(st.integers(0, 4)):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf_token}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="list.csv"\r\n'
                 f"Content-Type: text/csv\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def check_response(request, response) -> None:
    """Status below 500; under /api/, a JSON `ok` answer or a clean refusal."""
    where = f"{request.method} {request.path[:200]} as {request.who}"
    assert response.status_code < 500, f"{where}: {response.status_code} {response.get_data()[:300]!r}"
    # HEAD answers have no body, and OPTIONS is answered by Flask itself with only an Allow header.
    if not request.path.startswith("/api/") or request.method in ("HEAD", "OPTIONS"):
        return
    if response.status_code in (301, 302, 307, 308):
        # Routing's own redirect (`//` merged into `/`): it must stay on this server, under /api/.
        assert response.headers["Location"].removeprefix("http://localhost").startswith("/api/"), where
        return
    answer = response.get_json(silent=True)
    assert isinstance(answer, dict) and isinstance(answer.get("ok"), bool), f"{where}: {response.get_data()[:300]!r}"
    if answer["ok"]:
        assert response.status_code < 400, where
        return
    assert response.status_code >= 400, where
    error = answer.get("error")
    assert isinstance(error, dict) and isinstance(error.get("code"), str), f"{where}: {answer!r}"
    assert isinstance(error.get("message"), str) and error["message"], f"{where}: {answer!r}"
    assert error["code"] != "internal_error", f"{where}: {answer!r}"


@pytest.mark.parametrize("rule,endpoint,methods", RULES, ids=[f"{r[1]}" for r in RULES])
def test_every_endpoint_answers_generated_requests_cleanly(stage, rule, endpoint, methods):
    """Any path parameter, query string and body to any route answers below 500, in JSON under /api/."""

    @FUZZ
    @given(data=st.data())
    def run(data):
        request = data.draw(http_requests(stage, rule, methods), label="request")
        RAN[f"{' '.join(m for m in methods if m not in ('HEAD', 'OPTIONS'))} {rule}"] += 1
        client = stage.http[request.who]
        try:
            response = client.open(request.path, method=request.method, data=request.body,
                                   content_type=request.content_type)
        except Exception as error:
            pytest.fail(f"{request.method} {request.path[:200]}: {type(error).__name__}: {error}")
        with response:  # a static file's response holds the file open until closed
            check_response(request, response)
        assert not broken_invariants(stage.app), (request.method, request.path[:200])

    run()
    assert deep_check(stage.app) == []


# Regressions from the security review: each is a clean answer, and nothing is stored when refused -----------

def rows(app) -> dict:
    """Return every row a hostile request could change, for comparing before and after."""
    with app.app_context():
        return {
            "post": sorted(db.session.execute(select(Post.id, Post.seq, Post.rev, Post.text, Post.hidden,
                                                     Post.merged_into_id, Post.merged_at, Post.merged_by_table_id,
                                                     Post.merged_by_organiser_id)).all()),
            "participant": sorted(db.session.execute(select(Participant.id, Participant.name,
                                                            Participant.organisation)).all()),
            "vote": sorted(db.session.execute(select(Vote.participant_id, Vote.post_id, Vote.dots)).all()),
            "harvest": sorted(db.session.execute(select(Harvest.table_id, Harvest.category, Harvest.text)).all()),
            "session": sorted(db.session.execute(select(Session.id, Session.last_seq, Session.last_rev,
                                                        Session.is_open, Session.phase, Session.vote_state,
                                                        Session.plan)).all(), key=repr),
        }


def refused(ack, code=None) -> None:
    """Assert a clean refusal: `ok: false`, a message, not `internal_error` (and the given code, when known)."""
    assert isinstance(ack, dict) and ack.get("ok") is False, ack
    assert ack["error"]["message"] and ack["error"]["code"] != "internal_error", ack
    if code is not None:
        assert ack["error"]["code"] == code, ack


def test_lone_surrogate_in_a_post_text_is_stored_replaced_while_other_phones_post(stage):
    """A post with a lone surrogate is stored with U+FFFD, and posts sent at the same instant are all stored."""
    app, board = stage.app, stage.board
    phones = []
    for _ in range(6):
        client = socket_client(app)
        assert client.emit("join", {"code": board.code}, callback=True)["ok"]
        phones.append(client)
    barrier, acks = threading.Barrier(len(phones)), {}

    def send(n, client):
        text_sent = "x\udfff y" if n == 0 else f"Idée honnête {n}"
        barrier.wait()
        acks[n] = client.emit("post", {"code": board.code, "client_id": f"instant-{n:04d}", "text": text_sent,
                                       "tags": {"function": "animation"}}, callback=True)

    threads = [threading.Thread(target=send, args=(n, c)) for n, c in enumerate(phones)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert acks[0]["ok"] is True and acks[0]["post"]["text"] == "x\ufffd y", acks[0]
    assert all(acks[n]["ok"] for n in range(1, len(phones))), acks
    with app.app_context():
        texts = set(db.session.scalars(select(Post.text).where(Post.client_id.like("instant-%"))))
    assert texts == {"x\ufffd y", *(f"Idée honnête {n}" for n in range(1, len(phones)))}
    assert deep_check(app) == []


@pytest.mark.parametrize("field_name", ["code", "name", "organisation"])
def test_lone_surrogate_in_a_join_field_is_a_clean_answer(stage, field_name):
    """A surrogate in a join's code is an unknown code; in a name or organisation it is stored as U+FFFD."""
    before = rows(stage.app)
    payload = {"code": stage.board.code, "token": stage.participant_tokens[0], field_name: "Cam\udfffille"}
    ack = stage.clients["stranger"].emit("join", payload, callback=True)
    if field_name == "code":
        refused(ack, "unknown_code")
        assert rows(stage.app) == before
    else:
        assert ack["ok"] is True and ack["participant"][field_name] == "Cam\ufffdille", ack
    for route in ("join", "posts"):
        path = f"/api/sessions/{stage.board.code}/{route}"
        body = {field_name: "Cam\udfffille", "token": stage.participant_tokens[0], "client_id": "surrogate-0001",
                "text": "t", "tags": {"function": "animation"}}
        response = stage.http["anonymous"].post(path, data=json.dumps(body), content_type="application/json")
        check_response(SimpleNamespace(method="POST", path=path, who="anonymous"), response)
    assert deep_check(stage.app) == []


def test_lone_surrogate_in_a_harvest_text_is_stored_replaced(stage):
    """A host's harvest with a lone surrogate is stored with U+FFFD, not refused with an internal error."""
    ack = stage.clients["stranger"].emit("harvest_save", {"token": stage.host_tokens[0], "category": "missions",
                                                          "text": "a\udfffb"}, callback=True)
    assert ack["ok"] is True and ack["text"] == "a\ufffdb", ack
    assert deep_check(stage.app) == []


@pytest.mark.parametrize("field_name,event_name,sender", [
    ("since", "watch", "stranger"), ("rev", "watch", "stranger"), ("post_id", "post_hide", "organiser"),
    ("post_id", "post_restore", "organiser"), ("post_id", "host_merge", "stranger"), ("into", "host_merge", "stranger"),
    ("post_id", "host_unmerge", "stranger"), ("post_id", "post_merge", "organiser"), ("into", "post_merge", "organiser"),
    ("post_id", "post_unmerge", "organiser")])
@pytest.mark.parametrize("number", [2**63, 2**64, -(2**63) - 1])
def test_integers_no_database_holds_are_invalid_fields(stage, field_name, event_name, sender, number):
    """since, rev, post_id and into of 2**63 and more (or below -2**63) are `invalid_field`, and change nothing."""
    payload = {"code": stage.cafe.code, "token": stage.host_tokens[0], "since": 1, "rev": 1,
               "post_id": stage.post_ids[2], "into": stage.post_ids[3], field_name: number}
    before = rows(stage.app)
    refused(stage.clients[sender].emit(event_name, payload, callback=True), "invalid_field")
    assert rows(stage.app) == before


@pytest.mark.parametrize("key", [str(2**63), str(2**64), "²", "١"])
def test_vote_keys_that_are_no_post_id_are_invalid_votes(stage, key):
    """A `dots` key of 2**63 or more, or a Unicode digit, is `invalid_vote`, and the previous dots stay."""
    before = rows(stage.app)
    refused(stage.clients["phone"].emit("vote", {"code": stage.board.code, "dots": {key: 1}}, callback=True),
            "invalid_vote")
    assert rows(stage.app) == before


def test_watch_since_2_64_is_an_invalid_field(stage):
    """`watch {since: 2**64}` is `invalid_field`."""
    refused(stage.clients["stranger"].emit("watch", {"code": stage.board.code, "since": 2**64}, callback=True),
            "invalid_field")


def test_http_posts_since_2_64_is_a_400(stage):
    """`GET /api/sessions/<code>/posts?since=18446744073709551616` is `400 invalid_field`."""
    response = stage.http["anonymous"].get(f"/api/sessions/{stage.board.code}/posts?since=18446744073709551616")
    assert response.status_code == 400, response.get_data()[:300]
    assert response.get_json()["error"]["code"] == "invalid_field"


@pytest.mark.parametrize("category", [[], {}, ["missions"], {"missions": 1}])
def test_harvest_category_that_is_no_text_is_an_unknown_category(stage, category):
    """`harvest_save` with a list or object `category` is `unknown_category`, and nothing is stored."""
    before = rows(stage.app)
    ack = stage.clients["stranger"].emit("harvest_save", {"token": stage.host_tokens[0], "category": category,
                                                          "text": "x"}, callback=True)
    refused(ack, "unknown_category")
    assert rows(stage.app) == before


def test_plan_of_a_world_cafe_without_live_tables_is_refused(stage):
    """`world_cafe.plan` on a world café whose tables are all retired is a clean refusal, and no plan is stored."""
    app = stage.app
    bare = world_cafe_event(app, slug="bare-cafe")
    with app.app_context():
        for table in db.session.scalars(select(Table).where(Table.session_id == bare.id)):
            table.removed = True
        db.session.commit()
    assert stage.clients["phone"].emit("join", {"code": bare.code}, callback=True)["ok"]
    before = rows(app)
    refused(stage.clients["organiser"].emit("world_cafe.plan", {"code": bare.code}, callback=True))
    assert rows(app) == before


@pytest.mark.parametrize("route", ["join", "posts"])
@pytest.mark.parametrize("body", [b"[" * 1000 + b"]" * 1000, b'{"a":' * 1000 + b"1" + b"}" * 1000,
                                  b'{"token": ' + b"[" * 1000 + b"]" * 1000 + b"}"])
def test_deeply_nested_json_to_the_http_api_is_a_400(stage, route, body):
    """A JSON body nested 1,000 deep to join or posts is `400 invalid_payload`, and nothing is stored."""
    before = rows(stage.app)
    response = stage.http["anonymous"].post(f"/api/sessions/{stage.board.code}/{route}", data=body,
                                            content_type="application/json")
    assert response.status_code == 400, response.get_data()[:300]
    assert response.get_json()["error"]["code"] in ("invalid_payload", "invalid_field", "not_joined")
    assert rows(stage.app) == before


def test_a_registration_list_with_a_huge_field_is_refused_cleanly(stage):
    """A CSV whose one field exceeds what the csv module reads is refused with a message, not a 500."""
    body, content_type = upload(stage.csrf["organiser"],
                                ("name,organisation\n" + "Camille" + "x" * 140_000 + ",MES\n").encode())
    before = rows(stage.app)
    response = stage.http["organiser"].post(f"/console/s/{stage.board.code}/registrations", data=body,
                                            content_type=content_type)
    assert response.status_code < 500, response.status_code
    assert rows(stage.app) == before


def upload(csrf_token: str, content: bytes) -> tuple[bytes, str]:
    """A multipart registration upload of `content`, with the CSRF token."""
    boundary = "b0undary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf_token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="list.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_registration_list_with_control_characters_in_names_is_stored_clean(stage):
    """Names and organisations from a CSV lose NUL and control characters, as a phone's do, and never cause a 500."""
    body, content_type = upload(stage.csrf["organiser"],
                                "name,organisation\nDomi\x00nique,M\x1bES\nLéa\x7f,CAF\x00\n".encode())
    response = stage.http["organiser"].post(f"/console/s/{stage.board.code}/registrations", data=body,
                                            content_type=content_type)
    assert response.status_code < 500, response.status_code
    with stage.app.app_context():
        listed = db.session.execute(select(Participant.name, Participant.organisation)
                                    .where(Participant.listed.is_(True))).all()
    assert all(not _UNSTORABLE.search(value or "") for row in listed for value in row), listed
    assert deep_check(stage.app) == []


@pytest.mark.parametrize("email", ["orga\x00@example.org", "\x00", "orga@example.org\x00"])
def test_a_sign_in_with_nul_in_the_address_is_refused_cleanly(stage, email):
    """A NUL byte in the sign-in address (which PostgreSQL cannot compare) is a refused sign-in, not a 500."""
    http = stage.http["anonymous"]
    response = http.post("/login", data={"email": email, "password": "correct-horse-battery",
                                         "csrf_token": stage.csrf["anonymous"]})
    assert response.status_code in (200, 400, 401), response.status_code
    assert "Location" not in response.headers
