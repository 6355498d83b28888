"""The print-shop file: pages with 3 mm of bleed, trim and bleed boxes, and crop marks outside the bleed.

WeasyPrint lays the bleed out (``print-shop.css``: ``@page { bleed: 3mm }``) and writes the TrimBox and BleedBox.
Its own ``marks: crop`` draws the marks inside that 3 mm, over the bleeding colours, so the marks are drawn here
instead, in a margin added around the bleed where a print shop expects them.
"""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream, NameObject, RectangleObject

from . import render
from .render import ASSETS

MM = 72 / 25.4
BLEED_MM = 3
# Marks start this far from the trim (beyond the bleed) and are this long; the page gets a little air around them.
MARK_OFFSET_MM = 4
MARK_LENGTH_MM = 6
SLUG_MM = 2
MARK_WIDTH_PT = 0.25


def print_shop_stylesheet() -> Path:
    """Return the stylesheet that gives every page its bleed, to render after the booklet's own."""
    return ASSETS / "print-shop.css"


def _marks(trim: RectangleObject) -> bytes:
    """Return the drawing of the crop marks around a trim box, in registration colour (every ink)."""
    left, bottom, right, top = (float(v) for v in (trim.left, trim.bottom, trim.right, trim.top))
    near, far = MARK_OFFSET_MM * MM, (MARK_OFFSET_MM + MARK_LENGTH_MM) * MM
    lines = []
    for x, sx in ((left, -1), (right, 1)):
        for y, sy in ((bottom, -1), (top, 1)):
            lines.append((x + sx * near, y, x + sx * far, y))  # along the horizontal trim edge
            lines.append((x, y + sy * near, x, y + sy * far))  # along the vertical trim edge
    path = " ".join(f"{x1:.3f} {y1:.3f} m {x2:.3f} {y2:.3f} l" for x1, y1, x2, y2 in lines)
    return f"q {MARK_WIDTH_PT} w 0 J 1 1 1 1 K {path} S Q".encode()


def set_print_boxes(path: Path, bleed_mm: float = BLEED_MM) -> int:
    """Give each page of a PDF rendered with bleed its TrimBox, BleedBox and crop marks, in place; return the page count.

    The TrimBox is the page's size without bleed (WeasyPrint's, or the MediaBox less ``bleed_mm``), the BleedBox is
    ``bleed_mm`` around it and the MediaBox grows to hold the marks. What lay outside the bleed is clipped away.
    """
    reader = PdfReader(path)
    writer = PdfWriter(clone_from=reader)
    bleed = bleed_mm * MM
    margin = (MARK_OFFSET_MM + MARK_LENGTH_MM + SLUG_MM) * MM
    for page in writer.pages:
        if "/TrimBox" in page:
            trim = RectangleObject(page.trimbox)
        else:
            media = page.mediabox
            trim = RectangleObject((float(media.left) + bleed, float(media.bottom) + bleed,
                                    float(media.right) - bleed, float(media.top) - bleed))
        left, bottom, right, top = (float(v) for v in (trim.left, trim.bottom, trim.right, trim.top))
        bleed_box = RectangleObject((left - bleed, bottom - bleed, right + bleed, top + bleed))
        clip = f"q {left - bleed:.3f} {bottom - bleed:.3f} {right - left + 2 * bleed:.3f} {top - bottom + 2 * bleed:.3f} re W n\n"
        content = page.get_contents()
        body = content.get_data() if content is not None else b""
        stream = ContentStream(None, writer)
        stream.set_data(clip.encode() + body + b"\nQ\n" + _marks(trim))
        page.replace_contents(stream)
        page.mediabox = RectangleObject((left - margin, bottom - margin, right + margin, top + margin))
        page[NameObject("/CropBox")] = page.mediabox
        page[NameObject("/BleedBox")] = bleed_box
        page[NameObject("/TrimBox")] = trim
    with open(path, "wb") as out:
        writer.write(out)
    return len(writer.pages)


def write_pdf(html: str, output: Path, **options) -> int:
    """Render a booklet's HTML as the print-shop file (bleed, boxes, crop marks); return its page count.

    ``options`` are those of :func:`carnet.render.write_pdf` (``roots``, ``progress``…).
    """
    pages = render.write_pdf(html, Path(output), stylesheets=[print_shop_stylesheet()], **options)
    set_print_boxes(Path(output))
    return pages
