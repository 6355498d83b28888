"""Registration lists: people listed ahead are seated in the plan, and a phone giving their name takes their place."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Participant, Session
from app.services import eventfile
from app.services.registrations import import_csv
from app.services.sessions import attendees
from conftest import events_named, import_file, socket_client
from workshops import registry

LIST = "nom;structure\nCamille Martin;Tiers-lieu de Bray\nHélène Dupré;MES\nAlex Petit;\nAlex Petit;Coop Azur\n"


@pytest.fixture
def cafes(app):
    """Two world cafés of one event (the format's example, five tables each)."""
    first = registry()["world_cafe"].example
    second = {**first, "id": "world-cafe-2", "start": "14:00", "end": "15:30"}
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [first, second]}]}
    return import_file(app, eventfile.dump(doc)).sessions


@pytest.fixture
def cafe(cafes):
    return cafes[0]


def import_list(read, session_id: int, text: str = LIST) -> dict:
    return read(lambda: import_csv(db.session.get(Session, session_id), text))


def people(read, session_id: int) -> list[tuple]:
    """Return (id, name, organisation, listed) of every attendee of the session, first come first."""
    return read(lambda: [(p.id, p.name, p.organisation, p.listed)
                         for p in attendees(db.session.get(Session, session_id))])


def join(client, code, **extra) -> dict:
    ack = client.emit("join", {"code": code, **extra}, callback=True)
    assert ack["ok"], ack
    return ack


def test_a_phone_giving_a_listed_name_takes_the_entry_place_and_keeps_its_identity(app, read, cafe):
    assert import_list(read, cafe.id) == {"added": 4, "skipped": 0}
    phone = socket_client(app)
    anonymous = join(phone, cafe.code)  # the page joins before the person types a name
    me = anonymous["participant"]
    assert len(people(read, cafe.id)) == 5

    ack = join(phone, cafe.code, token=me["token"], name="helene  dupre")
    # The name as typed; the organisation, not given, comes from the list.
    assert ack["participant"] == {**me, "name": "helene dupre", "organisation": "MES"}
    assert [(pid == me["id"], name, org, listed) for pid, name, org, listed in people(read, cafe.id)] == [
        (False, "Camille Martin", "Tiers-lieu de Bray", True), (True, "helene dupre", "MES", False),
        (False, "Alex Petit", None, True), (False, "Alex Petit", "Coop Azur", True)]
    assert read(lambda: db.session.scalar(select(func.count(Participant.id)))) == 4  # the entry is gone


def test_the_phone_gets_the_entry_tables_and_every_client_the_updated_plan(app, read, cafe, console, wall):
    import_list(read, cafe.id)
    entries = {name: str(pid) for pid, name, _org, _listed in people(read, cafe.id)}
    plan = console.emit("world_cafe.plan", {"code": cafe.code}, callback=True)["plan"]
    wall.emit("watch", {"code": cafe.code}, callback=True)
    wall.get_received()
    ack = join(socket_client(app), cafe.code, name="CAMILLE MARTIN", organisation="Tiers-Lieu de Bray")
    assert ack["assignment"] == plan["assignments"][entries["Camille Martin"]]
    sent = events_named(wall, "plan")
    assert len(sent) == 1 and entries["Camille Martin"] not in sent[0]["plan"]["assignments"]
    assert sent[0]["plan"]["assignments"][str(ack["participant"]["id"])] == ack["assignment"]
    assert len(sent[0]["plan"]["assignments"]) == 4


def test_one_phone_takes_its_entries_in_every_session_and_keeps_every_seat(app, read, cafes, console):
    for session in cafes:
        import_list(read, session.id)
    plans = [console.emit("world_cafe.plan", {"code": s.code}, callback=True)["plan"] for s in cafes]
    entries = [{name: str(pid) for pid, name, _org, _listed in people(read, s.id)} for s in cafes]
    phone = socket_client(app)
    first = join(phone, cafes[0].code, name="Hélène Dupré", organisation="MES")
    second = join(phone, cafes[1].code, token=first["participant"]["token"], name="Hélène Dupré", organisation="MES")
    again = join(phone, cafes[0].code, token=first["participant"]["token"], name="Hélène Dupré", organisation="MES")
    assert first["participant"]["id"] == second["participant"]["id"] == again["participant"]["id"]
    assert first["assignment"] == again["assignment"] == plans[0]["assignments"][entries[0]["Hélène Dupré"]]
    assert second["assignment"] == plans[1]["assignments"][entries[1]["Hélène Dupré"]]
    assert [len(people(read, s.id)) for s in cafes] == [4, 4]


def test_no_match_when_the_name_is_ambiguous_or_already_taken(app, read, cafe):
    import_list(read, cafe.id)
    entries = [pid for pid, *_ in people(read, cafe.id)]
    # Two "Alex Petit" on the list: without an organisation the phone cannot tell which one it is.
    join(socket_client(app), cafe.code, name="Alex Petit")
    # With the organisation it can: the entry with that organisation (else the one without any).
    join(socket_client(app), cafe.code, name="Alex Petit", organisation="Coop Azur")
    # An entry taken is not taken twice.
    join(socket_client(app), cafe.code, name="Camille Martin")
    join(socket_client(app), cafe.code, name="Camille Martin")
    assert [(name, org, listed) for pid, name, org, listed in people(read, cafe.id) if pid in entries] == [
        ("Hélène Dupré", "MES", True), ("Alex Petit", None, True)]
    assert len(people(read, cafe.id)) == 6


def test_a_phone_that_posted_before_giving_its_name_keeps_its_ideas(app, read, cafe, console):
    import_list(read, cafe.id)
    assert console.emit("phase_set", {"code": cafe.code, "phase": "round_1"}, callback=True)["ok"]
    phone = socket_client(app)
    me = join(phone, cafe.code)["participant"]
    posted = phone.emit("post", {"code": cafe.code, "client_id": "c-00000001", "text": "Une idée",
                                 "tags": {"function": "animation"}}, callback=True)
    ack = join(phone, cafe.code, token=me["token"], name="Hélène Dupré")
    assert ack["participant"]["id"] == me["id"] and ack["posts"] == [posted["post"] | {"author": "Hélène Dupré",
                                                                                       "organisation": "MES"}]
    assert "Hélène Dupré" not in [name for _pid, name, _org, listed in people(read, cafe.id) if listed]


def test_a_list_imported_after_phones_joined_skips_them_whatever_the_case_or_accents(app, read, cafe):
    join(socket_client(app), cafe.code, name="camille martin", organisation="TIERS-LIEU DE BRAY")
    assert import_list(read, cafe.id) == {"added": 3, "skipped": 1}
    assert read(lambda: db.session.scalar(select(func.count(Participant.id)))) == 4


def test_the_session_list_upload_reads_french_excel_and_refuses_oversized_files(app, read, cafe, client, organiser):
    import io
    import re

    from app.services.registrations import MAX_BYTES
    from conftest import login

    login(client)
    page = client.get(f"/console/s/{cafe.code}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]

    def send(content: bytes) -> str:
        return client.post(f"/console/s/{cafe.code}/registrations", follow_redirects=True,
                           headers={"Accept-Language": "fr"},
                           data={"csrf_token": token, "file": (io.BytesIO(content), "liste.csv")}).get_data(as_text=True)

    assert "4 personnes ajoutées" in send(LIST.encode("cp1252"))
    listed = people(read, cafe.id)
    assert [p[1] for p in listed] == ["Camille Martin", "Hélène Dupré", "Alex Petit", "Alex Petit"]
    assert "Le fichier dépasse 2 Mo" in send(b"nom\nL\xe9a Roux\n" + b" " * MAX_BYTES)
    assert "ni du texte UTF-8 ni du Windows-1252" in send(b"nom\nL\x81a\n")
    assert people(read, cafe.id) == listed
