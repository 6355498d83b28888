"""The restitution page in a real Chromium: texts typed, previewed and saved, publication chosen, checked by axe-core."""

from __future__ import annotations

import pytest

from conftest import DATA
from server import serving
import test_browser as shared
import test_browser_cafe
from test_browser import expect, shot, watch_requests

# The same headless Chromium and the same check that no page threw a JavaScript error.
browser, no_script_errors = shared.browser, shared.no_script_errors
axe = test_browser_cafe.axe

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path, server_env):
    """A real gevent server with the small event and an organiser."""
    with serving(tmp_path / "data", DATA / "small.yaml", "petite-rencontre", "world-cafe", server_env) as srv:
        yield srv


def test_an_organiser_previews_saves_and_publishes_the_restitution_texts(browser, server, axe):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    foreign = watch_requests(page, server)
    page.goto(f"{server.url}/console/")
    page.get_by_label("Adresse e-mail").fill("orga@example.org")
    page.get_by_label("Mot de passe").fill("correct-horse-battery")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="Restitution : textes et publication").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Restitution")
    axe(page, "the restitution page, empty")

    origin = page.get_by_role("textbox", name="Origine et contexte")
    origin.fill("# Le projet\n**Coopérer** sur le territoire.\n\n![logo](http://192.0.2.1/logo.png) <img src=x>")
    page.get_by_role("group", name="Arbres à idées").get_by_role("textbox", name="Arbres à idées : à retenir").fill(
        "- Amorcer\n- Maintenir")
    page.get_by_role("button", name="Aperçu").click()
    preview = page.get_by_role("region", name="Aperçu : Origine et contexte")
    expect(preview.locator("h3")).to_have_text("Le projet")
    expect(preview.locator("strong")).to_have_text("Coopérer")
    expect(preview.locator("img")).to_have_count(0)
    # The preview kept what was typed, unsaved, in every box.
    expect(page.get_by_role("textbox", name="Arbres à idées : à retenir")).to_have_value("- Amorcer\n- Maintenir")
    shot(page, "booklet-preview")
    axe(page, "the restitution page with a preview")

    page.get_by_role("button", name="Enregistrer les textes").click()
    expect(page.get_by_role("status").filter(has_text="2 textes enregistrés")).to_be_visible()
    expect(page.get_by_role("textbox", name="Origine et contexte")).to_have_value(
        "# Le projet\n**Coopérer** sur le territoire.\n\n![logo](http://192.0.2.1/logo.png) <img src=x>")

    page.get_by_label("Publier la restitution").check()
    page.get_by_role("button", name="Enregistrer les choix").click()
    expect(page.get_by_role("link", name=f"{server.url}/e/petite-rencontre/restitution")).to_be_visible()
    expect(page.get_by_label("Publier la restitution")).to_be_checked()
    expect(page.get_by_label("Afficher les noms des participants qui en ont donné")).not_to_be_checked()
    shot(page, "booklet-published")
    axe(page, "the restitution page, published")
    # The published web page, as anyone reads it on a phone: the organisers' text, and nothing fetched elsewhere.
    page.get_by_role("link", name=f"{server.url}/e/petite-rencontre/restitution").click()
    page.set_viewport_size({"width": 360, "height": 740})
    expect(page.get_by_role("heading", name="Origine et contexte")).to_be_visible()
    expect(page.get_by_text("Coopérer sur le territoire.")).to_be_visible()
    axe(page, "the restitution's web page")
    assert foreign == []
    page.close()
