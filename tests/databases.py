"""The database the tests run on: SQLite files by default, PostgreSQL with ROUAGES_TEST_DB=postgresql."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

BACKEND = os.environ.get("ROUAGES_TEST_DB", "sqlite")
POSTGRES_URL = os.environ.get("ROUAGES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _admin():
    """Open an autocommit connection to the PostgreSQL server, or skip (locally) / fail (in CI)."""
    import psycopg

    try:
        return psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            raise RuntimeError(f"CI must run the PostgreSQL tests, but {POSTGRES_URL} is unreachable") from error
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable: {error}".splitlines()[0])


def _url(name: str) -> str:
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


class Databases:
    """Creates a migrated template once, then one database per test from it."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.prefix = f"rouages_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    def empty_url(self, backend: str | None = None) -> str:
        """Return the URL of a new, empty database (for a server to migrate itself), on the run's backend or `backend`."""
        if (backend or BACKEND) == "sqlite":
            path = self.workdir / f"{uuid.uuid4().hex}.db"
            return f"sqlite:///{path}"
        return self._create()

    def copy_url(self, template_url: str, target_dir: Path) -> str:
        """Return the URL of a fresh copy of the migrated template."""
        if BACKEND == "sqlite":
            shutil.copy(template_url.removeprefix("sqlite:///"), target_dir / "rouages.db")
            return f"sqlite:///{target_dir / 'rouages.db'}"
        return self._create(template_url.rsplit("/", 1)[1])

    def _create(self, template: str | None = None) -> str:
        """Create a PostgreSQL database (a copy of `template` if given) dropped at the end; return its URL."""
        name = f"{self.prefix}_{len(self.created)}"
        with _admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return _url(name)

    def drop_all(self) -> None:
        """Drop every PostgreSQL database this run created."""
        if self.created:
            with _admin() as admin:
                for name in self.created:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
