"""The event file: parsing with line numbers, schema and semantic checks, the bundled demo."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from app.services import eventfile
from app.services.events import demo_text
from workshops import registry

DATA = Path(__file__).parent / "data"
SMALL = (DATA / "small.yaml").read_text("utf-8")


def problems_of(text: str) -> list[str]:
    """Return the problems of an event file as printed strings."""
    with pytest.raises(eventfile.EventFileError) as caught:
        eventfile.load(text, registry())
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    """Return the 1-based line of the first line containing needle."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_small_file_is_valid_and_keeps_times_as_text():
    data = eventfile.load(SMALL, registry())
    item = data["programme"][0]["items"][1]
    assert (item["start"], item["end"]) == ("10:00", "11:30")
    assert data["programme"][0]["date"] == "2026-06-09"


def test_unquoted_times_and_dates_stay_text():
    text = SMALL.replace('"10:00"', "10:00").replace('"2026-06-09"', "2026-06-09")
    data = eventfile.load(text, registry())
    assert data["programme"][0]["items"][1]["start"] == "10:00"
    assert data["programme"][0]["date"] == "2026-06-09"


def test_bad_time_reports_path_and_line():
    text = SMALL.replace('end: "11:30"', 'end: "10:70"')
    assert problems_of(text) == [
        f"programme[0].items[1].end: 10:70 is not a time (HH:MM) (line {line_of(text, '10:70')})"]


def test_end_before_start_is_refused():
    text = SMALL.replace('end: "11:30"', 'end: "09:45"')
    assert problems_of(text) == [
        f"programme[0].items[1].end: 09:45 is not after the start (10:00) (line {line_of(text, '09:45')})"]


def test_missing_required_field_points_at_its_mapping():
    text = SMALL.replace("        title: Accueil\n", "")
    assert problems_of(text) == [f"programme[0].items[0].title: is required (line {line_of(text, '09:00') })"]


def test_unknown_field_is_named():
    text = SMALL.replace("        kind: welcome\n", "        kind: welcome\n        colour: red\n")
    assert problems_of(text) == [f"programme[0].items[0].colour: is not a known field (line {line_of(text, 'colour')})"]


def test_every_unknown_field_is_reported_in_one_run():
    text = SMALL.replace("        kind: welcome\n", "        kind: welcome\n        colour: red\n        size: 3\n")
    text = text.replace("title: Petite rencontre\n", "title: Petite rencontre\nvenue: ici\n")
    assert problems_of(text) == [
        f"venue: is not a known field (line {line_of(text, 'venue')})",
        f"programme[0].items[0].colour: is not a known field (line {line_of(text, 'colour')})",
        f"programme[0].items[0].size: is not a known field (line {line_of(text, 'size')})"]


def test_every_unknown_setting_of_a_workshop_is_reported_in_one_run():
    text = SMALL.replace("        workshop: board\n        question: Comment",
                         "        workshop: world_cafe\n        settings:\n          tables:\n            - theme: support\n"
                         "              colour: red\n          round: 2\n          minute: 5\n        question: Comment")
    assert problems_of(text) == [
        f"programme[0].items[2].settings.tables[0].colour: is not a known field (line {line_of(text, 'colour')})",
        f"programme[0].items[2].settings.round: is not a known field (line {line_of(text, 'round:')})",
        f"programme[0].items[2].settings.minute: is not a known field (line {line_of(text, 'minute:')})"]


def test_days_are_checked_against_the_event_dates_and_each_other():
    text = SMALL.replace("place:", 'dates: {start: "2026-06-10", end: "2026-06-11"}\nplace:')
    assert problems_of(text) == [
        f"programme[0].date: 2026-06-09 is outside the event's dates (2026-06-10 to 2026-06-11) "
        f"(line {line_of(text, '2026-06-09')})"]
    later = SMALL.replace("programme:\n", 'programme:\n  - date: "2026-06-10"\n    items:\n'
                          '      - {start: "09:00", end: "10:00", title: Veille}\n')
    assert problems_of(later) == [
        f"programme[1].date: 2026-06-09 comes before the day listed above it (2026-06-10): list the days in order "
        f"(line {line_of(later, '2026-06-09')})"]
    backwards = SMALL.replace("place:", 'dates:\n  start: "2026-06-09"\n  end: "2026-06-08"\nplace:')
    assert problems_of(backwards) == [
        f"dates.end: 2026-06-08 is before the start of the event (2026-06-09) (line {line_of(backwards, '06-08')})"]
    within = SMALL.replace("place:", 'dates: {start: "2026-06-08", end: "2026-06-09"}\nplace:')
    assert eventfile.load(within, registry())["dates"] == {"start": "2026-06-08", "end": "2026-06-09"}


# The CLI tests' café with its meal dropped and its second table named like the first table's theme label.
CAFE_WITH_PILLARS = ((DATA / "cafe.yaml").read_text("utf-8")
                     .replace('      - start: "12:00"\n        end: "13:00"\n        title: Déjeuner\n        kind: meal\n', "")
                     .replace("              host: Camille\n", "").replace("name: Tables sociales", "name: Économie"))


def test_a_table_named_like_another_tables_theme_label_is_refused():
    assert problems_of(CAFE_WITH_PILLARS) == [
        "programme[0].items[0].settings.tables[1].name: 'Économie' names another table too ('Économie'): "
        f"give each table its own name (line {line_of(CAFE_WITH_PILLARS, 'name: Économie')})"]


def test_tags_on_a_world_cafe_item_are_refused():
    text = CAFE_WITH_PILLARS.replace("              name: Économie\n", "").replace(
        "        workshop: world_cafe\n", "        workshop: world_cafe\n        tags:\n          - framework: pillar\n")
    assert problems_of(text) == [
        "programme[0].items[0].tags: a world café tags posts with its tables' themes (settings.theme_framework) "
        f"and settings.category_framework: remove tags (line {line_of(text, '- framework: pillar')})"]


def test_every_problem_is_reported_at_once():
    text = SMALL.replace('end: "11:30"', 'end: "25:00"').replace("slug: petite-rencontre", "slug: Petite Rencontre")
    found = problems_of(text)
    assert len(found) == 2
    assert found[0].startswith("slug: 'Petite Rencontre' may only use lower-case letters")
    assert found[1].startswith("programme[0].items[1].end: 25:00 is not a time")


def test_unknown_workshop_format_is_refused():
    text = SMALL.replace("workshop: board\n        question: Quelles", "workshop: fishbowl\n        question: Quelles")
    assert problems_of(text) == [
        "programme[0].items[1].workshop: 'fishbowl' is not a workshop format "
        "(known: board, world_cafe, idea_tree, keep_stop_create, diagnostic, duo, round_table) "
        f"(line {line_of(text, 'fishbowl')})"]


def test_tag_must_name_a_framework_of_the_event():
    text = SMALL.replace("- framework: category", "- framework: colour")
    assert problems_of(text) == [
        f"programme[0].items[1].tags[1].framework: 'colour' is not a framework of this event "
        f"(known: function, movement, category) (line {line_of(text, 'colour')})"]


def test_duplicate_workshop_id_is_refused():
    text = SMALL.replace("id: arbres", "id: world-cafe")
    second = [i for i, line in enumerate(text.splitlines(), 1) if "id: world-cafe" in line][1]
    assert problems_of(text) == [
        f"programme[0].items[2].id: 'world-cafe' is used by another item: give each workshop its own id (line {second})"]


def test_question_on_a_non_workshop_item_is_refused():
    text = SMALL.replace("        kind: welcome\n", "        kind: welcome\n        question: Bonjour ?\n")
    assert problems_of(text) == [
        f"programme[0].items[0].question: only applies to a workshop item (add workshop: board) "
        f"(line {line_of(text, 'Bonjour')})"]


def test_duplicate_key_in_a_mapping_is_refused():
    text = SMALL.replace("title: Petite rencontre\n", "title: Petite rencontre\ntitle: Encore\n")
    assert problems_of(text) == ["title: is given twice (line 3)"]


def test_yaml_syntax_error_says_what_to_fix_at_the_line_where_it_starts():
    text = SMALL.replace("  name: Salle des fêtes", "  name: [Salle des fêtes")
    assert problems_of(text) == [
        "(file): a '[' is not closed: put the text in quotes if it starts with '[' "
        "(YAML parser: while parsing a flow sequence; expected ',' or ']', but got ':') "
        f"(line {line_of(text, 'Salle')})"]


def test_yaml_bad_indentation_and_tabs_are_explained():
    text = SMALL.replace("        kind: welcome\n", "       kind: welcome\n")
    assert problems_of(text) == [
        "(file): this line is not indented like the fields around it (or a text before it needs quotes) "
        "(YAML parser: while parsing a block collection; expected <block end>, but found '<block mapping start>') "
        f"(line {line_of(text, 'kind: welcome')})"]
    text = SMALL.replace("  name: Salle", "\tname: Salle")
    assert problems_of(text) == [
        "(file): a tab is used for indentation: indent with spaces only (YAML parser: while scanning for the next "
        f"token; found character '\\t' that cannot start any token) (line {line_of(text, 'Salle')})"]


@pytest.mark.parametrize("text, message", [("", "the file is empty"), ("- a\n- b\n", "the file must be a mapping")])
def test_empty_or_list_file_is_refused(text, message):
    assert message in problems_of(text)[0]


def test_schema_is_a_valid_json_schema_and_accepts_the_demo():
    schema = eventfile.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    data, _ = eventfile.parse(demo_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(data)))


def test_demo_event_is_valid_and_runs_the_seed_workshops():
    data = eventfile.normalise(eventfile.load(demo_text(), registry()))
    assert data["slug"] == "demo"
    assert [fw["key"] for fw in data["frameworks"]][:3] == ["function", "movement", "category"]
    functions = [item["label"] for item in data["frameworks"][0]["items"]]
    assert functions == ["Animation", "Créativité", "Valorisation", "Support", "Gestion de projet"]
    items = [item for day in data["programme"] for item in day["items"]]
    workshops = [item for item in items if "workshop" in item]
    assert len(data["programme"]) == 2
    assert any("Quelles fonctions pour développer les coopérations territoriales" in (w.get("question") or "")
               for w in workshops)
    assert any(item.get("kind") == "round_table" and item.get("speakers") for item in items)
    assert sum(len(item.get("duos", [])) for item in items) == 4
    assert len(data["guests"]) >= 9 and len(data["sheets"]) >= 5


def test_dump_then_load_round_trips():
    data = eventfile.normalise(eventfile.load(demo_text(), registry()))
    assert eventfile.normalise(eventfile.load(eventfile.dump(data), registry())) == data


def test_a_field_a_format_owns_is_refused_on_items_that_do_not_run_it():
    duos = "        duos:\n          - title: Alimentation durable\n"
    text = SMALL.replace("        kind: welcome\n", "        kind: welcome\n" + duos, 1)
    text = text.replace("        workshop: board\n", "        workshop: board\n" + duos, 1)
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "- title: Alimentation durable"]
    assert len(lines) == 2
    assert problems_of(text) == [
        f"programme[0].items[{n}].duos: only applies to an item of the duo format (add workshop: duo) (line {line})"
        for n, line in enumerate(lines)]
