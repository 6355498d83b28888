"""Shared fixtures: an app on a fresh migrated database (SQLite, or PostgreSQL), clients, the small event."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from app import create_app
from app.extensions import db, socketio
from app.factory import ensure_schema
from databases import BACKEND, Databases
import workshops
from workshops import registry

DATA = Path(__file__).parent / "data"
# A workshop format packaged outside Rouages (its own pyproject.toml and entry point), installed for the tests that ask.
PLUGIN = Path(__file__).parent / "plugin"
PUBLIC_URL = "http://127.0.0.1:5999"


def base_config(data_dir: Path, database_url: str) -> dict:
    """Return the settings every test app uses: loopback URL, threading, no migrations on start."""
    return {"DATA_DIR": data_dir, "SECRET_KEY": "test-only-key", "PUBLIC_URL": PUBLIC_URL,
            "ASYNC_MODE": "threading", "MESSAGE_QUEUE": None, "AUTO_MIGRATE": False, "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url}


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    """Close the browser pages a test opened before its fixtures (its servers) are torn down."""
    browser_tests = sys.modules.get("test_browser")
    if browser_tests is not None:
        browser_tests.close_pages()
    yield


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL, run the tests that use a database (through `databases`): the others run the same code again."""
    if BACKEND == "sqlite":
        return
    kept = [item for item in items if "databases" in item.fixturenames]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if "databases" not in item.fixturenames])
        items[:] = kept


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    """The test databases of this run; PostgreSQL ones are dropped at the end."""
    found = Databases(tmp_path_factory.mktemp("databases"))
    yield found
    found.drop_all()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory, databases) -> str:
    """Build one database through the real Alembic migrations; tests start from copies of it."""
    data_dir = tmp_path_factory.mktemp("template")
    url = databases.empty_url()
    template = create_app(base_config(data_dir, url))
    ensure_schema(template)
    with template.app_context():
        # Closing the last connection checkpoints SQLite's WAL into the file, and lets PostgreSQL copy it.
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory) -> Path:
    """Install tests/plugin once per run into a folder of its own, as pip installs any package: metadata included."""
    target = tmp_path_factory.mktemp("plugin")
    built = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                            str(PLUGIN)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    return target


@pytest.fixture
def fishbowl(plugin_dir, monkeypatch):
    """Make the installed plug-in format visible to this test and its servers; gone again afterwards.

    Returns the environment a server subprocess needs to find it.
    """
    monkeypatch.syspath_prepend(str(plugin_dir))
    monkeypatch.setattr(workshops, "_registry", None)
    path = os.pathsep.join(filter(None, [str(plugin_dir), os.environ.get("PYTHONPATH")]))
    assert "fishbowl" in registry(), "the plug-in's entry point was not found"
    yield {"PYTHONPATH": path}
    # monkeypatch restores sys.path and the registry (None): the next test loads the built-in formats only.


@pytest.fixture
def server_env(databases) -> dict:
    """Environment for a real server: its own empty database on PostgreSQL runs (SQLite lives in its data dir)."""
    return {} if BACKEND == "sqlite" else {"ROUAGES_DATABASE_URL": databases.empty_url()}


@pytest.fixture
def app(tmp_path, migrated_db, databases):
    """An application on its own copy of the migrated database.

    No application context stays pushed: each request and Socket.IO event gets its own, as in production
    (a shared one would let Flask-Login's cached user leak from the console client to the wall client).
    """
    application = create_app(base_config(tmp_path, databases.copy_url(migrated_db, tmp_path)))
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def read(app):
    """Run a function in a fresh application context and return its result (for checking stored rows)."""

    def run(fn):
        with app.app_context():
            return fn()

    return run


@pytest.fixture
def client(app):
    """An HTTP test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner bound to the app."""
    return app.test_cli_runner()


def import_file(app, source) -> SimpleNamespace:
    """Import an event file and return plain values: slug, id and its sessions (id, key, code, title)."""
    from app.services.events import import_event

    with app.app_context():
        imported, _ = import_event(source, registry())
        sessions = [SimpleNamespace(id=s.id, key=s.key, code=s.code, title=s.title) for s in imported.sessions]
        return SimpleNamespace(id=imported.id, slug=imported.slug, sessions=sessions)


@pytest.fixture
def event(app):
    """The small two-session event from tests/data/small.yaml, imported."""
    return import_file(app, DATA / "small.yaml")


@pytest.fixture
def cafe(event):
    """The world-café session of the small event (function tag required, category optional)."""
    return next(s for s in event.sessions if s.key == "world-cafe")


@pytest.fixture
def organiser(app):
    """An organiser account (password: correct-horse-battery)."""
    from app.services.accounts import add_organiser

    with app.app_context():
        add_organiser("orga@example.org", "correct-horse-battery", "Orga")
    return "orga@example.org"


def socket_client(app, http_client=None):
    """Return a Flask-SocketIO test client, sharing cookies with `http_client` when given."""
    return socketio.test_client(app, flask_test_client=http_client)


def _connected(app, http_client=None):
    client = socket_client(app, http_client)
    yield client
    if client.is_connected():
        client.disconnect()


@pytest.fixture
def phone(app):
    """A Socket.IO test client playing a participant's phone."""
    yield from _connected(app)


@pytest.fixture
def wall(app):
    """A Socket.IO test client playing the projector wall."""
    yield from _connected(app)


@pytest.fixture
def console(app, organiser):
    """A Socket.IO test client of a signed-in organiser."""
    http = app.test_client()
    login(http)
    yield from _connected(app, http)


def login(http, email="orga@example.org", password="correct-horse-battery"):
    """Sign in through the real login form, CSRF token included."""
    import re

    page = http.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    return http.post("/login", data={"email": email, "password": password, "csrf_token": token})


def events_named(client, name: str) -> list:
    """Return the payloads of every `name` event a Socket.IO test client received since last asked."""
    return [msg["args"][0] for msg in client.get_received() if msg["name"] == name]
