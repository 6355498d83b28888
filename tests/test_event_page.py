"""The event's public page (/e/<slug>): programme, now and next, guests, sheets, join links, contacts, offline copy."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from app.cli import cli
from app.services import eventfile
from app.services.eventpage import now_and_next
from app.services.events import demo_text, export_event, get_event, import_event
from conftest import PUBLIC_URL, import_file, login
from workshops import registry

DEMO = yaml.safe_load(demo_text())
PARIS = ZoneInfo("Europe/Paris")


def text_of(page: str) -> str:
    """Return a page's visible text, tags removed and entities decoded, spaces collapsed."""
    page = re.sub(r"<script\b.*?</script>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


class _Element(HTMLParser):
    """Collect the text inside the element with a given id."""

    VOID = {"br", "img", "input", "meta", "link", "hr"}

    def __init__(self, ident: str):
        super().__init__()
        self.ident, self.depth, self.found, self.parts = ident, 0, False, []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.ident:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def section(page: str, ident: str) -> str:
    """Return the visible text of the element with this id, spaces collapsed."""
    parser = _Element(ident)
    parser.feed(page)
    assert parser.found, ident
    return " ".join(" ".join(parser.parts).split())


def write_event(tmp_path, text: str, name: str = "event.yaml"):
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def demo(app):
    """The demo event, imported."""
    return import_file(app, demo_text())


def midday_event(now: datetime | None = None) -> tuple[str, str]:
    """Return (event file, venue date) for an event held today in a time zone where it is now 12:xx.

    Etc/GMT zones cover every whole-hour offset, so the test never depends on the hour it runs at.
    """
    now = now or datetime.now(UTC)
    offset = 12 - now.hour  # from -11 to +12
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX signs: Etc/GMT-2 is two hours ahead of UTC
    today = now.astimezone(ZoneInfo(zone)).date().isoformat()
    return f"""
slug: midi
title: Rencontre de midi
timezone: {zone}
programme:
  - date: "{today}"
    items:
      - {{id: matin, start: "08:00", end: "09:00", title: Atelier du matin, workshop: board, question: "Le matin ?"}}
      - {{id: midi, start: "11:00", end: "14:00", title: Atelier en cours, workshop: board, question: "À midi ?"}}
      - {{start: "14:00", end: "14:30", title: Pause café, kind: break, room: Patio}}
      - {{id: soir, start: "16:00", end: "17:00", title: Atelier du soir, workshop: board, question: "Le soir ?"}}
""", today


# The clock, tested directly ---------------------------------------------------------------------------------------

def _titles(found: dict) -> tuple[list[str], list[str]]:
    return [i["title"] for i in found["now"]], [i["title"] for i in found["next"]]


def test_now_and_next_follow_the_demo_programme_at_the_venue():
    spec = DEMO
    at = lambda day, hour, minute: datetime(2022, 6, day, hour, minute, tzinfo=PARIS)  # noqa: E731
    assert _titles(now_and_next(spec, at(9, 14, 10))) == (["World café des cinq fonctions"], ["Pause"])
    assert _titles(now_and_next(spec, at(9, 13, 45))) == (["World café des cinq fonctions"], ["Pause"])
    # An item ends when the next begins: at 15:30 the café is over and the break is on.
    assert _titles(now_and_next(spec, at(9, 15, 30))) == (["Pause"], ["Arbres à idées, les coopérations en mouvement"])
    assert _titles(now_and_next(spec, at(9, 18, 30))) == ([], ["Soirée festive"])
    # After the first day's last item, the next is the second day's first.
    assert _titles(now_and_next(spec, at(9, 23, 30))) == ([], ["Accueil de la seconde journée"])
    assert _titles(now_and_next(spec, at(10, 16, 0))) == (["Clôture et perspectives"], [])
    assert _titles(now_and_next(spec, at(10, 16, 30))) == ([], [])
    assert _titles(now_and_next(spec, at(8, 23, 59))) == ([], [])
    assert _titles(now_and_next(spec, datetime(2023, 6, 9, 14, 10, tzinfo=PARIS))) == ([], [])


def test_now_and_next_read_the_programme_in_the_events_time_zone():
    # 12:10 UTC is 14:10 in Paris (summer time): the world café.
    assert _titles(now_and_next(DEMO, datetime(2022, 6, 9, 12, 10, tzinfo=UTC)))[0] == ["World café des cinq fonctions"]
    # The same instant in Montreal is 08:10: before the welcome.
    montreal = {**DEMO, "timezone": "America/Montreal"}
    found = now_and_next(montreal, datetime(2022, 6, 9, 12, 10, tzinfo=UTC))
    assert _titles(found) == ([], ["Accueil et ouverture des rencontres"])
    with pytest.raises(ValueError):
        now_and_next(DEMO, datetime(2022, 6, 9, 14, 10))


def test_next_compares_times_as_times_not_as_text():
    spec = {"programme": [{"date": "2022-06-09", "items": [
        {"start": "10:00", "end": "11:00", "title": "Dix heures"},
        {"start": "9:30", "end": "10:00", "title": "Neuf heures et demie"}]}]}
    assert _titles(now_and_next(spec, datetime(2022, 6, 9, 8, 0, tzinfo=PARIS))) == ([], ["Neuf heures et demie"])


# The page through the application ---------------------------------------------------------------------------------

def test_the_page_holds_every_programme_item_guest_sheet_and_organiser_of_the_demo(client, demo):
    response = client.get("/e/demo", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = text_of(page)
    assert '<html lang="fr">' in page  # the event's language, whatever the browser's
    for day in DEMO["programme"]:
        for item in day["items"]:
            assert html.escape(item["title"], quote=False) in page, item["title"]
            assert f"{item['start']} {item['end']}" in text
        if day.get("title"):
            assert day["title"] in text
    for guest in DEMO["guests"]:
        assert guest["name"] in section(page, "guests")
        assert " ".join(guest["presentation"].split()) in text
    for sheet in DEMO["sheets"]:
        assert f'id="sheet-{sheet["key"]}"' in page
        assert sheet["title"] in section(page, "sheets")
    contacts = section(page, "contacts")
    for person in DEMO["organisers"]:
        assert person["name"] in contacts and person["email"] in contacts
        assert f'href="mailto:{person["email"]}"' in page
    # Speakers and duos are in the page, folded: each duo (drawn by its format) with its presenters and summary.
    assert "Anne-Laure Federici" in text
    duos = next(item for day in DEMO["programme"] for item in day["items"] if item.get("workshop") == "duo")
    folded = section(page, "item-2022-06-10-duos")
    assert page.count('<div class="agenda__panel">') == len(duos["duos"]) == 4
    for duo in duos["duos"]:
        assert duo["title"] in folded and duo["cooperation"]["name"] in folded and duo["authority"]["name"] in folded
        assert " ".join(duo["summary"].split()) in folded
    assert "jeudi 9 juin au vendredi 10 juin 2022" in text and "L’Hermitage, Autrêches (Oise)" in text
    for label in ("Programme", "Invités", "Fiches thématiques", "Contacts", "Tiers-lieu", "Table ronde", "World café"):
        assert label in text
    assert "Restitution" not in text  # not published
    # Long ago: nothing is on now, no session is joinable.
    assert 'id="now" aria-labelledby="now-title" hidden' in page and 'href="/j/' not in page
    assert response.headers["Cache-Control"] == "no-cache"


def test_an_english_event_gets_english_labels(client, app, tmp_path):
    english = demo_text().replace("language: fr", "language: en").replace("slug: demo", "slug: demo-en")
    import_file(app, write_event(tmp_path, english))
    page = client.get("/e/demo-en", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    text = text_of(page)
    assert '<html lang="en">' in page
    assert "Thursday 9 June to Friday 10 June 2022" in text
    for label in ("Thematic sheets", "Guests", "Round table", "Third place", "Meal", "About the event"):
        assert label in text
    for french in ("Fiches thématiques", "Invités", "Table ronde"):
        assert french not in text


def test_a_kind_named_after_a_format_is_labelled_with_its_title_without_running_it(client, app, tmp_path):
    text = ('slug: kinds\ntitle: Rencontre\nprogramme:\n  - date: "2026-06-09"\n    items:\n'
            '      - {start: "09:00", end: "10:00", title: Débat, kind: round_table}\n'
            '      - {start: "10:00", end: "11:00", title: Récits, kind: duo}\n'
            '      - {start: "11:00", end: "12:00", title: Repas, kind: meal}\n')
    import_file(app, write_event(tmp_path, text))
    page = client.get("/e/kinds").get_data(as_text=True)
    metas = re.findall(r'<p class="agenda__meta">([^<]*)</p>', page)
    assert metas == ["Table ronde", "Retours d’expérience en duo", "Repas"]


def test_the_restitution_is_linked_once_published(client, app, demo):
    from app.services.booklet import set_options

    assert "/e/demo/restitution" not in client.get("/e/demo").get_data(as_text=True)
    with app.app_context():
        set_options(get_event("demo"), published=True, show_names=False, participant_photos=False)
    page = client.get("/e/demo").get_data(as_text=True)
    assert page.count('href="/e/demo/restitution"') == 2  # in the contents and at the end
    assert "Lire la restitution" in text_of(page)


def test_the_page_names_nobody_so_that_its_offline_copy_does_not_either(client, app, demo):
    code = demo.sessions[0].code
    ack = client.post(f"/api/sessions/{code}/join", json={"name": "Léonie Vasseur"}).get_json()
    client.set_cookie("rouages_participant", ack["participant"]["token"])
    page = client.get("/e/demo").get_data(as_text=True)
    assert "Léonie" not in page and "Bonjour" not in page.replace("Bonjour %(name)s", "")
    # static/js/event.js fills the greeting from what the phone keeps.
    assert '<p class="event__greeting" id="greeting" data-hello="Bonjour %(name)s" data-slug="demo" hidden></p>' \
        in page


def test_an_unknown_event_is_not_found(client, demo):
    assert client.get("/e/nowhere").status_code == 404
    assert client.get("/e/nowhere/sw.js").status_code == 404
    assert client.get("/e/<script>").status_code == 404


def test_hostile_text_in_the_event_file_is_shown_never_run(client, app, tmp_path):
    hostile = yaml.safe_load(demo_text())
    hostile["guests"][0]["presentation"] = 'Un tiers-lieu <script>alert("x")</script> <img src=x onerror=alert(1)>'
    hostile["guests"][0]["website"] = "javascript:alert(1)"
    hostile["guests"][1]["website"] = "www.emergence.example"
    hostile["sheets"][0]["title"] = "</summary><b>Fiche</b>"
    hostile["organisers"][0]["phone"] = '" onclick="alert(1)'
    import_file(app, write_event(tmp_path, eventfile.dump(hostile)))
    page = client.get("/e/demo").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>Fiche</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;/summary&gt;&lt;b&gt;Fiche&lt;/b&gt;" in page
    assert 'href="javascript:' not in page and "javascript:alert(1)" in text_of(page)
    assert 'href="https://www.emergence.example"' in page
    assert 'onclick="alert' not in page


def test_join_links_show_for_open_sessions_of_the_day_and_never_for_retired_ones(client, app, tmp_path, console):
    text, today = midday_event()
    event = import_file(app, write_event(tmp_path, text))
    codes = {s.key: s.code for s in event.sessions}
    join = lambda: section(client.get("/e/midi").get_data(as_text=True), "join-title")  # noqa: E731
    page = client.get("/e/midi").get_data(as_text=True)
    # Boards are open from their import: today, each one can be joined.
    for key in ("matin", "midi", "soir"):
        assert f'href="/j/{codes[key]}"' in page
    assert "Rejoindre un atelier" in join()
    ack = console.emit("session_open", {"code": codes["soir"], "open": False}, callback=True)
    assert ack["is_open"] is False
    page = client.get("/e/midi").get_data(as_text=True)
    assert f'href="/j/{codes["soir"]}"' not in page and f'href="/j/{codes["matin"]}"' in page
    # Closed but under way now (a world café's welcome): still joinable.
    console.emit("session_open", {"code": codes["midi"], "open": False}, callback=True)
    assert f'href="/j/{codes["midi"]}"' in client.get("/e/midi").get_data(as_text=True)
    console.emit("session_open", {"code": codes["soir"], "open": True}, callback=True)
    assert f'href="/j/{codes["soir"]}"' in client.get("/e/midi").get_data(as_text=True)
    # Dropped from the file: retired, gone from the page although its posting is still open.
    without = re.sub(r"      - \{id: matin.*\n", "", text)
    import_file(app, write_event(tmp_path, without, "again.yaml"))
    page = client.get("/e/midi").get_data(as_text=True)
    assert f'/j/{codes["matin"]}' not in page and "Atelier du matin" not in page
    assert f'href="/j/{codes["soir"]}"' in page


def test_the_page_shows_what_is_on_now_and_next_at_the_venue(client, app, tmp_path):
    text, today = midday_event()
    import_file(app, write_event(tmp_path, text))
    page = client.get("/e/midi").get_data(as_text=True)
    now = section(page, "now-body")
    assert "En ce moment Atelier en cours jusqu’à 14:00" in now
    assert "Ensuite Pause café à 14:00 · Patio" in now
    assert re.search(r'class="agenda__item agenda__item--workshop agenda__item--now" id="item-[^"]+-midi"', page)
    # static/js/event.js compares it with what it computes, and leaves a page that is still right alone.
    assert re.search(rf'data-shown="item-{today}-midi\|item-{today}-pause-cafe\|{today}"', page)


def test_the_service_worker_keeps_only_the_page_and_its_files(client, demo):
    response = client.get("/e/demo/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/e/demo"
    first = response.get_data(as_text=True).splitlines()[0]
    assert first == ('const KEEP = ["/e/demo", "/static/css/base.css", "/static/css/event.css", '
                     '"/static/js/event.js", "/static/js/page.js"];')
    assert re.fullmatch(r'const VERSION = "[0-9a-f]{16}";', response.get_data(as_text=True).splitlines()[1])
    for path in ("/static/css/event.css", "/static/js/event.js", "/static/js/page.js"):
        with client.get(path) as asset:
            assert asset.status_code == 200
    assert "worker-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_timezone_round_trips_through_export_and_import(app, tmp_path):
    text = demo_text().replace("language: fr", "language: fr\ntimezone: America/Montreal")
    with app.app_context():
        event, _counts = import_event(text, registry())
        exported = export_event(event)
        assert "timezone: America/Montreal" in exported
        again, counts = import_event(exported, registry())
        assert again.spec["timezone"] == "America/Montreal" and counts["details_updated"] is False
        assert eventfile.timezone(get_event("demo").spec) == ZoneInfo("America/Montreal")
    assert eventfile.timezone(DEMO) == ZoneInfo("Europe/Paris")


def test_an_unknown_timezone_is_refused_with_its_line():
    text = demo_text().replace("language: fr", "language: fr\ntimezone: Europe/Autreches")
    line = text.splitlines().index("timezone: Europe/Autreches") + 1
    with pytest.raises(eventfile.EventFileError) as refused:
        eventfile.load(text, registry())
    assert [str(p) for p in refused.value.problems] == [
        f"timezone: 'Europe/Autreches' is not a time zone: give an IANA name such as Europe/Paris, America/Montreal "
        f"or Africa/Dakar (line {line})"]
    for bad in ("../../etc/passwd", "zone.tab", ""):
        data, lines = eventfile.parse(demo_text())
        assert eventfile.check({**data, "timezone": bad}, lines, registry()), bad


def test_the_page_is_linked_from_the_phone_the_home_page_the_console_and_the_cli(client, app, runner, demo, organiser):
    code = demo.sessions[0].code
    assert 'href="/e/demo"' in client.get(f"/j/{code}").get_data(as_text=True)
    assert 'href="/e/demo"' in client.get("/").get_data(as_text=True)
    login(client)
    console = client.get("/console/").get_data(as_text=True)
    assert f'Page de l’événement\u00a0: <a href="/e/demo">{PUBLIC_URL}/e/demo</a>' in console
    assert runner.invoke(cli, args=["sessions", "demo"]).output.splitlines()[0] == f"Event page: {PUBLIC_URL}/e/demo"


def test_the_home_page_links_no_event_page_when_there_are_several(client, app, demo, tmp_path):
    assert 'href="/e/demo"' in client.get("/").get_data(as_text=True)
    import_file(app, write_event(tmp_path, demo_text().replace("slug: demo", "slug: autre")))
    assert "/e/" not in client.get("/").get_data(as_text=True)


def test_midday_event_is_midday_at_every_hour():
    for hour in range(24):
        now = datetime(2026, 3, 29, hour, 59, tzinfo=UTC)
        text, today = midday_event(now)
        spec = eventfile.normalise(eventfile.load(text, registry()))
        assert _titles(now_and_next(spec, now)) == (["Atelier en cours"], ["Pause café"]), hour
        assert _titles(now_and_next(spec, now + timedelta(minutes=1))) == (["Atelier en cours"], ["Pause café"]), hour


def test_an_event_without_guests_sheets_or_organisers_shows_its_programme_alone(client, event):
    page = client.get("/e/petite-rencontre").get_data(as_text=True)
    assert 'id="programme"' in page
    for absent in ('id="guests"', 'id="sheets"', 'id="contacts"', 'href="#guests"', 'href="#sheets"'):
        assert absent not in page
