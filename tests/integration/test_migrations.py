"""The migrations in migrations/ and the models agree (schema only through Alembic), and a migration
fills what it adds for the rows it finds."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select

from app import create_app
from app.extensions import db
from app.models import Case, HumanTask, ProcessDefinition, ProcessInstance
from tests.conftest import ROOT, fresh_database


def test_models_and_migrations_agree(app_ctx):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


@pytest.fixture
def empty_database(tmp_path):
    with fresh_database(tmp_path, "migrations") as url:
        yield url


def test_tasks_written_before_0009_get_their_case_pathway(empty_database):
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True, "SECRET_KEY": "test"})
    now = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="0008")
        with db.engine.begin() as conn:
            conn.execute(insert(ProcessDefinition.__table__).values(
                id=1, process_key="pipot", version=1, sha256="0" * 64, filename="pipot.bpmn", bpmn_xml=b"<x/>",
                forms={}, deployed_at=now))
            for n, pathway in ((1, "pipot"), (2, "lado")):
                conn.execute(insert(ProcessInstance.__table__).values(
                    id=n, definition_id=1, state=b"", version=1, completed=False, created_at=now, updated_at=now))
                conn.execute(insert(Case.__table__).values(
                    id=n, reference=f"{pathway.upper()}-2026-0001", pathway=pathway, instance_id=n, status="open",
                    stage="", opened_at=now, key_dates={}))
                conn.execute(insert(HumanTask.__table__).values(
                    id=n, instance_id=n, case_id=n, task_uuid=str(uuid.uuid4()), bpmn_id="Task_x", title="A task",
                    created_at=now))
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        with db.engine.connect() as conn:
            pathways = dict(conn.execute(select(HumanTask.id, HumanTask.pathway)).all())
        db.session.remove()
        db.engine.dispose()
    assert pathways == {1: "pipot", 2: "lado"}
