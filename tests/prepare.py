"""Run several `rouages` commands in one process, as a test server's setup does (import, organiser, sessions).

A process per command costs seconds of start-up each; one process for the whole setup runs the same commands
through the same entry point (`app.server.main`, umask included).
Usage: python tests/prepare.py '[["event", "import", "FILE"], ["sessions", "SLUG", "--json"]]'
Prints a JSON list of each command's standard output; exits with the first failure's code, its output on stderr.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from app.server import main as rouages


def main() -> None:
    outputs = []
    for args in json.loads(sys.argv[1]):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                rouages(args)
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if code:
            sys.stderr.write(f"{' '.join(args)}: exit {code}\n{out.getvalue()}")
            sys.exit(code)
        outputs.append(out.getvalue())
    print(json.dumps(outputs))


if __name__ == "__main__":
    main()
