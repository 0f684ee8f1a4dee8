"""Fixtures: one database per test session (SQLite file, or a private schema on the PostgreSQL
server named by TEST_DATABASE_URL), migrated with Alembic; every table emptied after each test."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.config import database_uri
from app.db import empty_tables
from app.extensions import db
from app.services.notifications.fanout import settle_fanout

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def _postgres_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{database_uri(base)}{sep}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_database(folder: Path, prefix: str):
    """A database of its own: an SQLite file in `folder`, or a new schema (dropped afterwards) on the
    PostgreSQL server named by TEST_DATABASE_URL."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgres"):
        yield f"sqlite:///{folder / f'{prefix}.sqlite3'}"
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_uri(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_url(base, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    with fresh_database(tmp_path_factory.mktemp("db"), "test") as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url):
    from flask_migrate import upgrade

    from app.services.people import seed_roles

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        seed_roles()
    return app


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture(autouse=True)
def _empty_tables(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    assert settle_fanout(app), "the fan-out thread is still telling people about a test's commits"
    with app.app_context():
        db.session.remove()
        empty_tables(db.engine, db.metadata)
        app.extensions.pop("workflow_runtime", None)
        app.extensions.pop("role_lookup", None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
