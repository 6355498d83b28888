"""`rouages rehearse`: a crowd of real Socket.IO phones, hosts and an organiser runs the demo event on a real server."""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from collections import Counter

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from app.cli import cli
from app.rehearsal import builtin_corpus
from app.services.eventfile import load
from app.services.events import demo_text
from databases import BACKEND
from server import ROUAGES, Server
from workshops import registry

pytestmark = pytest.mark.server


def rehearse(srv: Server, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `rouages rehearse demo …` against a running server, on its data directory and database."""
    return subprocess.run([*ROUAGES, "rehearse", "demo", "--url", srv.url, *args], env={**srv.env, **(env or {})},
                          capture_output=True, text=True, timeout=120)


def database(srv: Server) -> str:
    """Return the URL of the server's database, to read what was stored."""
    return srv.env.get("ROUAGES_DATABASE_URL") or f"sqlite:///{srv.data_dir / 'rouages.db'}"


def rows(srv: Server, query: str, **params) -> list:
    """Return the rows of a query on the server's database."""
    engine = create_engine(database(srv))
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query), params))
    finally:
        engine.dispose()


POSTS = ('SELECT s.key, p.text, p.participant_id, p.id, p.tags FROM post p JOIN "session" s ON s.id = p.session_id '
         "WHERE p.id > :after ORDER BY p.id")


def fresh_demo(directory, databases, **env: str) -> Server:
    """Return a server (not started) with the demo event imported and nothing else, on its own database."""
    srv = Server(directory, extra_env={**env, **({} if BACKEND == "sqlite" else
                                                 {"ROUAGES_DATABASE_URL": databases.empty_url()})})
    srv.prepare("--demo", "demo", organiser=False)
    return srv


def posted(srv: Server, after: int = 0) -> list[tuple]:
    """Return (session key, text, tags) of every post after id `after`, sorted: what a run chose, whatever the timing."""
    return sorted((p.key, p.text, json.dumps(p.tags if isinstance(p.tags, dict) else json.loads(p.tags), sort_keys=True))
                  for p in rows(srv, POSTS, after=after))


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory, databases):
    """A demo server on which a crowd of 12 (seed 7) has run; the run's output and what it posted."""
    with fresh_demo(tmp_path_factory.mktemp("rehearsed") / "data", databases) as srv:
        srv.run = rehearse(srv, "--participants", "12", "--seed", "7")
        srv.posted = posted(srv)
        yield srv


def typed_from(text: str, source: str) -> bool:
    """Whether a phone of the rehearsal could have typed `text` from the corpus's `source`."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", source) if not unicodedata.combining(c)).lower()
    if text in (source, source.upper(), plain, f"{source} !!"):
        return True
    return len(text) == len(source) - 1 and any(source[:i] + source[i + 1:] == text for i in range(len(source)))


def test_the_builtin_corpus_is_large_and_every_tag_names_an_item_of_the_demo():
    corpus = builtin_corpus()
    demo = load(demo_text(), registry())
    items = {fw["key"]: {i["key"] for i in fw["items"]} for fw in demo["frameworks"]}
    # A format's own frameworks too: the duos and the kind of post, the round table's speakers.
    for item in (item for day in demo["programme"] for item in day["items"] if "workshop" in item):
        fmt = registry()[item["workshop"]]
        items.update({fw["key"]: {i["key"] for i in fw["items"]} for fw in fmt.frameworks(item, demo, [])})
    assert len(corpus.ideas) >= 250 and len(corpus.harvest) >= 45
    assert len({t.text for t in corpus.ideas}) == len(corpus.ideas)
    for entry in corpus.ideas + corpus.harvest:
        assert 0 < len(entry.text) <= 200
        assert all(value in items[key] for key, value in entry.tags.items()), entry
    for function in items["function"]:
        for category in items["category"]:
            assert sum(t.tags == {"function": function, "category": category} for t in corpus.ideas) >= 10
            assert sum(t.tags == {"function": function, "category": category} for t in corpus.harvest) >= 3


def test_a_crowd_runs_every_live_session_of_the_demo_and_the_outcome_is_stored(rehearsed):
    demo, done = rehearsed, rehearsed.run
    assert done.returncode == 0, done.stdout + done.stderr
    sessions = {r.key: r for r in rows(demo, 'SELECT id, key, title, code, workshop, phase, vote_state FROM "session"')}
    assert len(sessions) == 7
    for session in sessions.values():
        assert f"{session.title} ({session.workshop}, {session.code})\n  joined 12 (" in done.stdout
    assert "errors 0.\n" in done.stdout and "error:" not in done.stderr

    posts = [p for p in rows(demo, POSTS, after=0) if p.participant_id <= 12]
    corpus = {t.text for t in builtin_corpus().ideas}
    by_session = Counter(p.key for p in posts)
    # The diagnostic takes answers, not posts: every other session has ideas.
    assert set(by_session) == set(sessions) - {"diagnostic"} and min(by_session.values()) >= 12
    # Now and then typed with a slip (capitals, no accents, a letter dropped, « !! »): still one of the corpus's ideas.
    assert all(any(typed_from(p.text, t) for t in corpus) for p in posts)
    assert any(p.text not in corpus for p in posts), "some ideas are typed with a slip"
    for key, count in by_session.items():
        summary = done.stdout.split(f"({sessions[key].workshop}, {sessions[key].code})\n")[1].splitlines()[0]
        assert f"posts acked {count}," in summary
    # Every post carries the required frameworks: the café's function, the workshops' relation and practice.
    for post in posts:
        tags = post.tags if isinstance(post.tags, dict) else json.loads(post.tags)
        required = {"world-cafe-fonctions": {"function"}, "arbres-a-idees": {"movement"},
                    "ateliers-relations": {"relation", "practice"}}.get(post.key, set())
        assert required <= set(tags), post
        # Roots and fruits stay closed (nobody opened them): the crowd never names a closed item.
        assert post.key != "arbres-a-idees" or tags.get("part") in (None, "leaf"), post
    # The world café went through every step and five hosts wrote three categories each.
    cafe = sessions["world-cafe-fonctions"]
    assert cafe.phase == "done"
    # Its hosts answered grouping suggestions: « the same » only for two ideas typed from one corpus text.
    answered = rows(demo, "SELECT d.same, a.text AS first, b.text AS second FROM group_decision d "
                          "JOIN post a ON a.id = d.post_id JOIN post b ON b.id = d.other_id WHERE d.session_id = :id",
                    id=cafe.id)
    assert answered and f"suggestions answered {len(answered)}," in done.stdout
    for decision in answered:
        sources = [{t for t in corpus if typed_from(text, t)} for text in (decision.first, decision.second)]
        assert bool(decision.same) == bool(sources[0] & sources[1]), decision
    # The keep/stop/create grid too, its phones posting through each topic's table into a cell of the grid.
    grid = sessions["ateliers-relations"]
    assert (grid.workshop, grid.phase, grid.vote_state) == ("keep_stop_create", "done", "revealed")
    harvests = rows(demo, "SELECT h.category, h.text FROM harvest h JOIN session_table t ON t.id = h.table_id "
                          "WHERE t.session_id = :id AND h.text <> ''", id=cafe.id)
    assert len(harvests) == 15 and {h.category for h in harvests} == {"missions", "actions", "besoins"}
    assert "harvests written 15" in done.stdout
    hosts = rows(demo, "SELECT host_participant_id FROM session_table WHERE session_id = :id", id=cafe.id)
    assert all(h.host_participant_id is not None for h in hosts)
    # Every session with ideas had its vote: stored dots, revealed; questions rise by upvotes instead.
    for session in (s for s in sessions.values() if s.key not in ("diagnostic", "duos", "table-ronde")):
        assert session.vote_state == "revealed"
        voters = rows(demo, "SELECT DISTINCT participant_id FROM vote WHERE session_id = :id", id=session.id)
        assert len(voters) >= 6
    # The duos and the round table: takeaways and questions upvoted, the round table's all reviewed first.
    for key in ("duos", "table-ronde"):
        session = sessions[key]
        assert (session.phase, session.vote_state) == ("done", "none")
        summary = done.stdout.split(f"({session.workshop}, {session.code})\n")[1].splitlines()[0]
        upvotes = rows(demo, "SELECT COUNT(*) AS n FROM upvote WHERE session_id = :id", id=session.id)[0].n
        assert upvotes >= 6 and "upvotes acked " in summary
        counted = rows(demo, "SELECT SUM(upvotes) AS n, SUM(CASE WHEN answered THEN 1 ELSE 0 END) AS answered "
                             "FROM post WHERE session_id = :id", id=session.id)[0]
        assert counted.n == upvotes and counted.answered >= 2
    held = rows(demo, "SELECT COUNT(*) AS n FROM post WHERE session_id = :id AND held", id=sessions["table-ronde"].id)
    assert held[0].n == 0 and "questions reviewed " in done.stdout
    duo_tags = [json.loads(p.tags) if isinstance(p.tags, str) else p.tags for p in posts if p.key == "duos"]
    assert {t["kind"] for t in duo_tags} == {"takeaway", "question"} and len({t["duo"] for t in duo_tags}) == 4
    # The facilitator wrote each duo's key lessons and recorded the speakers' words, one without consent.
    written = {r.key: json.loads(r.data) if isinstance(r.data, str) else r.data for r in rows(
        demo, "SELECT f.key, f.data FROM format_record f JOIN \"session\" s ON s.id = f.session_id "
              "WHERE s.key IN ('duos', 'table-ronde')")}
    facilitator = builtin_corpus().facilitator
    for duo in {t["duo"] for t in duo_tags}:
        assert written[f"lessons:{duo}"]["lessons"] == [t.text for t in facilitator if t.tags.get("duo") == duo]
    quotes = [data for key, data in written.items() if key.startswith("quote:")]
    assert len(quotes) == 4 and sorted(q["consent"] for q in quotes) == [False, True, True, True]
    # In the diagnostic every phone named one of a few teams and the teams answered every function.
    diagnostic = sessions["diagnostic"]
    keys = [r.key for r in rows(demo, "SELECT key FROM format_record WHERE session_id = :id", id=diagnostic.id)]
    teams = [k for k in keys if k.startswith("team:")]
    assert 1 <= len(teams) <= 5 and sum(k.startswith("member:") for k in keys) == 12
    assert sum(k.startswith("answer:") for k in keys) == 5 * len(teams)
    summary = done.stdout.split(f"(diagnostic, {diagnostic.code})\n")[1].splitlines()[0]
    assert "posts acked 0," in summary and "format actions acked " in summary
    # Twelve participants, some named with their organisation, most anonymous.
    people = rows(demo, "SELECT name, organisation FROM participant WHERE id <= 12")
    assert len(people) == 12
    named = [p for p in people if p.name]
    assert 0 < len(named) < 12 and any(p.organisation for p in named)
    assert all(p.organisation is None for p in people if not p.name)


def test_a_corpus_file_gives_the_texts_posted_and_harvested(rehearsed, tmp_path):
    csv_file = tmp_path / "ideas.csv"
    csv_file.write_text("id,text,theme\n1,Un jardin partagé au pied des immeubles,x\n2,\"Un atelier vélo, le samedi\",y\n"
                        "3,Une navette vers le marché,z\n", "utf-8")
    last = max(p.id for p in rows(rehearsed, POSTS, after=0))
    done = rehearse(rehearsed, "--participants", "5", "--seed", "1", "--corpus", str(csv_file))
    assert done.returncode == 0, done.stdout + done.stderr
    given = {"Un jardin partagé au pied des immeubles", "Un atelier vélo, le samedi", "Une navette vers le marché"}
    texts = {p.text for p in rows(rehearsed, POSTS, after=last)}
    assert all(any(typed_from(text, source) for source in given) for text in texts)
    assert {source for source in given for text in texts if typed_from(text, source)} == given
    # The hosts of this run wrote their harvest from the same texts, over the built-in corpus's.
    harvests = rows(rehearsed, "SELECT text FROM harvest WHERE text <> ''")
    assert len(harvests) == 15 and all(line in given for h in harvests for line in h.text.splitlines())

    jsonl = tmp_path / "ideas.jsonl"
    jsonl.write_text('{"text": "Une cantine bio pour les écoles", "tags": {"function": "support"}}\n\n'
                     '{"text": "Un festival des coopératives"}\n', "utf-8")
    last = max(p.id for p in rows(rehearsed, POSTS, after=0))
    done = rehearse(rehearsed, "--participants", "3", "--seed", "1", "--corpus", str(jsonl))
    assert done.returncode == 0, done.stdout + done.stderr
    given = {"Une cantine bio pour les écoles", "Un festival des coopératives"}
    texts = {p.text for p in rows(rehearsed, POSTS, after=last)}
    assert {source for source in given for text in texts if typed_from(text, source)} == given
    assert all(any(typed_from(text, source) for source in given) for text in texts)


def test_a_bad_corpus_file_is_refused_before_anything_happens(tmp_path):
    bad = {"no-text.csv": ("idea,theme\nUne idée,x\n", "no `text` column"),
           "broken.jsonl": ('{"text": "Une idée"}\n{"text": \n', "line 2 is not JSON"),
           "list.jsonl": ('["Une idée"]\n', "line 1 is not an object with a `text` field"),
           "long.jsonl": (json.dumps({"text": "x" * 501}) + "\n", "the text has 501 characters; a post takes at most 500"),
           "empty.csv": ("text\n\n", "no text found")}
    runner = CliRunner()
    for name, (content, message) in bad.items():
        (tmp_path / name).write_text(content, "utf-8")
        refused = runner.invoke(cli, ["rehearse", "demo", "--participants", "3", "--data", str(tmp_path / "data"),
                                      "--corpus", str(tmp_path / name)])
        assert refused.exit_code == 2, refused.output
        assert message in refused.output and "--corpus" in refused.output
    (tmp_path / "latin1.csv").write_bytes("text\nUne idée\n".encode("latin-1"))
    for name, message in (("nowhere.csv", "cannot be read"), ("latin1.csv", "not UTF-8 text")):
        refused = runner.invoke(cli, ["rehearse", "demo", "--participants", "3", "--corpus", str(tmp_path / name)])
        assert refused.exit_code == 2 and message in refused.output, refused.output
    assert not (tmp_path / "data").exists()  # refused before the data directory was even opened


def test_the_same_seed_posts_the_same_texts_and_the_crowd_keeps_to_the_join_limit(rehearsed, tmp_path, databases):
    assert rehearsed.run.returncode == 0
    # A fresh server replays the run (the same participants in the same order, seats, texts and tags), while it
    # takes 5 new phones at once, then 2 a second: the crowd, reading the same settings, paces its joins.
    limits = {"ROUAGES_LIMIT_JOINS_BURST": "5", "ROUAGES_LIMIT_JOINS_PER_MINUTE": "120"}
    with fresh_demo(tmp_path / "again", databases, **limits) as again:
        replay = rehearse(again, "--participants", "12", "--seed", "7")
        assert replay.returncode == 0, replay.stdout + replay.stderr
        assert "Pacing the first joins: the server takes 5 new phones at once, then 120 a minute" in replay.stdout
        assert posted(again) == rehearsed.posted
        # Another seed posts other texts; a crowd unaware of the limit is refused, waits as told and joins all the same.
        last = max(p.id for p in rows(again, POSTS, after=0))
        other = rehearse(again, "--participants", "9", "--seed", "8", env={"ROUAGES_LIMIT_JOINS_BURST": "0"})
        assert other.returncode == 0, other.stdout + other.stderr
        assert "Pacing" not in other.stdout and "joined 9 (" in other.stdout
        assert re.search(r"joined 9 \(\d+ named\), [^\n]*, waits for a rate limit [1-9]\d*, errors 0", other.stdout)
        first_nine = [p for p in rows(again, POSTS, after=0) if p.participant_id <= 9 and p.id <= last]
        assert sorted(p.text for p in rows(again, POSTS, after=last)) != sorted(p.text for p in first_nine)


def test_rehearse_without_a_server_or_with_an_unknown_event_fails_clearly(rehearsed):
    env = {k: v for k, v in rehearsed.env.items() if k.startswith("ROUAGES_")}
    runner = CliRunner()
    gone = runner.invoke(cli, ["rehearse", "demo", "--participants", "2", "--url", "http://127.0.0.1:9"], env=env)
    assert gone.exit_code == 1 and "No Rouages server answers at http://127.0.0.1:9" in gone.output, gone.output
    unknown = runner.invoke(cli, ["rehearse", "nope", "--participants", "2", "--url", rehearsed.url], env=env)
    assert unknown.exit_code == 1 and "No event has the slug 'nope'" in unknown.output, unknown.output
