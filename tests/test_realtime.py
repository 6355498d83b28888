"""Socket.IO events through Flask-SocketIO's test client: every event, every error path, what each client receives."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Participant, Post
from conftest import events_named


def join(phone, code, **extra):
    """Join a session from a phone test client and return the ack."""
    return phone.emit("join", {"code": code, **extra}, callback=True)


def post(phone, code, client_id="c-00000001", text="Créer de la confiance", tags=None):
    """Post from a phone test client and return the ack."""
    tags = {"function": "animation"} if tags is None else tags
    return phone.emit("post", {"code": code, "client_id": client_id, "text": text, "tags": tags}, callback=True)


def count(read, model) -> int:
    """Return how many rows of a model are stored."""
    return read(lambda: db.session.scalar(select(func.count(model.id))))


def stored_post(read, post_id) -> Post:
    """Return a stored post, loaded in its own context."""
    return read(lambda: db.session.get(Post, post_id))


def test_join_creates_a_participant_and_describes_the_session(phone, cafe):
    ack = join(phone, cafe.code.lower(), name="  Camille  ", organisation="MES Pays de Bray")
    assert ack["ok"] is True
    assert ack["participant"]["name"] == "Camille"
    assert ack["participant"]["organisation"] == "MES Pays de Bray"
    assert len(ack["participant"]["token"]) >= 30
    session = ack["session"]
    assert session["code"] == cafe.code and session["is_open"] is True
    assert session["question"] == "Quelles fonctions pour développer les coopérations territoriales ?"
    assert [(f["key"], f["required"]) for f in session["frameworks"]] == [("function", True), ("category", False)]
    assert [i["key"] for i in session["frameworks"][0]["items"]] == [
        "animation", "creativite", "valorisation", "support", "gestion_de_projet"]
    assert session["frameworks"][0]["items"][1] == {"key": "creativite", "label": "Créativité"}
    assert ack["posts"] == []


def test_join_with_token_keeps_the_same_participant_across_sessions(read, app, phone, event):
    first, second = event.sessions
    ack = join(phone, first.code, name="Camille")
    again = join(app.extensions["socketio"].test_client(app), second.code, token=ack["participant"]["token"])
    assert again["participant"]["id"] == ack["participant"]["id"]
    assert again["participant"]["name"] == "Camille"
    assert count(read, Participant) == 1


def test_join_errors(read, phone, cafe):
    assert join(phone, "ZZZZZZ")["error"]["code"] == "unknown_code"
    assert phone.emit("join", "not a dict", callback=True)["error"]["code"] == "invalid_payload"
    assert phone.emit("join", None, callback=True)["error"]["code"] == "invalid_payload"
    assert join(phone, cafe.code, name=42)["error"]["code"] == "invalid_field"
    assert join(phone, cafe.code, name="x" * 81)["error"] == {
        "code": "field_too_long", "message": "Le champ name est trop long (80 caractères au maximum)."}
    assert count(read, Participant) == 0


def test_post_is_stored_acked_and_broadcast_once(read, phone, wall, cafe):
    join(phone, cafe.code, name="Camille")
    assert wall.emit("watch", {"code": cafe.code}, callback=True)["ok"]
    wall.get_received()
    ack = post(phone, cafe.code, text="  Créer   de la confiance\u200b entre acteurs  ",
               tags={"function": "animation", "category": "missions"})
    assert ack["ok"] is True
    assert ack["post"]["seq"] == 1
    assert ack["post"]["text"] == "Créer de la confiance entre acteurs"
    assert ack["post"]["tags"] == {"function": "animation", "category": "missions"}
    assert ack["post"]["author"] == "Camille"
    received = events_named(wall, "post")
    assert received == [ack["post"]]
    row = read(lambda: db.session.scalar(select(Post)))
    assert (row.text, row.seq, row.session_id, row.client_id) == (
        "Créer de la confiance entre acteurs", 1, cafe.id, "c-00000001")


def test_phones_are_sent_new_posts_only_while_a_vote_runs(app, phone, wall, console, cafe):
    other = app.extensions["socketio"].test_client(app)
    join(phone, cafe.code)
    join(other, cafe.code)
    # The vote panel fetches the ideas with `watch`: that must not subscribe a phone to every post.
    assert other.emit("watch", {"code": cafe.code}, callback=True)["ok"]
    assert console.emit("watch", {"code": cafe.code}, callback=True)["ok"]
    wall.emit("watch", {"code": cafe.code}, callback=True)
    for client in (phone, other, wall, console):
        client.get_received()
    before = post(phone, cafe.code, client_id="before-vote")["post"]
    assert events_named(other, "post") == [] and events_named(phone, "post") == []
    assert events_named(wall, "post") == [before] and events_named(console, "post") == [before]
    assert console.emit("vote_open", {"code": cafe.code, "budget": 3, "max_per_post": 2}, callback=True)["ok"]
    during = post(phone, cafe.code, client_id="during-vote")["post"]
    for client in (phone, other, wall, console):
        assert events_named(client, "post") == [during]


def test_resending_the_same_client_id_returns_the_same_post_and_broadcasts_nothing(read, phone, wall, cafe):
    join(phone, cafe.code)
    wall.emit("watch", {"code": cafe.code}, callback=True)
    first = post(phone, cafe.code)
    wall.get_received()
    again = post(phone, cafe.code, text="another text this time")
    assert again == first
    assert events_named(wall, "post") == []
    assert count(read, Post) == 1


def test_sequence_numbers_follow_post_order(phone, cafe):
    join(phone, cafe.code)
    seqs = [post(phone, cafe.code, client_id=f"client-{i:04d}")["post"]["seq"] for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]


def test_post_validation_errors_store_nothing(read, phone, wall, cafe):
    join(phone, cafe.code)
    wall.emit("watch", {"code": cafe.code}, callback=True)
    wall.get_received()
    cases = [
        ({"text": "   "}, "empty_text", "Écrivez quelque chose avant d’envoyer."),
        ({"text": "x" * 501}, "text_too_long", "Votre idée est trop longue\u00a0: 500 caractères au maximum."),
        ({"text": 12}, "invalid_field", None),
        ({"tags": {}}, "missing_tag", "Choisissez une option\u00a0: Fonctions."),
        ({"tags": {"function": "cuisine"}}, "unknown_tag", None),
        ({"tags": {"colour": "red", "function": "animation"}}, "unknown_tag", None),
        ({"tags": ["animation"]}, "invalid_tags", None),
        ({"client_id": "short"}, "invalid_client_id", None),
        ({"client_id": None}, "invalid_client_id", None),
        ({"code": "NOPE42"}, "unknown_code", None),
    ]
    for change, code, message in cases:
        payload = {"code": cafe.code, "client_id": "c-00000009", "text": "Une idée", "tags": {"function": "support"}}
        payload.update(change)
        ack = phone.emit("post", payload, callback=True)
        assert ack["ok"] is False, change
        assert ack["error"]["code"] == code, change
        assert ack["error"]["message"], change
        if message:
            assert ack["error"]["message"] == message
    assert count(read, Post) == 0
    assert events_named(wall, "post") == []


def test_text_at_the_limit_is_accepted(phone, cafe):
    join(phone, cafe.code)
    assert post(phone, cafe.code, text="é" * 500)["post"]["text"] == "é" * 500


def test_post_before_join_is_refused(read, phone, cafe):
    ack = post(phone, cafe.code)
    assert ack["error"]["code"] == "not_joined"
    assert count(read, Post) == 0


def test_post_to_a_closed_session_is_refused(read, phone, console, cafe):
    join(phone, cafe.code)
    assert console.emit("session_open", {"code": cafe.code, "open": False}, callback=True)["ok"]
    ack = post(phone, cafe.code)
    assert ack["error"] == {"code": "session_closed", "message": "Les contributions sont fermées pour cet atelier."}
    assert count(read, Post) == 0


def test_a_resend_after_posting_closed_gets_the_stored_post(read, phone, console, cafe):
    join(phone, cafe.code)
    first = post(phone, cafe.code)
    assert console.emit("session_open", {"code": cafe.code, "open": False}, callback=True)["ok"]
    assert post(phone, cafe.code) == first
    assert post(phone, cafe.code, client_id="c-00000002")["error"]["code"] == "session_closed"
    assert count(read, Post) == 1


def test_posting_closed_after_validation_stores_nothing(app, read, cafe):
    from sqlalchemy import update

    from app.models import Session
    from app.services import posting, sessions
    from app.services.errors import ServiceError

    with app.app_context():
        target = sessions.post_target(cafe.code)
        author = posting.Author(read(lambda: _participant_id(cafe.id)), "Camille", None)
        # The console closes posting on another connection while this post is being checked.
        read(lambda: (db.session.execute(update(Session).where(Session.id == cafe.id).values(is_open=False)),
                      db.session.commit()))
        try:
            posting.create_post(target, author, {"client_id": "late-post", "text": "Trop tard",
                                                  "tags": {"function": "support"}})
        except ServiceError as error:
            assert error.code == "session_closed"
        else:
            raise AssertionError("a post was stored after posting closed")
    assert count(read, Post) == 0
    assert read(lambda: db.session.get(Session, cafe.id).last_seq) == 0


def _participant_id(session_id: int) -> int:
    """Create a participant in the session's event and return its id."""
    from app.models import Session

    participant = Participant(event_id=db.session.get(Session, session_id).event_id, name="Camille", token="t" * 32)
    db.session.add(participant)
    db.session.commit()
    return participant.id


def test_watch_returns_visible_posts_after_since(phone, wall, console, cafe):
    join(phone, cafe.code)
    acks = [post(phone, cafe.code, client_id=f"client-{i:04d}")["post"] for i in range(4)]
    console.emit("post_hide", {"code": cafe.code, "post_id": acks[1]["id"]}, callback=True)
    ack = wall.emit("watch", {"code": cafe.code}, callback=True)
    assert [p["seq"] for p in ack["posts"]] == [1, 3, 4]
    assert ack["posts"][0] == acks[0]  # one wire shape, whether a post is broadcast or read back
    ack = wall.emit("watch", {"code": cafe.code, "since": 3}, callback=True)
    assert [p["seq"] for p in ack["posts"]] == [4]
    assert ack["session"]["seq"] == 4


def test_watch_after_a_disconnect_reports_hides_and_restores_it_missed(phone, wall, console, cafe):
    join(phone, cafe.code)
    posts = [post(phone, cafe.code, client_id=f"client-{i:04d}")["post"] for i in range(3)]
    seen = wall.emit("watch", {"code": cafe.code}, callback=True)
    rev = seen["session"]["rev"]
    console.emit("post_hide", {"code": cafe.code, "post_id": posts[0]["id"]}, callback=True)
    console.emit("post_hide", {"code": cafe.code, "post_id": posts[1]["id"]}, callback=True)
    console.emit("post_restore", {"code": cafe.code, "post_id": posts[1]["id"]}, callback=True)
    ack = wall.emit("watch", {"code": cafe.code, "since": 3, "rev": rev}, callback=True)
    assert ack["posts"] == []
    changed = {p["seq"]: p for p in ack["changed"]}
    assert changed[1] == {"id": posts[0]["id"], "code": cafe.code, "seq": 1, "rev": changed[1]["rev"], "hidden": True}
    assert changed[2]["hidden"] is False and changed[2]["text"] == posts[1]["text"]


def test_watch_errors(wall):
    assert wall.emit("watch", {"code": "ABCDEF"}, callback=True)["error"]["code"] == "unknown_code"
    assert wall.emit("watch", [], callback=True)["error"]["code"] == "invalid_payload"


def test_watch_rejects_a_bad_cursor(wall, cafe):
    for since in (-1, "3", 1.5, True):
        assert wall.emit("watch", {"code": cafe.code, "since": since}, callback=True)["error"]["code"] == "invalid_field"


def test_hide_and_restore_reach_every_client_and_the_wall_list(read, phone, wall, console, cafe):
    join(phone, cafe.code)
    created = post(phone, cafe.code)["post"]
    wall.emit("watch", {"code": cafe.code}, callback=True)
    wall.get_received()
    phone.get_received()
    ack = console.emit("post_hide", {"code": cafe.code, "post_id": created["id"]}, callback=True)
    assert ack["ok"] and ack["post"]["hidden"] is True
    expected = {"code": cafe.code, "id": created["id"], "seq": 1, "rev": ack["post"]["rev"], "merged_into": None}
    assert events_named(wall, "post_hidden") == [expected]
    assert events_named(phone, "post_hidden") == [expected]
    assert stored_post(read, created["id"]).hidden is True
    assert wall.emit("watch", {"code": cafe.code}, callback=True)["posts"] == []
    console_view = console.emit("watch", {"code": cafe.code}, callback=True)["posts"]
    assert [p["hidden"] for p in console_view] == [True]
    ack = console.emit("post_restore", {"code": cafe.code, "post_id": created["id"]}, callback=True)
    assert ack["post"]["hidden"] is False
    restored = events_named(wall, "post_restored")
    assert [(p["id"], p["text"], p["hidden"]) for p in restored] == [(created["id"], created["text"], False)]


def test_hiding_twice_broadcasts_once(phone, wall, console, cafe):
    join(phone, cafe.code)
    created = post(phone, cafe.code)["post"]
    wall.emit("watch", {"code": cafe.code}, callback=True)
    wall.get_received()
    for _ in range(2):
        console.emit("post_hide", {"code": cafe.code, "post_id": created["id"]}, callback=True)
    assert len(events_named(wall, "post_hidden")) == 1


def test_moderation_errors(console, cafe, event):
    other = next(s for s in event.sessions if s.key != cafe.key)
    assert console.emit("post_hide", {"code": cafe.code, "post_id": 999}, callback=True)["error"]["code"] == "unknown_post"
    assert console.emit("post_hide", {"code": cafe.code, "post_id": "1"}, callback=True)["error"]["code"] == "invalid_field"
    assert console.emit("post_restore", {"code": other.code}, callback=True)["error"]["code"] == "invalid_field"


def test_post_of_another_session_cannot_be_hidden_through_this_one(read, phone, console, event):
    first, second = event.sessions
    join(phone, first.code)
    created = post(phone, first.code)["post"]
    ack = console.emit("post_hide", {"code": second.code, "post_id": created["id"]}, callback=True)
    assert ack["error"]["code"] == "unknown_post"
    assert stored_post(read, created["id"]).hidden is False


def test_timer_start_and_stop_reach_wall_and_phones(phone, wall, console, cafe):
    join(phone, cafe.code)
    wall.emit("watch", {"code": cafe.code}, callback=True)
    phone.get_received()
    wall.get_received()
    ack = console.emit("timer_start", {"code": cafe.code, "seconds": 300}, callback=True)
    timer = ack["timer"]
    assert timer["seconds"] == 300
    assert 299_000 <= timer["ends_at"] - timer["now"] <= 300_000
    assert events_named(wall, "timer") == [timer]
    assert events_named(phone, "timer") == [timer]
    assert join(phone, cafe.code)["session"]["timer"]["ends_at"] == timer["ends_at"]
    stopped = console.emit("timer_stop", {"code": cafe.code}, callback=True)["timer"]
    assert stopped["ends_at"] is None
    assert [t["ends_at"] for t in events_named(wall, "timer")] == [None]


def test_timer_rejects_bad_durations(read, console, cafe):
    for seconds in (0, -5, 4 * 3600 + 1, "60", 1.5, True, None):
        ack = console.emit("timer_start", {"code": cafe.code, "seconds": seconds}, callback=True)
        assert ack["error"]["code"] == "invalid_timer", seconds
    from app.models import Session

    assert read(lambda: db.session.get(Session, cafe.id).timer_ends_at) is None


def test_open_and_close_reach_every_client(phone, wall, console, cafe):
    opening = join(phone, cafe.code)["session"]["opening"]
    wall.emit("watch", {"code": cafe.code}, callback=True)
    phone.get_received()
    wall.get_received()
    closed = console.emit("session_open", {"code": cafe.code, "open": False}, callback=True)
    assert closed == {"ok": True, "code": cafe.code, "is_open": False, "opening": None, "review": False,
                      "srev": closed["srev"]}
    state = {"code": cafe.code, "is_open": False, "opening": None, "review": False, "srev": closed["srev"]}
    assert events_named(wall, "session_state") == [state]
    assert events_named(phone, "session_state") == [state]
    assert console.emit("session_open", {"code": cafe.code, "open": "yes"}, callback=True)["error"]["code"] == "invalid_field"
    # Each opening is numbered: phones stamp their ideas with it (see test_closing.py).
    assert console.emit("session_open", {"code": cafe.code, "open": True}, callback=True)["opening"] == opening + 1
    assert post(join(phone, cafe.code) and phone, cafe.code)["ok"] is True


def test_organiser_events_are_refused_to_participants(read, phone, wall, cafe):
    join(phone, cafe.code)
    created = post(phone, cafe.code)["post"]
    for client in (phone, wall):
        for name, payload in [("session_open", {"open": False}), ("timer_start", {"seconds": 60}),
                              ("timer_stop", {}), ("post_hide", {"post_id": created["id"]}),
                              ("post_restore", {"post_id": created["id"]})]:
            ack = client.emit(name, {"code": cafe.code, **payload}, callback=True)
            assert ack["error"] == {"code": "forbidden", "message": "Seule l’équipe d’organisation peut faire cela."}, name
    from app.models import Session

    stored = read(lambda: db.session.get(Session, cafe.id))
    assert stored.is_open is True and stored.timer_ends_at is None
    assert stored_post(read, created["id"]).hidden is False


def test_posts_do_not_leak_to_other_sessions(phone, wall, event):
    first, second = event.sessions
    wall.emit("watch", {"code": second.code}, callback=True)
    wall.get_received()
    join(phone, first.code)
    post(phone, first.code)
    assert events_named(wall, "post") == []


def test_a_participant_token_is_only_valid_in_its_event(read, app, phone, cafe):
    from conftest import DATA, import_file

    other_event = import_file(app, (DATA / "small.yaml").read_text("utf-8").replace("petite-rencontre", "autre"))
    token = join(phone, cafe.code)["participant"]["token"]
    other_phone = app.extensions["socketio"].test_client(app)
    ack = join(other_phone, other_event.sessions[0].code, token=token)
    assert ack["participant"]["token"] != token


def test_signing_out_revokes_an_open_console_connection(app, cafe, organiser):
    import re

    from conftest import login, socket_client

    http = app.test_client()
    login(http)
    console = socket_client(app, http)
    assert console.emit("timer_start", {"code": cafe.code, "seconds": 60}, callback=True)["ok"]
    page = http.get("/console/").get_data(as_text=True)
    http.post("/logout", data={"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]})
    ack = console.emit("timer_stop", {"code": cafe.code}, callback=True)
    assert ack["error"]["code"] == "forbidden"


def test_a_post_reaches_the_disk_before_it_is_acknowledged(app, phone, cafe, monkeypatch):
    import os

    from sqlalchemy import text

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        import pytest

        pytest.skip("SQLite's write-ahead log")
    database = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    synced = []
    fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), fsync(fd))[1])
    join(phone, cafe.code)
    assert post(phone, cafe.code)["ok"]
    # The writer's connection commits without waiting for the disk, then syncs the log itself, before the ack.
    assert synced == [f"{database}-wal"]
    with app.app_context():
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL for everything else
        with app.extensions["rouages.post_engine"].connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_packets_find_binary_values_as_python_socketio_does(app):
    from collections import OrderedDict

    from socketio.packet import Packet as Stock

    from app.extensions import Packet, socketio

    samples = [None, 1, 1.5, "x", b"x", bytearray(b"y"), [], {}, [1, [2, {"a": bytearray(b"1")}]],
               {"a": [{"b": "c"}]}, [{"k": {"t": "u"}} for _ in range(10)], {"x": [1, (b"in a tuple",)]},
               OrderedDict(a=[b"z"]), {"a": {"b": {"c": [None, True, {"d": b""}]}}}, ("t", b"x")]
    assert [Packet.data_is_binary(s) for s in samples] == [Stock.data_is_binary(s) for s in samples]
    assert [Packet.data_is_binary(s) for s in samples].count(True) == 5
    assert socketio.server.packet_class is Packet
