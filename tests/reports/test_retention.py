"""Retention: a review date at closure, the daily job, legal holds, and disposal by two people that
keeps a tombstone and leaves the audit chain verifiable."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest
import time_machine
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, CaseFact, DisposalRequest, Notification, RetentionRecord
from app.services import people
from app.services.audit import stream_for, verify_audit, verify_stream
from app.services.cases.retention_rules import retention_review_date
from app.services.errors import Forbidden, NotFound, ValidationFailed
from app.services.reporting.disposal import approve_disposal, cancel_disposal, request_disposal
from app.services.reporting.retention import flag_due_reviews, lift_legal_hold, place_legal_hold
from app.services.runtime import get_calendar
from app.workflow import state_json
from tests.reports.conftest import run_route


def closed_case():
    case = run_route("pipot/threshold_not_met_no_further_action").case
    db.session.refresh(case)
    assert case.status == "closed"
    return case


def managers():
    return (people.create_user("hos-1", "Head One", ["staff", "head_of_safeguarding"]),
            people.create_user("hos-2", "Head Two", ["staff", "head_of_safeguarding"]))


def on(day: date):
    return time_machine.travel(datetime.combine(day, time(12), tzinfo=timezone.utc), tick=False)


def test_a_closed_case_gets_its_review_date_from_the_retention_rule(app_ctx):
    case = closed_case()
    record = db.session.get(RetentionRecord, case.id)
    expected = retention_review_date(get_calendar().local(case.opened_at).date(), case.subject_date_of_birth)
    assert case.subject_date_of_birth is not None
    assert (record.review_on, record.status) == (expected.review_on, "retained")
    assert "retention_review_set" in _event_types(case)


def test_the_daily_job_flags_cases_whose_date_has_come_and_tells_the_managers(app_ctx):
    case = closed_case()
    head, _ = managers()
    review_on = db.session.get(RetentionRecord, case.id).review_on
    with on(date.fromordinal(review_on.toordinal() - 1)):
        assert flag_due_reviews() == 0
    with on(review_on):
        assert flag_due_reviews() == 1
        assert flag_due_reviews() == 0  # idempotent
    assert db.session.get(RetentionRecord, case.id).status == "due"
    assert "retention_review_due" in _event_types(case)
    note = db.session.scalar(select(Notification).where(Notification.user_id == head.id))
    assert note.link == "/retention?status=due" and case.reference not in note.message


def test_disposal_needs_a_second_person_and_respects_a_legal_hold(app_ctx):
    case = closed_case()
    first, second = managers()
    review_on = db.session.get(RetentionRecord, case.id).review_on
    with pytest.raises(ValidationFailed):
        request_disposal(case.reference, first, "Retention period over.")  # not yet due
    with on(review_on):
        flag_due_reviews()
        place_legal_hold(case.reference, first, "Civil claim pending.")
        with pytest.raises(ValidationFailed):
            request_disposal(case.reference, first, "Retention period over.")
        lift_legal_hold(case.reference, second, "Claim settled.")
        request_disposal(case.reference, first, "Retention period over.")
        with pytest.raises(Forbidden):
            approve_disposal(case.reference, first)
        cancel_disposal(case.reference, second)
        request_disposal(case.reference, second, "Retention period over; reviewed.")
        place_legal_hold(case.reference, first, "A new allegation about the same person.")
        with pytest.raises(ValidationFailed):
            approve_disposal(case.reference, first)
    statuses = db.session.scalars(select(DisposalRequest.status).order_by(DisposalRequest.id)).all()
    assert statuses == ["cancelled", "pending"]
    assert db.session.get(RetentionRecord, case.id).status == "due"


def test_disposal_keeps_a_tombstone_and_the_chain_still_verifies(app_ctx):
    case = closed_case()
    reference, outcome, opened_at = case.reference, case.outcome, case.opened_at
    first, second = managers()
    with on(db.session.get(RetentionRecord, case.id).review_on):
        flag_due_reviews()
        request_disposal(reference, first, "Retention period over.")
        approve_disposal(reference, second)
    db.session.expire_all()
    case = db.session.get(type(case), case.id)
    assert (case.reference, case.outcome, case.opened_at, case.stage) == (reference, outcome, opened_at, "Disposed of")
    assert case.subject_name is None and case.subject_date_of_birth is None and case.key_dates == {}
    assert db.session.scalars(select(CaseFact).where(CaseFact.case_id == case.id)).all() == []
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
    assert all(e.data == {"disposed": True} for e in events[:-1]) and events[-1].event_type == "case_disposed"
    assert not any("Alex Morgan" in str(e.data) or "answers" in e.data for e in events)
    assert "Alex Morgan" not in state_json(case.instance.state)
    assert db.session.get(RetentionRecord, case.id).status == "disposed"
    assert verify_audit() == [] and verify_stream(stream_for(case.id)) == []


def test_tampering_with_a_disposed_chain_is_still_found(app_ctx):
    case = closed_case()
    first, second = managers()
    with on(db.session.get(RetentionRecord, case.id).review_on):
        flag_due_reviews()
        request_disposal(case.reference, first, "Retention period over.")
        approve_disposal(case.reference, second)
    db.session.execute(update(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.seq == 3)
                       .values(hash="0" * 64))
    db.session.commit()
    assert any(stream == stream_for(case.id) for stream, _, _ in verify_audit())


def test_emptying_a_chain_without_a_disposal_record_is_found(app_ctx):
    case = closed_case()
    db.session.execute(update(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.seq == 2)
                       .values(data={"disposed": True}))
    db.session.commit()
    assert verify_stream(stream_for(case.id)) == [(stream_for(case.id), 2, "content does not match its hash")]


def test_only_the_pathways_manager_may_change_retention(app_ctx):
    case = closed_case()
    lado_manager = people.create_user("lm", "LADO manager", ["staff", "lado_manager"])
    auditor = people.create_user("aud", "Auditor", ["staff", "auditor"])
    for user in (lado_manager, auditor):
        with pytest.raises(NotFound):
            place_legal_hold(case.reference, user, "Because.")


def _event_types(case) -> list[str]:
    return db.session.scalars(select(AuditEvent.event_type).where(AuditEvent.case_id == case.id)).all()
