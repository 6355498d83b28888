"""The diagnostic in Chromium: two phones of one team at 360 px, the wall at 1920×1080 and 1366×768, the console."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from server import serving
import test_browser
import test_browser_cafe
from test_browser import open_console, shot

from playwright.sync_api import expect  # noqa: E402  (after test_browser, which skips when chromium is missing)

pytestmark = pytest.mark.browser
browser, no_script_errors = test_browser.browser, test_browser.no_script_errors
axe = test_browser_cafe.axe
check_axe = test_browser_cafe.check_axe
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}

EVENT = """
slug: forum-diag
title: Forum des coopérations
programme:
  - date: "2026-06-09"
    items:
      - id: diagnostic
        start: "17:00"
        end: "18:00"
        title: Le diagnostic des Rouages
        workshop: diagnostic
        question: Où en sont les rouages de votre coopération ?
"""


@pytest.fixture
def forum(tmp_path, server_env):
    """A real server running the diagnostic session of a small forum."""
    event = tmp_path / "forum.yaml"
    event.write_text(EVENT, encoding="utf-8")
    with serving(tmp_path / "data", event, "forum-diag", "diagnostic", server_env) as srv:
        yield srv


def phone_in_team(browser, srv, name: str, team: str):
    """Open a phone page, join, and name the team."""
    phone = browser.new_page(**PHONE)
    phone.goto(f"{srv.url}/j/{srv.code}")
    expect(phone.locator("#connection")).to_have_text("Connecté")
    phone.fill("#diagnostic-team-name", team)
    phone.locator("#diagnostic-team button[type=submit]").click()
    expect(phone.locator("#diagnostic-functions")).to_be_visible()
    return phone


def gear(page, key: str):
    return page.locator(f'fieldset[data-function="{key}"]')


def test_a_team_answers_from_two_phones_and_the_wall_and_console_follow(browser, forum, axe):
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(f"{forum.url}/wall/{forum.code}")
    expect(wall.locator("#diagnostic-wall-count")).to_have_text("Aucune équipe n’a encore répondu.")
    check_axe(wall, "the diagnostic's wall, empty")

    alice = phone_in_team(browser, forum, "Alice", "Tiers-lieu La Fabrique")
    # The core's idea form gives way to the diagnostic's.
    expect(alice.locator("#post-form")).to_be_hidden()
    check_axe(alice, "the diagnostic's phone, in a team")
    bruno = phone_in_team(browser, forum, "Bruno", "tiers-lieu la fabrique")
    expect(bruno.locator("#diagnostic-status")).to_contain_text("Tiers-lieu La Fabrique · 2 personnes")

    animation = gear(alice, "animation")
    animation.get_by_label("Structuration").check()
    animation.get_by_label("Des rencontres régulières réunissent les membres").check()
    expect(animation.locator(".gear__note")).to_have_text("Enregistré.")
    # The teammate's phone shows the answer and the team's wheel.
    expect(gear(bruno, "animation").get_by_label("Structuration")).to_be_checked()
    expect(gear(bruno, "animation").get_by_label("Des rencontres régulières réunissent les membres")).to_be_checked()
    expect(bruno.locator("#diagnostic-wheel svg")).to_be_visible()
    expect(bruno.locator("#diagnostic-steps li")).to_have_count(1)
    expect(bruno.locator("#diagnostic-steps li")).to_contain_text("Écrire ensemble les règles du collectif")
    gear(bruno, "support").get_by_label("À lancer").check()
    expect(gear(alice, "support").get_by_label("À lancer")).to_be_checked()
    check_axe(bruno, "the diagnostic's phone with a wheel")
    shot(bruno, "diagnostic-phone")

    # The wall: one team, no name, the stages per function.
    expect(wall.locator("#diagnostic-wall-count")).to_have_text("1 équipe a répondu")
    expect(wall.locator("#diagnostic-wall-wheel svg")).to_be_visible()
    expect(wall.locator("#diagnostic-wall-table tbody tr").first).to_contain_text("Animation")
    assert "Fabrique" not in wall.locator("#diagnostic-wall").inner_text()
    check_axe(wall, "the diagnostic's wall with a team")
    shot(wall, "diagnostic-wall")
    wall.set_viewport_size({"width": 1366, "height": 768})
    box = wall.locator("#diagnostic-wall-table").bounding_box()
    assert box["y"] + box["height"] <= 768 and box["x"] + box["width"] <= 1366

    console = open_console(browser, forum, forum.code, viewport={"width": 1366, "height": 768})
    expect(console.locator("#diagnostic-teams-table tbody tr")).to_have_count(1)
    expect(console.locator("#diagnostic-teams-table tbody tr")).to_contain_text("Tiers-lieu La Fabrique")
    expect(console.locator("#diagnostic-teams-table tbody tr")).to_contain_text("2/5")
    check_axe(console, "the diagnostic's console")
    # A third phone joins another team: the console's list follows.
    phone_in_team(browser, forum, "Chloé", "PTCE Pays de Bray")
    expect(console.locator("#diagnostic-teams-table tbody tr")).to_have_count(2)

    # The team's wheel as a PDF, from the phone's link.
    with alice.expect_download() as download:
        alice.locator("#diagnostic-pdf").click()
    assert download.value.suggested_filename == "diagnostic-wheel.pdf"


def test_a_phone_comes_back_to_its_team_and_answers_freeze_when_sharing_starts(browser, forum):
    alice = phone_in_team(browser, forum, "Alice", "Coop A")
    gear(alice, "creativite").get_by_label("Émergence").check()
    expect(gear(alice, "creativite").locator(".gear__note")).to_have_text("Enregistré.")
    alice.reload()
    expect(alice.locator("#diagnostic-status")).to_contain_text("Coop A")
    expect(gear(alice, "creativite").get_by_label("Émergence")).to_be_checked()
    console = open_console(browser, forum, forum.code)
    # The teams' list is read over the console's connection: once it shows, the console can act.
    expect(console.locator("#diagnostic-teams-table tbody tr")).to_have_count(1)
    console.locator("#phase-next").click()
    expect(alice.locator("#diagnostic-status")).to_have_text(
        "Le diagnostic est clos : vos réponses sont gardées telles quelles.")
    expect(gear(alice, "creativite").get_by_label("Consolidation")).to_be_disabled()
    expect(alice.locator("#diagnostic-team")).to_be_hidden()
    expect(alice.locator("#diagnostic-pdf")).to_be_visible()
    # Teams never post ideas: no « posting is closed » banner and no « my ideas » list on the phone.
    expect(alice.locator("#closed")).to_be_hidden()
    expect(alice.locator(".my-posts")).to_be_hidden()


ROOM = {
    "Tiers-lieu La Fabrique": ["consolidation", "structuration", "emergence", "a_lancer", "structuration"],
    "PTCE Pays de Bray": ["rayonnement", "consolidation", "structuration", "emergence", "consolidation"],
    "Coopérative Terres Communes": ["structuration", "emergence", "emergence", "a_lancer", "a_lancer"],
    "Collectif Bourg Vivant": ["emergence", "emergence", "structuration", "emergence", "emergence"],
    "Réseau Tisser Local": ["consolidation", "structuration", "consolidation", "structuration", "emergence"],
}
FUNCTIONS = ["animation", "creativite", "valorisation", "support", "gestion_de_projet"]


def answer_as_teams(srv, teams: dict[str, list[str]]) -> None:
    """One real python-socketio phone per team joins, names its team and answers every function."""
    import socketio

    for team, stages in teams.items():
        phone = socketio.Client(reconnection=False)
        phone.connect(srv.url, transports=["websocket"])
        try:
            assert phone.call("join", {"code": srv.code, "name": f"Membre de {team}"})["ok"]
            assert phone.call("diagnostic.team", {"code": srv.code, "name": team})["ok"]
            for function, stage in zip(FUNCTIONS, stages, strict=True):
                ack = phone.call("diagnostic.answer", {"code": srv.code, "function": function, "stage": stage,
                                                       "indicators": [], "rev": 0})
                assert ack["ok"], ack
        finally:
            phone.disconnect()


def test_the_wall_of_a_room_of_teams_fits_both_screens_and_names_no_team(browser, forum, axe):
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(f"{forum.url}/wall/{forum.code}")
    expect(wall.locator("#diagnostic-wall-count")).to_have_text("Aucune équipe n’a encore répondu.")
    answer_as_teams(forum, ROOM)
    expect(wall.locator("#diagnostic-wall-count")).to_have_text("5 équipes ont répondu")
    support = wall.locator("#diagnostic-wall-table tbody tr", has_text="Support")
    expect(support.locator("td")).to_have_text(["2", "2", "1", "", ""])
    text = wall.locator("#diagnostic-wall").inner_text()
    assert not any(team.split()[-1] in text for team in ROOM)
    check_axe(wall, "the diagnostic's wall with five teams")
    # Teams answer through the format's actions: the header counts no ideas and shows no closed board.
    expect(wall.locator("#total")).to_be_hidden()
    expect(wall.locator("#closed")).to_be_hidden()
    shot(wall, "diagnostic-wall-5")
    if os.environ.get("ROUAGES_DOC_IMAGES"):
        wall.screenshot(path=str(Path(os.environ["ROUAGES_DOC_IMAGES"]) / "diagnostic-wall.png"))
    for width, height in ((1920, 1080), (1366, 768)):
        wall.set_viewport_size({"width": width, "height": height})
        for part in ("#diagnostic-wall-wheel svg", "#diagnostic-wall-table"):
            box = wall.locator(part).bounding_box()
            assert box["x"] >= 0 and box["y"] >= 0, (width, part)
            assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, (width, part)
        # Read from the back of a room: no text of the table under 16 px.
        sizes = wall.locator("#diagnostic-wall-table th, #diagnostic-wall-table td").evaluate_all(
            "nodes => nodes.map((n) => parseFloat(getComputedStyle(n).fontSize))")
        assert min(sizes) >= 16, (width, min(sizes))
    shot(wall, "diagnostic-wall-1366")
