"""End to end in a real Chromium: a phone posts, the wall shows it; an idea typed while the server is down is not lost."""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
import signal
import time
from pathlib import Path

import pytest

from conftest import DATA
from server import Server, serving

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Screenshots for a person to look at: ROUAGES_SCREENSHOTS=/some/dir pytest tests/test_browser.py
PAGE_ERRORS: list[str] = []
OPEN_PAGES: list = []  # pages opened by the running test
SHOTS = Path(os.environ["ROUAGES_SCREENSHOTS"]) if os.environ.get("ROUAGES_SCREENSHOTS") else None

if CHROMIUM is None and os.environ.get("CI"):
    raise RuntimeError("CI must run the browser tests: install Debian's chromium (.ci/run does)")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    """A headless Debian Chromium that talks to nothing but this machine."""
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        open_page = instance.new_page

        def new_page(**options):
            # Pages speak the browser's language: the tests read French unless they ask for another.
            page = open_page(**{"locale": "fr-FR", **options})
            page.on("pageerror", lambda error: PAGE_ERRORS.append(f"{page.url}: {error}"))
            OPEN_PAGES.append(page)
            return page

        instance.new_page = new_page
        yield instance
        instance.close()


def close_pages() -> None:
    """Close the pages a test opened (tests/conftest.py calls it before the test's servers stop).

    A page left open goes on reconnecting to its stopped server, which costs the browser and the machine, and its
    errors would be charged to a later test.
    """
    while OPEN_PAGES:
        page = OPEN_PAGES.pop()
        try:
            page.close()
        except Exception:  # noqa: BLE001 - its browser may be gone already: nothing left to close
            pass


@pytest.fixture(autouse=True)
def no_script_errors():
    """Fail a test whose pages threw a JavaScript error, even if its assertions passed."""
    PAGE_ERRORS.clear()
    yield
    assert PAGE_ERRORS == []


@pytest.fixture
def server(tmp_path, server_env):
    """A real gevent server with the small event and an organiser."""
    with serving(tmp_path / "data", DATA / "small.yaml", "petite-rencontre", "world-cafe", server_env) as srv:
        yield srv


def shot(page, name: str) -> None:
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def open_console(browser, server, code: str, **options):
    """Open a session's console page in a new browser and sign in through the real form."""
    console = browser.new_page(**options)
    console.goto(f"{server.url}/console/s/{code}")
    console.get_by_label("Adresse e-mail").fill("orga@example.org")
    console.get_by_label("Mot de passe").fill("correct-horse-battery")
    console.get_by_role("button", name="Se connecter").click()
    return console


def watch_requests(page, server) -> list[str]:
    """Record every URL the page asks for that is not on the test server."""
    foreign: list[str] = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(
        (server.url, server.url.replace("http", "ws"), "data:")) else None)
    return foreign


def test_a_post_from_the_phone_appears_on_the_wall(browser, server):
    wall = browser.new_page(viewport={"width": 1600, "height": 900})
    foreign = watch_requests(wall, server)
    wall.goto(f"{server.url}/wall/{server.code}")
    expect(wall.locator(".wall__code")).to_have_text(server.code)

    phone = browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    foreign += watch_requests(phone, server)
    phone.goto(f"{server.url}/j/{server.code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    phone.get_by_label("Nom").fill("Camille")
    phone.get_by_label("Structure").fill("Tiers-lieu de Bray")
    phone.locator(".tag-choice", has_text="Animation").click()
    phone.get_by_label("Votre idée").fill("Des repas partagés <b>entre</b> membres")
    phone.get_by_role("button", name="Envoyer").click()

    mine = phone.locator(".mine").first
    expect(mine).to_contain_text("Des repas partagés <b>entre</b> membres")
    expect(mine.locator(".mine__state")).to_have_text("Envoyée")
    column = wall.locator(".column", has=wall.locator(".column__title", has_text="Animation"))
    card = column.locator(".card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Des repas partagés <b>entre</b> membres")
    expect(card).to_contain_text("Camille · Tiers-lieu de Bray")
    expect(column.locator(".column__count")).to_have_text("1 idée")
    assert wall.locator(".card b").count() == 0  # the text is shown, never interpreted as markup
    shot(phone, "phone")
    shot(wall, "wall")
    assert foreign == []

    # Posting without a required tag is stopped on the phone, with the reason.
    phone.get_by_label("Votre idée").fill("Sans fonction")
    phone.locator(".tag-choice input:checked").evaluate("input => input.checked = false")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator("#post-error")).to_have_text("Choisissez une option\u00a0: Fonctions.")


def test_an_idea_typed_while_the_server_is_down_is_sent_once_when_it_returns(browser, server):
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{server.code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    server.kill()
    expect(phone.locator("#connection")).to_have_attribute("data-state", "offline", timeout=60_000)
    phone.locator(".tag-choice", has_text="Support").click()
    phone.get_by_label("Votre idée").fill("Mutualiser un poste de comptable")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine__state").first).to_have_text("En attente d’envoi…")
    shot(phone, "phone-offline")
    # The outbox is kept in the browser's storage, so closing the page would not lose the idea either.
    stored = phone.evaluate(f"JSON.parse(localStorage.getItem('rouages.outbox.{server.code}'))")
    assert [(e["text"], e["state"]) for e in stored] == [("Mutualiser un poste de comptable", "pending")]
    server.start()
    expect(phone.locator(".mine__state").first).to_have_text("Envoyée", timeout=30_000)

    wall = browser.new_page(viewport={"width": 1280, "height": 800})
    wall.goto(f"{server.url}/wall/{server.code}")
    expect(wall.locator(".card")).to_have_count(1)
    expect(wall.locator(".card")).to_contain_text("Mutualiser un poste de comptable")


def posting_console(server):
    """A signed-in organiser's Socket.IO client, to open and close posting as the console does."""
    from test_server import connect, organiser_cookie

    return connect(server.url, headers={"Cookie": organiser_cookie(server)})


def offline_phone_with_an_idea(browser, server, text: str):
    """A phone that joined while posting was open, lost its network, and queued an idea."""
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{server.code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    phone.context.set_offline(True)
    expect(phone.locator("#connection")).to_have_attribute("data-state", "offline")
    phone.locator(".tag-choice", has_text="Support").click()
    phone.get_by_label("Votre idée").fill(text)
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine__state").first).to_have_text("En attente d’envoi…")
    expect(phone.locator("#connection")).to_have_text("Hors ligne\u00a0: 1 idée en attente d’envoi")
    return phone


def test_an_idea_queued_offline_while_posting_closes_is_stored_once_when_the_phone_returns(browser, server):
    import requests

    phone = offline_phone_with_an_idea(browser, server, "Un fonds commun pour les tiers-lieux")
    console = posting_console(server)
    assert console.call("session_open", {"code": server.code, "open": False}, timeout=10)["is_open"] is False
    shot(phone, "phone-offline-waiting")
    phone.context.set_offline(False)
    expect(phone.locator(".mine__state").first).to_have_text("Envoyée", timeout=20_000)
    expect(phone.locator("#connection")).to_have_text("Connecté")
    expect(phone.locator("#closed")).to_be_visible()
    posts = requests.get(f"{server.url}/api/sessions/{server.code}/posts", timeout=10).json()["posts"]
    assert [p["text"] for p in posts] == ["Un fonds commun pour les tiers-lieux"]
    wall = browser.new_page(viewport={"width": 1280, "height": 800})
    wall.goto(f"{server.url}/wall/{server.code}")
    expect(wall.locator(".card")).to_have_count(1)
    expect(wall.locator(".card")).to_contain_text("Un fonds commun pour les tiers-lieux")
    # Reloaded, the phone finds it among its stored ideas and sends nothing again.
    phone.reload()
    expect(phone.locator(".mine")).to_have_count(1)
    expect(phone.locator(".mine__state")).to_have_text("Envoyée")
    assert len(requests.get(f"{server.url}/api/sessions/{server.code}/posts", timeout=10).json()["posts"]) == 1
    console.disconnect()


def test_an_idea_refused_for_good_is_shown_in_words_and_can_be_copied(browser, tmp_path, server_env):
    with serving(tmp_path / "data", DATA / "small.yaml", "petite-rencontre", "world-cafe",
                 {**server_env, "ROUAGES_POSTING_GRACE_SECONDS": "1"}) as srv:
        text = "Une idée arrivée trop tard"
        phone = offline_phone_with_an_idea(browser, srv, text)
        phone.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=srv.url)
        console = posting_console(srv)
        console.call("session_open", {"code": srv.code, "open": False}, timeout=10)
        time.sleep(1.5)  # longer than this server's grace period
        phone.context.set_offline(False)
        refused = phone.locator(".mine--refused")
        expect(refused.locator(".mine__reason")).to_have_text(
            "Non enregistrée\u00a0: cette idée est arrivée après la fermeture des contributions. "
            "Copiez-la pour la garder.", timeout=20_000)
        expect(refused.locator(".mine__text")).to_have_text(text)
        expect(phone.locator("#connection")).to_have_text("Connecté")  # nothing is waiting any more
        refused.get_by_role("button", name="Copier le texte").click()
        expect(refused.locator(".mine__copied")).to_have_text("Copié.")
        assert phone.evaluate("navigator.clipboard.readText()") == text
        shot(phone, "phone-refused")
        # It stays until the person removes it, across a reload, and is never sent again.
        phone.reload()
        expect(phone.locator(".mine--refused .mine__text")).to_have_text(text)
        phone.get_by_role("button", name="Retirer").click()
        expect(phone.locator(".mine")).to_have_count(0)
        assert phone.evaluate(f"localStorage.getItem('rouages.outbox.{srv.code}')") == "[]"
        # Any other final refusal is said in words too, with the server's reason.
        console.call("session_open", {"code": srv.code, "open": True}, timeout=10)
        phone.evaluate(f"""localStorage.setItem('rouages.outbox.{srv.code}', JSON.stringify([{{
            client_id: 'too-long-0001', text: 'x'.repeat(501), tags: {{function: 'animation'}}, state: 'pending'}}]))""")
        phone.reload()
        expect(phone.locator(".mine--refused .mine__reason")).to_have_text(
            "Non enregistrée\u00a0: Votre idée est trop longue\u00a0: 500 caractères au maximum. "
            "Copiez-la pour la garder.")
        console.disconnect()


def test_an_idea_refused_for_now_stays_in_the_outbox_and_is_sent_again(browser, tmp_path, server_env):
    import requests

    # One idea at once, then one every 3 s: the second idea is refused with too_many_posts, "not now".
    with serving(tmp_path / "data", DATA / "small.yaml", "petite-rencontre", "world-cafe",
                 {**server_env, "ROUAGES_LIMIT_POSTS_BURST": "1", "ROUAGES_LIMIT_POSTS_PER_MINUTE": "20"}) as srv:
        phone = browser.new_page(viewport={"width": 360, "height": 740})
        phone.goto(f"{srv.url}/j/{srv.code}")
        expect(phone.locator("#connection")).to_have_text("Connecté")
        phone.locator(".tag-choice", has_text="Animation").click()
        for text in ("Première idée", "Deuxième idée"):
            phone.get_by_label("Votre idée").fill(text)
            phone.get_by_role("button", name="Envoyer").click()
        expect(phone.locator("#connection")).to_have_text("Connecté\u00a0: 1 idée en attente d’envoi")
        expect(phone.locator(".mine--pending .mine__text")).to_have_text("Deuxième idée")
        expect(phone.locator(".mine__state")).to_have_text(["Envoyée", "Envoyée"], timeout=15_000)
        expect(phone.locator("#connection")).to_have_text("Connecté")
        posts = requests.get(f"{srv.url}/api/sessions/{srv.code}/posts", timeout=10).json()["posts"]
        assert [p["text"] for p in posts] == ["Première idée", "Deuxième idée"]

def test_a_phone_shows_within_seconds_that_the_server_went_silent_and_what_waits(browser, server):
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{server.code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    # A frozen server keeps its sockets open and answers nothing, as when the venue's Wi-Fi drops the path to it.
    server.process.send_signal(signal.SIGSTOP)
    try:
        expect(phone.locator("#connection")).to_have_attribute("data-state", "offline", timeout=8_000)
        phone.locator(".tag-choice", has_text="Animation").click()
        for text in ("Première idée", "Deuxième idée"):
            phone.get_by_label("Votre idée").fill(text)
            phone.get_by_role("button", name="Envoyer").click()
        expect(phone.locator("#connection")).to_have_text("Hors ligne\u00a0: 2 idées en attente d’envoi")
        phone.evaluate("window.scrollTo(0, 0)")
        shot(phone, "phone-silent-server")
    finally:
        server.process.send_signal(signal.SIGCONT)
    expect(phone.locator(".mine__state")).to_have_text(["Envoyée", "Envoyée"], timeout=30_000)
    expect(phone.locator("#connection")).to_have_text("Connecté")


def test_a_wall_that_missed_a_post_fetches_it_when_the_next_one_shows_the_gap(browser, tmp_path, databases):
    import socketio

    # Two workers on one database but no message queue: a post stored by the second never reaches the
    # first's wall by broadcast, as when a message is lost or a worker stops between storing and sending.
    database = databases.empty_url()
    if database.startswith("sqlite"):
        database = f"sqlite:///{tmp_path / 'shared.db'}"
    first = Server(tmp_path / "a", extra_env={"ROUAGES_DATABASE_URL": database})
    first_listed = first.prepare(str(DATA / "small.yaml"), "petite-rencontre", organiser=False)
    second = Server(tmp_path / "b", extra_env={"ROUAGES_DATABASE_URL": database})
    code = next(s["code"] for s in first_listed
                if s["key"] == "world-cafe")
    with first, second:
        wall = browser.new_page(viewport={"width": 1280, "height": 800})
        wall.goto(f"{first.url}/wall/{code}")
        expect(wall.locator(".wall__code")).to_have_text(code)
        for n, server in enumerate((second, first)):
            phone = socketio.Client(reconnection=False)
            phone.connect(server.url, transports=["websocket"], wait_timeout=10)
            assert phone.call("join", {"code": code}, timeout=10)["ok"]
            ack = phone.call("post", {"code": code, "client_id": f"gap-test-{n}", "text": f"Idée {n + 1}",
                                      "tags": {"function": "animation"}}, timeout=10)
            assert ack["ok"] and ack["post"]["seq"] == n + 1
            phone.disconnect()
        # Post 2 arrives at once; post 1 only through the resync its gap triggers.
        expect(wall.locator(".card", has_text="Idée 1")).to_have_count(1, timeout=10_000)
        expect(wall.locator(".card")).to_have_count(2)


def test_the_console_hides_a_post_and_the_wall_drops_it(browser, server):
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{server.code}")
    phone.locator(".tag-choice", has_text="Valorisation").click()
    phone.get_by_label("Votre idée").fill("Un message hors sujet")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine__state").first).to_have_text("Envoyée")

    wall = browser.new_page(viewport={"width": 1280, "height": 800})
    wall.goto(f"{server.url}/wall/{server.code}")
    expect(wall.locator(".card")).to_have_count(1)

    console = open_console(browser, server, server.code, viewport={"width": 1280, "height": 900})
    expect(console.locator(".console-post")).to_have_count(1)
    console.get_by_role("button", name="Masquer").click()
    expect(wall.locator(".card")).to_have_count(0)
    expect(console.locator(".console-post--hidden")).to_have_count(1)
    console.get_by_role("button", name="5 min", exact=True).click()
    expect(wall.locator("#countdown")).to_be_visible()
    expect(phone.locator("#countdown")).to_contain_text("4:")
    console.get_by_role("button", name="Fermer les contributions").click()
    expect(phone.locator("#closed")).to_be_visible()
    expect(phone.get_by_role("button", name="Envoyer")).to_be_disabled()
    shot(console, "console")


def test_the_demo_world_cafe_moves_from_welcome_to_a_timed_round(browser, server):
    sessions_listed = server.prepare("--demo", "demo", organiser=False)
    code = next(s["code"] for s in sessions_listed
                if s["key"] == "world-cafe-fonctions")
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    expect(phone.locator("#phase")).to_have_text("Accueil")
    expect(phone.get_by_role("button", name="Envoyer")).to_be_disabled()
    wall = browser.new_page(viewport={"width": 1600, "height": 900})
    wall.goto(f"{server.url}/wall/{code}")

    console = open_console(browser, server, code, viewport={"width": 1280, "height": 900})
    expect(console.get_by_role("button", name="Accueil")).to_have_attribute("aria-current", "step")
    console.get_by_role("button", name="Étape suivante").click()
    expect(console.get_by_role("button", name="Tour 1")).to_have_attribute("aria-current", "step")
    # A round opens posting by itself: a click landing on the toggle just as its label flips does not close it.
    toggle = console.locator("#toggle-open")
    expect(toggle).to_have_text("Fermer les contributions")
    toggle.click(force=True)
    console.wait_for_timeout(500)  # what must not happen would have reached the page by now
    expect(console.locator("#open-state")).to_have_text("Les contributions sont ouvertes")
    expect(phone.locator("#phase")).to_have_text("Tour 1")
    expect(phone.locator("#countdown")).to_contain_text("19:")
    expect(phone.get_by_role("button", name="Envoyer")).to_be_enabled()
    expect(wall.locator("#phase")).to_have_text("Tour 1")
    expect(wall.locator(".column__title").first).to_contain_text("Animation")
    phone.locator(".tag-choice", has_text="Créativité").click()
    phone.get_by_label("Votre idée").fill("Des visites inspirantes chez d'autres PTCE")
    phone.get_by_role("button", name="Envoyer").click()
    column = wall.locator(".column", has=wall.locator(".column__title", has_text="Créativité"))
    expect(column.locator(".card")).to_contain_text("Des visites inspirantes")
    shot(console, "console-cafe")
    shot(wall, "wall-cafe")
    shot(phone, "phone-cafe")


def test_a_phone_scanned_at_a_table_posts_under_its_theme_and_the_table_wall_shows_it(browser, server):
    import requests

    sessions_listed = server.prepare("--demo", "demo", organiser=False)
    code = next(s["code"] for s in sessions_listed
                if s["key"] == "world-cafe-fonctions")
    tables = requests.get(f"{server.url}/api/sessions/{code}", timeout=5).json()["session"]["tables"]
    support = next(t for t in tables if t["name"] == "Table Support")
    animation = next(t for t in tables if t["name"] == "Table Animation")
    table_wall = browser.new_page(viewport={"width": 1280, "height": 800})
    table_wall.goto(f"{server.url}/wall/{support['code']}")
    expect(table_wall.locator(".wall__code")).to_have_text(support["code"])

    console = open_console(browser, server, code)
    expect(console.get_by_role("button", name="Accueil")).to_have_attribute("aria-current", "step")
    console.get_by_role("button", name="Tour 1").click()
    expect(console.get_by_role("button", name="Tour 1")).to_have_attribute("aria-current", "step")

    for table, text in ((support, "Mutualiser un poste de comptable"), (animation, "Des repas partagés")):
        phone = browser.new_page(viewport={"width": 360, "height": 740})
        phone.goto(f"{server.url}/j/{table['code']}")
        expect(phone.locator("#assignment")).to_have_text(
            f"Vous êtes à {table['name']} (dernière carte de table scannée ou table choisie)\u00a0: vos idées y sont envoyées.")
        expect(phone.locator("fieldset legend", has_text="Fonctions")).to_be_hidden()
        expect(phone.get_by_role("button", name="Envoyer")).to_be_enabled()
        phone.get_by_label("Votre idée").fill(text)
        phone.get_by_role("button", name="Envoyer").click()
        expect(phone.locator(".mine__state").first).to_have_text("Envoyée")
    shot(phone, "phone-table")
    expect(table_wall.locator(".card")).to_have_count(1)
    expect(table_wall.locator(".card")).to_contain_text("Mutualiser un poste de comptable")
    shot(table_wall, "wall-table")
    console.set_viewport_size({"width": 800, "height": 1100})
    console.goto(f"{server.url}/console/s/{code}/tables/print")
    expect(console.locator(".card-sheet")).to_have_count(5)
    shot(console, "table-cards")


def test_dot_vote_from_phones_to_the_revealed_ranking_on_the_wall(browser, server):
    phones = []
    for text in ("Un repas partagé", "Une charte commune"):
        phone = browser.new_page(viewport={"width": 360, "height": 900})
        phone.goto(f"{server.url}/j/{server.code}")
        phone.locator(".tag-choice", has_text="Animation").click()
        phone.get_by_label("Votre idée").fill(text)
        phone.get_by_role("button", name="Envoyer").click()
        expect(phone.locator(".mine__state").first).to_have_text("Envoyée")
        phones.append(phone)
    wall = browser.new_page(viewport={"width": 1280, "height": 800})
    wall.goto(f"{server.url}/wall/{server.code}")
    expect(wall.locator(".card")).to_have_count(2)

    console = open_console(browser, server, server.code, viewport={"width": 1280, "height": 1000})
    expect(console.locator("#vote-state")).to_have_text("Pas commencé")
    console.get_by_label("Gommettes par personne").fill("3")
    console.get_by_label("Au plus par idée").fill("2")
    console.get_by_role("button", name="Ouvrir le vote").click()
    expect(console.locator("#vote-state")).to_contain_text("Vote en cours")
    # Phones are sent other people's ideas only while a vote runs: one posted now reaches every phone's list.
    expect(phones[0].locator(".vote-post")).to_have_count(2)
    phones[1].locator(".tag-choice", has_text="Animation").click()
    phones[1].get_by_label("Votre idée").fill("Une idée tardive")
    phones[1].get_by_role("button", name="Envoyer").click()
    expect(phones[0].locator(".vote-post", has_text="Une idée tardive")).to_have_count(1)
    expect(wall.locator(".card")).to_have_count(3)

    for phone, favourite in zip(phones, ("Une charte commune", "Une charte commune"), strict=True):
        expect(phone.locator("#vote-left")).to_have_text("Gommettes restantes\u00a0: 3")
        row = phone.locator(".vote-post", has_text=favourite)
        row.get_by_role("button", name="Ajouter une gommette").click()
        row.get_by_role("button", name="Ajouter une gommette").click()
        expect(row.get_by_role("button", name="Ajouter une gommette")).to_be_disabled()  # at most 2 per idea
        expect(phone.locator("#vote-status")).to_have_text("Vos gommettes sont enregistrées.")
    other = phones[0].locator(".vote-post", has_text="Un repas partagé")
    other.get_by_role("button", name="Ajouter une gommette").click()
    expect(phones[0].locator("#vote-left")).to_have_text("Gommettes restantes\u00a0: 0")
    expect(phones[0].locator("#vote-status")).to_have_text("Vos gommettes sont enregistrées.")
    shot(phones[0], "phone-vote")

    console.get_by_role("button", name="Dévoiler les résultats").click()
    items = wall.locator(".results__item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Une charte commune")
    expect(items.nth(0)).to_contain_text("Gommettes\u00a0: 4")
    expect(items.nth(1)).to_contain_text("Un repas partagé")
    expect(phones[1].locator(".vote-post").first).to_contain_text("Une charte commune")
    shot(wall, "wall-results")


def test_a_table_host_writes_the_harvest_and_the_wall_shows_it(browser, server):
    import re

    import requests

    code, _tables = demo_cafe(server)
    console = open_console(browser, server, code, viewport={"width": 1280, "height": 900})
    expect(console.get_by_role("button", name="Accueil")).to_have_attribute("aria-current", "step")
    host_link = console.locator("a", has_text="Lien hôte").first.get_attribute("href")
    assert re.fullmatch(rf"{server.url}/h/[A-Za-z0-9_-]{{16,64}}", host_link)
    console.get_by_role("button", name="Tour 1").click()
    expect(console.get_by_role("button", name="Tour 1")).to_have_attribute("aria-current", "step")

    tables = requests.get(f"{server.url}/api/sessions/{code}", timeout=5).json()["session"]["tables"]
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{tables[0]['code']}")
    phone.get_by_label("Votre idée").fill("Un tiers de confiance qui porte le projet")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine__state").first).to_have_text("Envoyée")

    host = browser.new_page(viewport={"width": 360, "height": 900})
    host.goto(host_link)
    expect(host.locator("h1")).to_have_text("Hôte de table\u00a0: Table Animation")
    expect(host.locator("#table-posts .mine")).to_have_count(1)
    phone.get_by_label("Votre idée").fill("un tiers de confiance pour porter le projet")
    phone.get_by_role("button", name="Envoyer").click()
    expect(host.locator("#table-posts .mine")).to_have_count(2)
    host.locator(".host-post", has_text="un tiers de confiance pour").get_by_role("button", name="Doublon").click()
    host.locator(".host-post", has_text="Un tiers de confiance qui").get_by_role("button", name="Garder celle-ci").click()
    expect(host.locator("#table-posts .mine")).to_have_count(1)
    expect(host.locator("#table-posts .mine")).to_contain_text("Un tiers de confiance qui porte le projet")
    host.get_by_label("Missions").fill("Incarner le projet collectif : un tiers de confiance")
    host.get_by_label("Actions à réaliser").focus()
    expect(host.locator('[data-state-for="missions"]')).to_have_text("Enregistré")
    shot(host, "host")

    wall = browser.new_page(viewport={"width": 1600, "height": 900})
    wall.goto(f"{server.url}/wall/{code}")
    console.get_by_role("button", name="Récolte").click()
    console.get_by_role("dialog").get_by_role("button", name="Confirmer").click()  # it skips rounds 2 and 3
    column = wall.locator(".harvest-table", has=wall.locator("h2", has_text="Table Animation"))
    expect(column.locator(".harvest__text").first).to_have_text("Incarner le projet collectif : un tiers de confiance")
    shot(wall, "wall-harvest")


PLANNED = "Pour ce tour, votre table selon le plan est {}\u00a0; vos idées y sont envoyées."


def test_the_rotation_plan_tells_each_phone_its_table_round_by_round(browser, server):
    import requests

    sessions_listed = server.prepare("--demo", "demo", organiser=False)
    code = next(s["code"] for s in sessions_listed
                if s["key"] == "world-cafe-fonctions")
    names = {t["key"]: t["name"] for t in
             requests.get(f"{server.url}/api/sessions/{code}", timeout=5).json()["session"]["tables"]}
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    expect(phone.locator("#assignment")).to_be_hidden()

    console = open_console(browser, server, code, viewport={"width": 1280, "height": 1100})
    expect(console.get_by_role("button", name="Accueil")).to_have_attribute("aria-current", "step")
    console.get_by_role("button", name="Calculer le plan de rotation").click()
    expect(console.locator("#plan-state")).to_have_text("Plan pour 1 personne")
    expect(console.locator("#plan-table tbody tr")).to_have_count(5)

    expect(phone.locator("#assignment")).to_contain_text("Pour le tour 1, votre table\u00a0: ")
    first = phone.locator("#assignment").text_content().split("\u00a0: ")[1]
    console.get_by_role("button", name="Tour 1").click()
    expect(phone.locator("#assignment")).to_have_text(PLANNED.format(first))
    console.get_by_role("button", name="Tour 2").click()
    expect(phone.locator("#assignment")).not_to_have_text(PLANNED.format(first))
    second = phone.locator("#assignment").text_content().removeprefix(PLANNED.split("{}")[0]).split(PLANNED.split("{}")[1])[0]
    assert {first, second} <= set(names.values()) and first != second
    shot(phone, "phone-plan")
    shot(console, "console-plan")


def test_a_registered_person_typing_their_name_on_the_phone_gets_their_planned_table(browser, server, tmp_path):
    sessions_listed = server.prepare("--demo", "demo", organiser=False)
    code = next(s["code"] for s in sessions_listed
                if s["key"] == "world-cafe-fonctions")
    names = "nom;structure;email\n" + "".join(f"Personne {i};Structure {i % 3};p{i}@example.org\n" for i in range(9))
    (tmp_path / "inscrits.csv").write_text(names + "Hélène Dupré;MES Pays de Bray;h@example.org\n", encoding="utf-8")
    console = open_console(browser, server, code, viewport={"width": 1280, "height": 1100})
    console.get_by_label("Liste d’inscrits (CSV)").set_input_files(str(tmp_path / "inscrits.csv"))
    console.get_by_role("button", name="Ajouter la liste").click()
    expect(console.locator(".flash")).to_have_text("10 personnes ajoutées à la liste (0 déjà présentes ou sans nom).")
    expect(console.get_by_role("button", name="Accueil")).to_have_attribute("aria-current", "step")  # page script ran
    console.get_by_role("button", name="Calculer le plan de rotation").click()
    expect(console.locator("#plan-state")).to_have_text("Plan pour 10 personnes")

    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    # Arriving after the plan, the phone is seated at once; giving a listed name trades that seat for the entry's.
    expect(phone.locator("#assignment")).to_contain_text("Pour le tour 1, votre table\u00a0: ")
    phone.get_by_label("Nom").fill("helene dupre")
    phone.get_by_label("Structure").fill("MES pays de Bray")
    phone.get_by_label("Votre idée").focus()  # leaving the field sends the name
    expect(phone.locator("#assignment")).to_contain_text("Pour le tour 1, votre table\u00a0: ")
    shot(phone, "phone-registered")
    # The plan still counts ten people, and the printed plan lists her under the name she typed.
    # The name goes when the field is left: read the plan once the server has taken it.
    deadline = time.monotonic() + 10
    while "helene dupre" not in (printed := console.context.request.get(
            f"{server.url}/console/s/{code}/plan/print").text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert printed.count("<tr><td>") == 10 and "helene dupre" in printed and "Hélène Dupré" not in printed


def test_console_and_phone_pages_fit_a_phone_screen(browser, server):
    """A facilitator steering from their phone never has to scroll the page sideways."""
    console = open_console(browser, server, server.code, viewport={"width": 360, "height": 740})
    expect(console.get_by_role("heading", name="Contributions")).to_be_visible()
    pages = [f"/console/s/{server.code}", "/console/", f"/j/{server.code}"]
    widths = {}
    for path in pages:
        console.goto(f"{server.url}{path}")
        console.wait_for_load_state("load")
        widths[path] = console.evaluate("() => document.documentElement.scrollWidth")
    assert widths == {path: 360 for path in pages}


def test_walls_consoles_and_phones_read_a_long_session_page_by_page(browser, tmp_path, server_env):
    import requests
    import socketio

    from test_server import organiser_cookie

    with serving(tmp_path / "paged", DATA / "small.yaml", "petite-rencontre", "world-cafe",
                 {**server_env, "ROUAGES_WATCH_PAGE": "3"}) as srv:
        code = srv.code
        token = requests.post(f"{srv.url}/api/sessions/{code}/join", json={"name": "Camille"}, timeout=5).json()[
            "participant"]["token"]
        for n in range(8):
            requests.post(f"{srv.url}/api/sessions/{code}/posts", timeout=5, json={
                "token": token, "client_id": f"paged-{n}-aaaa", "text": f"Idée numéro {n}",
                "tags": {"function": "animation"}}).raise_for_status()
        wall = browser.new_page(viewport={"width": 1600, "height": 900})
        wall.goto(f"{srv.url}/wall/{code}")
        column = wall.locator(".column", has=wall.locator(".column__title", has_text="Animation"))
        expect(column.locator(".column__count")).to_have_text("8 idées")

        console = socketio.Client(reconnection=False)
        console.connect(srv.url, transports=["websocket"], headers={"Cookie": organiser_cookie(srv)}, wait_timeout=10)
        assert console.call("vote_open", {"code": code, "budget": 3, "max_per_post": 1}, timeout=10)["ok"]
        phone = browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
        phone.goto(f"{srv.url}/j/{code}")  # joins during the vote: fetches the list, three ideas a page
        expect(phone.locator("#vote-posts .vote-post")).to_have_count(8)
        console.disconnect()


def test_optional_tags_are_cleared_after_sending_and_can_always_be_unset(browser, server):
    phone = browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    phone.goto(f"{server.url}/j/{server.code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    category = phone.locator("fieldset.tags", has=phone.locator("legend", has_text="Catégorie"))
    function = phone.locator("fieldset.tags", has=phone.locator("legend", has_text="Fonctions"))
    clear = category.get_by_role("button", name="Effacer le choix\u00a0: Catégorie")
    expect(clear).to_be_hidden()
    first_item = category.locator(".tag-choice").first
    first_label = first_item.text_content().strip()

    # Tapping the chosen tag again unsets it.
    first_item.click()
    expect(category.locator("input:checked")).to_have_count(1)
    expect(clear).to_be_visible()
    first_item.click()
    expect(category.locator("input:checked")).to_have_count(0)
    expect(clear).to_be_hidden()

    # So does the keyboard: Space on the chosen tag, or the clear button, which leaves focus in the group.
    first_item.click()
    category.locator("input").first.press(" ")
    expect(category.locator("input:checked")).to_have_count(0)
    first_item.click()
    clear.focus()
    phone.keyboard.press("Enter")
    expect(category.locator("input:checked")).to_have_count(0)
    assert phone.evaluate("document.activeElement.name") == "tag-category"

    # After sending, the optional choice is gone; the required one stays, visibly.
    function.locator(".tag-choice", has_text="Animation").click()
    first_item.click()
    phone.get_by_label("Votre idée").fill("Première idée, avec une catégorie")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine__state").first).to_have_text("Envoyée")
    expect(category.locator("input:checked")).to_have_count(0)
    expect(function.locator("input:checked")).to_have_value("animation")
    phone.get_by_label("Votre idée").fill("Deuxième idée, sans catégorie")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine__state").first).to_have_text("Envoyée")
    mine = phone.locator(".mine")
    expect(mine.filter(has_text="Première idée").locator(".tag")).to_have_text(["Animation", first_label])
    expect(mine.filter(has_text="Deuxième idée").locator(".tag")).to_have_text(["Animation"])


def test_ctrl_or_cmd_enter_sends_from_the_text_box(browser, server):
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{server.code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    phone.locator(".tag-choice", has_text="Animation").click()
    box = phone.get_by_label("Votre idée")
    box.fill("Envoyée au clavier")
    box.press("Enter")  # a plain Enter is a new line
    expect(phone.locator(".mine")).to_have_count(0)
    box.press("Control+Enter")
    expect(phone.locator(".mine").first).to_contain_text("Envoyée au clavier")
    expect(box).to_have_value("")
    box.fill("Envoyée depuis un Mac")
    box.press("Meta+Enter")
    expect(phone.locator(".mine", has_text="Envoyée depuis un Mac")).to_have_count(1)
    expect(phone.locator(".mine__state")).to_have_text(["Envoyée", "Envoyée"])


def test_an_english_browser_reads_steps_numbers_and_punctuation_in_english(browser, server):
    import socketio

    from test_server import organiser_cookie

    sessions_listed = server.prepare("--demo", "demo", organiser=False)
    cafe = next(s for s in sessions_listed
                if s["key"] == "world-cafe-fonctions")
    code = cafe["code"]
    host = browser.new_page(viewport={"width": 360, "height": 740}, locale="en-GB")
    host.goto(cafe["tables"][0]["host_url"])
    expect(host.locator("#phase")).to_have_text("Welcome")
    phone = browser.new_page(viewport={"width": 360, "height": 740}, locale="en-GB")
    phone.goto(f"{server.url}/j/{code}")
    expect(phone.locator("#connection")).to_have_text("Connected")
    expect(phone.locator("#phase")).to_have_text("Welcome")
    wall = browser.new_page(viewport={"width": 1600, "height": 900}, locale="en-US")
    wall.goto(f"{server.url}/wall/{code}")
    french_wall = browser.new_page(viewport={"width": 1600, "height": 900})
    french_wall.goto(f"{server.url}/wall/{code}")
    expect(french_wall.locator("#phase")).to_have_text("Accueil")

    # The step changes from a French console: each page still names it in its own language.
    console = socketio.Client(reconnection=False)
    console.connect(server.url, transports=["websocket"], headers={"Cookie": organiser_cookie(server)}, wait_timeout=10)
    assert console.call("phase_set", {"code": code, "phase": "round_1"}, timeout=10)["ok"]
    expect(phone.locator("#phase")).to_have_text("Round 1")
    expect(wall.locator("#phase")).to_have_text("Round 1")
    expect(french_wall.locator("#phase")).to_have_text("Tour 1")
    expect(host.locator("#phase")).to_have_text("Round 1")
    import requests

    table = cafe["tables"][0]["code"]  # an idea to vote on: the server opens no empty vote
    token = requests.post(f"{server.url}/api/sessions/{table}/join", json={"name": "Ana"}, timeout=5).json()[
        "participant"]["token"]
    requests.post(f"{server.url}/api/sessions/{table}/posts", timeout=5, json={
        "token": token, "client_id": "english-idea-0001", "text": "A shared meal"}).raise_for_status()

    # During the vote step the header says « Vote » once, not « Vote Vote ».
    assert console.call("phase_set", {"code": code, "phase": "vote"}, timeout=10)["ok"]
    assert console.call("vote_open", {"code": code, "budget": 3, "max_per_post": 1}, timeout=10)["ok"]
    expect(wall.locator("#phase")).to_have_text("Vote")
    expect(wall.locator(".wall__summary")).not_to_contain_text("Vote Vote")
    expect(wall.locator("#vote")).to_have_text("")
    console.disconnect()

    # Numbers and punctuation follow the language of the page.
    english, french = (page.evaluate("""async () => {
        const { t, formatNumber } = await import("/static/js/page.js");
        return [t("%(label)s: %(count)s", { label: "Animation", count: 2 }), formatNumber(1234),
                t("%(count)s ideas", { count: 1234 })];
    }""") for page in (wall, french_wall))
    assert english == ["Animation: 2", "1,234", "1,234 ideas"]
    assert french == ["Animation\u00a0: 2", "1\u202f234", "Idées\u00a0: 1\u202f234"]


def test_the_console_counts_by_tag_with_the_punctuation_of_its_language(browser, server):
    import requests

    token = requests.post(f"{server.url}/api/sessions/{server.code}/join", json={}, timeout=5).json()[
        "participant"]["token"]
    for n in range(2):
        requests.post(f"{server.url}/api/sessions/{server.code}/posts", timeout=5, json={
            "token": token, "client_id": f"count-{n}-aaaa", "text": f"Idée {n}",
            "tags": {"function": "animation"}}).raise_for_status()
    console = open_console(browser, server, server.code, viewport={"width": 1280, "height": 900})
    expect(console.locator("#counts li", has_text="Animation")).to_have_text("Animation\u00a0: 2")
    console.goto(f"{server.url}/console/s/{server.code}?lang=en")
    expect(console.locator("#counts li", has_text="Animation")).to_have_text("Animation: 2")


def test_the_printable_plan_is_offered_only_once_a_plan_exists(browser, server):
    sessions_listed = server.prepare("--demo", "demo", organiser=False)
    code = next(s["code"] for s in sessions_listed
                if s["key"] == "world-cafe-fonctions")
    console = open_console(browser, server, code)
    expect(console.locator("h1")).to_be_visible()
    expect(console.locator("#plan-print")).to_be_hidden()


# The projector wall at the size of a real room, at 1920×1080: every table, every count, legible.
WALL = {"width": 1920, "height": 1080}
THEMES = ["animation", "creativite", "valorisation", "support", "gestion_de_projet"]
IDEAS = (
    "Un repas partagé chaque trimestre entre les structures",
    "Cartographier qui fait quoi sur le territoire",
    "Un poste d'animateur mutualisé entre trois associations",
    "Des visites croisées chez les autres PTCE",
    "Organiser chaque année une journée portes ouvertes de toutes les structures du pôle, avec un parcours "
    "pour les habitants et les élus",
    "Un annuaire des compétences, tenu à jour par chacun",
    "Une charte de coopération signée par les membres",
    "Mutualiser un poste de comptable",
    "Un fonds commun pour amorcer les projets",
    "Former les bénévoles à la facilitation",
    "Créer un poste de chargé de mission coopération, financé par les membres et la collectivité pendant trois ans",
    "Raconter nos réussites dans la presse locale",
    "Un tiers-lieu ouvert aux porteurs de projet",
    "Des temps de rencontre avec les élus",
    "Accueillir chaque nouveau membre avec un parrain",
    "Évaluer ensemble l'impact sur le territoire",
    "Des ateliers d'idéation ouverts aux habitants",
    "Un groupement d'employeurs pour les fonctions support",
    "Prêter le matériel entre structures",
    "Des achats groupés pour réduire les coûts",
    "Un accompagnement juridique partagé",
    "Compter le temps bénévole pour le rendre visible",
)
HARVESTS = (
    ("Incarner le projet collectif", "Être tiers de confiance entre les membres", "Faire se rencontrer les acteurs",
     "Repérer les besoins non couverts du territoire", "Rendre visibles les réalisations communes",
     "Sécuriser la gestion des projets partagés"),
    ("Un repas partagé par trimestre", "Cartographier les compétences des membres", "Une lettre mensuelle",
     "Des visites croisées entre structures", "Un fonds d'amorçage commun", "Un comité de pilotage tournant"),
    ("Du temps d'animation financé", "Une formation à la facilitation", "Un appui juridique",
     "Des outils de suivi partagés", "Le soutien des élus", "Un lieu pour se réunir"),
)

# Every text a participant reads on the wall must be at least 1/40 of the wall's height.
TOO_SMALL = """() => {
  const min = innerHeight / 40, small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!node.textContent.trim() || parent.closest("script")) continue;
    if (!parent.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    const size = parseFloat(getComputedStyle(parent).fontSize);
    if (size < min) small.push(`${parent.className || parent.tagName}: ${size}px « ${node.textContent.trim().slice(0, 30)} »`);
  }
  return small;
}"""


def idea_text(n: int) -> str:
    """The `n`-th idea posted by the script: plausible, of varied lengths."""
    return IDEAS[n % len(IDEAS)]


def cafe_yaml(tables: int) -> str:
    """A world café event with `tables` tables spread over the five functions."""
    rows = "\n".join(f"            - {{theme: {THEMES[n % 5]}, name: Table {n + 1:02d}}}" for n in range(tables))
    return f"""slug: cafe-{tables}
title: Grand café
programme:
  - date: "2026-06-09"
    items:
      - id: world-cafe
        start: "14:00"
        end: "16:00"
        title: World café
        workshop: world_cafe
        question: Quelles fonctions pour développer les coopérations territoriales ?
        settings:
          tables:
{rows}
          rounds: 3
          minutes: 20
          categories: [missions, actions, besoins]
"""


@pytest.fixture
def cafe(tmp_path, server_env, request):
    """A real server with a world café of `request.param` tables (15 from tests/data, others generated)."""
    srv = Server(tmp_path / "data", extra_env=server_env)
    if request.param == 15:
        path, slug = DATA / "cafe15.yaml", "cafe15"
    else:
        path, slug = tmp_path / "cafe.yaml", f"cafe-{request.param}"
        path.write_text(cafe_yaml(request.param), encoding="utf-8")
    srv.session = srv.prepare(path, slug)[0]
    assert len(srv.session["tables"]) == request.param
    with srv:
        yield srv


def console_client(server):
    """A facilitator's Socket.IO connection, signed in."""
    import socketio

    from test_server import organiser_cookie

    client = socketio.Client(reconnection=False)
    client.connect(server.url, transports=["websocket"], headers={"Cookie": organiser_cookie(server)}, wait_timeout=10)
    return client


def harvest_text(n: int, k: int) -> str:
    """What the host of table `n` writes for category `k`: one to three lines."""
    lines = HARVESTS[k]
    return "\n".join(lines[(n + k + 2 * i) % len(lines)] for i in range(1 + (n + k) % 3))


def write_harvests(server) -> None:
    """Each table's host writes the three categories, from a line to a paragraph, over a real Socket.IO link."""
    import socketio

    host = socketio.Client(reconnection=False)
    host.connect(server.url, transports=["websocket"], wait_timeout=10)
    for n, table in enumerate(server.session["tables"]):
        token = table["host_url"].rsplit("/", 1)[1]
        for k, category in enumerate(("missions", "actions", "besoins")):
            ack = host.call("harvest_save", {"token": token, "category": category, "text": harvest_text(n, k)},
                            timeout=10)
            assert ack["ok"], ack
    host.disconnect()


@contextmanager
def a_host_saving_again_and_again(server):
    """The first table's host saves the same text every second, as a host leaving and re-entering a box does."""
    import socketio

    stop = threading.Event()
    token = server.session["tables"][0]["host_url"].rsplit("/", 1)[1]
    host = socketio.Client(reconnection=False)
    host.connect(server.url, transports=["websocket"], wait_timeout=10)
    saves = []

    def save():
        while not stop.wait(1):
            saves.append(host.call("harvest_save", {"token": token, "category": "missions",
                                                    "text": harvest_text(0, 0)}, timeout=10)["ok"])

    worker = threading.Thread(target=save)
    worker.start()
    try:
        yield saves
    finally:
        stop.set()
        worker.join()
        host.disconnect()


def visible_tables(wall) -> list[str]:
    """The names of the harvest boxes on screen, each checked to be whole inside the wall's content area."""
    area = wall.locator("#columns").bounding_box()
    assert area["x"] >= 0 and area["x"] + area["width"] <= WALL["width"] and area["y"] + area["height"] <= WALL["height"]
    names = []
    for box in wall.locator(".harvest-table:visible").all():
        rect = box.bounding_box()
        assert rect["x"] >= area["x"] - 1 and rect["x"] + rect["width"] <= area["x"] + area["width"] + 1
        assert rect["y"] >= area["y"] - 1 and rect["y"] + rect["height"] <= area["y"] + area["height"] + 1, \
            box.locator("h2").text_content()
        names.append(box.locator("h2").text_content())
    return names


def read_every_page(wall) -> list[list[str]]:
    """Turn the harvest pages with the keyboard and return the tables seen on each page."""
    label = wall.locator("#page")
    pages = []
    first = label.text_content() if wall.locator("#pager").is_visible() else "Page 1/1"
    count = int(first.split("/")[1])
    for n in range(count):
        if count > 1:
            assert label.text_content() == f"Page {n + 1}/{count}"
        assert wall.evaluate("document.scrollingElement.scrollWidth") <= WALL["width"]
        assert wall.evaluate(TOO_SMALL) == []
        pages.append(visible_tables(wall))
        if count > 1:
            wall.keyboard.press("ArrowRight")
    return pages


@pytest.mark.parametrize("cafe", [15, 30], indirect=True)
def test_every_table_harvest_is_on_the_1080p_wall_on_pages_that_turn_by_themselves(browser, cafe):
    write_harvests(cafe)
    console = console_client(cafe)
    assert console.call("phase_set", {"code": cafe.session["code"], "phase": "harvest"}, timeout=10)["ok"]
    console.disconnect()
    wall = browser.new_page(viewport=WALL)
    wall.goto(f"{cafe.url}/wall/{cafe.session['code']}")
    expect(wall.locator(".harvest-table")).to_have_count(len(cafe.session["tables"]))
    expect(wall.locator(".harvest__text--empty")).to_have_count(0)

    pages = read_every_page(wall)
    names = [name for page in pages for name in page]
    assert sorted(names) == sorted(t["name"] for t in cafe.session["tables"])  # each table once, all of them
    assert len(pages) > 1 and all(pages)
    expect(wall.locator("#page")).to_have_text(f"Page 1/{len(pages)}")  # the keyboard went round
    shot(wall, f"wall-harvest-{len(names)}")
    if len(names) > 15:
        return
    # Nobody needs to touch the wall: the page turns by itself once it has been up long enough to read, even
    # while hosts keep saving (each save re-renders the harvest).
    with a_host_saving_again_and_again(cafe) as saves:
        expect(wall.locator("#page")).to_have_text(f"Page 2/{len(pages)}", timeout=50_000)
    assert len(saves) >= 5 and all(saves)


def post_ideas(server, code: str, counts: dict[str, int], start: int = 0) -> None:
    """Post `counts[theme]` ideas under each theme over HTTP, a few per participant as in a real room."""
    import requests

    people = (("Camille", "Tiers-lieu de Bray"), ("Karim", "Mairie de Forges"), ("Inès", ""), ("Hugo", "Ressourcerie"),
              ("Nadia", "MES Pays de Bray"), ("Olivier", "Coopérative Terres"), ("Rose", ""), ("Samir", "CAE Bray"))
    token = None
    n = start
    for theme, count in counts.items():
        for _ in range(count):
            if n % 3 == 0 or token is None:
                name, org = people[n // 3 % len(people)]
                token = requests.post(f"{server.url}/api/sessions/{code}/join", json={
                    "name": name, "organisation": org}, timeout=5).json()["participant"]["token"]
            requests.post(f"{server.url}/api/sessions/{code}/posts", timeout=5, json={
                "token": token, "client_id": f"wall-{n}-aaaa", "text": idea_text(n),
                "tags": {"function": theme, **({"category": "missions"} if n % 4 == 0 else {})}}).raise_for_status()
            n += 1


@pytest.mark.parametrize("cafe", [15], indirect=True)
def test_a_full_board_counts_each_column_and_says_how_many_ideas_it_cannot_show(browser, cafe):
    code = cafe.session["code"]
    console = console_client(cafe)
    assert console.call("phase_set", {"code": code, "phase": "round_1"}, timeout=10)["ok"]
    console.disconnect()
    # 250 ideas from the 120 people of a 15-table café.
    posted = {"animation": 62, "creativite": 48, "valorisation": 55, "support": 1, "gestion_de_projet": 84}
    post_ideas(cafe, code, posted)
    wall = browser.new_page(viewport=WALL)
    wall.goto(f"{cafe.url}/wall/{code}")
    expect(wall.locator("#total")).to_have_text("Idées\u00a0: 250")
    labels = {"animation": "Animation", "creativite": "Créativité", "valorisation": "Valorisation",
              "support": "Support", "gestion_de_projet": "Gestion de projet"}
    for theme, count in posted.items():
        column = wall.locator(".column", has=wall.locator(".column__label", has_text=labels[theme]))
        expect(column.locator(".column__count")).to_have_text(f"{count} idée" if count == 1 else f"{count} idées")
        shown = column.locator(".card").count()
        more = column.locator(".column__more")
        # What the column shows plus what its marker counts is every idea posted under it, no more, no less.
        if shown < count:
            expect(more).to_have_text(f"+\u00a0{count - shown} autre idée" if count - shown == 1
                                      else f"+\u00a0{count - shown} autres idées")
        else:
            expect(more).to_be_hidden()
        bottom = (more if shown < count else column.locator(".column__posts")).bounding_box()
        assert bottom["y"] + bottom["height"] <= WALL["height"]
        for card in column.locator(".card").all():  # no card is cut off at the bottom of its column
            rect, area = card.bounding_box(), column.locator(".column__posts").bounding_box()
            assert rect["y"] + rect["height"] <= area["y"] + area["height"] + 1
    animation = wall.locator(".column", has=wall.locator(".column__label", has_text="Animation"))
    assert 1 < animation.locator(".card").count() < 62
    assert wall.evaluate("document.scrollingElement.scrollWidth") <= WALL["width"]
    assert wall.evaluate(TOO_SMALL) == []
    shot(wall, "wall-board-15")

    # A new idea takes the top of its column, and what is shown plus the marker still adds up to every idea.
    post_ideas(cafe, code, {"animation": 1}, start=300)
    expect(animation.locator(".column__count")).to_have_text("63 idées")
    expect(animation.locator(".card__text").first).to_have_text(idea_text(300))
    shown = animation.locator(".card").count()
    expect(animation.locator(".column__more")).to_have_text(f"+\u00a0{63 - shown} autres idées")


def test_every_text_of_the_wall_is_legible_from_the_back_of_the_room(browser, server):
    post_ideas(server, server.code, {"animation": 1, "support": 1})  # the first carries a category tag
    for viewport in (WALL, {"width": 1280, "height": 720}, {"width": 1024, "height": 768}):
        wall = browser.new_page(viewport=viewport)
        wall.goto(f"{server.url}/wall/{server.code}")
        wall.locator(".card").first.wait_for()
        wall.locator(".card .tag").first.wait_for()
        assert wall.evaluate(TOO_SMALL) == []
        assert wall.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
        wall.close()
def test_a_host_merge_shows_on_every_screen_and_undoing_it_restores_both_ideas(browser, server):
    import re

    import requests

    code, _tables = demo_cafe(server)
    console = open_console(browser, server, code, viewport={"width": 1366, "height": 768})
    expect(console.get_by_role("button", name="Accueil")).to_have_attribute("aria-current", "step")
    host_link = console.locator("a", has_text="Lien hôte").first.get_attribute("href")
    console.get_by_role("button", name="Tour 1").click()
    expect(console.get_by_role("button", name="Tour 1")).to_have_attribute("aria-current", "step")
    tables = requests.get(f"{server.url}/api/sessions/{code}", timeout=5).json()["session"]["tables"]
    phone = browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    phone.goto(f"{server.url}/j/{tables[0]['code']}")
    kept, duplicate = "Un poste d'animateur partagé entre structures", "un poste animateur mutualisé"
    for text in (kept, duplicate):
        phone.get_by_label("Votre idée").fill(text)
        phone.get_by_role("button", name="Envoyer").click()
        expect(phone.locator(".mine", has_text=text).locator(".mine__state")).to_have_text("Envoyée")
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(f"{server.url}/wall/{code}")
    expect(wall.locator(".card")).to_have_count(2)

    host = browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    host.goto(host_link)
    host.locator(".host-post", has_text=duplicate).get_by_role("button", name="Doublon").click()
    host.locator(".host-post", has_text=kept).get_by_role("button", name="Garder celle-ci").click()

    card = wall.locator(".card")
    expect(card).to_have_count(1)
    expect(card.locator(".merged__count")).to_have_text("+1")
    expect(card.locator(".merged__text")).to_have_text(duplicate)
    expect(card.locator(".merged__text")).to_be_visible()
    grouped = phone.locator(".mine", has_text=duplicate)
    expect(grouped.locator(".mine__state")).to_have_text("Regroupée")
    expect(grouped.locator(".mine__kept")).to_have_text(f"Regroupée avec une idée proche\u00a0: «\u00a0{kept}\u00a0»")
    expect(host.locator(".host-post")).to_have_count(1)
    expect(host.locator(".host-post .merged__count")).to_have_text("+1")
    row = console.locator(".console-post", has_text=re.compile("^" + re.escape(kept)))
    expect(row.locator(".merged__count")).to_have_text("+1")
    expect(console.locator(".console-post", has_text="Regroupée avec la n°\u00a01")).to_have_count(1)
    shot(wall, "wall-merged")
    grouped.scroll_into_view_if_needed()
    shot(phone, "phone-merged")
    host.locator(".merged__count").click()
    host.get_by_role("button", name="Annuler le regroupement").scroll_into_view_if_needed()
    shot(host, "host-merged")
    row.locator(".merged__count").click()
    row.scroll_into_view_if_needed()
    shot(console, "console-merged")
    # A wall that reloads shows the same group.
    wall.reload()
    expect(wall.locator(".card .merged__text")).to_have_text(duplicate)

    host.get_by_role("button", name="Annuler le regroupement").click()
    expect(wall.locator(".card")).to_have_count(2)
    expect(wall.locator(".merged")).to_have_count(0)
    expect(phone.locator(".mine", has_text=duplicate).locator(".mine__state")).to_have_text("Envoyée")
    expect(phone.locator(".mine__kept")).to_have_count(0)
    expect(host.locator(".host-post")).to_have_count(2)
    expect(console.locator(".console-post .merged")).to_have_count(0)


def test_the_console_merges_two_ideas_and_undoes_the_merge(browser, server):
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{server.code}")
    for text in ("Créer un fonds commun", "Un fonds commun à créer"):
        phone.locator(".tag-choice", has_text="Valorisation").click()
        phone.get_by_label("Votre idée").fill(text)
        phone.get_by_role("button", name="Envoyer").click()
        expect(phone.locator(".mine", has_text=text).locator(".mine__state")).to_have_text("Envoyée")
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(f"{server.url}/wall/{server.code}")
    expect(wall.locator(".card")).to_have_count(2)

    console = open_console(browser, server, server.code, viewport={"width": 1366, "height": 768})
    console.locator(".console-post", has_text="Un fonds commun à créer").get_by_role("button", name="Doublon").click()
    console.locator(".console-post", has_text="Créer un fonds commun").get_by_role(
        "button", name="Garder celle-ci").click()
    expect(wall.locator(".card")).to_have_count(1)
    expect(wall.locator(".card .merged__text")).to_have_text("Un fonds commun à créer")
    expect(phone.locator(".mine__kept")).to_have_text("Regroupée avec une idée proche\u00a0: «\u00a0Créer un fonds "
                                                      "commun\u00a0»")
    expect(console.locator(".console-post", has_text="Regroupée avec la n°\u00a01")).to_have_count(1)

    console.locator(".console-post", has_text="Regroupée avec la n°").get_by_role(
        "button", name="Annuler le regroupement").click()
    expect(wall.locator(".card")).to_have_count(2)
    expect(phone.locator(".mine__kept")).to_have_count(0)
    expect(console.locator(".merged")).to_have_count(0)


def demo_cafe(server) -> tuple[str, dict]:
    """Import the demo and return its world café's code and its tables by name."""
    import requests

    sessions_listed = server.prepare("--demo", "demo", organiser=False)
    code = next(s["code"] for s in sessions_listed
                if s["key"] == "world-cafe-fonctions")
    tables = requests.get(f"{server.url}/api/sessions/{code}", timeout=5).json()["session"]["tables"]
    return code, {t["name"]: t for t in tables}


def posts_of(server, code: str) -> list[dict]:
    """Return the visible posts of a session, as a wall reads them."""
    import requests

    return requests.get(f"{server.url}/api/sessions/{code}/posts", timeout=5).json()["posts"]


def planned_demo_cafe(browser, server):
    """The demo café with one phone joined and a rotation plan computed from the console, at « Accueil »."""
    code, tables = demo_cafe(server)
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    console = open_console(browser, server, code, viewport={"width": 1280, "height": 1100})
    expect(console.get_by_role("button", name="Accueil")).to_have_attribute("aria-current", "step")
    console.get_by_role("button", name="Calculer le plan de rotation").click()
    return code, tables, phone, console


def test_the_phone_says_once_where_the_person_is_and_posts_there(browser, server):
    code, tables, phone, console = planned_demo_cafe(browser, server)
    expect(phone.locator("#assignment")).to_contain_text("Pour le tour 1, votre table\u00a0: ")
    planned = phone.locator("#assignment").text_content().split("\u00a0: ")[1]
    # The person scans another table's card before the round: the plan says where to go once it starts.
    scanned = next(name for name in tables if name != planned)
    phone.goto(f"{server.url}/j/{tables[scanned]['code']}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    console.get_by_role("button", name="Tour 1").click()
    expect(phone.locator("#assignment")).to_have_text(PLANNED.format(planned))
    # One sentence about the table: no second line naming another one.
    main = phone.locator("main").inner_text()
    assert "Table\u00a0:" not in main and scanned not in main
    phone.get_by_label("Votre idée").fill("Au plan")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine__state").first).to_have_text("Envoyée")
    assert [p["tags"]["function"] for p in posts_of(server, code)] == [tables[planned]["tags"]["function"]]
    phone.evaluate("window.scrollTo(0, 0)")
    shot(phone, "phone-seat-plan")

    # « Pas à cette table ? »: the person says where they are; the sentence says it, with the way back.
    phone.get_by_text("Pas à cette table\u00a0?").click()
    phone.locator("#seat-other").get_by_role("button", name=scanned, exact=True).click()
    expect(phone.locator("#assignment")).to_have_text(f"Vous êtes à {scanned} et non à {planned}, où le plan vous "
                                                      f"place\u00a0: vos idées vont à {scanned}.")
    expect(phone.get_by_role("button", name=f"Je suis à {planned}")).to_be_visible()
    phone.get_by_label("Votre idée").fill("Ici")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine--sent")).to_have_count(2)
    assert [p["tags"]["function"] for p in posts_of(server, code)] == [tables[planned]["tags"]["function"],
                                                                     tables[scanned]["tags"]["function"]]
    phone.evaluate("window.scrollTo(0, 0)")
    shot(phone, "phone-seat-elsewhere")
    # The console sees who sits elsewhere than planned.
    expect(console.locator("#seating-table")).to_contain_text("Une personne sans nom")
    row = console.locator("#seating-table tbody tr", has_text=scanned)
    expect(row.locator("td").nth(0)).to_have_text("1")
    console.locator("#seating-table").scroll_into_view_if_needed()
    shot(console, "console-seating")
    phone.get_by_role("button", name=f"Je suis à {planned}").click()
    expect(phone.locator("#assignment")).to_have_text(PLANNED.format(planned))
    expect(console.locator("#seating-table")).not_to_contain_text("Une personne sans nom")


def test_the_next_table_shows_in_the_last_minutes_of_a_round_on_the_phone_and_the_wall(browser, server):
    code, _tables = demo_cafe(server)
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    phone.get_by_label("Nom").fill("Camille")
    phone.get_by_label("Votre idée").focus()  # leaving the field sends the name
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(f"{server.url}/wall/{code}")
    console = open_console(browser, server, code, viewport={"width": 1280, "height": 1100})
    expect(console.get_by_role("button", name="Accueil")).to_have_attribute("aria-current", "step")
    console.get_by_role("button", name="Calculer le plan de rotation").click()
    expect(console.locator("#plan-state")).to_have_text("Plan pour 1 personne")
    console.get_by_role("button", name="Tour 1").click()
    expect(phone.locator("#assignment")).to_contain_text("Pour ce tour, votre table selon le plan est ")
    # Twenty minutes left: the next table is not yet said.
    expect(phone.locator("#countdown")).to_be_visible()
    expect(phone.locator("#next-table")).to_be_hidden()
    expect(wall.locator("#next-tables")).to_be_hidden()
    console.get_by_role("button", name="3 min", exact=True).click()
    expect(phone.locator("#next-table")).to_contain_text("Au prochain tour, allez à ")
    following = phone.locator("#next-table").text_content().removeprefix("Au prochain tour, allez à ").removesuffix(".")
    current = phone.locator("#assignment").text_content().split("est ")[1].split("\u00a0;")[0]
    assert following != current
    expect(wall.locator("#next-tables")).to_be_visible()
    expect(wall.locator("#next-tables-title")).to_have_text("Prochain tour")
    expect(wall.locator(".next-tables__table", has_text=following)).to_contain_text("Camille")
    expect(wall.locator(".next-tables__table")).to_have_count(5)
    phone.evaluate("window.scrollTo(0, 0)")
    shot(phone, "phone-next-table")
    shot(wall, "wall-next-tables")
    # The step moves on: the new round's table is where the person is, and the list goes.
    console.get_by_role("button", name="Tour 2").click()
    expect(phone.locator("#assignment")).to_have_text(PLANNED.format(following))
    expect(phone.locator("#next-table")).to_be_hidden()
    expect(wall.locator("#next-tables")).to_be_hidden()


def test_a_phone_arriving_after_the_plan_is_seated_and_told(browser, server):
    code, tables, first, console = planned_demo_cafe(browser, server)
    expect(console.locator("#plan-state")).to_have_text("Plan pour 1 personne")
    console.get_by_role("button", name="Tour 1").click()
    late = browser.new_page(viewport={"width": 360, "height": 740})
    late.goto(f"{server.url}/j/{code}")
    expect(late.locator("#assignment")).to_contain_text("Arrivé après le calcul du plan, vous êtes placé à ")
    expect(console.locator("#plan-state")).to_have_text("Plan pour 2 personnes")
    text = late.locator("#assignment").text_content()
    assert any(f"placé à {name} pour ce tour" in text for name in tables)
    late.evaluate("window.scrollTo(0, 0)")
    shot(late, "phone-late")


def test_the_phone_vote_list_shows_what_a_kept_idea_groups(browser, server):
    import requests

    http = requests.Session()
    token = http.post(f"{server.url}/api/sessions/{server.code}/join", json={"name": "Awa"}, timeout=5).json()[
        "participant"]["token"]
    ids = [http.post(f"{server.url}/api/sessions/{server.code}/posts", timeout=5, json={
        "token": token, "client_id": f"grouped-{n}-aaaa", "text": text, "tags": {"function": "support"}}).json()[
        "post"]["id"] for n, text in enumerate(("Un fonds commun", "Créer une caisse commune"))]
    console = posting_console(server)
    assert console.call("vote_open", {"code": server.code, "budget": 3, "max_per_post": 1}, timeout=10)["ok"]
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{server.url}/j/{server.code}")
    expect(phone.locator(".vote-post")).to_have_count(2)

    assert console.call("post_merge", {"code": server.code, "post_id": ids[1], "into": ids[0]}, timeout=10)["ok"]
    kept = phone.locator(".vote-post")
    expect(kept).to_have_count(1)
    expect(kept.locator(".vote-post__text")).to_have_text("Un fonds commun")
    expect(kept.locator(".merged__count")).to_have_text("+1")
    kept.locator(".merged__count").click()
    expect(kept.locator(".merged__text")).to_have_text("Créer une caisse commune")
    shot(phone, "phone-vote-merged")

    assert console.call("post_unmerge", {"code": server.code, "post_id": ids[1]}, timeout=10)["ok"]
    expect(phone.locator(".vote-post")).to_have_count(2)
    expect(phone.locator(".vote-post .merged")).to_have_count(0)
    console.disconnect()


@pytest.mark.parametrize("cafe", [15], indirect=True)
def test_a_harvest_taller_than_the_wall_says_that_the_rest_is_cut(browser, cafe):
    import socketio

    write_harvests(cafe)
    host = socketio.Client(reconnection=False)
    host.connect(cafe.url, transports=["websocket"], wait_timeout=10)
    token = cafe.session["tables"][0]["host_url"].rsplit("/", 1)[1]
    long_text = "\n".join(f"Point {n} : une mutualisation de moyens entre les structures du territoire" for n in range(40))
    for category in ("missions", "actions", "besoins"):
        assert host.call("harvest_save", {"token": token, "category": category, "text": long_text[:3000]},
                         timeout=10)["ok"]
    host.disconnect()
    console = console_client(cafe)
    assert console.call("phase_set", {"code": cafe.session["code"], "phase": "harvest"}, timeout=10)["ok"]
    console.disconnect()
    wall = browser.new_page(viewport=WALL)
    wall.goto(f"{cafe.url}/wall/{cafe.session['code']}")
    cut = wall.locator(".harvest-table--cut")
    expect(cut).to_have_count(1)
    expect(cut.locator("h2")).to_have_text("Animation 1")
    note = cut.locator(".harvest-table__cut")
    expect(note).to_have_text("La suite ne tient pas sur le mur.")
    expect(note).to_be_in_viewport(ratio=1)
    shot(wall, "wall-harvest-cut")
    # Every other table is still on a page of its own, whole, and every text stays legible.
    pages = read_every_page(wall)
    assert sorted(name for page in pages for name in page) == sorted(t["name"] for t in cafe.session["tables"])
