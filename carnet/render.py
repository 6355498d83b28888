"""Turn a booklet's HTML into a PDF with WeasyPrint, fetching nothing but Rouages' own files and the event's uploads."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from flask_babel import gettext as _

ASSETS = Path(__file__).resolve().parent / "static"

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


def document(html: str, *, roots: Iterable[Path] = (), progress: Callable[[str], None] | None = None,
             tagged: bool = False, stylesheets: Iterable[Path] = ()):
    """Lay out HTML whose assets are ``file:`` URLs under ``roots`` or the booklet assets; return WeasyPrint's document.

    ``stylesheets`` are files under the booklet assets applied after the document's own (the print-shop bleed, say).
    """
    # Imported here, not with the module: WeasyPrint loads Pango and HarfBuzz, seconds that a server starting, or a
    # command that lays nothing out, need not wait for.
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from .fetcher import SandboxFetcher

    fetcher = SandboxFetcher([ASSETS, *roots])
    fonts = FontConfiguration()
    extra = [CSS(url=Path(sheet).resolve().as_uri(), url_fetcher=fetcher, font_config=fonts) for sheet in stylesheets]
    with _reporting(progress):
        return HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=fetcher).render(
            stylesheets=extra, font_config=fonts, pdf_tags=tagged)


def save(document, output: Path | BinaryIO, *, progress: Callable[[str], None] | None = None,
         tagged: bool = False) -> int:
    """Write a laid-out document to a PDF file; return its page count."""
    with _reporting(progress):
        # Photos arrive already downsampled for print (app/services/photos.py: print_file), embedded as they are.
        document.write_pdf(output, pdf_tags=tagged, pdf_variant="pdf/ua-1" if tagged else None)
    return len(document.pages)


def write_pdf(html: str, output: Path | BinaryIO, *, roots: Iterable[Path] = (), progress: Callable[[str], None] | None = None,
              tagged: bool = False, stylesheets: Iterable[Path] = ()) -> int:
    """Render HTML whose assets are ``file:`` URLs under ``roots`` or the booklet assets to a PDF; return its page count.

    ``stylesheets`` are files under the booklet assets applied after the document's own (the print-shop bleed, say).
    """
    laid_out = document(html, roots=roots, progress=progress, tagged=tagged, stylesheets=stylesheets)
    return save(laid_out, output, progress=progress, tagged=tagged)
