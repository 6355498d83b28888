"""The outermost WSGI middleware: the real client address, the Host check and the security headers.

It wraps the Engine.IO middleware too, so /socket.io/ requests (WebSockets and polling) go through it as pages do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from werkzeug.middleware.proxy_fix import ProxyFix

from .config import LOOPBACK_HOSTS

log = logging.getLogger("rouages")
# The machine's addresses change when the laptop joins the venue's network: read them again, at most this often.
_REFRESH_SECONDS = 10.0
_LOGGED_HOSTS_MAX = 100
_REFUSAL = b"Bad Request: this server does not answer to this host name.\n"


def host_name(header: str) -> str:
    """Return the host name of a Host header, without port or IPv6 brackets, lower-case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return (header.rpartition(":")[0] if ":" in header else header).rstrip(".")


class Gate:
    """WSGI middleware: trusted proxies' X-Forwarded-For/-Proto, a refusal of unknown hosts, security headers."""

    def __init__(self, wsgi_app, config, headers: list[tuple[str, str]],
                 lan_addresses: Callable[[], list[str]]):
        proxies = config["TRUSTED_PROXIES"]
        self.wsgi_app = ProxyFix(wsgi_app, x_for=proxies, x_proto=proxies) if proxies else wsgi_app
        self.headers = headers
        self.lan_addresses = None
        configured = config.get("ALLOWED_HOSTS")
        public = urlsplit(config["PUBLIC_URL"]).hostname if config.get("PUBLIC_URL") else None
        if configured:
            self.hosts = None if "*" in configured else {*configured, *LOOPBACK_HOSTS}
        elif public:
            self.hosts = {public.lower(), *LOOPBACK_HOSTS}
        else:
            # The join URL is built on the machine's LAN address: follow it as it changes.
            self.lan_addresses = lan_addresses
            self.hosts = {*LOOPBACK_HOSTS, *lan_addresses()}
            self.read_at = time.monotonic()
        self.logged: set[str] = set()

    def allowed(self, host: str) -> bool:
        """Whether requests for this host name are answered."""
        if self.hosts is None or host in self.hosts:
            return True
        if self.lan_addresses is not None and time.monotonic() - self.read_at > _REFRESH_SECONDS:
            self.hosts = {*LOOPBACK_HOSTS, *self.lan_addresses()}
            self.read_at = time.monotonic()
            return host in self.hosts
        return False

    def __call__(self, environ, start_response):
        def with_headers(status, response_headers, exc_info=None):
            present = {name.lower() for name, _ in response_headers}
            response_headers = [*response_headers, *(h for h in self.headers if h[0].lower() not in present)]
            return start_response(status, response_headers, exc_info)

        host = host_name(environ.get("HTTP_HOST", ""))
        if not self.allowed(host):
            # A name this server was not given may be DNS rebinding: a page elsewhere reaching the venue's laptop.
            if len(self.logged) < _LOGGED_HOSTS_MAX and host not in self.logged:
                self.logged.add(host)
                log.warning("Refused a request for the host %r: add it to ROUAGES_ALLOWED_HOSTS if it is this "
                            "server's.", host)
            with_headers("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8"),
                                             ("Content-Length", str(len(_REFUSAL)))])
            return [_REFUSAL]
        return self.wsgi_app(environ, with_headers)
