"""A fishbowl: one idea in the centre of the room, the ones before it on a ring of chairs around it."""

from __future__ import annotations

from workshops import N_, NP_, Phase, WorkshopFormat, ideas


class Fishbowl(WorkshopFormat):
    """Posts shown as a ring of chairs, the newest one in the centre."""

    slug = "fishbowl"
    title = "Fishbowl"
    description = "The newest idea in the centre, the ones before it on a ring of chairs."
    settings_schema = {"type": "object", "additionalProperties": False, "properties": {
        "chairs": {"type": "integer", "minimum": 3, "maximum": 12,
                   "description": "How many ideas sit on the ring around the centre."}}}
    example = {"id": "bocal", "start": "16:00", "end": "16:45", "title": "Bocal",
               "workshop": "fishbowl", "question": "Que garder de cette journée ?", "settings": {"chairs": 5},
               "tags": [{"framework": "movement", "required": True}]}
    strings = (N_("No ideas yet."), NP_("%(count)s idea", "%(count)s ideas"))

    def phases(self, settings: dict) -> list[Phase]:
        """One step: the bowl is open."""
        return [Phase("bowl", "Bowl", posting=True)]

    def synthesise(self, session) -> dict:
        """Return the ideas, most dotted first, and how many chairs the ring had."""
        found = ideas(session)
        return {"format": self.slug, "title": session.title, "question": session.question, "total": len(found),
                "chairs": session.settings.get("format", {}).get("chairs", 6), "posts": found}


FORMAT = Fishbowl()
