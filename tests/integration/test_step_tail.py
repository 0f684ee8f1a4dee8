"""The last writes of a step: the case row's UPDATE goes with the step's audit events, one statement on
PostgreSQL (a data-modifying WITH), and what it wrote is there after the commit; a step that fails
writes neither."""
from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select

from app.db import begin_writing
from app.extensions import db
from app.models import AuditEvent, Case
from app.services.audit import audit_batch, record_event, verify_audit, write_with_events
from tests.integration.test_step_locks import _pipot_first_steps, _postgres, statements

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

