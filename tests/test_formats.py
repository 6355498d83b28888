"""The workshop-format contract, checked on every registered format: a new format is covered once registered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from app.extensions import db
from app.models import Session
from app.services import eventfile, posting, sessions
from app.services.joining import join
from carnet.restitution import environment
from conftest import import_file, login
from workshops import VIEWS, Phase, Screen, WorkshopFormat, registry

BUILTIN = sorted(registry())
# The contract holds for a format installed from another package too: tests/plugin, installed by the fixture.
FORMATS = [*BUILTIN, "fishbowl"]
ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "formats.md").read_text("utf-8")
# A call of the page's translation function with a literal message id: t("…") or t('…').
T_CALL = re.compile(r"""\bt\(\s*(["'])((?:(?!\1)[^\\]|\\.)*)\1""")


@pytest.fixture(autouse=True)
def plugin_when_asked(request):
    """Install the plug-in format for the tests run on it, and only for them."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("slug") == "fishbowl":
        request.getfixturevalue("fishbowl")


def event_with(item: dict) -> dict:
    """Return a one-item event document around a format's example item."""
    return {"slug": "contrat", "title": "Contrat", "programme": [{"date": "2026-06-09", "items": [item]}]}


def test_builtin_formats_are_registered():
    assert BUILTIN == sorted(registry()) == ["board", "diagnostic", "duo", "idea_tree", "keep_stop_create",
                                                  "round_table", "world_cafe"]


def test_a_format_from_another_package_is_registered_through_its_entry_point(fishbowl):
    from importlib.metadata import distribution

    fmt = registry()["fishbowl"]
    assert list(registry()) == ["board", "world_cafe", "idea_tree", "keep_stop_create", "diagnostic", "duo",
                              "round_table", "fishbowl"]  # built-in formats first
    assert type(fmt).__module__ == "rouages_fishbowl" and distribution("rouages-fishbowl").version == "0.1.0"
    assert fmt.folder().name == "rouages_fishbowl" and (fmt.folder() / "templates" / "booklet.html").is_file()
    assert fmt.screen("wall") == Screen("formats/fishbowl/wall.html", "/formats/fishbowl/wall.js",
                                        ("/formats/fishbowl/wall.css",))
    assert fmt.screen("phone") == Screen("formats/fishbowl/phone.html", "/formats/fishbowl/phone.js", ())
    assert fmt.screen("console") is None and fmt.screen("host") is None and fmt.screen("elsewhere") is None



def test_a_plug_in_adds_to_its_items_in_the_programme_of_the_page_and_of_the_carnet(app, client, fishbowl):
    from app.services.events import get_event
    from carnet.carnet import context
    from carnet.templating import environment as carnet_environment

    item = {**registry()["fishbowl"].example, "question": "Que garder <de> cette journée ?"}
    import_file(app, eventfile.dump(event_with(item)))
    page = client.get("/e/contrat").get_data(as_text=True)
    assert '<p class="agenda__panel">5 chairs around « Que garder &lt;de&gt; cette journée ? »</p>' in page
    with app.test_request_context():
        carnet = carnet_environment().get_template("carnet/booklet.html").render(**context(get_event("contrat")), notes=0)
    assert '<span class="programme__more">5 chairs · Que garder &lt;de&gt; cette journée ?</span>' in carnet


@pytest.mark.parametrize("slug", FORMATS)
def test_format_declares_the_contract(slug):
    fmt = registry()[slug]
    assert isinstance(fmt, WorkshopFormat) and fmt.slug == slug
    assert str(fmt.title) and str(fmt.description)
    jsonschema.Draft202012Validator.check_schema(fmt.settings_schema)
    assert fmt.example["workshop"] == slug


@pytest.mark.parametrize("slug", FORMATS)
def test_format_is_documented(slug):
    assert f"`{slug}`" in DOCS, f"docs/formats.md does not describe {slug}"


@pytest.mark.parametrize("slug", FORMATS)
def test_example_item_validates(slug):
    assert eventfile.check(event_with(registry()[slug].example), {}, registry()) == []


@pytest.mark.parametrize("slug", FORMATS)
def test_bad_settings_are_reported_with_their_path(slug):
    item = {**registry()[slug].example, "settings": {"no_such_setting": 1}}
    problems = eventfile.check(event_with(item), {}, registry())
    assert "programme[0].items[0].settings.no_such_setting: is not a known field" in [str(p) for p in problems]


@pytest.mark.parametrize("slug", FORMATS)
def test_phases_have_unique_keys(slug):
    phases = registry()[slug].phases(registry()[slug].example.get("settings", {}))
    assert phases and all(isinstance(p, Phase) for p in phases)
    assert len({p.key for p in phases}) == len(phases)


DISTINCT = ["Un potager au pied des immeubles", "Une navette vers le marché du samedi", "Un atelier de réparation de vélos",
            "Une cantine bio pour les écoles", "Un festival des coopératives", "Une recyclerie de quartier",
            "Des cours de cuisine entre voisins", "Un fonds d'amorçage local"]


@pytest.mark.parametrize("slug", FORMATS)
def test_a_session_runs_through_every_phase_and_synthesises(app, slug):
    fmt = registry()[slug]
    imported = import_file(app, eventfile.dump(event_with(fmt.example)))
    code = imported.sessions[0].code
    with app.test_request_context():
        session = sessions.get_session(code)
        keys = [p["key"] for p in session.settings["phases"]]
        assert session.phase == keys[0]
        participant = join({"code": code, "name": "Contrat"}).participant
        posted = 0
        for key in keys[1:]:
            phase = sessions.set_phase(session)["phase"]
            assert phase["key"] == key and session.is_open is phase["posting"]
            if phase["posting"]:
                frameworks = sessions.frameworks_of(session)
                tags = {fw["key"]: fw["items"][0]["key"] for fw in frameworks if fw["required"]}
                # Distinct ideas: the same text twice would be one idea, said twice, in the synthesis.
                posting.create_post(sessions.post_target(session.code), participant,
                                    {"client_id": f"contract-{key}", "text": DISTINCT[posted], "tags": tags})
                posted += 1
        db.session.refresh(session)
        session = db.session.get(Session, session.id)
        data = fmt.synthesise(session)
        # Every format prints its own section of the booklets from that data, through its own template.
        assert fmt.booklet_template().is_file(), f"{slug} has no booklet section ({fmt.booklet_template()})"
        section = environment().get_template(f"{slug}/booklet.html").render(data=data, session=session, show_names=False)
    assert data["format"] == slug and data["title"] == fmt.example["title"]
    assert data["question"] == fmt.example["question"] and data["total"] == posted
    assert json.loads(json.dumps(data)) == data
    assert section.strip() and (DISTINCT[0] in section) == bool(posted)


@pytest.mark.parametrize("slug", FORMATS)
def test_the_carnet_page_exists_and_renders_with_the_example_and_the_demo(app, slug):
    from app.models import Event
    from app.services.events import demo_text
    from markupsafe import escape

    from carnet.carnet import workshops

    fmt = registry()[slug]
    page = fmt.carnet_template()
    assert page is None or page.is_file(), f"{slug}'s carnet page is missing ({page})"
    example = import_file(app, eventfile.dump(event_with(fmt.example)))
    demo = import_file(app, demo_text())
    with app.test_request_context():
        pages = [page for event_id in (example.id, demo.id) for page in workshops(db.session.get(Event, event_id))
                 if page["session"].workshop == slug]
        assert pages
        env = environment()
        for page in pages:
            html = env.get_template(page["template"]).render(session=page["session"], notes=page["notes"])
            assert str(escape(page["session"].title)) in html
            assert "notes-sheet" in html


def test_a_format_without_its_own_carnet_page_gets_the_plain_notes_page(app, monkeypatch):
    from carnet.templating import CORE_NOTES, carnet_page

    class Plain(WorkshopFormat):
        slug = "plain"
        title = "Plain"
        example = {}

        def synthesise(self, session) -> dict:
            return {}

    monkeypatch.setitem(registry(), "plain", Plain())
    assert Plain().carnet_template() is None and carnet_page("plain") == CORE_NOTES
    assert registry()["board"].carnet_template().name == "carnet.html"
    with app.test_request_context():
        html = environment().get_template(carnet_page("plain")).render(
            session={"title": "Un <atelier>"}, notes={"frameworks": [], "tables": [], "harvest": [], "settings": {}})
    assert "Un &lt;atelier&gt;" in html and "lined" in html


def page_of(http, view: str, code: str, host_token: str | None) -> str | None:
    """Return the HTML of the core page that shows `view` of a session, or None (a host page needs a table)."""
    if view == "host":
        return None if host_token is None else http.get(f"/h/{host_token}").get_data(as_text=True)
    path = {"phone": f"/j/{code}", "wall": f"/wall/{code}", "console": f"/console/s/{code}"}[view]
    response = http.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.mark.parametrize("slug", FORMATS)
def test_each_screen_renders_in_its_page_and_its_files_are_served(app, client, organiser, slug):
    fmt = registry()[slug]
    imported = import_file(app, eventfile.dump(event_with(fmt.example)))
    code = imported.sessions[0].code
    with app.app_context():
        session = sessions.get_session(code)
        tables = sessions.live_tables(session)
        host_token = tables[0].host_token if tables else None
        payload_screens = sessions.session_payload(session)["screens"]
    login(client)
    screens = {view: fmt.screen(view) for view in VIEWS if fmt.screen(view) is not None}
    assert screens, f"{slug} shapes no screen"
    assert payload_screens == {view: {"script": screen.script, "styles": list(screen.styles)}
                               for view, screen in screens.items()}
    for view, screen in screens.items():
        html = page_of(client, view, code, host_token)
        if html is None:
            continue
        slot = re.search(r'<div class="format-view" id="format-view"([^>]*)>(.*?)\n?</div>\s*(?=<|$)', html, re.S)
        assert slot, f"{slug}'s {view} page has no format slot"
        if screen.script:
            assert f'data-script="{screen.script}"' in slot[1]
        if screen.template:
            # The partial is in the slot, rendered with the page's context (not an empty include).
            assert slot[2].strip(), f"{slug}'s {view} partial rendered empty"
        # The page hands the format's strings to its modules.
        handed = json.loads(re.search(r'<script type="application/json" id="rouages-strings">(.*?)</script>', html)[1])
        assert {m if isinstance(m, str) else m[1] for m in fmt.strings} <= handed.keys()
        head = html.split("</head>")[0]
        for href in screen.styles:
            assert f'<link rel="stylesheet" href="{href}">' in head
        for url, kind in [(screen.script, "text/javascript")] * bool(screen.script) + \
                [(href, "text/css") for href in screen.styles]:
            with client.get(url) as response:
                assert response.status_code == 200 and response.mimetype == kind, url
                assert response.get_data() == (fmt.folder() / "static" / url.rsplit("/", 1)[1]).read_bytes()


@pytest.mark.parametrize("slug", FORMATS)
def test_every_string_of_a_format_module_is_declared_and_translated(app, slug):
    from babel.messages.pofile import read_po

    fmt = registry()[slug]
    declared = {message if isinstance(message, str) else message[1] for message in fmt.strings}
    used = {match[2] for path in (fmt.folder() / "static").glob("*.js")
            for match in T_CALL.finditer(path.read_text("utf-8"))}
    assert used <= declared, f"{slug}'s modules translate strings its `strings` does not declare"
    with open(ROOT / "app" / "translations" / "fr" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        french = {(m.id if isinstance(m.id, str) else m.id[1]): m.string for m in read_po(fh) if m.id}
    assert all(declared & french.keys() == declared and french[message] for message in declared), \
        sorted(declared - {key for key, value in french.items() if value})
    # The page of the format's sessions hands them to its modules, translated.
    from app.views.strings import js_strings

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        strings = js_strings(slug)
    assert declared <= strings.keys()


@pytest.mark.parametrize("slug", FORMATS)
def test_the_console_offers_the_synthesis_editor_to_formats_whose_ideas_the_booklet_groups(app, client, organiser,
                                                                                          slug):
    fmt = registry()[slug]
    code = import_file(app, eventfile.dump(event_with(fmt.example))).sessions[0].code
    login(client)
    html = page_of(client, "console", code, None)
    grouped = fmt.takes_posts and not fmt.questions
    assert ('id="synthesis"' in html) is grouped
    assert ('name="body-retain:' in html) is grouped
