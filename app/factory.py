"""Assemble the Flask application: settings, extensions, blueprints, Socket.IO handlers, CLI."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, has_request_context, request
from flask_babel import get_locale

from . import config as config_module
from .extensions import babel, csrf, db, login_manager, migrate, socketio

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("fr", "en")
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def select_locale() -> str:
    """Pick the interface language: an explicit choice, else French."""
    if not has_request_context():
        return None
    chosen = request.args.get("lang") or request.cookies.get("rouages_lang")
    return chosen if chosen in LOCALES else None


def build_app(overrides: dict | None = None) -> Flask:
    """Build and configure the application."""
    app = Flask("app", template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_relative_config=True)
    app.config.from_mapping(config_module.from_environ(app.instance_path, overrides))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")

    engine_options = {}
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # The post writer commits in a native thread (see posting._GroupCommit); the pool lends a connection
        # to one user at a time, so it may move between threads.
        engine_options["connect_args"] = {"timeout": 15, "check_same_thread": False}
        app.extensions["rouages.run_blocking"] = config_module.native_thread_runner(app.config["ASYNC_MODE"])
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options)
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    babel.init_app(app, locale_selector=lambda: select_locale() or app.config["BABEL_DEFAULT_LOCALE"])
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "organiser.login"
    # Handlers must be declared before init_app: Flask-SocketIO copies them onto each new server it creates.
    from . import realtime  # noqa: F401

    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        message_queue=app.config["MESSAGE_QUEUE"],
        channel=app.config["MESSAGE_QUEUE_CHANNEL"],
        max_http_buffer_size=64 * 1024,
        ping_interval=20,
        ping_timeout=20,
        logger=False,
        engineio_logger=False,
    )

    from .views import register_blueprints

    register_blueprints(app)

    from .views.strings import js_strings

    app.jinja_env.globals["js_strings"] = js_strings
    app.jinja_env.globals["get_locale"] = get_locale

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.args.get("lang") in LOCALES:
            response.set_cookie("rouages_lang", request.args["lang"], max_age=365 * 86400, samesite="Lax")
        return response

    app.logger.setLevel(logging.INFO)
    return app


def _tune_sqlite(engine) -> None:
    """Turn on WAL, a busy timeout and foreign keys on every SQLite connection."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged post must survive the laptop losing power, not only a process crash.
        cursor.execute("PRAGMA synchronous=FULL")
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
