"""A personal QR code in Chromium: a phone claims it, then posts in a session as the registrant; another is refused."""

from __future__ import annotations

import json

import pytest
import socketio

from conftest import DATA
from server import serving
import test_browser
from test_browser import open_console, shot
import test_browser_cafe

from playwright.sync_api import expect  # noqa: E402  (after test_browser, which skips when chromium is missing)

pytestmark = pytest.mark.browser
browser, no_script_errors = test_browser.browser, test_browser.no_script_errors
axe = test_browser_cafe.axe
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
LIST = "nom;structure;email\nCamille Morel;Maison d'Economie Solidaire;camille@mes.fr\nSacha Roux;Ville de Lille;\n"


@pytest.fixture
def live(tmp_path, server_env):
    """A real server with the small event, its registration list and an organiser."""
    source = tmp_path / "inscrits.csv"
    source.write_text(LIST, encoding="utf-8")
    with serving(tmp_path / "data", DATA / "small.yaml", "petite-rencontre", "world-cafe", server_env) as srv:
        srv.cli("registrants", "import", "petite-rencontre", str(source))
        srv.people = json.loads(srv.cli("registrants", "list", "petite-rencontre", "--json").stdout)
        yield srv


def phone_page(context):
    """A new tab of one phone, whose script errors fail the test like those of the other pages."""
    page = context.new_page()
    page.on("pageerror", lambda error: test_browser.PAGE_ERRORS.append(f"{page.url}: {error}"))
    return page


def test_a_phone_claims_its_code_then_posts_as_the_registrant(browser, live, axe):
    handset = browser.new_context(locale="fr-FR", **PHONE)
    phone = phone_page(handset)
    phone.goto(live.people[0]["url"])
    expect(phone.get_by_role("heading", level=1)).to_have_text("Vous êtes Camille Morel (Maison d'Economie Solidaire) ?")
    axe(phone, "personal code, asking")
    shot(phone, "badge-confirm")
    phone.get_by_role("button", name="Oui, c’est moi").click()
    # The event's own page takes over from here; the phone keeps the identity as the phone page does.
    phone.wait_for_url(f"{live.url}/e/petite-rencontre")
    stored = phone.evaluate("""() => ({token: localStorage.getItem("rouages.token.petite-rencontre"),
        name: localStorage.getItem("rouages.name.petite-rencontre"),
        organisation: localStorage.getItem("rouages.organisation.petite-rencontre")})""")
    cookie = next(c["value"] for c in phone.context.cookies() if c["name"] == "rouages_participant")
    assert stored == {"token": cookie, "name": "Camille Morel", "organisation": "Maison d'Economie Solidaire"}

    phone.goto(f"{live.url}/j/{live.code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    expect(phone.get_by_label("Nom")).to_have_value("Camille Morel")
    phone.locator(".tag-choice", has_text="Animation").click()
    phone.get_by_label("Votre idée").fill("Un repas partagé entre structures")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine").first.locator(".mine__state")).to_have_text("Envoyée")
    shot(phone, "badge-posted")

    # The stored idea is the registrant's: their token finds it, and its author is their name.
    check = socketio.Client(reconnection=False)
    check.connect(live.url, transports=["websocket"], wait_timeout=10)
    joined = check.call("join", {"code": live.code, "token": cookie}, timeout=10)
    check.disconnect()
    assert joined["participant"]["name"] == "Camille Morel"
    assert [(p["text"], p["author"], p["organisation"]) for p in joined["posts"]] == [
        ("Un repas partagé entre structures", "Camille Morel", "Maison d'Economie Solidaire")]

    # Scanning again on the same phone (another tab) goes straight through.
    again = phone_page(handset)
    again.goto(live.people[0]["url"])
    again.wait_for_url(f"{live.url}/e/petite-rencontre")
    again.close()

    other = browser.new_page(**PHONE)
    answer = other.goto(live.people[0]["url"])
    assert answer.status == 409
    expect(other.get_by_role("heading", level=1)).to_have_text("Ce code personnel est déjà utilisé")
    expect(other.locator("main")).to_contain_text("demandez à l’accueil")
    axe(other, "personal code, taken")
    shot(other, "badge-taken")

    console = open_console(browser, live, live.code)
    console.goto(f"{live.url}/console/e/petite-rencontre/registrants")
    row = console.locator("tr", has_text="Camille Morel")
    expect(row).to_contain_text("QR activé le")
    expect(console.locator("tr", has_text="Sacha Roux")).to_contain_text("pas encore")
    axe(console, "registration list")
    shot(console, "registrants-console")
    row.get_by_text("Réinitialiser…").click()
    row.get_by_role("button", name="Réinitialiser le QR code de Camille Morel").click()
    expect(console.locator(".flash")).to_contain_text("Le QR code de Camille Morel est de nouveau libre")
    # The phone page still open forgets the identity and starts again as a new phone.
    expect(phone.get_by_label("Nom")).to_have_value("")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    token = phone.evaluate("() => localStorage.getItem('rouages.token.petite-rencontre')")
    assert token and token != cookie
    expect(phone.locator(".mine")).to_have_count(0)
    # The other phone can now become Camille; the first one is a stranger to the code.
    other.goto(live.people[0]["url"])
    other.get_by_role("button", name="Oui, c’est moi").click()
    other.wait_for_url(f"{live.url}/e/petite-rencontre")
    assert phone.goto(live.people[0]["url"]).status == 409
    for page in (other, console):
        page.close()
    handset.close()
