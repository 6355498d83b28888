"""Error pages in the application's style and language, with a way back: never the framework's own."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l

TITLES = {
    400: _l("Request not understood"),
    403: _l("Access refused"),
    404: _l("Page not found"),
    405: _l("Request not understood"),
    413: _l("Too large"),
    429: _l("Too many requests"),
    500: _l("Server error"),
}
MESSAGES = {
    400: _l("The request could not be understood. Go back and try again."),
    403: _l("You cannot open this page."),
    404: _l("This page does not exist. Check the address, or the code you typed."),
    405: _l("The request could not be understood. Go back and try again."),
    413: _l("What was sent is too large."),
    429: _l("Too many requests: wait a moment, then try again."),
    500: _l("Something went wrong on the server. Try again."),
}


def page(status: int):
    """Render the error page for an HTTP status; plain text if even that fails (a broken template, say)."""
    known = status if status in TITLES else (500 if status >= 500 else 400)
    try:
        body = render_template("error.html", status=status, title=TITLES[known], message=MESSAGES[known],
                               organiser=request.path.startswith("/console"))
    except Exception:
        current_app.logger.exception("The error page for %s could not be rendered", status)
        return f"{status}\n", status, {"Content-Type": "text/plain; charset=utf-8"}
    return body, status
