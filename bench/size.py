"""Stored bytes per case (issue 9, item 6), at open and at closed: workflow state, projections, audit."""
from __future__ import annotations

import json
import statistics

from sqlalchemy import select, text

from app.extensions import db
from app.models import AuditEvent, Case, HumanTask, ProcessInstance, Timer

TABLES = (("workflow state", ProcessInstance, "id", "instance_id"), ("case record", Case, "id", "id"),
          ("human tasks", HumanTask, "case_id", "id"), ("timers", Timer, "case_id", "id"),
          ("audit", AuditEvent, "case_id", "id"))


def _value_bytes(value) -> int:
    if value is None:
        return 0
    if isinstance(value, (bytes, memoryview)):
        return len(value)
    if isinstance(value, (dict, list)):
        return len(json.dumps(value, separators=(",", ":")).encode())
    return len(str(value).encode())


def _row_bytes(model, column: str, key: int) -> int:
    statement = select(*model.__table__.columns).where(model.__table__.c[column] == key)
    return sum(_value_bytes(v) for row in db.session.execute(statement) for v in row)


def _postgres_bytes(model, column: str, key: int) -> int:
    table = model.__tablename__
    return db.session.execute(text(f"SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM {table} t "
                                   f"WHERE {column} = :key"), {"key": key}).scalar_one()


def per_case(status: str, sample: int = 200) -> dict:
    """Mean bytes per case of `status` over a sample, by table (column bytes; on PostgreSQL the
    stored row sizes, after its own compression of large values)."""
    cases = db.session.scalars(select(Case).where(Case.status == status).order_by(Case.id.desc()).limit(sample)).all()
    if not cases:
        return {}
    measure = _postgres_bytes if db.session.get_bind().dialect.name == "postgresql" else _row_bytes
    by_table = {}
    for label, model, column, attribute in TABLES:
        key_of = (lambda c: c.instance_id) if attribute == "instance_id" else (lambda c: c.id)
        by_table[label] = round(statistics.mean(measure(model, column, key_of(c)) for c in cases))
    return by_table | {"total": sum(by_table.values()), "cases": len(cases)}


def run() -> dict:
    return {"open": per_case("open"), "closed": per_case("closed")}
