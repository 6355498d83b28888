"""Duo feedback: a local authority and a cooperation tell how they worked together; the room keeps takeaways and asks."""

from __future__ import annotations

from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l

from app.services import records
from app.services.errors import ServiceError, whole_number
from app.services.text import clean_post_text, person_key, slugify
from workshops import MODERATION_SETTING, N_, NP_, Phase, WorkshopFormat, item_of, questions

DUO_FRAMEWORK = "duo"
KIND_FRAMEWORK = "kind"
KINDS = (("takeaway", _l("What I take away")), ("question", _l("A question")))
SIDES = ("authority", "cooperation")
LESSONS_MAX = 5
LESSON_MAX = 300
# How many takeaways and questions of a duo the booklet prints.
BOOKLET_TAKEAWAYS = 8
BOOKLET_QUESTIONS = 5

SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "parallel": {"type": "boolean",
                     "description": "false: the duos speak one after another in one room; true: at the same time in "
                                    "several rooms, each duo a table with its own join QR code."},
        "moderation": MODERATION_SETTING,
        "minutes": {"type": "integer", "minimum": 1, "maximum": 180,
                    "description": "Length of a duo's slot; its countdown starts with it."},
    },
}


def duos_of(item: dict) -> list[dict]:
    """Return the item's duos, each with its key (a slug of its title)."""
    return [{**duo, "key": slugify(duo["title"])} for duo in item.get("duos", [])]



def guest_of(organisation: str | None, event: dict) -> dict | None:
    """Return the event's guest this organisation is ({anchor, name} as the event page links it), or None."""
    if not organisation:
        return None
    wanted = person_key(organisation)
    for guest in event.get("guests", []):
        if person_key(guest.get("name")) == wanted:
            return {"anchor": f"guest-{slugify(guest['name']) or 'guest'}", "name": guest["name"]}
    return None


def presenters_of(duo: dict, event: dict) -> list[dict]:
    """Return a duo's two presenters, the authority first, each linked to the event's guest they belong to."""
    out = []
    for side in SIDES:
        contact = duo.get(side)
        if contact:
            out.append({"name": contact["name"], "role": contact.get("role"),
                        "organisation": contact.get("organisation"), "side": side,
                        "guest": guest_of(contact.get("organisation"), event)})
    return out


def lessons_key(duo: str) -> str:
    """Return the key of the record holding a duo's key lessons."""
    return f"lessons:{duo}"


def clean_lessons(value) -> list[str]:
    """Return the lessons a console sent, cleaned, or refuse them (1 to LESSONS_MAX texts of 1..LESSON_MAX chars)."""
    if not isinstance(value, list) or not all(isinstance(text, str) for text in value):
        raise ServiceError("invalid_field", _l("The field %(field)s must be a list of texts.", field="lessons"))
    lessons = [clean_post_text(text) for text in value]
    if not 1 <= len(lessons) <= LESSONS_MAX:
        raise ServiceError("lessons_count", _l("Write from 1 to %(max)s key lessons.", max=LESSONS_MAX))
    if not all(lessons):
        raise ServiceError("lesson_empty", _l("A key lesson is empty: write it or remove it."))
    if any(len(text) > LESSON_MAX for text in lessons):
        raise ServiceError("field_too_long", _l("The field %(field)s is too long (at most %(max)s characters).",
                                                 field="lessons", max=LESSON_MAX))
    return lessons


def by_duo(found: list[dict], duo: str, kind: str) -> list[dict]:
    """Return the posts of one duo and kind."""
    return [post for post in found if post["tags"].get(DUO_FRAMEWORK) == duo and post["tags"].get(KIND_FRAMEWORK) == kind]


class Duo(WorkshopFormat):
    """Duos of a local authority and a cooperation tell their story; the room posts takeaways and upvotes questions."""

    slug = "duo"
    title = _l("Duo feedback")
    description = _l("A local authority and a cooperation tell how they worked together; participants post what they "
                     "take away and ask questions the room upvotes; the facilitator writes each duo's key lessons.")
    settings_schema = SETTINGS_SCHEMA
    questions = True
    item_fields = ("duos",)
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
        NP_("+ %(count)s more takeaway", "+ %(count)s more takeaways"),
        NP_("said %(count)s time", "said %(count)s times"),
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

    def check_settings(self, item: dict, event: dict) -> list[tuple[tuple, str]]:
        """The item lists its duos, each with its own title; posts are tagged by the format, not the item."""
        problems = []
        if "tags" in item:
            problems.append((("tags",), "a duo session tags posts with its duos and kinds of post: remove tags"))
        duos = item.get("duos") or []
        if not duos:
            problems.append((("duos",), "a duo session needs its duos: list them under duos (title, authority, "
                             "cooperation, summary)"))
        keys = [slugify(duo.get("title", "")) for duo in duos]
        for n, key in enumerate(keys):
            if not key:
                problems.append((("duos", n, "title"), "give this duo a title with letters or digits"))
            elif key in keys[:n]:
                problems.append((("duos", n, "title"), f"{duos[n]['title']!r} is too close to another duo's title: "
                                 "give each duo its own"))
        return problems

    def actions(self) -> dict:
        """The console writes each duo's key lessons and reads where each duo stands."""
        return {"lessons": self.lessons, "overview": self.overview}

    def duo_keys(self, session) -> dict[str, str]:
        """Return the session's duos by key: their titles."""
        framework = next((fw for fw in session.settings.get("frameworks", []) if fw["key"] == DUO_FRAMEWORK),
                         {"items": []})
        return {duo["key"]: duo["label"] for duo in framework["items"]}

    def lessons(self, session, payload: dict) -> dict:
        """Store a duo's key lessons, if nobody changed them since revision `rev`."""
        duo = payload.get("duo")
        if not isinstance(duo, str) or duo not in self.duo_keys(session):
            raise ServiceError("unknown_duo", _l("This duo is not in the session."))
        lessons = clean_lessons(payload.get("lessons"))
        rev = whole_number(payload.get("rev"), "rev")
        stored = records.put(session, lessons_key(duo), {"lessons": lessons}, rev)
        record = records.record_payload(stored)
        records.tell_screens(session, "duo.lessons", {"code": session.code, "duo": duo, "record": record})
        return {"record": record}

    def overview(self, session, payload: dict) -> dict:
        """Return per duo its presenters, key lessons and how many takeaways and questions it has."""
        found = questions(session)
        event = session.event.spec
        duos = []
        for duo in duos_of(item_of(session)):
            duos.append({"key": duo["key"], "title": duo["title"], "presenters": presenters_of(duo, event),
                         "lessons": records.record_payload(records.get(session, lessons_key(duo["key"]))),
                         "takeaways": len(by_duo(found, duo["key"], "takeaway")),
                         "questions": len(by_duo(found, duo["key"], "question"))})
        return {"duos": duos}

    def rehearsal(self, payload: dict, phase: str, rng) -> list[tuple[str, dict]]:
        """Phones post and upvote through the core's events: a duo has no participant action of its own."""
        return []

    def rehearsal_console(self, payload: dict, phase: str, lines, rng) -> list[tuple[str, dict]]:
        """At the end of a duo (of all of them, in parallel), the facilitator writes its key lessons."""
        duos = next((fw["items"] for fw in payload.get("frameworks", []) if fw["key"] == DUO_FRAMEWORK), [])
        number = phase.removeprefix("duo-")
        if phase == "duos":
            ended = duos
        elif number.isascii() and number.isdigit() and 1 <= int(number) <= len(duos):
            ended = [duos[int(number) - 1]]
        else:
            return []
        written = [(duo["key"], [text.text for text in lines({DUO_FRAMEWORK: duo["key"]})][:LESSONS_MAX])
                   for duo in ended]
        return [("lessons", {"duo": key, "lessons": lessons, "rev": 0}) for key, lessons in written if lessons]

    def synthesise(self, session) -> dict:
        """Return per duo its theme, presenters, key lessons, best-voted takeaways and most upvoted questions."""
        found = questions(session)
        event = session.event.spec
        lessons = {r.key.split(":", 1)[1]: r.data.get("lessons", []) for r in records.find(session, "lessons:")}
        duos = []
        for duo in duos_of(item_of(session)):
            takeaways = sorted(by_duo(found, duo["key"], "takeaway"),
                               key=lambda post: (-(post["upvotes"] + post["dots"]), post["seq"]))
            asked = by_duo(found, duo["key"], "question")
            duos.append({"key": duo["key"], "title": duo["title"], "summary": duo.get("summary", ""),
                         "presenters": presenters_of(duo, event), "lessons": lessons.get(duo["key"], []),
                         "takeaways": takeaways, "questions": asked,
                         "counts": {"takeaways": len(takeaways), "questions": len(asked),
                                    "answered": sum(post["answered"] for post in asked)},
                         "top_takeaways": takeaways[:BOOKLET_TAKEAWAYS], "top_questions": asked[:BOOKLET_QUESTIONS]})
        takeaways, asked = (sum(d["counts"][kind] for d in duos) for kind in ("takeaways", "questions"))
        figures = " · ".join((ngettext("%(num)s duo", "%(num)s duos", len(duos)),
                              ngettext("%(num)s takeaway", "%(num)s takeaways", takeaways),
                              ngettext("%(num)s question", "%(num)s questions", asked)))
        return {"format": self.slug, "title": session.title, "question": session.question, "total": len(found),
                "figures": figures, "parallel": bool(session.settings.get("format", {}).get("parallel")),
                "takeaways": takeaways, "questions": asked, "duos": duos}


FORMAT = Duo()
