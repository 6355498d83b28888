"""Organiser texts: Markdown to safe HTML, with no raw HTML, no images and only web or mail links."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False}).disable("image")
_md.validateLink = lambda url: url.strip().lower().startswith(("http://", "https://", "mailto:"))


def to_html(body: str | None) -> Markup:
    """Return an organiser's Markdown as HTML that fetches nothing and runs nothing."""
    return Markup(_md.render(body or ""))
