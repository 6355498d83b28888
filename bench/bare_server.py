"""A bare Flask-SocketIO server, the ceiling `bench/phones.py` compares Rouages with.

It speaks just enough of Rouages' protocol for the load generator: `join` acks (phones, as in Rouages, are not
sent every post), `watch` puts the wall in the session's room; `post` acks the payload back with a sequence number
and broadcasts it to the room.
No validation, no database, no Flask session use: only the runtime, Flask-SocketIO and the fan-out.

Run by phones.py (its `BareServer`) as a subprocess:  python bench/bare_server.py --port P [--async-mode gevent|eventlet]
With --message-queue URL, several of them are joined by Redis as Rouages' workers are (`--workers 2` in phones.py).
"""

from __future__ import annotations

import argparse


def serve(port: int, mode: str, queue: str | None = None, channel: str = "flask-socketio", worker: int = 0,
          workers: int = 1) -> None:
    """Patch the standard library for the runtime, then serve on 127.0.0.1:port until stopped."""
    # Monkey-patch before Flask, Flask-SocketIO or anything using sockets is imported, as Rouages does.
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    else:
        import warnings

        warnings.filterwarnings("ignore", message=".*Eventlet is deprecated.*")
        import eventlet

        eventlet.monkey_patch()

    import itertools

    from flask import Flask
    from flask_socketio import SocketIO, join_room

    app = Flask(__name__)
    # Same Socket.IO settings as Rouages' app/factory.py, so only the application work differs.
    sio = SocketIO(app, async_mode=mode, max_http_buffer_size=64 * 1024, ping_interval=20, ping_timeout=20,
                   logger=False, engineio_logger=False, message_queue=queue, channel=channel)
    # One counter per process, each worker on its own residue: numbers never collide across workers.
    seqs = itertools.count(worker + 1, workers)
    participants = itertools.count(1)

    def room(data) -> str:
        return f"session:{data.get('code') if isinstance(data, dict) else None}"

    def session(data) -> dict:
        return {"code": data.get("code") if isinstance(data, dict) else None, "is_open": True}

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @sio.on("join")
    def on_join(data=None):
        pid = next(participants)
        return {"ok": True, "participant": {"id": pid, "name": (data or {}).get("name"), "token": f"t{pid}"},
                "session": session(data), "posts": [], "dots": {}, "assignment": None}

    @sio.on("watch")
    def on_watch(data=None):
        join_room(room(data))
        return {"ok": True, "session": session(data), "posts": [], "changed": []}

    @sio.on("post")
    def on_post(data=None):
        seq = next(seqs)
        post = {**(data if isinstance(data, dict) else {}), "id": seq, "seq": seq, "rev": seq}
        # Broadcast before the ack, as Rouages' posting service does.
        sio.emit("post", post, to=room(data))
        return {"ok": True, "post": post}

    sio.run(app, host="127.0.0.1", port=port, log_output=False, use_reloader=False, debug=False)


def main(argv=None) -> None:
    """Read the port and runtime, then serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--async-mode", choices=("gevent", "eventlet"), default="gevent")
    parser.add_argument("--message-queue", help="Redis URL joining several bare workers")
    parser.add_argument("--channel", default="flask-socketio", help="the queue's channel")
    parser.add_argument("--worker", type=int, default=0, help="this worker's index among --workers")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    serve(args.port, args.async_mode, args.message_queue, args.channel, args.worker, args.workers)


if __name__ == "__main__":
    main()
