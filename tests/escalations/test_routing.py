"""Work that must not wait goes to a named person: out of hours, the PiPoT manager's first steps go to the
on-call manager on the rota at once; when the rota has a gap, the task waits for anyone in the role,
flagged, and the role's holders and the administrators are told."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import event, select

from app.extensions import db
from app.models import AuditEvent, Notification, TaskRouting
from app.services.cases import lifecycle
from app.services.tasks.inbox import list_inbox
from tests.escalations.cases import PIPOT_START, deploy, on_call, open_tasks, person, send_mail, today

FRIDAY_6_30PM = datetime(2026, 11, 27, 18, 30, tzinfo=timezone.utc)


def test_out_of_hours_first_steps_go_straight_to_the_on_call_manager(app_ctx, smtp):
    deploy("pipot")
    dee, nia = person("on_call_manager", name="Dee Day"), person("on_call_manager", name="Nia Night")
    on_call("on_call_manager", nia, FRIDAY_6_30PM - timedelta(hours=2), FRIDAY_6_30PM + timedelta(hours=14))
    with time_machine.travel(FRIDAY_6_30PM, tick=False) as clock:
        case = lifecycle.start_case("pipot", PIPOT_START, person())
        assert case.out_of_hours is True
        [first_steps] = open_tasks(case, "Task_first_steps_on_call")
        assert first_steps.assignee_id == nia.id
        clock.shift(timedelta(minutes=2))
        send_mail()
    assert len(smtp.to(nia.email)) == 1 and smtp.to(dee.email) == []
    ready = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                       AuditEvent.event_type == "task_ready"))
    assert ready.data["assigned_to"] == "Nia Night"


def test_a_gap_in_the_rota_leaves_the_task_with_the_role_flagged_and_tells_the_administrators(app_ctx, smtp):
    deploy("pipot")
    admin = person("system_administrator", name="Ada Admin")
    dee, nia = person("on_call_manager", name="Dee Day"), person("on_call_manager", name="Nia Night")
    with time_machine.travel(FRIDAY_6_30PM, tick=False) as clock:
        # raised the day the manager became aware, so the first steps are not already overdue (which would
        # escalate them to the director on call, a second gap in this empty rota)
        case = lifecycle.start_case("pipot", PIPOT_START | {"date_became_aware": today()}, person())
        [first_steps] = open_tasks(case, "Task_first_steps_on_call")
        assert first_steps.assignee_id is None
        assert db.session.get(TaskRouting, first_steps.id).rota_gap is True
        [row] = [r for r in list_inbox(dee).rows if r.task.id == first_steps.id]
        assert row.rota_gap is True  # tagged "Nobody on call" in the inbox
        clock.shift(timedelta(minutes=2))
        send_mail()
    assert len(smtp.to(dee.email)) == 1 and len(smtp.to(nia.email)) == 1
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == admin.id)).all()
    assert note.kind == "rota_gap" and note.link == f"/tasks/{first_steps.id}"
    assert "Rota gap" in smtp.to(admin.email)[0]["Subject"]
    ready = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                       AuditEvent.event_type == "task_ready"))
    assert ready.data["rota_gap"] is True


def test_nobody_is_given_work_on_a_case_about_themselves(app_ctx, smtp):
    deploy("pipot")
    subject = person("on_call_manager", name="Alex Morgan")
    subject.staff_number = "E1234"
    other = person("on_call_manager", name="Nia Night")
    db.session.commit()
    on_call("on_call_manager", subject, FRIDAY_6_30PM - timedelta(hours=2), FRIDAY_6_30PM + timedelta(hours=14))
    on_call("on_call_manager", other, FRIDAY_6_30PM - timedelta(hours=1), FRIDAY_6_30PM + timedelta(hours=14))
    with time_machine.travel(FRIDAY_6_30PM, tick=False) as clock:
        case = lifecycle.start_case("pipot", PIPOT_START | {"subject_staff_number": "E1234"}, person())
        [first_steps] = open_tasks(case, "Task_first_steps_on_call")
        clock.shift(timedelta(minutes=2))
        send_mail()
    assert first_steps.assignee_id == other.id
    assert smtp.to(subject.email) == []


def _out_of_hours_start_long_after_awareness() -> tuple[object, dict, list[str]]:
    """Raised out of hours, long after the manager became aware: the first steps go to the on-call
    manager and, already overdue, their escalation to the director on call, each to the person on
    call for that role. Returns the case, who is on call for each role, and the start's statements."""
    deploy("pipot")
    nia, dev = person("on_call_manager", name="Nia Night"), person("director_on_call", name="Dev Director")
    on_call("on_call_manager", nia, FRIDAY_6_30PM - timedelta(hours=2), FRIDAY_6_30PM + timedelta(hours=14))
    on_call("director_on_call", dev, FRIDAY_6_30PM - timedelta(hours=2), FRIDAY_6_30PM + timedelta(hours=14))
    raiser, seen = person(), []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    def committed(_conn):
        seen.append("COMMIT")

    with time_machine.travel(FRIDAY_6_30PM, tick=False):
        event.listen(db.engine, "before_cursor_execute", record)
        event.listen(db.engine, "commit", committed)
        try:
            case = lifecycle.start_case("pipot", PIPOT_START | {"date_became_aware": "2026-11-02"}, raiser)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
            event.remove(db.engine, "commit", committed)
    return case, {"on_call_manager": nia.id, "director_on_call": dev.id}, seen[:seen.index("COMMIT")]


def _routed(case) -> dict:
    return {task.role_key: task.assignee_id for task in open_tasks(case)
            if task.role_key in ("on_call_manager", "director_on_call")}


def test_one_read_of_the_rota_routes_a_step_s_tasks_of_every_on_call_role(app_ctx, smtp):
    case, on_call_now, start = _out_of_hours_start_long_after_awareness()
    assert _routed(case) == on_call_now
    assert len([s for s in start if "on_call_shift" in s]) == 1, start


def test_a_step_s_new_tasks_are_written_with_who_is_on_call_one_statement_a_table(app_ctx, smtp):
    """The tasks the start opens, their routings and their ready events: one INSERT each (besides the
    first task, done as the case opened; on PostgreSQL all three go with the audit events, with ids
    the case's INSERT took for them), and the person on call is written with the task, not after."""
    case, on_call_now, start = _out_of_hours_start_long_after_awareness()
    assert _routed(case) == on_call_now
    written = [s for s in start if s.startswith(("INSERT", "UPDATE", "WITH"))]
    writes = [s.split(" (")[0] for s in written]
    if db.engine.dialect.name == "postgresql":  # with the step's audit events, which nothing reads back before the commit
        assert writes.count("WITH new_instance AS") == 1, writes  # the concern, done, with the case it opened
        [tail] = [s for s in written if "INSERT INTO audit_event" in s]
        for table in ("human_task", "task_ready_event", "task_routing"):
            assert f"INSERT INTO {table} " in tail, table
            assert len([s for s in written if f"INSERT INTO {table} " in s]) == (2 if table == "human_task" else 1), writes
    else:
        # SQLite does not promise the order of what a multi-row INSERT returns, so SQLAlchemy writes rows
        # whose ids it must give back in order one at a time there (each a call into the library, not a
        # round trip)
        assert writes.count("INSERT INTO human_task") == 1 + len(on_call_now), writes  # the concern; the new tasks
        assert writes.count("INSERT INTO task_ready_event") == len(on_call_now), writes
    assert len([s for s in written if "INSERT INTO task_routing" in s]) == 1, writes
    assert not [w for w in writes if w.startswith("UPDATE human_task")], writes
    routings = db.session.scalars(select(TaskRouting).order_by(TaskRouting.task_id)).all()
    assert {(r.role_key, r.on_call_user_id, r.rota_gap) for r in routings} == {
        (role, user_id, False) for role, user_id in on_call_now.items()}
