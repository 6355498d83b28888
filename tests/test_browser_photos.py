"""Photos in a real Chromium on a real gevent server: the organiser's upload and thumbnail, a phone's photo."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import test_browser as shared
import test_browser_cafe
from test_browser import expect

browser, no_script_errors, server = shared.browser, shared.no_script_errors, shared.server
axe = test_browser_cafe.axe

pytestmark = pytest.mark.browser


def jpeg(width: int, height: int, colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG")
    return out.getvalue()


def test_organiser_uploads_a_photo_and_a_phone_sends_one_for_review(browser, server, axe):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{server.url}/console/e/petite-rencontre/photos")
    page.get_by_label("Adresse e-mail").fill("orga@example.org")
    page.get_by_label("Mot de passe").fill("correct-horse-battery")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Photos Petite rencontre")
    axe(page, "photos console, empty")

    page.get_by_label("Photo (JPEG, PNG ou WebP, 15 Mo au plus)").set_input_files(
        {"name": "IMG_1.jpg", "mimeType": "image/jpeg", "buffer": jpeg(1200, 800, (200, 60, 40))})
    page.get_by_label("Légende", exact=True).fill("La table Animation")
    page.get_by_role("button", name="Ajouter la photo").click()
    expect(page.get_by_text("Photo ajoutée.")).to_be_visible()
    thumb = page.locator(".photo-list img").first
    expect(thumb).to_have_attribute("alt", "La table Animation")
    page.wait_for_function("img => img.complete && img.naturalWidth === 480", arg=thumb.element_handle())

    page.get_by_label("Les participants peuvent envoyer des photos").check()
    page.locator("form[action$='/settings'] button").click()
    expect(page.get_by_text("Les participants peuvent envoyer des photos.")).to_be_visible()
    axe(page, "photos console, one photo")

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(f"{server.url}/j/{server.code}")
    expect(phone.locator("#connection")).to_have_attribute("data-state", "online")
    phone.get_by_text("Envoyer une photo").click()
    phone.get_by_label("Photo", exact=True).set_input_files(
        {"name": "photo.heic", "mimeType": "application/octet-stream", "buffer": jpeg(900, 1200, (40, 60, 200))})
    phone.get_by_label("Légende (facultative)").fill("Notre arbre")
    phone.get_by_role("button", name="Envoyer la photo").click()
    expect(phone.locator("#photo-status")).to_have_text("Photo envoyée : l’équipe d’organisation va la regarder.")
    axe(phone, "phone, photo sent")

    page.reload()
    expect(page.locator(".photo--pending")).to_contain_text("En attente de relecture")
    expect(page.locator(".photo--pending input[name=caption]")).to_have_value("Notre arbre")
    phone.close()
    page.close()
