"""Entry point of the `rouages` command; the one place besides app/config.py that knows the async runtime."""

from __future__ import annotations

import sys
import warnings

SERVER_COMMANDS = ("serve", "demo")


def _command(args: list[str]) -> str | None:
    """Return the sub-command named on the command line, skipping the group's options."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--data":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


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


def main(args: list[str] | None = None) -> None:
    """Run the `rouages` command line."""
    args = sys.argv[1:] if args is None else args
    if _command(args) in SERVER_COMMANDS:
        from .config import async_mode

        patch_runtime(async_mode())
    from .cli import cli

    cli.main(args=args, prog_name="rouages")


if __name__ == "__main__":
    main()
