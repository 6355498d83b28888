"""The print files: the imposed booklet, the print-shop file, name badges and table tents, read back from real PDFs."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from weasyprint import HTML

from app.cli import cli
from app.extensions import db
from app.models import Event, Participant, Session
from app.services import eventfile
from app.services.errors import ServiceError
from app.services.events import demo_text
from carnet import jobs, print_shop
from carnet.badges import write_badges
from carnet.imposition import impose_saddle_stitch
from carnet.table_tents import write_table_tents
from conftest import PUBLIC_URL, import_file, login
from workshops import registry

MM = 72 / 25.4
A5_PT = (419.53, 595.28)


def numbered(path: Path, pages: int, size: str = "A5") -> Path:
    """Write a PDF whose every page shows only its own number."""
    body = "".join(f'<p id="p{n}" style="break-after: page"><a href="#p1">{n}</a></p>' for n in range(1, pages + 1))
    HTML(string=f"<style>@page {{ size: {size}; margin: 20mm }} p {{ font-size: 40pt }}</style>{body}").write_pdf(path)
    return path


def text_in(path: Path, page: int, x: float, width: float, height: float) -> str:
    """Return the text pdftotext reads in a rectangle of one page (points, from the top left)."""
    out = subprocess.run(["pdftotext", "-r", "72", "-f", str(page), "-l", str(page), "-x", str(round(x)), "-y", "0",
                          "-W", str(round(width)), "-H", str(round(height)), str(path), "-"],
                         capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


def halves(path: Path) -> list[tuple[str, str]]:
    """Return the text of the left and right halves of each page."""
    reader = PdfReader(path)
    found = []
    for number, page in enumerate(reader.pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        found.append((text_in(path, number, 0, width / 2, height), text_in(path, number, width / 2, width / 2, height)))
    return found


@pytest.mark.parametrize(("pages", "order"), [
    (4, [("4", "1"), ("2", "3")]),
    (8, [("8", "1"), ("2", "7"), ("6", "3"), ("4", "5")]),
    (12, [("12", "1"), ("2", "11"), ("10", "3"), ("4", "9"), ("8", "5"), ("6", "7")]),
])
def test_imposition_lays_pages_out_in_saddle_stitch_order(tmp_path, pages, order):
    imposed = tmp_path / "imposed.pdf"
    assert impose_saddle_stitch(numbered(tmp_path / "a5.pdf", pages), imposed) == pages // 2
    assert halves(imposed) == order
    for page in PdfReader(imposed).pages:
        assert (round(float(page.mediabox.width) / MM), round(float(page.mediabox.height) / MM)) == (297, 210)
        assert "/Annots" not in page  # no link to a page the printer's file does not have


def test_imposition_refuses_a_page_count_that_does_not_fold(tmp_path):
    imposed = tmp_path / "imposed.pdf"
    with pytest.raises(ValueError, match="multiple of 4; this one has 6"):
        impose_saddle_stitch(numbered(tmp_path / "a5.pdf", 6), imposed)
    assert not imposed.exists()


def test_imposition_refuses_pages_that_are_not_a5(tmp_path):
    imposed = tmp_path / "imposed.pdf"
    with pytest.raises(ValueError, match=r"Only an A5 booklet .* page 1 is 210 × 297 mm"):
        impose_saddle_stitch(numbered(tmp_path / "a4.pdf", 4, size="A4"), imposed)
    assert not imposed.exists()


COVER = """<style>@page { size: A5; margin: 15mm } @page cover { background: #0b6e4f } .cover { page: cover }</style>
<div class="cover"><h1>Couverture</h1></div><p style="break-before: page">Deuxième page</p>"""


def test_print_shop_file_has_an_a5_trim_box_bleed_and_crop_marks_outside_it(tmp_path):
    path = tmp_path / "shop.pdf"
    assert print_shop.write_pdf(COVER, path) == 2
    bleed = 3 * MM
    for page in PdfReader(path).pages:
        trim, bleed_box, media = page.trimbox, page.bleedbox, page.mediabox
        assert [round(float(v), 2) for v in trim] == [0, 0, *A5_PT]
        assert [round(float(v), 2) for v in bleed_box] == [round(v, 2) for v in (-bleed, -bleed, A5_PT[0] + bleed,
                                                                                   A5_PT[1] + bleed)]
        assert (media.left < bleed_box.left and media.bottom < bleed_box.bottom
                and media.right > bleed_box.right and media.top > bleed_box.top)
    # The cover's colour runs into the bleed; the marks sit beyond it, in line with the trim.
    subprocess.run(["pdftoppm", "-r", "72", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "shop")], check=True)
    image = Image.open(next(tmp_path.glob("shop*.png"))).convert("RGB")
    origin = -float(PdfReader(path).pages[0].mediabox.left)  # points from the image's left edge to the trim's

    def pixel(x_pt: float, y_pt: float) -> tuple:
        return image.getpixel((round(origin + x_pt), round(origin + y_pt)))

    assert pixel(-1.5 * MM, 100) == pixel(100, 100) == (11, 110, 79)  # in the bleed, as on the page
    assert pixel(-6 * MM, 100) == (255, 255, 255)  # beyond the bleed: blank
    assert max(pixel(-7 * MM, 0)) < 100 and max(pixel(0, -7 * MM)) < 100  # the top-left corner's two marks


def registrants(app, event_id: int, people: list[tuple], without_code: int | None = None) -> list[str | None]:
    """Add people to an event's registration list, in order; return their badge codes (none for `without_code`)."""
    with app.app_context():
        badges = []
        for position, (name, organisation, role) in enumerate(people, start=1):
            badge = None if position == without_code else secrets.token_urlsafe(9)
            db.session.add(Participant(event_id=event_id, token=secrets.token_hex(16), name=name,
                                       organisation=organisation, role=role, registered_position=position, badge=badge))
            badges.append(badge)
        # Someone who joined by phone only is no registrant and gets no badge.
        db.session.add(Participant(event_id=event_id, token=secrets.token_hex(16), name="Walk-in Visitor"))
        db.session.commit()
        return badges


PEOPLE = [("Claire Dubois", "Tiers-lieu La Forge", "Coordinatrice"), ("Amina Benali", "SCIC Bâtir Ensemble", None),
          ("Jean-Baptiste de La Rochefoucauld", "Communauté d’agglomération Creil Sud Oise", "Élu communautaire"),
          ("Lou", None, None), ("Paul Martin", "PTCE Sud Oise", "Directeur"), ("Sophie Leroy", "Région", None),
          ("Thomas Petit", "L’Equipage", None), ("Nadia Haddad", "Tiers-lieu Le Quai", None),
          ("<b>Ève</b> & Co", "<script>x</script>", None)]


def qr_codes(path: Path, tmp_path: Path) -> list[list[str]]:
    """Return the decoded QR codes of each page, top to bottom then left to right."""
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(path), str(tmp_path / "qr")], check=True)
    pages = []
    for image in sorted(tmp_path.glob("qr-*.png")):
        found = zxingcpp.read_barcodes(Image.open(image))
        found.sort(key=lambda r: (round(r.position.top_left.y / 100), r.position.top_left.x))
        pages.append([r.text for r in found])
    return pages


def test_badges_follow_the_registration_list_and_each_qr_opens_its_person(app, tmp_path):
    event = import_file(app, demo_text())
    badges = registrants(app, event.id, PEOPLE)
    path = tmp_path / "badges.pdf"
    with app.test_request_context():
        assert write_badges(db.session.get(Event, event.id), path) == 2
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)
    positions = [text.find(name) for name, _o, _r in PEOPLE]
    assert -1 not in positions and positions == sorted(positions), text
    assert "<script>x</script>" in text and "Walk-in" not in text
    assert "Tiers-lieu La Forge" in text and "Élu communautaire" in text and "LES ROUAGES DE LA COOPÉRATION" in text
    assert "Votre QR code personnel" in text  # the demo event is in French
    urls = [f"{PUBLIC_URL}/p/{badge}" for badge in badges]
    assert qr_codes(path, tmp_path) == [urls[:8], urls[8:]]


def test_badges_without_a_registration_list_are_refused(app, runner, tmp_path):
    event = import_file(app, demo_text())
    path = tmp_path / "badges.pdf"
    with app.test_request_context(), pytest.raises(ServiceError) as refused:
        write_badges(db.session.get(Event, event.id), path)
    assert refused.value.code == "no_registrants"
    result = runner.invoke(cli, args=["badges", "demo", "-o", str(path)])
    assert result.exit_code == 1 and "n’a pas de liste d’inscrits : importez-en une" in result.output
    assert not path.exists()


def test_a_registrant_without_a_personal_code_gets_a_badge_without_qr(app, tmp_path):
    event = import_file(app, demo_text())
    badges = registrants(app, event.id, PEOPLE[:3], without_code=2)
    path = tmp_path / "badges.pdf"
    with app.test_request_context():
        assert write_badges(db.session.get(Event, event.id), path) == 1
    text = " ".join(PdfReader(path).pages[0].extract_text().split())
    assert "Amina Benali" in text and text.count("Votre QR code personnel") == 2 and "None" not in text
    assert qr_codes(path, tmp_path) == [[f"{PUBLIC_URL}/p/{badges[0]}", f"{PUBLIC_URL}/p/{badges[2]}"]]


def test_badges_command_writes_the_sheets(app, runner, tmp_path):
    event = import_file(app, demo_text())
    registrants(app, event.id, PEOPLE[:3])
    path = tmp_path / "badges.pdf"
    result = runner.invoke(cli, args=["badges", "demo", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}: 1 A4 sheet(s) of badges." in result.output
    assert "Claire Dubois" in PdfReader(path).pages[0].extract_text()
    missing = runner.invoke(cli, args=["badges", "nothing-here", "-o", str(path)])
    assert missing.exit_code == 1 and "No event has the slug 'nothing-here'" in missing.output


def cafe_tables(app, event_id: int) -> tuple[str, str, list[tuple[str, str]]]:
    """Return the demo world café's code, question and (name, code) of each table."""
    with app.app_context():
        cafe = next(s for s in db.session.get(Event, event_id).sessions if s.workshop == "world_cafe")
        return cafe.code, cafe.question, [(t.name, t.code) for t in cafe.tables if not t.removed]


def test_table_tents_carry_each_table_its_question_and_its_join_qr_on_both_faces(app, tmp_path):
    event = import_file(app, demo_text())
    code, question, tables = cafe_tables(app, event.id)
    path = tmp_path / "tents.pdf"
    with app.test_request_context():
        cafe = db.session.scalar(db.select(Session).where(Session.code == code))
        assert write_table_tents(cafe, path) == len(tables) == 5
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]
    for (name, table_code), text in zip(tables, pages, strict=True):
        assert text.count(name) == 2 and text.count(question) == 2 and text.count(f"Code {table_code}") == 2
        assert "Plier ici" in text
    # Both faces decode, the upside-down one included.
    assert qr_codes(path, tmp_path) == [[f"{PUBLIC_URL}/j/{table_code}"] * 2 for _name, table_code in tables]


def test_table_tents_of_a_session_without_tables_are_refused(app, runner, tmp_path):
    event = import_file(app, demo_text())
    board = next(s for s in event.sessions if s.key != "world-cafe-fonctions")
    path = tmp_path / "tents.pdf"
    with app.test_request_context(), pytest.raises(ServiceError) as refused:
        write_table_tents(db.session.get(Session, board.id), path)
    assert refused.value.code == "no_tables" and not path.exists()
    result = runner.invoke(cli, args=["table-tents", "demo", "--session", board.key, "-o", str(path)])
    assert result.exit_code == 1 and "n’a pas de tables : les chevalets" in result.output and not path.exists()


def test_table_tents_command_prints_every_table_of_the_event(app, runner, tmp_path):
    event = import_file(app, demo_text())
    # The world café's five tables and the ateliers' four topics, each with its own QR code.
    with app.app_context():
        tables = [t.name for s in db.session.get(Event, event.id).sessions for t in s.tables if not t.removed]
    assert len(tables) == 9
    path = tmp_path / "tents.pdf"
    result = runner.invoke(cli, args=["table-tents", "demo", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}: 9 table tent(s), one A4 page each." in result.output
    assert [next(n for n in tables if n in page.extract_text()) for page in PdfReader(path).pages] == tables
    unknown = runner.invoke(cli, args=["table-tents", "demo", "--session", "nope", "-o", str(path)])
    assert unknown.exit_code == 1 and "has no session 'nope'" in unknown.output


def test_table_cards_page_links_to_the_table_tents_pdf_for_organisers_only(app, organiser, tmp_path):
    event = import_file(app, demo_text())
    code, _question, tables = cafe_tables(app, event.id)
    anonymous = app.test_client()
    assert anonymous.get(f"/console/s/{code}/table-tents.pdf").status_code == 302
    http = app.test_client()
    login(http)
    cards = http.get(f"/console/s/{code}/tables/print").get_data(as_text=True)
    assert f'href="/console/s/{code}/table-tents.pdf"' in cards
    response = http.get(f"/console/s/{code}/table-tents.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=demo-world-cafe-fonctions-table-tents.pdf"
    path = tmp_path / "download.pdf"
    path.write_bytes(response.data)
    assert [name for name, _code in tables] == [
        next(n for n, _c in tables if n in page.extract_text()) for page in PdfReader(path).pages]
    board = next(s for s in event.sessions if s.code != code)
    assert http.get(f"/console/s/{board.code}/table-tents.pdf").status_code == 404


def test_table_tents_name_the_host_and_the_theme_s_meaning(app, tmp_path):
    item = registry()["world_cafe"].example  # five tables, the first one hosted by Camille
    doc = {"slug": "cafe", "title": "Café <i>des</i> fonctions", "programme": [{"date": "2026-06-09", "items": [item]}]}
    session = import_file(app, eventfile.dump(doc)).sessions[0]
    path = tmp_path / "tents.pdf"
    with app.test_request_context():
        assert write_table_tents(db.session.get(Session, session.id), path) == 5
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]
    assert pages[0].count("Hôte : Camille") == 2 and "Hôte" not in pages[1]
    assert pages[0].count("Rencontrer, mettre en synergie et structurer le collectif d'acteurs.") == 2
    assert pages[0].count("Café <i>des</i> fonctions") == 2


def test_a_badges_render_job_without_registration_list_fails_with_the_reason(app, tmp_path):
    import_file(app, demo_text())
    data_dir, url = app.config["DATA_DIR"], app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        db.engine.dispose()  # the job's process opens the database itself
    jobs.start(data_dir, url, "demo", "a4", booklet="badges", time_limit=120, locale="fr",
               starting_message="…", time_limit_message="too long", stopped_message="stopped")
    over = jobs.wait(data_dir, "demo", "a4", booklet="badges")
    assert over["state"] == "failed" and over["message"] == over["error"] == (
        "L’événement « Les Rouages de la Coopération » n’a pas de liste d’inscrits : importez-en une avant "
        "d’imprimer les badges.")
    assert jobs.finished_pdf(data_dir, "demo", "a4", booklet="badges") is None
