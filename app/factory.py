"""Assemble the Flask application: settings, extensions, blueprints, Socket.IO handlers, CLI."""

from __future__ import annotations

import logging
from pathlib import Path

from flask.sessions import SecureCookieSessionInterface
from flask import Flask, has_request_context, request
from flask_babel import get_locale

from . import config as config_module
from .extensions import Packet, babel, csrf, db, login_manager, migrate, socketio

PACKAGE = Path(__file__).resolve().parent
LOCALES = ("fr", "en")
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; worker-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def select_locale() -> str | None:
    """Pick the interface language: ?lang=, else the remembered choice, else the browser's, else the default."""
    if not has_request_context():
        return None
    # During a Socket.IO event the request is the connection's handshake: its cookie and headers decide.
    for chosen in (request.args.get("lang"), request.cookies.get("rouages_lang")):
        if chosen in LOCALES:
            return chosen
    return request.accept_languages.best_match(LOCALES)


def shipped_folder(name: str) -> Path:
    """Return templates/ or static/: inside the installed package from a wheel, beside it in a checkout."""
    # pyproject.toml installs the top-level folders into the package; a checkout (or an editable install) has
    # them only at the top of the source tree.
    installed = PACKAGE / name
    return installed if installed.is_dir() else PACKAGE.parent / name


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, not opened again for every Socket.IO event of a connection.

    Flask-SocketIO keeps each connection's own copy of the session, taken at its first event, and puts it in
    place of the one Flask opens: reading and checking the cookie again for each event was wasted work, a tenth
    of the server's time when a room of phones rejoins at once (bench/storm.py).
    """

    def open_session(self, app: Flask, request):
        if "saved_session" in request.environ:  # set by Flask-SocketIO at the connection's first event
            return self.session_class()
        return super().open_session(app, request)

    def get_signing_serializer(self, app: Flask):
        # Flask builds a serializer for every request, and building one encodes a test value through the app's JSON
        # provider: a twentieth of the server's time when a room of phones reconnects at once. It only depends on
        # the keys, so it is kept until they change.
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = getattr(self, "_kept", None)
        if kept is None or kept[0] != keys:
            kept = self._kept = (keys, super().get_signing_serializer(app))
        return kept[1]


def build_app(overrides: dict | None = None) -> Flask:
    """Build and configure the application."""
    app = Flask("app", template_folder=str(shipped_folder("templates")), static_folder=str(shipped_folder("static")),
                instance_relative_config=True)
    app.config.from_mapping(config_module.from_environ(app.instance_path, overrides))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    app.session_interface = _SessionInterface()

    engine_options = {}
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        engine_options["connect_args"] = {"timeout": 15}
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options)
    db.init_app(app)
    if uri.startswith("sqlite"):
        with app.app_context():
            _tune_sqlite(db.engine, "FULL")
            _post_writer_engine(app, db.engine)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    babel.init_app(app, locale_selector=lambda: select_locale() or app.config["BABEL_DEFAULT_LOCALE"])
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "organiser.login"
    # Handlers must be declared before init_app: Flask-SocketIO copies them onto each new server it creates.
    from . import realtime  # noqa: F401

    queue = app.config["MESSAGE_QUEUE"]
    if queue and queue.startswith(("redis://", "rediss://")):
        from .queue import RedisQueue

        # Not Flask-SocketIO's own: this one makes the screens catch up when Redis comes back.
        queueing = {"client_manager": RedisQueue(queue, app.config["MESSAGE_QUEUE_CHANNEL"])}
    else:
        queueing = {"message_queue": queue, "channel": app.config["MESSAGE_QUEUE_CHANNEL"]}
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        **queueing,
        max_http_buffer_size=app.config["MAX_JSON_LENGTH"],
        ping_interval=app.config["PING_INTERVAL"],
        ping_timeout=app.config["PING_TIMEOUT"],
        logger=False,
        engineio_logger=False,
        serializer=Packet,
    )

    from .connections import ConnectionLimits

    # Outside the Engine.IO middleware: a refused connection costs no Engine.IO session.
    app.wsgi_app = ConnectionLimits(app.wsgi_app, app.config)

    from .views import register_blueprints

    register_blueprints(app)

    from .views.formats import format_screen
    from .views.strings import js_strings

    app.jinja_env.globals["js_strings"] = js_strings
    app.jinja_env.globals["format_screen"] = format_screen
    app.jinja_env.globals["get_locale"] = get_locale

    @app.after_request
    def remember_language(response):
        # The same address answers in another language to another browser: caches must keep them apart.
        response.vary.update(("Accept-Language", "Cookie"))
        if request.args.get("lang") in LOCALES:
            response.set_cookie("rouages_lang", request.args["lang"], max_age=365 * 86400, samesite="Lax")
        return response

    app.logger.setLevel(logging.INFO)
    _gate(app)
    return app


def _gate(app: Flask) -> None:
    """Wrap every other middleware (last): Engine.IO answers /socket.io/ itself, before any inner wrapper."""
    from .gate import Gate
    from .services.network import lan_addresses

    headers = [("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
               ("Referrer-Policy", "same-origin")]
    if app.config["SESSION_COOKIE_SECURE"]:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    app.wsgi_app = Gate(app.wsgi_app, app.config, headers, lan_addresses)


def _post_writer_engine(app: Flask, engine) -> None:
    """Give the post writer its own SQLite connection, which commits without waiting for the disk, and a sync.

    The writer then syncs the write-ahead log itself in a native thread before it acknowledges the posts, so
    they are as durable as with synchronous=FULL while the event loop keeps serving phones during the fsync.
    """
    from sqlalchemy import create_engine

    from .services.storage import fsync

    writer = create_engine(engine.url, connect_args={"timeout": 15}, pool_size=1, max_overflow=0)
    _tune_sqlite(writer, "NORMAL")
    run = config_module.native_thread_runner(app.config["ASYNC_MODE"]) or (lambda fn: fn())
    log: list[str] = []

    def sync() -> None:
        if not log:  # the file SQLite really writes, symbolic links resolved as SQLite resolves them
            with writer.connect() as conn:
                log.append(conn.exec_driver_sql("PRAGMA database_list").fetchone()[2] + "-wal")
        run(lambda: fsync(log[0]))  # the writer's open connection keeps its log

    app.extensions["rouages.post_engine"] = writer
    app.extensions["rouages.post_sync"] = sync


def _tune_sqlite(engine, synchronous: str) -> None:
    """Turn on WAL, a busy timeout and foreign keys on every SQLite connection of an engine."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged write must survive the laptop losing power, not only a process crash; the post
        # writer's NORMAL connection gets there by syncing the log itself before acknowledging.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def ensure_schema(app: Flask) -> None:
    """Bring the database schema up to date with the migrations, one worker at a time."""
    from flask_migrate import upgrade

    directory = str(Path(__file__).parent / "migrations")
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            # Several workers start together: an advisory lock lets one migrate while the others wait.
            with engine.connect() as lock:
                lock.exec_driver_sql("SELECT pg_advisory_lock(72430001)")
                try:
                    upgrade(directory=directory)
                finally:
                    lock.exec_driver_sql("SELECT pg_advisory_unlock(72430001)")
        elif engine.url.database:
            import fcntl

            with open(f"{engine.url.database}.migrate-lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                upgrade(directory=directory)
        else:
            upgrade(directory=directory)
