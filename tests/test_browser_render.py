"""The restitution PDF from the console in a real Chromium: the button, the progress line, the download link."""

from __future__ import annotations

import re

import pytest

import test_browser as shared
import test_browser_cafe
from test_browser import expect
from test_render_jobs import BASE, post_ideas

browser, no_script_errors, server = shared.browser, shared.no_script_errors, shared.server
axe = test_browser_cafe.axe

pytestmark = pytest.mark.browser


def test_the_console_renders_the_restitution_and_offers_the_pdf(browser, server, axe):
    post_ideas(server.url, server.code, 5)
    console = browser.new_page()
    console.goto(f"{server.url}/console/")
    console.get_by_label("Adresse e-mail").fill("orga@example.org")
    console.get_by_label("Mot de passe").fill("correct-horse-battery")
    console.get_by_role("button", name="Se connecter").click()
    a4 = console.locator("[data-render-format='a4']")
    expect(a4).to_contain_text("Pas encore généré.")
    axe(console, "console with the restitution not generated")
    statuses = []
    console.on("request", lambda r: statuses.append(r.url) if "/restitution/status" in r.url else None)
    console.get_by_role("button", name="Générer la restitution (PDF)").click()
    expect(a4).to_have_attribute("data-render-state", "running")
    expect(a4.locator(".render__progress")).not_to_be_empty()
    link = a4.get_by_role("link", name=re.compile(r"Télécharger le PDF \(\d+ pages, [\d,]+ Mo, généré à \d\d:\d\d\)"))
    expect(link).to_be_visible(timeout=120_000)
    expect(a4).to_have_attribute("data-render-state", "done")
    assert console.url.endswith("/console/") and statuses  # followed in place, by polling
    assert link.get_attribute("href") == f"{BASE}.pdf?format=a4"
    axe(console, "console with the restitution generated")
    with console.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "petite-rencontre-restitution-a4.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF-")


def test_the_carnet_page_renders_the_imposed_carnet_and_offers_it(browser, server, axe):
    """The organisers' carnet page: choose the office printer's file, generate it, download half as many pages."""
    import io

    from pypdf import PdfReader

    page = browser.new_page()
    page.goto(f"{server.url}/console/e/petite-rencontre/carnet")
    page.get_by_label("Adresse e-mail").fill("orga@example.org")
    page.get_by_label("Mot de passe").fill("correct-horse-battery")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Carnet de Bord", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Liste d’inscription")).to_be_visible()
    axe(page, "the carnet page, nothing generated")
    carnet = page.locator("section[data-render]").filter(has_text="Carnet de Bord (PDF)")
    carnet.get_by_label("Fichier").select_option("imposed")
    carnet.get_by_role("button", name="Générer le carnet (PDF)").click()
    imposed = carnet.locator("[data-render-format='imposed']")
    link = imposed.get_by_role("link", name=re.compile(r"Télécharger le PDF \(\d+ pages"))
    expect(link).to_be_visible(timeout=120_000)
    expect(carnet.locator("[data-render-format='a5'] .render__none")).to_have_text("Pas encore généré.")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "petite-rencontre-carnet-imposed.pdf"
    sheets = PdfReader(io.BytesIO(download.value.path().read_bytes())).pages
    assert len(sheets) >= 2 and round(float(sheets[0].mediabox.width)) == 842  # A4 landscape, two A5 pages a side
    shown = int(re.search(r"\((\d+) pages", link.inner_text())[1])
    assert shown == len(sheets)
    axe(page, "the carnet page with the imposed file generated")


def test_the_carnet_page_says_another_pdf_is_being_made(browser, server, tmp_path):
    """While a render runs, asking for another file says which one renders, in place, and starts nothing."""
    import os
    import signal

    from carnet import jobs

    database = server.env.get("ROUAGES_DATABASE_URL") or f"sqlite:///{server.data_dir / 'rouages.db'}"
    running = jobs.start(server.data_dir, database, "petite-rencontre", "a4", time_limit=120, locale="fr",
                         starting_message="…", stopped_message="arrêté", time_limit_message="trop long")
    os.kill(running["pid"], signal.SIGSTOP)
    try:
        page = browser.new_page()
        page.goto(f"{server.url}/console/e/petite-rencontre/carnet")
        page.get_by_label("Adresse e-mail").fill("orga@example.org")
        page.get_by_label("Mot de passe").fill("correct-horse-battery")
        page.get_by_role("button", name="Se connecter").click()
        carnet = page.locator("section[data-render]").filter(has_text="Carnet de Bord (PDF)")
        carnet.get_by_role("button", name="Générer le carnet (PDF)").click()
        a5 = carnet.locator("[data-render-format='a5']")
        expect(a5).to_have_attribute("data-render-state", "busy")
        expect(a5.locator(".render__progress--error")).to_contain_text(
            "Un autre PDF est en cours de génération (Livret de restitution (PDF), A4, petite-rencontre)")
        page.screenshot(path=str(tmp_path / "busy.png"), full_page=True)
        assert not jobs.paths(server.data_dir, "petite-rencontre", "a5", "carnet").status.exists()
    finally:
        os.kill(running["pid"], signal.SIGCONT)
    assert jobs.wait(server.data_dir, "petite-rencontre", "a4")["state"] == "done"
