"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import pytest

from app.extensions import db
from databases import BACKEND


def test_migrated_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite settings")
def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_workers_starting_together_migrate_once(tmp_path, databases):
    """Three processes migrate one fresh database at the same moment; all succeed, the schema is whole."""
    import os
    import subprocess
    import sys

    url = databases.empty_url()
    env = {**os.environ, "ROUAGES_DATABASE_URL": url}
    # What `rouages serve` does on start, in three processes at once.
    start = "from app import create_app; from app.factory import ensure_schema; ensure_schema(create_app())"
    procs = [subprocess.Popen([sys.executable, "-c", start], env={**env, "ROUAGES_DATA_DIR": str(tmp_path / f"w{i}")},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for i in range(3)]
    outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    from app import create_app
    from conftest import base_config

    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        with db.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
        db.engine.dispose()
