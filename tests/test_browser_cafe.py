"""A 15-table world café at the size of a real room, in Chromium: the phone's vote list, and axe-core on every page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
import socketio

from conftest import DATA
from server import serving
import test_browser
from test_browser import open_console, shot
from test_server import organiser_cookie

from playwright.sync_api import expect  # noqa: E402  (after test_browser, which skips when chromium is missing)

pytestmark = pytest.mark.browser
# The Chromium of test_browser, and its check that no page threw a script error.
browser, no_script_errors = test_browser.browser, test_browser.no_script_errors
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
# Rules of lesser impact that once failed on a page of Rouages: kept failing so they do not come back.
AXE_FIXED = {"empty-table-header"}
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
THEMES = {"animation": "Animation", "creativite": "Créativité", "valorisation": "Valorisation", "support": "Support",
          "gestion_de_projet": "Gestion de projet"}
CATEGORIES = ["missions", "actions", "besoins", None]
NEEDLE = "Un composteur partagé au tiers-lieu"


def check_axe(page, state: str) -> None:
    """Run axe-core on a page: serious or critical violations, and those of AXE_FIXED, fail, each one printed."""
    # Injected once per loaded page (later states of it reuse it), through the debugging protocol, which the
    # pages' Content-Security-Policy does not restrict.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(f"() => {{ {AXE.read_text(encoding='utf-8')}\n; window.axe = axe; }}")
    violations = page.evaluate("""async () => {
        const report = await window.axe.run(document, { resultTypes: ["violations"] });
        return report.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary.replace(/\\s+/g, " ")}`)}));
    }""")
    found = [v for v in violations if v["impact"] in ("serious", "critical") or v["id"] in AXE_FIXED]
    for v in violations:
        if v not in found:
            print(f"axe-core on {state}: {v['impact']} {v['id']} ({len(v['nodes'])})")
    assert not found, f"axe-core on {state} ({page.url}):\n" + "\n".join(
        f"- {v['impact']} {v['id']}: {v['help']}\n" + "\n".join(f"    {node}" for node in v["nodes"][:20])
        for v in found)


@pytest.fixture
def axe():
    """axe-core's check; without axe-core installed the test fails under CI and is skipped elsewhere."""
    if not AXE.exists():
        message = f"axe-core is not installed ({AXE} is missing): run `npm ci` at the repository root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return check_axe


@pytest.fixture
def cafe(tmp_path, server_env):
    """A real server with the 15-table café, an organiser, and an organiser's Socket.IO client."""
    with serving(tmp_path / "data", DATA / "cafe15.yaml", "cafe15", extra_env=server_env) as srv:
        srv.tables = requests.get(f"{srv.url}/api/sessions/{srv.code}", timeout=5).json()["session"]["tables"]
        srv.console = socketio.Client(reconnection=False)
        srv.console.connect(srv.url, transports=["websocket"], headers={"Cookie": organiser_cookie(srv)},
                            wait_timeout=10)
        srv.act = lambda event, **data: _ok(srv.console.call(event, {"code": srv.code, **data}, timeout=10))
        yield srv
        srv.console.disconnect()


def _ok(ack: dict) -> dict:
    assert ack["ok"], ack
    return ack


def post_ideas(srv, count: int) -> list[dict]:
    """Post `count` ideas as people at every table would: each joins by their table's card, two or three each.

    250 ideas come from 120 people, a full room of eight per table at 15 tables.
    """
    http = requests.Session()
    posts, person = [], 0
    while len(posts) < count:
        table = srv.tables[person % len(srv.tables)]
        token = http.post(f"{srv.url}/api/sessions/{table['code']}/join", json={"name": f"Personne {person}"},
                          timeout=5).json()["participant"]["token"]
        for _ in range(3 if person % 12 == 0 else 2):
            n = len(posts)
            if n == count:
                break
            category = CATEGORIES[n % len(CATEGORIES)]
            text = NEEDLE if n == count - 7 else (
                f"Idée {n + 1} de la table {table['name']} : " + "des rencontres régulières entre structures " * (1 + n % 3))
            ack = http.post(f"{srv.url}/api/sessions/{table['code']}/posts", timeout=5, json={
                "token": token, "client_id": f"cafe15-{n:04d}", "text": text.strip(),
                "tags": {"category": category} if category else {}}).json()
            assert ack["ok"], ack
            posts.append(ack["post"])
        person += 1
    return posts


def test_the_phone_vote_list_of_a_15_table_cafe_is_grouped_foldable_and_filterable(browser, cafe):
    cafe.act("phase_set", phase="round_1")
    posts = post_ideas(cafe, 250)
    per_theme = {key: sum(p["tags"]["function"] == key for p in posts) for key in THEMES}
    needle_theme = THEMES[next(p["tags"]["function"] for p in posts if p["text"] == NEEDLE)]
    cafe.act("phase_set", phase="vote")
    cafe.act("vote_open", budget=3, max_per_post=2)

    phone = browser.new_page(**PHONE)
    phone.goto(f"{cafe.url}/j/{cafe.code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    # The banner says what the phone is for now, in the colours of information rather than of an error.
    banner = phone.locator("#closed")
    expect(banner).to_have_text("Place au vote\u00a0: vous avez 3 gommettes à répartir.")
    colours = banner.evaluate("n => [getComputedStyle(n).backgroundColor, getComputedStyle(n).color]")
    assert colours[0] != "rgb(255, 241, 230)" and colours[1] != "rgb(163, 59, 0)", colours

    # One group per theme, in the framework's order, with its tables and its number of ideas; folded at this size.
    groups = phone.locator(".vote-group")
    expect(groups).to_have_count(5)
    expect(phone.locator(".vote-group__label")).to_have_text(list(THEMES.values()))
    expect(phone.locator(".vote-group__count")).to_have_text([str(n) for n in per_theme.values()])
    support = groups.filter(has=phone.locator(".vote-group__label", has_text="Support"))
    expect(support.locator(".vote-group__tables")).to_have_text("Support 1 · Support 2 · Support 3")
    expect(phone.locator(".vote-post").first).to_be_hidden()
    assert phone.evaluate("document.documentElement.scrollHeight") < 2500
    shot(phone, "cafe15-phone-vote-folded")
    if AXE.exists():  # the test of every page type says when it is missing
        check_axe(phone, "a phone voting among 250 ideas")

    # A group opens and folds again.
    support.locator("summary").click()
    expect(support.locator(".vote-post")).to_have_count(per_theme["support"])
    expect(support.locator(".vote-post").first).to_be_visible()
    support.locator("summary").click()
    expect(support.locator(".vote-post").first).to_be_hidden()

    # Each idea shows its tags (the category; the theme is the group's).
    for summary in phone.locator(".vote-group summary").all():
        summary.click()
    first = groups.first.locator(".vote-post").first
    expect(first.locator(".tag")).to_have_text("Missions")
    if AXE.exists():
        check_axe(phone, "a phone voting among 250 ideas, every group open")
    phone.evaluate("window.scrollTo(0, document.getElementById('closed').offsetTop - 90)")
    shot(phone, "cafe15-phone-vote")

    # Far down the opened list the dots left, « Mes votes » and the saved status stay on screen, and voting works.
    last = groups.nth(3).locator(".vote-post").filter(has_not_text=NEEDLE).last  # thousands of px above the end
    last.scroll_into_view_if_needed()
    last_text = last.locator(".vote-post__text").text_content()
    assert phone.evaluate("window.scrollY") > 10_000
    last.get_by_role("button", name="Ajouter une gommette").click()
    # The list is drawn again around the dot: the group stays open and the focus stays on the button.
    expect(last).to_be_visible()
    expect(last.get_by_role("button", name="Ajouter une gommette")).to_be_focused()
    bar = phone.locator(".vote__bar")
    expect(phone.locator("#vote-left")).to_have_text("Gommettes restantes\u00a0: 2")
    expect(phone.locator("#vote-status")).to_have_text("Vos gommettes sont enregistrées.")
    box = bar.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 740, box
    expect(phone.locator("#vote-mine")).to_be_in_viewport()
    expect(phone.locator("#vote-mine")).to_have_text("Mes votes (1)")
    shot(phone, "cafe15-phone-vote-scrolled")

    # The filter narrows the list to what matches, accents aside, in whichever group it is.
    phone.get_by_label("Chercher une idée").fill("composteur partage")
    expect(phone.locator(".vote-post")).to_have_count(1)
    expect(phone.locator(".vote-group__label")).to_have_text([needle_theme])
    expect(phone.locator(".vote-group__count")).to_have_text(["1"])
    match = phone.locator(".vote-post", has_text=NEEDLE)
    match.get_by_role("button", name="Ajouter une gommette").click()
    expect(phone.locator("#vote-left")).to_have_text("Gommettes restantes\u00a0: 1")
    expect(match.locator(".vote-post__mine")).to_have_text("●")
    shot(phone, "cafe15-phone-vote-filtered")
    phone.get_by_label("Chercher une idée").fill("")
    expect(groups).to_have_count(5)
    phone.get_by_role("button", name="Mes votes (2)").click()
    expect(phone.locator(".vote-post")).to_have_count(2)
    expect(phone.locator("#vote-mine")).to_have_attribute("aria-pressed", "true")

    # The dots are stored: a reload finds them, and the results count them.
    phone.reload()
    expect(phone.locator("#vote-left")).to_have_text("Gommettes restantes\u00a0: 1")
    expect(phone.locator("#vote-mine")).to_have_text("Mes votes (2)")
    results = cafe.act("vote_reveal")["vote"]["results"]
    assert {(r["text"], r["dots"]) for r in results if r["dots"]} == {(NEEDLE, 1), (last_text, 1)}
    expect(phone.locator("#closed")).to_have_text("Voici les résultats du vote.")



def test_axe_finds_no_serious_violation_on_any_page_type(axe, browser, cafe):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{cafe.url}/nowhere")
    expect(page.locator("h1")).to_be_visible()
    axe(page, "the 404 page")
    page.goto(f"{cafe.url}/login")
    axe(page, "the sign-in page")

    phone = browser.new_page(**PHONE)
    phone.goto(f"{cafe.url}/j/{cafe.tables[0]['code']}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    expect(phone.locator("#closed")).to_be_visible()
    axe(phone, "a phone that joined during the welcome")
    cafe.act("phase_set", phase="round_1")
    expect(phone.get_by_role("button", name="Envoyer")).to_be_enabled()
    phone.get_by_label("Votre idée").fill("Un repas partagé entre structures")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine__state").first).to_have_text("Envoyée")
    axe(phone, "a phone while posting is open")
    programme = browser.new_page(**PHONE)
    programme.goto(f"{cafe.url}/e/cafe15")
    expect(programme.locator("#programme")).to_be_visible()
    axe(programme, "the event's page")

    posts = post_ideas(cafe, 30)
    for post in posts[:3]:
        cafe.act("post_hide", post_id=post["id"])
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(f"{cafe.url}/wall/{cafe.code}")
    # The wall shows each column's newest ideas that fit, and counts them all.
    expect(wall.locator("#total")).to_have_text("Idées\u00a0: 28")
    expect(wall.locator(".card").first).to_be_visible()
    axe(wall, "the wall's board")

    console = open_console(browser, cafe, cafe.code, viewport={"width": 1366, "height": 768})
    expect(console.locator(".console-post--hidden")).to_have_count(3)
    console.get_by_role("button", name="Calculer le plan de rotation").click()
    expect(console.locator("#plan-table")).to_be_visible()
    axe(console, "the session console with hidden posts")
    console.locator(".console-post--hidden").first.scroll_into_view_if_needed()
    shot(console, "cafe15-console-hidden")
    host_link = console.locator("a", has_text="Lien hôte").first.get_attribute("href")
    console.goto(f"{cafe.url}/console/")
    expect(console.locator("h1")).to_be_visible()
    axe(console, "the organiser console")

    host = browser.new_page(**PHONE)
    host.goto(host_link)
    expect(host.locator("#table-posts .mine").first).to_be_visible()
    axe(host, "a table host's page")

    cafe.act("phase_set", phase="harvest")
    expect(wall.locator(".harvest").first).to_be_visible()
    axe(wall, "the wall's harvest")
    shot(wall, "cafe15-wall-harvest")

    cafe.act("phase_set", phase="vote")
    cafe.act("vote_open", budget=3, max_per_post=2)
    expect(phone.locator(".vote-group")).to_have_count(5)
    phone.locator(".vote-group summary").first.click()
    phone.locator(".vote-post").first.get_by_role("button", name="Ajouter une gommette").click()
    expect(phone.locator("#vote-status")).to_have_text("Vos gommettes sont enregistrées.")
    axe(phone, "a phone during a vote")
