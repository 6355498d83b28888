"""Keep / stop / create in a real Chromium: the 4 × 3 wall full of ideas at two projector sizes, a topic's own wall,
the phone's grid of big buttons at 360 px, the console's counts, and axe-core on each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
import socketio

from app.rehearsal import builtin_corpus
import test_browser
import test_browser_cafe
from conftest import DATA
from server import serving
from test_browser import open_console, shot, watch_requests
from test_server import organiser_cookie

from playwright.sync_api import expect  # noqa: E402  (after test_browser, which skips when chromium is missing)

pytestmark = pytest.mark.browser
browser, no_script_errors = test_browser.browser, test_browser.no_script_errors
axe = test_browser_cafe.axe
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
TOPICS = {"formalisation": "Formaliser les échanges", "scic": "Collectivités dans les SCIC",
          "financement": "Financer", "foncier": "Accès au foncier"}
COLUMNS = {"a_maintenir": "À maintenir", "a_arreter": "À arrêter", "a_creer": "À créer"}
# The wall's picture in docs/: ROUAGES_DOC_IMAGES=docs/img pytest tests/test_browser_ksc.py -m browser
DOC_IMAGES = Path(os.environ["ROUAGES_DOC_IMAGES"]) if os.environ.get("ROUAGES_DOC_IMAGES") else None
SENTENCES = [
    "Les conventions pluriannuelles d’objectifs et de moyens",
    "Des comités de suivi où élus et techniciens viennent ensemble",
    "Un réseau ESS spécialisé dans le dialogue entre collectivités et coopérations",
    "Les appels à projets aux cahiers des charges trop précis, qui mettent les porteurs en concurrence",
    "Une foncière solidaire territoriale",
    "L’accès aux friches pour les projets écologiques et solidaires, avec un bail long et un loyer modéré "
    "qui laisse le temps d’installer les activités et de trouver leur modèle économique",
    "Le millefeuille administratif",
    "Un comité de financeurs",
]

CORPUS: dict[tuple[str, str], list[str]] = {}
for _text in builtin_corpus().ideas:
    if set(_text.tags) == {"relation", "practice"}:
        CORPUS.setdefault((_text.tags["relation"], _text.tags["practice"]), []).append(_text.text)


@pytest.fixture
def server(tmp_path, server_env):
    """A real server with the ateliers event, an organiser and an organiser's Socket.IO client."""
    with serving(tmp_path / "data", DATA / "ateliers.yaml", "ateliers", "ateliers-relations", server_env) as srv:
        srv.info = requests.get(f"{srv.url}/api/sessions/{srv.code}", timeout=5).json()["session"]
        srv.tables = {t["key"]: t for t in srv.info["tables"]}
        srv.console = socketio.Client(reconnection=False)
        srv.console.connect(srv.url, transports=["websocket"], headers={"Cookie": organiser_cookie(srv)},
                            wait_timeout=10)
        srv.act = lambda event, **data: _ok(srv.console.call(event, {"code": srv.code, **data}, timeout=10))
        srv.act("phase_set", phase="collect")
        yield srv
        srv.console.disconnect()


def _ok(ack: dict) -> dict:
    assert ack["ok"], ack
    return ack


def fill(server, per_cell: dict[tuple[str, str], int]) -> list[dict]:
    """Post `per_cell` ideas into each cell through real phones at each topic's QR code; return the stored posts."""
    stored = []
    for topic in TOPICS:
        code = server.tables[topic]["code"]
        for column in COLUMNS:
            count = per_cell.get((topic, column), 0)
            # A phone sends a few ideas in a row, as people do: the post limit's burst stays far away.
            for start in range(0, count, 8):
                phone = socketio.Client(reconnection=False)
                phone.connect(server.url, transports=["websocket"], wait_timeout=10)
                _ok(phone.call("join", {"code": code, "name": f"Atelier {topic} {start}"}, timeout=10))
                for n in range(start, min(start + 8, count)):
                    # The newest ideas of a cell, those on screen, are the corpus's for that cell.
                    own = CORPUS[(topic, column)]
                    text = own[count - 1 - n] if count - 1 - n < len(own) else \
                        f"{SENTENCES[(n + len(stored)) % len(SENTENCES)]} ({n + 1})"
                    ack = _ok(phone.call("post", {"code": code, "client_id": f"{topic}-{column}-{n:04d}",
                                                  "text": text, "tags": {"practice": column}}, timeout=10))
                    stored.append(ack["post"])
                phone.disconnect()
    return stored


def cell(page, topic: str, column: str):
    return page.locator(f'.ksc-cell[data-topic="{topic}"][data-column="{column}"]')


def assert_nothing_overlaps(page) -> dict:
    """Every card lies inside its cell's list, cells do not overlap, nothing scrolls; return what each cell shows."""
    page.wait_for_function("() => document.getAnimations().length === 0")  # a card sliding in is measured at rest
    layout = page.evaluate("""() => {
        const box = (node) => { const r = node.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
        const cells = [...document.querySelectorAll('.ksc-cell')].map((cell) => ({
            key: `${cell.dataset.topic} ${cell.dataset.column}`, box: box(cell),
            list: box(cell.querySelector('.ksc-cell__posts')),
            head: box(cell.querySelector('.ksc-cell__head')),
            cards: [...cell.querySelectorAll('.ksc-card')].map(box),
            more: cell.querySelector('.ksc-cell__more').hidden ? 0 : Number(cell.querySelector('.ksc-cell__more')
                .textContent.replace(/\\D/g, '')),
            smallest: Math.min(...[...cell.querySelectorAll('.ksc-card__text, .ksc-cell__head')].map(
                (n) => parseFloat(getComputedStyle(n).fontSize))),
        }));
        return { cells, width: innerWidth, height: innerHeight,
                 scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight] };
    }""")
    inside = lambda inner, outer: (inner[0] >= outer[0] - 0.5 and inner[1] >= outer[1] - 0.5  # noqa: E731
                                   and inner[2] <= outer[2] + 0.5 and inner[3] <= outer[3] + 0.5)
    apart = lambda a, b: a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]  # noqa: E731
    assert layout["scroll"] == [layout["width"], layout["height"]]
    for n, one in enumerate(layout["cells"]):
        assert inside(one["box"], [0, 0, layout["width"], layout["height"]]), one["key"]
        assert inside(one["list"], one["box"]) and apart(one["head"], one["list"]), one["key"]
        for card in one["cards"]:
            assert inside(card, one["list"]), (one["key"], card, one["list"])
        for a, b in zip(one["cards"], one["cards"][1:], strict=False):
            assert apart(a, b), one["key"]
        for other in layout["cells"][n + 1:]:
            assert apart(one["box"], other["box"]), (one["key"], other["key"])
        # Read from the back of the room: no text under 2.6 % of the wall's height.
        assert one["smallest"] >= 0.026 * layout["height"] - 0.5, one
    return {one["key"]: (len(one["cards"]), one["more"]) for one in layout["cells"]}


def test_a_full_four_by_three_wall_fits_at_both_projector_sizes_without_overlap(browser, server, axe):
    per_cell = {(topic, column): n for (topic, column), n in zip(
        [(t, c) for t in TOPICS for c in COLUMNS], [14, 9, 21, 3, 0, 11, 6, 17, 2, 12, 1, 8], strict=True)}
    stored = fill(server, per_cell)
    for width, height in ((1920, 1080), (1366, 768)):
        wall = browser.new_page(viewport={"width": width, "height": height})
        foreign = watch_requests(wall, server)
        wall.goto(f"{server.url}/wall/{server.code}")
        expect(wall.locator(".ksc-card")).not_to_have_count(0)
        expect(cell(wall, "formalisation", "a_creer").locator(".ksc-cell__count")).to_have_text("21 idées")
        expect(wall.locator(".ksc-grid__topic .ksc-grid__label")).to_have_text(list(TOPICS.values()))
        expect(wall.locator(".ksc-grid__column .ksc-grid__label")).to_have_text(list(COLUMNS.values()))
        shot(wall, f"ksc-wall-{width}")
        shown = assert_nothing_overlaps(wall)
        for (topic, column), count in per_cell.items():
            cards, more = shown[f"{topic} {column}"]
            # Every idea is either on screen or counted, and a cell with room shows at least one.
            assert cards + more == count and (cards >= 1 or count == 0), (topic, column, cards, more)
        # The newest idea of a cell comes first.
        newest = max((p for p in stored if p["tags"] == {"relation": "scic", "practice": "a_creer"}),
                     key=lambda p: p["seq"])
        expect(cell(wall, "scic", "a_creer").locator(".ksc-card__text").first).to_have_text(newest["text"])
        if DOC_IMAGES and width == 1920:
            wall.screenshot(path=str(DOC_IMAGES / "keep-stop-create-wall.png"))
        axe(wall, f"the keep/stop/create wall at {width}×{height}")
        assert foreign == []

        # A new idea arrives live, in its cell, on top.
        phone = socketio.Client(reconnection=False)
        phone.connect(server.url, transports=["websocket"], wait_timeout=10)
        _ok(phone.call("join", {"code": server.code, "name": "Live"}, timeout=10))
        _ok(phone.call("post", {"code": server.code, "client_id": f"live-{width}", "text": f"En direct {width}",
                                "tags": {"relation": "foncier", "practice": "a_maintenir"}}, timeout=10))
        phone.disconnect()
        per_cell[("foncier", "a_maintenir")] += 1
        expect(cell(wall, "foncier", "a_maintenir").locator(".ksc-card__text").first).to_have_text(f"En direct {width}")
        expect(cell(wall, "foncier", "a_maintenir").locator(".ksc-cell__count")).to_have_text(
            f"{per_cell[('foncier', 'a_maintenir')]} idées")
        assert_nothing_overlaps(wall)
        wall.close()


def test_a_topics_wall_shows_its_row_large_and_the_revealed_vote_ranks_each_cell(browser, server, axe):
    stored = fill(server, {("foncier", "a_maintenir"): 3, ("foncier", "a_creer"): 2, ("scic", "a_creer"): 2})
    wall = browser.new_page(viewport={"width": 1366, "height": 768})
    wall.goto(f"{server.url}/wall/{server.tables['foncier']['code']}")
    expect(wall.locator(".wall__title")).to_contain_text("Accès au foncier")
    expect(wall.locator(".ksc-cell")).to_have_count(3)
    expect(wall.locator(".ksc-card")).to_have_count(5)
    assert wall.locator(".ksc-grid__topic").is_hidden()
    size = wall.locator(".ksc-card__text").first.evaluate("node => parseFloat(getComputedStyle(node).fontSize)")
    assert size >= 0.034 * 768 - 0.5
    assert_nothing_overlaps(wall)
    axe(wall, "a topic's own keep/stop/create wall")

    # Votes: the oldest idea of « à maintenir » gets the most dots, so the cell's order turns over.
    server.act("phase_set", phase="vote")
    server.act("vote_open", budget=3, max_per_post=3)
    keep = [p for p in stored if p["tags"] == {"relation": "foncier", "practice": "a_maintenir"}]
    voter = socketio.Client(reconnection=False)
    voter.connect(server.url, transports=["websocket"], wait_timeout=10)
    _ok(voter.call("join", {"code": server.code, "name": "Votante"}, timeout=10))
    _ok(voter.call("vote", {"code": server.code, "dots": {str(keep[0]["id"]): 2, str(keep[1]["id"]): 1}}, timeout=10))
    voter.disconnect()
    server.act("vote_reveal")
    column = cell(wall, "foncier", "a_maintenir")
    expect(column.locator(".ksc-card__text")).to_have_text([keep[0]["text"], keep[1]["text"]])
    expect(column.locator(".ksc-card__dots")).to_have_text(["2 gommettes", "1 gommette"])
    expect(column.locator(".ksc-cell__count")).to_have_text("3 gommettes")
    shot(wall, "ksc-wall-topic-results")
    axe(wall, "a topic's keep/stop/create wall, the vote revealed")


def test_the_phone_picks_a_cell_on_the_grid_and_the_console_counts_it(browser, server, axe):
    # Through a topic's QR code: that topic's row only, three big buttons.
    phone = browser.new_page(**PHONE)
    phone.goto(f"{server.url}/j/{server.tables['scic']['code']}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    expect(phone.locator(".ksc-pick__row")).to_have_count(1)
    expect(phone.locator(".ksc-pick__topic")).to_have_text("Collectivités dans les SCIC")
    buttons = phone.locator(".ksc-pick__button")
    expect(buttons).to_have_text(list(COLUMNS.values()))
    for n in range(3):
        box = buttons.nth(n).bounding_box()
        assert box["height"] >= 48 and box["width"] >= 300 and box["x"] + box["width"] <= 360
    shot(phone, "ksc-phone-topic-pick")
    # The core's own choices of topic and column are not offered twice.
    expect(phone.locator("fieldset.tags:visible")).to_have_count(0)
    phone.get_by_label("Nom").fill("Inès")
    axe(phone, "the keep/stop/create phone from a topic's QR code")
    phone.locator(".ksc-pick").get_by_text("À créer", exact=True).click()
    expect(phone.locator(".ksc-pick__chosen")).to_have_text(
        "Votre idée ira dans\u00a0: Collectivités dans les SCIC › À créer")
    phone.get_by_label("Votre idée").fill("Une formation des élus au fonctionnement des SCIC")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine__state").first).to_have_text("Envoyée")
    shot(phone, "ksc-phone-topic")

    # Through the grid's own QR code: every topic's row, one choice for the whole grid.
    other = browser.new_page(**PHONE)
    other.goto(f"{server.url}/j/{server.code}")
    expect(other.locator("#connection")).to_have_text("Connecté")
    expect(other.locator(".ksc-pick__topic")).to_have_text(list(TOPICS.values()))
    cells = other.locator(".ksc-pick__button")
    expect(cells).to_have_count(12)
    for n in range(12):
        box = cells.nth(n).bounding_box()
        # Three side by side, each still a thumb's width, none running off the screen.
        assert box["height"] >= 48 and box["width"] >= 96 and box["x"] + box["width"] <= 360
    # A label is never broken inside a word it could keep whole.
    assert other.evaluate("""() => [...document.querySelectorAll('.ksc-pick__button')].every(
        (b) => b.scrollWidth <= b.clientWidth)""")
    shot(other, "ksc-phone-grid-pick")
    other.get_by_label("Votre idée").fill("Sans case")
    other.get_by_role("button", name="Envoyer").click()
    expect(other.locator("#post-error")).not_to_be_empty()
    other.locator('.ksc-pick__row[data-topic="financement"]').get_by_text("À arrêter", exact=True).click()
    other.get_by_role("button", name="Envoyer").click()
    expect(other.locator(".mine__state").first).to_have_text("Envoyée")
    axe(other, "the keep/stop/create phone from the grid's QR code")
    shot(other, "ksc-phone-grid")

    posts = requests.get(f"{server.url}/api/sessions/{server.code}/posts", timeout=5).json()["posts"]
    assert sorted((p["text"], p["tags"]["relation"], p["tags"]["practice"]) for p in posts) == [
        ("Sans case", "financement", "a_arreter"),
        ("Une formation des élus au fonctionnement des SCIC", "scic", "a_creer")]

    console = open_console(browser, server, server.code, viewport={"width": 1366, "height": 768})
    counts = console.locator(".ksc-counts__table")
    expect(counts.locator('tr[data-topic="scic"] td[data-column="a_creer"]')).to_have_text("1")
    expect(counts.locator('tr[data-topic="financement"] td[data-column="a_arreter"]')).to_have_text("1")
    expect(counts.locator("tfoot td").last).to_have_text("2")
    axe(console, "the keep/stop/create console")
    shot(console, "ksc-console")
