"""The participants' carnet: its text and pages read back from the PDF, its QR codes decoded, the personal carnets."""

from __future__ import annotations

import io
import re
import secrets
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from app.cli import cli
from app.extensions import db
from app.models import Attendance, Event, Participant
from app.services import eventfile, registrants
from app.services.errors import ServiceError
from app.services.events import demo_text, export_event
from carnet import carnet
from conftest import PUBLIC_URL, import_file
from workshops import registry

# Laid out page by page: the longest module of the suite, and it reads the event through the services the other
# modules test on both databases, so the run on PostgreSQL leaves it out (.ci/run, README).
pytestmark = pytest.mark.layout


def pdf_pages(path: Path) -> list[str]:
    """Return each page's text, spaces normalised."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def decoded(path: Path, tmp_path: Path, first: int = 1, last: int | None = None) -> dict[int, list[str]]:
    """Return the QR codes zxing-cpp reads on each page rendered at 150 dpi: {page number: [texts]}."""
    prefix = tmp_path / f"scan-{path.stem}"
    subprocess.run(["pdftoppm", "-r", "150", "-gray", "-png", "-f", str(first), "-l", str(last or first + 1000),
                    str(path), str(prefix)], check=True)
    found = {}
    for image in sorted(tmp_path.glob(f"{prefix.name}-*.png")):
        number = int(image.stem.rsplit("-", 1)[1])
        found[number] = [r.text for r in zxingcpp.read_barcodes(Image.open(image), formats=zxingcpp.BarcodeFormat.QRCode)]
    return found


@pytest.fixture
def demo(app):
    """The demo event, imported."""
    return import_file(app, demo_text())


def write(app, event_id: int, path: Path, **options) -> int:
    with app.test_request_context():
        return carnet.write_pdf(db.session.get(Event, event_id), path, **options)


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("a4", [False, True], ids=["A5", "A4"])
def test_the_demo_carnet_holds_the_event_and_pads_with_note_pages(app, demo, tmp_path, a4):
    out = tmp_path / "carnet.pdf"
    pages = write(app, demo.id, out, a4=a4)
    reader = PdfReader(out)
    assert pages == len(reader.pages) and pages % 4 == 0 and pages >= 24
    expected_size = [595, 842] if a4 else [420, 595]
    assert all([round(float(v)) for v in page.mediabox[2:]] == expected_size for page in reader.pages)
    text = pdf_pages(out)
    whole = "\n".join(text)
    spec = eventfile.load(demo_text(), registry())
    for day in spec["programme"]:
        for item in day["items"]:
            assert _words(item["title"]) in whole, item["title"]
            for duo in item.get("duos", []):  # the duo format's line under its item
                assert _words(f"{duo['title']} — {duo['authority']['name']}") in whole, duo["title"]
    for guest in spec["guests"]:
        assert guest["name"] in whole, guest["name"]
    for sheet in spec["sheets"]:
        assert sheet["title"] in whole, sheet["title"]
    for entry in spec["glossary"]:
        assert entry["term"] in whole, entry["term"]
    for person in spec["organisers"]:
        assert person["name"] in text[-1] and person["email"] in text[-1]
    assert text[0].casefold().startswith("carnet de bord les rouages de la coopération")
    assert "ce carnet appartient à" in text[1].casefold()
    # The back cover holds the contacts; the pages before it are note pages, titled and numbered, never blank.
    assert text[-1].startswith("Contacts")
    notes = [n for n, page in enumerate(text) if re.fullmatch(r"Notes Notes Les Rouages de la Coopération \d+", page)]
    assert notes and notes[-1] == pages - 2 and notes == list(range(notes[0], pages - 1))
    assert all(page.strip() for page in text), [n + 1 for n, page in enumerate(text) if not page.strip()]


def test_every_qr_code_of_the_carnet_decodes_to_its_workshops_join_url(app, demo, tmp_path):
    out = tmp_path / "carnet.pdf"
    write(app, demo.id, out)
    codes = {s.title: s.code for s in demo.sessions}
    text = pdf_pages(out)
    found = decoded(out, tmp_path)
    scanned = [(n, url) for n, urls in found.items() for url in urls]
    assert sorted(url for _n, url in scanned) == sorted(f"{PUBLIC_URL}/j/{code}" for code in codes.values())
    for number, url in scanned:
        title = next(title for title, code in codes.items() if url.endswith(f"/j/{code}"))
        # Each code is printed on its workshop's own page, with the address and code spelled out beside it.
        assert _words(title) in text[number - 1] and url in text[number - 1]


def test_the_qr_codes_are_large_enough_to_scan_from_paper(app, demo, tmp_path):
    out = tmp_path / "carnet.pdf"
    write(app, demo.id, out)
    dpi = 150
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(out), str(tmp_path / "size")], check=True)
    sides = []
    for image in sorted(tmp_path.glob("size-*.png")):
        for found in zxingcpp.read_barcodes(Image.open(image), formats=zxingcpp.BarcodeFormat.QRCode):
            corners = found.position
            xs = [corners.top_left.x, corners.top_right.x, corners.bottom_right.x, corners.bottom_left.x]
            ys = [corners.top_left.y, corners.top_right.y, corners.bottom_right.y, corners.bottom_left.y]
            # The printed symbol's side, quiet zone left out, in millimetres on the A5 page.
            sides.append(min(max(xs) - min(xs), max(ys) - min(ys)) / dpi * 25.4)
    assert len(sides) == len(demo.sessions)
    assert all(side >= 30 for side in sides), sides


def test_the_contents_point_to_the_right_pages_and_the_pdf_is_a_designed_document(app, demo, tmp_path):
    out = tmp_path / "carnet.pdf"
    write(app, demo.id, out)
    text = pdf_pages(out)
    contents = next(page for page in text if page.startswith("Sommaire")).removeprefix("Sommaire")
    listed = re.findall(r"([A-ZÀ-ÿ][^.\d]+?)\s*(?:\. )+\.?\s*(\d+)", contents)
    assert len(listed) >= 15, contents
    for title, number in listed:
        assert title.strip().rstrip(".").strip()[:18].casefold() in text[int(number) - 1].casefold(), (title, number)
    reader = PdfReader(out)
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert {"Accueil", "Le programme", "Les ateliers", "Fiches thématiques", "Glossaire", "Contacts"} <= set(outline)
    assert reader.metadata.title == "Les Rouages de la Coopération · Carnet de bord"
    assert "Maison d’Economie Solidaire du Pays de Bray" in reader.metadata.author
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    fonts = {str(font.get_object()["/BaseFont"]) for page in reader.pages[:4]
             for font in page["/Resources"]["/Font"].values()}
    assert fonts and all("Inter" in name for name in fonts), fonts


def test_an_english_event_gets_an_english_carnet(app, tmp_path):
    english = demo_text().replace("slug: demo", "slug: demo-en", 1).replace("language: fr", "language: en", 1)
    imported = import_file(app, english)
    out = tmp_path / "carnet.pdf"
    write(app, imported.id, out)
    text = pdf_pages(out)
    assert text[0].casefold().startswith("logbook") and "this logbook belongs to" in text[1].casefold()
    whole = "\n".join(text).casefold()
    for heading in ("Contents", "The programme", "Our guests", "How it works", "Thematic sheets", "Glossary"):
        assert heading.casefold() in whole, heading
    assert "sommaire" not in whole and "comment ça marche" not in whole
    assert PdfReader(out).trailer["/Root"]["/Lang"] == "en"


def test_without_a_glossary_the_carnet_explains_the_frameworks_items(app, tmp_path):
    spec = eventfile.load(demo_text(), registry())
    del spec["glossary"], spec["welcome"]
    spec["slug"] = "sans-glossaire"
    imported = import_file(app, eventfile.dump(spec))
    out = tmp_path / "carnet.pdf"
    write(app, imported.id, out)
    text = pdf_pages(out)
    whole = "\n".join(text)
    glossary = " ".join(page for page in text if "Glossaire" in page and "Sommaire" not in page)
    assert "Animation Rencontrer, mettre en synergie et structurer le collectif d’acteurs." in glossary
    assert glossary.index("Amorcer") < glossary.index("Animation") < glossary.index("Valorisation")
    # No welcome text: the event's description opens the carnet.
    assert "Ces rencontres prolongent DESIGN COOP" in whole


def test_text_from_the_event_file_is_printed_as_text(app, tmp_path):
    spec = eventfile.load(demo_text(), registry())
    spec["slug"] = "hostile"
    spec["welcome"] = "Bonjour <script>alert(1)</script> ![pixel](http://127.0.0.1:9/p.png) **bienvenue**"
    spec["guests"][0]["name"] = "<b>La Forge</b>"
    imported = import_file(app, eventfile.dump(spec))
    with app.test_request_context():
        html = carnet.booklet_html(db.session.get(Event, imported.id))
    assert "<script>" not in html and "&lt;b&gt;La Forge&lt;/b&gt;" in html
    assert "<strong>bienvenue</strong>" in html and "127.0.0.1:9" not in html


def test_the_event_file_round_trips_with_welcome_and_glossary(app, demo):
    with app.app_context():
        exported = export_event(db.session.get(Event, demo.id))
    again = eventfile.load(exported, registry())
    original = eventfile.load(demo_text(), registry())
    assert again["welcome"] == original["welcome"] and again["welcome"].startswith("Bienvenue à L’Hermitage")
    assert again["glossary"] == original["glossary"] and len(again["glossary"]) == 12
    assert {"PTCE", "SCIC", "Tiers-lieu", "ESS", "EPCI", "World café", "Arbre à idées"} <= \
        {entry["term"] for entry in again["glossary"]}


def test_a_glossary_entry_without_a_definition_is_refused_with_its_place(app):
    broken = demo_text().replace("  - term: EPCI\n    definition: >-\n", "  - term: EPCI\n    meaning: >-\n", 1)
    with pytest.raises(eventfile.EventFileError) as error:
        eventfile.load(broken, registry())
    assert "glossary" in str(error.value) and "definition" in str(error.value)


def add_registrants(app, event_id: int, people: list[tuple[str, str | None]], first: int = 1) -> list[int]:
    """Put people on the event's registration list, in this order from place ``first``, each with their own badge."""
    with app.app_context():
        ids = []
        for position, (name, organisation) in enumerate(people, start=first):
            person = Participant(event_id=event_id, token=secrets.token_urlsafe(24), name=name,
                                 organisation=organisation, listed=True, registered_position=position,
                                 badge=secrets.token_urlsafe(9))
            db.session.add(person)
            db.session.flush()
            ids.append(person.id)
        db.session.commit()
        return ids


def seat(app, event_id: int, ids: list[int]) -> None:
    """Have the registrants join the world café and compute its rotation plan."""
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        cafe = next(s for s in event.sessions if s.workshop == "world_cafe")
        for pid in ids:
            db.session.add(Attendance(session_id=cafe.id, participant_id=pid))
        db.session.commit()
        registry()["world_cafe"].compute_plan(cafe, {})


def test_personal_carnets_carry_the_persons_name_qr_code_and_tables(app, demo, tmp_path, monkeypatch):
    monkeypatch.setattr(carnet, "PERSONAL_BATCH", 2)  # three people: their own pages laid out in two documents
    people = [("Claire Dubois", "Tiers-lieu La Forge"), ("Karim Haddad", "Mairie de Bray"), ("Léa Martin", None)]
    ids = add_registrants(app, demo.id, people[:2])
    seat(app, demo.id, ids)
    # Registered after the plan was made: no table yet.
    ids += add_registrants(app, demo.id, people[2:], first=3)
    out = tmp_path / "carnets"
    with app.test_request_context():
        event = db.session.get(Event, demo.id)
        written = carnet.write_personal(event, out)
        listed = registrants.registrants(event)
        badges = [p.badge for p in listed]
        cafe = next(s for s in event.sessions if s.workshop == "world_cafe")
        names = {t.key: t.name for t in cafe.tables}
        claire_tables = [names[key] for key in cafe.plan["assignments"][str(ids[0])]]
        common = tmp_path / "common.pdf"
        common_pages = carnet.write_pdf(event, common)
    assert [p.name for p in written] == ["001-claire-dubois.pdf", "002-karim-haddad.pdf", "003-lea-martin.pdf",
                                         "carnets-all.pdf"]
    claire = pdf_pages(written[0])
    assert len(claire) == common_pages and claire[2:] == pdf_pages(common)[2:]
    assert "Claire Dubois" in claire[0] and "Tiers-lieu La Forge" in claire[0]
    assert claire[1].casefold().startswith("ce carnet appartient à claire dubois tiers-lieu la forge")
    route = claire[1][claire[1].index("Vos tables, tour par tour"):].casefold()
    assert " → ".join(claire_tables).casefold() in route
    assert "Vos tables" not in pdf_pages(written[2])[1]  # not seated: no route
    assert decoded(written[0], tmp_path, 2, 2)[2] == [f"{PUBLIC_URL}/p/{badges[0]}"]
    assert decoded(written[2], tmp_path, 2, 2)[2] == [f"{PUBLIC_URL}/p/{badges[2]}"]
    # The workshops' codes are still there, on the same pages as in the common carnet.
    assert decoded(written[1], tmp_path, 3) == {n: urls for n, urls in decoded(common, tmp_path, 3).items()}
    # The merged file: every carnet in list order.
    merged = pdf_pages(written[-1])
    assert len(merged) == 3 * common_pages
    for k, (name, _organisation) in enumerate(people):
        assert merged[k * common_pages + 1].casefold().startswith(f"ce carnet appartient à {name}".casefold())
        assert merged[k * common_pages + 2:(k + 1) * common_pages] == pdf_pages(common)[2:]
    reader = PdfReader(written[0])
    assert reader.metadata.title == "Les Rouages de la Coopération · Carnet de bord"
    assert {"Le programme", "Contacts"} <= {item.title for item in reader.outline if not isinstance(item, list)}
    assert not list(out.glob(".*.pdf"))  # the intermediate files are gone


def test_no_registration_list_writes_no_personal_carnet(app, demo, tmp_path):
    with app.test_request_context():
        with pytest.raises(ServiceError) as refused:
            carnet.write_personal(db.session.get(Event, demo.id), tmp_path / "none")
    assert refused.value.code == "no_registrants" and not (tmp_path / "none").exists()


def test_the_carnet_command_writes_the_pdf_and_says_how_many_pages(app, demo, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "carnet.pdf"
    result = runner.invoke(cli, ["carnet", "demo", "-o", str(out), "--a4"])
    assert result.exit_code == 0, result.output
    pages = len(PdfReader(out).pages)
    assert f"{out}: {pages} pages" in result.output and pages % 4 == 0
    assert [round(float(v)) for v in PdfReader(out).pages[0].mediabox[2:]] == [595, 842]
    missing = runner.invoke(cli, ["carnet", "nope", "-o", str(out)])
    assert missing.exit_code != 0 and "No event has the slug 'nope'" in missing.output
    imposed = runner.invoke(cli, ["carnet", "demo", "-o", str(tmp_path / "imposed.pdf"), "--imposed"])
    assert imposed.exit_code == 0, imposed.output
    sides = len(PdfReader(tmp_path / "imposed.pdf").pages)
    assert f"{tmp_path / 'imposed.pdf'}: {sides} pages" in imposed.output and sides % 2 == 0
    both = runner.invoke(cli, ["carnet", "demo", "-o", str(out), "--a4", "--print-shop"])
    assert both.exit_code != 0 and "Choose one of" in both.output


def test_the_per_participant_command_writes_a_folder(app, demo, tmp_path):
    runner = app.test_cli_runner()
    empty = runner.invoke(cli, ["carnet", "demo", "--per-participant", "-o", str(tmp_path / "out")])
    assert empty.exit_code != 0 and "n’a pas de liste d’inscrits" in empty.output
    assert not (tmp_path / "out").exists()
    add_registrants(app, demo.id, [("Ana Sousa", "Réseau Est"), ("Bo Chen", None)])
    result = runner.invoke(cli, ["carnet", "demo", "--per-participant", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["001-ana-sousa.pdf", "002-bo-chen.pdf",
                                                                   "carnets-all.pdf"]
    assert "2 carnets and carnets-all.pdf" in result.output


def test_each_workshop_gets_a_note_page_shaped_by_its_format(app, demo):
    with app.test_request_context():
        pages = {page["session"].key: page for page in carnet.workshops(db.session.get(Event, demo.id))}
        env = carnet.environment()

        def notes(key: str) -> str:
            page = pages[key]
            return env.get_template(page["template"]).render(session=page["session"], notes=page["notes"])

        cafe, tree, duos, relations = (notes(key) for key in ("world-cafe-fonctions", "arbres-a-idees",
                                                              "lecons-des-duos", "ateliers-relations"))
    # World café: one row per table, one box per harvested category.
    rows = re.findall(r'<th scope="row">([^<]+)</th>((?:<td></td>)+)', cafe)
    assert [name for name, _cells in rows] == ["Table Animation", "Table Créativité", "Table Valorisation",
                                               "Table Support", "Table Gestion de projet"]
    assert all(cells.count("<td>") == 3 for _name, cells in rows)
    assert re.findall(r'<th scope="col">([^<]+)</th>', cafe) == ["Missions", "Actions à réaliser",
                                                                 "Besoins d’accompagnement"]
    # The idea tree: a drawn tree, a branch per movement, roots and fruits.
    assert 'class="idea-tree"' in tree and re.findall(r"<text [^>]+>([^<]+)</text>", tree) == \
        ["Amorcer", "Maintenir", "Renforcer", "Racines", "Fruits"]
    # Two required tags: a grid of relations by practices to keep, stop or create.
    assert re.findall(r'<th scope="col">([^<]+)</th>', relations) == ["À maintenir", "À arrêter", "À créer"]
    assert [name for name, _c in re.findall(r'<th scope="row">([^<]+)</th>((?:<td></td>)+)', relations)] == \
        ["Formaliser les échanges", "Collectivités dans les SCIC", "Financer", "Accès au foncier"]
    # No tags: plain lines.
    assert 'class="lined lined--sheet"' in duos and "<table" not in duos and "<svg" not in duos


def test_a_board_with_one_small_required_tag_gets_a_column_per_item(app):
    spec = eventfile.load(demo_text(), registry())
    spec["slug"] = "colonnes"
    item = next(i for day in spec["programme"] for i in day["items"] if i.get("id") == "arbres-a-idees")
    item.update(workshop="board", tags=[{"framework": "movement", "required": True}, {"framework": "function"}])
    del item["settings"]
    imported = import_file(app, eventfile.dump(spec))
    with app.test_request_context():
        page = next(p for p in carnet.workshops(db.session.get(Event, imported.id))
                    if p["session"].key == "arbres-a-idees")
        html = carnet.environment().get_template(page["template"]).render(session=page["session"], notes=page["notes"])
    assert re.findall(r'<p class="note-columns__label">([^<]+)</p>', html) == ["Amorcer", "Maintenir", "Renforcer"]


def test_the_organisers_logos_go_on_the_cover_in_their_order(app, demo, organiser, tmp_path):
    from app.models import Organiser
    from app.services import photos

    with app.test_request_context():
        event = db.session.get(Event, demo.id)
        author = db.session.query(Organiser).one()
        added = []
        for colour in ("#0b6e4f", "#b4471f", "#1d2327"):
            buffer = io.BytesIO()
            Image.new("RGB", (600, 300), colour).save(buffer, "JPEG")
            buffer.seek(0)
            added.append(photos.add_photo(event, buffer, "Logo", organiser=author))
        for photo in added[:2]:
            photos.update(photo, section=photos.LOGO_SECTION)
        photos.update(added[0], status="hidden")
        shown = [p.id for p in photos.logos(event)]
        folder = photos.folder(demo.id).as_uri()
        html = carnet.booklet_html(event)
        with pytest.raises(ServiceError):
            photos.update(added[2], section="no-such-section")
    assert shown == [added[1].id]
    band = html[html.index('class="cover__logos '):html.index("</section>")]
    assert band.count("<img") == 1 and folder in band
    out = tmp_path / "carnet.pdf"
    write(app, demo.id, out)
    cover = PdfReader(out).pages[0]
    images = cover.images
    assert len(images) == 1 and images[0].image.getpixel((10, 10))[0] > 150  # the orange one, not the hidden green


def test_the_print_files_of_the_carnet_fold_and_bleed(app, demo, tmp_path):
    from carnet.builds import build
    from carnet.imposition import A4_LANDSCAPE, A5, MM

    with app.test_request_context():
        event = db.session.get(Event, demo.id)
        pages = build(event, "carnet", "a5", tmp_path / "a5.pdf")
        imposed = build(event, "carnet", "imposed", tmp_path / "imposed.pdf")
        shop = build(event, "carnet", "print-shop", tmp_path / "shop.pdf")
    # Imposed: half as many A4 sides, the last page beside the first on the outer sheet.
    reader = PdfReader(tmp_path / "imposed.pdf")
    assert imposed == len(reader.pages) == pages // 2
    assert [round(float(v)) for v in reader.pages[0].mediabox[2:]] == [round(v) for v in A4_LANDSCAPE]
    outer = " ".join(reader.pages[0].extract_text().split())
    assert outer.index("Contacts") < outer.casefold().index("carnet de bord")
    # Print shop: the same pages, A5 trim, 3 mm of bleed inside a larger media box; the cover's green runs past the trim.
    reader = PdfReader(tmp_path / "shop.pdf")
    assert shop == len(reader.pages) == pages
    for page in reader.pages:
        assert [round(float(v), 1) for v in (page.trimbox.width, page.trimbox.height)] == [round(v, 1) for v in A5]
        assert round(float(page.bleedbox.width) - float(page.trimbox.width), 1) == round(6 * MM, 1)
        assert float(page.mediabox.width) > float(page.bleedbox.width)
    subprocess.run(["pdftoppm", "-r", "72", "-png", "-f", "1", "-l", "1", str(tmp_path / "shop.pdf"),
                    str(tmp_path / "shop")], check=True)
    cover = Image.open(next(tmp_path.glob("shop-*.png"))).convert("RGB")
    trim = reader.pages[0].trimbox
    left = round(float(trim.left) - float(reader.pages[0].mediabox.left))
    assert cover.getpixel((left - 2, 200)) == cover.getpixel((left + 20, 200)) == (11, 110, 79)


def test_the_console_render_job_writes_the_carnet_and_refuses_personal_ones_without_a_list(app, demo):
    from carnet import jobs

    data_dir, url = app.config["DATA_DIR"], app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        db.engine.dispose()  # the job's process opens the database itself
    options = {"time_limit": 300, "locale": "fr", "starting_message": "…", "time_limit_message": "too long",
               "stopped_message": "stopped"}
    jobs.start(data_dir, url, "demo", "a5", booklet="carnet", **options)
    done = jobs.wait(data_dir, "demo", "a5", booklet="carnet", timeout=300)
    assert done["state"] == "done", done
    pdf = jobs.finished_pdf(data_dir, "demo", "a5", booklet="carnet")
    assert pdf is not None and len(PdfReader(pdf).pages) % 4 == 0
    jobs.start(data_dir, url, "demo", "personal", booklet="carnet", **options)
    over = jobs.wait(data_dir, "demo", "personal", booklet="carnet", timeout=300)
    assert over["state"] == "failed" and over["message"] == (
        "L’événement « Les Rouages de la Coopération » n’a pas de liste d’inscrits : importez-en une avant "
        "d’imprimer les carnets personnels.")
    assert jobs.finished_pdf(data_dir, "demo", "personal", booklet="carnet") is None


def test_a_registrant_without_a_personal_code_gets_a_carnet_without_a_qr_code(app, demo, tmp_path):
    ids = add_registrants(app, demo.id, [("Nadia Benali", "Collectif Est")])
    with app.app_context():
        db.session.get(Participant, ids[0]).badge = None
        db.session.commit()
    with app.test_request_context():
        written = carnet.write_personal(db.session.get(Event, demo.id), tmp_path / "out")
    assert pdf_pages(written[0])[1].casefold().startswith("ce carnet appartient à nadia benali collectif est")
    assert decoded(written[0], tmp_path, 2, 2)[2] == []
    assert "/p/" not in pdf_pages(written[0])[1]


def cafes_event(app, slug: str, extra: int, rounds: int, long_tables: bool = False):
    """The demo event with ``extra`` more world cafés, every world café of ``rounds`` rounds, imported."""
    spec = eventfile.load(demo_text(), registry())
    spec["slug"] = slug
    day = next(d for d in spec["programme"] if any(i.get("id") == "world-cafe-fonctions" for i in d["items"]))
    cafe = next(i for i in day["items"] if i.get("id") == "world-cafe-fonctions")
    cafe["settings"]["rounds"] = rounds
    if long_tables:  # names as long as a table's name may be (80 characters)
        for n, table in enumerate(cafe["settings"]["tables"]):
            table["name"] = f"{n + 1}. La table des coopérations territoriales et des tiers-lieux du Pays de Bray"[:80]
    for n in range(extra):
        day["items"].append({**cafe, "id": f"world-cafe-{n}", "title": f"{cafe['title']} : la reprise numéro {n + 2}",
                             "start": f"{18 + n}:00", "end": f"{18 + n}:45"})
    return import_file(app, eventfile.dump(spec))


def seat_everywhere(app, event_id: int, ids: list[int]) -> None:
    """Have the registrants join every world café and compute each one's rotation plan."""
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        cafes = [s for s in event.sessions if s.workshop == "world_cafe"]
        for cafe in cafes:
            for pid in ids:
                db.session.add(Attendance(session_id=cafe.id, participant_id=pid))
        db.session.commit()
        for cafe in cafes:
            registry()["world_cafe"].compute_plan(cafe, {})


@pytest.mark.parametrize(("extra", "rounds"), [(2, 3), (3, 10)], ids=["three-cafes", "four-cafes-ten-rounds"])
def test_personal_pages_fit_their_two_pages_with_many_world_cafes_and_long_names(app, tmp_path, extra, rounds):
    event = cafes_event(app, f"cafes-{extra}", extra, rounds)
    long_name = ("Marie-Françoise de La Tour d’Auvergne-Villeneuve " * 3)[:80]
    long_organisation = ("Coopérative d’intérêt collectif des tiers-lieux et ateliers partagés du Pays de Bray " * 2)[:120]
    people = [(long_name, long_organisation), ("Ana Sousa", "Réseau Est"), ("Bo Chen", None)]
    ids = add_registrants(app, event.id, people)
    seat_everywhere(app, event.id, ids)
    out = tmp_path / "carnets"
    with app.test_request_context():
        found = db.session.get(Event, event.id)
        written = carnet.write_personal(found, out)
        common_pages = carnet.write_pdf(found, tmp_path / "common.pdf")
    assert len(written) == len(people) + 1
    for path in written[:-1]:
        assert len(PdfReader(path).pages) == common_pages, path.name
    assert len(PdfReader(written[-1]).pages) == len(people) * common_pages
    owner = pdf_pages(written[0])[1]
    assert _words(long_name) in owner.replace("- ", "-") or long_name.split()[0] in owner
    assert owner.count("→") == (extra + 1) * (rounds - 1)


def test_personal_pages_that_cannot_fit_are_refused_naming_the_person(app, tmp_path):
    event = cafes_event(app, "trop-long", 3, 10, long_tables=True)
    ids = add_registrants(app, event.id, [("Ana Sousa", "Réseau Est"), ("W" * 80, "Organisation " * 9)])
    seat_everywhere(app, event.id, ids)
    with app.test_request_context(), pytest.raises(ServiceError) as refused:
        carnet.write_personal(db.session.get(Event, event.id), tmp_path / "out")
    assert refused.value.code == "personal_overflow" and "Ana Sousa" in str(refused.value.message)
    assert not list((tmp_path / "out").glob("*.pdf")) and not list((tmp_path / "out").glob(".*"))


def test_the_imposed_file_is_built_in_a_folder_the_next_render_sweeps(app, demo, tmp_path):
    from carnet import jobs
    from carnet.builds import build

    where = jobs.paths(tmp_path, "demo", "imposed", "carnet")
    where.pdf.parent.mkdir()
    output = where.pdf.parent / f".{where.pdf.stem}-k3y.part"  # as carnet/job.py names its output
    seen = set()
    with app.test_request_context():
        build(db.session.get(Event, demo.id), "carnet", "imposed", output,
              progress=lambda _m: seen.update(p.name for p in where.pdf.parent.glob(f".{where.pdf.stem}-*.build")))
    assert seen and all(name.startswith(".demo-carnet-imposed-k3y-") for name in seen)
    assert not list(where.pdf.parent.glob("*.build")) and output.is_file()


def test_a_plug_in_note_page_is_escaped_whatever_its_file_name(app, tmp_path, monkeypatch):
    from carnet.templating import carnet_page, environment

    page = tmp_path / "probe" / "carnet.j2"
    page.parent.mkdir()
    page.write_text("<h2>{{ session.title }}</h2>")

    class Probe(registry()["board"].__class__):
        slug = "probe"

        def carnet_template(self):
            return page

    monkeypatch.setitem(registry(), "probe", Probe())
    with app.test_request_context():
        html = environment().get_template(carnet_page("probe")).render(session={"title": "<script>x()</script>"})
    assert html == "<h2>&lt;script&gt;x()&lt;/script&gt;</h2>"


def test_the_bookmarks_list_each_workshop_once_and_each_day_with_its_theme(app, demo, tmp_path):
    out = tmp_path / "carnet.pdf"
    write(app, demo.id, out)
    reader = PdfReader(out)

    def titles(items) -> list[str]:
        return [t for item in items for t in (titles(item) if isinstance(item, list) else [item.title])]

    found = titles(reader.outline)
    for session in demo.sessions:
        assert found.count(session.title) == 1, (session.title, found)
    spec = eventfile.load(demo_text(), registry())
    with app.test_request_context():
        from flask_babel import force_locale

        from carnet.templating import day

        with force_locale("fr"):
            days = [f"{day(d['date'])} · {d['title']}" for d in spec["programme"] if d.get("title")]
    assert days and all(label in found for label in days), found


def test_a_bare_event_gets_a_carnet_that_promises_nothing_it_lacks(app, tmp_path):
    bare = import_file(app, "slug: nu\ntitle: Rencontre nue\nprogramme:\n  - date: \"2026-06-09\"\n    items:\n"
                            "      - start: \"09:00\"\n        end: \"12:00\"\n        title: Discussions libres\n")
    out = tmp_path / "carnet.pdf"
    pages = write(app, bare.id, out)
    text = pdf_pages(out)
    whole = "\n".join(text)
    assert pages % 4 == 0 and "Discussions libres" in whole
    assert "Chaque atelier a sa page" not in text[1] and "Les pages à la fin du carnet sont à vous" in text[1]
    contents = next(page for page in text if page.startswith("Sommaire"))
    assert "Contacts" not in contents and "Contacts" not in whole
    assert "Accueil" not in contents  # no welcome text, no description: no empty Welcome page
    assert all(page.strip() for page in text)


@pytest.mark.parametrize("a4", [False, True], ids=["A5", "A4"])
def test_a_world_cafe_of_twelve_tables_takes_notes_on_one_page(app, tmp_path, a4):
    spec = eventfile.load(demo_text(), registry())
    spec["slug"] = f"douze-tables-{'a4' if a4 else 'a5'}"
    cafe = next(i for day in spec["programme"] for i in day["items"] if i.get("id") == "world-cafe-fonctions")
    themes = [table["theme"] for table in cafe["settings"]["tables"]]
    cafe["settings"]["tables"] = [{"theme": themes[n % len(themes)], "name": f"Table numéro {n + 1} du grand salon"}
                                  for n in range(12)]
    imported = import_file(app, eventfile.dump(spec))
    out = tmp_path / "carnet.pdf"
    write(app, imported.id, out, a4=a4)
    text = pdf_pages(out)
    notes = [n for n, page in enumerate(text) if page.startswith(f"MES NOTES {cafe['title']}")]
    assert len(notes) == 1
    page = text[notes[0]]
    assert "Table numéro 1 du grand salon" in page and "Table numéro 12 du grand salon" in page
    assert "Table numéro" not in text[notes[0] + 1]  # nothing ran onto the next page
