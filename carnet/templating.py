"""The Jinja environment every booklet renders with: the app's translations and filters, the booklets' and formats' templates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import format_date
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader

from workshops import registry

from .markdown import to_html

TEMPLATES = Path(__file__).resolve().parent / "templates"


# The plain note-taking page, for formats that do not shape their own.
CORE_NOTES = "carnet/notes.html"


def carnet_page(slug: str) -> str:
    """Return the name under which a format's note-taking page of the carnet is loaded (the core's plain one if none)."""
    page = registry()[slug].carnet_template()
    return CORE_NOTES if page is None else f"carnet-{slug}/{page.name}"


def environment() -> Environment:
    """Return the application's Jinja environment (translations, filters) seeing the booklet and format templates.

    A format's restitution section is ``<slug>/booklet.html``; its carnet page is :func:`carnet_page`.
    """
    formats = registry().items()
    sections = {slug: FileSystemLoader(fmt.booklet_template().parent) for slug, fmt in formats}
    pages = {f"carnet-{slug}": FileSystemLoader(page.parent) for slug, fmt in formats
             if (page := fmt.carnet_template()) is not None}
    # Escaping on for every template, whatever its name ends with (a plug-in's page may be ``carnet.j2``).
    env = current_app.jinja_env.overlay(loader=ChoiceLoader([FileSystemLoader(TEMPLATES), PrefixLoader(sections),
                                                             PrefixLoader(pages)]), autoescape=True)
    env.filters["markdown"] = to_html
    env.filters["day"] = day
    return env


def day(value: str | None, pattern: str = "EEEE d MMMM y") -> str:
    """Format an ISO date in the current locale, or return what was given when it is not one."""
    try:
        return format_date(date.fromisoformat(value), pattern)
    except (TypeError, ValueError):
        return value or ""


def event_dates(spec: dict) -> dict | None:
    """Return the event's first and last day: its own dates, else those of its programme."""
    days = [day["date"] for day in spec["programme"] if day.get("date")]
    return spec.get("dates") or ({"start": min(days), "end": max(days)} if days else None)
