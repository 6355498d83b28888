"""Registration lists: people listed ahead are seated in the plan, and claimed by their phone when they scan in."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attendance, Participant, Session
from app.services import eventfile
from app.services.registrations import import_csv
from app.services.sessions import attendees
from conftest import import_file, socket_client
from workshops import registry

LIST = "nom;structure\nCamille Martin;Tiers-lieu de Bray\nHélène Dupré;MES\nAlex Petit;\nAlex Petit;Coop Azur\n"


@pytest.fixture
def cafe(app):
    """A world café with five tables (the format's example), the session a registration list is for."""
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09",
                                                           "items": [registry()["world_cafe"].example]}]}
    return import_file(app, eventfile.dump(doc)).sessions[0]


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


def test_a_listed_person_scanning_in_becomes_their_entry_and_is_counted_once(app, read, cafe):
    assert import_list(read, cafe.id) == {"added": 4, "skipped": 0}
    listed = {name: pid for pid, name, _org, _listed in people(read, cafe.id)}
    phone = socket_client(app)
    anonymous = join(phone, cafe.code)  # the page joins before the person types a name
    assert anonymous["participant"]["id"] not in listed.values()
    assert len(people(read, cafe.id)) == 5

    ack = join(phone, cafe.code, token=anonymous["participant"]["token"], name="helene  dupre")
    assert ack["participant"]["id"] == listed["Hélène Dupré"]
    assert ack["participant"]["name"] == "helene dupre"  # as the person typed it
    assert ack["participant"]["token"] != anonymous["participant"]["token"]
    assert [(name, flag) for _id, name, _org, flag in people(read, cafe.id)] == [
        ("Camille Martin", True), ("helene dupre", False), ("Alex Petit", True), ("Alex Petit", True)]
    # The phone keeps the entry: joining again with its new token, or another session, is the same person.
    again = join(socket_client(app), cafe.code, token=ack["participant"]["token"], name="Hélène Dupré")
    assert again["participant"]["id"] == listed["Hélène Dupré"]
    assert read(lambda: db.session.scalar(select(func.count(Attendance.id)).where(
        Attendance.participant_id == anonymous["participant"]["id"]))) == 0


def test_a_phone_that_names_itself_on_first_join_gets_its_planned_tables(app, read, cafe, console):
    import_list(read, cafe.id)
    plan = console.emit("world_cafe.plan", {"code": cafe.code}, callback=True)["plan"]
    listed = {name: str(pid) for pid, name, _org, _listed in people(read, cafe.id)}
    ack = join(socket_client(app), cafe.code, name="CAMILLE MARTIN", organisation="Tiers-Lieu de Bray")
    assert str(ack["participant"]["id"]) == listed["Camille Martin"]
    assert ack["assignment"] == plan["assignments"][listed["Camille Martin"]]


def test_no_claim_when_the_name_is_ambiguous_taken_or_the_phone_already_posted(app, read, cafe, console):
    import_list(read, cafe.id)
    entries = {pid: name for pid, name, _org, _listed in people(read, cafe.id)}
    # Two "Alex Petit" on the list: without an organisation the phone cannot tell which one it is.
    assert join(socket_client(app), cafe.code, name="Alex Petit")["participant"]["id"] not in {
        pid for pid, *_ in people(read, cafe.id)[:4]}
    # With the organisation it can: the entry with that organisation, or the one without any.
    coop = join(socket_client(app), cafe.code, name="Alex Petit", organisation="Coop Azur")
    assert coop["participant"]["organisation"] == "Coop Azur" and coop["participant"]["id"] == people(
        read, cafe.id)[3][0]
    # A claimed entry is not claimed twice.
    first = join(socket_client(app), cafe.code, name="Camille Martin")
    second = join(socket_client(app), cafe.code, name="Camille Martin")
    assert first["participant"]["id"] != second["participant"]["id"]
    # A phone that already posted keeps its own identity (its ideas stay its own).
    assert console.emit("phase_set", {"code": cafe.code, "phase": "round_1"}, callback=True)["ok"]
    phone = socket_client(app)
    posted = join(phone, cafe.code)
    assert phone.emit("post", {"code": cafe.code, "client_id": "c-00000001", "text": "Une idée",
                               "tags": {"function": "animation"}}, callback=True)["ok"]
    renamed = join(phone, cafe.code, token=posted["participant"]["token"], name="Hélène Dupré", organisation="MES")
    assert renamed["participant"]["id"] == posted["participant"]["id"]
    assert [(name, org, flag) for pid, name, org, flag in people(read, cafe.id) if pid in entries] == [
        ("Camille Martin", "Tiers-lieu de Bray", False), ("Hélène Dupré", "MES", True), ("Alex Petit", None, True),
        ("Alex Petit", "Coop Azur", False)]


def test_a_list_imported_after_phones_joined_skips_them_whatever_the_case_or_accents(app, read, cafe):
    join(socket_client(app), cafe.code, name="camille martin", organisation="TIERS-LIEU DE BRAY")
    assert import_list(read, cafe.id) == {"added": 3, "skipped": 1}
    assert read(lambda: db.session.scalar(select(func.count(Participant.id)))) == 4
