"""The reporting projection: every engine step keeps a case's facts in line with its answers, so
reports never load a workflow; the backfill command rebuilds the same facts from the workflows."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import CaseFact
from app.services.reporting.backfill import backfill_reporting
from app.services.reporting.governance import governance_report
from app.services.reporting.periods import period
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


def test_a_dbs_referral_decided_at_the_meeting_counts_only_once_made(app_ctx):
    decided = run_route("pipot/meeting_decisions_become_tasks", before="Task_meeting_lado_referral").case
    assert "dbs_referral" not in facts(decided)  # decided at the meeting, not made yet
    made = run_route("pipot/meeting_decisions_become_tasks").case
    assert facts(made)["dbs_referral"] == ["yes"]  # the DBS task completed: made


def test_a_decision_not_carried_out_is_a_breach_with_its_reason(app_ctx):
    case = run_route("pipot/meeting_decisions_become_tasks").case
    found = facts(case)
    assert found["decisions_carried_out"] == ["no"]
    report = governance_report("pipot", period("2026-Q4"))
    [breach] = [b for b in report.adherence.breaches if b.clock_key == "decisions_carried_out"]
    assert breach.reference == case.reference
    assert "grandchildren do not live with her" in breach.reason


def test_the_route_the_lado_chose_after_a_met_threshold_is_counted(app_ctx):
    case = run_route("lado/threshold_met_employer_oversight").case
    found = facts(case)
    assert found["threshold_met"] == ["yes"] and found["met_route"] == ["employer_oversight"]
    table = governance_report("lado", period("2026-Q4")).table("met_route")
    assert [(row.label, row.count) for row in table.rows] == [
        ("The employer manages it, with LADO oversight (no meeting)", 1)]


def test_a_pot_meeting_decision_not_carried_out_is_a_breach_with_its_reason(app_ctx):
    case = run_route("lado/pot_meeting_decisions_become_tasks").case
    assert facts(case)["decisions_carried_out"] == ["no"]
    report = governance_report("lado", period("2026-Q4"))
    [breach] = [b for b in report.adherence.breaches if b.clock_key == "lado_decisions_carried_out"]
    assert breach.reference == case.reference and "only follow the disciplinary outcome" in breach.reason


def test_a_concern_logged_after_its_clocks_ran_out_is_a_breach_from_the_moment_it_opens(app_ctx):
    """Logged three days after the manager became aware: the first steps' and the LADO referral's clocks
    ran out before the case existed. They fire as it opens, and count as breaches, not as met in time."""
    case = run_route("pipot/children_concern_logged_late").case
    report = governance_report("pipot", period("2026-Q4"))
    breached = {b.clock_key for b in report.adherence.breaches if b.reference == case.reference}
    assert {"first_steps", "lado_referral"} <= breached
    fired = [b for b in report.adherence.breaches if b.reference == case.reference and b.clock_key == "lado_referral"]
    assert fired[0].when is not None  # when it ran out, as for any clock missed
