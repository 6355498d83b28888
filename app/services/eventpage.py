"""The event's public page: the Carnet de Bord on a phone, with what is on now and what comes next."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..models import Event, Session
from . import eventfile
from .events import live_sessions
from .text import slugify

# Labels of the programme's kinds of moment, as the event file names them; a kind named after a workshop format's
# slug is labelled with the format's title.
ITEM_KINDS = {"welcome": _l("Welcome"), "plenary": _l("Plenary"), "forum": _l("Forum"), "workshop": _l("Workshop"),
              "break": _l("Break"), "meal": _l("Meal"), "visit": _l("Visit"), "festive": _l("Festivities")}
# The built-in kinds of guest in the page's language; an event's own guest_kinds label their keys themselves.
GUEST_KINDS = {"ptce": _l("PTCE"), "tiers-lieu": _l("Third place"), "projet-collectif": _l("Collective project"),
               "collectivite": _l("Local authority"), "reseau": _l("Network"), "entreprise": _l("Company"),
               "etat": _l("State"), "autre": _l("Other kind of organisation")}
_PARAGRAPHS = re.compile(r"\n\s*\n")


def paragraphs(text: str | None) -> list[str]:
    """Split a plain text into its paragraphs (separated by a blank line)."""
    return [part.strip() for part in _PARAGRAPHS.split(text or "") if part.strip()]


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def schedule(spec: dict) -> list[dict]:
    """Return every programme item in order as {date, start, end, title, room, anchor}: the page's clock data."""
    out, seen = [], set()
    for day in spec["programme"]:
        for item in day["items"]:
            anchor = base = f"item-{day['date']}-{eventfile.item_key(item) or 'item'}"
            n = 1
            while anchor in seen:  # two "Pause" on one day
                n += 1
                anchor = f"{base}-{n}"
            seen.add(anchor)
            out.append({"date": day["date"], "start": item["start"], "end": item["end"], "title": item["title"],
                        "room": item.get("room"), "anchor": anchor, "key": item.get("id") if "workshop" in item else None})
    return out


def local_now(spec: dict, now: datetime | None = None) -> datetime:
    """Return `now` (an aware datetime, the current time when None) at the venue, in the event's time zone."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(eventfile.timezone(spec))


def now_and_next(spec: dict, now: datetime | None = None) -> dict:
    """Return what the programme runs at `now` and what starts next, during the event only.

    ``{"now": [items], "next": [items]}``: every item under way (start <= now < end, venue time), and the items
    starting soonest after now (on a later day of the event when today's programme is over). Both are empty before
    the event's first day and after its last. static/js/event.js computes the same from the device's clock.
    """
    local = local_now(spec, now)
    today, minute = local.date().isoformat(), local.hour * 60 + local.minute
    items = schedule(spec)
    days = [day["date"] for day in spec["programme"]]
    span = spec.get("dates") or {"start": min(days), "end": max(days)}
    if not span["start"] <= today <= span["end"]:
        return {"now": [], "next": []}
    current = [i for i in items if i["date"] == today and _minutes(i["start"]) <= minute < _minutes(i["end"])]
    later = [i for i in items if (i["date"], _minutes(i["start"])) > (today, minute)]
    # In minutes, not as text: the file may write 9:30 as well as 09:30.
    soonest = min(((i["date"], _minutes(i["start"])) for i in later), default=None)
    return {"now": current, "next": [i for i in later if (i["date"], _minutes(i["start"])) == soonest]}


def joinable(event: Event, now: datetime | None = None) -> list[Session]:
    """Return the sessions a participant can join from the page now, in programme order.

    A session shows on its own day at the venue while posting is open (a late-running workshop stays), and during
    its programme slot even while posting is still closed (a world café's welcome). On other days none shows: a
    board is open from its import, weeks before the event. A retired session (dropped from the file) never shows.
    """
    today = local_now(event.spec, now).date().isoformat()
    running = {i["key"] for i in now_and_next(event.spec, now)["now"] if i["key"]}
    return [s for s in live_sessions(event)
            if s.key in running or (s.is_open and s.settings.get("day") == today)]


_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(/\S*)?$", re.IGNORECASE)


def web_link(value: str | None) -> str | None:
    """Return the address a website field may link to (http or https only), or None to show it as text."""
    value = (value or "").strip()
    if re.match(r"^https?://[^\s/]+\S*$", value, re.IGNORECASE):
        return value
    return f"https://{value}" if _DOMAIN.match(value) else None


def phone_link(value: str | None) -> str | None:
    """Return a tel: address for a phone number written for print, or None when it holds no digits."""
    digits = re.sub(r"[^0-9+]", "", value or "")
    return f"tel:{digits}" if re.search(r"\d", digits) else None


def _day_label(value: str) -> str:
    return format_date(date.fromisoformat(value), "EEEE d MMMM")


def _dates(spec: dict) -> str:
    days = [day["date"] for day in spec["programme"]]
    span = spec.get("dates") or {"start": min(days), "end": max(days)}
    start, end = date.fromisoformat(span["start"]), date.fromisoformat(span["end"])
    if start == end:
        return format_date(start, "EEEE d MMMM y")
    return _("%(start)s to %(end)s", start=format_date(start, "EEEE d MMMM"), end=format_date(end, "EEEE d MMMM y"))


def _kind_label(kind: str | None, formats: Mapping) -> str | None:
    label = ITEM_KINDS.get(kind) or (formats[kind].title if kind in formats else None)
    return str(label) if label is not None else None


def programme_partial(fmt, pattern: str) -> str | None:
    """Return the template name of what `fmt` adds to its items in the programme (None: nothing), in `pattern`."""
    name = fmt.programme_template() if fmt is not None else None
    return pattern.format(slug=fmt.slug, name=name) if name else None


def page(event: Event, formats: Mapping, now: datetime | None = None) -> dict:
    """Return everything the event page shows, in the current locale, as plain values.

    `formats` maps workshop slugs to their formats (workshops.registry()), for the names of the workshops' formats.
    """
    spec = event.spec
    kinds = {**{key: str(label) for key, label in GUEST_KINDS.items()}, **spec.get("guest_kinds", {})}
    clock = schedule(spec)
    anchors = iter(clock)
    open_sessions = joinable(event, now)
    codes = {s.key: s.code for s in open_sessions}
    days = []
    for day in spec["programme"]:
        items = []
        for item in day["items"]:
            fmt = formats.get(item["workshop"]) if "workshop" in item else None
            kind = item.get("kind") or ("workshop" if fmt else None)
            items.append({**item, "anchor": next(anchors)["anchor"],
                          "kind_label": _kind_label(kind, formats),
                          "format_label": str(fmt.title) if fmt else None,
                          "paragraphs": paragraphs(item.get("description")),
                          "code": codes.get(item.get("id")) if fmt else None,
                          "programme": programme_partial(fmt, "formats/{slug}/{name}")})
        days.append({"date": day["date"], "label": _day_label(day["date"]), "title": day.get("title"), "items": items})
    guests, seen = [], set()
    for guest in spec.get("guests", []):
        anchor = base = f"guest-{slugify(guest['name']) or 'guest'}"
        n = 1
        while anchor in seen:
            n += 1
            anchor = f"{base}-{n}"
        seen.add(anchor)
        guests.append({**guest, "anchor": anchor, "kind_label": kinds.get(guest.get("kind")),
                       "paragraphs": paragraphs(guest.get("presentation"))})
    sheets = [{**sheet, "anchor": f"sheet-{sheet['key']}", "paragraphs": paragraphs(sheet["body"])}
              for sheet in spec.get("sheets", [])]
    on = now_and_next(spec, now)
    day_labels = {day["date"]: day["label"] for day in days}
    return {
        "event": event, "spec": spec, "language": spec.get("language", "fr"),
        "dates": _dates(spec), "place": spec.get("place"), "description": paragraphs(spec.get("description")),
        "days": days, "guests": guests, "sheets": sheets, "organisers": spec.get("organisers", []),
        "partners": spec.get("partners", []),
        "open_sessions": [{"code": s.code, "title": s.title, "question": s.question} for s in open_sessions],
        "now": on["now"], "next": on["next"], "today": local_now(spec, now).date().isoformat(),
        "published": event.published_at is not None,
        # What static/js/event.js needs to keep « now » and « next » right from the device's clock, offline too.
        "clock": {"timezone": str(eventfile.timezone(spec)), "items": clock, "days": day_labels,
                  "span": spec.get("dates") or {"start": min(day_labels), "end": max(day_labels)},
                  "labels": {"now": _("Now"), "next": _("Next"), "until": _("until %(time)s"),
                             "at": _("at %(time)s"), "on": _("%(day)s at %(time)s")}},
    }
