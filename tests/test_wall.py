"""The projector wall at the size of a real room, in Chromium at 1920×1080: every table, every count, legible."""

from __future__ import annotations

import json

import pytest
import requests
import socketio

from conftest import DATA
from server import Server
from test_browser import CHROMIUM, PAGE_ERRORS, browser, no_script_errors, shot  # noqa: F401  (fixtures)
from test_server import organiser_cookie

pytestmark = pytest.mark.browser
assert CHROMIUM
WALL = {"width": 1920, "height": 1080}
THEMES = ["animation", "creativite", "valorisation", "support", "gestion_de_projet"]
WORDS = ("un lieu ressource partagé entre les structures du territoire, des temps de rencontre réguliers, "
         "une personne dédiée à l'animation du réseau, un annuaire des compétences, des financements "
         "mutualisés pour trois ans, une formation commune des bénévoles et des salariés").split()

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


def text_of(n: int, words: int) -> str:
    """A plausible idea or harvest line of about `words` words, different for each `n`."""
    return " ".join(WORDS[(n * 7 + i) % len(WORDS)] for i in range(words)).capitalize()


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
        path, slug = DATA / "cafe15.yaml", "grand-cafe"
    else:
        path, slug = tmp_path / "cafe.yaml", f"cafe-{request.param}"
        path.write_text(cafe_yaml(request.param), encoding="utf-8")
    srv.cli("event", "import", str(path))
    srv.cli("user", "add", "orga@example.org", "--password", "correct-horse-battery")
    srv.session = json.loads(srv.cli("sessions", slug, "--json").stdout)[0]
    assert len(srv.session["tables"]) == request.param
    with srv:
        yield srv


def console_client(server) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    client.connect(server.url, transports=["websocket"], headers={"Cookie": organiser_cookie(server)}, wait_timeout=10)
    return client


def write_harvests(server) -> None:
    """Each table's host writes the three categories, from a line to a paragraph, over a real Socket.IO link."""
    host = socketio.Client(reconnection=False)
    host.connect(server.url, transports=["websocket"], wait_timeout=10)
    for n, table in enumerate(server.session["tables"]):
        token = table["host_url"].rsplit("/", 1)[1]
        for k, category in enumerate(("missions", "actions", "besoins")):
            text = "\n".join(text_of(n + k + line, 4 + (n * 3 + k * 5) % 9) for line in range(1 + (n + k) % 2))
            ack = host.call("harvest_save", {"token": token, "category": category, "text": text}, timeout=10)
            assert ack["ok"], ack
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


def read_every_page(wall, tables: int) -> list[list[str]]:
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
    from playwright.sync_api import expect

    write_harvests(cafe)
    console = console_client(cafe)
    assert console.call("phase_set", {"code": cafe.session["code"], "phase": "harvest"}, timeout=10)["ok"]
    console.disconnect()
    wall = browser.new_page(viewport=WALL)
    wall.goto(f"{cafe.url}/wall/{cafe.session['code']}")
    expect(wall.locator(".harvest-table")).to_have_count(len(cafe.session["tables"]))
    expect(wall.locator(".harvest__text--empty")).to_have_count(0)

    pages = read_every_page(wall, len(cafe.session["tables"]))
    names = [name for page in pages for name in page]
    assert sorted(names) == sorted(t["name"] for t in cafe.session["tables"])  # each table once, all of them
    assert len(pages) > 1 and all(pages)
    expect(wall.locator("#page")).to_have_text(f"Page 1/{len(pages)}")  # the keyboard went round
    shot(wall, f"wall-harvest-{len(names)}")
    # Nobody needs to touch the wall: the page turns by itself once it has been up long enough to read.
    expect(wall.locator("#page")).to_have_text(f"Page 2/{len(pages)}", timeout=50_000)


@pytest.fixture
def server(tmp_path, server_env):
    """A real server with the small event: a board grouped by the five functions."""
    srv = Server(tmp_path / "data", extra_env=server_env)
    srv.cli("event", "import", str(DATA / "small.yaml"))
    srv.cli("user", "add", "orga@example.org", "--password", "correct-horse-battery")
    srv.code = next(s["code"] for s in json.loads(srv.cli("sessions", "petite-rencontre", "--json").stdout)
                    if s["key"] == "world-cafe")
    with srv:
        yield srv


def post_ideas(server, code: str, counts: dict[str, int], start: int = 0) -> None:
    """Post `counts[theme]` ideas under each theme over HTTP, a few per participant as in a real room."""
    people = (("Camille", "Tiers-lieu de Bray"), ("Karim", "Mairie"), ("Inès", ""))
    token = None
    n = start
    for theme, count in counts.items():
        for _ in range(count):
            if n % 5 == 0 or token is None:
                name, org = people[n % 3]
                token = requests.post(f"{server.url}/api/sessions/{code}/join", json={
                    "name": name, "organisation": org}, timeout=5).json()["participant"]["token"]
            requests.post(f"{server.url}/api/sessions/{code}/posts", timeout=5, json={
                "token": token, "client_id": f"wall-{n}-aaaa", "text": text_of(n, 5 + n * 7 % 14),
                "tags": {"function": theme, **({"category": "missions"} if n % 4 == 0 else {})}}).raise_for_status()
            n += 1


def test_a_full_board_counts_each_column_and_says_how_many_ideas_it_cannot_show(browser, server):
    from playwright.sync_api import expect

    posted = {"animation": 42, "creativite": 3, "valorisation": 17, "support": 1, "gestion_de_projet": 9}
    post_ideas(server, server.code, posted)
    wall = browser.new_page(viewport=WALL)
    wall.goto(f"{server.url}/wall/{server.code}")
    expect(wall.locator("#total")).to_have_text("Idées\u00a0: 72")
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
    assert 1 < animation.locator(".card").count() < 42
    assert wall.evaluate("document.scrollingElement.scrollWidth") <= WALL["width"]
    assert wall.evaluate(TOO_SMALL) == []
    shot(wall, "wall-board-full")

    # A new idea takes the top of its column, and what is shown plus the marker still adds up to every idea.
    post_ideas(server, server.code, {"animation": 1}, start=100)
    expect(animation.locator(".column__count")).to_have_text("43 idées")
    expect(animation.locator(".card__text").first).to_have_text(text_of(100, 5 + 100 * 7 % 14))
    shown = animation.locator(".card").count()
    expect(animation.locator(".column__more")).to_have_text(f"+\u00a0{43 - shown} autres idées")


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
