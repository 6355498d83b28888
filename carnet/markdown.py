"""Organisers' Markdown as safe HTML for the booklets: nothing in a text can run or make anything be fetched."""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markupsafe import Markup

# Only addresses a reader follows on purpose: no relative paths (the PDF renderer would resolve them against the
# server), no file:, data: or javascript:.
LINK_SCHEMES = {"http", "https", "mailto"}
# A text sits under its booklet section's title (h2): its own headings start one level below.
HEADING_SHIFT = 2


def _allowed_link(url: str) -> bool:
    """Tell whether a link's address may become a link; markdown-it renders the others as the text typed."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    if parts.scheme.lower() not in LINK_SCHEMES:
        return False
    return parts.scheme.lower() == "mailto" or bool(parts.netloc)


def _demote_headings(state) -> None:
    """Move every heading down so that `#` becomes an h3 and nothing goes below h6."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + HEADING_SHIFT)}"


def _image_as_text(renderer, tokens, idx, options, env) -> str:
    """Render an image as its description: a text never makes the PDF renderer or a browser fetch anything."""
    return escape(renderer.renderInlineAsText(tokens[idx].children or [], options, env))


def _parser() -> MarkdownIt:
    """Build the parser: CommonMark without raw HTML, single line breaks kept as typed."""
    md = MarkdownIt("commonmark", {"html": False, "breaks": True})
    md.validateLink = _allowed_link
    md.core.ruler.push("demote_headings", _demote_headings)
    md.add_render_rule("image", _image_as_text)
    return md


_MD = _parser()


def to_html(body: str | None) -> Markup:
    """Return an organiser's Markdown as HTML safe to put in a booklet or a web page."""
    return Markup(_MD.render(body or ""))
