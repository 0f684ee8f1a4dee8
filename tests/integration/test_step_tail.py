"""The last writes of a step: the case row's UPDATE, and the rows nothing in the step reads back (its
count changes and new facts), go with the step's audit events, one statement on PostgreSQL (a
data-modifying WITH, every table's rows as one parameter), and what it wrote is there after the commit;
a step that fails writes none of it."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import bindparam, event, func, select

from app.config import PROJECT_ROOT
from app.db import begin_writing
from app.extensions import db
from app.models import AuditEvent, Case, CaseCountChange, CaseFact, DashboardCountChange
from app.services import definitions
from app.services.audit import audit_batch, insert_with_events, record_event, verify_audit, write_with_events
from app.services.cases import lifecycle
from tests.factories import make_user
from tests.integration.test_step_locks import PIPOT_CONCERN, _pipot_first_steps, _postgres, statements

_CASES = Case.__table__
_RENAME_STAGE = _CASES.update().where(_CASES.c.id == bindparam("row_id")).values(stage=bindparam("stage"))


def test_a_completion_sends_the_case_row_with_its_audit_events(app_ctx):
    case, step, _ = _pipot_first_steps()
    writes = [s for s in step if "UPDATE case_record" in s or "INSERT INTO audit_event" in s]
    if _postgres():
        assert len(writes) == 1 and writes[0].startswith("WITH along AS (UPDATE case_record"), writes
    else:
        assert [w.split()[0] for w in writes] == ["UPDATE", "INSERT"], writes
    db.session.expire_all()
    written = db.session.get(Case, case.id)
    assert written.stage and written.key_dates  # the step's changes to the case row are there
    assert verify_audit() == []
    assert "task_completed" in db.session.scalars(select(AuditEvent.event_type).where(AuditEvent.case_id == case.id))


def test_a_step_that_fails_writes_neither_the_case_row_nor_its_events(app_ctx):
    case, _step, _ = _pipot_first_steps()
    stage_before = case.stage
    events_before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    begin_writing(db.session)
    with pytest.raises(RuntimeError), audit_batch():
        record_event("case_note_added", case_id=case.id, data={"note": "never kept"})
        write_with_events(_RENAME_STAGE, {"row_id": case.id, "stage": "Never reached"})
        raise RuntimeError("the step failed after its projection")
    db.session.rollback()
    assert db.session.scalar(select(Case.stage).where(Case.id == case.id)) == stage_before
    assert db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == events_before


def test_outside_a_batch_the_write_is_sent_at_once(app_ctx):
    case_id = _pipot_first_steps()[0].id
    begin_writing(db.session)
    with statements() as seen:
        write_with_events(_RENAME_STAGE, {"row_id": case_id, "stage": "Written at once"})
        assert db.session.scalar(select(Case.stage).where(Case.id == case_id)) == "Written at once"
    assert seen[0].startswith("UPDATE case_record")
    db.session.rollback()


def test_a_batch_with_no_events_still_sends_the_write(app_ctx):
    case, _step, _ = _pipot_first_steps()
    begin_writing(db.session)
    with audit_batch():
        write_with_events(_RENAME_STAGE, {"row_id": case.id, "stage": "No events, still written"})
    assert db.session.scalar(select(Case.stage).where(Case.id == case.id)) == "No events, still written"
    db.session.rollback()



@contextmanager
def sent():
    """Each statement sent, as (its SQL on one line, its parameters)."""
    given: list = []

    def record(_conn, _cursor, statement, parameters, *_args):
        given.append((" ".join(statement.split()), parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield given
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _start() -> tuple[Case, list[str]]:
    """A PiPoT case opened with its concern, and the start's statements."""
    path = PROJECT_ROOT / "bpmn" / "pipot.bpmn"
    definitions.deploy_definition(path.read_bytes(), path.name)
    reporter, _ = make_user()
    with sent() as given:
        case = lifecycle.start_case("pipot", PIPOT_CONCERN, reporter)
    return case, [s for s, _p in given]


def test_a_start_sends_its_counts_facts_case_row_and_events_as_one_statement_where_the_database_allows(app_ctx):
    case, step = _start()
    tail = [s for s in step if "UPDATE case_record " in s or any(f"INSERT INTO {t} " in s for t in (
        "case_count_change", "dashboard_count_change", "case_fact", "audit_event"))]
    if _postgres():
        assert len(tail) == 1 and tail[0].startswith("WITH "), tail
        for table in ("case_count_change", "dashboard_count_change", "case_fact", "audit_event"):
            assert f"INSERT INTO {table} " in tail[0], table
        assert "UPDATE case_record SET" in tail[0]
    else:  # one statement each
        for write in ("INSERT INTO case_count_change ", "INSERT INTO dashboard_count_change ", "INSERT INTO case_fact ",
                      "INSERT INTO audit_event ", "UPDATE case_record SET stage"):
            assert len([s for s in tail if s.startswith(write)]) == 1, (write, tail)
    db.session.expire_all()
    assert db.session.scalars(select(CaseFact.key).where(CaseFact.case_id == case.id)).all()
    assert db.session.scalar(select(func.sum(CaseCountChange.open_cases)).where(CaseCountChange.pathway == "pipot")) == 1
    assert db.session.scalar(select(func.count()).select_from(DashboardCountChange)) > 0
    assert verify_audit() == []
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
    assert [e.event_type for e in events][:2] == ["case_opened", "task_completed"]
    assert events[0].data["reference"] == case.reference and events[0].at.tzinfo is not None


def test_every_statement_of_a_start_and_a_completion_is_one_the_driver_keeps_parsed(app_ctx):
    """psycopg parses a statement's placeholders once and keeps the result, for a statement of at most
    4,096 characters and 50 parameters; a longer one is parsed again at every execution (0.35 ms for
    the events and case row of a step, measured here)."""
    if not _postgres():
        pytest.skip("psycopg's cache of parsed statements: PostgreSQL only")
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS

    with sent() as given:
        _pipot_first_steps()  # a start, then a completion
    too_big = [(s[:80], len(s), len(p)) for s, p in given
               if isinstance(p, dict) and (len(s) > MAX_CACHED_STATEMENT_LENGTH or len(p) > MAX_CACHED_STATEMENT_PARAMS)]
    assert not too_big, too_big
    assert len([s for s, _p in given if s.startswith("WITH along AS (UPDATE case_record")]) == 2, "the start's, the completion's"


def test_rows_sent_with_the_events_are_written_as_given_and_only_once(app_ctx):
    case, _step, _ = _pipot_first_steps()
    begin_writing(db.session)
    before = db.session.scalar(select(func.count()).select_from(CaseCountChange))
    with statements() as seen, audit_batch():
        record_event("case_note_added", case_id=case.id, data={"note": "Ünïcode, \"quotes\" and 3.5"})
        insert_with_events(CaseCountChange.__table__, [{"pathway": "pipot", "unit_id": 0, "stage": "A", "open_cases": 1}])
        insert_with_events(CaseCountChange.__table__, [{"pathway": "pipot", "unit_id": 0, "stage": "B", "open_cases": -1}])
        insert_with_events(DashboardCountChange.__table__, [{"pathway": "pipot", "unit_id": 0, "figure": "due", "holder": "r:x",
                                                             "day": date(2026, 12, 4), "counted": 2}])
        if _postgres():
            assert not [s for s in seen if not s.startswith("SELECT")], "nothing written before the batch ends"
    writes = [s for s in seen if not s.startswith("SELECT")]
    assert len(writes) == (1 if _postgres() else 4), writes
    db.session.commit()
    stages = db.session.scalars(select(CaseCountChange.stage).order_by(CaseCountChange.id)).all()
    assert len(stages) == before + 2 and stages[-2:] == ["A", "B"]
    assert db.session.scalar(select(DashboardCountChange.day).where(DashboardCountChange.holder == "r:x")) == date(2026, 12, 4)
    note = db.session.scalars(select(AuditEvent).where(AuditEvent.event_type == "case_note_added")).one()
    assert note.data == {"note": "Ünïcode, \"quotes\" and 3.5"}
    assert verify_audit() == []


def test_a_batch_of_events_alone_is_one_execution_on_postgresql(app_ctx):
    """A batch with no write riding along (the fan-out's notification events, twenty at a time) is
    still one statement executed once on PostgreSQL, its rows one parameter, not a statement executed
    once per row (the driver's executemany); on SQLite, in process, one executemany."""
    case, _step, _ = _pipot_first_steps()
    begin_writing(db.session)
    executions = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        if "INSERT INTO audit_event" in statement:
            executions.append((executemany, len(parameters) if executemany else 1))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with audit_batch():
            for n in range(20):
                record_event("case_note_added", case_id=case.id, data={"note": f"note {n}"})
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert executions == ([(False, 1)] if _postgres() else [(True, 20)]), executions
    db.session.commit()
    notes = db.session.scalars(select(AuditEvent.data).where(AuditEvent.event_type == "case_note_added")
                               .order_by(AuditEvent.seq)).all()
    assert [note["note"] for note in notes] == [f"note {n}" for n in range(20)]
    assert verify_audit() == []


def test_rows_sent_with_the_events_of_a_step_that_fails_are_not_written(app_ctx):
    _pipot_first_steps()
    before = db.session.scalar(select(func.count()).select_from(CaseCountChange))
    begin_writing(db.session)
    with pytest.raises(RuntimeError), audit_batch():
        insert_with_events(CaseCountChange.__table__, [{"pathway": "pipot", "unit_id": 0, "stage": "A", "open_cases": 1}])
        raise RuntimeError("the step failed")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CaseCountChange)) == before


def test_outside_a_batch_rows_are_inserted_at_once(app_ctx):
    _pipot_first_steps()
    begin_writing(db.session)
    with statements() as seen:
        insert_with_events(CaseCountChange.__table__, [{"pathway": "pipot", "unit_id": 0, "stage": "A", "open_cases": 1}])
    assert seen and seen[0].startswith("INSERT INTO case_count_change"), seen
    db.session.rollback()
