"""The console's « Synthèse » panel in a real Chromium against a real server: an organiser renames, moves, merges and
splits groups of ideas posted by phones, answers a suggestion and writes the « À retenir » text; every edit is
stored, read back in the groups and still shown after new ideas and a reload."""

from __future__ import annotations

import pytest
import requests
import socketio

from app.services import eventfile
from conftest import BACKEND
from server import serving
import test_browser as shared
import test_browser_cafe
from test_browser import expect, open_console, shot
from test_groups import ALONE, FUNDING, GROUPING, NEWSLETTER, TRAINING
from test_rehearse import rows
from test_server import organiser_cookie
from workshops import registry

browser, no_script_errors = shared.browser, shared.no_script_errors
axe = test_browser_cafe.axe

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1366, "height": 768}
TITLE = "Financer l’animation dans la durée"
LATE = "Trouver des financements pour le poste d'animateur en CDI"


@pytest.fixture(scope="module")
def cafe(tmp_path_factory, databases):
    """A world café whose event groups ideas at 0.6 and suggests from 0.3, with a phone's ideas at one table."""
    folder = tmp_path_factory.mktemp("synthesis")
    doc = {"slug": "cafe", "title": "Café", "grouping": GROUPING, "programme": [{"date": "2026-06-09",
                                                            "items": [registry()["world_cafe"].example]}]}
    (folder / "cafe.yaml").write_text(eventfile.dump(doc), encoding="utf-8")
    env = {} if BACKEND == "sqlite" else {"ROUAGES_DATABASE_URL": databases.empty_url()}
    with serving(folder / "data", folder / "cafe.yaml", "cafe", extra_env=env) as srv:
        srv.organiser = socketio.Client(reconnection=False)
        srv.organiser.connect(srv.url, transports=["websocket"], headers={"Cookie": organiser_cookie(srv)},
                              wait_timeout=10)
        srv.call = lambda event, **data: srv.organiser.call(event, {"code": srv.code, **data}, timeout=30)
        assert srv.call("phase_set", phase="round_1")["ok"]
        srv.table = requests.get(f"{srv.url}/api/sessions/{srv.code}", timeout=5).json()["session"]["tables"][0]
        srv.phone = socketio.Client(reconnection=False)
        srv.phone.connect(srv.url, transports=["websocket"], wait_timeout=10)
        assert srv.phone.call("join", {"code": srv.table["code"], "name": "Camille"}, timeout=10)["ok"]
        srv.ids = {text: post(srv, text, f"group-{n:04d}") for n, text in
                   enumerate(FUNDING + TRAINING + NEWSLETTER + [ALONE])}
        assert srv.call("groups")["ok"]  # the first read loads the sentence model: not within a page's wait
        yield srv
        srv.phone.disconnect()
        srv.organiser.disconnect()


def post(srv, text: str, client_id: str) -> int:
    ack = srv.phone.call("post", {"code": srv.table["code"], "client_id": client_id, "text": text,
                                  "tags": {"category": "besoins"}}, timeout=10)
    assert ack["ok"], ack
    return ack["post"]["id"]


def group_texts(srv) -> list[tuple[str | None, set[str]]]:
    """The organiser's `groups` read: each group's title and the texts of its ideas."""
    ack = srv.call("groups")
    assert ack["ok"], ack
    return [(g["title"], {m["text"] for m in g["members"]}) for s in ack["sections"] for g in s["groups"]]


def decisions(srv) -> set[tuple[int, int, bool]]:
    found = rows(srv, "SELECT post_id, other_id, same, organiser_id FROM group_decision")
    assert all(row.organiser_id is not None for row in found)
    return {(row.post_id, row.other_id, bool(row.same)) for row in found}


def pair(srv, a: str, b: str, same: bool) -> tuple[int, int, bool]:
    return (*sorted((srv.ids[a], srv.ids[b])), same)


def open_panel(browser, srv):
    console = open_console(browser, srv, srv.code, viewport=LAPTOP)
    panel = console.locator("#synthesis")
    panel.locator("summary", has_text="Synthèse").click()
    expect(panel.locator(".synthesis-group").first).to_be_visible()
    return console, panel


def group(panel, text: str):
    """The group on screen holding an idea whose text is `text`."""
    return panel.locator(".synthesis-group", has=panel.page.locator(".synthesis-member__text", has_text=text))


def titled(panel, title: str):
    """The group on screen shown as `title`."""
    return panel.locator(".synthesis-group", has=panel.page.locator(".synthesis-group__text", has_text=title))


def shows_members(on_screen, texts: set[str]) -> None:
    """The group on screen lists exactly these ideas, in whichever order (its representative first)."""
    members = on_screen.locator(".synthesis-member__text")
    expect(members).to_have_count(len(texts))
    assert set(members.all_text_contents()) == texts


def test_the_organiser_renames_moves_merges_and_splits_groups_and_the_edits_hold(axe, browser, cafe):
    console, panel = open_panel(browser, cafe)
    section = panel.locator(".synthesis-section")
    expect(section.locator("h3")).to_contain_text("Besoins")
    expect(section.locator(".synthesis-section__phrases .tag").first).to_be_visible()
    funding = group(panel, FUNDING[0])
    expect(funding.locator(".synthesis-group__size")).to_have_text("×3")
    axe(console, "the console's synthesis panel")
    shot(console, "synthesis-panel")

    # Rename: the title shows, is stored on the group's first idea, and the focus is back on « Renommer ».
    funding.get_by_role("button", name="Renommer").click()
    funding.get_by_label("Titre du groupe").fill(TITLE)
    axe(console, "the synthesis panel renaming a group")
    funding.get_by_role("button", name="Enregistrer").click()
    funding = titled(panel, TITLE)
    expect(funding.locator(".synthesis-group__text")).to_have_text(TITLE)
    expect(panel.locator("#synthesis-status")).to_have_text("Enregistré.")
    expect(funding.get_by_role("button", name="Renommer")).to_be_focused()
    assert (TITLE, set(FUNDING)) in group_texts(cafe)
    assert [r.group_title for r in rows(cafe, "SELECT group_title FROM post WHERE group_title IS NOT NULL")] == [TITLE]

    # Move the third funding idea into the first training idea's group.
    funding.locator("summary").click()
    funding.scroll_into_view_if_needed()
    shot(console, "synthesis-group-members")
    member = funding.locator(".synthesis-member", has_text=FUNDING[2])
    member.get_by_label("Déplacer vers").select_option(label=TRAINING[0])
    member.get_by_role("button", name="Déplacer").click()
    training = group(panel, TRAINING[0])
    expect(training.locator(".synthesis-member__text")).to_have_count(2)
    expect(training.locator(".synthesis-member", has_text=FUNDING[2]).get_by_label("Déplacer vers")).to_be_focused()
    assert (None, {TRAINING[0], FUNDING[2]}) in group_texts(cafe)
    assert pair(cafe, FUNDING[2], TRAINING[0], True) in decisions(cafe)

    # Merge the second training idea's group into it, then split that idea off again.
    training.get_by_label("Fusionner avec").select_option(label=TRAINING[1])
    training.get_by_role("button", name="Fusionner").click()
    expect(group(panel, TRAINING[0]).locator(".synthesis-member__text")).to_have_count(3)
    assert (None, {TRAINING[0], TRAINING[1], FUNDING[2]}) in group_texts(cafe)
    training = group(panel, TRAINING[0])
    if not training.locator(".synthesis-members").is_visible():
        training.locator("summary").click()
    training.get_by_label(TRAINING[1]).check()
    axe(console, "the synthesis panel with ideas ticked to split")
    training.get_by_role("button", name="Séparer").click()
    expect(group(panel, TRAINING[1]).locator(".synthesis-member__text")).to_have_count(1)
    expect(group(panel, TRAINING[1]).locator(".synthesis-group__text")).to_be_focused()
    groups = group_texts(cafe)
    assert (None, {TRAINING[0], FUNDING[2]}) in groups and (None, {TRAINING[1]}) in groups
    assert {pair(cafe, TRAINING[1], TRAINING[0], False), pair(cafe, TRAINING[1], FUNDING[2], False)} <= decisions(cafe)

    # New ideas arrive while a title is being typed: nothing is redrawn under it until the organiser is done.
    alone = group(panel, ALONE)
    alone.get_by_role("button", name="Renommer").click()
    draft = alone.get_by_label("Titre du groupe")
    draft.fill("Brouillon")
    post(cafe, LATE, "late-0000")
    post(cafe, "Un composteur collectif", "late-0001")
    expect(panel.locator("#synthesis-status")).to_have_text(
        "Les groupes ont changé\u00a0: ils s’afficheront quand vous aurez fini cette modification.")
    expect(draft).to_have_value("Brouillon")
    expect(draft).to_be_focused()
    expect(group(panel, "Un composteur collectif")).to_have_count(0)
    draft.press("Escape")
    expect(alone.get_by_role("button", name="Renommer")).to_be_focused()
    # The edits hold, the idea saying the same as the titled group joins it; after a reload too.
    expect(titled(panel, TITLE).locator(".synthesis-group__size")).to_have_text("×3")
    expect(group(panel, "Un composteur collectif")).to_have_count(1)
    assert [r.group_title for r in rows(cafe, "SELECT group_title FROM post WHERE group_title IS NOT NULL")] == [TITLE]
    console.reload()
    panel = console.locator("#synthesis")
    panel.locator("summary", has_text="Synthèse").click()
    expect(group(panel, "Un composteur collectif")).to_have_count(1)
    named = titled(panel, TITLE)
    shows_members(named, {FUNDING[0], FUNDING[1], LATE})
    shows_members(group(panel, TRAINING[0]), {TRAINING[0], FUNDING[2]})
    expect(group(panel, TRAINING[1]).locator(".synthesis-member__text")).to_have_count(1)
    groups = group_texts(cafe)
    assert (TITLE, {FUNDING[0], FUNDING[1], LATE}) in groups
    assert (None, {TRAINING[0], FUNDING[2]}) in groups and (None, {TRAINING[1]}) in groups


def test_the_organiser_answers_a_suggestion_and_the_groups_follow(axe, browser, cafe):
    console, panel = open_panel(browser, cafe)
    suggestion = panel.locator(".synthesis-suggestion", has_text=NEWSLETTER[0]).filter(has_text=NEWSLETTER[1])
    expect(suggestion).to_have_count(1)
    axe(console, "the synthesis panel with a suggestion")
    suggestion.get_by_role("button", name="Même idée").click()
    expect(suggestion).to_have_count(0)
    # The focus stays in the list, on the next suggestion's same button (or the list's title when none is left).
    assert console.evaluate("() => document.activeElement.textContent === 'Même idée'"
                            " || document.activeElement.id === 'suggestions-title'")
    expect(panel.locator("#synthesis-status")).to_have_text("Regroupées en une idée.")
    newsletter = group(panel, NEWSLETTER[0])
    expect(newsletter.locator(".synthesis-group__size")).to_have_text("×2")
    assert pair(cafe, NEWSLETTER[0], NEWSLETTER[1], True) in decisions(cafe)
    # « Same idea » also merges the newer idea into the older on every screen: it travels with it in the group.
    read = cafe.call("groups")
    kept = next(g for s in read["sections"] for g in s["groups"] if NEWSLETTER[0] in {m["text"] for m in g["members"]})
    assert kept["size"] == 2 and [m["merged"] for m in kept["members"]] == [[NEWSLETTER[1]]]
    merged = rows(cafe, "SELECT merged_into_id FROM post WHERE id = :id", id=cafe.ids[NEWSLETTER[1]])
    assert merged[0].merged_into_id == cafe.ids[NEWSLETTER[0]]


def test_a_suggestion_answered_on_another_screen_leaves_the_panel(browser, cafe):
    console, panel = open_panel(browser, cafe)
    suggestions = cafe.call("group_suggestions")["suggestions"]
    if not suggestions:
        pytest.skip("no suggestion left to answer")
    first = suggestions[0]
    shown = panel.locator(".synthesis-suggestion", has_text=first["post"]["text"]).filter(
        has_text=first["other"]["text"])
    expect(shown).to_have_count(1)
    assert cafe.call("group_answer", post_id=first["post"]["id"], other_id=first["other"]["id"], same=False)["ok"]
    expect(shown).to_have_count(0)


def test_the_key_points_are_saved_with_the_booklet_texts_and_a_concurrent_edit_is_refused(axe, browser, cafe):
    console, panel = open_panel(browser, cafe)
    key = "retain:world-cafe"
    box = panel.get_by_label("À retenir")
    box.fill("- Financer l’animation\n- Former les animateurs")
    panel.get_by_role("button", name="Enregistrer le texte").click()
    expect(panel.locator("#retain-status")).to_have_text("Texte enregistré.")
    expect(panel.get_by_role("button", name="Enregistrer le texte")).to_be_focused()
    stored = rows(cafe, "SELECT body FROM booklet_text WHERE section = :key", key=key)
    assert [r.body for r in stored] == ["- Financer l’animation\n- Former les animateurs"]
    # Another console saves meanwhile: this one's next save is refused in words, the other version shown.
    other, other_panel = open_panel(browser, cafe)
    other_panel.get_by_label("À retenir").fill("Le texte de l’autre console")
    other_panel.get_by_role("button", name="Enregistrer le texte").click()
    expect(other_panel.locator("#retain-status")).to_have_text("Texte enregistré.")
    box.fill("Ma version")
    panel.get_by_role("button", name="Enregistrer le texte").click()
    expect(panel.locator("#retain-status")).to_contain_text("Quelqu’un d’autre a enregistré ce texte")
    expect(panel.locator("#retain-stored")).to_have_text("Le texte de l’autre console")
    axe(console, "the synthesis panel after a refused save")
    assert [r.body for r in rows(cafe, "SELECT body FROM booklet_text WHERE section = :key", key=key)] == [
        "Le texte de l’autre console"]
    # Saving again, having seen the other version, keeps this one.
    panel.get_by_role("button", name="Enregistrer le texte").click()
    expect(panel.locator("#retain-status")).to_have_text("Texte enregistré.")
    assert [r.body for r in rows(cafe, "SELECT body FROM booklet_text WHERE section = :key", key=key)] == [
        "Ma version"]
    console.reload()
    expect(console.get_by_label("À retenir")).to_have_value("Ma version")
    other.close()
