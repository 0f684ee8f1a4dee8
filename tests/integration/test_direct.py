"""Prebuilt statements run on the driver's cursor (`app.direct`): what reaches the database is what
SQLAlchemy would have sent, in the session's own transaction, seen by the engine's events, with what
it cannot do refused at once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import bindparam, event, exc, insert, inspect, select
from sqlalchemy.orm import Session

from app import clock, direct
from app.config import PROJECT_ROOT
from app.db import begin_writing, columns_to_read, insert_all_as_loaded, row_as_read
from app.extensions import db
from app.models import AuditEvent, Case, HumanTask
from app.services import definitions
from app.services.audit import _INSERT_EVENTS, stream_for
from app.services.cases import lifecycle
from app.services.cases.projections import _OPEN_WORK, _SAVE_STATE, _saving_reading
from app.services.tasks.human_tasks import _MARK_COMPLETED
from bench.answers import CONCERN
from tests.factories import make_user

_TASKS = HumanTask.__table__


def _sent(run) -> list[tuple[str, object, bool]]:
    """(SQL, parameters, executemany) of each statement `run` sent, rolled back after."""
    sent = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        sent.append((statement, parameters, executemany))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        db.session.rollback()
    return sent


def _as_sent(parameters):
    """Parameters as compared: sequences as lists, a driver's wrapper of a value (psycopg's Binary and
    Json, each equal only to itself) as the value it wraps."""
    if isinstance(parameters, dict):
        return {key: _as_sent(value) for key, value in parameters.items()}
    if isinstance(parameters, (list, tuple)):
        return [_as_sent(value) for value in parameters]
    return parameters.obj if type(parameters).__module__.startswith("psycopg") else parameters


@pytest.fixture
def task_row(app_ctx):
    path = PROJECT_ROOT / "bpmn" / "pipot.bpmn"
    definitions.deploy_definition(path.read_bytes(), path.name)
    reporter, _ = make_user()
    case = lifecycle.start_case("pipot", CONCERN, reporter)
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open"))
    db.session.commit()
    return task.id, case.id


def _statements(task_id: int, case_id: int) -> list[tuple]:
    now = clock.now()
    event_row = {"stream": stream_for(case_id), "seq": 999, "case_id": case_id, "event_type": "direct_test",
                 "actor_id": None, "actor_label": "test", "at": now, "data": {"n": 1}, "prev_hash": "0" * 64,
                 "hash": "f" * 64}
    completed = {"task_id": task_id, "by": None, "at": now, "holder": None}
    save = {"saved_instance": 0, "expected": 0, "new_state": b"x", "new_version": 1, "is_completed": False,
            "now": now, "stream": stream_for(case_id)}
    return [
        (_OPEN_WORK, {"work_case": case_id}),
        (_MARK_COMPLETED, completed),
        (_SAVE_STATE, save),
        (_saving_reading(_MARK_COMPLETED), save | completed | {"work_case": case_id, "new_task_ids": 2}),
        (_INSERT_EVENTS, event_row),
        (_INSERT_EVENTS, [event_row, event_row | {"seq": 1000}]),
        (_TASKS.update().where(_TASKS.c.id == bindparam("row_id")).values(due_at=bindparam("due")),
         {"row_id": task_id, "due": now + timedelta(days=3)}),
    ]


def test_the_driver_is_sent_what_sqlalchemy_would_send(task_row):
    task_id, case_id = task_row
    for statement, params in _statements(task_id, case_id):
        if statement is _saving_reading(_MARK_COMPLETED) and db.engine.dialect.name != "postgresql":
            continue  # a data-modifying WITH: PostgreSQL's alone
        through_session = _sent(lambda s=statement, p=params: db.session.execute(s, p))
        through_driver = _sent(lambda s=statement, p=params: direct.execute(db.session, s, p))
        assert len(through_session) == len(through_driver) == 1
        (sql, sent, many), (direct_sql, direct_sent, direct_many) = through_session[0], through_driver[0]
        assert (direct_sql, _as_sent(direct_sent), direct_many) == (sql, _as_sent(sent), many), sql


def test_rows_come_back_through_the_result_types(task_row):
    task_id, case_id = task_row
    due = clock.now().replace(microsecond=0) + timedelta(days=2)
    db.session.execute(_TASKS.update().where(_TASKS.c.id == task_id).values(due_at=due))
    expected = db.session.execute(_OPEN_WORK, {"work_case": case_id}).all()
    rows = direct.execute(db.session, _OPEN_WORK, {"work_case": case_id})
    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    task = next(row for row in rows if row.kind == "task" and row.id == task_id)
    assert task.due_at == due and task.due_at.tzinfo is not None
    assert direct.execute(db.session, _TASKS.update().where(_TASKS.c.id == -1).values(title="none")) == []
    db.session.rollback()


def test_what_it_writes_is_the_sessions_transactions(task_row):
    task_id, _case_id = task_row
    begin_writing(db.session)  # as a step begins (on SQLite, a SAVEPOINT alone would begin nothing)
    rename = _TASKS.update().where(_TASKS.c.id == bindparam("row_id")).values(title=bindparam("new_title"))
    with db.session.begin_nested():
        direct.execute(db.session, rename, {"row_id": task_id, "new_title": "Kept"})
    savepoint = db.session.begin_nested()
    direct.execute(db.session, rename, {"row_id": task_id, "new_title": "Rolled back to the savepoint"})
    savepoint.rollback()
    assert db.session.scalar(select(HumanTask.title).where(HumanTask.id == task_id)) == "Kept"
    db.session.rollback()
    assert db.session.scalar(select(HumanTask.title).where(HumanTask.id == task_id)) != "Kept"


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(task_row):
    _task_id, case_id = task_row
    reference = db.session.scalar(select(Case.reference).where(Case.id == case_id))
    copy = insert(Case.__table__).from_select(
        [c.key for c in Case.__table__.columns if c.key != "id"],
        select(*(c for c in Case.__table__.columns if c.key != "id")).where(Case.reference == bindparam("ref")))
    with pytest.raises(exc.IntegrityError):
        direct.execute(db.session, copy, {"ref": reference})
    db.session.rollback()
    with pytest.raises(exc.StatementError, match="required"):
        direct.execute(db.session, _OPEN_WORK, {})
    db.session.rollback()


def test_what_it_cannot_do_is_refused_before_anything_is_sent(app_ctx):
    events = AuditEvent.__table__
    without_data = {"stream": "s", "seq": 1, "case_id": None, "event_type": "t", "actor_id": None,
                    "actor_label": "x", "at": clock.now(), "prev_hash": "0", "hash": "1"}
    refused = [
        (insert(events), without_data),  # `data` would take its Python-side default
        (select(HumanTask.id).where(HumanTask.id.in_(bindparam("ids", expanding=True))), {"ids": [1, 2]}),
    ]
    for statement, params in refused:
        assert _sent(lambda s=statement, p=params: pytest.raises(direct.NotDirect, direct.execute,
                                                                 db.session, s, p)) == []


def test_several_rows_written_with_returning_come_back_in_order(app_ctx):
    events = AuditEvent.__table__
    row = {"stream": "direct-test", "case_id": None, "event_type": "t", "actor_id": None, "actor_label": "x",
           "at": clock.now(), "data": {}, "prev_hash": "0", "hash": "1"}
    statement = insert(events).returning(events.c.seq, sort_by_parameter_order=True)
    rows = direct.execute(db.session, statement, [row | {"seq": seq} for seq in (7, 3, 5)])
    assert [seq for (seq,) in rows] == [7, 3, 5]
    assert direct.execute(db.session, statement, []) == []
    db.session.rollback()


def _column_values(row, cls) -> dict:
    return {column.key: getattr(row, column.key) for column in columns_to_read(cls)}


def test_a_row_read_directly_is_the_row_the_orm_would_load(task_row):
    _task_id, case_id = task_row
    db.session.expunge_all()
    [values] = direct.execute(db.session, select(*columns_to_read(Case)).where(Case.__table__.c.id == case_id))
    case = row_as_read(db.session, Case, values)
    with Session(db.engine) as other:
        loaded = other.get(Case, case_id)
        expected = _column_values(loaded, Case)
    sent = _sent(lambda: _column_values(case, Case))  # nothing read back: every column is loaded
    assert sent == [] and _column_values(case, Case) == expected
    assert case in db.session and not db.session.dirty


def test_a_row_the_session_holds_takes_what_was_read(task_row):
    _task_id, case_id = task_row
    case = db.session.get(Case, case_id)
    assert case.instance is not None  # a relationship loaded
    case.stage = "Typed but never written"
    with db.engine.connect() as other:  # someone else's step moved the case on
        other.execute(Case.__table__.update().where(Case.__table__.c.id == case_id).values(stage="Moved on"))
        other.commit()
    db.session.rollback()
    case = db.session.get(Case, case_id)
    case.stage = "Typed but never written"
    [values] = direct.execute(db.session, select(*columns_to_read(Case)).where(Case.__table__.c.id == case_id))
    assert row_as_read(db.session, Case, values) is case
    assert case.stage == "Moved on" and not db.session.dirty
    assert "instance" not in inspect(case).dict  # let go: read again when next used
    db.session.rollback()


def test_new_rows_inserted_as_loaded_are_sent_as_sqlalchemy_sends_them_without_its_execution(task_row):
    """Several new rows whose ids come back in order: SQLite does not promise the order RETURNING gives
    several rows in, so SQLAlchemy sends them one statement a row there (no round trip): so does
    `insert_all_as_loaded`, straight to the driver. On PostgreSQL, SQLAlchemy's one statement."""
    task_id, case_id = task_row
    template = db.session.get(HumanTask, task_id)
    values = {c.key: getattr(template, c.key) for c in _TASKS.columns if c.key != "id"}
    rows = [HumanTask(**values | {"task_uuid": f"as-loaded-{n}", "title": f"Row {n}"}) for n in range(3)]
    executions, written = [], []

    def executing(_conn, statement, *_args):
        executions.append(statement)

    event.listen(db.engine, "before_execute", executing)
    try:
        sent = _sent(lambda: written.extend(insert_all_as_loaded(db.session, rows)))
    finally:
        event.remove(db.engine, "before_execute", executing)
    ids = written
    assert ids == sorted(ids) and len(set(ids)) == 3
    if db.engine.dialect.name == "sqlite":
        assert executions == [], "nothing through SQLAlchemy's execution"
        assert [(sql.startswith("INSERT INTO human_task"), "RETURNING id" in sql, len(p)) for sql, p, _many in sent] == [
            (True, True, len(values))] * 3
    else:
        assert len(sent) == 1
