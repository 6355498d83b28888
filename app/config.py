"""The only reader of ROUAGES_* environment variables."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

ASYNC_MODES = ("gevent", "eventlet")
DEFAULT_ASYNC_MODE = "gevent"


def async_mode(environ: os._Environ | dict | None = None) -> str:
    """Return the async runtime chosen for `rouages serve` (gevent unless told otherwise)."""
    value = (environ or os.environ).get("ROUAGES_ASYNC_MODE", DEFAULT_ASYNC_MODE).strip().lower()
    if value not in ASYNC_MODES:
        raise SystemExit(f"ROUAGES_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, not {value!r}")
    return value


def native_thread_runner(mode: str):
    """Return a function running a blocking system call in a native thread, or None to run it in place.

    The call must touch no lock or other object shared with the event loop: only the operating system.
    """
    if mode == "gevent":
        from gevent import get_hub, monkey

        if monkey.is_module_patched("socket"):
            return lambda fn: get_hub().threadpool.apply(fn)
    elif mode == "eventlet":
        import eventlet.patcher

        if eventlet.patcher.is_monkey_patched("socket"):
            from eventlet import tpool

            return tpool.execute
    return None


def load_secret_key(data_dir: Path) -> str:
    """Read the instance secret key, creating it on first start."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


# Rate limits and sizes, each overridable by ROUAGES_<NAME> (0 turns a limit off); docs/security.md says why
# these figures: a person types a few ideas a minute, and a venue puts 300 phones behind one address.
LIMITS = {
    "LIMIT_POSTS_BURST": 20,             # ideas a participant may send at once (an outbox emptying after an outage)
    "LIMIT_POSTS_PER_MINUTE": 20,        # then this many a minute
    "LIMIT_JOINS_BURST": 120,            # new participants (phones without a token) from one address at once
    "LIMIT_JOINS_PER_MINUTE": 180,       # then this many a minute: 300 people scanning in within two minutes
    "LIMIT_WATCH_BURST": 30,             # full reads of a session's posts by one connection at once
    "LIMIT_WATCH_PER_MINUTE": 60,
    "LIMIT_WEBSOCKETS_PER_ADDRESS": 1000,  # open WebSockets from one address (300 phones, some reconnecting)
    "LIMIT_CONNECTS_BURST": 600,         # new Socket.IO connections from one address at once
    "LIMIT_CONNECTS_PER_MINUTE": 600,
    "LIMIT_PHOTOS_BURST": 10,            # photos a participant may send at once
    "LIMIT_PHOTOS_PER_MINUTE": 1,        # then one a minute: 10 per 10 minutes at most
    "LIMIT_BADGE_MISSES_BURST": 300,     # unknown personal QR codes tried from one address (a real QR code never misses)
    "LIMIT_BADGE_MISSES_PER_MINUTE": 300,  # then this many a minute; a code has 72 random bits, none can be guessed
    "PHOTO_MAX_BYTES": 15_000_000,       # one uploaded photo (a phone's full-size JPEG is 3 to 8 MB)
    "PHOTO_MAX_PIXELS": 40_000_000,      # its pixels, checked before decoding (a bomb is small but huge)
    "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,  # any other request body (a registration CSV)
    "MAX_JSON_LENGTH": 64 * 1024,        # a JSON body or a Socket.IO message
    "WATCH_PAGE": 500,                   # posts per answer of `watch` and GET /api/sessions/<code>/posts
}


def limits_from(env) -> dict:
    """Return the limits, each from ROUAGES_<NAME> when set (a whole number)."""
    out = {}
    for name, default in LIMITS.items():
        raw = env.get(f"ROUAGES_{name}")
        try:
            out[name] = default if raw is None or raw.strip() == "" else int(raw)
        except ValueError:
            raise SystemExit(f"ROUAGES_{name} must be a whole number, not {raw!r}") from None
        if out[name] < 0:
            raise SystemExit(f"ROUAGES_{name} must be 0 or more, not {raw!r}")
    return out


# --- Security: sign-in throttling, proxies, allowed hosts, the data directory's permissions -------------------
# Failed sign-ins counted over a sliding window, in each process. Per address: a venue puts its organisers behind
# the same gateway as the room, so it leaves room for a few mistyped passwords each; per account: guessing one
# organiser's password from many addresses gets 5 tries per window, and the lock lifts by itself when the window
# has passed, so an attacker cannot lock an organiser out for longer than that at a time. Per device: a browser
# holding the device cookie of the account it signs in to is counted on its own instead (a participant guessing
# from the room's address cannot lock out an organiser who signed in there before), with as much room as an
# address, so that a stolen cookie is no unlimited oracle. 0 turns a limit off.
SIGN_IN_LIMITS = {
    "SIGNIN_FAILURES_PER_ADDRESS": 10,
    "SIGNIN_FAILURES_PER_ACCOUNT": 5,
    "SIGNIN_FAILURES_PER_DEVICE": 10,
    "SIGNIN_WINDOW_SECONDS": 300,
}
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def _whole(env, name: str, default: int) -> int:
    raw = env.get(f"ROUAGES_{name}")
    try:
        value = default if raw is None or raw.strip() == "" else int(raw)
    except ValueError:
        raise SystemExit(f"ROUAGES_{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise SystemExit(f"ROUAGES_{name} must be 0 or more, not {raw!r}")
    return value


def grouping_from(env) -> dict:
    """Return how ideas are grouped (docs/synthesis.md): the sentence model, and the similarities (0-1) above which
    ideas are grouped without asking and above which a pair is suggested to a host or an organiser."""
    from app.grouping import Settings

    defaults = Settings()
    return {"GROUPING_EMBEDDER": env.get("ROUAGES_GROUPING_EMBEDDER", "").strip() or defaults.embedder,
            "GROUPING_THRESHOLD": _fraction(env, "GROUPING_THRESHOLD", defaults.threshold),
            "GROUPING_SUGGEST": _fraction(env, "GROUPING_SUGGEST", defaults.suggest)}


def _fraction(env, name: str, default: float) -> float:
    value = env.get(f"ROUAGES_{name}", "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 1:
        raise SystemExit(f"ROUAGES_{name} must be a number between 0 and 1, not {value!r}")
    return number


def _seconds(env, name: str, default: int) -> int:
    value = _whole(env, name, default)
    if value < 1:
        raise SystemExit(f"ROUAGES_{name} must be 1 or more, not {value!r}")
    return value


def security_from(env) -> dict:
    """Return the sign-in limits, the trusted proxy count and the allowed hosts (None: work them out)."""
    out = {name: _whole(env, name, default) for name, default in SIGN_IN_LIMITS.items()}
    out["TRUSTED_PROXIES"] = _whole(env, "TRUSTED_PROXIES", 0)
    hosts = [h.strip().lower().strip("[]") for h in (env.get("ROUAGES_ALLOWED_HOSTS") or "").split(",")]
    out["ALLOWED_HOSTS"] = [h for h in hosts if h] or None
    return out


def private_data_dir(data_dir: Path) -> None:
    """Create the data directory readable by this user only, tightening an existing one (it holds names)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = data_dir.stat().st_mode & 0o777
    if mode & 0o077:
        try:
            data_dir.chmod(0o700)
        except OSError as error:
            logging.getLogger("rouages").warning("Data directory %s is readable by others (%o) and could not be "
                                                 "restricted: %s", data_dir, mode, error)
        else:
            logging.getLogger("rouages").warning("Data directory %s was readable by others (%o): now 700.",
                                                 data_dir, mode)
# --- end of security settings ----------------------------------------------------------------------------------


def from_environ(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the application settings from the environment, then apply overrides."""
    env = os.environ
    overrides = dict(overrides or {})
    data_dir = Path(overrides.pop("DATA_DIR", None) or env.get("ROUAGES_DATA_DIR") or instance_path)
    data_dir = data_dir.expanduser().resolve()
    private_data_dir(data_dir)
    settings = {
        "DATA_DIR": data_dir,
        "SQLALCHEMY_DATABASE_URI": env.get("ROUAGES_DATABASE_URL") or f"sqlite:///{data_dir / 'rouages.db'}",
        "HOST": env.get("ROUAGES_HOST", "0.0.0.0"),
        "PORT": int(env.get("ROUAGES_PORT", "5000")),
        "PUBLIC_URL": (env.get("ROUAGES_PUBLIC_URL") or "").rstrip("/") or None,
        "ASYNC_MODE": env.get("ROUAGES_ASYNC_MODE", DEFAULT_ASYNC_MODE),
        "MESSAGE_QUEUE": env.get("ROUAGES_MESSAGE_QUEUE") or None,
        "MESSAGE_QUEUE_CHANNEL": env.get("ROUAGES_MESSAGE_QUEUE_CHANNEL", "rouages"),
        "BABEL_DEFAULT_LOCALE": env.get("ROUAGES_LOCALE", "fr"),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": env.get("ROUAGES_SECURE_COOKIES", "") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        # Ideas written while posting was open are still stored this long after it closes (0: not at all).
        "POSTING_GRACE_SECONDS": _whole(env, "POSTING_GRACE_SECONDS", 120),
        # Engine.IO heartbeat: a phone whose connection is gone shows it within about interval + timeout.
        "PING_INTERVAL": _seconds(env, "PING_INTERVAL", 5),
        "PING_TIMEOUT": _seconds(env, "PING_TIMEOUT", 5),
        # A booklet render still running after this many seconds is stopped and marked failed.
        "RENDER_TIME_LIMIT": _seconds(env, "RENDER_TIME_LIMIT", 600),
        "AUTO_MIGRATE": True,
    }
    settings.update(limits_from(env))
    settings.update(security_from(env))
    settings.update(grouping_from(env))
    settings.update(overrides)
    if "SECRET_KEY" not in settings:
        settings["SECRET_KEY"] = env.get("ROUAGES_SECRET_KEY") or load_secret_key(data_dir)
    return settings
