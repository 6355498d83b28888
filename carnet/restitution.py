"""The restitution: what an event produced, as a booklet (PDF) and as a web page, from the same content."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attendance, Event, Participant, Photo, Post, Vote
from app.services import booklet, photos
from app.services.events import live_sessions
from workshops import registry

from . import charts, render
from .templating import environment, event_dates

__all__ = ["booklet_html", "context", "environment", "figures", "web_html", "write_pdf"]

# The text's width on the page, which photos never exceed: they are downsampled for it before layout.
TEXT_WIDTH_MM = {False: 170, True: 122}


def figures(event: Event, sessions: list) -> dict:
    """Return the participation figures: people, organisations, ideas per session and per framework item, votes."""
    ids = [s.id for s in sessions] or [0]
    people = db.session.scalars(select(Participant).where(Participant.id.in_(
        select(Attendance.participant_id).where(Attendance.session_id.in_(ids)).union(
            select(Post.participant_id).where(Post.session_id.in_(ids)))))).all()
    organisations = {" ".join(p.organisation.casefold().split()) for p in people if p.organisation and p.organisation.strip()}
    visible = db.session.execute(select(Post.session_id, Post.tags).where(
        Post.session_id.in_(ids), Post.hidden.is_(False), Post.merged_into_id.is_(None))).all()
    per_session = Counter(session_id for session_id, _tags in visible)
    frameworks = []
    for framework in event.spec["frameworks"]:
        counts = Counter(tags.get(framework["key"]) for _sid, tags in visible)
        items = [{"label": item["label"], "count": counts.get(item["key"], 0)} for item in framework["items"]]
        if any(item["count"] for item in items):
            frameworks.append({"key": framework["key"], "label": framework["label"], "items": items})
    dots, voters = db.session.execute(
        select(func.coalesce(func.sum(Vote.dots), 0), func.count(Vote.participant_id.distinct()))
        .where(Vote.session_id.in_(ids))).one()
    present = dict(db.session.execute(select(Attendance.session_id, func.count()).where(
        Attendance.session_id.in_(ids)).group_by(Attendance.session_id)).all())
    sessions_rows = [{"key": s.key, "title": s.title, "count": per_session.get(s.id, 0), "people": present.get(s.id, 0)}
                     for s in sessions]
    return {"participants": len(people), "organisations": len(organisations), "ideas": len(visible),
            "dots": int(dots), "voters": int(voters), "sessions": sessions_rows, "frameworks": frameworks,
            "charts": [charts.bars(_("Ideas per session"), [(r["title"], r["count"]) for r in sessions_rows])]
            + [charts.bars(_("%(framework)s: number of ideas", framework=fw["label"]),
                           [(i["label"], i["count"]) for i in fw["items"]]) for fw in frameworks]}


def context(event: Event, *, photo_url: Callable[[Photo], str]) -> dict:
    """Return everything the restitution's templates print, for one event."""
    spec = event.spec
    sessions = live_sessions(event)
    formats = registry()
    by_key = {s.key: s for s in sessions}
    programme = []
    for day in spec["programme"]:
        items = []
        for item in day["items"]:
            session = by_key.get(item.get("id")) if "workshop" in item else None
            items.append({**item, "session": session})
        programme.append({**day, "items": items})
    sections = []
    for session in sessions:
        fmt = formats.get(session.workshop)
        if fmt is None:
            continue
        data = fmt.synthesise(session)
        sections.append({"key": f"session:{session.key}", "anchor": f"session-{session.key}", "session": session,
                         "format": session.workshop, "template": f"{session.workshop}/booklet.html", "data": data,
                         "intro": f"intro:{session.key}", "retain": f"retain:{session.key}",
                         "settings": session.settings})
    return {"event": event, "spec": spec, "dates": event_dates(spec), "texts": booklet.texts(event),
            "photos": photos.placed(event), "photo_url": photo_url,
            "programme": programme, "sections": sections, "figures": figures(event, sessions),
            "show_names": event.show_names, "organisers": spec.get("organisers", [])}


def booklet_html(event: Event, *, a5: bool = False) -> str:
    """Return the restitution as the HTML WeasyPrint lays out, its assets as ``file:`` URLs."""
    with force_locale(event.spec.get("language", "fr")):
        data = context(event, photo_url=lambda photo: photos.print_file(photo, TEXT_WIDTH_MM[a5]).as_uri())
        return environment().get_template("restitution/booklet.html").render(
            **data, a5=a5, assets=render.ASSETS.as_uri(), lang=event.spec.get("language", "fr"))


def web_html(event: Event, photo_url: Callable[[Photo], str]) -> str:
    """Return the body of the restitution's web page (the same content as the booklet)."""
    with force_locale(event.spec.get("language", "fr")):
        data = context(event, photo_url=photo_url)
        return environment().get_template("restitution/web.html").render(**data, web=True,
                                                                          lang=event.spec.get("language", "fr"))


def write_pdf(event: Event, output: Path, *, a5: bool = False, progress: Callable[[str], None] | None = None,
              tagged: bool = False) -> int:
    """Write the event's restitution booklet to ``output``; return its page count.

    ``tagged`` writes the PDF/UA variant for screen readers (its structure tree costs about a fifth more time).
    """
    with force_locale(event.spec.get("language", "fr")):
        html = booklet_html(event, a5=a5)
        return render.write_pdf(html, Path(output), roots=[photos.folder(event.id)], progress=progress, tagged=tagged)
