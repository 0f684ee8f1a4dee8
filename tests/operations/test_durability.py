"""SQLite keeps every committed transaction through a power failure (records courts may read)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from app.extensions import db


def test_sqlite_waits_for_the_disk_at_every_commit(app_ctx):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's synchronous_commit is the server's setting")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
