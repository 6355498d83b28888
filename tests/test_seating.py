"""Where a world-café participant is: one seat rule, late joiners seated, the tables' themes only, tables' tags."""

from __future__ import annotations

from collections import Counter

import pytest

from app.extensions import db
from app.models import Event, Participant, Post, Table
from app.services import eventfile
from app.services.events import export_event
from conftest import events_named, import_file, socket_client
from test_eventfile import line_of, problems_of
from workshops import registry

TABLES = ["animation", "creativite", "valorisation", "support", "gestion-de-projet"]


@pytest.fixture
def world_cafe(app):
    """An event whose only session is the world-café format's example: five tables, three rounds."""
    item = registry()["world_cafe"].example
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    return import_file(app, eventfile.dump(doc)).sessions[0]


def table_codes(read) -> dict[str, str]:
    """Return {table key: join code}."""
    return read(lambda: {t.key: t.code for t in db.session.query(Table)})


def join_many(app, code: str, count: int, prefix: str = "P") -> list:
    """Join `count` phones through `code`; return (client, participant id) pairs."""
    phones = []
    for i in range(count):
        phone = socket_client(app)
        ack = phone.emit("join", {"code": code, "name": f"{prefix}{i}"}, callback=True)
        assert ack["ok"], ack
        phones.append((phone, ack["participant"]["id"]))
    return phones


def test_a_post_goes_to_the_table_the_seat_rule_says(app, console, world_cafe, read):
    codes = table_codes(read)
    phones = join_many(app, codes["animation"], 6)
    # Before a round, the card scanned is where the person is.
    first = phones[0][0].emit("seat", {"code": world_cafe.code}, callback=True)
    assert first["seat"]["key"] == "animation" and first["seat"]["source"] == "stated"
    plan = console.emit("world_cafe.plan", {"code": world_cafe.code}, callback=True)["plan"]
    phone, pid = next((p, pid) for p, pid in phones if plan["assignments"][str(pid)][0] != "animation")
    planned = plan["assignments"][str(pid)][0]
    console.emit("phase_set", {"code": world_cafe.code, "phase": "round_1"}, callback=True)

    # The round starts: the plan's table wins over a card scanned before it.
    seat = phone.emit("seat", {"code": world_cafe.code}, callback=True)["seat"]
    assert (seat["key"], seat["source"], seat["planned"], seat["code"]) == (planned, "plan", planned, codes[planned])
    ack = phone.emit("post", {"code": seat["code"], "client_id": "seat-0001", "text": "Au plan"}, callback=True)
    assert ack["post"]["tags"] == read(lambda: db.session.query(Table).filter_by(key=planned).one().tags)

    # « I am at Animation »: from now on, this round, the person is there, and the console sees it.
    console.emit("watch", {"code": world_cafe.code}, callback=True)
    console.get_received()
    said = phone.emit("seat", {"code": world_cafe.code, "table": "animation"}, callback=True)["seat"]
    assert (said["key"], said["source"], said["planned"]) == ("animation", "stated", planned)
    assert events_named(console, "seating_changed") == [{"code": world_cafe.code}]
    ack = phone.emit("post", {"code": said["code"], "client_id": "seat-0002", "text": "Ici"}, callback=True)
    assert ack["post"]["tags"] == {"function": "animation"}
    seating = console.emit("seating", {"code": world_cafe.code}, callback=True)["seating"]
    by_key = {row["key"]: row for row in seating["tables"]}
    assert by_key["animation"]["elsewhere"] == [{"name": f"P{phones.index((phone, pid))}", "planned": planned}]
    assert sum(row["here"] for row in seating["tables"]) == 6
    assert sum(len(row["elsewhere"]) for row in seating["tables"]) == 1
    # A wall (no organiser) sees who goes where by name, never who sits where now.
    wall = socket_client(app)
    public = wall.emit("seating", {"code": world_cafe.code}, callback=True)["seating"]
    assert "tables" not in public and public["round"] == 0
    assert sorted(n for table in public["rounds"][1] for n in table["people"]) == sorted(f"P{i}" for i in range(6))

    # The next round seats them at the plan's table again, until they say otherwise.
    console.emit("phase_set", {"code": world_cafe.code, "phase": "round_2"}, callback=True)
    seat = phone.emit("seat", {"code": world_cafe.code}, callback=True)["seat"]
    assert (seat["key"], seat["source"]) == (plan["assignments"][str(pid)][1], "plan")
    # Scanning a card during a round states it too.
    again = phone.emit("join", {"code": codes["support"]}, callback=True)
    assert (again["seat"]["key"], again["seat"]["source"]) == ("support", "stated")
    for client, _ in phones:
        client.disconnect()


def test_seat_errors_change_nothing(app, phone, world_cafe, read):
    assert phone.emit("seat", {"code": world_cafe.code}, callback=True)["error"]["code"] == "not_joined"
    phone.emit("join", {"code": table_codes(read)["support"]}, callback=True)
    for bad in ("nope", 3, ["animation"], {"key": "animation"}, ""):
        ack = phone.emit("seat", {"code": world_cafe.code, "table": bad}, callback=True)
        assert ack["error"]["code"] == "unknown_table", bad
    assert phone.emit("seat", {"code": world_cafe.code}, callback=True)["seat"]["key"] == "support"


def test_someone_joining_after_the_plan_is_seated_at_the_emptiest_tables_and_told(app, console, world_cafe):
    phones = join_many(app, world_cafe.code, 9)
    plan = console.emit("world_cafe.plan", {"code": world_cafe.code}, callback=True)["plan"]
    before = [Counter(route[r] for route in plan["assignments"].values()) for r in range(3)]
    emptiest = [min(TABLES, key=lambda key, sizes=sizes: (sizes[key], TABLES.index(key))) for sizes in before]
    assert [sizes[key] for sizes, key in zip(before, emptiest, strict=True)] == [1, 1, 1]

    late = socket_client(app)
    ack = late.emit("join", {"code": world_cafe.code, "name": "Tard"}, callback=True)
    pid = str(ack["participant"]["id"])
    assert ack["assignment"] == emptiest and len(set(ack["assignment"])) == 3
    sent = events_named(phones[0][0], "plan")[-1]["plan"]
    assert sent["assignments"][pid] == emptiest and sent["late"] == [pid]
    for r in range(3):
        sizes = Counter(route[r] for route in sent["assignments"].values())
        assert max(sizes.values()) - min(sizes[key] for key in TABLES) <= 1
    console.emit("phase_set", {"code": world_cafe.code, "phase": "round_1"}, callback=True)
    seat = late.emit("seat", {"code": world_cafe.code}, callback=True)["seat"]
    assert (seat["key"], seat["source"], seat["late"]) == (emptiest[0], "plan", True)
    # Joining again does not seat them twice.
    token = ack["participant"]["token"]
    assert late.emit("join", {"code": world_cafe.code, "token": token}, callback=True)["assignment"] == emptiest
    assert events_named(phones[0][0], "plan") == []
    for client, _ in phones:
        client.disconnect()


def test_a_listed_person_seated_late_before_giving_their_name_takes_the_entry_seats_instead(app, console, world_cafe,
                                                                                            read):
    from app.models import Session
    from app.services.registrations import import_csv

    read(lambda: import_csv(db.session.get(Session, world_cafe.id), "nom;structure\nCamille Martin;MES\nLou Petit;\n"))
    plan = console.emit("world_cafe.plan", {"code": world_cafe.code}, callback=True)["plan"]
    console.emit("watch", {"code": world_cafe.code}, callback=True)
    phone = socket_client(app)
    anonymous = phone.emit("join", {"code": table_codes(read)["support"]}, callback=True)  # before typing a name
    me = str(anonymous["participant"]["id"])
    assert anonymous["assignment"] is not None and events_named(console, "plan")[-1]["plan"]["late"] == [me]
    named = phone.emit("join", {"code": world_cafe.code, "token": anonymous["participant"]["token"],
                                "name": "camille martin"}, callback=True)
    sent = events_named(console, "plan")[-1]["plan"]
    assert len(sent["assignments"]) == 2 and sent["late"] == [] and me in sent["assignments"]
    assert named["assignment"] in plan["assignments"].values()
    # The card scanned before the name stays where the person said they are.
    assert (named["seat"]["key"], named["seat"]["source"]) == ("support", "stated")


TWO_TABLES = """
slug: deux-tables
title: Deux tables
programme:
  - date: "2026-06-09"
    items:
      - id: cafe
        start: "10:00"
        end: "11:00"
        title: Petit café
        workshop: world_cafe
        settings:
          tables:
            - theme: animation
            - theme: support
"""


def test_a_phone_choosing_itself_is_offered_only_the_themes_of_the_cafes_tables(app, phone, console):
    cafe = import_file(app, TWO_TABLES).sessions[0]
    ack = phone.emit("join", {"code": cafe.code}, callback=True)
    function = ack["session"]["frameworks"][0]
    assert function["key"] == "function" and function["required"] is True
    assert [item["key"] for item in function["items"]] == ["animation", "support"]
    console.emit("phase_set", {"code": cafe.code, "phase": "round_1"}, callback=True)
    refused = phone.emit("post", {"code": cafe.code, "client_id": "theme-0001", "text": "Ailleurs",
                                  "tags": {"function": "valorisation"}}, callback=True)
    assert refused["error"]["code"] == "unknown_tag"
    posted = phone.emit("post", {"code": cafe.code, "client_id": "theme-0002", "text": "Ici",
                                 "tags": {"function": "support"}}, callback=True)
    assert posted["post"]["tags"] == {"function": "support"}


PILLARS = """
slug: piliers
title: Piliers et publics
guest_kinds:
  fondation: Fondation
  collectivite: Collectivité territoriale
guests:
  - name: Fondation des communs
    kind: fondation
  - name: Mairie
    kind: collectivite
frameworks:
  - key: pillar
    label: Piliers
    items:
      - {key: economie, label: Économie}
      - {key: social, label: Social}
      - {key: culture, label: Culture}
  - key: audience
    label: Publics
    items:
      - {key: elus, label: Élus}
      - {key: habitants, label: Habitants}
  - key: category
    label: Catégories
    items:
      - {key: actions, label: Actions}
      - {key: besoins, label: Besoins}
programme:
  - date: "2026-06-09"
    items:
      - id: cafe
        start: "10:00"
        end: "11:30"
        title: Café croisé
        workshop: world_cafe
        settings:
          theme_framework: pillar
          tables:
            - tags: [economie, elus]
              host: Camille
            - tags: [social, "audience:habitants"]
              name: Social et habitants
            - theme: culture
          rounds: 2
"""


def test_tables_with_several_tags_validate_import_and_export_the_same(app, phone, console, read):
    data = eventfile.load(PILLARS, registry())
    assert data["guests"][0]["kind"] == "fondation"
    cafe = import_file(app, PILLARS).sessions[0]
    tables = read(lambda: [(t.key, t.name, t.tags, t.host) for t in db.session.query(Table).order_by(Table.position)])
    assert tables == [("economie", "Économie", {"pillar": "economie", "audience": "elus"}, "Camille"),
                      ("social-et-habitants", "Social et habitants", {"pillar": "social", "audience": "habitants"}, None),
                      ("culture", "Culture", {"pillar": "culture"}, None)]
    ack = phone.emit("join", {"code": cafe.code}, callback=True)
    frameworks = {fw["key"]: (fw["required"], [i["key"] for i in fw["items"]]) for fw in ack["session"]["frameworks"]}
    assert frameworks == {"pillar": (True, ["economie", "social", "culture"]), "audience": (False, ["elus", "habitants"]),
                          "category": (False, ["actions", "besoins"])}
    # A post through a table's card carries all its tags; the synthesis files it under that table only.
    codes = table_codes(read)
    console.emit("phase_set", {"code": cafe.code, "phase": "round_1"}, callback=True)
    phone.emit("join", {"code": codes["economie"]}, callback=True)
    post = phone.emit("post", {"code": codes["economie"], "client_id": "cross-0001", "text": "Budget participatif",
                               "tags": {"category": "actions"}}, callback=True)["post"]
    assert post["tags"] == {"pillar": "economie", "audience": "elus", "category": "actions"}
    synthesis = read(lambda: registry()["world_cafe"].synthesise(
        db.session.get(Event, db.session.query(Event).one().id).sessions[0]))
    assert [(t["name"], t["tags"], t["total"]) for t in synthesis["tables"]] == [
        ("Économie", {"pillar": "economie", "audience": "elus"}, 1),
        ("Social et habitants", {"pillar": "social", "audience": "habitants"}, 0),
        ("Culture", {"pillar": "culture"}, 0)]

    exported = read(lambda: export_event(db.session.query(Event).one()))
    assert "- economie\n" in exported and "guest_kinds:" in exported
    again = import_file(app, exported).sessions[0]
    assert again.code == cafe.code
    assert read(lambda: [(t.key, t.tags, t.code) for t in db.session.query(Table).order_by(Table.position)]) == \
        [(key, tags, codes[key]) for key, _name, tags, _host in tables]
    assert read(lambda: db.session.query(Post).count()) == 1


def test_wrong_table_tags_are_all_reported_with_their_line():
    text = (PILLARS.replace("[economie, elus]", "[economie, social]")
            .replace('[social, "audience:habitants"]', "[social, jeunes]")
            .replace("- theme: culture", "- theme: culture\n              tags: [culture]"))
    assert problems_of(text) == [
        "programme[0].items[0].settings.tables[0].tags[1]: 'social' and 'economie' are both items of 'pillar': a table "
        f"takes one item per framework (line {line_of(text, '[economie, social]')})",
        "programme[0].items[0].settings.tables[1].tags[1]: 'jeunes' is not an item of any framework of this event but "
        f"'category' (known frameworks: pillar, audience) (line {line_of(text, '[social, jeunes]')})",
        "programme[0].items[0].settings.tables[2]: give the table either tags (a list of items) or theme (one item), "
        f"not both (line {line_of(text, '- theme: culture')})",
    ]


def test_a_tag_two_frameworks_share_must_name_its_framework():
    text = PILLARS.replace("      - {key: habitants, label: Habitants}",
                           "      - {key: habitants, label: Habitants}\n      - {key: culture, label: Public culture}")
    text = text.replace("- theme: culture", "- tags: [culture]")
    assert problems_of(text) == [
        "programme[0].items[0].settings.tables[2].tags[0]: 'culture' is an item of several frameworks (pillar, audience): "
        f"write it framework:item (line {line_of(text, '- tags: [culture]')})"]


def test_a_guest_kind_the_file_does_not_define_is_refused_with_the_known_ones():
    text = PILLARS.replace("kind: fondation", "kind: association")
    assert problems_of(text) == [
        "guests[0].kind: 'association' is not a kind of guest (known: ptce, tiers-lieu, projet-collectif, collectivite, "
        "reseau, entreprise, etat, autre, fondation): add it under guest_kinds "
        f"(line {line_of(text, 'kind: association')})"]
    without = PILLARS.replace("guest_kinds:\n  fondation: Fondation\n  collectivite: Collectivité territoriale\n", "")
    assert problems_of(without)[0].startswith("guests[0].kind: 'fondation' is not a kind of guest (known: ptce,")
    assert eventfile.guest_kinds(eventfile.load(PILLARS, registry()))["collectivite"] == "Collectivité territoriale"


def test_a_phone_joining_over_http_gets_its_seat_and_posts_there(client, world_cafe, read):
    codes = table_codes(read)
    answer = client.post(f"/api/sessions/{codes['valorisation']}/join", json={}).get_json()
    assert (answer["seat"]["key"], answer["seat"]["code"], answer["assignment"]) == ("valorisation", codes["valorisation"], None)


def test_a_rejoin_that_changes_nothing_writes_nothing_and_reads_each_row_it_needs_once(app, world_cafe, read):
    from sqlalchemy import event

    key, code = next(iter(table_codes(read).items()))
    phone = socket_client(app)
    first = phone.emit("join", {"code": code, "name": "Awa", "organisation": "Scop"}, callback=True)
    assert first["ok"], first
    phone.disconnect()
    socket_client(app).emit("join", {"code": world_cafe.code, "token": first["participant"]["token"]}, callback=True)
    statements: list[tuple[str, str]] = []

    def seen(_conn, _cursor, statement, *_args):
        words = statement.split()
        statements.append((words[0].upper(), words[words.index("FROM") + 1] if "FROM" in words else ""))

    with app.app_context():
        engine = db.engine
    back = socket_client(app)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        again = back.emit("join", {"code": world_cafe.code, "token": first["participant"]["token"], "name": "Awa",
                                   "organisation": "Scop"}, callback=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert {verb for verb, _table in statements} == {"SELECT"}, statements
    read_from = Counter(table for _verb, table in statements)
    # The phone's own rows once; the session again once the phone is in its rooms, so that its state is fresh.
    assert read_from["participant"] == 1 and read_from["attendance"] == 0 and read_from["session"] == 2, statements
    assert again["participant"] == first["participant"] and again["session"]["code"] == world_cafe.code
    # Still where its table's card seated it, though it came back through the session's code.
    assert again["seat"]["key"] == key and again["seat"]["source"] == "stated"
    renamed = back.emit("join", {"code": world_cafe.code, "token": first["participant"]["token"], "name": "Awa D."},
                        callback=True)
    assert renamed["participant"]["name"] == "Awa D."
    assert read(lambda: db.session.get(Participant, first["participant"]["id"]).name) == "Awa D."
