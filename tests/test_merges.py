"""Merging duplicates: the kept idea shows what was merged into it, every screen and the author are told, and a
merge is recorded and can be undone by the host who made it or by an organiser."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Post, Session, Table, Vote
from app.services import eventfile, moderation, sessions, votes
from conftest import events_named, import_file, socket_client
from workshops import registry


@pytest.fixture
def cafe(app, read, event, console, wall):
    """A world café in round 1: an author at table A with three ideas, one at table B, screens watching."""
    item = registry()["world_cafe"].example
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    session = import_file(app, eventfile.dump(doc)).sessions[0]
    tables = read(lambda: [(t.id, t.key, t.code, t.host_token)
                           for t in db.session.scalars(select(Table).order_by(Table.position))])
    read(lambda: sessions.set_phase(db.session.get(Session, session.id), "round_1"))
    author = socket_client(app)
    neighbour = socket_client(app)
    token = author.emit("join", {"code": tables[0][2], "name": "Camille"}, callback=True)["participant"]["token"]
    assert neighbour.emit("join", {"code": tables[1][2], "name": "Léa"}, callback=True)["ok"]
    texts = ["Un poste d'animateur", "un poste animateur !", "Une salle commune"]
    ids = [author.emit("post", {"code": tables[0][2], "client_id": f"merge-a-{n:04d}", "text": text},
                       callback=True)["post"]["id"] for n, text in enumerate(texts)]
    other = neighbour.emit("post", {"code": tables[1][2], "client_id": "merge-b-0000", "text": "Autre table"},
                           callback=True)["post"]["id"]
    host, other_host = socket_client(app), socket_client(app)
    assert host.emit("host_join", {"token": tables[0][3]}, callback=True)["ok"]
    assert other_host.emit("host_join", {"token": tables[1][3]}, callback=True)["ok"]
    for screen in (console, wall):
        assert screen.emit("watch", {"code": session.code}, callback=True)["ok"]
    clients = {"wall": wall, "console": console, "host": host, "author": author, "neighbour": neighbour}
    for client in clients.values():
        client.get_received()
    yield SimpleNamespace(session=session, tables=tables, ids=ids, texts=texts, other=other, author=author, token_of=token,
                          host=host, other_host=other_host, token=tables[0][3], clients=clients)
    for client in (author, neighbour, host, other_host):
        if client.is_connected():
            client.disconnect()


def stored(read) -> list[tuple]:
    """Every post row a merge touches, in id order."""
    return read(lambda: [(p.id, p.rev, p.hidden, p.merged_into_id, p.merged_at is not None, p.merged_by_table_id,
                          p.merged_by_organiser_id) for p in db.session.scalars(select(Post).order_by(Post.id))])


def test_a_host_merge_reaches_every_screen_and_the_author_and_is_recorded(cafe, read, wall):
    duplicate, kept = cafe.ids[1], cafe.ids[0]
    ack = cafe.host.emit("host_merge", {"token": cafe.token, "post_id": duplicate, "into": kept}, callback=True)
    assert ack["ok"] is True, ack
    assert ack["post"]["hidden"] is True and ack["post"]["merged_into"] == kept
    assert ack["post"]["kept"] == {"id": kept, "seq": 1, "text": cafe.texts[0]}
    [entry] = ack["into"]["merged"]
    assert {k: entry[k] for k in ("id", "seq", "text", "author", "by", "table")} == {
        "id": duplicate, "seq": 2, "text": cafe.texts[1], "author": "Camille", "by": "host", "table": cafe.tables[0][1]}
    assert entry["merged_at"].endswith("Z")
    # Every screen and every phone of the session gets the same payload, the author's included.
    for name, client in cafe.clients.items():
        assert events_named(client, "post_merged") == [{"code": cafe.session.code, "post": ack["post"],
                                                        "into": ack["into"]}], name
    table_id = cafe.tables[0][0]
    rows = {row[0]: row for row in stored(read)}
    assert rows[duplicate][2:] == (True, kept, True, table_id, None)
    assert rows[kept][2:] == (False, None, False, None, None)
    assert {rows[duplicate][1], rows[kept][1]} == {ack["post"]["rev"], ack["into"]["rev"]}

    # A resync shows the same: the wall's card carries the merged text, the host's too, the author's phone the group.
    watched = wall.emit("watch", {"code": cafe.session.code}, callback=True)
    assert [(p["id"], [m["text"] for m in p["merged"]]) for p in watched["posts"]] == [
        (kept, [cafe.texts[1]]), (cafe.ids[2], []), (cafe.other, [])]
    changed = wall.emit("watch", {"code": cafe.session.code, "since": 4, "rev": 4}, callback=True)["changed"]
    assert [(p["id"], p["hidden"], "text" in p) for p in changed] == [(kept, False, True), (duplicate, True, False)]
    assert changed[0]["merged"] == ack["into"]["merged"]
    hosted = cafe.host.emit("host_join", {"token": cafe.token}, callback=True)
    assert [(p["id"], len(p["merged"])) for p in hosted["posts"]] == [(kept, 1), (cafe.ids[2], 0)]
    rejoined = cafe.author.emit("join", {"code": cafe.tables[0][2], "token": cafe.token_of},
                                callback=True)
    mine = {p["id"]: p for p in rejoined["posts"]}
    assert mine[duplicate]["kept"] == {"id": kept, "seq": 1, "text": cafe.texts[0]}


def test_the_host_undoes_their_merge_and_every_screen_gets_both_ideas_back(cafe, read, wall):
    before = stored(read)
    merged = cafe.host.emit("host_merge", {"token": cafe.token, "post_id": cafe.ids[1], "into": cafe.ids[0]},
                            callback=True)
    for client in cafe.clients.values():
        client.get_received()
    ack = cafe.host.emit("host_unmerge", {"token": cafe.token, "post_id": cafe.ids[1]}, callback=True)
    assert ack["ok"] is True, ack
    assert ack["post"]["hidden"] is False and ack["post"]["merged_into"] is None and ack["post"]["kept"] is None
    assert ack["into"]["merged"] == []
    assert ack["post"]["rev"] > merged["post"]["rev"] and ack["into"]["rev"] > merged["into"]["rev"]
    for name, client in cafe.clients.items():
        assert events_named(client, "post_unmerged") == [{"code": cafe.session.code, "post": ack["post"],
                                                          "into": ack["into"]}], name
    # The rows are as before the merge, but for their new revisions.
    assert [row[:1] + row[2:] for row in stored(read)] == [row[:1] + row[2:] for row in before]
    watched = wall.emit("watch", {"code": cafe.session.code}, callback=True)
    assert [(p["id"], p["merged"]) for p in watched["posts"]] == [
        (cafe.ids[0], []), (cafe.ids[1], []), (cafe.ids[2], []), (cafe.other, [])]


def test_organisers_merge_and_undo_any_merge_a_host_cannot_undo_theirs(cafe, read, console):
    code = cafe.session.code
    ack = console.emit("post_merge", {"code": code, "post_id": cafe.ids[2], "into": cafe.ids[0]}, callback=True)
    assert ack["ok"] is True and ack["into"]["merged"][0]["by"] == "organiser", ack
    assert read(lambda: db.session.get(Post, cafe.ids[2]).merged_by_organiser_id) is not None
    before = stored(read)
    refused = cafe.host.emit("host_unmerge", {"token": cafe.token, "post_id": cafe.ids[2]}, callback=True)
    assert refused["error"]["code"] == "not_your_merge"
    assert stored(read) == before
    # A host's merge is undone by an organiser, with `post_unmerge` or by restoring the duplicate.
    assert cafe.host.emit("host_merge", {"token": cafe.token, "post_id": cafe.ids[1], "into": cafe.ids[0]},
                          callback=True)["ok"]
    assert console.emit("post_unmerge", {"code": code, "post_id": cafe.ids[1]}, callback=True)["ok"]
    restored = console.emit("post_restore", {"code": code, "post_id": cafe.ids[2]}, callback=True)
    assert restored["ok"] and restored["post"]["hidden"] is False and restored["post"]["merged_into"] is None
    assert events_named(cafe.author, "post_unmerged")[-1]["into"]["merged"] == []
    assert [row[2:] for row in stored(read)] == [(False, None, False, None, None)] * 4


@pytest.mark.parametrize("case,code", [
    ("into itself", "invalid_merge"),
    ("into another session's post", "unknown_post"),
    ("into another table's post", "unknown_post"),
    ("into a merged post", "merge_target_merged"),
    ("into a hidden post", "invalid_merge"),
    ("a merged post again", "already_hidden"),
    ("a post others are merged into", "merge_chain"),
    ("undo of a post not merged", "not_merged"),
    ("undo by another table's host", "unknown_post"),
])
def test_a_refused_merge_or_undo_has_its_code_and_changes_nothing(cafe, read, console, phone, case, code):
    ids = cafe.ids
    assert cafe.host.emit("host_merge", {"token": cafe.token, "post_id": ids[1], "into": ids[0]}, callback=True)["ok"]
    elsewhere = next(s for s in read(lambda: db.session.scalars(select(Session)).all()) if s.id != cafe.session.id)
    assert phone.emit("join", {"code": elsewhere.code}, callback=True)["ok"]
    foreign = phone.emit("post", {"code": elsewhere.code, "client_id": "merge-foreign", "text": "Ailleurs",
                                  "tags": {"function": "animation"}}, callback=True)["post"]["id"]
    if case == "into a hidden post":
        assert console.emit("post_hide", {"code": cafe.session.code, "post_id": ids[2]}, callback=True)["ok"]
    before = stored(read)
    host = {"token": cafe.token}
    event, payload, client = {
        "into itself": ("host_merge", {**host, "post_id": ids[2], "into": ids[2]}, cafe.host),
        "into another session's post": ("post_merge", {"code": cafe.session.code, "post_id": ids[2], "into": foreign},
                                        console),
        "into another table's post": ("host_merge", {**host, "post_id": ids[2], "into": cafe.other}, cafe.host),
        "into a merged post": ("host_merge", {**host, "post_id": ids[2], "into": ids[1]}, cafe.host),
        "into a hidden post": ("host_merge", {**host, "post_id": ids[0], "into": ids[2]}, cafe.host),
        "a merged post again": ("host_merge", {**host, "post_id": ids[1], "into": ids[2]}, cafe.host),
        "a post others are merged into": ("host_merge", {**host, "post_id": ids[0], "into": ids[2]}, cafe.host),
        "undo of a post not merged": ("post_unmerge", {"code": cafe.session.code, "post_id": ids[2]}, console),
        "undo by another table's host": ("host_unmerge", {"token": cafe.tables[1][3], "post_id": ids[1]},
                                         cafe.other_host),
    }[case]
    for other in cafe.clients.values():
        other.get_received()
    ack = client.emit(event, payload, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == code and ack["error"]["message"], ack
    assert stored(read) == before
    assert not [m for c in cafe.clients.values() for m in c.get_received()
                if m["name"] in ("post_merged", "post_unmerged", "post_hidden", "post_restored")]


def test_merged_ideas_count_once_on_the_kept_one_in_votes_and_synthesis(app, cafe, read, console):
    code = cafe.session.code
    assert console.emit("vote_open", {"code": code, "budget": 5, "max_per_post": 2}, callback=True)["ok"]
    assert cafe.author.emit("vote", {"code": code, "dots": {str(cafe.ids[1]): 2, str(cafe.ids[2]): 1}},
                            callback=True)["ok"]
    assert cafe.host.emit("host_merge", {"token": cafe.token, "post_id": cafe.ids[1], "into": cafe.ids[0]},
                          callback=True)["ok"]
    revealed = console.emit("vote_reveal", {"code": code}, callback=True)["vote"]["results"]
    assert [(r["post_id"], r["dots"]) for r in revealed] == [(cafe.ids[0], 2), (cafe.ids[2], 1)]
    assert read(lambda: db.session.query(Vote).count()) == 2  # the dots themselves are kept, for an undo
    with app.test_request_context():
        session = db.session.get(Session, cafe.session.id)
        assert {k: [p.id for p in v] for k, v in moderation.merged_posts(session).items()} == {cafe.ids[0]: [cafe.ids[1]]}
        synthesis = registry()["world_cafe"].synthesise(session)
        table = synthesis["tables"][0]
        assert (synthesis["total"], table["total"], table["merged"]) == (3, 2, 1)
        assert votes.results(session)[0]["post_id"] == cafe.ids[0]


@pytest.mark.server
def test_a_merge_and_its_undoing_reach_real_clients_of_a_real_server(tmp_path, server_env):
    """Under gevent, python-socketio clients (wall, console, author's phone) each get the merge and the undo."""

    from conftest import DATA
    from server import Server
    from test_server import Recorder, organiser_cookie, wait_until

    srv = Server(tmp_path / "data", extra_env=server_env)
    sessions_listed = srv.prepare(str(DATA / "small.yaml"), "petite-rencontre")
    code = next(s["code"] for s in sessions_listed
                if s["key"] == "world-cafe")
    with srv:
        console = Recorder(srv.url, {"Cookie": organiser_cookie(srv)})
        wall, author, other = Recorder(srv.url), Recorder(srv.url), Recorder(srv.url)
        assert console.call("watch", {"code": code})["ok"] and wall.call("watch", {"code": code})["ok"]
        assert author.call("join", {"code": code, "name": "Camille"})["ok"]
        assert other.call("join", {"code": code})["ok"]
        ids = [author.call("post", {"code": code, "client_id": f"real-merge-{n}", "text": text,
                                    "tags": {"function": "animation"}})["post"]["id"]
               for n, text in enumerate(["Un poste partagé", "un poste partagé !"])]
        merged = console.call("post_merge", {"code": code, "post_id": ids[1], "into": ids[0]})
        assert merged["ok"], merged
        clients = [console, wall, author, other]
        wait_until(lambda: all(c.got("post_merged") for c in clients))
        for client in clients:
            assert client.got("post_merged") == [{"code": code, "post": merged["post"], "into": merged["into"]}]
        assert [p["id"] for p in wall.call("watch", {"code": code})["posts"]] == [ids[0]]
        undone = console.call("post_unmerge", {"code": code, "post_id": ids[1]})
        assert undone["ok"] and undone["into"]["merged"] == [], undone
        wait_until(lambda: all(c.got("post_unmerged") for c in clients))
        for client in clients:
            assert client.got("post_unmerged") == [{"code": code, "post": undone["post"], "into": undone["into"]}]
        assert [p["id"] for p in wall.call("watch", {"code": code})["posts"]] == ids
        for client in clients:
            client.client.disconnect()
