"""Duo feedback: a local authority and a cooperation tell how they worked together; the room keeps takeaways and asks."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.services.text import slugify
from workshops import N_, Phase, WorkshopFormat, ideas

DUO_FRAMEWORK = "duo"
KIND_FRAMEWORK = "kind"
KINDS = (("takeaway", _l("What I take away")), ("question", _l("A question")))
SIDES = ("authority", "cooperation")

SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "parallel": {"type": "boolean",
                     "description": "false: the duos speak one after another in one room; true: at the same time in "
                                    "several rooms, each duo a table with its own join QR code."},
        "moderation": {"enum": ["immediate", "review"],
                       "description": "immediate: questions appear at once; review: they wait for a moderator."},
        "minutes": {"type": "integer", "minimum": 1, "maximum": 180,
                    "description": "Length of a duo's slot; its countdown starts with it."},
    },
}


def duos_of(item: dict) -> list[dict]:
    """Return the item's duos, each with its key (a slug of its title)."""
    return [{**duo, "key": slugify(duo["title"])} for duo in item.get("duos", [])]


class Duo(WorkshopFormat):
    """Duos of a local authority and a cooperation tell their story; the room posts takeaways and upvotes questions."""

    slug = "duo"
    title = _l("Duo feedback")
    description = _l("A local authority and a cooperation tell how they worked together; participants post what they "
                     "take away and ask questions the room upvotes; the facilitator writes each duo's key lessons.")
    settings_schema = SETTINGS_SCHEMA
    questions = True
    strings = (
        N_("Questions"),
        N_("What the room takes away"),
        N_("Nothing yet: share what you take away from your phone."),
        N_("Questions and takeaways"),
        N_("Nothing yet for this duo: ask a question or share what you take away."),
        N_("Key lessons of each duo"),
        N_("One lesson per line, up to five."),
        N_("Save the lessons"),
        N_("Saved."),
    )
    example = {"id": "duos", "start": "09:30", "end": "11:00", "kind": "duo", "workshop": "duo",
               "title": "Quand collectivités et coopérations s’associent, retours d’expérience en duo",
               "question": "Que retenez-vous de ce duo ?",
               "duos": [{"title": "Alimentation durable et locale",
                         "authority": {"name": "Felix Degrave", "role": "Chargé de mission",
                                       "organisation": "Communauté d’agglomération de Lens-Liévin"},
                         "cooperation": {"name": "Dominique Hays", "role": "Fondateur",
                                         "organisation": "Ecopôle Alimentaire"}},
                        {"title": "Maintenir les artisans en territoire rural",
                         "authority": {"name": "Christophe Liénard", "role": "Chargé d’accompagnement",
                                       "organisation": "Chambre des Métiers et de l’Artisanat de l’Oise"},
                         "cooperation": {"name": "Rachid Cherfaoui", "role": "PDG",
                                         "organisation": "Maison d’Economie Solidaire du Pays de Bray"}}],
               "settings": {"parallel": False, "minutes": 20}}

    def review(self, settings: dict) -> bool:
        """Questions wait for a moderator when the settings ask for it."""
        return settings.get("moderation") == "review"

    def spotlight_scope(self, tags: dict) -> str:
        """Each duo has its own spotlighted question."""
        return tags.get(DUO_FRAMEWORK, "")

    def tags(self, item: dict, event: dict) -> list[dict]:
        """Every post names its duo and whether it is a takeaway or a question."""
        return [{"framework": DUO_FRAMEWORK, "required": True}, {"framework": KIND_FRAMEWORK, "required": True}]

    def frameworks(self, item: dict, event: dict, derived: list[dict]) -> list[dict]:
        """The duos, then the kind of post, labelled in the event's language."""
        with force_locale(event.get("language", "fr")):
            return [{"key": DUO_FRAMEWORK, "label": str(_l("Duo")), "required": True,
                     "items": [{"key": duo["key"], "label": duo["title"]} for duo in duos_of(item)]},
                    {"key": KIND_FRAMEWORK, "label": str(_l("My post is")), "required": True,
                     "items": [{"key": key, "label": str(label)} for key, label in KINDS]}]

    def tables(self, item: dict, event: dict) -> list[dict]:
        """In parallel, one table per duo: its QR code presets the duo."""
        if not item.get("settings", {}).get("parallel"):
            return []
        return [{"key": duo["key"], "name": duo["title"], "tags": {DUO_FRAMEWORK: duo["key"]}, "host": None}
                for duo in duos_of(item)]

    def phases(self, settings: dict) -> list[Phase]:
        """Without the programme item, the duos are not known: one phase for them all."""
        return self._phases(settings, [])

    def item_phases(self, item: dict, event: dict) -> list[Phase]:
        """Welcome, one phase per duo in turn (or one for the duos in parallel), the end."""
        return self._phases(item.get("settings", {}), duos_of(item))

    def _phases(self, settings: dict, duos: list[dict]) -> list[Phase]:
        minutes = settings.get("minutes")
        if settings.get("parallel") or not duos:
            middle = [Phase("duos", _l("Duos in parallel"), minutes=minutes)]
        else:
            middle = [Phase(f"duo-{n}", duo["title"], minutes=minutes) for n, duo in enumerate(duos, 1)]
        return [Phase("welcome", _l("Welcome"), posting=False), *middle, Phase("done", _l("Done"), posting=False)]

    def synthesise(self, session) -> dict:
        """Return per duo its posts, takeaways and questions apart."""
        found = ideas(session)
        duos = next((fw for fw in session.settings.get("frameworks", []) if fw["key"] == DUO_FRAMEWORK), {"items": []})
        return {"format": self.slug, "title": session.title, "question": session.question, "total": len(found),
                "parallel": bool(session.settings.get("format", {}).get("parallel")),
                "duos": [{"key": duo["key"], "title": duo["label"], "summary": "", "presenters": [], "lessons": [],
                          "takeaways": [i for i in found if i["tags"].get(DUO_FRAMEWORK) == duo["key"]
                                        and i["tags"].get(KIND_FRAMEWORK) == "takeaway"],
                          "questions": [i for i in found if i["tags"].get(DUO_FRAMEWORK) == duo["key"]
                                        and i["tags"].get(KIND_FRAMEWORK) == "question"]}
                         for duo in duos["items"]]}


FORMAT = Duo()
