"""Photos of the event: checked and re-encoded uploads, moderation, placement in the booklet, files to print and serve.

An upload is trusted for nothing: its type is read from its content (JPEG, PNG or WebP), its pixel count is checked
before anything is decoded, and what is stored is a new JPEG drawn from the decoded pixels, turned upright, in
sRGB, with no metadata at all (no EXIF, so no GPS position, no comment, no XMP), under a random name.
"""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select

from ..config import native_thread_runner
from ..extensions import db
from ..models import Event, Organiser, Participant, Photo
from .booklet import photo_sections
from .errors import ServiceError, whole_number
from .text import clean_line

log = logging.getLogger("rouages")

CAPTION_MAX = 300
FORMATS = ("JPEG", "PNG", "WEBP")
STATUSES = ("pending", "shown", "hidden")
QUALITY = 85
LONG_EDGE = 2560
PRINT_DPI = 250
# Widths a web page may ask for (thumbnails, the restitution page): a fixed few, so the cache stays small.
WEB_WIDTHS = (480, 1200)
# What an upload is stored as: a random token and .jpg; a derived copy adds .w<pixels>.
_NAME = re.compile(r"^([A-Za-z0-9_-]{16,64})\.jpg$")


@dataclass
class Encoded:
    """A re-encoded photo, ready to be written: JPEG bytes and their pixel size."""

    data: bytes
    width: int
    height: int


def too_large(max_bytes: int) -> ServiceError:
    return ServiceError("photo_too_large", _l("This photo is too large (at most %(size)s MB).",
                                               size=max(1, round(max_bytes / 1_000_000))), 413)


def _too_many_pixels() -> ServiceError:
    return ServiceError("photo_too_many_pixels", _l("This picture has too many pixels to be processed. Send a "
                                                    "smaller one (a phone photo is fine)."), 413)


def _unreadable() -> ServiceError:
    return ServiceError("photo_unreadable", _l("This file is not a photo this server can read: send a JPEG, PNG "
                                               "or WebP picture, complete."))


def read_upload(stream, max_bytes: int) -> bytes:
    """Read an upload's bytes, refusing an empty one or one larger than `max_bytes` (0: no limit)."""
    data = stream.read(max_bytes + 1) if max_bytes else stream.read()
    if not data:
        raise ServiceError("photo_empty", _l("Choose a photo to send."))
    if max_bytes and len(data) > max_bytes:
        raise too_large(max_bytes)
    return data


def _to_srgb(image: Image.Image) -> Image.Image:
    """Return the image's pixels in sRGB (a phone's Display P3 photo keeps its colours once its profile is gone)."""
    icc = image.info.get("icc_profile")
    if icc:
        try:
            return ImageCms.profileToProfile(image, ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                             ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: the pixels are taken as they are
    return image.convert("RGB")


def encode(data: bytes, max_pixels: int) -> Encoded:
    """Check an upload's bytes are a JPEG, PNG or WebP image of at most `max_pixels`, and re-encode it clean.

    Pure computation on bytes (no application, no database): it may run in a native thread.
    """
    try:
        # Pillow refuses (error) or warns about images far above its own cap when it reads their header; both are
        # bombs to us. The header alone is read here: nothing is decoded before our own cap below.
        with Image.open(io.BytesIO(data), formats=FORMATS) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _unreadable() from None
    with image:
        width, height = image.size
        if width < 1 or height < 1:
            raise _unreadable()
        if max_pixels and width * height > max_pixels:
            raise _too_many_pixels()
        try:
            if image.format in ("JPEG", "MPO"):
                image.draft("RGB", (LONG_EDGE, LONG_EDGE))  # decodes a large JPEG at a fraction of its size
            # WeasyPrint turns on Pillow's process-wide tolerance of truncated images when it is imported (the
            # booklets import it): a cut-off upload would then be stored half grey. Ours must be whole; WeasyPrint
            # only ever reads the complete files stored here.
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            image.load()
            upright = ImageOps.exif_transpose(image)
            if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
                # Transparent areas print white, not black.
                rgba = upright.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                upright = Image.alpha_composite(background, rgba)
                upright.info = {"icc_profile": image.info.get("icc_profile")} if image.info.get("icc_profile") else {}
            clean = _to_srgb(upright)
            clean.thumbnail((LONG_EDGE, LONG_EDGE), Image.Resampling.LANCZOS)
            clean.info = {}  # nothing of the original travels: Pillow would write a JPEG comment from here
            out = io.BytesIO()
            clean.save(out, "JPEG", quality=QUALITY, optimize=True)
        except (OSError, SyntaxError, ValueError, EOFError):
            raise _unreadable() from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        return Encoded(out.getvalue(), clean.width, clean.height)


def _run_off_loop(fn: Callable):
    """Run CPU-heavy image work in a native thread under gevent or eventlet, so the room keeps being served."""
    runner = native_thread_runner(current_app.config["ASYNC_MODE"])
    return runner(fn) if runner else fn()


def folder(event_id: int) -> Path:
    """Return the folder of an event's photos under the data directory."""
    return Path(current_app.config["DATA_DIR"]) / "uploads" / str(int(event_id))


def file_path(photo: Photo) -> Path:
    """Return the stored file of a photo (for serving it)."""
    if not _NAME.fullmatch(photo.filename):
        raise ServiceError("unknown_photo", _l("This photo does not exist."), 404)
    return folder(photo.event_id) / photo.filename


def _write(path: Path, data: bytes) -> None:
    """Write a file whole or not at all."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(temporary, "wb") as fh:
        fh.write(data)
    os.replace(temporary, path)


def clean_caption(value) -> str:
    """Return a caption fit to store, or refuse it."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ServiceError("invalid_field", _l("The field %(field)s must be text.", field="caption"))
    value = clean_line(value)
    if len(value) > CAPTION_MAX:
        raise ServiceError("caption_too_long", _l("The caption is too long (at most %(max)s characters).",
                                                  max=CAPTION_MAX))
    return value


def add_photo(event: Event, stream, caption=None, *, participant: Participant | None = None,
              organiser: Organiser | None = None) -> Photo:
    """Check, re-encode and store an uploaded photo: an organiser's is shown, a participant's waits for moderation.

    Refused input stores nothing: no row, no file.
    """
    if (participant is None) == (organiser is None):
        raise ValueError("a photo comes from a participant or an organiser")
    caption = clean_caption(caption)
    data = read_upload(stream, current_app.config["PHOTO_MAX_BYTES"])
    max_pixels = current_app.config["PHOTO_MAX_PIXELS"]
    encoded = _run_off_loop(lambda: encode(data, max_pixels))
    filename = f"{secrets.token_urlsafe(18)}.jpg"
    photo = Photo(event_id=event.id, participant_id=participant.id if participant else None,
                  organiser_id=organiser.id if organiser else None, filename=filename, caption=caption,
                  width=encoded.width, height=encoded.height, size=len(encoded.data),
                  status="shown" if organiser else "pending")
    path = folder(event.id) / filename
    try:
        _write(path, encoded.data)
    except OSError as error:  # a full disk, a read-only data directory: said as such, with the cause logged
        log.error("Could not store a photo in %s: %s", path.parent, error)
        raise ServiceError("storage_unavailable", _l("The server cannot save the photo right now. Try again "
                                                     "later."), 503) from None
    try:
        db.session.add(photo)
        db.session.commit()
    except Exception:
        db.session.rollback()
        path.unlink(missing_ok=True)
        raise
    return photo


def photos_of(event: Event) -> list[Photo]:
    """Return every photo of an event for the console: waiting ones, then by section in booklet order, unplaced last."""
    order = {s["key"]: n for n, s in enumerate(photo_sections(event))}
    photos = db.session.scalars(select(Photo).where(Photo.event_id == event.id).order_by(Photo.created_at, Photo.id))
    # Photos waiting for review come first: they are what the organisers have to look at.
    return sorted(photos, key=lambda p: (p.status != "pending", order.get(p.section, len(order)),
                                         p.position if p.section else 0))


def get_photo(event: Event, photo_id) -> Photo:
    """Return a photo of this event, or refuse."""
    photo_id = whole_number(photo_id, "photo_id")
    photo = db.session.get(Photo, photo_id)
    if photo is None or photo.event_id != event.id:
        raise ServiceError("unknown_photo", _l("This photo does not exist."), 404)
    return photo


def _next_position(event_id: int, section: str) -> int:
    last = db.session.scalar(select(func.max(Photo.position)).where(Photo.event_id == event_id,
                                                                   Photo.section == section))
    return (last or 0) + 1


def update(photo: Photo, caption=None, status=None, section=...) -> Photo:
    """Change a photo's caption, status (shown or hidden) or section (None: not placed); only what is given."""
    event = db.session.get(Event, photo.event_id)
    if caption is not None:
        caption = clean_caption(caption)
    if status is not None and status not in ("shown", "hidden"):
        raise ServiceError("invalid_field", _l("The field %(field)s must be one of: %(choices)s.", field="status",
                                               choices="shown, hidden"))
    if section is not ... and section not in (None, LOGO_SECTION) and section not in {s["key"] for s in photo_sections(event)}:
        raise ServiceError("unknown_section", _l("This section is not in the booklet."))
    if caption is not None:
        photo.caption = caption
    if status is not None:
        photo.status = status
    if section is not ... and section != photo.section:
        photo.section = section
        photo.position = _next_position(photo.event_id, section) if section else 0
    db.session.commit()
    return photo


def move(photo: Photo, step: int) -> Photo:
    """Move a placed photo one place earlier (-1) or later (+1) within its section."""
    if step not in (-1, 1):
        raise ServiceError("invalid_field", _l("The field %(field)s must be one of: %(choices)s.", field="direction",
                                               choices="up, down"))
    if not photo.section:
        raise ServiceError("photo_not_placed", _l("Place the photo in a section first."))
    siblings = list(db.session.scalars(select(Photo).where(Photo.event_id == photo.event_id,
                                                           Photo.section == photo.section)
                                       .order_by(Photo.position, Photo.id)))
    index = siblings.index(photo)
    if 0 <= index + step < len(siblings):
        siblings[index], siblings[index + step] = siblings[index + step], siblings[index]
    for position, sibling in enumerate(siblings, start=1):
        sibling.position = position
    db.session.commit()
    return photo


def delete(photo: Photo) -> None:
    """Delete a photo, its file and every copy made of it."""
    directory, name = folder(photo.event_id), photo.filename
    db.session.delete(photo)
    db.session.commit()
    stem = name.removesuffix(".jpg")
    for path in [directory / name, *directory.glob(f"{stem}.w*.jpg")]:
        path.unlink(missing_ok=True)


def set_participant_photos(event: Event, enabled: bool) -> None:
    """Let participants send photos from their phone, or stop them."""
    event.participant_photos = bool(enabled)
    db.session.commit()


def placed(event: Event) -> dict[str, list[Photo]]:
    """Return the shown photos placed in the booklet, by section key in booklet order, each in its order."""
    keys = [s["key"] for s in photo_sections(event)]
    rows = db.session.scalars(select(Photo).where(Photo.event_id == event.id, Photo.status == "shown",
                                                  Photo.section.in_(keys))
                              .order_by(Photo.position, Photo.id))
    out: dict[str, list[Photo]] = {key: [] for key in keys}
    for photo in rows:
        out[photo.section].append(photo)
    return {key: photos for key, photos in out.items() if photos}


# The organisers' logos printed on the carnet's cover are photos filed under this section, in their order.
LOGO_SECTION = "carnet-logos"


def logos(event: Event) -> list[Photo]:
    """Return the organisers' logos for the carnet's cover, shown ones only, in their order."""
    return list(db.session.scalars(select(Photo).where(Photo.event_id == event.id, Photo.section == LOGO_SECTION,
                                                       Photo.status == "shown").order_by(Photo.position, Photo.id)))


def is_public(event: Event, photo: Photo) -> bool:
    """Whether anyone may see a photo: the restitution is published and the photo shown and placed in it."""
    return (event.published_at is not None and photo.event_id == event.id and photo.status == "shown"
            and photo.section in {s["key"] for s in photo_sections(event)})


def resized(photo: Photo, width: int) -> Path:
    """Return a JPEG of the photo `width` pixels wide (never wider than it is), made once and kept beside it."""
    original = file_path(photo)
    if width >= photo.width:
        return original
    path = original.with_name(f"{original.stem}.w{width}.jpg")
    if not path.exists():
        def make() -> bytes:
            with Image.open(original, formats=["JPEG"]) as image:
                height = max(1, round(image.height * width / image.width))
                image.draft("RGB", (width, height))
                small = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                small.save(out, "JPEG", quality=QUALITY, optimize=True)
                return out.getvalue()

        _write(path, _run_off_loop(make))
    return path


def print_width(width_mm: float) -> int:
    """Return the pixel width of a photo printed `width_mm` wide at print resolution (PRINT_DPI)."""
    return max(1, round(width_mm / 25.4 * PRINT_DPI))


def print_file(photo: Photo, width_mm: float) -> Path:
    """Return a JPEG of the photo at print resolution for `width_mm` millimetres wide, cached beside the original."""
    if not width_mm or width_mm <= 0:
        raise ValueError("width_mm must be positive")
    return resized(photo, print_width(width_mm))



def by_filename(event: Event, filename: str) -> Photo | None:
    """Return the event's photo stored under this name, if any."""
    if not isinstance(filename, str) or not _NAME.fullmatch(filename):
        return None
    return db.session.scalar(select(Photo).where(Photo.event_id == event.id, Photo.filename == filename))
