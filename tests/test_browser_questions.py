"""Questions that rise in a real Chromium: the wall reorders on upvotes by sliding (nothing jumps), the spotlight is
large, answered questions sink, held ones never reach a wall; the phone's upvote toggles and is withdrawn, a question
is anonymous unless signed; the duo's and the round table's phone, wall and console pass axe-core; the wall reads
from the back of a room at 1366×768; duos in parallel each have their table wall, and a long list folds in the console."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import pytest
import socketio

import test_browser
import test_browser_cafe
from conftest import DATA
from server import serving
from test_browser import open_console, shot
from test_server import organiser_cookie

from playwright.sync_api import expect  # noqa: E402  (after test_browser, which skips when chromium is missing)

pytestmark = pytest.mark.browser
browser, no_script_errors = test_browser.browser, test_browser.no_script_errors
axe = test_browser_cafe.axe
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
FOOD = "alimentation-durable-et-locale"
CRAFT = "maintenir-les-artisans-en-territoire-rural"
QUESTIONS = [
    "Comment avez-vous financé la première année du projet ?",
    "Quel rôle les habitants ont-ils joué dans la gouvernance de l’écopôle ?",
    "Combien de temps a-t-il fallu pour que la collectivité accepte de partager les risques avec la SCIC ?",
    "Est-ce reproductible dans une commune rurale sans agglomération ?",
    "Qui porte l’animation aujourd’hui ?",
]
DOC_IMAGES = Path(os.environ["ROUAGES_DOC_IMAGES"]) if os.environ.get("ROUAGES_DOC_IMAGES") else None


def _ok(ack: dict) -> dict:
    assert ack["ok"], ack
    return ack


@pytest.fixture
def server(tmp_path, server_env):
    """A real server with a duo session, duos in parallel and a round table, and an organiser's Socket.IO client."""
    with serving(tmp_path / "data", DATA / "questions.yaml", "questions", "duos", server_env) as srv:
        srv.sessions = {s["key"]: s for s in json.loads(srv.cli("sessions", "questions", "--json").stdout)}
        srv.console = socketio.Client(reconnection=False)
        srv.console.connect(srv.url, transports=["websocket"], headers={"Cookie": organiser_cookie(srv)},
                            wait_timeout=10)
        srv.act = lambda code, event, **data: _ok(srv.console.call(event, {"code": code, **data}, timeout=10))
        srv.phones = []
        yield srv
        for phone in srv.phones:
            phone.disconnect()
        srv.console.disconnect()


def code_of(server, key: str) -> str:
    return server.sessions[key]["code"]


def phone(server, code: str, name: str) -> socketio.Client:
    """A phone that joined the session `code` as `name`."""
    client = socketio.Client(reconnection=False)
    client.connect(server.url, transports=["websocket"], wait_timeout=10)
    _ok(client.call("join", {"code": code, "name": name}, timeout=10))
    server.phones.append(client)
    return client


def ask(client, code: str, text: str, tags: dict | None = None, signed: bool = False) -> dict:
    """Post a question from a phone; return the stored post."""
    data = {"code": code, "client_id": uuid.uuid4().hex, "text": text, "tags": tags or {}}
    if signed:
        data["signed"] = True
    return _ok(client.call("post", data, timeout=10))["post"]


def upvote(client, code: str, post_id: int, on: bool = True) -> dict:
    return _ok(client.call("upvote", {"code": code, "post_id": post_id, "on": on}, timeout=10))


def wall_texts(page) -> list[str]:
    return page.locator(".qa-list .qa-item__text").all_text_contents()


# Record, on the wall, where each question is drawn just before the list is reordered and just after: a question
# that moves must start from where it was (it slides), never appear at once in its new place.
WATCH_JUMPS = """() => {
    const list = document.querySelector('.qa-list');
    window.qaJumps = [];
    window.qaMoves = 0;
    const reorder = list.replaceChildren.bind(list);
    list.replaceChildren = (...nodes) => {
        const before = new Map([...list.children].map((li) => [li, li.getBoundingClientRect().top]));
        reorder(...nodes);
        // After the module's render (it starts the slides), before the next frame is drawn.
        queueMicrotask(() => {
            for (const li of list.children) {
                if (!before.has(li)) continue;
                const top = li.getBoundingClientRect().top;
                if (Math.abs(top - before.get(li)) > 1) window.qaJumps.push([li.dataset.id, before.get(li), top]);
                if (li.getAnimations().length) window.qaMoves += 1;
            }
        });
    };
}"""


def test_the_round_table_wall_reorders_on_upvotes_without_jumping_and_sinks_answered_ones(browser, server, axe):
    code = code_of(server, "table-ronde")
    server.act(code, "phase_set", phase="questions")
    people = [phone(server, code, f"Personne {n}") for n in range(4)]
    # Four questions on a 1080-pixel wall: all fit under the speakers, so the one answered stays in sight at the bottom.
    posts = [ask(people[n % 4], code, text, {"speaker": "patricia-andriot"} if n == 0 else {})
             for n, text in enumerate(QUESTIONS[:4])]
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(f"{server.url}/wall/{code}")
    expect(wall.locator(".rt-speakers__name")).to_have_count(6)
    # No votes yet: oldest first.
    expect(wall.locator(".qa-list .qa-item__text").first).to_have_text(QUESTIONS[0])
    assert len(wall_texts(wall)) >= 3
    expect(wall.locator(".qa-list .qa-item__text")).to_have_text(QUESTIONS[:len(wall_texts(wall))])
    expect(wall.locator(".qa-item").first).to_contain_text("Pour Patricia Andriot")
    wall.wait_for_function("() => document.getAnimations().length === 0")
    wall.evaluate(WATCH_JUMPS)

    # Three votes lift the third question to the top; it slides up while the others slide down.
    for person in people[:3]:
        upvote(person, code, posts[2]["id"])
    expect(wall.locator(".qa-list .qa-item__text").first).to_have_text(QUESTIONS[2])
    expect(wall.locator(".qa-item").first.locator(".qa-count__n")).to_have_text("3")
    assert wall.evaluate("() => window.qaJumps") == []
    assert wall.evaluate("() => window.qaMoves") >= 1
    wall.wait_for_function("() => document.getAnimations().length === 0")

    # A withdrawn vote counts down; the order holds while it still leads.
    upvote(people[0], code, posts[2]["id"], on=False)
    expect(wall.locator(".qa-item").first.locator(".qa-count__n")).to_have_text("2")
    upvote(people[3], code, posts[1]["id"])
    expect(wall.locator(".qa-list .qa-item__text").nth(1)).to_have_text(QUESTIONS[1])
    assert wall.evaluate("() => window.qaJumps") == []

    # Answered: the leading question sinks below every unanswered one, marked.
    server.act(code, "question_answered", post_id=posts[2]["id"], answered=True)
    answered = wall.locator(".qa-item--answered")
    expect(answered).to_have_count(1)
    expect(answered.locator(".qa-answered")).to_have_text("Répondue")
    expect(wall.locator(".qa-list .qa-item__text").first).to_have_text(QUESTIONS[1])
    order = wall.evaluate(
        "() => [...document.querySelectorAll('.qa-item')].map((li) => li.classList.contains('qa-item--answered'))")
    assert order == sorted(order)

    # The spotlight: the question large above the list, and no longer in it.
    server.act(code, "question_spotlight", post_id=posts[3]["id"], on=True)
    spot = wall.locator(".qa-spot")
    expect(spot.locator(".qa-spot__text")).to_have_text(QUESTIONS[3])
    expect(wall.locator(".qa-list .qa-item__text")).not_to_contain_text([QUESTIONS[3]])
    size = spot.locator(".qa-spot__text").evaluate("node => parseFloat(getComputedStyle(node).fontSize)")
    item = wall.locator(".qa-item__text").first.evaluate("node => parseFloat(getComputedStyle(node).fontSize)")
    assert size >= 0.05 * 1080 and size > 1.4 * item
    shot(wall, "round-table-wall-1920")
    assert_readable(wall)
    axe(wall, "the round table's wall with a spotlighted question")
    server.act(code, "question_spotlight", post_id=posts[3]["id"], on=False)
    expect(spot).to_be_hidden()
    wall.close()


def assert_readable(page) -> None:
    """Nothing scrolls, every question lies inside the screen, and no text is under 2.6 % of the screen's height."""
    page.wait_for_function("() => document.getAnimations().length === 0")
    layout = page.evaluate("""() => ({
        width: innerWidth, height: innerHeight,
        scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
        boxes: [...document.querySelectorAll('.qa-item, .qa-spot')].map((n) => n.getBoundingClientRect().bottom),
        smallest: Math.min(...[...document.querySelectorAll('.format-view :is(p, li, span, h2, strong)')]
            .filter((n) => n.textContent.trim() && n.offsetParent !== null && !n.closest('.visually-hidden'))
            .map((n) => parseFloat(getComputedStyle(n).fontSize))),
    })""")
    assert layout["scroll"] == [layout["width"], layout["height"]]
    assert all(bottom <= layout["height"] for bottom in layout["boxes"])
    assert layout["smallest"] >= 0.026 * layout["height"] - 0.5, layout["smallest"]


def test_held_questions_never_reach_a_wall_until_published(browser, server, axe):
    code = code_of(server, "table-ronde")
    server.act(code, "phase_set", phase="questions")
    shown = ask(phone(server, code, "Avant"), code, "Une question publiée tout de suite")
    wall = browser.new_page(viewport={"width": 1366, "height": 768})
    wall.goto(f"{server.url}/wall/{code}")
    expect(wall.locator(".qa-item")).to_have_count(1)
    console = open_console(browser, server, code, viewport={"width": 1366, "height": 900})
    switch = console.get_by_role("switch", name="Questions modérées avant affichage")
    expect(switch).not_to_be_checked()
    switch.check()
    expect(switch).to_be_checked()

    held = ask(phone(server, code, "Pendant"), code, "Une question qui attend la modération")
    assert held["held"] and held["hidden"]
    queue = console.locator(".qa-queue__list .qa-console__item")
    expect(queue).to_have_count(1)
    expect(queue.locator(".qa-console__text")).to_have_text(held["text"])
    axe(console, "the round table's console with a question waiting for review")
    rejected = ask(phone(server, code, "Refusé"), code, "Une question que la modération refuse")
    expect(queue).to_have_count(2)
    queue.filter(has_text=rejected["text"]).get_by_role("button", name="Refuser").click()
    expect(queue).to_have_count(1)
    # The wall never had them, not even hidden.
    assert wall.evaluate("() => document.body.textContent.includes('attend la modération')") is False
    expect(wall.locator(".qa-item")).to_have_count(1)

    queue.get_by_role("button", name="Publier").click()
    expect(queue).to_have_count(0)
    expect(wall.locator(".qa-item__text")).to_have_text([shown["text"], held["text"]])
    assert_readable(wall)
    axe(wall, "the round table's wall at 1366×768")
    assert not wall.evaluate("() => document.body.textContent.includes('refuse')")
    switch.uncheck()
    expect(switch).not_to_be_checked()
    wall.close()
    console.close()


def test_the_phone_upvotes_and_withdraws_and_signs_only_when_asked(browser, server, axe):
    code = code_of(server, "table-ronde")
    server.act(code, "phase_set", phase="questions")
    other = ask(phone(server, code, "Quelqu’un"), code, "Quelle place pour les communes rurales ?")
    page = browser.new_page(**PHONE)
    page.goto(f"{server.url}/j/{code}")
    page.get_by_label("Nom", exact=True).fill("Camille Dupont")
    page.get_by_label("Nom", exact=True).blur()
    expect(page.locator(".qa-review")).to_have_text(
        "Les questions s’affichent tout de suite, sans votre nom si vous ne signez pas.")
    item = page.locator(".qa-q", has_text=other["text"])
    button = item.get_by_role("button")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator(".qa-up__n")).to_have_text("1")
    wall = browser.new_page(viewport={"width": 1366, "height": 768})
    wall.goto(f"{server.url}/wall/{code}")
    expect(wall.locator(".qa-item .qa-count__n")).to_have_text(["1"])
    # Withdrawn: the count goes back, on the phone and on the wall.
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button.locator(".qa-up__n")).to_have_text("0")
    expect(wall.locator(".qa-item .qa-count__n")).to_have_text(["0"])
    axe(page, "the round table's phone with a question")

    # Anonymous by default, even with a name given; signed when ticked, and the box unticks after.
    sign = page.get_by_label("Signer de mon nom")
    expect(sign).not_to_be_checked()
    page.get_by_label("Votre idée").fill("Une question anonyme")
    page.get_by_role("button", name="Envoyer").click()
    expect(wall.locator(".qa-item", has_text="Une question anonyme")).to_have_count(1)
    expect(wall.locator(".qa-item", has_text="Une question anonyme").locator(".qa-item__who")).to_have_count(0)
    sign.check()
    page.get_by_label("Votre idée").fill("Une question signée")
    page.get_by_role("button", name="Envoyer").click()
    expect(sign).not_to_be_checked()
    expect(wall.locator(".qa-item", has_text="Une question signée").locator(".qa-item__who")).to_have_text("Camille Dupont")
    expect(page.locator(".qa-q", has_text="Une question signée").locator(".qa-q__who")).to_have_text("Camille Dupont")
    expect(page.locator(".qa-q", has_text="Une question anonyme").locator(".qa-q__who")).to_have_count(0)
    shot(page, "round-table-phone")

    # With review on, the phone says so and my question waits, marked, on my phone only.
    server.act(code, "review_set", review=True)
    expect(page.locator(".qa-review")).to_have_text("Les questions sont relues par l’équipe d’animation avant de s’afficher.")
    page.get_by_label("Votre idée").fill("Une question relue")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator(".qa-q--held", has_text="Une question relue").locator(".qa-held")).to_have_text(
        "En attente de validation")
    expect(wall.locator(".qa-item", has_text="Une question relue")).to_have_count(0)
    axe(page, "the round table's phone with a question waiting for review")
    wall.close()
    page.close()


def test_the_duo_screens_follow_the_duo_on_now_and_pass_axe(browser, server, axe):
    code = code_of(server, "duos")
    server.act(code, "phase_set", phase="duo-1")
    people = [phone(server, code, f"Duo {n}") for n in range(3)]
    questions = [ask(people[n % 3], code, text, {"duo": FOOD, "kind": "question"}) for n, text in enumerate(QUESTIONS[:3])]
    ask(people[0], code, "Coopérer prend du temps", {"duo": FOOD, "kind": "takeaway"})
    ask(people[1], code, "Une question pour l’autre duo", {"duo": CRAFT, "kind": "question"})
    upvote(people[1], code, questions[1]["id"])
    for width, height in ((1366, 768), (1920, 1080)):
        wall = browser.new_page(viewport={"width": width, "height": height})
        wall.goto(f"{server.url}/wall/{code}")
        expect(wall.locator(".duo-one .duo-head__title")).to_have_text("Alimentation durable et locale")
        expect(wall.locator(".duo-one .duo-head__person")).to_have_text(
            ["Felix Degrave · Communauté d’agglomération de Lens-Liévin", "Dominique Hays · Ecopôle Alimentaire"])
        questions_list = wall.locator(".duo-one .qa-wall").first
        expect(questions_list.locator(".qa-item__text")).to_have_text([QUESTIONS[1], QUESTIONS[0], QUESTIONS[2]])
        expect(wall.locator(".duo-one .qa-wall").nth(1).locator(".qa-item__text")).to_have_text(["Coopérer prend du temps"])
        assert_readable(wall)
        shot(wall, f"duo-wall-{width}")
        axe(wall, f"the duo's wall at {width}×{height}")
        wall.close()

    # Each duo has its own spotlight; the wall follows the step to the next duo.
    server.act(code, "question_spotlight", post_id=questions[0]["id"], on=True)
    wall = browser.new_page(viewport={"width": 1366, "height": 768})
    wall.goto(f"{server.url}/wall/{code}")
    expect(wall.locator(".duo-one .qa-spot__text")).to_have_text(QUESTIONS[0])
    server.act(code, "phase_set", phase="duo-2")
    expect(wall.locator(".duo-one .duo-head__title")).to_have_text("Maintenir les artisans en territoire rural")
    expect(wall.locator(".duo-one .qa-item__text")).to_have_text(["Une question pour l’autre duo"])
    expect(wall.locator(".duo-one .qa-spot")).to_be_hidden()
    server.act(code, "phase_set", phase="done")
    expect(wall.locator(".duo-all .qa-wall")).to_have_count(2)
    expect(wall.locator(".duo-all .qa-wall").first.locator(".qa-spot__text")).to_have_text(QUESTIONS[0])
    assert_readable(wall)
    axe(wall, "the duo's wall between duos")
    wall.close()

    # The phone preselects the duo on now, any other can be chosen; the list is the chosen duo's.
    server.act(code, "phase_set", phase="duo-1")
    page = browser.new_page(**PHONE)
    page.goto(f"{server.url}/j/{code}")
    expect(page.get_by_role("radio", name="Alimentation durable et locale")).to_be_checked()
    expect(page.locator(".qa-q")).to_have_count(4)
    expect(page.locator(".qa-q").first).to_contain_text(QUESTIONS[1])
    page.locator("#post-form").get_by_text("Maintenir les artisans en territoire rural", exact=True).click()
    expect(page.locator(".qa-q__text")).to_have_text(["Une question pour l’autre duo"])
    page.locator("#post-form").get_by_text("Alimentation durable et locale", exact=True).click()
    page.get_by_role("button", name="Récentes").click()
    expect(page.locator(".qa-q__text").first).to_have_text("Coopérer prend du temps")
    shot(page, "duo-phone")
    axe(page, "the duo's phone")
    page.close()

    # The console: per duo its questions ranked, and the key lessons saved with their revision.
    console = open_console(browser, server, code, viewport={"width": 1366, "height": 900})
    food = console.locator(f'.qa-scope[data-scope="{FOOD}"]')
    expect(food.locator(".qa-console__text")).to_have_text([QUESTIONS[1], QUESTIONS[0], QUESTIONS[2]])
    expect(food.locator(".qa-console__item--spot")).to_contain_text(QUESTIONS[0])
    food.locator(".qa-console__item", has_text=QUESTIONS[2]).get_by_role("button", name="Répondue").click()
    expect(food.locator(".qa-console__item--answered")).to_contain_text(QUESTIONS[2])
    lessons = console.get_by_role("textbox", name="Alimentation durable et locale")
    lessons.fill("Une animation menée à deux\nUn opérateur coopératif indispensable")
    console.locator(f'.duo-lessons__form[data-duo="{FOOD}"]').get_by_role("button").click()
    expect(console.locator(f'.duo-lessons__form[data-duo="{FOOD}"] .duo-lessons__state')).to_have_text("Enregistré.")
    axe(console, "the duo's console")
    console.close()


def test_the_round_table_console_captures_quotes_marking_unpublished_ones(browser, server, axe):
    code = code_of(server, "table-ronde")
    console = open_console(browser, server, code, viewport={"width": 1366, "height": 900})
    console.get_by_label("Intervenant·e").select_option(label="Patricia Andriot")
    console.get_by_label("Ses mots").fill("Revoir les politiques publiques avec un autre imaginaire.")
    console.get_by_label("Accord de publication").check()
    console.get_by_role("button", name="Enregistrer la citation").click()
    expect(console.locator(".rt-quotes__item")).to_have_count(1)
    console.get_by_label("Intervenant·e").select_option(label="Laurent Buchaillat")
    console.get_by_label("Ses mots").fill("Une phrase dite sans accord.")
    console.get_by_role("button", name="Enregistrer la citation").click()
    quotes = console.locator(".rt-quotes__item")
    expect(quotes).to_have_count(2)
    private = console.locator(".rt-quotes__item--private")
    expect(private).to_have_count(1)
    expect(private.locator(".rt-quotes__state")).to_have_text("Non publiée")
    expect(private.locator(".rt-quotes__who")).to_have_text("Laurent Buchaillat")
    axe(console, "the round table's console with quotes")
    # Edited to give consent: it is marked published; deleted: gone.
    private.get_by_role("button", name="Modifier").click()
    console.get_by_label("Accord de publication").check()
    console.get_by_role("button", name="Enregistrer les modifications").click()
    expect(console.locator(".rt-quotes__item--private")).to_have_count(0)
    if DOC_IMAGES:
        console.screenshot(path=str(DOC_IMAGES / "round-table-console.png"))
    quotes.first.get_by_role("button", name="Supprimer").click()
    expect(quotes).to_have_count(1)
    console.close()


def test_duos_in_parallel_each_table_wall_shows_its_duo_and_the_console_folds_long_lists(browser, server, axe):
    code = code_of(server, "duos-paralleles")
    tables = {table["key"]: table for table in server.sessions["duos-paralleles"]["tables"]}
    third, shop = tables["un-tiers-lieu-et-sa-commune"], tables["une-epicerie-solidaire"]
    server.act(code, "phase_set", phase="duos")
    # A phone at a duo's table posts under its duo; the session reviews questions first (moderation: review).
    held = ask(phone(server, third["code"], "Table 1"), third["code"], "Qui paie le loyer du tiers-lieu ?",
               {"kind": "question"})
    assert held["held"] and held["tags"]["duo"] == "un-tiers-lieu-et-sa-commune"
    walls = {}
    for key, table in (("third", third), ("shop", shop)):
        walls[key] = browser.new_page(viewport={"width": 1366, "height": 768})
        walls[key].goto(f"{server.url}/wall/{table['code']}")
        expect(walls[key].locator(".duo-one .duo-head__title")).to_have_text(table["name"])
    console = open_console(browser, server, code, viewport={"width": 1366, "height": 900})
    console.locator(".qa-queue__list").get_by_role("button", name="Publier").click()
    expect(walls["third"].locator(".qa-item__text")).to_have_text(["Qui paie le loyer du tiers-lieu ?"])
    expect(walls["shop"].locator(".qa-empty").first).to_be_visible()
    assert walls["shop"].locator(".qa-item").count() == 0
    axe(walls["third"], "a parallel duo's table wall")

    # Sixteen questions for one duo: the console shows the first fifteen and the rest on demand.
    server.act(code, "review_set", review=False)
    for n in range(16):
        if n % 6 == 0:
            asker = phone(server, shop["code"], f"Épicerie {n}")
        ask(asker, shop["code"], f"Question {n + 1} sur l’épicerie solidaire", {"kind": "question"})
    scope = console.locator('.qa-scope[data-scope="une-epicerie-solidaire"]')
    expect(scope.locator(".qa-console__item")).to_have_count(15)
    more = scope.get_by_role("button", name="Afficher les 16 questions")
    expect(more).to_have_attribute("aria-expanded", "false")
    more.click()
    expect(scope.locator(".qa-console__item")).to_have_count(16)
    expect(scope.get_by_role("button", name="N’afficher que les premières questions")).to_have_attribute(
        "aria-expanded", "true")
    # The shop's wall shows the questions that fit and counts the others: every one is either there or counted.
    expect(walls["shop"].locator(".duo-one .qa-more").first).to_have_text(re.compile(r"^\+ \d+ autres questions$"))
    assert_readable(walls["shop"])
    shown = walls["shop"].locator(".duo-one .qa-item").count()
    counted = int(re.sub(r"\D", "", walls["shop"].locator(".duo-one .qa-more").first.text_content()))
    assert shown >= 3 and shown + counted == 16
    for page in (*walls.values(), console):
        page.close()
