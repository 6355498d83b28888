"""The idea tree: branches and parts as frameworks, roots and fruits opened from the console, synthesis and booklet."""

from __future__ import annotations

import subprocess

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Event, Post, Session
from app.services import eventfile, joining, moderation, posting, sessions, votes
from app.services.events import demo_text
from carnet.restitution import environment
from conftest import events_named, import_file, socket_client
from workshops import registry

ITEM = {"id": "arbre", "start": "14:00", "end": "15:00", "title": "Arbre à idées", "workshop": "idea_tree",
        "question": "Comment faire vivre une coopération ?",
        "tags": [{"framework": "function"}]}


def tree_event(item: dict | None = None) -> str:
    """Return an event file holding one idea tree."""
    return eventfile.dump({"slug": "arbres", "title": "Arbres",
                           "programme": [{"date": "2026-06-09", "items": [item or ITEM]}]})


@pytest.fixture
def tree(app, read):
    """An idea tree growing (posting open): its code and id."""
    session = import_file(app, tree_event()).sessions[0]
    read(lambda: sessions.set_phase(db.session.get(Session, session.id), "grow"))
    return session


def send(phone, code, text, tags, n=[0]):  # noqa: B006 - a counter shared by every call, for unique client ids
    """Post from a phone test client and return the ack."""
    n[0] += 1
    return phone.emit("post", {"code": code, "client_id": f"tree-{n[0]:06d}", "text": text, "tags": tags},
                      callback=True)


def stored(read) -> list[tuple]:
    """Return every stored post as (text, tags)."""
    return read(lambda: [(p.text, p.tags) for p in db.session.scalars(select(Post).order_by(Post.seq))])


def test_the_branches_are_the_movements_then_the_items_tags_then_the_parts(app, phone, tree):
    session = phone.emit("join", {"code": tree.code}, callback=True)["session"]
    assert [(f["key"], f["required"]) for f in session["frameworks"]] == [
        ("movement", True), ("function", False), ("part", False)]
    assert session["frameworks"][0]["items"] == [{"key": "amorcer", "label": "Amorcer"},
                                                 {"key": "maintenir", "label": "Maintenir"},
                                                 {"key": "renforcer", "label": "Renforcer"}]
    assert session["frameworks"][2]["items"] == [
        {"key": "leaf", "label": "Piste d’action"},
        {"key": "root", "label": "Racine", "opens_with": "roots"},
        {"key": "fruit", "label": "Fruit", "opens_with": "fruits"}]
    assert session["state"] == {}
    assert [p["key"] for p in session["phases"]] == ["grow", "vote", "done"]


def test_explicit_branches_and_bad_branch_settings(app):
    item = {**ITEM, "settings": {"branches": [{"key": "eau", "label": "L’eau"}, {"key": "sol", "label": "Le sol"}]}}
    session = import_file(app, tree_event(item)).sessions[0]
    with app.test_request_context():
        frameworks = sessions.frameworks_of(db.session.get(Session, session.id))
    assert frameworks[0] == {"key": "branch", "label": "Branche", "required": True,
                             "items": [{"key": "eau", "label": "L’eau"}, {"key": "sol", "label": "Le sol"}]}

    def problems(settings):
        doc = {"slug": "x", "title": "X", "programme": [{"date": "2026-06-09", "items": [{**ITEM, "settings": settings}]}]}
        return [str(p) for p in eventfile.check(doc, {}, registry())]

    at = "programme[0].items[0].settings.branches"
    assert problems({"branches": "saisons"}) == [f"{at}: 'saisons' is not a framework of this event"]
    assert problems({"branches": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]}) == [
        f"{at}: 'a' names two branches"]
    assert problems({"branches": "category"}) == []
    assert problems({"branches": [{"key": "a", "label": "A"}]})  # one branch is no tree


def test_leaves_grow_on_branches_and_bad_branches_or_parts_are_refused(app, read, phone, wall, tree):
    assert phone.emit("join", {"code": tree.code, "name": "Camille"}, callback=True)["ok"]
    assert wall.emit("watch", {"code": tree.code}, callback=True)["ok"]
    wall.get_received()
    leaf = send(phone, tree.code, "Des temps de convivialité", {"movement": "amorcer"})
    assert leaf["ok"] and leaf["post"]["tags"] == {"movement": "amorcer"}
    explicit = send(phone, tree.code, "Un animateur tiers", {"movement": "amorcer", "part": "leaf",
                                                             "function": "animation"})
    assert explicit["ok"]
    assert [p["text"] for p in events_named(wall, "post")] == ["Des temps de convivialité", "Un animateur tiers"]

    refusals = [
        ({"movement": "cueillir"}, "unknown_tag", "Mouvements\u00a0: ce choix n’appartient pas à cet atelier."),
        ({"movement": "amorcer", "part": "tronc"}, "unknown_tag",
         "Partie de l’arbre\u00a0: ce choix n’appartient pas à cet atelier."),
        ({"branche": "amorcer"}, "unknown_tag", "Cette étiquette n’appartient pas à cet atelier."),
        ({"part": "leaf"}, "missing_tag", "Choisissez une option\u00a0: Mouvements."),
        ({"movement": "amorcer", "part": "root"}, "closed_tag",
         "«\u00a0Racine\u00a0» n’est pas encore ouvert\u00a0: l’équipe d’animation l’ouvrira."),
        ({"movement": "renforcer", "part": "fruit"}, "closed_tag",
         "«\u00a0Fruit\u00a0» n’est pas encore ouvert\u00a0: l’équipe d’animation l’ouvrira."),
    ]
    for tags, code, message in refusals:
        ack = send(phone, tree.code, "Refusée", tags)
        assert ack["ok"] is False and ack["error"]["code"] == code, tags
        assert ack["error"]["message"] == message
    assert len(stored(read)) == 2 and events_named(wall, "post") == []


def test_the_console_opens_roots_and_fruits_for_everyone(app, read, phone, wall, console, tree):
    assert phone.emit("join", {"code": tree.code}, callback=True)["ok"]
    assert wall.emit("watch", {"code": tree.code}, callback=True)["ok"]
    for client in (phone, wall, console):
        client.get_received()
    # Only organisers open parts, and only with true or false.
    assert phone.emit("idea_tree.parts", {"code": tree.code, "roots": True}, callback=True)["error"]["code"] == \
        "forbidden"
    for bad in ({}, {"roots": "oui"}, {"roots": 1}, {"leaves": True}):
        ack = console.emit("idea_tree.parts", {"code": tree.code, **bad}, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_field", bad
    assert events_named(wall, "format_state") == []

    ack = console.emit("idea_tree.parts", {"code": tree.code, "roots": True}, callback=True)
    assert ack == {"ok": True, "state": {"roots": True}}
    for client in (phone, wall):
        [sent] = events_named(client, "format_state")
        assert sent == {"code": tree.code, "state": {"roots": True}, "srev": sent["srev"]} and sent["srev"] > 0
    root = send(phone, tree.code, "La confiance entre membres", {"movement": "amorcer", "part": "root"})
    assert root["ok"] and root["post"]["tags"]["part"] == "root"
    assert send(phone, tree.code, "Un lieu à soi", {"movement": "amorcer", "part": "fruit"})["error"]["code"] == \
        "closed_tag"

    assert console.emit("idea_tree.parts", {"code": tree.code, "fruits": True, "roots": False},
                        callback=True)["state"] == {"roots": False, "fruits": True}
    assert send(phone, tree.code, "Un lieu à soi", {"movement": "amorcer", "part": "fruit"})["ok"]
    assert send(phone, tree.code, "Encore une racine", {"movement": "amorcer", "part": "root"})["error"]["code"] == \
        "closed_tag"
    # Every later screen learns the state with the session: the watch snapshot and the join.
    snapshot = socket_client(app).emit("watch", {"code": tree.code}, callback=True)
    assert snapshot["state"] == snapshot["session"]["state"] == {"roots": False, "fruits": True}
    assert socket_client(app).emit("join", {"code": tree.code}, callback=True)["session"]["state"] == \
        {"roots": False, "fruits": True}
    # An action of this format on another format's session is refused.
    other = import_file(app, eventfile.dump({"slug": "b", "title": "B", "programme": [
        {"date": "2026-06-09", "items": [registry()["board"].example]}]})).sessions[0]
    assert console.emit("idea_tree.parts", {"code": other.code, "roots": True},
                        callback=True)["error"]["code"] == "wrong_format"
    assert [t for t, _tags in stored(read)] == ["La confiance entre membres", "Un lieu à soi"]


def test_a_part_opened_by_another_worker_is_taken_before_the_cache_expires(app, read, tree):
    with app.test_request_context():
        participant = joining.join({"code": tree.code}).participant
        target = sessions.post_target(tree.code)  # cached: roots closed
        assert target.state == {}
        # Another worker opened roots: this process's cache still says closed, the database says open.
        session = db.session.get(Session, tree.id)
        session.settings = {**session.settings, "state": {"roots": True}}
        db.session.commit()
        assert sessions.post_target(tree.code).state == {}
        post, created = posting.create_post(sessions.post_target(tree.code), participant, {
            "client_id": "tree-worker-01", "text": "Des valeurs partagées", "tags": {"movement": "amorcer",
                                                                                   "part": "root"}})
    assert created and post["tags"] == {"movement": "amorcer", "part": "root"}


def test_a_reimport_keeps_what_the_facilitator_opened(app, console, tree):
    assert console.emit("idea_tree.parts", {"code": tree.code, "roots": True}, callback=True)["ok"]
    import_file(app, tree_event())
    with app.test_request_context():
        session = db.session.get(Session, tree.id)
        assert sessions.format_state(session) == {"roots": True}
        assert session.phase == "grow"


def test_votes_and_merges_apply_to_leaves(app, read, console, tree):
    phones = [socket_client(app) for _ in range(3)]
    for phone in phones:
        assert phone.emit("join", {"code": tree.code}, callback=True)["ok"]
    kept = send(phones[0], tree.code, "Un animateur de la coopération", {"movement": "amorcer"})["post"]
    twin = send(phones[1], tree.code, "Recruter un animateur", {"movement": "amorcer"})["post"]
    other = send(phones[2], tree.code, "Des rituels", {"movement": "maintenir"})["post"]
    assert console.emit("post_merge", {"code": tree.code, "post_id": twin["id"], "into": kept["id"]},
                        callback=True)["ok"]
    assert console.emit("phase_set", {"code": tree.code}, callback=True)["phase"]["key"] == "vote"
    assert console.emit("vote_open", {"code": tree.code, "budget": 3, "max_per_post": 2}, callback=True)["ok"]
    # Beyond the budget, or more than allowed on one leaf: refused, nothing stored.
    over = phones[0].emit("vote", {"code": tree.code, "dots": {str(kept["id"]): 2, str(other["id"]): 2}},
                          callback=True)
    assert over["error"] == {"code": "over_budget", "message": "Vous avez 3 gommettes en tout."}
    assert phones[0].emit("vote", {"code": tree.code, "dots": {str(kept["id"]): 3}},
                          callback=True)["error"]["code"] == "too_many_dots_on_post"
    # A merged leaf is no longer a leaf to vote on.
    assert phones[0].emit("vote", {"code": tree.code, "dots": {str(twin["id"]): 1}},
                          callback=True)["error"]["code"] == "unknown_post"
    assert phones[0].emit("vote", {"code": tree.code, "dots": {str(other["id"]): 2, str(kept["id"]): 1}},
                          callback=True)["left"] == 0
    assert phones[1].emit("vote", {"code": tree.code, "dots": {str(kept["id"]): 2}}, callback=True)["ok"]
    revealed = console.emit("vote_reveal", {"code": tree.code}, callback=True)["vote"]
    assert [(r["post_id"], r["dots"]) for r in revealed["results"]][:2] == [(kept["id"], 3), (other["id"], 2)]
    with app.test_request_context():
        data = registry()["idea_tree"].synthesise(db.session.get(Session, tree.id))
    amorcer = data["branches"][0]
    assert amorcer["count"] == 1 and amorcer["dots"] == 3
    assert amorcer["leaves"][0]["text"] == "Un animateur de la coopération"
    assert amorcer["leaves"][0]["merged"] == ["Recruter un animateur"]


def grow(app, tree_id: int) -> None:
    """Grow a realistic tree: the seed's action ideas on three branches, roots, fruits, a merge, dot votes."""
    leaves = {
        "amorcer": ["Créer des conditions souples d’entrée et de sortie pour les membres",
                    "Des espaces de discussion et de décision communs pour partager le projet et la vision",
                    "Recruter un animateur de la coopération, tiers entre les organisations",
                    "Des temps de convivialité", "Rendre visible le projet", "Partager des valeurs communes"],
        "maintenir": ["Formaliser la coopération dans des instances de décision",
                      "Rechercher des moyens internes et externes", "Des rituels et la célébration des petites victoires",
                      "Actualiser régulièrement la vision et le cadre", "Raconter l’histoire du projet"],
        "renforcer": ["Recadrer la stratégie pour de nouvelles activités", "Évaluer le projet",
                      "Ouvrir à d’autres organisations", "Partager l’animation entre plusieurs référents"],
    }
    with app.test_request_context():
        session = db.session.get(Session, tree_id)
        people = [joining.join({"code": session.code, "name": f"Personne {n}"})[0] for n in range(8)]
        sessions.set_format_state(session, {"roots": True, "fruits": True})
        made = {}
        n = 0
        for branch, texts in leaves.items():
            for text in texts:
                n += 1
                made[text] = posting.create_post(sessions.post_target(session.code), people[n % 8], {
                    "client_id": f"grow-{n:05d}", "text": text, "tags": {"movement": branch}})[0]
        for n, (part, text) in enumerate([("root", "La confiance entre les membres"),
                                          ("root", "Un langage commun"), ("root", "Des valeurs partagées"),
                                          ("root", "L’ancrage dans le territoire"),
                                          ("fruit", "Des emplois durables sur le territoire"),
                                          ("fruit", "Une reconnaissance par les collectivités")]):
            made[text] = posting.create_post(sessions.post_target(session.code), people[n], {
                "client_id": f"grow-p{n:04d}", "text": text, "tags": {"movement": "maintenir", "part": part}})[0]
        dup = posting.create_post(sessions.post_target(session.code), people[7], {
            "client_id": "grow-dup-01", "text": "Embaucher un animateur", "tags": {"movement": "amorcer"}})[0]
        db.session.commit()
        session = db.session.get(Session, tree_id)
        moderation.merge(session, dup["id"], made["Recruter un animateur de la coopération, tiers entre les organisations"]["id"])
        sessions.set_phase(session, "vote")
        votes.open_vote(session, 5, 3)
        choices = ["Recruter un animateur de la coopération, tiers entre les organisations", "Évaluer le projet",
                   "Des rituels et la célébration des petites victoires", "Un langage commun",
                   "Des emplois durables sur le territoire"]
        for k, person in enumerate(people):
            votes.cast(session, person, {str(made[choices[0]]["id"]): 2, str(made[choices[k % 4 + 1]]["id"]): 1,
                                         str(made[choices[(k + 1) % 4 + 1]]["id"]): 1})
        votes.reveal(session)


def test_synthesis_of_a_realistic_tree(app, tree):
    grow(app, tree.id)
    with app.test_request_context():
        data = registry()["idea_tree"].synthesise(db.session.get(Session, tree.id))
    assert data["format"] == "idea_tree" and data["question"] == "Comment faire vivre une coopération ?"
    assert (data["total"], data["leaves"], data["merged"]) == (21, 15, 1)
    assert data["branch_label"] == "Mouvements"
    assert [(b["key"], b["label"], b["count"]) for b in data["branches"]] == [
        ("amorcer", "Amorcer", 6), ("maintenir", "Maintenir", 5), ("renforcer", "Renforcer", 4)]
    for branch in data["branches"]:
        dots = [leaf["dots"] for leaf in branch["leaves"]]
        assert dots == sorted(dots, reverse=True) and branch["dots"] == sum(dots)
    top = data["branches"][0]["leaves"][0]
    assert top["text"].startswith("Recruter un animateur") and top["dots"] == 16
    assert top["merged"] == ["Embaucher un animateur"]
    assert [r["text"] for r in data["roots"]][0] == "Un langage commun"
    assert {r["text"] for r in data["roots"]} == {"La confiance entre les membres", "Un langage commun",
                                                 "Des valeurs partagées", "L’ancrage dans le territoire"}
    assert all(r["branch_label"] == "Maintenir" for r in data["roots"])
    assert [f["text"] for f in data["fruits"]] == ["Des emplois durables sur le territoire",
                                                   "Une reconnaissance par les collectivités"]
    assert data["dots"] == 8 * 4


def test_the_booklet_draws_the_tree_with_its_most_voted_ideas(app, tree, tmp_path):
    from carnet.restitution import write_pdf

    grow(app, tree.id)
    with app.test_request_context():
        session = db.session.get(Session, tree.id)
        data = registry()["idea_tree"].synthesise(session)
        section = environment().get_template("idea_tree/booklet.html").render(data=data, session=session,
                                                                               show_names=False)
        svg = section[section.index("<svg"):section.index("</svg>")]
        # The drawing holds the three most-dotted leaves of each branch, the first roots and fruits.
        for branch in data["branches"]:
            for leaf in branch["leaves"][:3]:
                assert leaf["text"].split()[0] in svg
            assert branch["leaves"][-1]["text"] not in svg
        assert "Racines · 4" in svg and "Fruits · 2" in svg
        pdf = tmp_path / "restitution.pdf"
        write_pdf(session.event, pdf)
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages]
    drawn = next(n for n, text in enumerate(pages) if "Racines · 4" in text)
    text = " ".join(pages[drawn:])
    for words in ("Amorcer", "Maintenir", "Renforcer", "Recruter un animateur", "Racines · 4", "Fruits · 2",
                  "15 pistes d’action · 4 racines · 2 fruits · 32 gommettes",
                  # What the drawing has no room for is listed after it.
                  "Partager des valeurs communes", "L’ancrage dans le territoire"):
        assert words in text, words
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", str(drawn + 1), "-l", str(drawn + 1), str(pdf),
                    str(tmp_path / "page")], check=True)
    assert next(tmp_path.glob("page-*.png")).stat().st_size > 5000


def test_the_demo_runs_its_idea_tree_with_this_format(app):
    demo = import_file(app, demo_text())
    with app.test_request_context():
        event = db.session.get(Event, demo.id)
        session = next(s for s in event.sessions if s.key == "arbres-a-idees")
        assert session.workshop == "idea_tree"
        assert [f["key"] for f in sessions.frameworks_of(session)] == ["movement", "function", "part"]


@pytest.mark.server
def test_the_demo_tree_grows_through_its_phases_with_real_clients(tmp_path, server_env):

    from server import Server
    from test_server import Recorder, organiser_cookie, wait_until

    srv = Server(tmp_path / "data", extra_env=server_env)
    sessions_listed = srv.prepare("--demo", "demo")
    code = next(s["code"] for s in sessions_listed
                if s["key"] == "arbres-a-idees")
    with srv:
        console = Recorder(srv.url, {"Cookie": organiser_cookie(srv)})
        wall = Recorder(srv.url)
        assert wall.call("watch", {"code": code})["state"] == {}
        phones = [Recorder(srv.url) for _ in range(6)]
        for n, phone in enumerate(phones):
            joined = phone.call("join", {"code": code, "name": f"P{n}"})["session"]
            assert joined["workshop"] == "idea_tree" and joined["phase"]["key"] == "grow" and joined["is_open"]
        branches = ["amorcer", "maintenir", "renforcer"]
        for n, phone in enumerate(phones):
            ack = phone.call("post", {"code": code, "client_id": f"real-leaf-{n:04d}", "text": f"Piste {n}",
                                      "tags": {"movement": branches[n % 3]}})
            assert ack["ok"], ack
        refused = phones[0].call("post", {"code": code, "client_id": "real-root-0000", "text": "Racine trop tôt",
                                          "tags": {"movement": "amorcer", "part": "root"}})
        assert refused["error"]["code"] == "closed_tag"
        assert phones[0].call("post", {"code": code, "client_id": "real-bad-0000", "text": "Ailleurs",
                                       "tags": {"movement": "cueillir"}})["error"]["code"] == "unknown_tag"
        assert console.call("idea_tree.parts", {"code": code, "roots": True, "fruits": True})["ok"]
        wait_until(lambda: all(p.got("format_state") for p in phones) and wall.got("format_state"))
        for client in [wall, *phones]:
            [sent] = client.got("format_state")
            assert sent == {"code": code, "state": {"roots": True, "fruits": True}, "srev": sent["srev"]}
        root = phones[0].call("post", {"code": code, "client_id": "real-root-0001", "text": "La confiance",
                                       "tags": {"movement": "amorcer", "part": "root"}})
        fruit = phones[1].call("post", {"code": code, "client_id": "real-fruit-001", "text": "Des emplois",
                                        "tags": {"movement": "renforcer", "part": "fruit"}})
        assert root["ok"] and fruit["ok"]
        assert console.call("phase_set", {"code": code})["phase"]["key"] == "vote"
        assert console.call("vote_open", {"code": code, "budget": 2, "max_per_post": 2})["ok"]
        leaves = wall.call("watch", {"code": code})["posts"]
        assert len(leaves) == 8
        over = phones[2].call("vote", {"code": code, "dots": {str(leaves[0]["id"]): 2, str(leaves[1]["id"]): 1}})
        assert over["error"]["code"] == "over_budget"
        for phone in phones:
            assert phone.call("vote", {"code": code, "dots": {str(root["post"]["id"]): 2}})["ok"]
        results = console.call("vote_reveal", {"code": code})["vote"]["results"]
        assert results[0]["post_id"] == root["post"]["id"] and results[0]["dots"] == 12
        wait_until(lambda: len(wall.got("post")) == 8)
        assert sorted(p["text"] for p in wall.got("post")) == sorted(
            [f"Piste {n}" for n in range(6)] + ["La confiance", "Des emplois"])
        for client in [console, wall, *phones]:
            client.client.disconnect()
