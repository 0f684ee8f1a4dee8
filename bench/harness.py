"""Shared set-up for the benchmarks: a fresh database per run (an SQLite file, or a private schema on
PostgreSQL), the application on it, the bundled pathways deployed, and timing helpers."""
from __future__ import annotations

import os
import statistics
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.collector import settle_collector
from app.config import PROJECT_ROOT, database_uri
from app.extensions import db

RESULTS = PROJECT_ROOT / "bench" / "results"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class BenchDatabase:
    name: str  # "sqlite" or "postgresql"
    url: str
    cleanup: list = field(default_factory=list)

    def close(self) -> None:
        for step in reversed(self.cleanup):
            step()


def sqlite_database(tag: str) -> BenchDatabase:
    """A fresh SQLite file of this run's own (BENCH_RESULTS names the folder; the process id keeps
    concurrent runs apart)."""
    folder = Path(os.environ.get("BENCH_RESULTS", RESULTS))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench-{tag}-{os.getpid()}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    database = BenchDatabase("sqlite", f"sqlite:///{path}")
    database.cleanup.append(lambda: [Path(f"{path}{s}").unlink(missing_ok=True) for s in ("", "-wal", "-shm")])
    return database


def postgres_database(base: str | None = None) -> BenchDatabase | None:
    """A private schema on the PostgreSQL server, or None when it does not answer."""
    base = base or os.environ.get("BENCH_POSTGRES_URL", PG_DEFAULT)
    admin = create_engine(database_uri(base), isolation_level="AUTOCOMMIT")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:
        return None
    sep = "&" if "?" in base else "?"
    database = BenchDatabase("postgresql", f"{database_uri(base)}{sep}options={quote(f'-csearch_path={schema}')}")

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    database.cleanup.append(drop)
    return database


def make_app(database: BenchDatabase):
    """The application on `database`, migrated, with roles and the bundled pathways deployed."""
    from app.services import definitions, people

    app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "SECRET_KEY": "bench",
                      "SESSION_COOKIE_SECURE": False,
                      # told in the committing thread: no thread of the hook writes while the
                      # population takes its block of ids (the engine timings set their own)
                      "NOTIFY_FANOUT": "inline"})
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"), revision="heads")
        people.seed_roles()
        for name in ("pipot.bpmn", "lado.bpmn"):
            path = PROJECT_ROOT / "bpmn" / name
            definitions.deploy_definition(path.read_bytes(), name)
        db.session.remove()
    settle_collector(app)  # as every web and worker process does (wsgi.py)
    return app


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": round(statistics.median(ms), 3), "p90_ms": round(percentile(ms, 90), 3),
            "p95_ms": round(percentile(ms, 95), 3), "n": len(ms)}


def signed_in(user):
    """The person as a request has them before it calls a service: loaded by the session's user
    loader (with their roles, in one statement). A commit since has expired the bench's copy, which
    would otherwise be read again inside the stopwatch, three statements a request never makes."""
    from sqlalchemy import inspect

    from app.services.accounts.auth import load_user

    return load_user(inspect(user).identity[0])


class BlobTable:
    """A durable floor's table of workflow states, on a connection of its own: each write is one
    statement and one commit straight to the database. Through the bench's ORM session, as the floors
    were measured before, every statement paid the session's own overhead and every commit expired
    the objects the service's samples had left in it: a tenth to a sixth of the floor that was not
    the floor's work (tests/bench/test_floors.py)."""

    def __init__(self, name: str, states: list[str]):
        self.connection = db.engine.connect()
        self.connection.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, state TEXT NOT NULL)"))
        self._select = text(f"SELECT state FROM {name} WHERE id = :id")
        self._update = text(f"UPDATE {name} SET state = :state WHERE id = :id")
        self._insert = text(f"INSERT INTO {name} (id, state) VALUES (:id, :state)")
        self._drop = text(f"DROP TABLE {name}")
        if states:
            self.connection.execute(self._insert, [{"id": n, "state": state} for n, state in enumerate(states)])
        self.connection.commit()

    def read(self, key: int) -> str:
        return self.connection.execute(self._select, {"id": key}).scalar_one()

    def write(self, key: int, state: str) -> None:
        self.connection.execute(self._update, {"id": key, "state": state})
        self.connection.commit()

    def insert(self, key: int, state: str) -> None:
        self.connection.execute(self._insert, {"id": key, "state": state})
        self.connection.commit()

    def drop(self) -> None:
        self.connection.execute(self._drop)
        self.connection.commit()
        self.connection.close()


@contextmanager
def stopwatch(out: list[float]):
    start = time.perf_counter()
    yield
    out.append(time.perf_counter() - start)


def analyze() -> None:
    """Planner statistics after a bulk load, as autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite)
    would have them on a database that grew to this size over years."""
    db.session.commit()
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
