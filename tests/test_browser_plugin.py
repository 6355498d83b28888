"""A format installed from another package, in Chromium: its wall and phone modules come from its own folder."""

from __future__ import annotations

import pytest

from app.services import eventfile
from server import serving
import test_browser
from test_browser import shot
from workshops import registry

from playwright.sync_api import expect  # noqa: E402  (after test_browser, which skips when chromium is missing)

pytestmark = pytest.mark.browser
# The Chromium of test_browser, and its check that no page threw a script error.
browser, no_script_errors = test_browser.browser, test_browser.no_script_errors
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def bowl(tmp_path, server_env, fishbowl):
    """A real server, with the plug-in on its path, running the plug-in's example session."""
    item = registry()["fishbowl"].example
    event = tmp_path / "bocal.yaml"
    event.write_text(eventfile.dump({"slug": "bocal", "title": "Bocal", "programme": [
        {"date": "2026-06-09", "items": [item]}]}), encoding="utf-8")
    with serving(tmp_path / "data", event, "bocal", extra_env={**server_env, **fishbowl}) as srv:
        yield srv


def test_the_plugin_wall_renders_a_post_sent_from_a_phone(browser, bowl):
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    loaded = []
    wall.on("response", lambda response: loaded.append((response.url.removeprefix(bowl.url), response.status)))
    wall.goto(f"{bowl.url}/wall/{bowl.code}")
    expect(wall.locator("#fishbowl-centre")).to_have_text("Pas encore d’idée.")
    assert ("/formats/fishbowl/wall.js", 200) in loaded and ("/formats/fishbowl/wall.css", 200) in loaded
    # The plug-in's stylesheet applies: the centre is laid out by it, not by the core.
    assert wall.locator("#fishbowl-centre").evaluate("n => getComputedStyle(n).position") == "absolute"

    phone = browser.new_page(**PHONE)
    phone.goto(f"{bowl.url}/j/{bowl.code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    expect(phone.locator("#fishbowl-phone")).to_have_text("Pas encore d’idée.")
    # The module preset the bowl's movement in the core's form: the choice is not asked, the stored post carries it.
    expect(phone.locator('fieldset[data-framework="movement"]')).to_be_hidden()
    for text in ("Garder les pauses longues", "Un tour de table au début", "Finir par un vote"):
        phone.fill("#post-text", text)
        phone.get_by_role("button", name="Envoyer").click()
        expect(phone.locator(".mine", has_text=text)).to_contain_text("Envoyée")
        expect(phone.locator(".mine", has_text=text).locator(".tag")).to_have_text("Amorcer")

    # The newest idea sits in the centre, the ones before it on the ring.
    expect(wall.locator("#fishbowl-centre")).to_have_text("Finir par un vote")
    expect(wall.locator(".fishbowl__chair")).to_have_text(["Un tour de table au début", "Garder les pauses longues"])
    expect(wall.locator("#total")).to_have_text("Idées\u00a0: 3")
    # The phone's module hears the join's answer: back on the page, it counts this person's ideas.
    phone.reload()
    expect(phone.locator("#fishbowl-phone")).to_have_text("Idées\u00a0: 3")
    shot(wall, "plugin-fishbowl-wall")
