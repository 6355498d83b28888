"""Entry point of the `rouages` command; the one place besides app/config.py that knows the async runtime."""

from __future__ import annotations

import os
import sys
import warnings

SERVER_COMMANDS = ("serve", "demo")


# The group's options that take a value (Flask's --env-file and --app, and ours).
_VALUED = ("--data", "-e", "--env-file", "-A", "--app")


def _group_options(args: list[str]) -> tuple[str | None, str | None]:
    """Return the sub-command named on the command line and the file given to the group's --env-file, if any."""
    env_file = None
    rest = iter(args)
    for arg in rest:
        if arg in _VALUED:
            value = next(rest, None)
            if arg in ("-e", "--env-file"):
                env_file = value
        elif arg.startswith("--env-file="):
            env_file = arg.split("=", 1)[1]
        elif not arg.startswith("-"):
            return arg, env_file
    return None, env_file


def patch_runtime(mode: str) -> None:
    """Monkey-patch the standard library for the chosen runtime, before anything else imports it."""
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    else:
        # eventlet is kept for deployments that already use it; its own deprecation notice is expected.
        warnings.filterwarnings("ignore", message=".*Eventlet is deprecated.*")
        import eventlet

        eventlet.monkey_patch()


def wsgi_server_options(mode: str) -> dict:
    """Return the options `socketio.run` hands the runtime's WSGI server."""
    if mode != "gevent":
        # eventlet.wsgi already ends the connection after a WebSocket: eventlet.websocket, which python-engineio
        # uses under eventlet, marks the request as handled and the server then closes instead of reading on.
        return {}
    from gevent import pywsgi

    class WebSocketClosingHandler(pywsgi.WSGIHandler):
        """gevent's request handler, which ends the TCP connection once a WebSocket carried on it is over."""

        def handle_one_response(self):
            super().handle_one_response()
            # simple-websocket reads the WebSocket from a duplicate of this connection's socket, and when it ends
            # python-engineio's handler returns an empty body without starting a response: it tells Werkzeug and
            # Gunicorn that the connection is spent (by raising), but nothing tells pywsgi. An HTTP/1.1 request
            # with `Connection: Upgrade` looks reusable to pywsgi, which then read the frames the client sends
            # around the close (`41`, `1`, the close frame) as the next request line, logging "Invalid HTTP
            # method: '\x88\x82…'" at each disconnection; and a client that kept its end open held a greenlet
            # and a descriptor waiting for that request. Once the WebSocket is over, the connection is over.
            if self.headers.get("Upgrade", "").lower() == "websocket":
                self.close_connection = True

    return {"handler_class": WebSocketClosingHandler}


def main(args: list[str] | None = None) -> None:
    """Run the `rouages` command line."""
    args = sys.argv[1:] if args is None else args
    # The database holds participants' names: whatever this process creates (the database, its log and shared
    # memory, locks, backups) is for this user only; config.private_data_dir closes the directory itself.
    os.umask(0o077)
    command, env_file = _group_options(args)
    if env_file is not None and os.path.isfile(env_file):
        # Read now rather than by Flask's option: ROUAGES_ASYNC_MODE decides how to patch the runtime, first.
        # As with Flask's option, what the environment already sets wins.
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False, encoding="utf-8")
    if command in SERVER_COMMANDS:
        from .config import async_mode

        patch_runtime(async_mode())
    from .cli import cli

    cli.main(args=args, prog_name="rouages")


if __name__ == "__main__":
    main()
