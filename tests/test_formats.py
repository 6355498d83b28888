"""The workshop-format contract, checked on every registered format: a new format is covered once registered."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from app.extensions import db
from app.models import Session
from app.services import eventfile, posting, sessions
from app.services.joining import join
from carnet.restitution import environment
from conftest import import_file
from workshops import Phase, WorkshopFormat, registry

FORMATS = sorted(registry())
DOCS = (Path(__file__).resolve().parent.parent / "docs" / "formats.md").read_text("utf-8")


def event_with(item: dict) -> dict:
    """Return a one-item event document around a format's example item."""
    return {"slug": "contrat", "title": "Contrat", "programme": [{"date": "2026-06-09", "items": [item]}]}


def test_builtin_formats_are_registered():
    assert FORMATS == ["board", "idea_tree", "world_cafe"]


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


@pytest.mark.parametrize("slug", FORMATS)
def test_a_session_runs_through_every_phase_and_synthesises(app, slug):
    fmt = registry()[slug]
    imported = import_file(app, eventfile.dump(event_with(fmt.example)))
    code = imported.sessions[0].code
    with app.test_request_context():
        session = sessions.get_session(code)
        keys = [p["key"] for p in session.settings["phases"]]
        assert session.phase == keys[0]
        participant, _session, _table = join({"code": code, "name": "Contrat"})
        posted = 0
        for key in keys[1:]:
            phase = sessions.set_phase(session)["phase"]
            assert phase["key"] == key and session.is_open is phase["posting"]
            if phase["posting"]:
                frameworks = sessions.frameworks_of(session)
                tags = {fw["key"]: fw["items"][0]["key"] for fw in frameworks if fw["required"]}
                posting.create_post(sessions.post_target(session.code), participant,
                                    {"client_id": f"contract-{key}", "text": "Une idée", "tags": tags})
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
    assert section.strip() and ("Une idée" in section) == bool(posted)


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
