"""Turn a booklet's HTML into a PDF with WeasyPrint, fetching nothing but Rouages' own files and the event's uploads."""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask_babel import gettext as _
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSETS = Path(__file__).resolve().parent / "static"
log = logging.getLogger(__name__)

class SandboxFetcher(URLFetcher):
    """A URL fetcher that reads only files under the given folders and ``data:`` URLs; it refuses everything else."""

    def __init__(self, roots: Iterable[Path]):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
        self.roots = [Path(root).resolve() for root in roots]
        self.refused: list[str] = []

    def fetch(self, url: str, headers=None):
        """Return the file or data the URL names, or raise ValueError (WeasyPrint then leaves the resource out)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(url2pathname(parts.path)).resolve()
            if path.is_file() and any(path.is_relative_to(root) for root in self.roots):
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": kind})
        self.refused.append(url)
        log.warning("booklet: refused to fetch %s", url[:200])
        raise ValueError(f"Rouages booklets fetch nothing from {url[:200]!r}")


_PAGE = re.compile(r"Page (\d+)")


def progress_message(step: str) -> str:
    """Return what the console shows for one of WeasyPrint's progress steps."""
    if "layout" in step:
        page = _PAGE.search(step)
        return _("Laying out… page %(page)s", page=page.group(1)) if page else _("Laying out…")
    if "PDF" in step:
        return _("Writing the PDF…")
    return _("Reading the content…")


class _Progress(logging.Handler):
    def __init__(self, report: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.report = report

    def emit(self, record: logging.LogRecord) -> None:
        self.report(progress_message(record.getMessage()))


@contextmanager
def _reporting(report: Callable[[str], None] | None):
    logger = logging.getLogger("weasyprint.progress")
    if report is None:
        yield
        return
    handler, level = _Progress(report), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def write_pdf(html: str, output: Path | BinaryIO, *, roots: Iterable[Path] = (), progress: Callable[[str], None] | None = None,
              tagged: bool = False, stylesheets: Iterable[Path] = ()) -> int:
    """Render HTML whose assets are ``file:`` URLs under ``roots`` or the booklet assets to a PDF; return its page count.

    ``stylesheets`` are files under the booklet assets applied after the document's own (the print-shop bleed, say).
    """
    fetcher = SandboxFetcher([ASSETS, *roots])
    fonts = FontConfiguration()
    extra = [CSS(url=Path(sheet).resolve().as_uri(), url_fetcher=fetcher, font_config=fonts) for sheet in stylesheets]
    with _reporting(progress):
        document = HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=fetcher).render(
            stylesheets=extra, font_config=fonts, pdf_tags=tagged)
        # Photos arrive already downsampled for print (app/services/photos.py: print_file), embedded as they are.
        document.write_pdf(output, pdf_tags=tagged, pdf_variant="pdf/ua-1" if tagged else None)
    return len(document.pages)
