"""The world café: one table per theme, timed rounds, participants moving between tables."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.services.errors import ServiceError
from app.services.harvest import harvest_of, people, set_host
from app.services.moderation import merged_posts
from app.services.sessions import attendees, live_tables, store_plan
from app.services.posting import posts_since
from app.services.text import slugify
from workshops import Phase, WorkshopFormat

from .rotation import Person, plan_rotation

SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tables"],
    "properties": {
        "theme_framework": {"type": "string", "description": "Framework whose items are the tables' themes."},
        "category_framework": {"type": "string", "description": "Framework of what each table harvests."},
        "tables": {
            "type": "array", "minItems": 1, "maxItems": 30,
            "items": {
                "type": "object", "additionalProperties": False, "required": ["theme"],
                "properties": {
                    "theme": {"type": "string"},
                    "name": {"type": "string", "minLength": 1, "maxLength": 80},
                    "host": {"type": "string", "minLength": 1, "maxLength": 80},
                },
            },
        },
        "rounds": {"type": "integer", "minimum": 1, "maximum": 10},
        "minutes": {"type": "integer", "minimum": 1, "maximum": 180},
        "categories": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "assignment": {"type": "string", "enum": ["free", "plan"]},
    },
}
DEFAULTS = {"theme_framework": "function", "category_framework": "category", "rounds": 3, "minutes": 20,
            "assignment": "free"}


def settings_of(settings: dict) -> dict:
    """Return the settings with their defaults filled in."""
    return {**DEFAULTS, **settings}


def table_name(table: dict, labels: dict) -> str:
    """Return a table's name: its own, else the label of its theme."""
    return table.get("name") or labels.get(table["theme"], table["theme"])


def table_key(table: dict, labels: dict) -> str:
    """Return the stored key of a table; validation and import both derive it here, so they cannot disagree."""
    return slugify(table_name(table, labels))


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

    def check_settings(self, item: dict, event: dict) -> list[tuple[tuple, str]]:
        """Themes and categories must be items of the frameworks the settings name."""
        settings = settings_of(item.get("settings", {}))
        frameworks = {fw["key"]: fw for fw in event.get("frameworks", [])}
        problems = []
        if "tags" in item:
            # The tables fix a post's theme and the settings its category: item tags would be exported yet ignored.
            problems.append((("tags",), "a world café tags posts with its tables' themes (settings.theme_framework) "
                             "and settings.category_framework: remove tags"))
        missing = [field for field in ("theme_framework", "category_framework") if settings[field] not in frameworks]
        for field in missing:
            problems.append((("settings", field), f"{settings[field]!r} is not a framework of this event "
                             f"(known: {', '.join(frameworks)})"))
        if missing:
            return problems
        labels = {i["key"]: i["label"] for i in frameworks[settings["theme_framework"]]["items"]}
        keys: dict[str, str] = {}
        for n, table in enumerate(settings["tables"]):
            if table["theme"] not in labels:
                problems.append((("settings", "tables", n, "theme"), f"{table['theme']!r} is not an item of "
                                 f"{settings['theme_framework']!r} (known: {', '.join(sorted(labels))})"))
                continue
            name, key = table_name(table, labels), table_key(table, labels)
            if key in keys:
                field = "name" if "name" in table else "theme"
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
        """Posts carry their table's theme (set by the table's QR code) and optionally a category."""
        settings = settings_of(item.get("settings", {}))
        return [{"framework": settings["theme_framework"], "required": True},
                {"framework": settings["category_framework"], "required": False}]

    def tables(self, item: dict, event: dict) -> list[dict]:
        """One table per entry of the settings; a phone scanning its code posts under the table's theme."""
        settings = settings_of(item.get("settings", {}))
        framework = next(fw for fw in event["frameworks"] if fw["key"] == settings["theme_framework"])
        labels = {i["key"]: i["label"] for i in framework["items"]}
        out = []
        for table in settings["tables"]:
            out.append({"key": table_key(table, labels), "name": table_name(table, labels),
                        "tags": {framework["key"]: table["theme"]}, "host": table.get("host")})
        return out

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
        people = [Person(str(p.id), (p.organisation or "").strip().lower() or None) for p in attendees(session)]
        if not people:
            raise ServiceError("nobody_joined", _l("Nobody has joined this workshop yet."), 409)
        rounds = plan_rotation(people, len(tables), settings["rounds"], seed=session.id)
        assignments = {person.id: [tables[r[person.id]].key for r in rounds] for person in people}
        return store_plan(session, {"rounds": settings["rounds"], "tables": [t.key for t in tables],
                                    "assignments": assignments})

    def synthesise(self, session) -> dict:
        """Return, per table, its theme, host, the visible posts grouped by category and how many were merged into them."""
        settings = settings_of(session.settings.get("format", {}))
        frameworks = {fw["key"]: fw for fw in session.event.spec["frameworks"]}
        theme_fw, category_fw = frameworks[settings["theme_framework"]], frameworks[settings["category_framework"]]
        labels = {item["key"]: item["label"] for item in theme_fw["items"]}
        wanted = settings.get("categories") or [item["key"] for item in category_fw["items"]]
        category_labels = {item["key"]: item["label"] for item in category_fw["items"]}
        posts = posts_since(session, 0)
        merged = merged_posts(session)
        harvests = {t.key: harvest_of(t) for t in session.tables}
        tables = []
        for table in settings["tables"]:
            mine = [p for p in posts if p.tags.get(theme_fw["key"]) == table["theme"]]
            groups = [{"key": key, "label": category_labels[key],
                       "posts": [p.text for p in mine if p.tags.get(category_fw["key"]) == key]} for key in wanted]
            untagged = [p.text for p in mine if p.tags.get(category_fw["key"]) not in wanted]
            name = table_name(table, labels)
            harvest = harvests.get(table_key(table, labels), {})
            for group in groups:
                group["harvest"] = harvest.get(group["key"], "")
            tables.append({"theme": table["theme"], "name": name, "host": table.get("host"), "total": len(mine),
                           "merged": sum(len(merged.get(p.id, [])) for p in mine),
                           "categories": groups, "other": untagged})
        return {"format": self.slug, "title": session.title, "question": session.question,
                "rounds": settings["rounds"], "total": len(posts), "tables": tables}


FORMAT = WorldCafe()
