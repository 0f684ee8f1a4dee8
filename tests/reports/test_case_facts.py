"""The reporting projection: every engine step keeps a case's facts in line with its answers, so
reports never load a workflow; the backfill command rebuilds the same facts from the workflows."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import CaseFact
from app.services.reporting.backfill import backfill_reporting
from tests.reports.conftest import run_route


def facts(case) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in db.session.execute(select(CaseFact.key, CaseFact.value).where(CaseFact.case_id == case.id)
                                         .order_by(CaseFact.key, CaseFact.value)):
        found.setdefault(key, []).append(value)
    return found


def test_a_closed_pipot_case_records_what_the_reports_count(app_ctx):
    case = run_route("pipot/outcome_substantiated").case
    found = facts(case)
    assert found["source"] and found["referral"] == ["yes"] and found["threshold_met"] == ["yes"]
    assert found["category"]
    assert int(found["meetings"][0]) >= 2  # the PiPoT meeting and the outcome meeting
    assert found["days_to_conclusion"][0].isdigit()
    assert found["lessons_recorded_at"]


def test_a_lado_case_records_its_timeliness_and_referrals_out(app_ctx):
    case = run_route("lado/pot_meeting_substantiated").case
    found = facts(case)
    assert found["referral"] == ["yes"] and found["source"] == ["education"] and found["sector"] == ["local_authority"]
    assert found["category"] == ["physical"]
    assert found["lado_informed_in_time"] == ["yes"] and found["initial_response_in_time"] == ["yes"]
    assert found["dbs_referral"] == ["yes"]
    assert found["regulator_referral"] != ["none"]
    assert int(found["meetings"][0]) >= 3


def test_a_missed_clock_keeps_the_reason_the_escalation_recorded(app_ctx):
    case = run_route("lado/missed_initial_response_escalation").case
    found = facts(case)
    assert found["initial_response_in_time"] == ["no"]
    assert found["reason:initial_response"]


def test_facts_follow_every_step_and_the_backfill_agrees(app_ctx):
    case = run_route("pipot/meeting_deadline_missed_over_christmas").case
    before = facts(case)
    db.session.execute(CaseFact.__table__.delete())
    db.session.commit()
    assert backfill_reporting() >= 1
    assert facts(case) == before
