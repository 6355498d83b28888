"""Rouages: live workshops from phones and a projector wall, and the booklets that follow."""


def create_app(config: dict | None = None):
    """Create the Flask application; `config` overrides settings read from the environment."""
    # Flask is imported here, not at module level, so `rouages serve` can monkey-patch gevent or
    # eventlet before ssl and threading are first imported.
    from .factory import build_app

    return build_app(config)
