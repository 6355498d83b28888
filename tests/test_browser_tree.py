"""The idea tree in Chromium: a phone picks its branch on a drawn tree, the console opens roots, the wall grows and
stays legible at 150 leaves on a 1920×1080 and a 1366×768 wall, the revealed vote drawn on it; axe-core on each."""

from __future__ import annotations

import socketio

import pytest

from app.services import eventfile
from server import serving
import test_browser
from test_browser import open_console, shot
from test_browser_cafe import check_axe
from test_server import organiser_cookie

from playwright.sync_api import expect  # noqa: E402  (after test_browser, which skips when chromium is missing)

pytestmark = pytest.mark.browser
# The Chromium of test_browser, and its check that no page threw a script error.
browser, no_script_errors = test_browser.browser, test_browser.no_script_errors
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
BRANCHES = ["amorcer", "maintenir", "renforcer"]
TEXTS = ["Créer des conditions souples d’entrée et de sortie pour les organisations membres",
         "Des temps de convivialité", "Partager la vision et les valeurs",
         "Recruter un animateur de la coopération qui aura une fonction tierce entre les organisations membres et "
         "les nouvelles venues, pour comprendre leurs intérêts",
         "Formaliser la coopération dans des instances de décision", "Célébrer les petites victoires"]


@pytest.fixture
def grove(tmp_path, server_env):
    """A real server running one idea tree on the movements."""
    event = tmp_path / "arbres.yaml"
    event.write_text(eventfile.dump({"slug": "arbres", "title": "Rencontre des coopérations", "programme": [
        {"date": "2026-06-09", "items": [{
            "id": "arbre", "start": "14:00", "end": "15:00", "title": "Arbre à idées", "workshop": "idea_tree",
            "question": "Comment amorcer, maintenir et renforcer une coopération territoriale ?"}]}]}),
        encoding="utf-8")
    with serving(tmp_path / "data", event, "arbres", extra_env=server_env) as srv:
        yield srv


def client(url: str, headers=None) -> socketio.Client:
    """A real Socket.IO client."""
    sio = socketio.Client(reconnection=False)
    sio.connect(url, transports=["websocket"], wait_timeout=10, headers=headers or {})
    return sio


def grow(srv, leaves: int, roots: int, fruits: int) -> list[int]:
    """Post leaves spread over the branches, then roots and fruits, from ten phones; return the posts' ids."""
    phones = [client(srv.url) for _ in range(10)]
    for phone in phones:
        assert phone.call("join", {"code": srv.code}, timeout=10)["ok"]
    ids = []
    wanted = [{"movement": BRANCHES[n % 3]} for n in range(leaves)]
    wanted += [{"movement": BRANCHES[n % 3], "part": "root"} for n in range(roots)]
    wanted += [{"movement": BRANCHES[n % 3], "part": "fruit"} for n in range(fruits)]
    for n, tags in enumerate(wanted):
        ack = phones[n % 10].call("post", {"code": srv.code, "client_id": f"grove-{n:06d}",
                                           "text": f"{TEXTS[n % len(TEXTS)]} ({n + 1})", "tags": tags}, timeout=10)
        assert ack["ok"], ack
        ids.append(ack["post"]["id"])
    return phones, ids


def assert_legible(wall, state: str) -> None:
    """Every card and marker is whole inside the wall, inside its list, overlapping none, in letters a room reads."""
    found = wall.evaluate("""() => {
        const box = (n) => { const r = n.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
        const cards = [...document.querySelectorAll('.tree-card')].map((card) => ({
            box: box(card), list: box(card.parentElement),
            size: parseFloat(getComputedStyle(card.querySelector('.tree-card__text')).fontSize) }));
        const markers = [...document.querySelectorAll('.crown__more')].filter((m) => !m.hidden).map(box);
        return { cards, markers, width: innerWidth, height: innerHeight };
    }""")
    cards, markers = found["cards"], found["markers"]
    assert len(cards) >= 6 and markers, state
    boxes = [c["box"] for c in cards] + markers
    for left, top, right, bottom in boxes:
        assert 0 <= left and right <= found["width"] and 0 <= top and bottom <= found["height"] + 0.5, state
    for card in cards:
        (left, top, right, bottom), (l_left, l_top, l_right, l_bottom) = card["box"], card["list"]
        assert l_left - 0.5 <= left and right <= l_right + 0.5 and l_top - 0.5 <= top and bottom <= l_bottom + 0.5, \
            f"{state}: a card is cut by its list"
        # At least 1/40 of the wall's height, as every text of the core wall.
        assert card["size"] >= found["height"] * 0.026 - 0.5, state
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
            assert overlap[0] <= 0.5 or overlap[1] <= 0.5, f"{state}: {a} overlaps {b}"


def test_the_tree_grows_from_phones_and_stays_legible_at_150_leaves(browser, grove):
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(f"{grove.url}/wall/{grove.code}")
    crowns = wall.locator(".crown")
    expect(crowns.locator(".crown__label")).to_have_text(["Amorcer", "Maintenir", "Renforcer"])
    expect(wall.locator(".tree__roots")).to_be_hidden()
    check_axe(wall, "an empty idea tree's wall")

    # A phone picks its branch on the tree; the part choice is not there while roots and fruits are closed.
    phone = browser.new_page(**PHONE)
    phone.goto(f"{grove.url}/j/{grove.code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    picker = phone.get_by_role("group", name="Sur quelle branche de l’arbre\u00a0?")
    expect(picker.get_by_role("radio")).to_have_count(3)
    expect(phone.locator("fieldset.tags[data-framework=movement]")).to_be_hidden()
    expect(phone.locator("fieldset.tags[data-framework=part]")).to_be_hidden()
    expect(phone.locator(".tree-parts")).to_be_hidden()
    phone.fill("#post-text", "Sans branche")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator("#post-error")).to_have_text("Choisissez une option\u00a0: Mouvements.")
    picker.get_by_role("radio", name="Maintenir").check()
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine", has_text="Sans branche")).to_contain_text("Envoyée")
    maintenir = crowns.filter(has_text="Maintenir")
    expect(maintenir.locator(".tree-card")).to_have_text(["Sans branche"])
    check_axe(phone, "an idea tree's phone")
    shot(phone, "tree-phone")

    # The console opens the roots: the phone offers them, the wall makes room under the ground.
    console = open_console(browser, grove, grove.code, viewport={"width": 1366, "height": 768})
    roots_box = console.get_by_label("Les téléphones peuvent envoyer des racines")
    expect(roots_box).not_to_be_checked()
    check_axe(console, "an idea tree's console")
    roots_box.check()
    expect(console.locator("#feedback")).to_have_text("Racines ouvertes")
    expect(phone.locator(".tree-parts")).to_be_visible()
    expect(phone.locator(".tree-parts").get_by_role("radio")).to_have_count(2)  # a leaf or a root, no fruit yet
    phone.locator(".tree-parts").get_by_role("radio", name="Racine").check()
    phone.fill("#post-text", "La confiance entre les membres")
    phone.get_by_role("button", name="Envoyer").click()
    expect(phone.locator(".mine", has_text="La confiance").first).to_contain_text("Envoyée")
    expect(wall.locator(".tree__roots .tree-card")).to_contain_text(["La confiance entre les membres"])
    check_axe(phone, "an idea tree's phone with roots open")
    shot(console, "tree-console")
    shot(phone, "tree-phone-roots")

    # 150 leaves, some roots and fruits (opened by an organiser's client): nothing overlaps, everything is counted.
    organiser = client(grove.url, {"Cookie": organiser_cookie(grove)})
    assert organiser.call("idea_tree.parts", {"code": grove.code, "fruits": True}, timeout=10)["ok"]
    phones, ids = grow(grove, 149, 5, 4)
    expect(crowns.locator(".crown__count")).to_have_text(
        ["50 idées · 2 fruits", "51 idées · 1 fruit", "49 idées · 1 fruit"])
    expect(crowns.locator(".crown__more").first).to_contain_text("autres idées")
    expect(wall.locator(".tree__roots .crown__count")).to_have_text("6 racines")
    wall.wait_for_timeout(600)  # the cards' arrival animation
    assert_legible(wall, "150 leaves at 1920×1080")
    check_axe(wall, "an idea tree's wall with 150 leaves")
    shot(wall, "wall-idea-tree")
    wall.set_viewport_size({"width": 1366, "height": 768})
    wall.wait_for_timeout(600)
    assert_legible(wall, "150 leaves at 1366×768")
    shot(wall, "wall-idea-tree-1366")

    # The revealed vote: the tree stays, each card with its dots, most-dotted first in its crown.
    assert organiser.call("phase_set", {"code": grove.code, "phase": "vote"}, timeout=10)["ok"]
    assert organiser.call("vote_open", {"code": grove.code, "budget": 3, "max_per_post": 3}, timeout=10)["ok"]
    for n, voter in enumerate(phones):
        assert voter.call("vote", {"code": grove.code, "dots": {str(ids[1]): 2, str(ids[n + 2]): 1}}, timeout=10)["ok"]
    assert organiser.call("vote_reveal", {"code": grove.code}, timeout=10)["ok"]
    expect(maintenir.locator(".tree-card").first).to_contain_text(f"{TEXTS[1]} (2)")
    expect(maintenir.locator(".tree-card").first.locator(".tree-card__dots")).to_have_text("20")
    expect(wall.locator("#results")).to_be_hidden()
    assert_legible(wall, "the revealed vote at 1366×768")
    check_axe(wall, "an idea tree's wall with the revealed vote")
    for sio in [organiser, *phones]:
        sio.disconnect()
