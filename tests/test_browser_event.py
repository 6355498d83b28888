"""The event page in a real Chromium: a 360 px phone, axe-core, the offline copy, « now » and « next » from the clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from server import serving
import test_browser as shared
import test_browser_cafe
from test_browser import expect, shot, watch_requests

browser, no_script_errors = shared.browser, shared.no_script_errors
axe = test_browser_cafe.axe
pytestmark = pytest.mark.browser
DEMO = Path(__file__).resolve().parent.parent / "app" / "data" / "demo.yaml"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def server(tmp_path, server_env):
    """A real gevent server with the demo event."""
    with serving(tmp_path / "data", DEMO, "demo", extra_env=server_env) as srv:
        yield srv


def open_everything(page) -> None:
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")


def overflow(page) -> int:
    """How many pixels the page is wider than the screen."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def small_targets(page) -> list[str]:
    """Links, buttons and summaries less than 44 px high, as text."""
    return page.evaluate("""() => [...document.querySelectorAll('a, button, summary')]
        .filter((node) => node.getClientRects().length && node.getBoundingClientRect().height < 44)
        .map((node) => `${node.tagName} ${node.textContent.trim().slice(0, 40)}: ${node.getBoundingClientRect().height}`)""")


def test_the_event_page_fits_a_phone_and_passes_axe(browser, server, axe):
    page = browser.new_page(**PHONE)
    foreign = watch_requests(page, server)
    page.clock.install(time="2022-06-09T14:10:00+02:00")
    page.goto(f"{server.url}/e/demo")
    expect(page.locator("#now")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Les Rouages de la Coopération")
    shot(page, "event-phone")
    assert overflow(page) <= 0
    assert small_targets(page) == []
    axe(page, "the event page, folded, during the world café")
    open_everything(page)
    assert overflow(page) <= 0
    assert small_targets(page) == []
    axe(page, "the event page, every part unfolded")
    # A link to a sheet opens it.
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = false; })")
    page.evaluate("() => { location.hash = 'sheet-scic'; }")
    expect(page.locator("#sheet-scic details")).to_have_attribute("open", "")
    expect(page.locator("#sheet-scic")).to_contain_text("capital est ouvert à plusieurs catégories")
    wide = browser.new_page(viewport={"width": 1920, "height": 1080})
    wide.goto(f"{server.url}/e/demo")
    axe(wide, "the event page on a projector")
    assert foreign == []


def test_the_page_reloads_from_its_offline_copy_when_the_network_is_gone(browser, server):
    page = browser.new_page(**PHONE)
    page.goto(f"{server.url}/e/demo")
    expect(page.locator("html")).to_have_attribute("data-offline", "ready", timeout=15_000)
    kept = page.evaluate("""async () => {
        const out = [];
        for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) out.push(new URL(request.url).pathname);
        }
        return out.sort();
    }""")
    assert kept == ["/e/demo", "/static/css/base.css", "/static/css/event.css", "/static/js/event.js",
                    "/static/js/page.js"]
    page.context.set_offline(True)
    server.kill()  # no way round the cache: the server itself is gone
    response = page.reload()
    assert response.from_service_worker
    expect(page.locator("#programme")).to_contain_text("World café des cinq fonctions")
    expect(page.locator("#guests")).to_contain_text("Ecopôle Alimentaire")
    # Styled too: the header keeps the event's colour.
    assert page.evaluate("() => getComputedStyle(document.querySelector('.event__header')).backgroundColor") == \
        "rgb(11, 110, 79)"
    shot(page, "event-offline")
    # What the page does not keep is not served: the console needs the network.
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
        page.goto(f"{server.url}/console/")


def test_the_greeting_comes_from_the_phone_and_the_offline_copy_names_nobody(browser, server):
    page = browser.new_page(**PHONE)
    page.goto(f"{server.url}/static/css/base.css")  # this origin, before the page's worker exists
    # What an earlier version of the worker kept (with a name in it), and another event's copy, which stays.
    page.evaluate("""async () => {
        await (await caches.open('rouages-event:/e/demo')).put('/e/demo', new Response('Bonjour Léonie'));
        await (await caches.open('rouages-event:0123456789abcdef:/e/demo')).put('/e/demo', new Response('x'));
        await (await caches.open('rouages-event:0123456789abcdef:/e/autre')).put('/e/autre', new Response('y'));
        localStorage.setItem('rouages.name.demo', 'Léonie <b>V</b> $&');
    }""")
    page.goto(f"{server.url}/e/demo")
    greeting = page.locator("#greeting")
    expect(greeting).to_have_text("Bonjour Léonie <b>V</b> $&")
    assert greeting.locator("b").count() == 0
    expect(page.locator("html")).to_have_attribute("data-offline", "ready", timeout=15_000)
    kept = page.evaluate("""async () => {
        const out = {};
        for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            out[name] = await Promise.all((await cache.keys()).map(async (r) => (await cache.match(r)).text()));
        }
        return out;
    }""")
    names = sorted(kept)
    assert names[0] == "rouages-event:0123456789abcdef:/e/autre" and len(names) == 2
    assert names[1].startswith("rouages-event:") and names[1].endswith(":/e/demo")
    assert not any("Léonie" in text for text in kept[names[1]])
    # Another person on this phone (or after a reset, when the phone page forgets the name): no one is greeted.
    page.evaluate("() => localStorage.removeItem('rouages.name.demo')")
    page.context.set_offline(True)
    server.kill()
    assert page.reload().from_service_worker
    expect(page.locator("#programme")).to_contain_text("World café des cinq fonctions")
    expect(greeting).to_be_hidden()
    assert "Léonie" not in page.content()


def test_a_malformed_address_still_keeps_the_page_for_offline_reading(browser, server):
    page = browser.new_page(**PHONE)
    page.goto(f"{server.url}/e/demo#100%")
    expect(page.locator("html")).to_have_attribute("data-offline", "ready", timeout=15_000)
    page.evaluate("() => { location.hash = 'sheet-scic'; }")  # the page still opens what a link points to
    expect(page.locator("#sheet-scic details")).to_have_attribute("open", "")


def test_now_and_next_follow_the_device_clock_in_the_venues_time_zone(browser, server):
    # A phone set to New York at 8:10 there is 14:10 at the venue, in Paris: the world café is on.
    page = browser.new_page(**PHONE, timezone_id="America/New_York")
    page.clock.install(time="2022-06-09T14:10:00+02:00")
    page.goto(f"{server.url}/e/demo")
    now = page.locator("#now")

    def shows(index: int, label: str, *items: str) -> None:
        expect(now.locator(f".now__block--{index} .now__label")).to_have_text(label)
        expect(now.locator(f".now__block--{index} li")).to_have_text(list(items))

    shows(1, "En ce moment", "World café des cinq fonctions jusqu’à 15:30 · Grande salle")
    shows(2, "Ensuite", "Pause à 15:30")
    expect(page.locator(".agenda__item--now")).to_have_count(1)
    expect(page.locator(".agenda__item--now")).to_contain_text("World café des cinq fonctions")
    # Left open, the page is right an hour and fifty minutes later: the idea trees.
    page.clock.run_for("01:50:00")
    shows(1, "En ce moment", "Arbres à idées, les coopérations en mouvement jusqu’à 17:00 · Salles d’ateliers")
    shows(2, "Ensuite", "Le diagnostic des Rouages de la Coopération à 17:00 · Grande salle")
    expect(page.locator(".agenda__item--now")).to_contain_text("Arbres à idées")
    # Late in the evening: nothing on, tomorrow's welcome next.
    page.clock.run_for("07:30:00")
    shows(1, "Ensuite", "Accueil de la seconde journée vendredi 10 juin à 09:00 · Grande salle")
    expect(page.locator(".agenda__item--now")).to_have_count(0)
    # After the event, the box goes.
    page.clock.run_for("24:00:00")
    expect(now).to_be_hidden()
    assert page.locator(".now__title").count() == 0
