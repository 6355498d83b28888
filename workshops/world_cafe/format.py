"""The world café: one table per theme, timed rounds, participants moving between tables."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.services.errors import ServiceError
from app.services.groups import bucket_of, key_phrases
from app.services.harvest import harvest_of, people, set_host
from app.services.registrations import seat_registrants
from app.services.sessions import attendees, live_tables, store_plan
from app.services.text import slugify
from workshops import N_, NP_, Phase, WorkshopFormat, ideas
from workshops.board import FORMAT as BOARD

from .rotation import Person, plan_rotation, seat_latecomer

SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tables"],
    "properties": {
        "theme_framework": {"type": "string", "description": "Framework of a table's `theme:`."},
        "category_framework": {"type": "string", "description": "Framework of what each table harvests."},
        "tables": {
            "type": "array", "minItems": 1, "maxItems": 30,
            "items": {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "theme": {"type": "string"},
                    "tags": {"type": "array", "minItems": 1, "maxItems": 5, "uniqueItems": True,
                             "items": {"type": "string", "minLength": 1}},
                    "name": {"type": "string", "minLength": 1, "maxLength": 80},
                    "host": {"type": "string", "minLength": 1, "maxLength": 80},
                },
            },
        },
        "rounds": {"type": "integer", "minimum": 1, "maximum": 10},
        "minutes": {"type": "integer", "minimum": 1, "maximum": 180},
        "next_table_minutes": {"type": "integer", "minimum": 0, "maximum": 60,
                               "description": "Minutes before a round's countdown ends when phones and the wall "
                                              "show the next table."},
        "categories": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "assignment": {"type": "string", "enum": ["free", "plan"]},
    },
}
# What the café's modules say: seats and the next table (phone), harvest pages and next round (wall), the plan,
# seating and hosts (console), merging and saving the harvest (host page). The board's columns say the rest.
STRINGS = (
    # The seat sentence (sessions.seat_of): where the person is, said once, with why.
    N_("The plan puts you at %(table)s for this round: your ideas go there."),
    N_("You arrived after the plan was made: you are seated at %(table)s for this round, and your ideas go there."),
    N_("You are at %(table)s (the last table card you scanned or chose): your ideas go there."),
    N_("You are at %(table)s, not at %(planned)s where the plan puts you: your ideas go to %(table)s."),
    N_("Round 1: go to %(table)s"),
    N_("I am at %(table)s"),
    N_("Next round: go to %(table)s."),
    N_("You host the table %(table)s."),
    N_("Open the host page"),
    N_("Next round"),
    N_("Nobody yet"),
    N_("The rest does not fit on the wall."),
    N_("Page %(page)s/%(pages)s"),
    N_("Table"),
    N_("Tables"),
    N_("Round %(n)s"),
    N_("Who is at which table now"),
    N_("At the table now"),
    N_("Expected by the plan"),
    N_("At this table instead of their planned one"),
    N_("Someone without a name"),
    N_("Nothing written yet"),
    N_("%(done)s of %(count)s written"),
    N_("No name (#%(id)s)"),
    N_("Pick a participant…"),
    N_("Saved"),
    N_("Duplicate"),
    N_("Cancel"),
    N_("Keep this one"),
    N_("Tap “Keep this one” on the idea that stays."),
    N_("Undo merge"),
    N_("Not connected: try again in a moment."),
    NP_("%(count)s person without a name", "%(count)s people without a name"),
    NP_("Plan for %(count)s person", "Plan for %(count)s people"),
)
DEFAULTS = {"theme_framework": "function", "category_framework": "category", "rounds": 3, "minutes": 20,
            "next_table_minutes": 3, "assignment": "free"}


def settings_of(settings: dict) -> dict:
    """Return the settings with their defaults filled in."""
    return {**DEFAULTS, **settings}


def resolve_tags(table: dict, settings: dict, frameworks: dict) -> tuple[dict, list[tuple[tuple, str]]]:
    """Return a table's tags as {framework: item} and the problems found; validation and import both use it.

    `theme: x` is an item of settings.theme_framework; each entry of `tags:` is an item of any framework but the
    category one, found by its key (or written `framework:item` when two frameworks share the key).
    """
    if ("theme" in table) == ("tags" in table):
        return {}, [((), "give the table either tags (a list of items) or theme (one item), not both")
                    if "theme" in table else ((), "give the table its tags (a list of items) or its theme")]
    if "theme" in table:
        items = {i["key"] for i in frameworks[settings["theme_framework"]]["items"]}
        if table["theme"] not in items:
            return {}, [(("theme",), f"{table['theme']!r} is not an item of {settings['theme_framework']!r} "
                         f"(known: {', '.join(sorted(items))})")]
        return {settings["theme_framework"]: table["theme"]}, []
    searched = {key: {i["key"] for i in fw["items"]} for key, fw in frameworks.items()
                if key != settings["category_framework"]}
    tags: dict[str, str] = {}
    problems: list[tuple[tuple, str]] = []
    for n, entry in enumerate(table["tags"]):
        fw_key, _, item = entry.rpartition(":")
        found = [fw_key] if fw_key in searched and item in searched[fw_key] else \
            [] if fw_key else [key for key, items in searched.items() if item in items]
        if len(found) != 1:
            problems.append((("tags", n), f"{entry!r} is an item of several frameworks ({', '.join(found)}): write "
                             f"it framework:item" if found else f"{entry!r} is not an item of any framework of this "
                             f"event but {settings['category_framework']!r} (known frameworks: {', '.join(searched)})"))
        elif found[0] in tags:
            problems.append((("tags", n), f"{entry!r} and {tags[found[0]]!r} are both items of {found[0]!r}: a "
                             "table takes one item per framework"))
        else:
            tags[found[0]] = item
    return tags, problems


def table_name(table: dict, tags: dict, frameworks: dict) -> str:
    """Return a table's name: its own, else the label of its first tag."""
    if table.get("name"):
        return table["name"]
    fw_key, item = next(iter(tags.items()))
    return next(i["label"] for i in frameworks[fw_key]["items"] if i["key"] == item)


def table_key(name: str) -> str:
    """Return the stored key of a table from its name; validation and import both derive it here, so they cannot disagree."""
    return slugify(name)


def resolved_tables(settings: dict, frameworks: dict) -> list[dict]:
    """Return each table of checked settings as {key, name, tags, host}."""
    out = []
    for table in settings["tables"]:
        tags, _problems = resolve_tags(table, settings, frameworks)
        name = table_name(table, tags, frameworks)
        out.append({"key": table_key(name), "name": name, "tags": tags, "host": table.get("host")})
    return out


class WorldCafe(WorkshopFormat):
    """Tables with a theme and a host; participants rotate in timed rounds and each table harvests."""

    slug = "world_cafe"
    title = _l("World café")
    description = _l("One table per theme, timed rounds, a host per table who harvests what was said.")
    settings_schema = SETTINGS_SCHEMA
    example = {"id": "world-cafe", "start": "10:00", "end": "11:30", "title": "World café",
               "workshop": "world_cafe", "question": "Quelles fonctions pour développer les coopérations territoriales ?",
               "settings": {"tables": [{"theme": "animation", "host": "Camille"}, {"theme": "creativite"},
                                       {"theme": "valorisation"}, {"theme": "support"},
                                       {"theme": "gestion_de_projet", "name": "Gestion de projet"}],
                            "rounds": 3, "minutes": 20, "categories": ["missions", "actions", "besoins"]}}
    # Its wall shows the board's columns during the rounds (workshops/board/static/wall.js).
    strings = STRINGS + BOARD.strings

    def check_settings(self, item: dict, event: dict) -> list[tuple[tuple, str]]:
        """Themes and categories must be items of the frameworks the settings name."""
        settings = settings_of(item.get("settings", {}))
        frameworks = {fw["key"]: fw for fw in event.get("frameworks", [])}
        problems = []
        if "tags" in item:
            # The tables fix a post's theme and the settings its category: item tags would be exported yet ignored.
            problems.append((("tags",), "a world café tags posts with its tables' themes (settings.theme_framework) "
                             "and settings.category_framework: remove tags"))
        # theme_framework is needed only by tables given a `theme:`.
        needed = ["category_framework"] + (["theme_framework"] if any("theme" in t for t in settings["tables"]) else [])
        missing = [field for field in needed if settings[field] not in frameworks]
        for field in missing:
            problems.append((("settings", field), f"{settings[field]!r} is not a framework of this event "
                             f"(known: {', '.join(frameworks)})"))
        if missing:
            return problems
        keys: dict[str, str] = {}
        for n, table in enumerate(settings["tables"]):
            tags, found = resolve_tags(table, settings, frameworks)
            problems += [(("settings", "tables", n, *path), message) for path, message in found]
            if found:
                continue
            name = table_name(table, tags, frameworks)
            key = table_key(name)
            if key in keys:
                field = "name" if "name" in table else ("theme" if "theme" in table else "tags")
                problems.append((("settings", "tables", n, field), f"{name!r} names another table too "
                                 f"({keys[key]!r}): give each table its own name"))
            keys.setdefault(key, name)
        categories = {i["key"] for i in frameworks[settings["category_framework"]]["items"]}
        for n, key in enumerate(settings.get("categories", [])):
            if key not in categories:
                problems.append((("settings", "categories", n), f"{key!r} is not an item of "
                                 f"{settings['category_framework']!r}"))
        return problems

    def tags(self, item: dict, event: dict) -> list[dict]:
        """Posts carry their table's tags and optionally a category; a phone choosing itself sees only the tables' items."""
        settings = settings_of(item.get("settings", {}))
        frameworks = {fw["key"]: fw for fw in event["frameworks"]}
        tables = resolved_tables(settings, frameworks)
        used: dict[str, set] = {}
        for table in tables:
            for fw_key, value in table["tags"].items():
                used.setdefault(fw_key, set()).add(value)
        # A framework every table carries is required of a post; one only some tables carry cannot be.
        out = [{"framework": fw_key, "required": all(fw_key in table["tags"] for table in tables),
                "items": [i["key"] for i in frameworks[fw_key]["items"] if i["key"] in values]}
               for fw_key, values in used.items()]
        return [*out, {"framework": settings["category_framework"], "required": False}]

    def tables(self, item: dict, event: dict) -> list[dict]:
        """One table per entry of the settings; a phone at a table posts under the table's tags."""
        settings = settings_of(item.get("settings", {}))
        return resolved_tables(settings, {fw["key"]: fw for fw in event["frameworks"]})

    def harvest(self, item: dict, event: dict) -> list[dict]:
        """Each table's host writes up every harvested category."""
        settings = settings_of(item.get("settings", {}))
        framework = next(fw for fw in event["frameworks"] if fw["key"] == settings["category_framework"])
        wanted = settings.get("categories") or [i["key"] for i in framework["items"]]
        labels = {i["key"]: i["label"] for i in framework["items"]}
        return [{"key": key, "label": labels[key]} for key in wanted]

    def phases(self, settings: dict) -> list[Phase]:
        """Welcome, the timed rounds, the hosts' harvest, the vote, the end."""
        settings = settings_of(settings)
        rounds = [Phase(f"round_{n}", _l("Round %(n)s", n=n), posting=True, minutes=settings["minutes"])
                  for n in range(1, settings["rounds"] + 1)]
        return [Phase("welcome", _l("Welcome"), posting=False), *rounds,
                Phase("harvest", _l("Harvest"), posting=False), Phase("vote", _l("Vote"), posting=False),
                Phase("done", _l("Done"), posting=False)]

    def actions(self) -> dict:
        """The console computes a rotation plan, lists who joined and makes one of them a table's host."""
        return {"plan": self.compute_plan, "people": self.list_people, "host": self.promote_host}

    def list_people(self, session, payload: dict) -> dict:
        """Return who joined, to pick a table's host from."""
        return people(session)

    def promote_host(self, session, payload: dict) -> dict:
        """Make a participant who joined (`participant`, or null for nobody) the host of table `table`."""
        return set_host(session, payload)

    def compute_plan(self, session, payload: dict) -> dict:
        """Seat everyone who joined, round by round, and send each phone its tables."""
        settings = settings_of(session.settings.get("format", {}))
        tables = live_tables(session)
        if not tables:
            raise ServiceError("no_tables", _l("This world café has no table: add some to the event file."), 409)
        # The event's registration list is seated too: people who registered find their tables in their carnet.
        seat_registrants(session)
        people = [Person(str(p.id), (p.organisation or "").strip().lower() or None) for p in attendees(session)]
        if not people:
            raise ServiceError("nobody_joined", _l("Nobody has joined this workshop yet."), 409)
        rounds = plan_rotation(people, len(tables), settings["rounds"], seed=session.id)
        assignments = {person.id: [tables[r[person.id]].key for r in rounds] for person in people}
        return store_plan(session, {"rounds": settings["rounds"], "tables": [t.key for t in tables],
                                    "assignments": assignments, "notice_minutes": settings["next_table_minutes"],
                                    "late": []})

    def joined(self, session, participant) -> None:
        """Seat someone who joins after the plan was computed, at the emptiest tables, and send the plan out."""
        plan = session.plan
        if not plan or str(participant.id) in plan.get("assignments", {}):
            return
        keys = [t.key for t in live_tables(session) if t.key in plan["tables"]]
        if not keys:
            return
        index = {key: n for n, key in enumerate(keys)}
        rows = [{pid: index[seats[r]] for pid, seats in plan["assignments"].items()
                 if r < len(seats) and seats[r] in index} for r in range(plan["rounds"])]
        organisations = {str(p.id): (p.organisation or "").strip().lower() or None for p in attendees(session)}
        person = Person(str(participant.id), organisations.get(str(participant.id)))
        seats = seat_latecomer(rows, len(keys), person, organisations)
        store_plan(session, {**plan, "assignments": {**plan["assignments"], person.id: [keys[t] for t in seats]},
                             "late": [*plan.get("late", []), person.id]})

    def synthesise(self, session) -> dict:
        """Return, per theme, its tables' harvests and its ideas per category (most dots first, merges counted once).

        A post records its table's tags, not the table: tables that share their tags (three « Animation » tables
        at a large café) are one group here, so each idea is printed once, with every table's harvest.
        """
        settings = settings_of(session.settings.get("format", {}))
        frameworks = {fw["key"]: fw for fw in session.event.spec["frameworks"]}
        category_fw = frameworks[settings["category_framework"]]
        wanted = settings.get("categories") or [item["key"] for item in category_fw["items"]]
        category_labels = {item["key"]: item["label"] for item in category_fw["items"]}
        found = ideas(session)
        phrases = key_phrases(session, found)
        harvests = {t.key: harvest_of(t) for t in session.tables}
        hosts = {t.key: t.host_participant.name for t in session.tables if t.host_participant and t.host_participant.name}
        groups: dict[tuple, list[dict]] = {}
        for table in resolved_tables(settings, frameworks):
            groups.setdefault(tuple(sorted(table["tags"].items())), []).append(table)
        tables = []
        for members in groups.values():
            first = members[0]
            mine = [idea for idea in found if all(idea["tags"].get(k) == v for k, v in first["tags"].items())]
            categories = []
            for key in wanted:
                written = [{"table": t["name"], "text": harvests.get(t["key"], {}).get(key, "")} for t in members]
                written = [w for w in written if w["text"]]
                categories.append({"key": key, "label": category_labels[key], "harvest": "\n".join(w["text"] for w in written),
                                   "key_phrases": phrases.get(bucket_of({**first["tags"], category_fw["key"]: key}), []),
                                   "harvests": written,
                                   "posts": [idea for idea in mine if idea["tags"].get(category_fw["key"]) == key]})
            names = [t["name"] for t in members]
            table_hosts = [hosts.get(t["key"]) or t["host"] for t in members]
            tables.append({"key": first["key"], "theme": next(iter(first["tags"].values())), "tags": first["tags"],
                           "name": names[0] if len(members) == 1 else table_name({}, first["tags"], frameworks),
                           "tables": names, "host": table_hosts[0], "hosts": [h for h in table_hosts if h],
                           "total": len(mine), "merged": sum(len(idea["merged"]) for idea in mine),
                           "dots": sum(idea["dots"] for idea in mine), "categories": categories,
                           "other": [idea for idea in mine if idea["tags"].get(category_fw["key"]) not in wanted]})
        return {"format": self.slug, "title": session.title, "question": session.question,
                "rounds": settings["rounds"], "total": len(found), "dots": sum(idea["dots"] for idea in found),
                "tables": tables}


FORMAT = WorldCafe()
