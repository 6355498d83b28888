"""Photos: uploads checked from their content and stored clean, moderation and placement, print copies, serving."""

from __future__ import annotations

import io
import re
import struct
import zlib
from datetime import datetime
from pathlib import Path

import pytest
import weasyprint  # noqa: F401 (as in production, where the booklets import it: it makes Pillow accept truncated files)
from PIL import ExifTags, Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.extensions import db
from app.models import Event, Photo
from app.services import photos
from conftest import login

RED, BLUE = (220, 30, 30), (30, 30, 220)


# Pictures made here, byte for byte -----------------------------------------------------------------------------

def two_halves(width: int, height: int) -> Image.Image:
    """A picture whose left half is red and right half blue: its orientation can be read back."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def jpeg_with_gps(width=400, height=200, orientation=6) -> bytes:
    """A JPEG as a phone writes it: EXIF orientation, a GPS position, a camera model and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Model] = "Téléphone de Camille"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (50.0, 37.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (3.0, 3.0, 40.0)
    out = io.BytesIO()
    two_halves(width, height).save(out, "JPEG", exif=exif, comment=b"rue des Secrets 12", quality=95)
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as check:  # the test's own premise: the input carries a position
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    return data


def noisy_jpeg(width: int, height: int) -> bytes:
    """A JPEG of random pixels (large once encoded, like a photo's detail)."""
    import os

    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "JPEG", quality=90)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header declares `width` × `height` pixels: a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))


# The stage ----------------------------------------------------------------------------------------------------

@pytest.fixture
def organiser_http(app, organiser, event):
    """A signed-in organiser's HTTP client."""
    http = app.test_client()
    login(http)
    return http


def csrf(http, slug="petite-rencontre") -> str:
    page = http.get(f"/console/e/{slug}/photos").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


def multipart(fields: dict, data: bytes, filename: str, content_type="image/jpeg") -> dict:
    """Keyword arguments posting a multipart form with a `photo` file (encoded in memory, never spooled to disk)."""
    boundary, body = encode_multipart({**fields, "photo": FileStorage(io.BytesIO(data), filename,
                                                                      content_type=content_type)})
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def upload_as_organiser(http, data: bytes, caption="", filename="photo.jpg"):
    """Send a photo through the console's form."""
    return http.post("/console/e/petite-rencontre/photos",
                     **multipart({"csrf_token": csrf(http), "caption": caption}, data, filename))


def joined_phone(app, event) -> tuple:
    """A phone that joined the event's first session over HTTP: (client, token)."""
    http = app.test_client()
    answer = http.post(f"/api/sessions/{event.sessions[0].code}/join", json={"name": "Camille"}).get_json()
    http.set_cookie("rouages_participant", answer["participant"]["token"])
    return http, answer["participant"]["token"]


def send_from_phone(http, data: bytes, caption="", filename="IMG_0001.jpg", content_type="image/jpeg"):
    return http.post("/api/events/petite-rencontre/photos",
                     **multipart({"caption": caption}, data, filename, content_type))


def allow_participants(read, enabled=True):
    def run():
        db.session.scalar(select(Event)).participant_photos = enabled
        db.session.commit()
    read(run)


def stored(read) -> list[Photo]:
    def run():
        rows = list(db.session.scalars(select(Photo).order_by(Photo.id)))
        for row in rows:
            db.session.expunge(row)
        return rows
    return read(run)


def files(app) -> list[Path]:
    """Every file under the uploads folder (temporary ones included)."""
    root = Path(app.config["DATA_DIR"]) / "uploads"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def get(client, url):
    """GET a URL and close the answer (a file's answer holds the file open until closed)."""
    with client.get(url) as response:
        response.data  # noqa: B018 (read before closing)
        return response


def path_of(app, photo: Photo) -> Path:
    return Path(app.config["DATA_DIR"]) / "uploads" / str(photo.event_id) / photo.filename


# Checks on what is stored -------------------------------------------------------------------------------------

def test_photo_with_gps_is_stored_upright_without_any_metadata(app, organiser_http, read):
    """EXIF orientation applied, then nothing of the original's metadata kept: no EXIF, GPS, comment."""
    response = upload_as_organiser(organiser_http, jpeg_with_gps(), caption="  La  table   Animation ")
    assert response.status_code == 303
    [photo] = stored(read)
    assert photo.status == "shown" and photo.organiser_id is not None and photo.participant_id is None
    assert photo.caption == "La table Animation"
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}\.jpg", photo.filename) and photo.filename != "photo.jpg"
    path = path_of(app, photo)
    assert files(app) == [path]
    raw = path.read_bytes()
    assert photo.size == len(raw)
    assert b"Exif" not in raw and b"Secrets" not in raw and b"Camille" not in raw
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info and "comment" not in image.info and "xmp" not in image.info
        # Orientation 6 turns the 400 × 200 picture a quarter clockwise: its red left half is now on top.
        assert image.size == (200, 400) == (photo.width, photo.height)
        top, bottom = image.getpixel((100, 80)), image.getpixel((100, 320))
    assert top[0] > 180 and top[2] < 80, top
    assert bottom[2] > 180 and bottom[0] < 80, bottom


def test_png_is_accepted_and_stored_as_jpeg_with_transparency_white(app, organiser_http, read):
    """A PNG with an alpha channel becomes a JPEG; what was transparent prints white."""
    image = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    image.paste((30, 30, 220, 255), (0, 0, 150, 120))
    out = io.BytesIO()
    image.save(out, "PNG")
    assert upload_as_organiser(organiser_http, out.getvalue(), filename="schema.png").status_code == 303
    [photo] = stored(read)
    with Image.open(path_of(app, photo)) as back:
        assert back.format == "JPEG" and back.size == (300, 120)
        assert min(back.getpixel((250, 60))) > 240


def test_webp_with_a_colour_profile_is_stored_as_jpeg_without_it(app, organiser_http, read):
    """A WebP is accepted; a colour profile is applied to the pixels, then dropped with the other metadata."""
    from PIL import ImageCms

    # The pixels go through the profile (here sRGB, so they keep their colours); the stored file has none.
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    two_halves(200, 100).save(out, "WEBP", quality=95, icc_profile=profile)
    assert upload_as_organiser(organiser_http, out.getvalue(), filename="x.webp").status_code == 303
    [photo] = stored(read)
    with Image.open(path_of(app, photo)) as back:
        assert back.format == "JPEG" and back.size == (200, 100)
        assert "icc_profile" not in back.info
        red = back.getpixel((20, 50))
    assert red[0] > 180 and red[2] < 80, red


def test_large_photo_is_scaled_to_the_long_edge_cap(app, organiser_http, read):
    """A photo larger than 2560 px on its long edge is stored at 2560."""
    assert upload_as_organiser(organiser_http, noisy_jpeg(3000, 1000)).status_code == 303
    [photo] = stored(read)
    assert (photo.width, photo.height) == (2560, 853)


@pytest.mark.parametrize("case", ["text", "truncated", "empty", "gif", "bomb", "too_many_pixels", "caption"])
def test_bad_uploads_are_refused_with_their_code_and_store_nothing(app, event, read, case):
    """Not an image, a truncated file, nothing, a GIF, a bomb, too many pixels, a long caption: nothing stored."""
    allow_participants(read)
    phone, _token = joined_phone(app, event)
    caption = ""
    if case == "text":
        data, code = b"Ceci n'est pas une photo.\n" * 40, "photo_unreadable"
    elif case == "truncated":
        whole = noisy_jpeg(300, 300)
        data, code = whole[: len(whole) // 2], "photo_unreadable"
    elif case == "empty":
        data, code = b"", "photo_empty"
    elif case == "gif":
        out = io.BytesIO()
        two_halves(40, 40).save(out, "GIF")
        data, code = out.getvalue(), "photo_unreadable"
    elif case == "bomb":  # ten billion pixels declared in a file of a hundred bytes
        data, code = png_declaring(100_000, 100_000), "photo_too_many_pixels"
        assert len(data) < 200
    elif case == "too_many_pixels":  # over our cap, under Pillow's own
        data, code = png_declaring(8000, 6000), "photo_too_many_pixels"
    else:
        data, code, caption = jpeg_with_gps(), "caption_too_long", "x" * 301
    response = send_from_phone(phone, data, caption=caption)
    answer = response.get_json()
    assert answer["ok"] is False and answer["error"]["code"] == code, answer
    assert answer["error"]["message"]
    assert response.status_code in (400, 413)
    assert stored(read) == [] and files(app) == []


def test_upload_over_the_size_cap_is_refused_with_413(app, event, read):
    """A photo larger than PHOTO_MAX_BYTES is refused before it is decoded; the rest of the API keeps its own cap."""
    app.config["PHOTO_MAX_BYTES"] = 60_000
    allow_participants(read)
    phone, _token = joined_phone(app, event)
    big = noisy_jpeg(300, 300)
    assert 60_000 < len(big) < 60_000 + 64 * 1024  # within the form's overhead: the service's own check refuses it
    response = send_from_phone(phone, big)
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "photo_too_large"
    huge = noisy_jpeg(900, 900)  # beyond the body a photo form may have: refused from its Content-Length
    response = send_from_phone(phone, huge)
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "photo_too_large"
    assert stored(read) == [] and files(app) == []
    # Bodies of other endpoints are still capped at their own size, even above a photo's.
    response = phone.post(f"/api/sessions/{event.sessions[0].code}/join", data=b"{" + b" " * 70_000 + b"}",
                          content_type="application/json")
    assert response.status_code == 413


def test_organiser_upload_larger_than_other_bodies_is_accepted(app, organiser_http, read):
    """A 5 MB photo passes, though every other body is capped at 4 MB."""
    data = noisy_jpeg(2400, 2200)
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]
    assert upload_as_organiser(organiser_http, data).status_code == 303
    [photo] = stored(read)
    assert photo.width == 2400


def test_organiser_upload_refusal_is_shown_on_the_page(app, organiser_http, read):
    """A refused organiser upload comes back to the page with its message."""
    response = upload_as_organiser(organiser_http, b"GIF89a nothing", filename="x.jpg")
    assert response.status_code == 303
    page = organiser_http.get(response.headers["Location"]).get_data(as_text=True)
    assert "JPEG, PNG" in page and stored(read) == []


# Participants -------------------------------------------------------------------------------------------------

def test_participants_are_refused_while_photos_are_disabled(app, event, read):
    """The organisers have not opened photo sending: refused, nothing stored."""
    phone, _token = joined_phone(app, event)
    response = send_from_phone(phone, jpeg_with_gps())
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "photos_disabled"
    assert stored(read) == [] and files(app) == []
    page = phone.get(f"/j/{event.sessions[0].code}").get_data(as_text=True)
    assert 'id="photo-form"' not in page


def test_participant_photo_arrives_pending_when_enabled(app, event, read):
    """Enabled: the phone shows the form, and its photo is stored waiting for review, as the participant's."""
    allow_participants(read)
    phone, _token = joined_phone(app, event)
    page = phone.get(f"/j/{event.sessions[0].code}").get_data(as_text=True)
    assert 'id="photo-form"' in page and 'accept="image/*"' in page
    response = send_from_phone(phone, jpeg_with_gps(), caption="Notre arbre", content_type="text/plain")
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["photo"]["status"] == "pending" and answer["photo"]["caption"] == "Notre arbre"
    [photo] = stored(read)
    assert photo.status == "pending" and photo.participant_id is not None and photo.organiser_id is None


def test_participant_token_can_come_in_the_form(app, event, read):
    """A phone whose cookie is gone sends its token with the form; a stranger's upload is refused unread."""
    allow_participants(read)
    _phone, token = joined_phone(app, event)
    stranger = app.test_client()
    response = send_from_phone(stranger, jpeg_with_gps())
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_joined"
    response = stranger.post("/api/events/petite-rencontre/photos",
                             **multipart({"token": token}, jpeg_with_gps(), "a.jpg"))
    assert response.status_code == 201
    assert response.get_json()["photo"]["status"] == "pending"
    response = stranger.post("/api/events/nope/photos", **multipart({}, b"x", "a.jpg"))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_event"


def test_participant_uploads_are_rate_limited(app, event, read):
    """Past its burst, a participant's next photo waits: too_many_photos with Retry-After, nothing stored."""
    app.config.update(LIMIT_PHOTOS_BURST=2, LIMIT_PHOTOS_PER_MINUTE=1)
    allow_participants(read)
    phone, _token = joined_phone(app, event)
    data = jpeg_with_gps()
    assert [send_from_phone(phone, data).status_code for _ in range(2)] == [201, 201]
    response = send_from_phone(phone, data)
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "too_many_photos"
    assert int(response.headers["Retry-After"]) > 0
    assert len(stored(read)) == 2


# Moderation, placement, order ---------------------------------------------------------------------------------

def test_moderation_caption_placement_and_order_are_stored(app, organiser_http, event, read):
    """Show a participant's photo, caption it, place three in a section, move one up, delete one."""
    allow_participants(read)
    phone, _token = joined_phone(app, event)
    assert send_from_phone(phone, jpeg_with_gps()).status_code == 201
    for n in range(2):
        upload_as_organiser(organiser_http, jpeg_with_gps(), caption=f"Orga {n}")
    first, second, third = (p.id for p in stored(read))
    token = csrf(organiser_http)
    base = "/console/e/petite-rencontre/photos"
    section = f"session:{event.sessions[0].key}"

    def post(path, **form):
        response = organiser_http.post(f"{base}{path}", data={"csrf_token": token, **form})
        assert response.status_code == 303, (path, response.status_code)
        return response

    post(f"/{first}", status="shown", caption="Le world café", section=section)
    post(f"/{second}", section=section)
    post(f"/{third}", section=section, status="hidden")
    rows = {p.id: p for p in stored(read)}
    assert rows[first].status == "shown" and rows[first].caption == "Le world café"
    assert rows[third].status == "hidden"
    assert [rows[i].position for i in (first, second, third)] == [1, 2, 3]
    post(f"/{third}/move", direction="up")
    post(f"/{third}/move", direction="up")
    post(f"/{first}/move", direction="up")  # already second after the moves: first now
    rows = {p.id: p for p in stored(read)}
    order = sorted(rows, key=lambda i: rows[i].position)
    assert order == [first, third, second]

    def placed_ids():
        return {key: [p.id for p in photos_] for key, photos_ in photos.placed(db.session.get(Event, event.id)).items()}

    assert read(placed_ids) == {section: [first, second]}  # the hidden one is not printed
    post(f"/{second}", section="")
    assert read(placed_ids) == {section: [first]}
    path = path_of(app, rows[second])
    assert path.exists()
    post(f"/{second}/delete")
    assert second not in {p.id for p in stored(read)} and not path.exists()
    post("/settings", participant_photos=["0", "1"])  # the hidden field and the ticked box
    assert read(lambda: db.session.scalar(select(Event)).participant_photos) is True
    post("/settings", participant_photos="0")
    assert read(lambda: db.session.scalar(select(Event)).participant_photos) is False


def test_bad_moderation_input_is_refused_and_changes_nothing(app, organiser_http, event, read):
    """An unknown section, a status other than shown or hidden, an unplaced move: refused with a message."""
    upload_as_organiser(organiser_http, jpeg_with_gps(), caption="Avant")
    [photo] = stored(read)
    token = csrf(organiser_http)
    base = f"/console/e/petite-rencontre/photos/{photo.id}"
    for path, form in [("", {"section": "nowhere", "caption": "Après"}), ("", {"status": "pending"}),
                       ("", {"caption": "x" * 301}), ("/move", {"direction": "up"}),
                       ("/move", {"direction": "sideways"})]:
        response = organiser_http.post(base + path, data={"csrf_token": token, **form})
        assert response.status_code == 303
        page = organiser_http.get(response.headers["Location"]).get_data(as_text=True)
        assert 'class="flash flash--error"' in page, (path, form)
    [after] = stored(read)
    assert (after.caption, after.status, after.section) == ("Avant", "shown", None)
    assert organiser_http.post(f"{base}9/delete", data={"csrf_token": token}).status_code == 303
    assert len(stored(read)) == 1
    assert organiser_http.post(f"{base}/delete").status_code == 400  # no CSRF token


# Print and serving --------------------------------------------------------------------------------------------

def test_print_file_is_downsampled_to_print_resolution_and_cached(app, organiser_http, read):
    """An 80 mm wide print gets 787 px (250 dpi), a smaller file, kept beside the original and made once."""
    upload_as_organiser(organiser_http, noisy_jpeg(2400, 1600))
    [photo] = stored(read)
    path = read(lambda: photos.print_file(db.session.get(Photo, photo.id), 80))
    original = path_of(app, photo)
    assert path.parent == original.parent and path != original
    assert photos.print_width(80) == 787
    with Image.open(path) as image:
        assert image.format == "JPEG" and image.size == (787, round(1600 * 787 / 2400))
        assert dict(image.getexif()) == {}
    assert path.stat().st_size < original.stat().st_size / 3
    made = path.stat().st_mtime_ns
    assert read(lambda: photos.print_file(db.session.get(Photo, photo.id), 80)) == path
    assert path.stat().st_mtime_ns == made
    # Never wider than the photo: a full-page print of a small photo is the photo itself.
    assert read(lambda: photos.print_file(db.session.get(Photo, photo.id), 400)) == original
    organiser_http.post(f"/console/e/petite-rencontre/photos/{photo.id}/delete",
                        data={"csrf_token": csrf(organiser_http)})
    assert files(app) == []


def test_public_photo_only_once_published_shown_and_placed(app, organiser_http, event, read):
    """404 before publication, 200 after for a shown placed photo, 404 when hidden or not placed."""
    upload_as_organiser(organiser_http, jpeg_with_gps(1600, 800))
    [photo] = stored(read)
    token = csrf(organiser_http)
    organiser_http.post(f"/console/e/petite-rencontre/photos/{photo.id}",
                        data={"csrf_token": token, "section": "origin"})
    anonymous = app.test_client()
    url = f"/e/petite-rencontre/photos/{photo.filename}"
    assert get(anonymous, url).status_code == 404

    def publish():
        db.session.scalar(select(Event)).published_at = datetime(2026, 7, 1)
        db.session.commit()

    read(publish)
    response = get(anonymous, url)
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg" and response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == path_of(app, photo).read_bytes()
    small = get(anonymous, f"/e/petite-rencontre/photos/480/{photo.filename}")
    assert small.status_code == 200
    with Image.open(io.BytesIO(small.data)) as image:
        assert image.size == (480, 960)
    assert anonymous.get(f"/e/petite-rencontre/photos/123/{photo.filename}").status_code == 404
    assert anonymous.get("/e/petite-rencontre/photos/../../secret_key").status_code == 404
    assert anonymous.get("/e/autre/photos/" + photo.filename).status_code == 404
    organiser_http.post(f"/console/e/petite-rencontre/photos/{photo.id}", data={"csrf_token": token,
                                                                               "status": "hidden"})
    assert get(anonymous, url).status_code == 404
    organiser_http.post(f"/console/e/petite-rencontre/photos/{photo.id}", data={"csrf_token": token,
                                                                               "status": "shown", "section": ""})
    assert get(anonymous, url).status_code == 404


def test_console_page_needs_sign_in_and_shows_thumbnails(app, organiser_http, event, read):
    """Anonymous: sent to sign in, for the page and the files; the organiser sees every photo, pending too."""
    allow_participants(read)
    phone, _token = joined_phone(app, event)
    send_from_phone(phone, jpeg_with_gps(800, 400), caption="Du téléphone")
    [photo] = stored(read)
    anonymous = app.test_client()
    for path in ("/console/e/petite-rencontre/photos", f"/console/e/petite-rencontre/photos/{photo.id}.jpg",
                 f"/console/e/petite-rencontre/photos/{photo.id}/thumb.jpg"):
        response = anonymous.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path
    page = organiser_http.get("/console/e/petite-rencontre/photos").get_data(as_text=True)
    assert "Du téléphone" in page and f"/console/e/petite-rencontre/photos/{photo.id}/thumb.jpg" in page
    thumb = get(organiser_http, f"/console/e/petite-rencontre/photos/{photo.id}/thumb.jpg")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert image.width == 400  # the stored photo is 400 wide once upright: no larger copy is made
    assert get(organiser_http, f"/console/e/petite-rencontre/photos/{photo.id}.jpg").status_code == 200
    assert organiser_http.get("/console/e/petite-rencontre/photos/999.jpg").status_code == 404
    assert organiser_http.get("/console/e/nope/photos").status_code == 404
    console = organiser_http.get("/console/").get_data(as_text=True)
    assert 'href="/console/e/petite-rencontre/photos"' in console


def test_photo_that_cannot_be_written_is_refused_clearly(app, event, read):
    """The data directory cannot take the file: storage_unavailable (503), no row."""
    allow_participants(read)
    phone, _token = joined_phone(app, event)
    (Path(app.config["DATA_DIR"]) / "uploads").write_text("not a folder")
    response = send_from_phone(phone, jpeg_with_gps())
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "storage_unavailable"
    assert stored(read) == []


def test_console_lists_photos_waiting_for_review_first(app, organiser_http, event, read):
    """A participant's photo waiting for review comes before the organisers' own, placed or not."""
    upload_as_organiser(organiser_http, jpeg_with_gps(), caption="Orga")
    allow_participants(read)
    phone, _token = joined_phone(app, event)
    send_from_phone(phone, jpeg_with_gps(), caption="Du public")
    page = organiser_http.get("/console/e/petite-rencontre/photos").get_data(as_text=True)
    assert page.index('value="Du public"') < page.index('value="Orga"')
