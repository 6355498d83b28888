"""Blueprints: participant, wall, organiser and HTTP API pages."""

from datetime import date

from flask import Flask
from flask_babel import format_date


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint to the application."""
    from . import api, booklet, booklets, carnet, event, formats, organiser, photos, public, registrants, restitution

    app.register_blueprint(public.bp)
    app.register_blueprint(organiser.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(booklet.bp)
    app.register_blueprint(booklets.bp)
    app.register_blueprint(carnet.bp)
    app.register_blueprint(restitution.bp)
    app.register_blueprint(event.bp)
    app.register_blueprint(photos.bp)
    app.register_blueprint(registrants.bp)
    app.register_blueprint(formats.bp)
    formats.install_loader(app)
    organiser.init_login(app)
    api.register_json_errors(app)
    app.jinja_env.filters["long_day"] = long_day


def long_day(value: str | None) -> str:
    """Show an ISO date from the event file as a reader of the interface's language writes it ("jeudi 9 juin")."""
    try:
        return format_date(date.fromisoformat(value), "EEEE d MMMM")
    except (TypeError, ValueError):
        return value or ""
