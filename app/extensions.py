"""Flask extensions, created unbound and bound in create_app."""

import json

import orjson
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase
from socketio import packet as socketio_packet
from socketio.packet import Packet as SocketIOPacket

#: The event a frame that cannot be read becomes, so that it is answered (when it asked for an ack) and logged
#: as one line rather than a traceback; realtime.py registers its handler.
MALFORMED = "malformed_message"
# Names python-socketio gives a meaning of its own: sent by a client, they would reach the wrong handler (the
# catch-all's wrapper expects the event name first). They become a name no handler has: `unknown_event`.
RESERVED = frozenset({"*", "connect", "disconnect", "connect_error"})
UNKNOWN = "unknown event"


class Base(DeclarativeBase):
    """Declarative base of every Rouages model."""

    # Named constraints let Alembic alter SQLite tables and drop constraints by name on PostgreSQL.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class WireJSON:
    """How Socket.IO frames are written: orjson, which also splices in parts already encoded (`orjson.Fragment`).

    A list that a whole room receives (the ideas of a vote) is then encoded once per state of the session, and
    each phone's acknowledgement copies its bytes. Frames are read with the standard library as before.
    """

    loads = staticmethod(json.loads)

    @staticmethod
    def dumps(obj, **_options) -> str:
        """Return `obj` as compact JSON (integer keys written as strings, as the standard library does)."""
        try:
            return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            # A lone surrogate (valid in a JSON escape a client sent back, not in UTF-8) becomes "?" rather
            # than failing the whole frame; anything else not JSON fails as before.
            return orjson.dumps(_utf8(obj), option=orjson.OPT_NON_STR_KEYS).decode()


def _utf8(value):
    """Return `value` with every string made valid UTF-8 (lists, tuples and dicts walked)."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode()
    if isinstance(value, dict):
        return {_utf8(key): _utf8(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_utf8(item) for item in value]
    return value


class Packet(SocketIOPacket):
    """Socket.IO packets as python-socketio's, with a cheaper search for binary values in what is sent.

    The stock search builds a list per container and visits every value of every outgoing event: half the
    server's time when a room of phones fetches a list of 1,000 ideas at once (bench/vote_open.py). This one
    finds the same bytes about eight times faster.
    """

    json = WireJSON

    def decode(self, encoded_packet):
        """Decode a received packet; one that is not valid Socket.IO becomes a `MALFORMED` event, its id kept."""
        self.id = None
        try:
            count = super().decode(encoded_packet)
        except (ValueError, TypeError, RecursionError):  # bad JSON, nesting deeper than the parser goes
            count, self.packet_type = 0, None
        if self.packet_type in (socketio_packet.BINARY_EVENT, socketio_packet.BINARY_ACK):
            count, self.packet_type = 0, None  # Rouages sends and takes JSON only
        if self.packet_type == socketio_packet.EVENT:
            if not (isinstance(self.data, list) and self.data and isinstance(self.data[0], str)):
                self.data = [MALFORMED]
            elif self.data[0] in RESERVED:
                self.data = [UNKNOWN, *self.data[1:]]
        elif self.packet_type not in (socketio_packet.CONNECT, socketio_packet.DISCONNECT, socketio_packet.ACK):
            self.packet_type, self.namespace, self.data = socketio_packet.EVENT, None, [MALFORMED]
        return count

    @classmethod
    def data_is_binary(cls, data) -> bool:
        """Return whether `data` holds bytes anywhere in its lists and dicts."""
        if isinstance(data, (bytes, bytearray)):
            return True
        pending = [data] if isinstance(data, (list, dict)) else []
        while pending:
            container = pending.pop()
            for value in container.values() if isinstance(container, dict) else container:
                kind = type(value)
                if kind is str or kind is int or kind is bool or kind is float or value is None:
                    continue  # most values, settled without isinstance
                if isinstance(value, (bytes, bytearray)):
                    return True
                if isinstance(value, (list, dict)):
                    pending.append(value)
        return False


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
socketio = SocketIO()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
