"""Saddle-stitch imposition: an A5 booklet laid out two pages per A4 side for an office printer.

For a booklet of n pages (n a multiple of 4), sheet side k (k = 0 … n/2 - 1) carries, left and right:

    k even: [n - k, k + 1]      side 1 = [n, 1], side 3 = [n-2, 3], …
    k odd:  [k + 1, n - k]      side 2 = [2, n-1], side 4 = [4, n-3], …

Sides 1 and 2 are the front and back of the outer sheet, sides 3 and 4 of the next one, and so on. Printed on A4,
double-sided, flipped on the short edge, at 100 % scale, the sheets stacked in order, folded in the middle and
stapled on the fold give the booklet in reading order.
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import gettext as _
from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.generic import RectangleObject

MM = 72 / 25.4
A5 = (148 * MM, 210 * MM)
A4_LANDSCAPE = (297 * MM, 210 * MM)
# Room for rounding in other tools' page sizes: a quarter of a millimetre.
TOLERANCE = 0.75


def sheet_order(pages: int) -> list[tuple[int, int]]:
    """Return the (left, right) page numbers, counted from 1, of each side of the imposed file."""
    if pages <= 0 or pages % 4:
        raise ValueError(_("A booklet to fold needs a number of pages that is a multiple of 4; this one has %(pages)s.",
                           pages=pages))
    return [(pages - k, k + 1) if k % 2 == 0 else (k + 1, pages - k) for k in range(pages // 2)]


def _is_a5(page: PageObject) -> bool:
    box = page.mediabox
    return abs(float(box.width) - A5[0]) <= TOLERANCE and abs(float(box.height) - A5[1]) <= TOLERANCE


def impose_saddle_stitch(src: Path, dst: Path) -> int:
    """Write the A5 PDF ``src`` imposed two pages per A4-landscape side in saddle-stitch order to ``dst``; return its pages."""
    reader = PdfReader(src)
    pages = list(reader.pages)
    for number, page in enumerate(pages, start=1):
        if page.rotation:
            page.transfer_rotation_to_content()
        if not _is_a5(page):
            width, height = (round(float(v) / MM) for v in (page.mediabox.width, page.mediabox.height))
            raise ValueError(_("Only an A5 booklet (148 × 210 mm) can be imposed; page %(number)s is %(width)s × "
                               "%(height)s mm.", number=number, width=width, height=height))
    order = sheet_order(len(pages))
    writer = PdfWriter()
    # The two pages meet on the fold, the sheet's middle; A4 is a millimetre wider than two A5 pages.
    fold = A4_LANDSCAPE[0] / 2
    for left, right in order:
        side = writer.add_blank_page(*A4_LANDSCAPE)
        for number, x in ((left, fold - A5[0]), (right, fold)):
            page = pages[number - 1]
            box = page.mediabox
            # Merging clips each page to its own box, so nothing spills over the fold.
            side.merge_transformed_page(page, Transformation().translate(x - float(box.left), -float(box.bottom)))
        side.mediabox = RectangleObject((0, 0, *A4_LANDSCAPE))
        # A file for the printer: its links would point at pages it no longer has.
        if "/Annots" in side:
            del side["/Annots"]
    with open(dst, "wb") as out:
        writer.write(out)
    return len(order)
