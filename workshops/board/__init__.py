"""The board: one open question, posts tagged with the frameworks the item names."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.services.moderation import merged_posts
from app.services.posting import post_payload, posts_since
from app.services.sessions import frameworks_of
from workshops import Phase, WorkshopFormat


def tally(session, posts) -> list[dict]:
    """Count posts per item of each framework of the session, items in framework order."""
    out = []
    for framework in frameworks_of(session):
        items = []
        for item in framework["items"]:
            matching = [p for p in posts if p.tags.get(framework["key"]) == item["key"]]
            items.append({"key": item["key"], "label": item["label"], "count": len(matching),
                          "posts": [p.text for p in matching]})
        out.append({"key": framework["key"], "label": framework["label"], "items": items})
    return out


class Board(WorkshopFormat):
    """Posts collected on one board, grouped by tag on the wall."""

    slug = "board"
    title = _l("Board")
    description = _l("One question; participants post ideas tagged with the event's frameworks.")
    example = {"id": "arbre-amorcer", "start": "14:00", "end": "15:00", "title": "Arbre à idées : amorcer",
               "workshop": "board", "question": "Comment amorcer une coopération territoriale ?",
               "tags": [{"framework": "movement", "required": True}, {"framework": "function"}]}

    def phases(self, settings: dict) -> list[Phase]:
        """A board only collects."""
        return [Phase("collect", _l("Collecting ideas"))]

    def synthesise(self, session) -> dict:
        """Return every visible post with the texts merged into it, and the counts per tag (a merge counts once)."""
        posts = posts_since(session, 0)
        merged = merged_posts(session)
        return {
            "format": self.slug,
            "title": session.title,
            "question": session.question,
            "total": len(posts),
            "merged": sum(len(merged.get(p.id, [])) for p in posts),
            "frameworks": tally(session, posts),
            "posts": [{**{key: post_payload(p, session)[key] for key in ("seq", "text", "tags", "author", "organisation")},
                       "merged": [m.text for m in merged.get(p.id, [])]} for p in posts],
        }


FORMAT = Board()
