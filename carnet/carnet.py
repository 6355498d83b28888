"""The Carnet de Bord: the participants' booklet before the event, common to all or with one person's own pages."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pypdf import PdfReader, PdfWriter

from app.models import Event, Participant
from app.services import network, photos, qr, registrants
from app.services.errors import ServiceError
from app.services.eventfile import guest_kinds
from app.services.eventpage import paragraphs, programme_partial
from app.services.events import live_sessions
from app.services.sessions import frameworks_of, live_tables
from app.services.text import slugify
from workshops import registry

from . import render
from .print_shop import print_shop_stylesheet, set_print_boxes
from .templating import carnet_page, environment, event_dates

__all__ = ["booklet_html", "context", "environment", "personal_html", "write_pdf", "write_personal"]

# The pages every carnet starts with and a person's own carnet replaces: the cover and the page facing it.
PERSONAL_PAGES = 2
# People whose own pages are laid out in one document: WeasyPrint keeps a whole layout in memory.
PERSONAL_BATCH = 50
# A logo is printed at most this wide; it is downsampled for it before layout. The cover shows six at most.
LOGO_WIDTH_MM = 40
MAX_LOGOS = 6
_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ÖØ-Þ«\"“])")


def qr_image(url: str) -> str:
    """Return a QR code of ``url`` as a ``data:`` URL of a vector image, sharp at any print size."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr.svg(url)).decode("ascii")


def two_sentences(text: str | None) -> str:
    """Return the first two sentences of a text (all of it when shorter)."""
    parts = _SENTENCE.split(" ".join((text or "").split()))
    return " ".join(parts[:2])


def glossary(spec: dict) -> list[dict]:
    """Return the glossary: the event file's own, else the frameworks' items that are explained, alphabetically."""
    if spec.get("glossary"):
        return spec["glossary"]
    found = {item["label"]: item["description"] for fw in spec.get("frameworks", []) for item in fw["items"]
             if item.get("description")}
    return [{"term": term, "definition": found[term]} for term in sorted(found, key=str.casefold)]


def _items_by_id(spec: dict) -> dict[str, dict]:
    return {item["id"]: item for day in spec["programme"] for item in day["items"] if item.get("id")}


def workshops(event: Event) -> list[dict]:
    """Return each live session's page: its question, how it works, its join QR code and its note-taking page."""
    formats, items, out = registry(), _items_by_id(event.spec), []
    for session in live_sessions(event):
        fmt = formats.get(session.workshop)
        if fmt is None:
            continue
        item = items.get(session.key, {})
        url = network.join_url(session.code)
        tables = [{"key": t.key, "name": t.name, "tags": t.tags} for t in live_tables(session)]
        notes = {"frameworks": frameworks_of(session), "tables": tables,
                 "harvest": session.settings.get("harvest", []), "settings": session.settings.get("format", {}),
                 "format": fmt.carnet_notes(session)}
        out.append({"session": session, "anchor": f"session-{session.key}", "format": fmt.title,
                    "how": two_sentences(item.get("description")) or str(fmt.description),
                    "url": url, "qr": qr_image(url), "template": carnet_page(session.workshop), "notes": notes})
    return out


def context(event: Event, a4: bool = False) -> dict:
    """Return everything the common pages of the carnet print, for one event."""
    spec = event.spec
    pages = workshops(event)
    by_key = {page["session"].key: page for page in pages}
    formats = registry()
    programme = [{**day, "items": [{**item, "page": by_key.get(item.get("id")),
                                    "programme": programme_partial(formats.get(item.get("workshop")), "{slug}/{name}")}
                                   for item in day["items"]]}
                 for day in spec["programme"]]
    kinds = guest_kinds(spec)
    guests = [{**guest, "kind_label": kinds.get(guest.get("kind"), "")} for guest in spec.get("guests", [])]
    width = LOGO_WIDTH_MM * (1.4 if a4 else 1)
    return {"event": event, "spec": spec, "lang": spec.get("language", "fr"), "a4": a4, "assets": render.ASSETS.as_uri(),
            "dates": event_dates(spec), "logos": [photos.print_file(p, width).as_uri() for p in photos.logos(event)[:MAX_LOGOS]],
            "welcome": spec.get("welcome") or spec.get("description"), "programme": programme, "guests": guests,
            "workshops": pages, "sheets": spec.get("sheets", []), "glossary": glossary(spec),
            "organisers": spec.get("organisers", []), "partners": spec.get("partners", []),
            "print": True, "paragraphs": paragraphs}


def route(participant: Participant, sessions: list) -> list[dict]:
    """Return the world café tables a rotation plan seats a person at: [{session, tables: [name per round]}]."""
    out = []
    for session in sessions:
        seats = (session.plan or {}).get("assignments", {}).get(str(participant.id))
        if not seats:
            continue
        names = {t.key: t.name for t in session.tables}
        out.append({"session": session, "tables": [names.get(key, key) for key in seats]})
    return out


def personal(participant: Participant, sessions: list, anchor: str | None = None) -> dict:
    """Return what a person's own pages print: who they are, their own QR code (if they have one) and their tables."""
    url = registrants.personal_url(participant) if participant.badge else None
    return {"name": participant.name or "", "organisation": participant.organisation, "url": url,
            "qr": qr_image(url) if url else None, "route": route(participant, sessions), "anchor": anchor}


def _lang(event: Event) -> str:
    return event.spec.get("language", "fr")


def booklet_html(event: Event, a4: bool = False, participant: Participant | None = None, *, notes: int = 1) -> str:
    """Return the carnet as the HTML WeasyPrint lays out, with ``notes`` note pages before the back cover."""
    with force_locale(_lang(event)):
        data = context(event, a4)
        person = personal(participant, live_sessions(event)) if participant is not None else None
        return environment().get_template("carnet/booklet.html").render(**data, person=person, notes=notes)


def personal_html(event: Event, people: list[Participant], a4: bool = False) -> str:
    """Return, in one document, the personal pages (cover and facing page) of every person given, in that order."""
    with force_locale(_lang(event)):
        data = context(event, a4)
        sessions = live_sessions(event)
        return environment().get_template("carnet/personal.html").render(
            **data, people=[personal(p, sessions, anchor=f"person-{n}") for n, p in enumerate(people)])


def padding(pages: int) -> int:
    """Return how many note pages make a booklet of ``pages`` pages (with one note page) a multiple of four."""
    return 1 + (-pages) % 4


def _roots(event: Event) -> list[Path]:
    return [photos.folder(event.id)]


def write_pdf(event: Event, output: Path, a4: bool = False, progress: Callable[[str], None] | None = None,
              participant: Participant | None = None, *, print_shop: bool = False) -> int:
    """Write the event's carnet to ``output``, padded to a multiple of four pages with note pages; return its page count.

    ``print_shop`` writes the A5 file for a print shop: 3 mm of bleed, trim and bleed boxes, crop marks.
    """
    sheets = [print_shop_stylesheet()] if print_shop else []
    with force_locale(_lang(event)):
        laid_out = render.document(booklet_html(event, a4, participant), roots=_roots(event), progress=progress,
                                   stylesheets=sheets)
        extra = padding(len(laid_out.pages)) - 1
        if extra:
            laid_out = render.document(booklet_html(event, a4, participant, notes=1 + extra), roots=_roots(event),
                                       progress=progress, stylesheets=sheets)
        if len(laid_out.pages) % 4:
            # The padding's note pages changed the pages before them (an entry of the contents moved, say): a file
            # that cannot be folded into a booklet is refused rather than printed.
            raise ServiceError("carnet_not_foldable", _l(
                "The carnet has %(pages)s pages, which cannot be folded into a booklet (a multiple of four is "
                "needed).", pages=len(laid_out.pages)))
        pages = render.save(laid_out, Path(output), progress=progress)
    if print_shop:
        set_print_boxes(Path(output))
    return pages


def personal_name(participant: Participant) -> str:
    """Return the file name of a person's carnet: their place in the list, then their name."""
    name = slugify(participant.name) if participant.name and participant.name.strip() else "participant"
    return f"{participant.registered_position:03d}-{name}.pdf"


MERGED_NAME = "carnets-all.pdf"


def write_personal(event: Event, out_dir: Path, a4: bool = False, progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write one carnet per registrant into ``out_dir`` and all of them merged, in list order; return the files.

    Without a registration list, refuse (ServiceError ``no_registrants``) and write nothing.

    The common pages are laid out once and every person's cover and facing page in a few more documents, of
    ``PERSONAL_BATCH`` people each (memory stays flat however long the list); each person's PDF is then assembled
    from them, so a person costs two pages of layout, not a whole carnet.
    """
    people = registrants.registrants(event)
    if not people:
        raise ServiceError("no_registrants", _l("The event “%(title)s” has no registration list: import one before "
                                                "printing personal carnets.", title=event.title))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    common_path = out_dir / ".common.pdf"
    parts: list[Path] = []
    try:
        with force_locale(_lang(event)):
            write_pdf(event, common_path, a4=a4, progress=progress)
            for first in range(0, len(people), PERSONAL_BATCH):
                group = people[first:first + PERSONAL_BATCH]
                laid_out = render.document(personal_html(event, group, a4), roots=_roots(event), progress=progress)
                check_personal_pages(laid_out, group)
                parts.append(out_dir / f".personal-{len(parts)}.pdf")
                render.save(laid_out, parts[-1], progress=progress)
                del laid_out  # before the next batch is laid out
        return assemble(common_path, parts, [out_dir / personal_name(p) for p in people], out_dir / MERGED_NAME,
                        progress=progress)
    finally:
        common_path.unlink(missing_ok=True)
        for part in parts:
            part.unlink(missing_ok=True)


def check_personal_pages(laid_out, people: list[Participant]) -> None:
    """Refuse (ServiceError ``personal_overflow``, naming the person) pages where someone's did not fit their two."""
    found = {anchor: n for n, page in enumerate(laid_out.pages) for anchor in page.anchors}
    for k, person in enumerate(people):
        after = found.get(f"person-{k + 1}", len(laid_out.pages))
        if found.get(f"person-{k}") != PERSONAL_PAGES * k or after != PERSONAL_PAGES * (k + 1):
            raise ServiceError("personal_overflow", _l(
                "The personal pages of %(name)s do not fit on their two pages: shorten their name or organisation, "
                "or seat them at fewer world café tables.", name=person.name or f"#{person.registered_position}"))


def assemble(common: Path, personal: list[Path], outputs: list[Path], merged: Path,
             progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write each person's carnet (the common one with their pages first) and the merged file, in list order.

    ``personal`` holds everyone's own pages, ``PERSONAL_PAGES`` a person, in list order across the files.
    """
    base = common.read_bytes()
    personal_pages = [page for path in personal for page in PdfReader(path).pages]
    for n, output in enumerate(outputs):
        if progress is not None:
            progress(_("Assembling carnet %(n)s of %(total)s…", n=n + 1, total=len(outputs)))
        # An incremental update of the common file: its pages, contents, links and bookmarks are kept byte for
        # byte, only the person's pages are written (a third of the time of copying every page into a new file).
        writer = PdfWriter(io.BytesIO(base), incremental=True)
        for k in range(PERSONAL_PAGES):
            writer.insert_page(personal_pages[PERSONAL_PAGES * n + k], k)
        for _k in range(PERSONAL_PAGES):
            writer.remove_page(PERSONAL_PAGES)
        with output.open("wb") as stream:
            writer.write(stream)
    # The merged file is for the printer: every person's pages, the common ones stored once and shown many times.
    common_reader = PdfReader(io.BytesIO(base))
    pages = len(common_reader.pages)
    writer = PdfWriter()
    for n in range(len(outputs)):
        for k in range(PERSONAL_PAGES * n, PERSONAL_PAGES * (n + 1)):
            writer.add_page(personal_pages[k])
        for k in range(PERSONAL_PAGES, pages):
            writer.add_page(common_reader.pages[k])
    writer.add_metadata({key: value for key, value in (common_reader.metadata or {}).items() if isinstance(value, str)})
    with merged.open("wb") as stream:
        writer.write(stream)
    return [*outputs, merged]
