"""« Doublons possibles » on a table host's page, in Chromium: one tap confirms or rejects a suggestion, live."""

from __future__ import annotations

import re
from uuid import uuid4

import pytest
import socketio

from app.services import eventfile
from databases import BACKEND
from server import serving
import test_browser
import test_browser_cafe
from test_browser import shot
from test_groups import ALONE, FUNDING, GROUPING, NEWSLETTER, TRAINING
from test_rehearse import rows
from test_server import organiser_cookie
from workshops import registry

from playwright.sync_api import expect  # noqa: E402  (after test_browser, which skips when chromium is missing)

pytestmark = pytest.mark.browser
browser, no_script_errors, axe = test_browser.browser, test_browser.no_script_errors, test_browser_cafe.axe
PHONE = test_browser_cafe.PHONE
MORE = re.compile(r"Encore \d+ paires? en attente")


@pytest.fixture(scope="module")
def cafe(tmp_path_factory, databases):
    """One real server for the module: a world café in round 1 whose grouping suggests between 0.3 and 0.6."""
    directory = tmp_path_factory.mktemp("suggestions")
    doc = {"slug": "cafe", "title": "Café", "grouping": GROUPING,
           "programme": [{"date": "2026-06-09", "items": [registry()["world_cafe"].example]}]}
    (directory / "cafe.yaml").write_text(eventfile.dump(doc), encoding="utf-8")
    env = {} if BACKEND == "sqlite" else {"ROUAGES_DATABASE_URL": databases.empty_url()}
    with serving(directory / "data", directory / "cafe.yaml", "cafe", extra_env=env) as srv:
        srv.tables = rows(srv, "SELECT code, host_token FROM session_table ORDER BY position")
        srv.console = socketio.Client(reconnection=False)
        srv.console.connect(srv.url, transports=["websocket"], headers={"Cookie": organiser_cookie(srv)},
                            wait_timeout=10)
        srv.act = lambda event, **data: ok(srv.console.call(event, {"code": srv.code, **data}, timeout=10))
        srv.act("phase_set", phase="round_1")
        # The server loads its sentence model when it first groups ideas: not within a test's first wait.
        post_at(srv, 4, [ALONE])
        ok(srv.console.call("group_suggestions", {"code": srv.code}, timeout=120))
        yield srv
        srv.console.disconnect()


def ok(ack: dict) -> dict:
    assert ack["ok"], ack
    return ack


def post_at(srv, table: int, texts: list[str]) -> dict[str, int]:
    """Post ideas from a phone at one table over Socket.IO; return their ids by text."""
    phone = socketio.Client(reconnection=False)
    phone.connect(srv.url, transports=["websocket"], wait_timeout=10)
    code = srv.tables[table].code
    ok(phone.call("join", {"code": code, "name": f"Personne {table}"}, timeout=10))
    ids = {}
    for text in texts:
        ids[text] = ok(phone.call("post", {"code": code, "client_id": uuid4().hex, "text": text,
                                           "tags": {"category": "besoins"}}, timeout=10))["post"]["id"]
    phone.disconnect()
    return ids


def open_host(browser, srv, table: int):
    page = browser.new_page(**PHONE)
    page.goto(f"{srv.url}/h/{srv.tables[table].host_token}")
    expect(page.locator("#connection")).to_have_text("Connecté")
    return page


def shown(page) -> list[str]:
    """The two texts of the suggestion on screen, the older idea first."""
    texts = page.locator(".suggestion__text")
    expect(texts).to_have_count(2)
    return texts.all_text_contents()


def answer(page, name: str) -> None:
    """Tap an answer and wait for the card to move on from the pair it showed."""
    before = shown(page)
    page.get_by_role("region", name="Doublons possibles").get_by_role("button", name=name).click()
    expect(page.locator(".suggestion__text")).not_to_have_text(before)


def decisions(srv) -> dict[frozenset, bool]:
    return {frozenset((d.post_id, d.other_id)): bool(d.same)
            for d in rows(srv, "SELECT post_id, other_id, same FROM group_decision")}


def test_a_host_confirms_one_suggestion_and_rejects_the_next_with_one_tap_each(axe, browser, cafe):
    ids = post_at(cafe, 0, FUNDING + TRAINING + NEWSLETTER + [ALONE])
    wall = socketio.Client(reconnection=False)
    merges = []
    wall.on("post_merged", merges.append)
    wall.connect(cafe.url, transports=["websocket"], wait_timeout=10)
    ok(wall.call("watch", {"code": cafe.code}, timeout=10))
    host = open_host(browser, cafe, 0)

    card = host.get_by_role("region", name="Doublons possibles")
    expect(card).to_be_visible(timeout=15_000)
    expect(card.get_by_role("heading", name="Doublons possibles")).to_be_visible()
    expect(card.locator(".suggestion__more")).to_have_text(MORE)
    assert host.locator("#suggestions").get_attribute("aria-live") == "polite"
    first = shown(host)
    assert first == TRAINING, "the best suggestion first"
    # Large targets, side by side with the texts, within a phone's 360 px.
    for name in ("Même idée", "Idées différentes"):
        box = card.get_by_role("button", name=name).bounding_box()
        assert box["height"] >= 48 and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    assert host.evaluate("document.documentElement.scrollWidth") <= 360
    shot(host, "host-suggestion")
    axe(host, "a host's page with a suggestion")

    answer(host, "Même idée")
    pair = frozenset(ids[text] for text in first)
    assert decisions(cafe) == {pair: True}
    newer, older = sorted(pair, reverse=True)
    for _ in range(50):
        if merges:
            break
        wall.sleep(0.1)
    assert [(m["post"]["id"], m["into"]["id"]) for m in merges] == [(newer, older)]
    wall.disconnect()

    second = shown(host)
    assert set(second) != set(first) and set(second) <= set(ids), second
    answer(host, "Idées différentes")
    assert decisions(cafe)[frozenset(ids[text] for text in second)] is False


def test_a_pair_answered_from_another_device_leaves_the_page_and_a_tap_offline_is_said_in_words(axe, browser, cafe):
    ids = post_at(cafe, 1, TRAINING + NEWSLETTER)
    host = open_host(browser, cafe, 1)
    card = host.get_by_role("region", name="Doublons possibles")
    first = shown(host)
    cafe.act("group_answer", post_id=ids[first[0]], other_id=ids[first[1]], same=False)
    expect(card.locator(".suggestion__text")).not_to_have_text(first)

    # Offline, a tap says so in words and stores nothing; back online, the same tap is stored.
    second = shown(host)
    host.context.set_offline(True)
    expect(host.locator("#connection")).to_have_text("Reconnexion…")
    card.get_by_role("button", name="Même idée").click()
    expect(card.locator(".suggestion__error")).to_have_text("Pas de connexion\u00a0: réessayez dans un instant.")
    axe(host, "a host's page with an answer not sent")
    assert frozenset(ids[text] for text in second) not in decisions(cafe)
    host.context.set_offline(False)
    expect(host.locator("#connection")).to_have_text("Connecté", timeout=30_000)
    answer(host, "Même idée")
    expect(host.locator("#suggestions")).to_be_empty()
    assert decisions(cafe)[frozenset(ids[text] for text in second)] is True
    axe(host, "a host's page with nothing to answer")


def test_new_ideas_that_may_say_the_same_thing_bring_the_card_without_reload(axe, browser, cafe):
    post_at(cafe, 2, [ALONE])
    host = open_host(browser, cafe, 2)
    host.wait_for_timeout(500)
    expect(host.locator("#suggestions")).to_be_empty()
    post_at(cafe, 2, NEWSLETTER)
    expect(host.get_by_role("region", name="Doublons possibles")).to_be_visible(timeout=15_000)
    assert shown(host) == NEWSLETTER
    expect(host.locator(".suggestion__more")).to_be_hidden()
    axe(host, "a host's page whose suggestion came live")
