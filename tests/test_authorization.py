"""Who may do what: every organiser action and every host action, tried by every role, changes nothing unless allowed.

The organiser-only Socket.IO events are read from the handlers the application registers (those registered with
`organiser_only=True`, format actions included), and the organiser pages from its URL map, so a new one joins the
matrix when it is registered.
"""

from __future__ import annotations

import inspect
import io
import re
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import (Attendance, BookletText, Event, Harvest, Organiser, Participant, Photo, Post, Session,
                        Table, Vote)
from app.services import eventfile, photos, sessions
from carnet import jobs
from conftest import base_config, import_file, login, socket_client
from workshops import registry

ROLES = ["anonymous", "participant", "other_participant", "other_host", "organiser"]
# Events that carry a host link's token instead of a code.
HOST_EVENTS = ["host_join", "harvest_save", "host_merge", "host_unmerge"]


def _registered_flag(handler) -> bool | None:
    """Return the `organiser_only` a handler was registered with, looking through the wrappers around it."""
    fn = handler
    while fn is not None:
        if inspect.isfunction(fn):
            flag = inspect.getclosurevars(fn).nonlocals.get("organiser_only")
            if isinstance(flag, bool):
                return flag
        fn = getattr(fn, "__wrapped__", None)
    return None


def _each_choice(rule: str) -> list[str]:
    """Return a rule once per value of its `any(…)` part (one booklet each), or as it is."""
    found = re.search(r"<any\(([^)]*)\):\w+>", rule)
    if not found:
        return [rule]
    return [rule.replace(found[0], choice.strip(' "')) for choice in found[1].split(",")]


def _discover():
    """Return (organiser-only events, every other event, organiser pages as (method, rule)) of a fresh app."""
    data_dir = Path(tempfile.mkdtemp(prefix="rouages-authz-"))
    application = create_app(base_config(data_dir, f"sqlite:///{data_dir / 'unused.db'}"))
    handlers = application.extensions["socketio"].server.handlers["/"]
    flags = {name: _registered_flag(fn) for name, fn in handlers.items() if name not in ("connect", "disconnect")}
    pages = sorted((method, path) for rule in application.url_map.iter_rules() if rule.rule.startswith("/console/")
                   for method in rule.methods - {"HEAD", "OPTIONS"} for path in _each_choice(rule.rule))
    return sorted(n for n, f in flags.items() if f), sorted(n for n, f in flags.items() if not f), pages


ORGANISER_EVENTS, OTHER_EVENTS, ORGANISER_PAGES = _discover()
ACTIONS = [("socket", "EMIT", name) for name in ORGANISER_EVENTS] + [("http", m, r) for m, r in ORGANISER_PAGES]


def test_discovery_reads_the_organiser_flag_of_every_event():
    """Format actions and the console's events are found organiser-only; phone and host events are not."""
    actions = {f"{fmt.slug}.{name}" for fmt in registry().values() for name in fmt.actions()}
    assert actions and actions <= set(ORGANISER_EVENTS)
    assert {"session_open", "post_hide", "vote_open", "timer_start", "phase_set"} <= set(ORGANISER_EVENTS)
    assert {"join", "post", "watch", "vote", *HOST_EVENTS} <= set(OTHER_EVENTS)
    assert {("POST", "/console/s/<code>/registrations"), ("GET", "/console/"), ("GET", "/console/e/<slug>/booklet"),
            ("POST", "/console/e/<slug>/booklet/texts"), ("POST", "/console/e/<slug>/booklet/options"),
            ("GET", "/console/e/<slug>/export.csv"), ("GET", "/console/e/<slug>/registrants"),
            ("POST", "/console/e/<slug>/registrants"),
            ("POST", "/console/e/<slug>/registrants/<int:participant_id>/reset")} <= set(ORGANISER_PAGES)


# The world: a world café with two tables, a host link each, posts, dots and a plan; a board in another event -----

def snapshot(app) -> dict:
    """Return every stored row an action could change, column by column."""
    with app.app_context():
        out = {}
        for model in (Event, Session, Table, Post, Participant, Attendance, Vote, Harvest, Organiser, BookletText,
                      Photo):
            columns = [c for c in model.__table__.columns]
            out[model.__tablename__] = sorted((tuple(row) for row in db.session.execute(select(*columns))), key=repr)
        return out


def csrf_of(http, path="/login") -> str:
    """Return the CSRF token a page gives this client's cookie session."""
    page = http.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]


@pytest.fixture
def world(app, event, organiser):
    """A running world café (tables A and B, posts at A, a vote, a plan) and a board session of another event."""
    item = registry()["world_cafe"].example
    doc = {"slug": "cafe", "title": "Café", "programme": [{"date": "2026-06-09", "items": [item]}]}
    cafe = import_file(app, eventfile.dump(doc)).sessions[0]
    board = next(s for s in event.sessions if s.key == "world-cafe")
    with app.app_context():
        sessions.set_phase(db.session.get(Session, cafe.id), "round_1")
        rows = db.session.scalars(select(Table).where(Table.session_id == cafe.id).order_by(Table.position))
        (key_a, code_a, token_a), (key_b, _code_b, token_b) = [(t.key, t.code, t.host_token) for t in rows][:2]
    author = socket_client(app)
    joined = author.emit("join", {"code": code_a, "name": "Camille"}, callback=True)
    posts = [author.emit("post", {"code": code_a, "client_id": f"authz-post-{n}", "text": f"Idée {n}"},
                         callback=True)["post"]["id"] for n in range(3)]
    other = socket_client(app)
    other_token = other.emit("join", {"code": board.code}, callback=True)["participant"]["token"]
    # Table A's host merged the third idea into the second: there is a merge to undo.
    host = socket_client(app)
    assert host.emit("host_merge", {"token": token_a, "post_id": posts[2], "into": posts[1]}, callback=True)["ok"]
    host.disconnect()
    with app.app_context():
        session = db.session.get(Session, cafe.id)
        from app.services import votes

        votes.open_vote(session, 5, 2)
        registry()["world_cafe"].compute_plan(db.session.get(Session, cafe.id), {})
        # A registrant whose personal QR code a phone claimed: there is a code to reset.
        from app.services.registrants import claim_badge
        from app.services.registrations import import_registrants

        import_registrants(db.session.get(Session, cafe.id).event, "nom;structure\nSacha Roux;Ville de Lille\n")
        registrant = db.session.scalar(select(Participant).where(Participant.badge.is_not(None)))
        registrant_id = claim_badge(registrant, None).id
        # Two photos of the café, placed in the same section: one can move, be edited or deleted.
        event_row = db.session.scalar(select(Event).where(Event.slug == "cafe"))
        author_row = db.session.scalar(select(Organiser))
        photo_ids = []
        for _ in range(2):
            photo = photos.add_photo(event_row, io.BytesIO(small_jpeg()), "Photo", organiser=author_row)
            photos.update(photo, section="origin")
            photo_ids.append(photo.id)
    yield SimpleNamespace(app=app, cafe=cafe, board=board, posts=posts, table_a=(key_a, code_a, token_a),
                          table_b=(key_b, token_b), author=author, participant_token=joined["participant"]["token"],
                          other_token=other_token, photo_id=photo_ids[0], registrant_id=registrant_id)
    for client in (author, other):
        if client.is_connected():
            client.disconnect()


def socket_as(world, role):
    """Return a Socket.IO connection playing `role` towards the world café."""
    app = world.app
    if role == "organiser":
        http = app.test_client()
        login(http)
        return socket_client(app, http)
    client = socket_client(app)
    if role == "participant":
        assert client.emit("join", {"code": world.table_a[1], "token": world.participant_token}, callback=True)["ok"]
    elif role == "other_participant":
        assert client.emit("join", {"code": world.board.code, "token": world.other_token}, callback=True)["ok"]
    elif role == "other_host":
        assert client.emit("host_join", {"token": world.table_b[1]}, callback=True)["ok"]
    return client


def http_as(world, role):
    """Return an HTTP client playing `role`: the participant cookie, a host page opened, or a signed-in organiser."""
    client = world.app.test_client()
    if role == "organiser":
        login(client)
    elif role == "participant":
        client.set_cookie("rouages_participant", world.participant_token)
    elif role == "other_participant":
        client.set_cookie("rouages_participant", world.other_token)
    elif role == "other_host":
        assert client.get(f"/h/{world.table_b[1]}").status_code == 200
    return client


def organiser_payload(world) -> dict:
    """One payload valid for every organiser event: each reads the fields it needs."""
    return {"code": world.cafe.code, "open": False, "phase": "round_2", "seconds": 90, "post_id": world.posts[0],
            "budget": 3, "max_per_post": 1}


def registration_upload(csrf_token: str) -> tuple[bytes, str]:
    """A multipart registration list of two people, with the client's CSRF token."""
    boundary = "authzboundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf_token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="list.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\nname,organisation\r\nDominique Martin,MES\r\nLéa Petit,CAF\r\n"
            f"\r\n--{boundary}--\r\n")
    return body.encode(), f"multipart/form-data; boundary={boundary}"


def small_jpeg() -> bytes:
    """A small JPEG photo."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def form_body(fields: dict, photo: bool = False) -> tuple[bytes, str]:
    """A multipart form with these fields, and a `photo` file when asked."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    if photo:
        fields = {**fields, "photo": FileStorage(io.BytesIO(small_jpeg()), "p.jpg", content_type="image/jpeg")}
    boundary, body = encode_multipart(fields)
    return body, f"multipart/form-data; boundary={boundary}"


def post_body(action: str, csrf_token: str) -> tuple[bytes | dict, str | None]:
    """The form each organiser POST page takes, valid, with the client's CSRF token."""
    if action.endswith(("/registrations", "/registrants")):
        return registration_upload(csrf_token)
    if action.endswith("/registrants/<int:participant_id>/reset"):
        return {"csrf_token": csrf_token}, None
    if action.endswith("/booklet/texts"):
        return {"csrf_token": csrf_token, "action": "save", "body-origin": "Texte de l’organisateur"}, None
    if action.endswith("/booklet/options"):
        return {"csrf_token": csrf_token, "published": "y", "show_names": "y"}, None
    if action.endswith("/photos"):
        return form_body({"csrf_token": csrf_token, "caption": "Nouvelle"}, photo=True)
    if action.endswith("/photos/settings"):
        return form_body({"csrf_token": csrf_token, "participant_photos": "1"})
    if action.endswith("/photos/<int:photo_id>"):
        return form_body({"csrf_token": csrf_token, "caption": "Changée", "status": "hidden"})
    if action.endswith("/photos/<int:photo_id>/move"):
        return form_body({"csrf_token": csrf_token, "direction": "down"})
    if action.endswith("/photos/<int:photo_id>/delete"):
        return form_body({"csrf_token": csrf_token})
    if re.search(r"/booklets/[a-z-]+$", action):
        return {"csrf_token": csrf_token}, None
    raise AssertionError(f"{action}: add the form this organiser page takes to post_body()")


def organiser_post_worked(action: str, before: dict, after: dict) -> bool:
    """Tell whether an organiser's POST really changed what it is for, so that the refusals mean something."""
    if action.endswith(("/registrations", "/registrants")):
        return len(after["participant"]) == len(before["participant"]) + 2
    if action.endswith("/reset"):
        return after["participant"] != before["participant"]
    if action.endswith("/booklet/texts"):
        return len(after["booklet_text"]) == len(before["booklet_text"]) + 1
    if "/photos" in action and not action.endswith("/settings"):
        return after["photo"] != before["photo"]
    return after["event"] != before["event"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind,method,action", ACTIONS, ids=[f"{m} {a}" for _k, m, a in ACTIONS])
def test_organiser_actions_succeed_only_for_the_organiser(world, kind, method, action, role):
    """Every organiser event and page: the organiser acts; anyone else is refused and nothing is stored."""
    app = world.app
    if kind == "socket":
        client = socket_as(world, role)
        before = snapshot(app)
        ack = client.emit(action, organiser_payload(world), callback=True)
        client.disconnect()
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
        if role == "organiser":
            assert ack["ok"] or ack["error"]["code"] not in ("forbidden", "internal_error"), ack
            return
        assert ack == {"ok": False, "error": {"code": "forbidden", "message": ack["error"]["message"]}}, ack
        assert ack["error"]["message"]
    else:
        client = http_as(world, role)
        path = (action.replace("<code>", world.cafe.code).replace("<slug>", "cafe")
                .replace("<int:photo_id>", str(world.photo_id))
                .replace("<int:participant_id>", str(world.registrant_id)))
        body, content_type = (post_body(action, csrf_of(client)) if method == "POST" else (None, None))
        before = snapshot(app)
        with client.open(path, method=method, data=body, content_type=content_type) as response:
            status, location = response.status_code, response.headers.get("Location", "")
            made = "/booklets/" in path  # a render job's file; the other PDFs are made in the request
            text = response.get_data(as_text=True) if path.endswith(".pdf") and made else ""
            data = response.get_data() if path.endswith(".pdf") and not made else b""
        booklets = Path(app.config["DATA_DIR"]) / "booklets"
        if role == "organiser":
            if path.endswith(".pdf") and made:  # none made yet: the organiser is told so, not refused
                assert status == 404 and "Pas encore de PDF" in text
                return
            if path.endswith(".pdf"):
                assert status == 200 and data.startswith(b"%PDF-"), (path, status)
                return
            assert status in (200, 302, 303), (path, status)
            assert not location.startswith("/login"), location
            rendered = re.search(r"/booklets/([a-z-]+)$", path)
            if method == "POST" and rendered:  # the render really ran
                booklet = rendered[1]
                over = jobs.wait(booklets.parent, "cafe", jobs.BOOKLETS[booklet][0], booklet=booklet)
                # Badges need a registration list, which this event has not: refusing to print none is right.
                assert over["state"] == "done" or (booklet == "badges" and over["state"] == "failed"), over
            elif method == "POST":  # the organiser path works, so the refusals mean something
                assert organiser_post_worked(action, before, snapshot(app)), path
            return
        assert status in (401, 403) or (status == 302 and location.startswith("/login")), (path, status, location)
        assert not booklets.exists()
    assert snapshot(app) == before


def test_events_not_registered_as_organiser_only_do_not_answer_forbidden(world):
    """An event that refuses non-organisers must be registered organiser-only, or the matrix above misses it."""
    client = socket_client(world.app)
    payload = {**organiser_payload(world), "token": world.table_a[2], "category": "missions", "text": "x",
               "into": world.posts[1], "client_id": "authz-probe-1", "dots": {}}
    for name in OTHER_EVENTS:
        ack = client.emit(name, payload, callback=True) if name != "*" else None
        if ack is not None:
            assert ack.get("error", {}).get("code") != "forbidden", name
    client.disconnect()


# Host links --------------------------------------------------------------------------------------------------

HOST_ROLES = ROLES + ["host"]


def host_token_of(world, role):
    """The token each role can send as a host link: its own, a participant's, a code, or the real one."""
    return {"anonymous": None, "participant": world.participant_token, "other_participant": world.other_token,
            "other_host": world.table_b[1], "organiser": world.table_a[1], "host": world.table_a[2]}[role]


def table_a_rows(snap: dict, world) -> dict:
    """The rows of a snapshot that belong to table A: its harvest and every post of the session."""
    with world.app.app_context():
        table_id = db.session.scalar(select(Table.id).where(Table.host_token == world.table_a[2]))
    return {"harvest": [r for r in snap["harvest"] if r[1] == table_id], "post": snap["post"]}


@pytest.mark.parametrize("role", HOST_ROLES)
@pytest.mark.parametrize("action", HOST_EVENTS)
def test_host_actions_reach_only_the_table_of_their_link(world, action, role):
    """Only table A's host link acts on table A; another table's host acts on their own table at most."""
    app = world.app
    client = socket_as(world, "organiser" if role == "organiser" else "anonymous")
    token = host_token_of(world, role)
    payload = {"token": token, "category": "missions", "text": f"Récolte écrite par {role}",
               "post_id": world.posts[2] if action == "host_unmerge" else world.posts[0], "into": world.posts[1]}
    before = snapshot(app)
    ack = client.emit(action, payload, callback=True)
    client.disconnect()
    after = snapshot(app)
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
    if role == "host":
        assert ack["ok"] is True, ack
        if action == "host_join":
            assert ack["session"]["table"]["key"] == world.table_a[0]
        elif action == "harvest_save":
            assert ack["table"] == world.table_a[0]
        return
    if role == "other_host":
        if action in ("host_merge", "host_unmerge"):
            assert ack["ok"] is False and ack["error"]["code"] == "unknown_post", ack
        else:
            assert ack["ok"] is True, ack  # their own table
            table = ack["session"]["table"]["key"] if action == "host_join" else ack["table"]
            assert table == world.table_b[0], ack
            if action == "host_join":
                assert not {p["id"] for p in ack["posts"]} & set(world.posts), ack
        assert table_a_rows(after, world) == table_a_rows(before, world)
        return
    assert ack["ok"] is False and ack["error"]["code"] == "unknown_host_link", ack
    assert after == before
