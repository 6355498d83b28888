"""Per-address limits on Socket.IO connections, applied before Engine.IO accepts them."""

from __future__ import annotations

import json
from collections import Counter

from .services.limits import Buckets


class ConnectionLimits:
    """WSGI middleware: at most N open WebSockets per client address, and a rate of new Engine.IO sessions.

    It wraps the Engine.IO middleware, which holds a WebSocket's request open for the socket's whole life, so
    counting requests in flight counts open sockets. Refusals are HTTP 429: browsers retry with back-off.
    """

    def __init__(self, wsgi_app, config):
        self.wsgi_app = wsgi_app
        self.max_websockets = config["LIMIT_WEBSOCKETS_PER_ADDRESS"]
        self.connects = Buckets(config["LIMIT_CONNECTS_BURST"], config["LIMIT_CONNECTS_PER_MINUTE"])
        self.open: Counter[str] = Counter()

    def __call__(self, environ, start_response):
        if not environ.get("PATH_INFO", "").startswith("/socket.io"):
            return self.wsgi_app(environ, start_response)
        address = environ.get("REMOTE_ADDR") or ""
        if "sid=" not in environ.get("QUERY_STRING", "") and self.connects.take(address):
            return _refuse(start_response, "too_many_connections", "Too many new connections from this address.")
        if environ.get("HTTP_UPGRADE", "").lower() != "websocket":
            return self.wsgi_app(environ, start_response)
        if self.max_websockets and self.open[address] >= self.max_websockets:
            return _refuse(start_response, "too_many_connections", "Too many open connections from this address.")
        self.open[address] += 1
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            self.open[address] -= 1
            if not self.open[address]:
                del self.open[address]


def _refuse(start_response, code: str, message: str) -> list[bytes]:
    body = json.dumps({"ok": False, "error": {"code": code, "message": message}}).encode()
    start_response("429 Too Many Requests", [("Content-Type", "application/json"), ("Retry-After", "10"),
                                             ("Content-Length", str(len(body)))])
    return [body]
