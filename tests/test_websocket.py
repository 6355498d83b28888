"""A WebSocket's end also ends its TCP connection, under gevent and eventlet, with real servers and clients."""

from __future__ import annotations

import base64
import json
import os
import socket
import time

import pytest
import socketio

from conftest import DATA
from server import Server

pytestmark = pytest.mark.server
MODES = ["gevent", "eventlet"]
# What gevent's pywsgi logs when it parses WebSocket frames as an HTTP request.
MISREAD = ("Invalid HTTP method", "Expected GET method", "Invalid HTTP version")


@pytest.fixture(params=MODES)
def server(request, tmp_path, server_env):
    """A real server with the small event imported, under each async runtime."""
    srv = Server(tmp_path / "data", async_mode=request.param, extra_env=server_env)
    srv.cli("event", "import", str(DATA / "small.yaml"))
    with srv:
        yield srv


def raw_websocket(srv: Server) -> socket.socket:
    """Open an Engine.IO WebSocket by hand and return its socket once the server has sent the open packet."""
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(4096)
        assert chunk, received
        received += chunk
    assert received.startswith(b"HTTP/1.1 101"), received
    if received.split(b"\r\n\r\n", 1)[1] == b"":
        assert sock.recv(4096)  # the Engine.IO open packet: the server's handler is running
    return sock


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """Return a client frame (clients must mask) with a short payload."""
    mask = os.urandom(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_until_closed(sock: socket.socket, timeout: float) -> bool:
    """Read until the server closes the connection; return False if it is still open after `timeout`."""
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def test_closing_a_websocket_ends_the_connection_and_logs_nothing(server):
    # A client that closes its WebSocket and then sends more bytes (as python-socketio's client may, its last
    # packets racing its close frame): the server must end the connection, not parse them as a new request.
    sock = raw_websocket(server)
    sock.sendall(masked_frame(0x8, (1000).to_bytes(2, "big")))
    time.sleep(0.3)
    try:
        sock.sendall(masked_frame(0x1, b"1"))
    except OSError:
        pass  # already closed by the server: what we want
    assert read_until_closed(sock, timeout=5), "the server kept the connection open after the WebSocket closed"
    sock.close()

    # The server closes first (its clients are dropped when the session closes, say): the same holds.
    sock = raw_websocket(server)
    sock.sendall(masked_frame(0x1, b"1"))  # Engine.IO close: the server ends the WebSocket itself
    received = b""
    while b"\x88" not in received:  # the server's close frame (its open packet may come first)
        chunk = sock.recv(4096)
        assert chunk, received
        received += chunk
    sock.sendall(masked_frame(0x8, (1000).to_bytes(2, "big")))  # the close handshake's answer
    assert read_until_closed(sock, timeout=5), "the server kept the connection open after ending the WebSocket"
    sock.close()

    sessions = json.loads(server.cli("sessions", "petite-rencontre", "--json").stdout)
    code = next(s["code"] for s in sessions if s["key"] == "world-cafe")
    for index in range(8):
        client = socketio.Client(reconnection=False)
        # Half of them start with long-polling and upgrade, as a client behind a WebSocket-less proxy would.
        transports = ["websocket"] if index % 2 else ["polling", "websocket"]
        client.connect(server.url, transports=transports, wait_timeout=10)
        assert client.call("join", {"code": code}, timeout=10)["ok"]
        client.disconnect()
    time.sleep(0.5)
    server.stop()
    log = server.log.read_text()
    assert [line for line in log.splitlines() if any(text in line for text in MISREAD)] == []
