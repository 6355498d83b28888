"""Blueprints: participant, wall, organiser and HTTP API pages."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint to the application."""
    from . import api, organiser, public

    app.register_blueprint(public.bp)
    app.register_blueprint(organiser.bp)
    app.register_blueprint(api.bp)
    organiser.init_login(app)
    api.register_json_errors(app)
