"""The organiser's texts of the restitution and its publication choices: stored, refused, kept, edited in the console."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import BookletText, Event, Organiser
from app.services import booklet
from app.services.errors import ServiceError
from carnet.markdown import to_html
from conftest import DATA, import_file, login

PAGE = "/console/e/petite-rencontre/booklet"
SLOTS = ["origin", "intro:world-cafe", "retain:world-cafe", "intro:arbres", "retain:arbres", "perspectives", "contacts"]


def get_event():
    return db.session.scalar(select(Event).where(Event.slug == "petite-rencontre"))


def organiser_row(email="orga@example.org"):
    return db.session.scalar(select(Organiser).where(Organiser.email == email))


def stored_rows(read) -> dict[str, str]:
    """Return every stored text row of every event: {section: body}."""
    return read(lambda: {row.section: row.body for row in db.session.scalars(select(BookletText))})


def csrf_of(http, path=PAGE) -> str:
    page = http.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]


def refusal(fn) -> ServiceError:
    """Run fn and return the ServiceError it raises (the test fails if it raises none)."""
    with pytest.raises(ServiceError) as caught:
        fn()
    return caught.value


# The domain ---------------------------------------------------------------------------------------------------

def test_texts_are_stored_cleaned_and_returned_in_booklet_order(read, event, organiser):
    def write():
        ev, who = get_event(), organiser_row()
        booklet.set_text(ev, "perspectives", "Rendez-vous **en 2027**.\r\nÀ bientôt\ret merci\r", who)
        stored = booklet.set_text(ev, "origin", "  Un projet\x07 né en \ud83d 2024.\n\n", who)
        return stored, booklet.texts(ev), who.id

    stored, texts, who = read(write)
    assert stored == "Un projet né en \ufffd 2024."
    assert texts == {"origin": "Un projet né en \ufffd 2024.", "perspectives": "Rendez-vous **en 2027**.\nÀ bientôt\net merci"}
    assert list(texts) == ["origin", "perspectives"]
    assert read(lambda: sorted((r.section, r.updated_by_id) for r in db.session.scalars(select(BookletText)))) == [
        ("origin", who), ("perspectives", who)]


def test_an_empty_text_deletes_its_row(read, event, organiser):
    read(lambda: booklet.set_text(get_event(), "retain:arbres", "- Une idée", organiser_row()))
    assert stored_rows(read) == {"retain:arbres": "- Une idée"}
    assert read(lambda: booklet.set_text(get_event(), "retain:arbres", " \r\n ", organiser_row())) == ""
    assert stored_rows(read) == {}
    assert read(lambda: booklet.texts(get_event())) == {}


@pytest.mark.parametrize("key", ["intro:nope", "retain:", "session:world-cafe", "programme", "", None, 3])
def test_an_unknown_slot_is_refused_and_nothing_is_stored(read, event, organiser, key):
    error = read(lambda: refusal(lambda: booklet.set_text(get_event(), key, "Texte", organiser_row())))
    assert error.code == "unknown_section"
    assert "Texte" not in str(error.message) and str(error.message)
    # Several at once: one unknown slot stores none of them.
    error = read(lambda: refusal(lambda: booklet.set_texts(get_event(), {"origin": "Bon", key: "x"}, None)))
    assert error.code == "unknown_section"
    assert stored_rows(read) == {}


def test_a_too_long_text_is_refused_and_nothing_is_stored(read, event, organiser):
    longest = "é" * booklet.MAX_TEXT
    error = read(lambda: refusal(lambda: booklet.set_texts(
        get_event(), {"origin": "Court", "perspectives": longest + "!"}, organiser_row())))
    assert (error.code, error.details["keys"]) == ("text_too_long", ["perspectives"])
    assert "20" in str(error.message)
    assert stored_rows(read) == {}
    # The limit itself is accepted, counted after line endings are normalised.
    read(lambda: booklet.set_text(get_event(), "perspectives", longest, organiser_row()))
    read(lambda: booklet.set_text(get_event(), "origin", "a\r\n" * (booklet.MAX_TEXT // 2 - 1) + "a", organiser_row()))
    assert len(stored_rows(read)["perspectives"]) == booklet.MAX_TEXT
    error = read(lambda: refusal(lambda: booklet.set_text(get_event(), "origin", b"bytes", organiser_row())))
    assert error.code == "invalid_field"


def test_texts_survive_reimporting_the_event_file_and_a_retired_session_keeps_its_own(app, read, event, organiser):
    everything = {key: f"Texte de {key}" for key in SLOTS}
    read(lambda: booklet.set_texts(get_event(), everything, organiser_row()))
    import_file(app, DATA / "small.yaml")
    assert read(lambda: booklet.texts(get_event())) == everything
    # The file without the idea trees: their session is retired, their texts leave the booklet but stay stored…
    without = (DATA / "small.yaml").read_text("utf-8").split("      - id: arbres")[0]
    import_file(app, without)
    assert read(lambda: booklet.texts(get_event())) == {k: v for k, v in everything.items() if "arbres" not in k}
    assert read(lambda: [s["key"] for s in booklet.text_slots(get_event())]) == [k for k in SLOTS if "arbres" not in k]
    error = read(lambda: refusal(lambda: booklet.set_text(get_event(), "intro:arbres", "x", organiser_row())))
    assert error.code == "unknown_section"
    # …and come back with the session.
    import_file(app, DATA / "small.yaml")
    assert read(lambda: booklet.texts(get_event())) == everything


def test_options_publish_keep_the_first_date_and_withdraw(read, event):
    def options(**choices):
        ev = get_event()
        booklet.set_options(ev, **choices)
        return ev.published_at, ev.show_names, ev.participant_photos

    assert read(lambda: (get_event().published_at, get_event().show_names, get_event().participant_photos)) == (
        None, False, False)
    published, names, photos = read(lambda: options(published=True, show_names=True, participant_photos=False))
    assert isinstance(published, datetime) and (names, photos) == (True, False)
    assert (datetime.utcnow() - published).total_seconds() < 60  # noqa: DTZ003 (stored naive UTC)
    assert read(lambda: options(published=True, show_names=False, participant_photos=True)) == (published, False, True)
    assert read(lambda: options(published=False, show_names=False, participant_photos=True)) == (None, False, True)
    error = read(lambda: refusal(lambda: options(published="yes", show_names=True, participant_photos=True)))
    assert error.code == "invalid_field"
    assert read(lambda: (get_event().published_at, get_event().show_names)) == (None, False)


# The console page ---------------------------------------------------------------------------------------------

def test_the_booklet_page_sends_anonymous_visitors_to_sign_in(client, event, read):
    token = csrf_of(client, "/login")  # past the CSRF check, to reach the sign-in requirement
    for method, path in (("GET", PAGE), ("POST", PAGE + "/texts"), ("POST", PAGE + "/options")):
        response = client.open(path, method=method, data={"csrf_token": token, "body-origin": "x", "published": "y"}
                               if method == "POST" else None)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path
    assert stored_rows(read) == {} and read(lambda: get_event().published_at) is None


def test_the_booklet_page_shows_every_slot_in_booklet_order_with_its_text(client, organiser, event, read):
    read(lambda: booklet.set_text(get_event(), "retain:world-cafe", "- Une <idée>", organiser_row()))
    login(client)
    console = client.get("/console/").get_data(as_text=True)
    assert f'href="{PAGE}"' in console
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.findall(r'<textarea[^>]* name="body-([^"]+)"', page) == SLOTS
    assert re.search(r'name="body-retain:world-cafe"[^>]*>- Une &lt;idée&gt;</textarea>', page)
    assert "Restitution" in page and "Arbres à idées" in page
    assert "**gras**, *italique*, listes avec -" in page
    assert "http://127.0.0.1:5999/e/petite-rencontre/restitution" not in page  # private
    assert client.get("/console/e/nope/booklet").status_code == 404


def test_texts_saved_from_the_page_are_stored(client, organiser, event, read):
    login(client)
    form = {"csrf_token": csrf_of(client), "action": "save", "body-origin": "Né à Lille\r\n\r\n- un\r\n- deux",
            "body-perspectives": "", "shown-origin": booklet.version(""), "body-unknown": "ignored"}
    response = client.post(PAGE + "/texts", data=form)
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    assert stored_rows(read) == {"origin": "Né à Lille\n\n- un\n- deux"}
    assert "1 texte enregistré" in client.get(PAGE).get_data(as_text=True)
    # The restitution's web page prints it, rendered.
    web = client.get("/e/petite-rencontre/restitution").get_data(as_text=True)
    assert "<p>Né à Lille</p>\n<ul>\n<li>un</li>\n<li>deux</li>\n</ul>" in web


def test_every_slot_full_is_saved_in_one_multipart_form_as_the_page_sends_it(client, organiser, event, read):
    login(client)
    page = client.get(PAGE).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    full = {f"body-{key}": f"{n}" + "é😀"[n % 2] * (booklet.MAX_TEXT - 1) for n, key in enumerate(SLOTS)}
    response = client.post(PAGE + "/texts", data={"csrf_token": csrf_of(client), "action": "save", **full},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert stored_rows(read) == {key: full[f"body-{key}"] for key in SLOTS}


def test_a_text_left_as_shown_never_overwrites_one_saved_meanwhile(client, organiser, event, read):
    login(client)
    token = csrf_of(client)  # the page as it was: every slot empty
    read(lambda: booklet.set_text(get_event(), "origin", "Écrit par une collègue", organiser_row()))
    empty = booklet.version("")
    client.post(PAGE + "/texts", data={"csrf_token": token, "action": "save", "body-origin": "", "shown-origin": empty,
                                       "body-contacts": "Camille", "shown-contacts": empty})
    assert stored_rows(read) == {"origin": "Écrit par une collègue", "contacts": "Camille"}
    # Both changed the same text: refused, the typed text and the other version are shown, nothing stored.
    response = client.post(PAGE + "/texts", data={"csrf_token": token, "action": "save", "body-origin": "Ma version",
                                                  "shown-origin": empty})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert re.search(r'name="body-origin"[^>]*>Ma version</textarea>', page)
    assert "Écrit par une collègue" in page and 'aria-invalid="true"' in page
    assert stored_rows(read)["origin"] == "Écrit par une collègue"
    # Saved again from that page (which now shows the colleague's version as the base): theirs is replaced.
    shown = re.search(r'name="shown-origin" value="([^"]+)"', page)[1]
    client.post(PAGE + "/texts", data={"csrf_token": token, "action": "save", "body-origin": "Ma version",
                                       "shown-origin": shown})
    assert stored_rows(read)["origin"] == "Ma version"


def test_a_script_saving_a_text_gets_the_outcome_and_the_stored_version_as_json(client, organiser, event, read):
    login(client)
    token, empty = csrf_of(client, "/console/s/" + read(lambda: get_event().sessions[0].code)), booklet.version("")
    json_form = {"headers": {"Accept": "application/json"}}
    saved = client.post(PAGE + "/texts", data={"csrf_token": token, "action": "save", "body-retain:world-cafe": "- Une idée\r\n",
                                               "shown-retain:world-cafe": empty}, **json_form)
    assert saved.status_code == 200
    assert saved.json == {"ok": True, "changed": ["retain:world-cafe"], "texts": {"retain:world-cafe": {
        "body": "- Une idée", "version": booklet.version("- Une idée")}}}
    # Written from a version since replaced: refused in words, with the text as stored now to compare.
    refused = client.post(PAGE + "/texts", data={"csrf_token": token, "action": "save",
                                                 "body-retain:world-cafe": "Autre", "shown-retain:world-cafe": empty},
                          **json_form)
    assert refused.status_code == 409
    assert refused.json["ok"] is False and refused.json["error"]["code"] == "text_conflict"
    assert refused.json["error"]["message"].startswith("Quelqu’un d’autre a enregistré ce texte")
    assert refused.json["texts"]["retain:world-cafe"]["body"] == "- Une idée"
    assert stored_rows(read) == {"retain:world-cafe": "- Une idée"}


def test_a_too_long_text_from_the_page_is_refused_and_what_was_typed_stays(client, organiser, event, read):
    login(client)
    text = "x" * (booklet.MAX_TEXT + 1)
    response = client.post(PAGE + "/texts", data={"csrf_token": csrf_of(client), "action": "save",
                                                  "body-origin": "Court", "body-contacts": text})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "20\u202f000" in page or "20 000" in page or "20000" in page
    assert text in page and re.search(r'name="body-origin"[^>]*>Court</textarea>', page)
    assert stored_rows(read) == {}


def test_the_preview_shows_the_rendered_texts_without_saving_them(client, organiser, event, read):
    login(client)
    response = client.post(PAGE + "/texts", data={
        "csrf_token": csrf_of(client), "action": "preview",
        "body-origin": "# Titre\n**gras** <script>alert(1)</script> ![photo](http://127.0.0.1:9/x.png)"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h3>Titre</h3>" in page and "<strong>gras</strong>" in page
    assert "<script>alert(1)" not in page and "127.0.0.1:9/x.png\"" not in page and "<img" not in page
    assert re.search(r'name="body-origin"[^>]*># Titre\n', page)
    assert stored_rows(read) == {}


def test_options_saved_from_the_page_publish_and_withdraw(app, client, organiser, event, read):
    login(client)
    response = client.post(PAGE + "/options", data={"csrf_token": csrf_of(client), "published": "y",
                                                    "show_names": "y"})
    assert response.status_code == 302
    assert read(lambda: (get_event().published_at is not None, get_event().show_names,
                         get_event().participant_photos)) == (True, True, False)
    page = client.get(PAGE).get_data(as_text=True)
    assert 'href="http://127.0.0.1:5999/e/petite-rencontre/restitution"' in page
    assert app.test_client().get("/e/petite-rencontre/restitution").status_code == 200  # anyone, once published
    assert re.search(r'<input checked id="published"|<input[^>]*id="published"[^>]*checked', page)
    client.post(PAGE + "/options", data={"csrf_token": csrf_of(client), "participant_photos": "y"})
    assert read(lambda: (get_event().published_at, get_event().show_names, get_event().participant_photos)) == (
        None, False, True)
    assert "http://127.0.0.1:5999/e/petite-rencontre/restitution" not in client.get(PAGE).get_data(as_text=True)
    assert app.test_client().get("/e/petite-rencontre/restitution").status_code == 404


@pytest.mark.parametrize("path,data", [
    ("/texts", {"action": "save", "body-origin": "Sans jeton"}),
    ("/options", {"published": "y", "show_names": "y", "participant_photos": "y"}),
])
def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(client, organiser, event, read, path, data):
    login(client)
    before = read(lambda: (get_event().published_at, get_event().show_names, get_event().participant_photos))
    for token in (None, "not-a-token"):
        response = client.post(PAGE + path, data={**data, **({"csrf_token": token} if token else {})})
        assert response.status_code == 400
    assert stored_rows(read) == {}
    assert read(lambda: (get_event().published_at, get_event().show_names, get_event().participant_photos)) == before


# Markdown ------------------------------------------------------------------------------------------------------

class Markup(HTMLParser):
    """Collects the elements and attributes of an HTML fragment."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


ALLOWED = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h3", "h4", "h5", "h6", "blockquote", "code", "pre", "hr"}
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "![x](http://127.0.0.1:9/tracker.png)",
    "[a](javascript:alert(1))",
    '<img src="file:///etc/passwd">',
    "[b](JAVASCRIPT:alert(1)) [c](java&#x09;script:alert(1)) [d]( javascript:alert(1))",
    "[e](data:text/html;base64,PHNjcmlwdD4=) [f](file:///etc/passwd) [g](/console/) [h](//evil.example/)",
    "[r]\n\n[r]: javascript:alert(1)",
    "<https://ok.example/\"onmouseover=\"x> <javascript:alert(1)>",
    '[q](https://ok.example "t" onclick="alert(1)")',
    "[![x](http://127.0.0.1:9/a.png)](https://ok.example/)",
    "<iframe src=https://evil.example></iframe><style>*{}</style><link rel=stylesheet href=x>",
    "<div onclick=alert(1)>x</div>\n\n<svg><script>alert(1)</script></svg>",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_markdown_leaves_no_markup_that_runs_or_fetches(body):
    html = str(to_html(body))
    for tag, attrs in Markup(html).tags:
        assert tag in ALLOWED, (tag, html)
        assert set(attrs) <= ({"href"} if tag == "a" else set()), (tag, attrs, html)
        if tag == "a":
            assert re.match(r"(https?://[^/\s]|mailto:)", attrs["href"]), html
    assert not re.search(r"<(script|img|iframe|style|link|svg|div)", html, re.I), html


def test_markdown_keeps_simple_formatting_demotes_headings_and_allows_web_and_mail_links():
    html = str(to_html("# Titre\n## Sous-titre\n#### Quatre\n**gras**, *italique*\n- un\n- deux\n\n"
                       "[site](https://example.org/a?b=1&c=2) [écrire](mailto:contact@example.org) "
                       "![Une photo *du* jour](https://example.org/p.jpg)"))
    assert "<h3>Titre</h3>" in html and "<h4>Sous-titre</h4>" in html and "<h6>Quatre</h6>" in html
    assert "<h1" not in html and "<h2" not in html
    assert "<strong>gras</strong>, <em>italique</em>" in html and "<li>un</li>" in html
    assert '<a href="https://example.org/a?b=1&amp;c=2">site</a>' in html
    assert '<a href="mailto:contact@example.org">écrire</a>' in html
    assert "Une photo du jour" in html and "p.jpg" not in html
    assert str(to_html("")) == "" and to_html("x").__html__() == "<p>x</p>\n"
