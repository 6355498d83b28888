"""QR codes of join URLs, as SVG for screens and PNG for print."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _code(data: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=2)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def svg(data: str) -> bytes:
    """Return a QR code of `data` as a standalone SVG path."""
    image = _code(data).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode").encode("utf-8")


def png(data: str, box_size: int = 12) -> bytes:
    """Return a QR code of `data` as a PNG large enough to print."""
    qr = _code(data)
    qr.box_size = box_size
    out = io.BytesIO()
    qr.make_image().save(out, format="PNG")
    return out.getvalue()


def terminal(data: str) -> str:
    """Return a QR code of `data` drawn with text blocks for a terminal."""
    out = io.StringIO()
    _code(data).print_ascii(out=out, invert=True)
    return out.getvalue()


def print_data_uri(data: str) -> str:
    """Return a QR code of `data` as a PNG ``data:`` URL for a printed page; draw it with ``image-rendering: pixelated``.

    WeasyPrint draws a PNG at once where an SVG path costs it ~35 ms per code to parse; pixelated, it prints sharp at
    any size, and its 8 pixels per module keep it readable where a stylesheet forgets to ask for that.
    """
    return "data:image/png;base64," + base64.b64encode(png(data, box_size=8)).decode("ascii")
