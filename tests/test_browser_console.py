"""The session console at the size of a real room: 15 tables, 250 ideas, a 1366×768 laptop, in a real Chromium."""

from __future__ import annotations


import pytest
import requests

from conftest import DATA
from server import serving
import test_browser as shared
import test_browser_cafe
from test_browser import expect, open_console, shot

# The same headless Chromium and the same check that no page threw a JavaScript error.
browser, no_script_errors = shared.browser, shared.no_script_errors
axe = test_browser_cafe.axe

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1366, "height": 768}
THEMES = ["animation", "creativite", "valorisation", "support", "gestion_de_projet"]
CATEGORIES = ["missions", "actions", "besoins"]


@pytest.fixture
def cafe15(tmp_path, server_env):
    """A real server running the 15-table café of tests/data/cafe15.yaml, with an organiser."""
    with serving(tmp_path / "data", DATA / "cafe15.yaml", "cafe15", extra_env=server_env) as srv:
        srv.tables = requests.get(f"{srv.url}/api/sessions/{srv.code}", timeout=5).json()["session"]["tables"]
        yield srv


def post_ideas(srv, people: int = 50, each: int = 5) -> list[dict]:
    """Post people × each ideas over HTTP, each person at one table, as 120 phones would over a café's rounds."""
    posted = []
    for n in range(people):
        table = srv.tables[n % len(srv.tables)]
        token = requests.post(f"{srv.url}/api/sessions/{table['code']}/join", json={"name": f"Personne {n}"},
                              timeout=5).json()["participant"]["token"]
        for k in range(each):
            category = CATEGORIES[(n + k) % 3]
            answer = requests.post(f"{srv.url}/api/sessions/{table['code']}/posts", timeout=5, json={
                "token": token, "client_id": f"c15-{n:03d}-{k}-idea", "tags": {"category": category},
                "text": f"Idée {n}-{k} de la table {table['name']}"})
            answer.raise_for_status()
            posted.append(answer.json()["post"])
    return posted


def organiser(srv):
    """A real organiser Socket.IO client, to change the session as another console would."""
    import socketio

    from test_server import organiser_cookie

    client = socketio.Client(reconnection=False)
    client.connect(srv.url, transports=["websocket"], headers={"Cookie": organiser_cookie(srv)}, wait_timeout=10)
    return client


def test_controls_stay_on_screen_over_250_ideas_and_filters_narrow_the_list(browser, cafe15):
    other = organiser(cafe15)
    assert other.call("phase_set", {"code": cafe15.code, "phase": "round_1"}, timeout=10)["ok"]
    posts = post_ideas(cafe15)
    console = open_console(browser, cafe15, cafe15.code, viewport=LAPTOP)
    items = console.locator("#posts > li")
    expect(items).to_have_count(250)
    items.last.scroll_into_view_if_needed()
    assert console.evaluate("() => window.scrollY") > 5000
    for control in ("#toggle-open", "#phase-next", "#vote-state", "#countdown", "[data-minutes='5']"):
        expect(console.locator(control)).to_be_in_viewport()
    expect(console.get_by_role("button", name="Tour 2")).to_be_in_viewport()
    shot(console, "console-15-tables-bottom")

    # One theme (three tables), then one category within it, then a word; every filter narrows the list.
    console.get_by_label("Fonctions").select_option(label="Animation")
    animation = [p for p in posts if p["tags"]["function"] == "animation"]
    expect(items).to_have_count(len(animation))
    expect(console.locator("#filter-count")).to_have_text(f"{len(animation)} contributions sur 250 affichées")
    console.get_by_label("Catégories").select_option(label="Missions")
    expect(items).to_have_count(len([p for p in animation if p["tags"].get("category") == "missions"]))
    console.get_by_label("Rechercher").fill("Idée 15-0")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Idée 15-0 de la table Animation 1")
    console.get_by_role("button", name="Effacer les filtres").click()
    expect(items).to_have_count(250)
    items.filter(has_text="Idée 7-1 de").get_by_role("button", name="Masquer").click()
    console.get_by_label("Affichées").select_option(label="Masquées seulement")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Idée 7-1 de")
    console.get_by_label("Affichées").select_option(label="Toutes")
    console.get_by_label("Rechercher").fill("support 2")  # every word, in any case
    expect(items).to_have_count(len([p for p in posts if "Support" in p["text"] and "2" in p["text"]]))
    console.evaluate("() => window.scrollTo(0, 0)")
    shot(console, "console-15-tables-top")
    other.disconnect()


def test_skipping_or_going_back_asks_first_and_cancelling_changes_nothing(axe, browser, cafe15):
    console = open_console(browser, cafe15, cafe15.code, viewport=LAPTOP)
    welcome = console.get_by_role("button", name="Accueil")
    expect(welcome).to_have_attribute("aria-current", "step")
    # During the welcome there is nothing to vote on: no vote form, a plain word why.
    expect(console.locator("#vote-form")).to_be_hidden()
    expect(console.locator("#vote-warning")).to_contain_text("Aucune idée à mettre au vote")
    console.get_by_role("button", name="Tour 3").click()
    dialog = console.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Passer directement à «\u00a0Tour 3\u00a0»\u00a0?")
    expect(dialog).to_contain_text("Tour 1, Tour 2")
    shot(console, "console-15-tables-confirm")
    axe(console, "the session console asking before a skip")
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_be_hidden()
    console.wait_for_timeout(500)  # what must not happen would have reached the page by now
    expect(welcome).to_have_attribute("aria-current", "step")
    state = requests.get(f"{cafe15.url}/api/sessions/{cafe15.code}", timeout=5).json()["session"]
    assert (state["phase"]["key"], state["is_open"]) == ("welcome", False)

    console.get_by_role("button", name="Tour 1").click()  # the next step: one click, no question
    expect(console.get_by_role("button", name="Tour 1")).to_have_attribute("aria-current", "step")
    expect(dialog).to_be_hidden()
    console.get_by_role("button", name="Accueil").click()
    expect(dialog).to_contain_text("Revenir à «\u00a0Accueil\u00a0»\u00a0?")
    dialog.get_by_role("button", name="Confirmer").click()
    expect(welcome).to_have_attribute("aria-current", "step")


def test_a_vote_outside_its_step_is_warned_and_asked_about(browser, cafe15):
    other = organiser(cafe15)
    assert other.call("phase_set", {"code": cafe15.code, "phase": "round_1"}, timeout=10)["ok"]
    ideas = post_ideas(cafe15, people=2, each=1)
    console = open_console(browser, cafe15, cafe15.code, viewport=LAPTOP)
    expect(console.locator("#vote-warning")).to_contain_text("Cette étape n’est pas un vote")
    console.get_by_role("button", name="Ouvrir le vote").click()
    dialog = console.get_by_role("dialog")
    dialog.get_by_role("button", name="Annuler").click()
    console.wait_for_timeout(500)
    expect(console.locator("#vote-state")).to_have_text("Pas commencé")
    assert requests.get(f"{cafe15.url}/api/sessions/{cafe15.code}", timeout=5).json()["session"]["vote"][
        "state"] == "none"
    assert other.call("phase_set", {"code": cafe15.code, "phase": "vote"}, timeout=10)["ok"]
    expect(console.locator("#vote-warning")).to_be_hidden()
    console.get_by_role("button", name="Ouvrir le vote").click()  # at the vote step: at once
    expect(console.locator("#vote-state")).to_have_text("Vote en cours\u00a0: 0\u00a0votant")
    # People vote: the count on the console follows, without any action of the facilitator.
    import socketio

    voters = []
    for n in range(2):
        phone = socketio.Client(reconnection=False)
        phone.connect(cafe15.url, transports=["websocket"], wait_timeout=10)
        assert phone.call("join", {"code": cafe15.code, "name": f"Votant {n}"}, timeout=10)["ok"]
        assert phone.call("vote", {"code": cafe15.code, "dots": {str(ideas[n]["id"]): 1}}, timeout=10)["ok"]
        voters.append(phone)
    expect(console.locator("#vote-state")).to_have_text("Vote en cours\u00a0: 2\u00a0votants")
    for phone in voters:
        phone.disconnect()
    other.disconnect()


def test_an_error_goes_when_the_state_it_describes_changes(browser, cafe15):
    console = open_console(browser, cafe15, cafe15.code, viewport=LAPTOP)
    expect(console.get_by_role("button", name="Accueil")).to_have_attribute("aria-current", "step")
    compute = console.get_by_role("button", name="Calculer le plan de rotation")
    feedback = console.locator("#feedback")
    compute.click()
    expect(feedback).to_have_text("Personne n’a encore rejoint cet atelier.")
    # A later success of this console clears it.
    console.locator("[data-minutes='5']").click()
    expect(console.locator("#countdown")).to_contain_text("4:5")
    expect(feedback).to_have_text("")
    compute.click()
    expect(feedback).to_have_text("Personne n’a encore rejoint cet atelier.")
    # Someone joins and another console computes the plan: the error no longer holds, so it goes.
    requests.post(f"{cafe15.url}/api/sessions/{cafe15.tables[0]['code']}/join", json={"name": "Ana"}, timeout=5)
    other = organiser(cafe15)
    assert other.call("world_cafe.plan", {"code": cafe15.code}, timeout=10)["ok"]
    expect(console.locator("#plan-state")).to_have_text("Plan pour 1\u00a0personne")
    expect(feedback).to_have_text("")
    other.disconnect()


def test_the_facilitator_makes_a_participant_host_and_reads_their_harvest(axe, browser, cafe15):
    table = cafe15.tables[0]
    token = requests.post(f"{cafe15.url}/api/sessions/{table['code']}/join", json={"name": "Camille"},
                          timeout=5).json()["participant"]["token"]
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.context.add_cookies([{"name": "rouages_participant", "value": token, "url": cafe15.url}])
    phone.goto(f"{cafe15.url}/j/{table['code']}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    console = open_console(browser, cafe15, cafe15.code, viewport=LAPTOP)
    row = console.locator("tr[data-table]", has_text="Animation 1")
    picker = row.get_by_label("Choisir l’hôte de Animation 1")
    picker.focus()
    expect(picker.locator("option", has_text="Camille")).to_have_count(1)
    picker.select_option(label="Camille")
    expect(row.locator("[data-host-name]")).to_have_text("Camille")
    link = phone.get_by_role("link", name="Ouvrir la page hôte")
    expect(phone.locator("#host-link")).to_contain_text("Vous animez la table Animation 1.")
    shot(phone, "phone-made-host")
    link.click()
    expect(phone.locator("h1")).to_have_text("Hôte de table\u00a0: Animation 1")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    phone.get_by_label("Missions").fill("Relier les acteurs du territoire")
    phone.get_by_label("Actions à réaliser").focus()
    expect(phone.locator('[data-state-for="missions"]')).to_have_text("Enregistré", timeout=15000)
    harvest = row.locator("[data-harvest]")
    expect(harvest).to_contain_text("1 sur 3 rédigées")
    harvest.locator("summary").click()
    expect(harvest).to_contain_text("Relier les acteurs du territoire")
    row.scroll_into_view_if_needed()
    shot(console, "console-15-tables-hosts")
    axe(console, "the session console with a host picked and a harvest unfolded")
    axe(phone, "a host's page opened from the phone")
