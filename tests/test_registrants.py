"""The event's registration list and each person's own QR code: one person, one identity, for the whole event."""

from __future__ import annotations

import json
import re
import threading

import pytest
import requests
import socketio
from sqlalchemy import func, select

from app import create_app
from app.cli import cli
from app.extensions import db
from app.models import Attendance, Event, Participant, Post, Session
from app.services import eventfile
from app.services.errors import ServiceError
from app.services.registrants import personal_url, registrants, reset_badge
from app.services.registrations import MAX_BYTES, import_csv, import_registrants
from conftest import DATA, base_config, import_file, login, socket_client
from server import serving
from test_server import organiser_cookie
from workshops import registry

LIST = ("Nom;Structure;Courriel;Rôle\n"
        "Camille Morel;Maison d'Economie Solidaire;Camille.Morel@EXAMPLE.org;Animatrice\n"
        "Hélène Dupré;MES;;\n"
        ";Sans nom;;\n"
        "Alex Petit;Coop Azur;alex@coop-azur.fr;Élu\n")


def rows(read, slug: str) -> list[tuple]:
    """Return (position, name, organisation, email, role, badge, claimed, token) of the event's registrants."""
    def fetch():
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        return [(p.registered_position, p.name, p.organisation, p.email, p.role, p.badge, p.badge_claimed_at, p.token)
                for p in registrants(event)]
    return read(fetch)


def import_list(read, slug: str, text: str = LIST) -> dict:
    return read(lambda: import_registrants(db.session.scalar(select(Event).where(Event.slug == slug)), text))


def all_participants(read) -> list[tuple]:
    """Every participant row, column by column, to check that a refusal changed nothing."""
    return read(lambda: sorted(tuple(r) for r in db.session.execute(select(*Participant.__table__.columns))))


def csrf(http, path: str) -> str:
    """Return the CSRF token a page gives this test client."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', http.get(path).get_data(as_text=True))[1]


def claim(http, badge: str):
    """Press « Oui, c'est moi » on a personal code's page (its form's token is the client's, as on any page)."""
    return http.post(f"/p/{badge}", data={"csrf_token": csrf(http, "/login")})


# The list --------------------------------------------------------------------------------------------------------

def test_the_list_is_imported_in_its_order_with_a_unique_badge_each(app, read, event):
    assert import_list(read, event.slug) == {"added": 3, "updated": 0, "skipped": 1, "removed": 0}
    found = rows(read, event.slug)
    assert [r[:5] for r in found] == [
        (1, "Camille Morel", "Maison d'Economie Solidaire", "Camille.Morel@example.org", "Animatrice"),
        (2, "Hélène Dupré", "MES", None, None), (3, "Alex Petit", "Coop Azur", "alex@coop-azur.fr", "Élu")]
    badges = [r[5] for r in found]
    assert len(set(badges)) == 3 and all(re.fullmatch(r"[A-Za-z0-9_-]{12}", b) for b in badges)
    assert len({r[7] for r in found}) == 3 and all(r[6] is None for r in found)
    assert read(lambda: personal_url(registrants(db.session.get(Event, event.id))[0])) == \
        f"http://127.0.0.1:5999/p/{badges[0]}"


def test_importing_again_keeps_who_is_who_and_takes_the_new_order(app, read, event, client):
    import_list(read, event.slug)
    before = {r[1]: r for r in rows(read, event.slug)}
    assert claim(client, before["Camille Morel"][5]).status_code == 200
    claimed = {r[1]: r for r in rows(read, event.slug)}["Camille Morel"]
    # Reordered, Camille's name corrected, her address in another case, Hélène now with an address, one newcomer.
    again = ("name,organisation,email,role\nAlex Petit,Coop Azur,alex@coop-azur.fr,Élu\n"
             "Hélène Dupré,MES,helene@mes.fr,\nCamille Morel-Blanc,Maison d'Economie Solidaire,camille.morel@example.org,"
             "Animatrice\nSacha Roux,Ville de Lille,,Élue\n")
    assert import_list(read, event.slug, again) == {"added": 1, "updated": 3, "skipped": 0, "removed": 0}
    after = {r[1]: r for r in rows(read, event.slug)}
    assert [r[1] for r in rows(read, event.slug)] == ["Alex Petit", "Hélène Dupré", "Camille Morel-Blanc", "Sacha Roux"]
    assert after["Camille Morel-Blanc"][5:] == claimed[5:]  # badge, claim and token kept
    assert after["Hélène Dupré"][3] == "helene@mes.fr" and after["Hélène Dupré"][5] == before["Hélène Dupré"][5]
    assert after["Alex Petit"][5] == before["Alex Petit"][5]
    assert import_list(read, event.slug, again) == {"added": 0, "updated": 4, "skipped": 0, "removed": 0}
    assert read(lambda: db.session.scalar(select(func.count(Participant.id)))) == 4


def test_a_person_left_off_the_list_is_kept_with_their_ideas_but_leaves_the_list(app, read, event):
    import_list(read, event.slug)
    camille = rows(read, event.slug)[0]
    phone = socket_client(app)
    ack = phone.emit("join", {"code": event.sessions[1].code, "token": camille[7]}, callback=True)
    assert ack["ok"] and ack["participant"]["name"] == "Camille Morel"
    posted = phone.emit("post", {"code": event.sessions[1].code, "client_id": "reg-00000001", "text": "Une idée"},
                        callback=True)
    assert posted["ok"], posted
    shorter = "nom;structure\nAlex Petit;Coop Azur\n"
    assert import_list(read, event.slug, shorter) == {"added": 0, "updated": 1, "skipped": 0, "removed": 2}
    assert [r[:2] for r in rows(read, event.slug)] == [(1, "Alex Petit")]
    kept = read(lambda: db.session.scalar(select(Participant).where(Participant.badge == camille[5])))
    assert kept.registered_position is None and kept.token == camille[7]
    # A phone holding the token is the person: their entry cannot be taken by name, nor their code by another phone.
    assert kept.listed is False and kept.badge_claimed_at is not None
    stranger = socket_client(app).emit("join", {"code": event.sessions[1].code, "name": "Camille Morel"}, callback=True)
    assert stranger["participant"]["id"] != kept.id
    assert read(lambda: db.session.scalar(select(func.count(Post.id)).where(Post.participant_id == kept.id))) == 1


@pytest.mark.parametrize("bad,line", [("camille@", 2), ("alex at coop-azur.fr", 5), ("a@b@c.fr", 2)])
def test_a_bad_email_refuses_the_whole_list_with_its_line_and_changes_nothing(app, read, event, bad, line):
    import_list(read, event.slug)
    before = all_participants(read)
    text = LIST.replace("Camille.Morel@EXAMPLE.org" if line == 2 else "alex@coop-azur.fr", bad).replace(
        "Hélène Dupré;MES", "Hélène Dupré-Neuve;MES")
    with pytest.raises(ServiceError) as refused:
        import_list(read, event.slug, text)
    assert refused.value.code == "invalid_email"
    assert str(refused.value.message) == f"Line {line}: “{bad}” is not a valid e-mail address."
    assert all_participants(read) == before


def test_lists_that_are_not_lists_are_refused(app, read, event):
    for text, code in [("", "empty_list"), ("prénom;structure\nCamille;MES\n", "no_name_column"),
                       ("nom\n" + "x\n" * 5001, "list_too_long")]:
        with pytest.raises(ServiceError) as refused:
            import_list(read, event.slug, text)
        assert refused.value.code == code
    assert all_participants(read) == []


# The claim page --------------------------------------------------------------------------------------------------

def test_opening_the_code_asks_first_and_claims_nothing(app, read, event, client):
    import_list(read, event.slug)
    badge = rows(read, event.slug)[0][5]
    page = client.get(f"/p/{badge}", headers={"Accept-Language": "fr"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Vous êtes Camille Morel (Maison d&#39;Economie Solidaire) ?" in text
    assert "Oui, c’est moi" in text and 'method="post"' in text and "<script>" not in text
    assert rows(read, event.slug)[0][6] is None and "rouages_participant" not in page.headers.get("Set-Cookie", "")


def test_the_first_phone_owns_the_code_and_another_is_refused(app, read, event):
    import_list(read, event.slug)
    _pos, _name, _org, _mail, _role, badge, _claimed, token = rows(read, event.slug)[0]
    first = app.test_client()
    answer = claim(first, badge)
    assert answer.status_code == 200
    assert f"rouages_participant={token};" in answer.headers["Set-Cookie"]
    assert answer.headers["Cache-Control"] == "no-store"
    data = json.loads(re.search(r'<script type="application/json" id="rouages-claim">(.*?)</script>',
                                answer.get_data(as_text=True), re.S)[1])
    assert data == {"slug": event.slug, "token": token, "name": "Camille Morel",
                    "organisation": "Maison d'Economie Solidaire", "next": f"/e/{event.slug}"}
    claimed = rows(read, event.slug)[0]
    assert claimed[6] is not None
    assert read(lambda: db.session.scalar(select(Participant.listed).where(Participant.badge == badge))) is False

    # The same phone again, by the QR code or the button: straight through, nothing changes.
    assert first.get(f"/p/{badge}").status_code == 200 and "rouages-claim" in first.get(f"/p/{badge}").get_data(True)
    assert claim(first, badge).status_code == 200
    assert rows(read, event.slug)[0] == claimed

    other = app.test_client()
    before = all_participants(read)
    looked = other.get(f"/p/{badge}", headers={"Accept-Language": "fr"})
    assert looked.status_code == 409
    assert "Un autre téléphone utilise déjà ce code personnel" in looked.get_data(as_text=True)
    assert "accueil" in looked.get_data(as_text=True)
    other.set_cookie("rouages_participant", "x" * 32)
    refused = other.post(f"/p/{badge}", data={"csrf_token": csrf(other, "/login")})
    assert refused.status_code == 409 and token not in refused.get_data(as_text=True)
    assert "rouages_participant" not in refused.headers.get("Set-Cookie", "")
    assert all_participants(read) == before


def test_an_unknown_code_is_404_and_lookups_are_limited_per_address(tmp_path, databases, migrated_db):
    limited = create_app({**base_config(tmp_path, databases.copy_url(migrated_db, tmp_path)),
                          "LIMIT_BADGE_MISSES_BURST": 3, "LIMIT_BADGE_MISSES_PER_MINUTE": 1})
    with limited.app_context():
        event = db.session.get(Event, import_file(limited, DATA / "small.yaml").id)
        import_registrants(event, LIST)
        badge = registrants(event)[0].badge
    http = limited.test_client()
    for _ in range(5):  # real codes cost nothing: a room scans its badges from one address
        assert http.get(f"/p/{badge}").status_code == 200
    assert http.get("/p/AAAAAAAAAAAA").status_code == 404
    assert http.get("/p/no").status_code == 404
    assert http.get("/p/" + "%27" * 20).status_code == 404
    for probe in ("/p/BBBBBBBBBBBB", "/p/CCCCCCCCCCCC"):  # past the limit, unknown codes wait: misses are probing
        refused = http.get(probe, headers={"Accept-Language": "fr"})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "Trop de demandes" in refused.get_data(as_text=True)
    # A real code always works, so one phone probing behind the venue's address cannot block the doors.
    assert http.get(f"/p/{badge}").status_code == 200 and claim(http, badge).status_code == 200
    assert http.get("/p/DDDDDDDDDDDD", environ_base={"REMOTE_ADDR": "127.0.0.2"}).status_code == 404
    with limited.app_context():
        db.engine.dispose()


def test_a_reset_phone_cannot_spend_the_new_owner_post_allowance(tmp_path, databases, migrated_db):
    limited = create_app({**base_config(tmp_path, databases.copy_url(migrated_db, tmp_path)),
                          "LIMIT_POSTS_BURST": 3, "LIMIT_POSTS_PER_MINUTE": 1})
    with limited.app_context():
        event = db.session.get(Event, import_file(limited, DATA / "small.yaml").id)
        import_registrants(event, LIST)
        person = registrants(event)[0]
        badge, person_id, code = person.badge, person.id, event.sessions[1].code
    old_http = limited.test_client()
    assert claim(old_http, badge).status_code == 200
    old = socket_client(limited, old_http)
    assert old.emit("join", {"code": code}, callback=True)["participant"]["id"] == person_id
    with limited.app_context():
        reset_badge(db.session.get(Participant, person_id))
    refused = [old.emit("post", {"code": code, "client_id": f"old-{n:08d}", "text": "Encore"}, callback=True)
               for n in range(10)]
    assert [r["error"]["code"] for r in refused] == ["not_joined"] * 10 and old.is_connected()
    new_http = limited.test_client()
    assert claim(new_http, badge).status_code == 200
    new = socket_client(limited, new_http)
    assert new.emit("join", {"code": code}, callback=True)["participant"]["id"] == person_id
    sent = [new.emit("post", {"code": code, "client_id": f"new-{n:08d}", "text": f"Idée {n}"}, callback=True)
            for n in range(3)]
    assert all(a["ok"] for a in sent), sent
    old.disconnect()
    new.disconnect()
    with limited.app_context():
        assert db.session.scalar(select(func.count(Post.id)).where(Post.participant_id == person_id)) == 3
        # The session gives its connection back before the pool closes them all: one still checked out at dispose()
        # would only be closed by the garbage collector, a warning in a later test.
        db.session.remove()
        db.engine.dispose()
    if "rouages.post_engine" in limited.extensions:  # the post writer's own connection, on SQLite
        limited.extensions["rouages.post_engine"].dispose()


def test_a_post_without_its_csrf_token_claims_nothing(app, read, event, client):
    import_list(read, event.slug)
    badge = rows(read, event.slug)[0][5]
    assert client.post(f"/p/{badge}").status_code == 400
    assert rows(read, event.slug)[0][6] is None


# Joining by name: the same person as by the code ----------------------------------------------------------------

def test_a_typed_name_never_takes_a_registrant_nor_their_code(app, read, event):
    import_list(read, event.slug)
    before = rows(read, event.slug)
    code = event.sessions[1].code
    phone = socket_client(app)
    me = phone.emit("join", {"code": code}, callback=True)["participant"]
    assert phone.emit("post", {"code": code, "client_id": "anon-00000001", "text": "Idée anonyme"},
                      callback=True)["ok"]
    # Giving Hélène's name (a namesake, or her badge read across the room), on the first join and on a rejoin.
    for token in (None, me["token"]):
        ack = phone.emit("join", {"code": code, "token": token, "name": "helene dupre", "organisation": "MES"},
                         callback=True)
        assert ack["ok"], ack
        held = read(lambda held_id=ack["participant"]["id"]: db.session.get(Participant, held_id))
        assert (held.badge, held.registered_position, held.badge_claimed_at, held.email) == (None, None, None, None)
    assert rows(read, event.slug) == before  # the list, badges, tokens and claims are untouched
    assert read(lambda: db.session.scalar(select(Participant.listed).where(Participant.badge == before[1][5]))) is True
    # The real Hélène scans her code: it is hers, and the phone's anonymous idea stays the phone's.
    http = app.test_client()
    assert claim(http, before[1][5]).status_code == 200
    joined = socket_client(app, http).emit("join", {"code": code}, callback=True)
    assert joined["participant"]["token"] == before[1][7] and joined["posts"] == []
    assert read(lambda: db.session.scalar(select(Post.participant_id).where(Post.client_id == "anon-00000001"))) \
        == me["id"]


def test_a_name_typed_on_a_registrant_phone_leaves_their_listed_name_for_the_next_import(app, read, event):
    import_list(read, event.slug)
    helene = rows(read, event.slug)[1]  # no e-mail: the next import knows her by name and organisation
    http = app.test_client()
    assert claim(http, helene[5]).status_code == 200
    claimed = rows(read, event.slug)[1]
    ack = socket_client(app, http).emit("join", {"code": event.sessions[1].code, "name": "Léna", "organisation": "X"},
                                        callback=True)
    assert ack["ok"] and ack["participant"]["token"] == helene[7]
    assert ack["participant"]["name"] == "Hélène Dupré" and ack["participant"]["organisation"] == "MES"
    assert import_list(read, event.slug) == {"added": 0, "updated": 3, "skipped": 1, "removed": 0}
    assert rows(read, event.slug)[1] == claimed  # same badge, same claim, same token
    assert read(lambda: db.session.scalar(select(func.count(Participant.id)))) == 3


def test_a_claimed_code_is_not_taken_by_name(app, read, event, client):
    import_list(read, event.slug)
    *_rest, token = rows(read, event.slug)[0]
    claim(client, rows(read, event.slug)[0][5])
    ack = socket_client(app).emit("join", {"code": event.sessions[1].code, "name": "Camille Morel"}, callback=True)
    assert ack["participant"]["token"] != token
    assert rows(read, event.slug)[0][7] == token


# World café plans ------------------------------------------------------------------------------------------------

@pytest.fixture
def cafe_event(app):
    """An event with a world café (the format's example, five tables)."""
    item = registry()["world_cafe"].example
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    return import_file(app, eventfile.dump(doc))


def test_the_plan_of_a_world_cafe_seats_every_registrant(app, read, cafe_event, console):
    cafe = cafe_event.sessions[0]
    import_list(read, "cafe")
    # The session's own list names Alex too, and someone else: Alex is seated once, as the registrant.
    assert read(lambda: import_csv(db.session.get(Session, cafe.id), "nom;structure\nAlex Petit;Coop Azur\nLéa Roux;CAF\n")) \
        == {"added": 2, "skipped": 0}
    plan = console.emit("world_cafe.plan", {"code": cafe.code}, callback=True)
    assert plan["ok"], plan
    people = {r[1]: r for r in rows(read, "cafe")}
    ids = read(lambda: {p.name: str(p.id) for p in db.session.scalars(select(Participant))})
    assert set(plan["plan"]["assignments"]) == {ids["Camille Morel"], ids["Hélène Dupré"], ids["Alex Petit"],
                                                ids["Léa Roux"]}
    assert all(len(route) == plan["plan"]["rounds"] for route in plan["plan"]["assignments"].values())
    # Camille's phone claims her code, joins the café, and is told her tables.
    http = app.test_client()
    claim(http, people["Camille Morel"][5])
    ack = socket_client(app, http).emit("join", {"code": cafe.code}, callback=True)
    assert ack["participant"]["id"] == int(ids["Camille Morel"])
    assert ack["assignment"] == plan["plan"]["assignments"][ids["Camille Morel"]]
    # Computing again seats nobody twice.
    again = console.emit("world_cafe.plan", {"code": cafe.code}, callback=True)["plan"]
    assert len(again["assignments"]) == 4
    assert read(lambda: db.session.scalar(select(func.count(Attendance.id)).where(Attendance.session_id == cafe.id))) == 4


# The console page ------------------------------------------------------------------------------------------------

def test_the_console_page_imports_lists_and_resets(app, read, event, organiser):
    anonymous = app.test_client()
    assert anonymous.get(f"/console/e/{event.slug}/registrants").status_code == 302
    http = app.test_client()
    login(http)
    path = f"/console/e/{event.slug}/registrants"
    page = http.get(path, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Pas encore de liste d’inscription." in page
    from io import BytesIO

    sent = http.post(path, data={"csrf_token": csrf(http, path), "file": (BytesIO(LIST.encode("utf-8-sig")), "l.csv")},
                     headers={"Accept-Language": "fr"}, follow_redirects=True)
    text = sent.get_data(as_text=True)
    assert "3 ajoutées" in text and "inscrites : 3 · QR activés : 0" in text
    badge = rows(read, event.slug)[0][5]
    phone = app.test_client()
    claim(phone, badge)
    text = http.get(path, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "QR activé le" in text and "pas encore" in text and f"/p/{badge}" in text
    person = read(lambda: db.session.scalar(select(Participant.id).where(Participant.badge == badge)))
    old_token = rows(read, event.slug)[0][7]
    reset = http.post(f"{path}/{person}/reset", data={"csrf_token": csrf(http, path)}, headers={"Accept-Language": "fr"},
                      follow_redirects=True)
    assert "Le QR code de Camille Morel est de nouveau libre" in reset.get_data(as_text=True)
    after = rows(read, event.slug)[0]
    assert after[6] is None and after[7] != old_token
    # The old phone is a stranger now; the next phone to scan owns the code.
    assert phone.get(f"/p/{badge}").status_code == 200 and "rouages-claim" not in phone.get(f"/p/{badge}").get_data(True)
    assert claim(app.test_client(), badge).status_code == 200
    # A bad list changes nothing and says why.
    bad = http.post(path, data={"csrf_token": csrf(http, path),
                                "file": (BytesIO(b"nom;email\nSacha;pas-une-adresse\n"), "l.csv")},
                    headers={"Accept-Language": "fr"}, follow_redirects=True)
    assert "Ligne 2 : « pas-une-adresse » n’est pas une adresse e-mail valide." in bad.get_data(as_text=True)
    assert len(rows(read, event.slug)) == 3
    # Another event's person cannot be reset through this event's address.
    assert http.post(f"{path}/999999/reset", data={"csrf_token": csrf(http, path)}).status_code == 404
    # Past what a database integer holds: SQLite and PostgreSQL would both refuse the query.
    assert http.post(f"{path}/{2**64}/reset", data={"csrf_token": csrf(http, path)}).status_code == 404


def test_lists_saved_by_french_excel_are_read_and_oversized_files_refused_whole(app, read, event, organiser):
    from io import BytesIO

    http = app.test_client()
    login(http)
    path = f"/console/e/{event.slug}/registrants"

    def send(content: bytes) -> str:
        return http.post(path, data={"csrf_token": csrf(http, path), "file": (BytesIO(content), "l.csv")},
                         headers={"Accept-Language": "fr"}, follow_redirects=True).get_data(as_text=True)

    assert "3 ajoutées" in send(LIST.encode("cp1252"))
    imported = rows(read, event.slug)
    assert [(r[1], r[4]) for r in imported] == [("Camille Morel", "Animatrice"), ("Hélène Dupré", None),
                                                ("Alex Petit", "Élu")]
    longer = (LIST + "Sacha Roux;Ville de Lille;;\n").encode("utf-8")
    page = send(longer + b" " * (MAX_BYTES - len(longer) + 1))
    assert "Le fichier dépasse 2 Mo : ce ne peut pas être une liste de personnes." in page
    page = send(b"nom\nCamille \x81\n")  # a byte that is neither UTF-8 nor Windows-1252
    assert "Ce fichier n’est ni du texte UTF-8 ni du Windows-1252" in page
    assert rows(read, event.slug) == imported


def test_the_console_says_when_a_code_was_activated_in_the_event_time_zone(app, read, organiser):
    from datetime import datetime

    text = (DATA / "small.yaml").read_text("utf-8").replace("slug: petite-rencontre", "slug: loin\ntimezone: Pacific/Auckland")
    import_file(app, text)
    import_list(read, "loin")

    def activate():
        person = registrants(db.session.scalar(select(Event).where(Event.slug == "loin")))[0]
        person.badge_claimed_at = datetime(2026, 6, 9, 22, 30)  # stored in UTC: 10:30 the next morning in Auckland
        db.session.commit()

    read(activate)
    http = app.test_client()
    login(http)
    page = http.get("/console/e/loin/registrants", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "QR activé le 10 juin à 10:30" in page


def test_the_cli_imports_and_lists_with_personal_urls(runner, read, event, tmp_path):
    source = tmp_path / "inscrits.csv"
    source.write_text(LIST, encoding="utf-8-sig")
    done = runner.invoke(cli, args=["registrants", "import", event.slug, str(source)])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "3 added, 0 already known, 0 no longer on the list, 1 lines skipped."
    listed = runner.invoke(cli, args=["registrants", "list", event.slug, "--json"])
    found = json.loads(listed.output)
    assert [(r["position"], r["name"], r["claimed_at"]) for r in found] == [
        (1, "Camille Morel", None), (2, "Hélène Dupré", None), (3, "Alex Petit", None)]
    assert [r["url"] for r in found] == [f"http://127.0.0.1:5999/p/{r[5]}" for r in rows(read, event.slug)]
    plain = runner.invoke(cli, args=["registrants", "list", event.slug]).output
    assert "   1  Camille Morel (Maison d'Economie Solidaire)" in plain and "[not claimed]" in plain
    bad = tmp_path / "bad.csv"
    bad.write_text("nom;mail\nSacha;sacha@\n")
    refused = runner.invoke(cli, args=["registrants", "import", event.slug, str(bad)])
    assert refused.exit_code == 1 and "Ligne 2 : « sacha@ »" in refused.output
    assert runner.invoke(cli, args=["registrants", "list", "nope"]).exit_code == 1
    excel = tmp_path / "excel.csv"
    excel.write_bytes((LIST + "Sacha Roux;Ville de Lille;;Élue\n").encode("cp1252"))
    done = runner.invoke(cli, args=["registrants", "import", event.slug, str(excel)])
    assert done.output.strip() == "1 added, 3 already known, 0 no longer on the list, 1 lines skipped."
    assert [r[1] for r in rows(read, event.slug)][-2:] == ["Alex Petit", "Sacha Roux"]
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"nom\nLou\n" + b" " * MAX_BYTES)
    refused = runner.invoke(cli, args=["registrants", "import", event.slug, str(huge)])
    assert refused.exit_code == 1 and "Le fichier dépasse 2 Mo" in refused.output
    assert len(rows(read, event.slug)) == 4


# A real server: concurrent claims, and a reset that cuts the old phone off ---------------------------------------

@pytest.fixture
def live(tmp_path, server_env):
    """A real gevent server with the small event, its registration list imported by the CLI, and an organiser."""
    source = tmp_path / "inscrits.csv"
    source.write_text(LIST, encoding="utf-8")
    with serving(tmp_path / "data", DATA / "small.yaml", "petite-rencontre", "world-cafe", server_env) as srv:
        srv.cli("registrants", "import", "petite-rencontre", str(source))
        srv.people = json.loads(srv.cli("registrants", "list", "petite-rencontre", "--json").stdout)
        srv.sessions = json.loads(srv.cli("sessions", "petite-rencontre", "--json").stdout)
        yield srv


def http_claim(url: str, http: requests.Session | None = None) -> requests.Response:
    http = http or requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', http.get(url, timeout=10).text)[1]
    return http.post(url, data={"csrf_token": token}, timeout=10)


@pytest.mark.server
def test_of_phones_claiming_at_once_exactly_one_wins(live):
    url = live.people[0]["url"]
    phones = [requests.Session() for _ in range(8)]
    tokens = [re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', p.get(url, timeout=10).text)[1]
              for p in phones]
    start, answers = threading.Barrier(len(phones)), [None] * len(phones)

    def press(n):
        start.wait()
        answers[n] = phones[n].post(url, data={"csrf_token": tokens[n]}, timeout=20)

    threads = [threading.Thread(target=press, args=(n,)) for n in range(len(phones))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7
    winner = next(p for p, a in zip(phones, answers, strict=True) if a.status_code == 200)
    owned = json.loads(live.cli("registrants", "list", "petite-rencontre", "--json").stdout)[0]
    assert owned["claimed_at"] is not None
    assert winner.get(url, timeout=10).status_code == 200
    assert sum(p.get(url, timeout=10).status_code == 409 for p in phones) == 7


@pytest.mark.server
def test_the_claimed_identity_holds_in_every_session_and_a_reset_cuts_the_old_phone_off(live):
    url = live.people[0]["url"]
    owner = requests.Session()
    assert http_claim(url, owner).status_code == 200
    token = owner.cookies["rouages_participant"]
    codes = [s["code"] for s in live.sessions]
    tags = [{"function": "animation"} if s["key"] == "world-cafe" else {} for s in live.sessions]
    old = socketio.Client(reconnection=False)
    resets = []
    old.on("identity_reset", resets.append)
    old.connect(live.url, transports=["websocket"], wait_timeout=10)
    ids = set()
    for n, code in enumerate(codes):
        joined = old.call("join", {"code": code, "token": token}, timeout=10)
        assert joined["participant"]["name"] == "Camille Morel", joined
        ids.add(joined["participant"]["id"])
        ack = old.call("post", {"code": code, "client_id": f"camille-{n:04d}", "text": f"Idée {n}", "tags": tags[n]},
                       timeout=10)
        assert ack["ok"] and ack["post"]["author"] == "Camille Morel", ack
        assert ack["post"]["organisation"] == "Maison d'Economie Solidaire"
    assert len(ids) == 1
    seen = requests.get(f"{live.url}/api/sessions/{codes[0]}/posts", timeout=10).json()["posts"]
    assert [(p["author"], p["text"]) for p in seen] == [("Camille Morel", "Idée 0")]

    # The organiser resets Camille's code from the console.
    console = requests.Session()
    console.headers["Cookie"] = organiser_cookie(live)
    page = console.get(f"{live.url}/console/e/petite-rencontre/registrants", timeout=10).text
    action = re.search(r'action="(/console/e/petite-rencontre/registrants/\d+/reset)"', page)[1]
    csrf_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    assert console.post(f"{live.url}{action}", data={"csrf_token": csrf_token}, timeout=10,
                        allow_redirects=False).status_code == 303

    # The connection that joined before is refused at once: posting, voting, asking its seat.
    refused = old.call("post", {"code": codes[0], "client_id": "camille-late-0001", "text": "Après la remise à zéro",
                                "tags": tags[0]}, timeout=10)
    assert refused["ok"] is False and refused["error"]["code"] == "not_joined", refused
    assert old.call("seat", {"code": codes[0]}, timeout=10)["error"]["code"] == "not_joined"
    assert resets == [{"participant": next(iter(ids))}]
    # Its old token joins as a stranger; the HTTP fallback refuses it too.
    stranger = old.call("join", {"code": codes[0], "token": token}, timeout=10)
    assert stranger["participant"]["id"] not in ids and stranger["participant"]["token"] != token
    assert stranger["posts"] == []
    fallback = requests.post(f"{live.url}/api/sessions/{codes[0]}/posts", timeout=10, json={
        "token": token, "client_id": "camille-http-0001", "text": "Par HTTP", "tags": tags[0]})
    assert fallback.status_code == 403 and fallback.json()["error"]["code"] == "not_joined"
    old.disconnect()
    seen = requests.get(f"{live.url}/api/sessions/{codes[0]}/posts", timeout=10).json()["posts"]
    assert [(p["author"], p["text"]) for p in seen] == [("Camille Morel", "Idée 0")]

    # The next phone to scan is Camille, with her ideas.
    fresh = requests.Session()
    assert http_claim(url, fresh).status_code == 200
    new = socketio.Client(reconnection=False)
    new.connect(live.url, transports=["websocket"], wait_timeout=10)
    joined = new.call("join", {"code": codes[0], "token": fresh.cookies["rouages_participant"]}, timeout=10)
    assert joined["participant"]["id"] in ids and [p["text"] for p in joined["posts"]] == ["Idée 0"]
    new.disconnect()
    assert owner.get(url, timeout=10).status_code == 409  # the phone that had it is a stranger now
