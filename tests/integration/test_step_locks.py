"""Every writer to a case takes its case row's lock before its instance's; a step's first query takes
it (on PostgreSQL) instead of a statement of its own, and a new case reads nothing it cannot have."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import bindparam, event, func, select, text

from app import direct
from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import AuditEvent, Case, CaseFact, HumanTask, Notification, TaskReadyEvent, Timer
from app.services import definitions
from app.services.audit import verify_audit
from app.services.cases import lifecycle, projections, timer_rows
from app.services.cases.timers import sweep_timers
from app.services.errors import Forbidden, NotFound, ValidationFailed
from app.services.reporting.backfill import backfill_reporting
from app.services.tasks import human_tasks
from app.workflow import WaitingTimer
from tests.factories import deploy_test_model, make_user

OPENED = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
CONCERN = {"subject_name": "Alex Example", "summary": "Shouted at a patient.", "immediate_danger": False}


@contextmanager
def statements():
    """The statements run, and COMMIT where a transaction committed."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    def committed(_conn):
        seen.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", record)
    event.listen(db.engine, "commit", committed)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        event.remove(db.engine, "commit", committed)


def _step(seen: list[str], first: str) -> list[str]:
    """The statements of the transaction that begins with the statement containing `first`."""
    start = next(n for n, s in enumerate(seen) if first in s)
    return seen[start:seen.index("COMMIT", start)]


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _case_locked_before_instance(seen: list[str]) -> None:
    """On PostgreSQL: one statement locks the case row, and it comes before the instance's UPDATE."""
    saved = next(n for n, s in enumerate(seen) if "UPDATE process_instance" in s)
    if _postgres():
        locks = [n for n, s in enumerate(seen) if "FOR UPDATE" in s and "case_record" in s]
        assert len(locks) == 1 and locks[0] < saved, seen
    else:  # SQLite: the instance's UPDATE takes the database's write lock; nothing locks before it
        assert not any(s.startswith(("UPDATE", "INSERT", "DELETE")) for s in seen[:saved]), seen


def _locked_by_its_first_query(step: list[str]) -> None:
    """The step's case is locked before its instance, on PostgreSQL by the step's first query."""
    _case_locked_before_instance(step)
    if _postgres():
        assert "FOR UPDATE OF case_record" in step[0], step[0]


def _review(case_id: int) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status == "open",
                                                     HumanTask.title == "Review the concern"))


def test_a_completion_locks_its_case_with_its_first_query_before_its_instance(app_ctx):
    deploy_test_model("simple")
    reporter, _ = make_user()
    lead, _ = make_user("safeguarding_team")
    case = lifecycle.start_case("simple", CONCERN, reporter)
    task_id = _review(case.id).id
    with statements() as seen:
        human_tasks.complete_task(task_id, lead, {"decision": "close", "notes": "Seen."})
    _locked_by_its_first_query(_step(seen, "FROM human_task JOIN case_record"))


def test_a_timer_firing_locks_its_case_before_its_instance(app_ctx):
    deploy_test_model("simple")
    reporter, _ = make_user()
    with time_machine.travel(OPENED, tick=False) as traveller:
        lifecycle.start_case("simple", CONCERN, reporter)
        traveller.move_to(OPENED + timedelta(hours=2, minutes=1))
        with statements() as seen:
            assert sweep_timers("test").instances == 1
    step = _step(seen, "FROM process_instance JOIN case_record")
    _locked_by_its_first_query(step)
    _chain_end_read_by_the_instance_update(step)
    assert verify_audit() == []


def test_a_completion_acts_on_the_task_as_it_is_now_not_as_the_session_read_it(app_ctx):
    """The task page reads the task before it calls the service; a colleague claims it meanwhile."""
    deploy_test_model("simple")
    reporter, _ = make_user()
    lead, _ = make_user("safeguarding_team")
    colleague, _ = make_user("safeguarding_team")
    case = lifecycle.start_case("simple", CONCERN, reporter)
    task = _review(case.id)
    assert task.assignee_id is None  # as the page saw it
    with db.engine.connect() as other:
        other.execute(text("UPDATE human_task SET assignee_id = :who WHERE id = :id"), {"who": colleague.id, "id": task.id})
        other.commit()
    with pytest.raises(NotFound):  # it is the colleague's now: not one this person may act on
        human_tasks.complete_task(task.id, lead, {"decision": "close", "notes": "Seen."})
    assert db.session.get(HumanTask, task.id).status == "open"


def test_a_step_leaves_nothing_for_the_unit_of_work_at_its_commit(app_ctx):
    """The step writes its rows itself; the case's fields it sets to what they were already are not
    left looking changed, which would make the commit's flush go through the case for nothing."""
    deploy_test_model("simple")
    reporter, _ = make_user()
    lead, _ = make_user("safeguarding_team")
    case = lifecycle.start_case("simple", CONCERN, reporter)
    task_id = _review(case.id).id
    pending: list[str] = []

    def before_flush(session, _context, _instances):
        pending.extend(type(row).__name__ for row in (*session.dirty, *session.new, *session.deleted))

    event.listen(db.session, "before_flush", before_flush)
    try:
        human_tasks.complete_task(task_id, lead, {"decision": "close", "notes": "Seen."})
    finally:
        event.remove(db.session, "before_flush", before_flush)
    assert pending == []


def test_a_refused_completion_holds_no_lock(app_ctx):
    deploy_test_model("simple")
    reporter, _ = make_user()
    lead, _ = make_user("safeguarding_team")
    case = lifecycle.start_case("simple", CONCERN, reporter)
    task_id, case_id = _review(case.id).id, case.id
    with pytest.raises(ValidationFailed):
        human_tasks.complete_task(task_id, lead, {"decision": "not one of the choices"})
    with db.engine.connect() as other:  # refused at once if the refused completion still held the case
        if _postgres():
            other.execute(text("SET lock_timeout = 2000"))
        other.execute(text("UPDATE case_record SET stage = stage WHERE id = :id"), {"id": case_id})
        other.commit()


PIPOT_CONCERN = {
    "raised_by_name": "Sam Carter", "raised_by_role": "Staff nurse", "raised_by_contact": "sam@example.nhs.uk",
    "concern_source": "colleague", "subject_name": "Alex Morgan", "subject_work_area": "Ward 4, older adults",
    "allegation_summary": "Seen handling a patient roughly during personal care.",
    "date_became_aware": "2026-03-02",  # months before: a clock counted from it has run out already
    "immediate_danger": False, "adult_at_risk_identified": True, "manager_informed": True,
    "anonymity_understood": True}


def test_a_new_case_reads_neither_timers_nor_the_organisation_on_their_own(app_ctx):
    path = PROJECT_ROOT / "bpmn" / "pipot.bpmn"
    definitions.deploy_definition(path.read_bytes(), path.name)
    reporter, _ = make_user()
    with statements() as seen:
        case = lifecycle.start_case("pipot", PIPOT_CONCERN, reporter)
    ran_out = db.session.scalars(select(Timer.status).where(Timer.case_id == case.id, Timer.status == "fired")).all()
    assert ran_out, "the concern's clock ran out before the case opened, and is recorded as fired"
    reads = [s for s in _step(seen, "FROM process_definition") if s.startswith("SELECT")]
    assert not [s for s in reads if "FROM timer" in s], reads
    assert not [s for s in reads if s.startswith("SELECT organisation_version")], reads
    assert any("organisation_version" in s for s in reads), reads  # read along with the definition


PIPOT_FIRST_STEPS = {
    "first_steps_manager_name": "Jo Patel", "safety_actions": "Moved to duties with no patient contact.",
    "nurse_director_name": "Dr Raj Shah", "nurse_director_notified_on": "2026-03-02",
    "people_experience_notified_on": "2026-03-02", "incident_report_reference": "INC-55512",
    "children_involved": False, "works_with_children": False, "has_children": False,
    "employment_basis": "permanent", "colleague_aware": False}


def _pipot_first_steps() -> tuple[Case, list[str], set[int]]:
    """A PiPoT case whose first steps are done: (the case, the completion's statements, the ids of the
    timers recorded as fired before it)."""
    path = PROJECT_ROOT / "bpmn" / "pipot.bpmn"
    definitions.deploy_definition(path.read_bytes(), path.name)
    reporter, _ = make_user()
    manager, _ = make_user("reporting_manager", "on_call_manager")
    case = lifecycle.start_case("pipot", PIPOT_CONCERN, reporter)
    [task] = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open",
                                                        HumanTask.bpmn_id.like("Task_first_steps%"))).all()
    fired_before = set(db.session.scalars(select(Timer.id).where(Timer.case_id == case.id, Timer.status == "fired")))
    with statements() as seen:
        human_tasks.complete_task(task.id, manager, PIPOT_FIRST_STEPS)
    return case, _step(seen, "FROM human_task"), fired_before


def test_a_clock_that_ran_out_in_the_step_is_recorded_once_without_a_read_first(app_ctx):
    """The first steps, answered months after the manager became aware, start a clock that has already
    run out: it is recorded as fired by one INSERT that does nothing if the clock is recorded already
    (its task's id is unique), not by a read of the timers and then an INSERT."""
    case, step, fired_before = _pipot_first_steps()
    ran_out = db.session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.status == "fired",
                                                     Timer.id.not_in(fired_before))).all()
    assert ran_out, "a clock started by the first steps had run out already, and is recorded as fired"
    assert not [s for s in step if s.startswith("SELECT") and "FROM timer WHERE timer.task_uuid" in s], step
    assert [s for s in step if s.startswith("INSERT INTO timer") and "ON CONFLICT (task_uuid) DO NOTHING" in s], step

    clock = ran_out[0]  # recorded again (a step retried): nothing new, and no second audit event
    events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.event_type == "timer_fired"))
    again = WaitingTimer(clock.task_uuid, clock.bpmn_id, clock.name, clock.guards, clock.interrupting, clock.due_at)
    timer_rows.record_fired_unseen(db.session.get(Case, case.id), [again], [], {}, None)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Timer).where(Timer.task_uuid == clock.task_uuid)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.event_type == "timer_fired")) == events


def test_a_step_that_changes_the_facts_writes_the_difference_without_reading_them(app_ctx):
    """The facts the case held before the step are those its workflow data gave (every step keeps
    them so): the step deletes and inserts the difference, and reads no facts to find it."""
    case, step, _ = _pipot_first_steps()
    assert [s for s in step if "INSERT INTO case_fact" in s], "the first steps' answers are reportable"
    assert not [s for s in step if s.startswith("SELECT") and "FROM case_fact" in s], step
    stored = sorted(db.session.execute(select(CaseFact.key, CaseFact.value).where(CaseFact.case_id == case.id)).all())
    backfill_reporting([case.id])
    assert sorted(db.session.execute(select(CaseFact.key, CaseFact.value).where(CaseFact.case_id == case.id)).all()) \
        == stored  # what rebuilding them from the workflow gives


def test_the_clocks_a_step_starts_and_records_as_run_out_are_one_insert(app_ctx):
    """The first steps start clocks (some waiting, one that had run out already): their rows are one
    statement on PostgreSQL (one a row on SQLite, in process), and each clock's audit event says what
    happened to it."""
    case, step, fired_before = _pipot_first_steps()
    inserts = [s for s in step if s.startswith("INSERT INTO timer")]
    started = db.session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.id.not_in(fired_before))).all()
    # on SQLite the same statement for each (the waiting ones and the one that had run out)
    assert len(inserts) == 1 if _postgres() else len(inserts) > 1 and len(set(inserts)) == 1, inserts
    assert {t.status for t in started} >= {"waiting", "fired"}, [(t.name, t.status) for t in started]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                         AuditEvent.event_type.in_(("timer_started", "timer_fired")))).all()
    for timer in started:
        kinds = {e.event_type for e in events if e.data.get("bpmn_id") == timer.bpmn_id}
        assert kinds == ({"timer_started"} if timer.status == "waiting" else {"timer_fired"}), (timer.name, kinds)
    assert verify_audit() == []


def test_the_clocks_a_step_writes_are_the_same_statement_whatever_their_number(app_ctx):
    """On PostgreSQL the new clocks' rows are one JSON parameter of one statement, executed once: its
    text (the plan the server keeps for it, the form the driver keeps parsed) is the same for one clock
    as for three, where their VALUES made a statement of its own for each number of clocks. On SQLite,
    in process, one prebuilt statement a clock. Either way each clock is written once, with its audit
    event."""
    case, _step, _ = _pipot_first_steps()
    case = db.session.get(Case, case.id)
    due = OPENED - timedelta(days=1)
    inserts = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        if statement.lstrip().startswith("INSERT INTO timer"):
            inserts.append((" ".join(statement.split()), executemany))

    def ran_out(name: str) -> WaitingTimer:
        return WaitingTimer(str(uuid.uuid4()), f"Timer_{name}", f"Clock {name}", "", False, due)

    batches = [[ran_out("one")], [ran_out("two"), ran_out("three"), ran_out("four")]]
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for batch in batches:
            timer_rows.record_fired_unseen(case, batch, [], {}, None)
            db.session.commit()
            case = db.session.get(Case, case.id)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(inserts) == (2 if _postgres() else 4) and not any(many for _sql, many in inserts), inserts
    assert len({sql for sql, _many in inserts}) == 1, inserts
    written = db.session.scalars(select(Timer).where(Timer.task_uuid.in_(
        [timer.task_uuid for batch in batches for timer in batch]))).all()
    assert sorted((t.name, t.status, t.due_at, t.claimed_by) for t in written) == sorted(
        (timer.name, "fired", due, None) for batch in batches for timer in batch)
    fired = db.session.scalars(select(AuditEvent.data).where(AuditEvent.event_type == "timer_fired",
                                                             AuditEvent.case_id == case.id)).all()
    assert {d["timer_id"] for d in fired} >= {t.id for t in written}
    assert verify_audit() == []


def _chain_end_read_by_the_instance_update(step: list[str]) -> None:
    """The case's audit chain is read where it ends by the instance's UPDATE (after the case's lock, so
    no other writer can add to it meanwhile), not by a statement of its own."""
    assert not [s for s in step if s.startswith("SELECT audit_event.seq")], step
    [update] = [s for s in step if "UPDATE process_instance" in s]
    assert "FROM audit_event" in update and "RETURNING" in update, update


def test_a_completion_reads_its_case_chain_s_last_link_with_the_instance_s_update(app_ctx):
    case, step, _ = _pipot_first_steps()
    _chain_end_read_by_the_instance_update(step)
    assert verify_audit() == []
    kinds = db.session.scalars(select(AuditEvent.event_type).where(AuditEvent.case_id == case.id)
                               .order_by(AuditEvent.seq)).all()
    assert kinds[0] == "case_opened" and "task_completed" in kinds


def test_a_completion_closes_its_task_in_the_instance_s_update_where_the_database_allows(app_ctx):
    """On PostgreSQL the task's completion rides in the instance's versioned UPDATE (a data-modifying
    WITH): one round trip, not two. On SQLite, which has no such WITH, it is the statement after it."""
    case, step, _ = _pipot_first_steps()
    saves = [n for n, s in enumerate(step) if "UPDATE process_instance" in s]
    closes = [n for n, s in enumerate(step) if "UPDATE human_task SET" in s and "completed_by_id" in s]
    assert len(saves) == 1 and len(closes) == 1, step
    if _postgres():
        assert closes == saves, step[saves[0]]
        assert step[saves[0]].startswith("WITH"), step[saves[0]]
    else:
        assert closes[0] == saves[0] + 1, step
    [done] = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "completed",
                                                        HumanTask.bpmn_id.like("Task_first_steps%"))).all()
    assert done.completed_by_id is not None and done.completed_at is not None and done.assignee_id is not None
    assert verify_audit() == []


def test_a_task_claimed_by_a_colleague_after_the_step_read_it_is_not_completed(app_ctx):
    """A colleague claims the task between the step's read and its write: the completion is refused,
    and neither the task nor the instance changes (the task's guard holds inside the instance's UPDATE)."""
    if not _postgres():
        pytest.skip("SQLite: the step's first write is refused outright once another writer committed after its read")
    deploy_test_model("simple")
    reporter, _ = make_user()
    lead, _ = make_user("safeguarding_team")
    colleague, _ = make_user("safeguarding_team")
    case = lifecycle.start_case("simple", CONCERN, reporter)
    task_id, version = _review(case.id).id, case.instance.version
    completed = select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case.id,
                                                                   AuditEvent.event_type == "task_completed")
    completed_before = db.session.scalar(completed)

    claimed = []

    def claim_first(_conn, _cursor, statement, *_args):
        if "UPDATE process_instance" in statement and not claimed:
            claimed.append(statement)
            with db.engine.connect() as other:
                other.execute(text("UPDATE human_task SET assignee_id = :who WHERE id = :id"),
                              {"who": colleague.id, "id": task_id})
                other.commit()

    event.listen(db.engine, "before_cursor_execute", claim_first)
    try:
        with pytest.raises(Forbidden):
            human_tasks.complete_task(task_id, lead, {"decision": "close", "notes": "Seen."})
    finally:
        event.remove(db.engine, "before_cursor_execute", claim_first)
    assert claimed, "the colleague's claim landed between the step's read and its write"
    task = db.session.get(HumanTask, task_id)
    db.session.refresh(task)
    assert (task.status, task.assignee_id, task.completed_by_id) == ("open", colleague.id, None)
    db.session.refresh(case.instance)
    assert case.instance.version == version
    assert db.session.scalar(completed) == completed_before


def test_a_write_whose_table_has_a_column_named_as_a_parameter_of_the_save_cannot_ride_with_it(app_ctx):
    """The save and the write riding with it share their parameters, and a Core UPDATE sets any column
    a parameter is named after: a write to such a table is refused when the statement is built, not
    left to set that column from the save's value."""
    events = AuditEvent.__table__  # it has a column "stream", a parameter of the save
    riding = events.update().where(events.c.id == 1).values(event_type="x").returning(events.c.id)
    with pytest.raises(ValueError, match="stream"):
        projections._saving_reading(riding)
    tasks = HumanTask.__table__  # it has "instance_id", which the save's parameters no longer name
    projections._saving_reading(tasks.update().where(tasks.c.id == 1).values(title="x").returning(tasks.c.id))
    naming = tasks.update().where(tasks.c.id == bindparam("version")).values(title="x").returning(tasks.c.id)
    with pytest.raises(ValueError, match="version"):  # a parameter named as a column of the instance's table
        projections._saving_reading(naming)


def test_a_step_s_new_task_and_its_ready_event_are_one_statement_where_the_database_allows(app_ctx):
    """On PostgreSQL a step's one new task is written with the row saying it is ready (a
    data-modifying WITH), one round trip; on SQLite the ready row is the statement after the task's.
    Either way the event names the task, and its holder is told after the step commits."""
    deploy_test_model("simple")
    reporter, _ = make_user()
    lead, _ = make_user("safeguarding_team")
    with statements() as seen:
        case = lifecycle.start_case("simple", CONCERN, reporter)
    step = _step(seen, "FROM process_definition")
    review = _review(case.id)
    tasks = [n for n, s in enumerate(step) if "INSERT INTO human_task" in s]
    ready = [n for n, s in enumerate(step) if "INSERT INTO task_ready_event" in s]
    assert len(ready) == 1, step
    if _postgres():
        assert ready[0] == tasks[-1] and step[ready[0]].startswith("WITH"), step[ready[0]]
    else:
        assert ready[0] == tasks[-1] + 1, step
    told = db.session.scalars(select(Notification).where(Notification.user_id == lead.id,
                                                         Notification.case_id == case.id)).all()
    assert [note.kind for note in told] == ["task"] and review.title in told[0].message
    assert db.session.scalar(select(func.count()).select_from(TaskReadyEvent)) == 0  # told, and gone
    assert verify_audit() == []


def test_a_step_s_new_tasks_are_written_with_their_ready_events_in_one_statement_where_the_database_allows(app_ctx):
    """The first steps open more than one task: on PostgreSQL the tasks and the rows saying each is
    ready are one statement; on SQLite the ready rows follow the tasks' (SQLAlchemy sends a multi-row
    INSERT ... RETURNING there one row at a time). Each event names its own task: the holders are told
    of each new task once, after the step commits."""
    case, step, _ = _pipot_first_steps()
    tasks = [n for n, s in enumerate(step) if "INSERT INTO human_task" in s]
    ready = [n for n, s in enumerate(step) if "INSERT INTO task_ready_event" in s]
    if _postgres():
        assert len(ready) == 1 and tasks == ready, step
    else:
        assert len(ready) == len(tasks) and ready == [tasks[-1] + 1 + n for n in range(len(ready))], step
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
    completed_at = max(n for n, e in enumerate(events) if e.event_type == "task_completed")
    opened = [db.session.get(HumanTask, e.data["task_id"]) for e in events[completed_at:]
              if e.event_type in ("task_ready", "escalation_raised")]  # the tasks this step opened
    assert len(opened) >= 2, [task.title for task in opened]
    told = db.session.scalars(select(Notification).where(Notification.case_id == case.id)).all()
    for task in opened:
        assert any(task.title in note.message for note in told), (task.title, [note.message for note in told])
    assert len({(note.user_id, note.message) for note in told}) == len(told)  # nobody told twice of one task
    assert db.session.scalar(select(func.count()).select_from(TaskReadyEvent)) == 0
    assert verify_audit() == []


def test_a_step_like_one_run_before_compiles_none_of_its_statements_again(app_ctx):
    """Every statement of a start and a completion is taken from SQLAlchemy's compiled cache, or from
    `app.direct`'s, once the same steps have run: compiling one costs more than sending it (a multi-row
    INSERT ... VALUES with bound parameters, for one, is compiled afresh every time)."""
    _pipot_first_steps()
    reporter, _ = make_user()
    manager, _ = make_user("reporting_manager", "on_call_manager")
    compiled: list[str] = []
    direct_before, sent_direct = len(direct._COMPILED), []

    def after(_conn, _cursor, statement, _parameters, context, _executemany):
        if context is None:  # sent by app.direct, which has no execution context
            sent_direct.append(statement)
        elif context.cache_hit != context.cache_hit.CACHE_HIT:
            compiled.append(f"{context.cache_hit.name}: {' '.join(statement.split())[:160]}")

    event.listen(db.engine, "after_cursor_execute", after)
    try:
        case = lifecycle.start_case("pipot", PIPOT_CONCERN, reporter)
        [task] = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open",
                                                            HumanTask.bpmn_id.like("Task_first_steps%"))).all()
        human_tasks.complete_task(task.id, manager, PIPOT_FIRST_STEPS)
    finally:
        event.remove(db.engine, "after_cursor_execute", after)
    assert compiled == []
    assert sent_direct and len(direct._COMPILED) == direct_before


def _open_work_read_with_the_save(step: list[str]) -> None:
    """On PostgreSQL the case's open tasks and waiting timers are read by the statement that saves the
    instance (joined to what its UPDATE returned), after the case's lock; on SQLite by one after it."""
    saves = [n for n, s in enumerate(step) if "UPDATE process_instance" in s]
    reads = [n for n, s in enumerate(step) if "SELECT 'timer' AS kind" in s]
    assert len(saves) == 1 and len(reads) == 1, step
    assert reads[0] == saves[0] if _postgres() else reads[0] > saves[0], step


def test_a_completion_reads_its_case_s_open_work_with_the_save_and_closes_only_its_own_task(app_ctx):
    case, step, _ = _pipot_first_steps()
    _open_work_read_with_the_save(step)
    [done] = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id,
                                                        HumanTask.bpmn_id.like("Task_first_steps%"))).all()
    assert done.status == "completed"  # not cancelled as work the workflow no longer waits on
    cancelled = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                            AuditEvent.event_type == "task_cancelled")).all()
    assert [e.data["task_id"] for e in cancelled if e.data["task_id"] == done.id] == []
    assert verify_audit() == []


def test_a_timer_firing_reads_its_case_s_open_work_with_the_save(app_ctx):
    deploy_test_model("simple")
    reporter, _ = make_user()
    with time_machine.travel(OPENED, tick=False) as traveller:
        case = lifecycle.start_case("simple", CONCERN, reporter)
        waiting = db.session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.status == "waiting")).all()
        traveller.move_to(OPENED + timedelta(hours=2, minutes=1))
        with statements() as seen:
            assert sweep_timers("test").instances == 1
    _open_work_read_with_the_save(_step(seen, "FROM process_instance JOIN case_record"))
    assert {t.status for t in db.session.scalars(select(Timer).where(Timer.id.in_([t.id for t in waiting])))} \
        >= {"fired"}
    assert verify_audit() == []


def test_a_save_on_a_version_someone_else_saved_since_writes_nothing_and_says_so(app_ctx):
    """The versioned update matches no row: the step is refused (on PostgreSQL the statement that reads
    the open work with the save returns no row at all), and nothing it rode with stays written."""
    deploy_test_model("simple")
    reporter, _ = make_user()
    lead, _ = make_user("safeguarding_team")
    case = lifecycle.start_case("simple", CONCERN, reporter)
    task = _review(case.id)
    instance, version = case.instance, case.instance.version
    with pytest.raises(projections.StaleInstance):
        projections.save_state(instance, instance.state, False, version - 1, case.id,
                               along=(human_tasks._MARK_COMPLETED, human_tasks._completion(task, lead)))
    db.session.rollback()
    db.session.refresh(task)
    assert task.status == "open" and db.session.get(type(instance), instance.id).version == version


def test_the_save_s_statements_return_what_they_say_whichever_was_built_first(app_ctx):
    """The firing's save (nothing rides with it) and the completion's (the task's UPDATE rides with it)
    are built from statements of their own: SQLAlchemy remembers the columns a statement returns, and a
    copy made by adding to its RETURNING kept the columns of the statement it was copied from."""
    projections._SAVES.clear()
    try:
        plain = projections._saving_reading(None)
        riding = projections._saving_reading(human_tasks._MARK_COMPLETED)
        assert "along" not in plain.selected_columns.keys()
        assert "along" in riding.selected_columns.keys()
    finally:
        projections._SAVES.clear()


def _opening_inserts(step: list[str]) -> list[str]:
    """The inserts of a new case's instance, its row and its first task (on PostgreSQL, the step's new
    tasks are inserted with their ready events)."""
    return [s for s in step if "INSERT INTO process_instance" in s or "INSERT INTO case_record" in s
            or ("INSERT INTO human_task" in s and "task_ready_event" not in s)]


@pytest.mark.parametrize("answers", [CONCERN, None], ids=["with its concern", "without answers"])
def test_a_new_case_s_instance_case_row_and_first_task_are_one_insert_where_the_database_allows(app_ctx, answers):
    deploy_test_model("simple")
    reporter, _ = make_user()
    with statements() as seen:
        case = lifecycle.start_case("simple", answers, reporter)
    opening = _opening_inserts(_step(seen, "FROM process_definition"))
    if _postgres():
        assert len(opening) == 1, opening
        assert "INSERT INTO process_instance" in opening[0] and "INSERT INTO case_record" in opening[0]
        assert ("INSERT INTO human_task" in opening[0]) == (answers is not None), opening[0]
    else:  # one statement each (the step's new tasks are inserted as the first task is)
        assert len([s for s in opening if "INSERT INTO human_task" not in s]) == 2, opening
    held = {"id": case.id, "instance_id": case.instance_id, "reference": case.reference, "opened_by_id": reporter.id,
            "status": "open"}
    with statements() as read_back:
        assert {key: getattr(case, key) for key in held} == held
    assert read_back == [], "the session holds the new case as written"
    db.session.expire_all()
    row = db.session.get(Case, held["id"])
    assert {key: getattr(row, key) for key in held} == held
    assert row.instance.definition.process_key == "simple" and row.instance.version == 1
    done = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "completed")).all()
    if answers is None:
        assert done == []
        return
    [first] = done
    assert (first.instance_id, first.completed_by_id, first.assignee_id) == (case.instance_id, reporter.id, reporter.id)
    completed = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                            AuditEvent.event_type == "task_completed")).one()
    assert completed.data["task_id"] == first.id and completed.data["answers"] == CONCERN
    assert verify_audit() == []
