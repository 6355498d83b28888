"""HTTP pages and endpoints: what a phone, a wall and an organiser get, and what is refused."""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image

from app.extensions import db
from app.models import Table
from app.services import eventfile
from conftest import PUBLIC_URL, import_file, login
from workshops import registry


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_home_asks_for_a_code_in_french_and_redirects(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="fr">' in page and "Code de l’atelier" in page
    response = client.get("/?code= ab-cd ef")
    assert response.status_code == 302 and response.headers["Location"] == "/j/ABCDEF"


def test_english_is_a_query_away_and_remembered(client):
    response = client.get("/?lang=en")
    assert "Workshop code" in response.get_data(as_text=True)
    assert "rouages_lang=en" in response.headers["Set-Cookie"]
    assert "Workshop code" in client.get("/").get_data(as_text=True)


def test_phone_page_shows_question_and_tags(client, cafe):
    page = client.get(f"/j/{cafe.code}").get_data(as_text=True)
    assert "Quelles fonctions pour développer les coopérations territoriales ?" in page
    assert 'name="tag-function" value="gestion_de_projet"' in page
    assert "Gestion de projet" in page and "Catégories" in page and "(facultatif)" in page
    assert 'src="/static/js/phone.js"' in page


def test_phone_page_normalises_the_code_and_404s_unknown_ones(client, cafe):
    assert client.get(f"/j/{cafe.code.lower()}").headers["Location"] == f"/j/{cafe.code}"
    assert client.get("/j/ZZZZZZ").status_code == 404


def test_wall_shows_code_qr_and_join_url(client, cafe):
    page = client.get(f"/wall/{cafe.code}").get_data(as_text=True)
    assert cafe.code in page and f"{PUBLIC_URL}/j/{cafe.code}" in page
    assert f'src="/qr/{cafe.code}.svg"' in page


def test_qr_codes_decode_to_the_join_url(client, cafe):
    png = client.get(f"/qr/{cafe.code}.png")
    assert png.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert [r.text for r in decoded] == [f"{PUBLIC_URL}/j/{cafe.code}"]
    svg = client.get(f"/qr/{cafe.code}.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data[:300]


def test_pages_send_a_strict_content_security_policy(client, cafe):
    for path in ("/", f"/j/{cafe.code}", f"/wall/{cafe.code}", "/login"):
        csp = client.get(path).headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_pages_load_nothing_from_another_host(client, cafe):
    for path in ("/", f"/j/{cafe.code}", f"/wall/{cafe.code}", "/login"):
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', page), path


def test_console_requires_sign_in(client, cafe):
    for path in ("/console/", f"/console/s/{cafe.code}", f"/console/s/{cafe.code}/print"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_login_refuses_a_wrong_password_and_a_missing_csrf_token(client, organiser):
    assert client.post("/login", data={"email": organiser, "password": "correct-horse-battery"}).status_code == 400
    assert login(client, password="wrong-password-1").status_code == 401
    assert client.get("/console/").status_code == 302


def test_console_lists_sessions_after_sign_in(client, organiser, event):
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/console/"
    page = client.get("/console/").get_data(as_text=True)
    for session in event.sessions:
        assert session.code in page and session.title in page
    assert PUBLIC_URL in page
    assert "mardi 9 juin 10:00–11:30" in page  # the event file's 2026-06-09, as a French reader writes it
    assert "Tuesday 9 June 10:00–11:30" in client.get("/console/?lang=en").get_data(as_text=True)


def test_console_warns_when_phones_cannot_reach_the_address(app, client, organiser, event):
    app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"
    login(client)
    page = client.get("/console/").get_data(as_text=True)
    assert "Les téléphones ne peuvent pas joindre cette adresse" in page


def test_session_console_and_poster(client, organiser, cafe):
    login(client)
    page = client.get(f"/console/s/{cafe.code}").get_data(as_text=True)
    assert 'src="/static/js/console.js"' in page and cafe.code in page
    poster = client.get(f"/console/s/{cafe.code}/print").get_data(as_text=True)
    assert f"{PUBLIC_URL}/j/{cafe.code}" in poster


def test_logout_needs_post_with_csrf(client, organiser):
    login(client)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    page = client.get("/console/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/console/").status_code == 302


def test_api_refuses_non_json_and_unknown_codes(client, cafe):
    response = client.post(f"/api/sessions/{cafe.code}/posts", data="text=hello")
    assert response.status_code == 415 and response.get_json()["error"]["code"] == "invalid_payload"
    response = client.post("/api/sessions/NOPE99/posts", json={"text": "x"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_code"
    response = client.post(f"/api/sessions/{cafe.code}/posts", json={"client_id": "abcdefgh", "text": "x",
                                                                    "tags": {"function": "support"}})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_joined"
    assert client.get(f"/api/sessions/{cafe.code}/posts?since=x").status_code == 400


def test_api_join_then_post_with_the_cookie_token(client, cafe):
    joined = client.post(f"/api/sessions/{cafe.code}/join", json={"name": "Dominique"}).get_json()
    client.set_cookie("rouages_participant", joined["participant"]["token"])
    response = client.post(f"/api/sessions/{cafe.code}/posts",
                           json={"client_id": "cookie-0001", "text": "Idée", "tags": {"function": "support"}})
    assert response.status_code == 201
    assert response.get_json()["post"]["author"] == "Dominique"
    listed = client.get(f"/api/sessions/{cafe.code}/posts").get_json()["posts"]
    assert [p["text"] for p in listed] == ["Idée"]


def test_api_failures_are_json(client, cafe):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.get_json()["ok"] is False
    response = client.delete(f"/api/sessions/{cafe.code}/posts")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "http_error"
    assert client.get("/no-such-page").mimetype == "text/html"


def test_table_pages_cards_and_qr_codes(client, organiser, read):
    item = registry()["world_cafe"].example
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    session = import_file(client.application, eventfile.dump(doc)).sessions[0]
    tables = read(lambda: [(t.name, t.code) for t in db.session.query(Table).order_by(Table.position)])
    name, code = tables[1]
    phone = client.get(f"/j/{code}").get_data(as_text=True)
    # The table's theme is not asked (the seat sentence, written once the phone joined, says where ideas go).
    assert '<fieldset class="tags" data-framework="function" hidden>' in phone and "phone__table" not in phone
    assert '<fieldset class="tags" data-framework="category">' in phone
    wall = client.get(f"/wall/{code}").get_data(as_text=True)
    assert f"{PUBLIC_URL}/j/{code}" in wall and "Créativité ·" in wall
    png = client.get(f"/qr/{code}.png").data
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))] == [f"{PUBLIC_URL}/j/{code}"]
    login(client)
    console = client.get(f"/console/s/{session.code}").get_data(as_text=True)
    assert all(table_code in console for _, table_code in tables)
    cards = client.get(f"/console/s/{session.code}/tables/print").get_data(as_text=True)
    assert cards.count('class="card-sheet"') == 5 and "Hôte\u00a0: Camille" in cards


def test_a_registration_list_is_seated_by_the_plan_and_printed(app, client, organiser, read):
    import re

    from app.extensions import socketio

    item = registry()["world_cafe"].example
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    session = import_file(app, eventfile.dump(doc)).sessions[0]
    login(client)
    page = client.get(f"/console/s/{session.code}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    people = "nom;structure;email\n" + "".join(f"Personne {i};Asso {i % 4};p{i}@example.org\n" for i in range(20))
    people += ";Sans nom;x@example.org\nPersonne 3;Asso 3;doublon@example.org\n"
    response = client.post(f"/console/s/{session.code}/registrations", follow_redirects=True,
                           data={"csrf_token": token, "file": (io.BytesIO(people.encode("utf-8-sig")), "liste.csv")})
    assert "20 personnes ajoutées à la liste (2 déjà présentes ou sans nom)." in response.get_data(as_text=True)
    bad = client.post(f"/console/s/{session.code}/registrations", follow_redirects=True,
                      data={"csrf_token": token, "file": (io.BytesIO(b"email\nx@example.org\n"), "l.csv")})
    assert "nom" in bad.get_data(as_text=True) and "colonne" in bad.get_data(as_text=True)
    assert client.get(f"/console/s/{session.code}/plan/print").status_code == 404

    console = socketio.test_client(app, flask_test_client=client)
    plan = console.emit("world_cafe.plan", {"code": session.code}, callback=True)["plan"]
    assert len(plan["assignments"]) == 20
    printed = client.get(f"/console/s/{session.code}/plan/print").get_data(as_text=True)
    assert printed.count("<tr><td>Personne ") == 20 and "Tour 3" in printed
    console.disconnect()
