"""/healthz: the database answers, the schema is at the migrations' head, a worker swept lately."""
from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import text

from app import clock
from app.extensions import db
from app.services.operations.health import record_sweep

KEYS = {"status", "database", "migrations", "last_sweep_seconds_ago", "sweep_stale_after_seconds"}


def test_without_a_worker_sweep_the_service_is_unhealthy(app_ctx, client):
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json == {"status": "unhealthy", "database": "ok", "migrations": "at head",
                           "last_sweep_seconds_ago": None, "sweep_stale_after_seconds": 300}


def test_with_a_recent_sweep_it_is_healthy_and_says_nothing_else(app_ctx, client):
    record_sweep("host:1")
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert set(answer.json) == KEYS and answer.json["status"] == "ok"
    assert 0 <= answer.json["last_sweep_seconds_ago"] < 300
    assert "Set-Cookie" not in answer.headers


def test_a_sweep_older_than_the_limit_is_unhealthy(app_ctx, client):
    with time_machine.travel(clock.now() - timedelta(minutes=6), tick=False):
        record_sweep("host:1")
    answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.json["last_sweep_seconds_ago"] > 300


def test_a_schema_behind_the_migrations_is_unhealthy(app_ctx, client):
    record_sweep("host:1")
    head = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    db.session.execute(text("UPDATE alembic_version SET version_num = '0009'"))
    db.session.commit()
    try:
        answer = client.get("/healthz")
    finally:
        db.session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        db.session.commit()
    assert answer.status_code == 503 and answer.json["migrations"] == "behind"


def test_each_worker_has_one_row_and_silent_ones_are_forgotten(app_ctx):
    from app.models import WorkerHeartbeat

    with time_machine.travel(clock.now() - timedelta(days=2), tick=False):
        record_sweep("gone:1")
    record_sweep("host:1")
    record_sweep("host:1")
    assert [w.worker_id for w in db.session.query(WorkerHeartbeat).all()] == ["host:1"]
