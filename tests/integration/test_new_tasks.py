"""A step's new tasks and the rows saying each is ready (`fanout.insert_tasks_ready`): on PostgreSQL one
statement whatever their number, with the tasks' values as one JSON parameter, so the driver keeps its
parsed form (at most 50 parameters) and SQLAlchemy its compiled form; each task gets its own id and
ready row, and the session holds the tasks as written, with nothing read back."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, select

from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import AuditEvent, HumanTask, TaskReadyEvent
from app.services import definitions
from app.services.audit import verify_audit
from app.services.cases import lifecycle
from app.services.notifications.fanout import PENDING, insert_tasks_ready
from tests.factories import make_user
from tests.integration.test_step_locks import PIPOT_CONCERN, _pipot_first_steps, _postgres
from tests.integration.test_step_tail import sent

DUE = datetime(2026, 12, 9, 17, 0, tzinfo=timezone.utc)


def _new_tasks(case, count: int) -> list[HumanTask]:
    now = datetime.now(timezone.utc)
    return [HumanTask(instance_id=case.instance_id, case_id=case.id, pathway=case.pathway,
                      task_uuid=str(uuid.uuid4()), bpmn_id=f"Task_extra_{n}", title=f"Extra task {n} — “quoted”",
                      role_key=None, lane=None, unit_id=case.unit_id, form_name=None, ui_form_name=None,
                      instructions="Read 'this' first", escalation=n % 2 == 1, created_at=now,
                      due_at=DUE if n % 2 else None, status="open", assignee_id=None, completed_by_id=None,
                      completed_at=None)
            for n in range(count)]


def _write(case, count: int) -> tuple[list[HumanTask], list[int], list]:
    rows = _new_tasks(case, count)
    ready = [(row, n == 0, n == count - 1) for n, row in enumerate(rows)]
    db.session.info.pop(PENDING, None)
    with sent() as given:
        ids = insert_tasks_ready(ready)
        touched = [(row.title, row.due_at, row.escalation) for row in rows]  # held as written: no read back
    assert touched == [(row.title, row.due_at, row.escalation) for row in rows]
    return rows, ids, given


@pytest.mark.parametrize("count", [1, 4, 9])
def test_each_new_task_gets_its_id_and_one_ready_row_with_its_own_flags(app_ctx, monkeypatch, count):
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "worker")  # the ready rows stay to be read
    case, _step, _fired = _pipot_first_steps()
    rows, ids, given = _write(case, count)
    assert ids == [row.id for row in rows] and len(set(ids)) == count
    assert not [s for s, _p in given if s.startswith("SELECT")], given
    pending = db.session.info[PENDING]
    db.session.commit()
    db.session.expire_all()
    for n, row in enumerate(rows):
        stored = db.session.get(HumanTask, row.id)
        assert (stored.task_uuid, stored.title, stored.instructions, stored.due_at, stored.escalation) == (
            row.task_uuid, f"Extra task {n} — “quoted”", "Read 'this' first", DUE if n % 2 else None, n % 2 == 1)
        [event] = db.session.scalars(select(TaskReadyEvent).where(TaskReadyEvent.task_id == row.id)).all()
        assert (event.case_id, event.rota_gap, event.no_holder) == (case.id, n == 0, n == count - 1)
        assert event.id in pending
    assert len(pending) == count


def test_new_tasks_are_one_statement_the_driver_keeps_parsed_whatever_their_number(app_ctx):
    if not _postgres():
        pytest.skip("the tasks and their ready rows as one data-modifying WITH: PostgreSQL only")
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS

    case, _step, _fired = _pipot_first_steps()
    sent_for = {}
    for count in (1, 3, 9):
        _rows, _ids, given = _write(case, count)
        assert len(given) == 1, given
        statement, params = given[0]
        assert len(statement) <= MAX_CACHED_STATEMENT_LENGTH and len(params) <= MAX_CACHED_STATEMENT_PARAMS, (
            count, len(statement), len(params))
        sent_for[count] = statement
    assert len(set(sent_for.values())) == 1, "the same statement for one task or nine"


def test_a_completion_sends_its_new_tasks_and_their_ready_rows_with_its_audit_events(app_ctx, monkeypatch):
    """On PostgreSQL the save of the step's state takes ids for the tasks it may make; the new tasks and
    their ready rows then go with the audit events, in the step's last statement, not one of their own."""
    if not _postgres():
        pytest.skip("rows riding with the audit events: PostgreSQL only")
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "worker")  # the ready rows stay to be read
    case, step, _fired = _pipot_first_steps()
    inserts = [s for s in step if "INSERT INTO human_task" in s]
    assert len(inserts) == 1 and "INSERT INTO audit_event" in inserts[0], inserts
    assert "INSERT INTO task_ready_event" in inserts[0]
    db.session.expire_all()
    opened = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")
                                .order_by(HumanTask.id)).all()
    said = {event.data["task_id"]: event.data["bpmn_id"] for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.event_type.in_(("task_ready", "escalation_raised"))))}
    assert opened and all(said.get(task.id) == task.bpmn_id for task in opened), (said, [(t.id, t.bpmn_id) for t in opened])
    ready = db.session.scalars(select(TaskReadyEvent.task_id).where(TaskReadyEvent.case_id == case.id)).all()
    assert sorted(task_id for task_id in ready if task_id in {t.id for t in opened}) == [t.id for t in opened]  # one each
    assert verify_audit() == []


def test_a_start_sends_its_new_tasks_with_its_audit_events(app_ctx, monkeypatch):
    """The same for a start: the statement that inserts the case takes the ids, and the tasks its first
    form leads to go with the start's audit events."""
    if not _postgres():
        pytest.skip("rows riding with the audit events: PostgreSQL only")
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "worker")  # the ready rows stay to be read
    path = PROJECT_ROOT / "bpmn" / "pipot.bpmn"
    definitions.deploy_definition(path.read_bytes(), path.name)
    reporter, _ = make_user()
    with sent() as given:
        case = lifecycle.start_case("pipot", PIPOT_CONCERN, reporter)
    inserts = [s for s, _p in given if "INSERT INTO human_task" in s]
    assert len(inserts) == 2, inserts  # the first task, completed, with the case; the new ones with the events
    assert "INSERT INTO case_record" in inserts[0] and "INSERT INTO audit_event" in inserts[1], inserts
    db.session.expire_all()
    opened = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")).all()
    ready = db.session.scalars(select(TaskReadyEvent.task_id).where(TaskReadyEvent.case_id == case.id)).all()
    assert opened and sorted(ready) == sorted(task.id for task in opened)
    assert verify_audit() == []


def test_a_step_makes_its_new_task_rows_without_the_orm_s_constructor(app_ctx, monkeypatch):
    """The first steps' new tasks are made as plain rows holding what is written (the ORM's constructor
    fires an event for each of the twenty attributes it sets: 30 against 3 us a task here); each is
    written, with its audit event."""
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "worker")
    constructed = []

    def making(*_args):
        constructed.append(1)

    event.listen(HumanTask, "init", making)
    try:
        case, _step, _fired = _pipot_first_steps()
    finally:
        event.remove(HumanTask, "init", making)
    assert not constructed, constructed
    db.session.expire_all()
    opened = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")).all()
    assert opened and all(row.title and row.task_uuid and row.created_at and row.completed_at is None for row in opened)
    events = db.session.scalars(select(AuditEvent.data).where(AuditEvent.case_id == case.id,
                                                              AuditEvent.event_type.in_(("task_ready", "escalation_raised")))).all()
    assert {row.id for row in opened} <= {data["task_id"] for data in events}
    assert verify_audit() == []
