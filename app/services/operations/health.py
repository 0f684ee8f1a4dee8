"""The health check: the database answers, its schema is at the migrations' head, and a worker has
swept for due timers lately. Says nothing about any case."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from app import clock
from app.extensions import db
from app.models import WorkerHeartbeat

FORGET_WORKERS_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Health:
    database: str                    # "ok" or "unreachable"
    migrations: str                  # "at head", "behind" or "unknown"
    last_sweep_seconds: float | None  # since the newest worker sweep; None if none recorded
    sweep_stale_after: int

    @property
    def ok(self) -> bool:
        swept = self.last_sweep_seconds is not None and self.last_sweep_seconds <= self.sweep_stale_after
        return self.database == "ok" and self.migrations == "at head" and swept

    def as_json(self) -> dict:
        """The answer of /healthz."""
        return {"status": "ok" if self.ok else "unhealthy", "database": self.database,
                "migrations": self.migrations, "last_sweep_seconds_ago": self.last_sweep_seconds,
                "sweep_stale_after_seconds": self.sweep_stale_after}


def check_health(migrations_dir: str, sweep_stale_after: int) -> Health:
    """Read the three facts; a database that does not answer makes the other two unknown."""
    try:
        revisions = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
        newest = db.session.scalar(select(func.max(WorkerHeartbeat.swept_at)))
    except SQLAlchemyError:
        db.session.rollback()
        return Health("unreachable", "unknown", None, sweep_stale_after)
    finally:
        db.session.rollback()  # read only: end the transaction at once
    at_head = revisions == set(_heads(migrations_dir))
    age = round((clock.now() - newest).total_seconds(), 1) if newest is not None else None
    return Health("ok", "at head" if at_head else "behind", age, sweep_stale_after)


@lru_cache(maxsize=4)
def _heads(migrations_dir: str) -> tuple[str, ...]:
    config = Config()
    config.set_main_option("script_location", migrations_dir)
    return tuple(ScriptDirectory.from_config(config).get_heads())


def record_sweep(worker_id: str) -> None:
    """Note that `worker_id` has just swept (one small upsert); forget workers silent for a day. Commits."""
    now = clock.now()
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(WorkerHeartbeat).values(worker_id=worker_id, swept_at=now)
                       .on_conflict_do_update(index_elements=["worker_id"], set_={"swept_at": now}))
    db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.swept_at < now - FORGET_WORKERS_AFTER))
    db.session.commit()
