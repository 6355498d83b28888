"""Error pages: the application's style and language with a way back, never the framework's default page."""

from __future__ import annotations

import pytest

from conftest import login


def test_an_unknown_page_is_a_french_page_with_a_way_home(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "<h1>Page introuvable</h1>" in page
    assert "Cette page n’existe pas." in page
    assert 'href="/"' in page and "Retour à l’accueil" in page
    assert "Not Found" not in page and "requested URL" not in page
    assert "css/base.css" in page


def test_an_unknown_join_code_is_the_same_page(client):
    page = client.get("/j/ZZZZZZ").get_data(as_text=True)
    assert "Page introuvable" in page


def test_error_pages_follow_the_language(client):
    response = client.get("/no/such/page?lang=en")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.get_data(as_text=True)


def test_a_missing_organiser_page_leads_back_to_the_console(client, organiser, event):
    login(client)
    page = client.get(f"/console/s/{event.sessions[0].code}/plan/print").get_data(as_text=True)
    assert "Page introuvable" in page and 'href="/console/"' in page


@pytest.mark.parametrize(("method", "path", "status", "title"), [
    ("post", "/", 405, "Demande incomprise"),
    ("post", "/login", 413, "Trop volumineux"),
])
def test_other_refusals_have_their_page_too(client, method, path, status, title):
    body = b"x" * (5 * 1024 * 1024) if status == 413 else b""
    response = getattr(client, method)(path, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == status
    assert f"<h1>{title}</h1>" in response.get_data(as_text=True)


def test_api_errors_stay_json(client):
    response = client.get("/api/no/such")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "http_error"
