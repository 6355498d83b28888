"""Questions that rise, through a real `rouages serve` and real python-socketio clients: upvotes racing from 100
phones, the review queue, answered and spotlight, merged questions, two duos in parallel.

Runs on SQLite, and on PostgreSQL with ROUAGES_TEST_DB=postgresql.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import socketio
from sqlalchemy import create_engine, text

from server import Server
from test_server import organiser_cookie

pytestmark = pytest.mark.server

EVENT = """
slug: questions
title: Questions qui montent
programme:
  - date: "2026-06-10"
    items:
      - id: table-ronde
        start: "14:00"
        end: "15:45"
        title: Politiques publiques et coopérations territoriales, quels enjeux ?
        kind: round_table
        workshop: round_table
        question: Quelle question poseriez-vous aux intervenants ?
        speakers:
          - {name: Anne-Laure Federici, role: Animation, organisation: RTES}
          - {name: Patricia Andriot, role: Vice-présidente, organisation: RTES}
      - id: duos
        start: "09:30"
        end: "11:00"
        title: Retours d’expérience en duo
        kind: duo
        workshop: duo
        settings: {parallel: true}
        duos:
          - title: Alimentation durable et locale
            authority: {name: Felix Degrave, role: Chargé de mission, organisation: Agglomération de Lens-Liévin}
            cooperation: {name: Dominique Hays, role: Fondateur, organisation: Ecopôle Alimentaire}
          - title: Habitat inclusif
            authority: {name: Ville de Lille, role: Commune partenaire, organisation: Ville de Lille}
            cooperation: {name: Didier Sparels, role: Directeur, organisation: APF Nord-Pas-de-Calais}
      - id: tableau
        start: "11:00"
        end: "11:30"
        title: Ce que nous retenons
        workshop: board
        question: Quelle leçon retenez-vous ?
"""
# Every phone of these tests comes from 127.0.0.1, standing for a room of addresses: the per-address limits are off.
NO_ADDRESS_LIMITS = {"ROUAGES_LIMIT_WEBSOCKETS_PER_ADDRESS": "0", "ROUAGES_LIMIT_CONNECTS_BURST": "0",
                     "ROUAGES_LIMIT_JOINS_BURST": "0"}
TIMEOUT = 20


@pytest.fixture
def server(tmp_path, server_env):
    """A real server with the Q&A event imported and an organiser; `sessions` maps item ids to `rouages sessions`."""
    srv = Server(tmp_path / "data", extra_env={**server_env, **NO_ADDRESS_LIMITS})
    event = tmp_path / "questions.yaml"
    event.write_text(EVENT, encoding="utf-8")
    srv.sessions = {s["key"]: s for s in srv.prepare(str(event), "questions")}
    srv.database = server_env.get("ROUAGES_DATABASE_URL") or f"sqlite:///{srv.data_dir / 'rouages.db'}"
    with srv:
        yield srv


class Client:
    """A real Socket.IO client that records every event it receives, in order of arrival."""

    def __init__(self, url: str, headers: dict | None = None):
        self.events: list[tuple[str, object]] = []
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._record)
        self.sio.connect(url, transports=["websocket"], wait_timeout=10, headers=headers or {})

    def _record(self, event, data=None):
        with self.lock:
            self.events.append((event, data))

    def call(self, event: str, data: dict) -> dict:
        return self.sio.call(event, data, timeout=TIMEOUT)

    def got(self, event: str) -> list:
        with self.lock:
            return [data for name, data in self.events if name == event]

    def everything(self) -> str:
        """Every event received, as one JSON text (to look for a text that must not be there)."""
        with self.lock:
            return json.dumps(self.events, ensure_ascii=False)

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


def wait_until(check, timeout: float = TIMEOUT) -> None:
    """Wait until check() is true; fail the test if it never is."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the clients"
        time.sleep(0.05)


def console_of(srv) -> Client:
    return Client(srv.url, {"Cookie": organiser_cookie(srv)})


def screen(srv, code: str, organiser: bool = False) -> Client:
    """A wall (or, organiser=True, a console) watching a session."""
    client = console_of(srv) if organiser else Client(srv.url)
    assert client.call("watch", {"code": code})["ok"]
    return client


OPEN_PHASE = {"round_table": "questions", "duo": "duos", "board": None}


def moderator(srv, key: str) -> Client:
    """A console watching a session, moved to the step where the room posts its questions."""
    session = srv.sessions[key]
    console = screen(srv, session["code"], organiser=True)
    if OPEN_PHASE[session["workshop"]]:
        ack = console.call("phase_set", {"code": session["code"], "phase": OPEN_PHASE[session["workshop"]]})
        assert ack["ok"] and ack["is_open"], ack
    return console


def phone(srv, code: str, name: str = "Camille") -> Client:
    client = Client(srv.url)
    ack = client.call("join", {"code": code, "name": name})
    assert ack["ok"], ack
    client.joined = ack
    return client


def ask(client: Client, code: str, text: str, tags: dict | None = None, **extra) -> dict:
    """Post a question from a joined phone and return the ack."""
    ack = client.call("post", {"code": code, "client_id": f"q-{time.monotonic_ns()}", "text": text,
                               "tags": tags or {}, **extra})
    assert ack["ok"], ack
    return ack["post"]


def in_parallel(fn, items: list) -> list:
    """Run fn(item) in one thread per item, released together; return the results in order."""
    barrier = threading.Barrier(len(items))
    results: list = [None] * len(items)
    errors: list[BaseException] = []

    def run(index, item):
        try:
            barrier.wait(timeout=TIMEOUT)
            results[index] = fn(item)
        except BaseException as exc:  # surfaced below, with the test's own assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, item)) for i, item in enumerate(items)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 3)
    assert errors == []
    return results


def stored(srv, sql: str, **params):
    """Read the server's database directly (the rows as stored, not as any client was told)."""
    engine = create_engine(srv.database)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def stored_upvotes(srv, post_id: int) -> tuple[int, int]:
    """The post's stored count and its Upvote rows."""
    (count,), = stored(srv, "SELECT upvotes FROM post WHERE id = :id", id=post_id)
    (rows,), = stored(srv, "SELECT count(*) FROM upvote WHERE post_id = :id", id=post_id)
    return count, rows


def spotlight(client: Client) -> dict | None:
    """The spotlights of the last format state a client received (None before any)."""
    states = client.got("format_state")
    return states[-1]["state"].get("spotlight") if states else None


def upvote(client: Client, code: str, post_id, on=True) -> dict:
    return client.call("upvote", {"code": code, "post_id": post_id, "on": on})


# ---------------------------------------------------------------------------------------------------------------


def test_upvotes_racing_from_100_phones_are_counted_exactly_once_each(server):
    code = server.sessions["table-ronde"]["code"]
    console = moderator(server, "table-ronde")
    walls = [screen(server, code), screen(server, code)]
    author = phone(server, code, "Autrice")
    question = ask(author, code, "Comment financer les coopérations dans la durée ?")
    assert question["upvotes"] == 0 and question["answered"] is False and question["held"] is False
    phones = in_parallel(lambda i: phone(server, code, f"Téléphone {i}"), list(range(100)))

    acks = in_parallel(lambda p: upvote(p, code, question["id"]), phones)
    assert all(ack["ok"] and ack["mine"] is True and ack["post_id"] == question["id"] for ack in acks), acks
    assert max(ack["upvotes"] for ack in acks) == 100
    assert stored_upvotes(server, question["id"]) == (100, 100)

    # Every phone resends its upvote (a retry after a lost ack): still one per person.
    again = in_parallel(lambda p: upvote(p, code, question["id"]), phones)
    assert [(a["ok"], a["mine"], a["upvotes"]) for a in again] == [(True, True, 100)] * 100
    assert stored_upvotes(server, question["id"]) == (100, 100)

    withdrawn = in_parallel(lambda p: upvote(p, code, question["id"], on=False), phones[:40])
    assert all(a["ok"] and a["mine"] is False for a in withdrawn), withdrawn
    assert min(a["upvotes"] for a in withdrawn) == 60
    assert stored_upvotes(server, question["id"]) == (60, 60)

    screens = [console, *walls]
    wait_until(lambda: all(not s.sio.connected or (s.got("upvotes") and s.got("upvotes")[-1]["upvotes"] == 60)
                           for s in screens))
    time.sleep(0.5)  # a late, stale count would arrive now
    # On a machine loaded enough for a screen's socket to drop, that screen resyncs as a wall does, by watching again.
    dropped = [s for s in screens if not s.sio.connected]
    assert len(dropped) < len(screens), "every screen lost its connection"
    for _client in dropped:
        again = screen(server, code)
        assert [p["upvotes"] for p in again.call("watch", {"code": code})["posts"] if p["id"] == question["id"]] == [60]
        again.close()
    for client in (s for s in screens if s not in dropped):
        counts = [e for e in client.got("upvotes") if e["id"] == question["id"]]
        assert counts[-1] == {"code": code, "id": question["id"], "upvotes": 60, "rev": counts[-1]["rev"]}
        # The highest revision carries the final count, whatever order the frames came in.
        assert max(counts, key=lambda e: e["rev"])["upvotes"] == 60
    # A phone that joins again learns what it upvoted.
    assert phone_rejoin(server, phones[50], code)["upvoted"] == [question["id"]]
    assert phone_rejoin(server, phones[0], code)["upvoted"] == []
    for client in [*screens, author, *phones]:
        client.close()


def phone_rejoin(srv, client: Client, code: str) -> dict:
    return client.call("join", {"code": code, "token": client.joined["participant"]["token"]})


def test_an_upvote_is_refused_on_a_hidden_held_or_unknown_question_and_outside_q_and_a(server):
    code = server.sessions["table-ronde"]["code"]
    console = moderator(server, "table-ronde")
    voter = phone(server, code, "Voter")
    hidden = ask(voter, code, "Une question qu’on masque")
    assert console.call("post_hide", {"code": code, "post_id": hidden["id"]})["ok"]
    assert console.call("review_set", {"code": code, "review": True})["ok"]
    held = ask(voter, code, "Une question en attente")
    assert held["held"] is True and held["hidden"] is True
    for post_id in (hidden["id"], held["id"], 987654):
        ack = upvote(voter, code, post_id)
        assert ack["ok"] is False and ack["error"]["code"] == "unknown_post", (post_id, ack)
    for bad in ("1", None, True, -1):
        assert upvote(voter, code, bad)["error"]["code"] == "invalid_field", bad
    assert voter.call("upvote", {"code": code, "post_id": hidden["id"], "on": "yes"})["error"]["code"] == "invalid_field"
    stranger = Client(server.url)
    assert upvote(stranger, code, hidden["id"])["error"]["code"] == "not_joined"

    board = server.sessions["tableau"]["code"]
    other = phone(server, board)
    idea = ask(other, board, "Une idée de tableau")
    ack = upvote(other, board, idea["id"])
    assert ack["error"]["code"] == "no_upvotes"
    assert stored(server, "SELECT count(*) FROM upvote") == [(0,)]
    assert stored(server, "SELECT upvotes FROM post WHERE id IN (:a, :b, :c) ORDER BY id",
                  a=hidden["id"], b=held["id"], c=idea["id"]) == [(0,), (0,), (0,)]
    for client in (console, voter, stranger, other):
        client.close()


def test_the_review_queue_keeps_a_question_from_walls_and_phones_until_a_moderator_lets_it_through(server):
    code = server.sessions["table-ronde"]["code"]
    console = moderator(server, "table-ronde")
    wall = screen(server, code)
    author, neighbour = phone(server, code, "Autrice"), phone(server, code, "Voisin")
    ack = console.call("review_set", {"code": code, "review": True})
    assert ack["ok"] and ack["review"] is True
    wait_until(lambda: any(s.get("review") is True for s in neighbour.got("session_state")))

    held = ask(author, code, "Qui porte le risque financier des coopérations ?")
    assert (held["held"], held["hidden"], held["author"]) == (True, True, None)
    refused = ask(author, code, "Une question que le modérateur refuse")
    wait_until(lambda: len(console.got("post")) == 2)
    assert [(p["id"], p["held"], p["text"]) for p in console.got("post")] == [
        (held["id"], True, held["text"]), (refused["id"], True, refused["text"])]
    listed = wall.call("watch", {"code": code})["posts"]
    assert [p["id"] for p in listed] == []

    assert console.call("post_approve", {"code": code, "post_id": held["id"]})["ok"]
    assert console.call("post_reject", {"code": code, "post_id": refused["id"]})["ok"]
    for client in (wall, neighbour):
        wait_until(lambda client=client: client.got("post_restored"))
    time.sleep(0.5)
    for client in (wall, neighbour):
        restored = client.got("post_restored")
        assert [(p["id"], p["text"], p["held"], p["hidden"]) for p in restored] == [
            (held["id"], held["text"], False, False)]
        # Nothing with a held text reached a wall or another phone before the moderator let it through, and the
        # rejected one never did: not as a post, not in a state, not in a count.
        assert refused["text"] not in client.everything()
        assert held["text"] not in json.dumps([e for e in client.events if e[0] != "post_restored"],
                                              ensure_ascii=False)
    assert [p["id"] for p in wall.call("watch", {"code": code})["posts"]] == [held["id"]]
    rows = stored(server, "SELECT id, held, hidden FROM post ORDER BY id")
    assert [tuple(r) for r in rows] == [(held["id"], False, False), (refused["id"], False, True)]
    # The rejected question is an ordinary hidden post now: an upvote on it is refused.
    assert upvote(neighbour, code, refused["id"])["error"]["code"] == "unknown_post"
    for client in (console, wall, author, neighbour):
        client.close()


def test_answered_and_spotlight_reach_phones_and_walls(server):
    code = server.sessions["table-ronde"]["code"]
    console = moderator(server, "table-ronde")
    wall = screen(server, code)
    author, reader = phone(server, code, "Autrice"), phone(server, code, "Lecteur")
    signed = ask(author, code, "Quelle place pour l’État en région ?", signed=True)
    anonymous = ask(author, code, "Comment simplifier les dossiers ?")
    assert (signed["author"], anonymous["author"]) == ("Autrice", None)
    wait_until(lambda: len(reader.got("post")) == 2)  # a Q&A's phones receive every question live

    ack = console.call("question_answered", {"code": code, "post_id": signed["id"], "answered": True})
    assert ack["ok"]
    for client in (wall, reader, author):
        wait_until(lambda client=client: client.got("post_updated"))
        (updated,) = client.got("post_updated")
        assert (updated["id"], updated["answered"], updated["text"], updated["author"]) == (
            signed["id"], True, signed["text"], "Autrice")

    assert console.call("question_spotlight", {"code": code, "post_id": anonymous["id"], "on": True})["ok"]
    for client in (wall, reader):
        wait_until(lambda client=client: client.got("format_state"))
        [sent] = client.got("format_state")
        assert sent == {"code": code, "state": {"spotlight": {"": anonymous["id"]}}, "srev": sent["srev"]}
    assert console.call("question_spotlight", {"code": code, "post_id": anonymous["id"], "on": False})["ok"]
    wait_until(lambda: spotlight(wall) == {})
    assert stored(server, "SELECT answered FROM post ORDER BY id") == [(True,), (False,)]
    for name, payload in (("question_answered", {"post_id": signed["id"], "answered": False}),
                          ("question_spotlight", {"post_id": signed["id"], "on": True}),
                          ("review_set", {"review": True}), ("post_approve", {"post_id": signed["id"]}),
                          ("post_reject", {"post_id": signed["id"]})):
        assert reader.call(name, {"code": code, **payload})["error"]["code"] == "forbidden", name
    assert stored(server, "SELECT answered, hidden FROM post ORDER BY id") == [(True, False), (False, False)]
    for client in (console, wall, author, reader):
        client.close()


def test_votes_on_merged_questions_count_on_the_kept_one_once_per_person(server):
    code = server.sessions["table-ronde"]["code"]
    console = moderator(server, "table-ronde")
    wall = screen(server, code)
    author = phone(server, code, "Autrice")
    kept = ask(author, code, "Comment partager les risques ?")
    duplicate = ask(author, code, "Comment partager le risque ?")
    a, b, c = (phone(server, code, name) for name in ("A", "B", "C"))
    assert upvote(a, code, kept["id"])["upvotes"] == 1
    assert upvote(a, code, duplicate["id"])["upvotes"] == 1
    assert upvote(b, code, duplicate["id"])["upvotes"] == 2
    merged = console.call("post_merge", {"code": code, "post_id": duplicate["id"], "into": kept["id"]})
    # A, who upvoted both, counts once; B counts on the kept question; the walls learn it with the merge.
    assert merged["into"]["upvotes"] == 2
    for client in (console, wall):
        wait_until(lambda client=client: client.got("post_merged"))
        assert client.got("post_merged")[0]["into"]["upvotes"] == 2
    assert stored(server, "SELECT upvotes FROM post WHERE id = :id", id=kept["id"]) == [(2,)]
    # A phone that has not heard of the merge yet upvotes the duplicate: it counts on the kept question.
    ack = upvote(c, code, duplicate["id"])
    assert (ack["ok"], ack["post_id"], ack["upvotes"], ack["mine"]) == (True, kept["id"], 3, True)
    assert upvote(b, code, kept["id"])["upvotes"] == 3
    assert stored(server, "SELECT upvotes FROM post WHERE id = :id", id=kept["id"]) == [(3,)]
    wait_until(lambda: [e["upvotes"] for e in wall.got("upvotes") if e["id"] == kept["id"]][-1:] == [3])
    # Withdrawing through either id takes the person's upvote off the kept question.
    assert upvote(a, code, duplicate["id"], on=False)["upvotes"] == 2
    assert upvote(a, code, kept["id"], on=False)["mine"] is False
    assert stored(server, "SELECT upvotes FROM post WHERE id = :id", id=kept["id"]) == [(2,)]
    assert stored(server, "SELECT participant_id FROM upvote ORDER BY participant_id") == [
        (b.joined["participant"]["id"],), (c.joined["participant"]["id"],)]
    assert phone_rejoin(server, b, code)["upvoted"] == [kept["id"]]
    for client in (console, wall, author, a, b, c):
        client.close()


def test_two_duos_in_parallel_keep_their_questions_upvotes_and_spotlights(server):
    session = server.sessions["duos"]
    code = session["code"]
    tables = {t["key"]: t["code"] for t in session["tables"]}
    assert sorted(tables) == ["alimentation-durable-et-locale", "habitat-inclusif"]
    food, housing = tables["alimentation-durable-et-locale"], tables["habitat-inclusif"]
    console = moderator(server, "duos")
    walls = {key: screen(server, table) for key, table in tables.items()}
    food_phones = [phone(server, food, f"Alim {i}") for i in range(3)]
    housing_phones = [phone(server, housing, f"Habitat {i}") for i in range(3)]
    question = {"kind": "question"}
    q_food = ask(food_phones[0], food, "Quel modèle économique pour l’écopôle ?", question)
    q_housing = ask(housing_phones[0], housing, "Combien de logements partagés ?", question)
    assert q_food["tags"] == {"duo": "alimentation-durable-et-locale", "kind": "question"}
    assert q_housing["tags"] == {"duo": "habitat-inclusif", "kind": "question"}
    in_parallel(lambda p: upvote(p, food, q_food["id"]), food_phones)
    in_parallel(lambda p: upvote(p, housing, q_housing["id"]), housing_phones[:2])
    assert stored(server, "SELECT id, upvotes FROM post ORDER BY id") == [(q_food["id"], 3), (q_housing["id"], 2)]

    assert console.call("question_spotlight", {"code": code, "post_id": q_food["id"], "on": True})["ok"]
    assert console.call("question_spotlight", {"code": code, "post_id": q_housing["id"], "on": True})["ok"]
    wait_until(lambda: all(len(spotlight(w) or {}) == 2 for w in walls.values()))
    for wall in walls.values():
        assert spotlight(wall) == {"alimentation-durable-et-locale": q_food["id"],
                                                             "habitat-inclusif": q_housing["id"]}
    # Spotlighting another question of one duo replaces that duo's only.
    q_food2 = ask(food_phones[1], food, "Qui finance la filière bio ?", question)
    assert console.call("question_spotlight", {"code": code, "post_id": q_food2["id"], "on": True})["ok"]
    wait_until(lambda: spotlight(walls["habitat-inclusif"])
               == {"alimentation-durable-et-locale": q_food2["id"], "habitat-inclusif": q_housing["id"]})
    # A table's duo is imposed: a question sent from the housing table is the housing duo's, whatever it says.
    stray = ask(housing_phones[2], housing, "Et la gouvernance ?", {"duo": "alimentation-durable-et-locale",
                                                                    "kind": "question"})
    assert stray["tags"] == {"duo": "habitat-inclusif", "kind": "question"}
    for client in (console, *walls.values(), *food_phones, *housing_phones):
        client.close()
