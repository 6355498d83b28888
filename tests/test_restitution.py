"""The restitution booklet: its text read back from the PDF, its contents and bookmarks, the fetcher's sandbox, the web page."""

from __future__ import annotations

import http.server
import re
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.cli import cli
from app.extensions import db
from app.models import BookletText, Event, Session
from app.services import harvest, joining, moderation, posting, sessions, votes
from app.services.events import demo_text
from carnet import render
from carnet.restitution import write_pdf
from conftest import import_file, login

HOSTILE = '<img src="http://127.0.0.1:{port}/tracker.png"> et <link rel=stylesheet href="file:///etc/passwd">'


def _post(code, participant, client_id, text, tags):
    return posting.create_post(sessions.post_target(code), participant,
                               {"client_id": client_id, "text": text, "tags": tags})[0]


def populate(app, hostile_port: int = 1) -> dict:
    """Fill the demo's world café and idea tree: named and anonymous ideas, a harvest, votes, a merge, texts."""
    imported = import_file(app, demo_text())
    with app.test_request_context():
        event = db.session.get(Event, imported.id)
        cafe = next(s for s in event.sessions if s.workshop == "world_cafe")
        board = next(s for s in event.sessions if s.key == "arbres-a-idees")
        animation = next(t for t in cafe.tables if t.tags.get("function") == "animation")
        named = joining.join({"code": animation.code, "name": "Claire Dubois",
                              "organisation": "Tiers-lieu La Forge"}).participant
        anonymous = joining.join({"code": animation.code}).participant
        sessions.set_posting(cafe, True)
        liked = _post(animation.code, named, "restit-0001", "Un animateur salarié et formé", {"category": "missions"})
        _post(animation.code, anonymous, "restit-0002", "Des repas partagés entre membres", {"category": "actions"})
        duplicate = _post(animation.code, anonymous, "restit-0003", "Un poste d’animateur financé", {"category": "missions"})
        _post(animation.code, anonymous, "restit-0004", HOSTILE.format(port=hostile_port), {"category": "besoins"})
        hidden = _post(animation.code, anonymous, "restit-0005", "Texte masqué par la modération", {"category": "actions"})
        moderation.merge(cafe, duplicate["id"], liked["id"])
        moderation.set_hidden(cafe, hidden["id"], True)
        harvest.save(animation, "missions", "Incarner le projet collectif\nÊtre tiers de confiance")
        votes.open_vote(cafe, 5, 3)
        votes.cast(cafe, anonymous, {str(liked["id"]): 3})
        votes.close_vote(cafe)
        board_participant = joining.join({"code": board.code}).participant
        sessions.set_posting(board, True)
        _post(board.code, board_participant, "restit-0006", "Une charte de coopération signée par tous",
              {"movement": "amorcer", "function": "gestion_de_projet"})
        for section, body in {"origin": "Né de la démarche **DESIGN COOP** en 2021.",
                              f"retain:{cafe.key}": "- Une ingénierie *embarquée* dans les coopérations",
                              "perspectives": "Se retrouver en 2027 pour mesurer le chemin parcouru.",
                              "contacts": "Écrire à [l’équipe](mailto:equipe@example.org)."}.items():
            db.session.add(BookletText(event_id=event.id, section=section, body=body))
        db.session.commit()
        return {"id": event.id, "slug": event.slug, "cafe": cafe.title, "board": board.title}


def pdf_pages(path: Path) -> list[str]:
    """Return each page's text, spaces normalised."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def booklet(app, event_id: int, path: Path, **options) -> int:
    with app.test_request_context():
        return write_pdf(db.session.get(Event, event_id), path, **options)


class Tracker(http.server.BaseHTTPRequestHandler):
    """A loopback HTTP server that counts the requests a renderer would make to it."""

    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        Tracker.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def tracker():
    Tracker.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tracker)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_booklet_holds_every_section_with_the_events_content(app, tmp_path, tracker):
    event = populate(app, hostile_port=tracker)
    out = tmp_path / "r.pdf"
    pages = booklet(app, event["id"], out)
    text = pdf_pages(out)
    assert len(text) == pages > 10
    whole = "\n".join(text)
    # Cover, then every part named by the contents, in French (the event's language).
    assert "RESTITUTION" in text[0] and "Les Rouages de la Coopération" in text[0]
    assert "du jeudi 9 juin au vendredi 10 juin 2022" in text[0]
    for title in ("Origine et contexte", "Le programme tel qu’il s’est déroulé", event["cafe"], event["board"],
                  "La participation en chiffres", "Perspectives", "Contacts"):
        assert title in whole, title
    # The host's harvest is the main text, the ideas follow most-voted first with their dots, a merge counted once.
    animation = next(page for page in text if "Table Animation" in page and "Incarner le projet collectif" in page)
    assert animation.index("Incarner le projet collectif") < animation.index("Un animateur salarié et formé")
    assert "Un animateur salarié et formé (dit 2 fois) 3 gommettes" in animation
    assert "Un poste d’animateur financé" not in whole and "Texte masqué par la modération" not in whole
    # Organiser texts (Markdown) in their places; the event file's contacts.
    assert "Né de la démarche DESIGN COOP en 2021." in whole
    assert "À RETENIR" in whole and "Une ingénierie embarquée dans les coopérations" in whole
    assert "Se retrouver en 2027" in whole and "camille.morel@example.org" in whole and "l’équipe" in whole
    # No name next to ideas unless the organiser chose to show them.
    assert "Claire Dubois" not in whole
    assert "2 participants · 3 idées" in whole  # the world café, in the programme
    # A post that looks like markup is printed as text and fetches nothing.
    assert "tracker.png" in whole and "file:///etc/passwd" in whole and Tracker.hits == []
    # Figures: two people at the café and one at the board; ideas counted once (merge) and not when hidden.
    figures = next(page for page in text if page.startswith("La participation en chiffres") or "participants" in page
                   and "La participation en chiffres" in page)
    assert re.search(r"participants 3 structures 1 idées 4 gommettes placées 3", figures), figures


def test_the_contents_give_the_right_pages_and_the_pdf_is_a_designed_document(app, tmp_path):
    event = populate(app)
    out = tmp_path / "r.pdf"
    booklet(app, event["id"], out, tagged=True)
    reader = PdfReader(out)
    text = pdf_pages(out)
    contents = next(page for page in text if page.startswith("Sommaire")).removeprefix("Sommaire")
    listed = re.findall(r"([A-ZÀ-ÿ][^.\d]+?)\s*(?:\. )+\.?\s*(\d+)", contents)
    assert len(listed) >= 7, contents
    for title, number in listed:
        page = text[int(number) - 1]
        assert title.strip().rstrip(".").strip()[:20] in page, (title, number)
    # Bookmarks: one per part, nested tables under the world café.
    outline = [item.title if not isinstance(item, list) else "…" for item in reader.outline]
    assert "Contacts" in outline and event["cafe"] in outline
    # Metadata: title, author, language; the fonts shipped with Rouages are embedded.
    assert reader.metadata.title == "Les Rouages de la Coopération · Restitution"
    assert "Maison d’Economie Solidaire du Pays de Bray" in reader.metadata.author
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    fonts = {str(font.get_object()["/BaseFont"]) for page in reader.pages[:3]
             for font in page["/Resources"]["/Font"].values()}
    assert any("Inter" in name for name in fonts), fonts
    # A4, tagged for screen readers.
    assert [round(float(v)) for v in reader.pages[0].mediabox[2:]] == [595, 842]
    assert "/StructTreeRoot" in reader.trailer["/Root"]


def test_a5_and_names_shown_when_the_organiser_chooses(app, tmp_path):
    event = populate(app)
    with app.app_context():
        db.session.get(Event, event["id"]).show_names = True
        db.session.commit()
    out = tmp_path / "r.pdf"
    booklet(app, event["id"], out, a5=True)
    reader = PdfReader(out)
    assert [round(float(v)) for v in reader.pages[0].mediabox[2:]] == [420, 595]
    assert "/StructTreeRoot" not in reader.trailer["/Root"]  # the tagged variant is asked for
    assert "Un animateur salarié et formé (dit 2 fois) — Claire Dubois, Tiers-lieu La Forge 3 gommettes" in \
        "\n".join(pdf_pages(out))


def test_the_fetcher_refuses_the_network_and_files_outside_rouages(tmp_path, tracker):
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"not fetched")
    html = (f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{tracker}/style.css">'
            f'<style>@import url("http://127.0.0.1:{tracker}/import.css"); '
            f'body {{ background: url("http://127.0.0.1:{tracker}/bg.png") }}</style></head><body>'
            f'<img src="http://127.0.0.1:{tracker}/photo.jpg"><img src="file:///etc/passwd">'
            f'<img src="{outside.as_uri()}"><img src="file://127.0.0.1/etc/hostname">'
            f'<img src="{render.ASSETS.as_uri()}/../../app/data/demo.yaml"><p>Texte</p></body></html>')
    from carnet.fetcher import SandboxFetcher

    fetcher = SandboxFetcher([render.ASSETS])
    from weasyprint import HTML

    HTML(string=html, base_url=render.ASSETS.as_uri() + "/", url_fetcher=fetcher).write_pdf(tmp_path / "x.pdf")
    assert Tracker.hits == []
    assert sorted(fetcher.refused) == sorted([
        f"http://127.0.0.1:{tracker}/style.css", f"http://127.0.0.1:{tracker}/import.css",
        f"http://127.0.0.1:{tracker}/bg.png", f"http://127.0.0.1:{tracker}/photo.jpg", "file:///etc/passwd",
        outside.as_uri(), "file://127.0.0.1/etc/hostname", f"{render.ASSETS.as_uri()}/../../app/data/demo.yaml"])
    # What it may read, it reads: the shipped fonts.
    assert fetcher.fetch((render.ASSETS / "fonts" / "Inter-Regular.otf").as_uri()).read()[:4] == b"OTTO"


def test_the_web_page_is_private_until_published(app, tmp_path, organiser):
    event = populate(app)
    anonymous = app.test_client()
    assert anonymous.get(f"/e/{event['slug']}/restitution").status_code == 404
    assert anonymous.get("/e/no-such-event/restitution").status_code == 404
    signed_in = app.test_client()
    login(signed_in)
    page = signed_in.get(f"/e/{event['slug']}/restitution").get_data(as_text=True)
    assert "Page privée" in page and "Un animateur salarié et formé" in page and event["board"] in page
    assert "<img src=\"http://127.0.0.1" not in page and "&lt;img src=" in page
    with app.app_context():
        from app.models import utcnow

        db.session.get(Event, event["id"]).published_at = utcnow()
        db.session.commit()
    public = anonymous.get(f"/e/{event['slug']}/restitution")
    assert public.status_code == 200
    body = public.get_data(as_text=True)
    assert "Page privée" not in body and "Incarner le projet collectif" in body and "Claire Dubois" not in body


def read_texts(app) -> list[tuple]:
    with app.app_context():
        return [(t.section, t.body, t.updated_at) for t in db.session.query(BookletText).order_by(BookletText.section)]


def test_the_cli_writes_the_booklet_and_refuses_an_unknown_event(app, runner, tmp_path):
    populate(app)
    out = tmp_path / "cli.pdf"
    result = runner.invoke(cli, args=["restitution", "demo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert re.search(r"cli\.pdf: \d+ pages", result.output) and out.read_bytes()[:5] == b"%PDF-"
    # Regenerating keeps what the organisers wrote: the rows are untouched and the new booklet prints them again.
    rows = read_texts(app)
    again = tmp_path / "again.pdf"
    assert runner.invoke(cli, args=["restitution", "demo", "-o", str(again)]).exit_code == 0
    assert read_texts(app) == rows and len(rows) == 4
    assert "Se retrouver en 2027" in "\n".join(pdf_pages(again))
    missing = runner.invoke(cli, args=["restitution", "nothing-here", "-o", str(tmp_path / "no.pdf")])
    assert missing.exit_code == 1 and "No event has the slug 'nothing-here'" in missing.output
    assert not (tmp_path / "no.pdf").exists()


def test_every_session_of_the_demo_has_its_section(app, tmp_path):
    event = populate(app)
    with app.app_context():
        titles = [s.title for s in db.session.get(Event, event["id"]).sessions if not s.removed]
        assert db.session.query(Session).count() == len(titles)
    out = tmp_path / "r.pdf"
    booklet(app, event["id"], out)
    openers = [page for page in pdf_pages(out) if re.search(r"\d+ idées?", page)]
    for title in titles:
        assert any(title in page for page in openers), title


def test_the_booklet_follows_the_events_language(app, tmp_path):
    event = populate(app)
    with app.app_context():
        found = db.session.get(Event, event["id"])
        found.spec = {**found.spec, "language": "en"}
        db.session.commit()
    out = tmp_path / "en.pdf"
    booklet(app, event["id"], out)
    whole = "\n".join(pdf_pages(out))
    assert "Contents" in whole and "Sommaire" not in whole and "The programme as it happened" in whole
    assert "Un animateur salarié et formé (said 2 times) 3 dots" in whole and "2 participants · 3 ideas" in whole


def add_photos(app, event_id: int) -> dict:
    """Store two organiser photos of a phone's size in the world café's section, one of them then hidden."""
    import io

    from PIL import Image

    from app.models import Organiser
    from app.services import photos

    out = {}
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        organiser = db.session.query(Organiser).one()
        cafe = next(s for s in event.sessions if s.workshop == "world_cafe")
        for name, colour in (("shown", (11, 110, 79)), ("hidden", (180, 71, 31))):
            buffer = io.BytesIO()
            Image.new("RGB", (4000, 3000), colour).save(buffer, "JPEG", quality=95)
            buffer.seek(0)
            photo = photos.add_photo(event, buffer, f"Photo {name} de la table Animation", organiser=organiser)
            photos.update(photo, section=f"session:{cafe.key}", status="hidden" if name == "hidden" else None)
            out[name] = photo.filename
        db.session.commit()
    return out


def test_placed_photos_print_downsampled_with_their_caption(app, tmp_path, organiser):
    event = populate(app)
    added = add_photos(app, event["id"])
    out = tmp_path / "r.pdf"
    booklet(app, event["id"], out)
    reader = PdfReader(out)
    whole = "\n".join(pdf_pages(out))
    assert "Photo shown de la table Animation" in whole and "Photo hidden de la table Animation" not in whole
    images = list({image.name: image for page in reader.pages for image in page.images}.values())
    assert len(images) == 1
    # A 4000-pixel phone photo is printed from a copy made for the text's width (170 mm at print resolution).
    assert images[0].image.width <= 1700 and out.stat().st_size < 1_000_000
    # The web page links the organisers' copy while it is private, the public copy once published.
    signed_in = app.test_client()
    login(signed_in)
    page = signed_in.get(f"/e/{event['slug']}/restitution").get_data(as_text=True)
    assert re.search(r'src="/console/e/demo/photos/\d+\.jpg"', page) and added["hidden"] not in page
    with app.app_context():
        from app.models import utcnow

        db.session.get(Event, event["id"]).published_at = utcnow()
        db.session.commit()
    page = app.test_client().get(f"/e/{event['slug']}/restitution").get_data(as_text=True)
    assert f'src="/e/demo/photos/1200/{added["shown"]}"' in page
    served = app.test_client().get(f"/e/demo/photos/1200/{added['shown']}")
    served.close()
    assert served.status_code == 200 and served.mimetype == "image/jpeg"


def test_tables_sharing_a_theme_print_each_idea_once_with_every_tables_harvest(app, tmp_path):
    from conftest import DATA

    from workshops import registry

    imported = import_file(app, DATA / "cafe15.yaml")
    with app.test_request_context():
        event = db.session.get(Event, imported.id)
        cafe = event.sessions[0]
        first, second, _third = [t for t in cafe.tables if t.tags.get("function") == "animation"]
        person = joining.join({"code": first.code}).participant
        sessions.set_posting(cafe, True)
        _post(first.code, person, "shared-0001", "Un poste d’animation partagé entre trois structures",
              {"category": "missions"})
        harvest.save(first, "missions", "Salarier un animateur")
        harvest.save(second, "missions", "Former des bénévoles à l’animation")
        db.session.commit()
        data = registry()["world_cafe"].synthesise(db.session.get(Session, cafe.id))
        event_id = event.id
    animation = [t for t in data["tables"] if t["theme"] == "animation"]
    assert len(animation) == 1 and animation[0]["tables"] == ["Animation 1", "Animation 2", "Animation 3"]
    assert [p["text"] for t in data["tables"] for c in t["categories"] for p in c["posts"]] == \
        ["Un poste d’animation partagé entre trois structures"]
    assert animation[0]["categories"][0]["harvests"] == [{"table": "Animation 1", "text": "Salarier un animateur"},
                                                        {"table": "Animation 2", "text": "Former des bénévoles à l’animation"}]
    out = tmp_path / "r.pdf"
    booklet(app, event_id, out)
    whole = "\n".join(pdf_pages(out))
    assert whole.count("Un poste d’animation partagé entre trois structures") == 1
    assert "Tables Animation 1, Animation 2, Animation 3" in whole
    assert "ANIMATION 1 Salarier un animateur" in whole and "ANIMATION 2 Former des bénévoles à l’animation" in whole
