"""What a hostile or broken client sends: clean refusals that change nothing, limits, paging, a full disk."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import Harvest, Participant, Post, Session, Table, Vote
from app.services import posting, sessions
from conftest import DATA, base_config, import_file, socket_client
from workshops import registry

BIG = 2**64


def join(client, code, **extra):
    """Join a session and return the ack."""
    return client.emit("join", {"code": code, **extra}, callback=True)


def post(client, code, client_id, text="Une idée", tags=None):
    """Post an idea and return the ack."""
    tags = {"function": "animation"} if tags is None else tags
    return client.emit("post", {"code": code, "client_id": client_id, "text": text, "tags": tags}, callback=True)


def stored(read, model) -> int:
    """Return how many rows of a model are stored."""
    return read(lambda: db.session.scalar(select(func.count(model.id))))


@pytest.fixture
def cafe_tables(app, read):
    """The world-café example imported; returns (session, [(key, code, host_token)])."""
    item = registry()["world_cafe"].example
    from app.services import eventfile

    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    session = import_file(app, eventfile.dump(doc)).sessions[0]
    read(lambda: sessions.set_phase(db.session.get(Session, session.id), "round_1"))
    tables = read(lambda: [(t.key, t.code, t.host_token) for t in db.session.query(Table).order_by(Table.position)])
    return session, tables


@pytest.fixture
def limited_app(tmp_path, databases, migrated_db):
    """Make an application on its own database with some settings changed (limits, page size)."""
    made = []

    def make(**settings):
        config = base_config(tmp_path, databases.copy_url(migrated_db, tmp_path))
        made.append(create_app({**config, **settings}))
        return made[-1]

    yield make
    for application in made:
        with application.app_context():
            db.engine.dispose()
        engine = application.extensions.get("rouages.post_engine")
        if engine is not None:
            engine.dispose()


def small_cafe(app):
    """Import the small event into `app` and return its world-café session."""
    return next(s for s in import_file(app, DATA / "small.yaml").sessions if s.key == "world-cafe")


def count_in(app, model) -> int:
    """Return how many rows of a model `app` stores."""
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


# Text a database cannot store --------------------------------------------------------------------------------

def test_lone_surrogates_in_a_post_are_replaced_and_stored(read, phone, cafe):
    join(phone, cafe.code)
    ack = post(phone, cafe.code, "surrogate-1", text="x\udfff y \ud83d")
    assert ack["ok"] is True
    assert ack["post"]["text"] == "x\ufffd y \ufffd"
    assert read(lambda: db.session.scalar(select(Post.text))) == "x\ufffd y \ufffd"


def test_lone_surrogates_and_nul_in_a_name_are_cleaned(read, phone, cafe):
    ack = join(phone, cafe.code, name="Cam\udfffille\x00", organisation="MES\ud800 Bray")
    assert ack["ok"] is True
    assert (ack["participant"]["name"], ack["participant"]["organisation"]) == ("Cam\ufffdille", "MES\ufffd Bray")
    assert read(lambda: db.session.scalar(select(Participant.name))) == "Cam\ufffdille"


def test_codes_and_tokens_that_cannot_exist_are_unknown_not_errors(read, phone, cafe):
    assert join(phone, "XSD\udfffQF")["error"]["code"] == "unknown_code"
    assert join(phone, "X" * 10_000)["error"]["code"] == "unknown_code"
    ack = join(phone, cafe.code, token="t\udfff" * 8)
    assert ack["ok"] is True  # a token naming nobody gives a new participant
    assert phone.emit("host_join", {"token": "h\udfff" * 8}, callback=True)["error"]["code"] == "unknown_host_link"
    assert stored(read, Participant) == 1


def test_a_harvest_with_surrogates_is_cleaned_and_a_non_text_category_refused(app, read, cafe_tables):
    _session, tables = cafe_tables
    host = socket_client(app)
    token = tables[0][2]
    for category in ([], {}, 3, None):
        ack = host.emit("harvest_save", {"token": token, "category": category, "text": "x"}, callback=True)
        assert ack["error"]["code"] == "unknown_category", category
    ack = host.emit("harvest_save", {"token": token, "category": "missions", "text": "a\udfffb\x00\nc"},
                    callback=True)
    assert ack["ok"] is True and ack["text"] == "a\ufffdb\nc"
    assert read(lambda: [h.text for h in db.session.query(Harvest)]) == ["a\ufffdb\nc"]


# Numbers no database integer holds ---------------------------------------------------------------------------

def test_huge_cursors_and_ids_are_refused_as_invalid_fields(read, phone, wall, console, cafe):
    join(phone, cafe.code)
    stored_post = post(phone, cafe.code, "big-ints-1")["post"]
    for payload in ({"since": BIG}, {"rev": BIG, "since": 1}, {"since": 2**63}, {"since": 2**31}, {"since": -1},
                    {"since": 1.5}):
        ack = wall.emit("watch", {"code": cafe.code, **payload}, callback=True)
        assert ack["error"]["code"] == "invalid_field", payload
    top = wall.emit("watch", {"code": cafe.code, "since": 2**31 - 1, "rev": 2**31 - 1}, callback=True)
    assert (top["ok"], top["posts"], top["changed"]) == (True, [], [])  # the largest cursor: nothing after it
    for event in ("post_hide", "post_restore"):
        for post_id in (BIG, 2**31):
            ack = console.emit(event, {"code": cafe.code, "post_id": post_id}, callback=True)
            assert ack["error"]["code"] == "invalid_field"
        assert console.emit(event, {"code": cafe.code, "post_id": 2**31 - 1}, callback=True)["error"]["code"] \
            == "unknown_post"
    assert read(lambda: db.session.get(Post, stored_post["id"]).hidden) is False


def test_huge_or_unicode_digit_vote_keys_are_refused(read, phone, console, cafe):
    join(phone, cafe.code)
    target = post(phone, cafe.code, "vote-keys-1")["post"]["id"]
    assert console.emit("vote_open", {"code": cafe.code, "budget": 3, "max_per_post": 2}, callback=True)["ok"]
    for key in ("²", "١", str(BIG), "-1", " 1", "1e3", ""):
        ack = phone.emit("vote", {"code": cafe.code, "dots": {key: 1}}, callback=True)
        assert ack["error"]["code"] == "invalid_vote", key
    assert stored(read, Vote) == 0
    assert phone.emit("vote", {"code": cafe.code, "dots": {str(target): 1}}, callback=True)["ok"] is True


def test_http_posts_with_a_huge_since_is_a_clean_400(client, cafe):
    assert client.get(f"/api/sessions/{cafe.code}/posts?since=2147483647").get_json()["posts"] == []
    for since in ("18446744073709551616", "2147483648", "-3", "²", "1.5"):
        response = client.get(f"/api/sessions/{cafe.code}/posts?since={since}")
        assert response.status_code == 400, since
        assert response.get_json()["error"]["code"] == "invalid_field"


# Requests that make no sense for the session -----------------------------------------------------------------

def test_a_format_action_on_a_session_of_another_format_is_refused(console, cafe):
    ack = console.emit("world_cafe.plan", {"code": cafe.code}, callback=True)
    assert ack["error"]["code"] == "wrong_format"


def test_merging_an_already_hidden_idea_is_refused_and_changes_nothing(app, read, phone, cafe_tables):
    session, tables = cafe_tables
    _key, code, token = tables[0]
    join(phone, code)
    first, second, third = (post(phone, code, f"merge-{n}-aaaa", text=f"Idée {n}", tags={})["post"]["id"]
                            for n in range(3))
    host = socket_client(app)
    assert host.emit("host_merge", {"token": token, "post_id": first, "into": second}, callback=True)["ok"]
    ack = host.emit("host_merge", {"token": token, "post_id": first, "into": third}, callback=True)
    assert ack["error"]["code"] == "already_hidden"
    assert read(lambda: db.session.get(Post, first).merged_into_id) == second
    assert host.emit("host_merge", {"token": token, "post_id": first, "into": BIG}, callback=True)["error"]["code"] \
        == "invalid_field"


def test_an_unknown_event_is_answered(phone):
    assert phone.emit("no_such_event", {"x": 1}, callback=True)["error"]["code"] == "unknown_event"


def test_deeply_nested_json_bodies_are_a_clean_400(read, client, cafe):
    nested = "[" * 100_000 + "]" * 100_000
    for path in (f"/api/sessions/{cafe.code}/join", f"/api/sessions/{cafe.code}/posts"):
        response = client.post(path, data=nested, content_type="application/json")
        assert response.status_code in (400, 413), path
        assert response.get_json()["ok"] is False
        assert response.get_json()["error"]["code"] != "internal_error"
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    response = client.post(f"/api/sessions/{cafe.code}/join", data=deep, content_type="application/json")
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "invalid_payload")
    assert stored(read, Participant) == 0


def test_json_bodies_over_64_kib_are_refused_before_parsing(client, cafe):
    body = '{"name": "' + "x" * 70_000 + '"}'
    response = client.post(f"/api/sessions/{cafe.code}/join", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["ok"] is False


# The writer: one bad post never fails the others ---------------------------------------------------------------

def test_a_post_the_database_refuses_fails_alone_and_its_batch_is_stored(app, read, event, cafe):
    with app.app_context():
        session = db.session.get(Session, cafe.id)
        people = [Participant(event_id=session.event_id, token=f"tok-{n}-" + "x" * 20) for n in range(3)]
        db.session.add_all(people)
        db.session.commit()
        batch = [posting._Pending(session_id=cafe.id, code=cafe.code, participant_id=p.id, author=None,
                                  organisation=None, client_id=f"batch-{n}-aaaa", text=text, tags={})
                 for n, (p, text) in enumerate(zip(people, ["Bonne idée", "x\udfff", "Autre idée"], strict=True))]
        posting._writer._write(batch)
    honest = [batch[0], batch[2]]
    assert [p.error for p in honest] == [None, None]
    assert [p.payload["text"] for p in honest] == ["Bonne idée", "Autre idée"]
    assert batch[1].error.code == "post_not_stored" and batch[1].payload is None
    assert read(lambda: sorted(db.session.scalars(select(Post.text)))) == ["Autre idée", "Bonne idée"]


def test_a_full_disk_refuses_posts_clearly_logs_once_and_recovers(limited_app, caplog):
    app = limited_app(LIMIT_POSTS_BURST=0)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the database is made full through SQLite's max_page_count")
    cafe = small_cafe(app)
    phone = socket_client(app)
    join(phone, cafe.code)
    writer = app.extensions["rouages.post_engine"]
    full = {"on": True}

    @sa_event.listens_for(writer, "connect")
    def cap(dbapi_connection, _record):
        if full["on"]:
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    writer.dispose()
    caplog.set_level(logging.INFO, logger=app.logger.name)
    acks = [post(phone, cafe.code, f"full-{n}-aaaa", text="Une idée assez longue " * 20) for n in range(30)]
    refused = [a for a in acks if not a["ok"]]
    assert refused and all(a["error"]["code"] == "storage_unavailable" for a in refused)
    assert "votre idée reste sur votre téléphone" in refused[0]["error"]["message"].lower()
    assert sum("Cannot write to the database" in r.message for r in caplog.records) == 1
    full["on"] = False
    writer.dispose()
    again = [post(phone, cafe.code, f"full-{n}-aaaa", text="Une idée assez longue " * 20) for n in range(30)]
    assert all(a["ok"] for a in again)
    assert count_in(app, Post) == 30  # each resend stored once
    assert sum("takes writes again" in r.message for r in caplog.records) == 1


# Limits --------------------------------------------------------------------------------------------------------

def test_a_participant_posting_too_fast_is_told_to_wait_and_others_are_not(limited_app):
    app = limited_app(LIMIT_POSTS_BURST=3, LIMIT_POSTS_PER_MINUTE=6)
    cafe = small_cafe(app)
    flooder, other = socket_client(app), socket_client(app)
    join(flooder, cafe.code)
    join(other, cafe.code)
    acks = [post(flooder, cafe.code, f"flood-{n}-aaaa") for n in range(5)]
    assert [a["ok"] for a in acks] == [True, True, True, False, False]
    assert acks[3]["error"]["code"] == "too_many_posts"
    assert 1 <= acks[3]["error"]["retry_after"] <= 10
    assert "secondes" in acks[3]["error"]["message"]
    assert post(other, cafe.code, "other-1-aaaa")["ok"] is True
    assert count_in(app, Post) == 4
    http = app.test_client()
    token = join(socket_client(app), cafe.code)["participant"]["token"]
    for n in range(3):
        http.post(f"/api/sessions/{cafe.code}/posts", json={"token": token, "client_id": f"http-{n}-aaaa",
                                                              "text": "x", "tags": {"function": "animation"}})
    response = http.post(f"/api/sessions/{cafe.code}/posts", json={"token": token, "client_id": "http-9-aaaa",
                                                                   "text": "x", "tags": {"function": "animation"}})
    assert response.status_code == 429 and response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"]["code"] == "too_many_posts"


def test_new_phones_from_one_address_are_limited_but_returning_ones_are_not(limited_app):
    app = limited_app(LIMIT_JOINS_BURST=2, LIMIT_JOINS_PER_MINUTE=1)
    cafe = small_cafe(app)
    first = join(socket_client(app), cafe.code)
    assert join(socket_client(app), cafe.code)["ok"] is True
    refused = join(socket_client(app), cafe.code)
    assert refused["error"]["code"] == "too_many_joins" and refused["error"]["retry_after"] >= 1
    assert join(socket_client(app), cafe.code, token=first["participant"]["token"])["ok"] is True
    assert count_in(app, Participant) == 2
    http = app.test_client()  # another address than the Socket.IO test clients': a bucket of its own
    statuses = [http.post(f"/api/sessions/{cafe.code}/join", json={}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert count_in(app, Participant) == 4


def test_watch_answers_come_in_pages_with_a_cursor(limited_app):
    app = limited_app(WATCH_PAGE=3)
    cafe = small_cafe(app)
    phone = socket_client(app)
    join(phone, cafe.code)
    ids = [post(phone, cafe.code, f"page-{n}-aaaa", text=f"Idée {n}")["post"]["seq"] for n in range(7)]
    wall = socket_client(app)
    pages, since = [], 0
    while since is not None:
        ack = wall.emit("watch", {"code": cafe.code, "since": since}, callback=True)
        pages.append([p["seq"] for p in ack["posts"]])
        since = ack["next"]
        assert ack["more"] is (since is not None)
    assert pages == [ids[0:3], ids[3:6], ids[6:7]]
    http = app.test_client()
    first = http.get(f"/api/sessions/{cafe.code}/posts").get_json()
    assert ([p["seq"] for p in first["posts"]], first["more"], first["next"]) == (ids[0:3], True, ids[2])
    assert [p["seq"] for p in http.get(f"/api/sessions/{cafe.code}/posts?since={ids[5]}").get_json()["posts"]] == [ids[6]]
    assert len(http.get(f"/api/sessions/{cafe.code}/posts?limit=2").get_json()["posts"]) == 2


def test_a_phone_fetching_the_vote_list_gets_it_in_pages(limited_app):
    app = limited_app(WATCH_PAGE=2)
    cafe = small_cafe(app)
    phone = socket_client(app)
    join(phone, cafe.code)
    seqs = [post(phone, cafe.code, f"vlist-{n}-aaaa")["post"]["seq"] for n in range(5)]
    first = phone.emit("watch", {"code": cafe.code}, callback=True)
    second = phone.emit("watch", {"code": cafe.code, "since": first["next"]}, callback=True)
    third = phone.emit("watch", {"code": cafe.code, "since": second["next"]}, callback=True)
    assert [[p["seq"] for p in a["posts"]] for a in (first, second, third)] == [seqs[0:2], seqs[2:4], seqs[4:]]
    assert (first["more"], second["more"], third["more"], third["next"]) == (True, True, False, None)


def test_repeated_watches_from_one_connection_are_limited(limited_app):
    app = limited_app(LIMIT_WATCH_BURST=3, LIMIT_WATCH_PER_MINUTE=1)
    cafe = small_cafe(app)
    wall, other = socket_client(app), socket_client(app)
    acks = [wall.emit("watch", {"code": cafe.code}, callback=True) for _ in range(4)]
    assert [a["ok"] for a in acks] == [True, True, True, False]
    assert acks[3]["error"]["code"] == "too_many_requests"
    assert other.emit("watch", {"code": cafe.code}, callback=True)["ok"] is True


def test_any_body_over_the_cap_is_refused_before_it_is_read(client):
    response = client.post("/login", data=b"x" * (5 * 1024 * 1024), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
