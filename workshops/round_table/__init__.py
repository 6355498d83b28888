"""Round table: speakers debate, the room asks questions it upvotes, the speakers' closing words are quoted."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.services.text import slugify
from workshops import N_, Phase, WorkshopFormat, ideas

SPEAKER_FRAMEWORK = "speaker"

SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "moderation": {"enum": ["immediate", "review"],
                       "description": "immediate: questions appear at once; review: they wait for a moderator."},
        "minutes": {"type": "integer", "minimum": 1, "maximum": 180,
                    "description": "Length of the audience's questions; the countdown starts with them."},
    },
}


def speakers_of(item: dict) -> list[dict]:
    """Return the item's speakers, each with its key (a slug of its name)."""
    return [{**speaker, "key": slugify(speaker["name"])} for speaker in item.get("speakers", [])]


class RoundTable(WorkshopFormat):
    """Speakers debate; the room's questions rise by upvotes; the facilitator quotes each speaker's closing words."""

    slug = "round_table"
    title = _l("Round table")
    description = _l("Speakers debate while the room asks questions and upvotes them, openly or after moderation; the "
                     "facilitator records each speaker's closing words, published only with their consent.")
    settings_schema = SETTINGS_SCHEMA
    questions = True
    strings = (
        N_("For %(name)s"),
        N_("Questions from the room"),
        N_("Who said it"),
        N_("Choose the speaker"),
        N_("Their words"),
        N_("Agreed to publication"),
        N_("Only quotes the speaker agreed to publish reach the booklet and the web page."),
        N_("Save the quote"),
        N_("Save the changes"),
        N_("Cancel"),
        N_("Edit"),
        N_("Delete"),
        N_("No quote yet."),
        N_("Published"),
        N_("Not published"),
        N_("The last word: quotes"),
    )
    example = {"id": "table-ronde", "start": "14:00", "end": "15:45", "kind": "round_table", "workshop": "round_table",
               "title": "Politiques publiques et coopérations territoriales, quels enjeux ?",
               "question": "Quelle question poseriez-vous aux intervenants ?",
               "speakers": [{"name": "Anne-Laure Federici", "role": "Animation, déléguée générale",
                             "organisation": "RTES"},
                            {"name": "Patricia Andriot", "role": "Vice-présidente", "organisation": "RTES"}],
               "settings": {"moderation": "review", "minutes": 30}}

    def review(self, settings: dict) -> bool:
        """Questions wait for a moderator when the settings ask for it."""
        return settings.get("moderation") == "review"

    def spotlight_scope(self, tags: dict) -> str:
        """One spotlighted question for the whole table."""
        return ""

    def tags(self, item: dict, event: dict) -> list[dict]:
        """A question may name the speaker it is for."""
        return [{"framework": SPEAKER_FRAMEWORK, "required": False}]

    def frameworks(self, item: dict, event: dict, derived: list[dict]) -> list[dict]:
        """The speakers a question may be addressed to."""
        with force_locale(event.get("language", "fr")):
            return [{"key": SPEAKER_FRAMEWORK, "label": str(_l("My question is for")), "required": False,
                     "items": [{"key": s["key"], "label": s["name"]} for s in speakers_of(item)]}]

    def phases(self, settings: dict) -> list[Phase]:
        """Welcome, the exchanges, the room's questions (timed when the settings say so), the closing words, the end."""
        return [Phase("welcome", _l("Welcome"), posting=False), Phase("talk", _l("Exchanges")),
                Phase("questions", _l("Questions from the room"), minutes=settings.get("minutes")),
                Phase("closing", _l("Closing words"), posting=False), Phase("done", _l("Done"), posting=False)]

    def synthesise(self, session) -> dict:
        """Return the speakers and the room's questions."""
        found = ideas(session)
        speakers = next((fw for fw in session.settings.get("frameworks", []) if fw["key"] == SPEAKER_FRAMEWORK),
                        {"items": []})
        return {"format": self.slug, "title": session.title, "question": session.question, "total": len(found),
                "speakers": [{"key": s["key"], "name": s["label"], "role": None, "organisation": None}
                             for s in speakers["items"]],
                "questions": found, "quotes": []}


FORMAT = RoundTable()
