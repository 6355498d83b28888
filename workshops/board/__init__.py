"""The board: one open question, posts tagged with the frameworks the item names."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.services.sessions import frameworks_of
from workshops import N_, NP_, Phase, WorkshopFormat, ideas


def tally(session, found: list[dict]) -> list[dict]:
    """Group ideas under each item of each framework of the session, items in framework order, most dots first."""
    out = []
    for framework in frameworks_of(session):
        items = []
        for item in framework["items"]:
            matching = [idea for idea in found if idea["tags"].get(framework["key"]) == item["key"]]
            items.append({"key": item["key"], "label": item["label"], "count": len(matching), "posts": matching})
        untagged = [idea for idea in found if framework["key"] not in idea["tags"]]
        out.append({"key": framework["key"], "label": framework["label"], "required": framework["required"],
                    "items": items, "untagged": untagged})
    return out


class Board(WorkshopFormat):
    """Posts collected on one board, grouped by tag on the wall."""

    slug = "board"
    title = _l("Board")
    description = _l("One question; participants post ideas tagged with the event's frameworks.")
    settings_schema = {"type": "object", "additionalProperties": False, "properties": {
        "notes": {"enum": ["plain", "columns", "grid", "tree"],
                  "description": "Shape of the session's note-taking page in the carnet: lines, a column per item of its "
                                 "tag, a grid of its two required tags, or a tree with a branch per item. By default a "
                                 "grid for two required tags, columns for one of two to four items, else lines."}}}
    example = {"id": "arbre-amorcer", "start": "14:00", "end": "15:00", "title": "Arbre à idées : amorcer",
               "workshop": "board", "question": "Comment amorcer une coopération territoriale ?",
               "tags": [{"framework": "movement", "required": True}, {"framework": "function"}]}
    strings = (N_("Ideas"), N_("Other"), NP_("%(count)s idea in all", "%(count)s ideas in all"),
               NP_("+ %(count)s more idea", "+ %(count)s more ideas"))

    def phases(self, settings: dict) -> list[Phase]:
        """A board only collects."""
        return [Phase("collect", _l("Collecting ideas"))]

    def synthesise(self, session) -> dict:
        """Return every visible idea (most dots first, with the texts merged into it) and the ideas per tag."""
        found = ideas(session)
        return {
            "format": self.slug,
            "title": session.title,
            "question": session.question,
            "total": len(found),
            "merged": sum(len(idea["merged"]) for idea in found),
            "dots": sum(idea["dots"] for idea in found),
            "frameworks": tally(session, found),
            "posts": found,
        }


FORMAT = Board()
