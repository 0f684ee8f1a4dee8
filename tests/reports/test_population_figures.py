"""The governance reports and the process audit view, on a realistic population of a few thousand
cases over two years, against figures counted independently here from the raw rows: case records,
the answers in the audit trail, human tasks and timers (the reports read the case facts instead)."""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Case, HumanTask, Timer
from app.services.reporting.governance import governance_report
from app.services.reporting.periods import period
from app.services.reporting.process_audit import process_audit
from app.services.reporting.suppression import derivable_cells
from app.services.runtime import get_calendar
from tests.reports.population import build_population

NOW = datetime(2027, 6, 1, 12, tzinfo=timezone.utc)
QUARTERS = ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
MEETINGS = {"pipot": {"Task_record_attendance", "Task_outcome_meeting"},
            "lado": {"Task_strategy_discussion_outcome", "Task_pot_meeting", "Task_interim_pot_meeting",
                     "Task_final_pot_meeting"}}
TARGETS = {"resolved_1_week": 5, "resolved_1_month": 20, "resolved_3_months": 65, "resolved_12_months": 260}


class Raw:
    """Everything about the cases of one pathway, read from the rows the services wrote."""

    def __init__(self, pathway: str):
        self.pathway = pathway
        self.cases = {row.id: row for row in db.session.execute(
            select(Case.id, Case.opened_at, Case.closed_at, Case.outcome, Case.subject_staff_number)
            .where(Case.pathway == pathway))}
        self.answers: dict[int, dict] = defaultdict(dict)
        self.completed: dict[int, list[tuple[str, datetime, dict]]] = defaultdict(list)
        for case_id, data, at in db.session.execute(
                select(AuditEvent.case_id, AuditEvent.data, AuditEvent.at).join(Case, Case.id == AuditEvent.case_id)
                .where(Case.pathway == pathway, AuditEvent.event_type == "task_completed").order_by(AuditEvent.id)):
            self.answers[case_id].update(data.get("answers") or {})
            self.completed[case_id].append((data["bpmn_id"], at, data.get("answers") or {}))
        self.ready = defaultdict(set)
        for case_id, bpmn_id in db.session.execute(select(HumanTask.case_id, HumanTask.bpmn_id).join(
                Case, Case.id == HumanTask.case_id).where(Case.pathway == pathway)):
            self.ready[case_id].add(bpmn_id)
        self.timers = defaultdict(dict)
        for case_id, bpmn_id, status in db.session.execute(select(Timer.case_id, Timer.bpmn_id, Timer.status).join(
                Case, Case.id == Timer.case_id).where(Case.pathway == pathway).order_by(Timer.id)):
            if self.timers[case_id].get(bpmn_id) != "fired":
                self.timers[case_id][bpmn_id] = status

    def opened_in(self, chosen) -> list[int]:
        return [i for i, c in self.cases.items() if chosen.start <= c.opened_at < chosen.end]

    def is_referral(self, case_id: int) -> bool:
        if self.pathway == "pipot":
            return "Task_triage" in self.ready[case_id]
        return self.answers[case_id].get("contact_type") == "referral"


def expected_figures(raw: Raw, chosen) -> dict:
    opened = raw.opened_in(chosen)
    answers = raw.answers
    source_field = "concern_source" if raw.pathway == "pipot" else "referrer_agency_type"
    active = [i for i, c in raw.cases.items() if c.opened_at < chosen.end and (c.closed_at is None or c.closed_at >= chosen.start)]
    closed = [i for i, c in raw.cases.items() if c.closed_at and chosen.start <= c.closed_at < chosen.end]
    return {
        "contacts": len(opened),
        "referrals": sum(1 for i in opened if raw.is_referral(i)),
        "sources": Counter(answers[i].get(source_field, "not_recorded") for i in opened),
        "categories": Counter(value for i in opened for value in _categories(raw, i)),
        "outcomes": Counter((raw.cases[i].outcome or "closed_without_outcome")
                            if raw.cases[i].closed_at and raw.cases[i].closed_at < chosen.end else "open_at_end"
                            for i in opened),
        "meetings": sum(1 for i in raw.cases for bpmn_id, at, _ in raw.completed[i]
                        if bpmn_id in MEETINGS[raw.pathway] and chosen.start <= at < chosen.end),
        "suspended": sum(1 for i in active if _suspended(raw.pathway, answers[i])),
        "dbs": sum(1 for i in closed if _dbs(raw.pathway, answers[i])),
        "repeats": _repeats(raw, opened),
        "clocks": _clocks(raw, opened),
    }


def _categories(raw: Raw, case_id: int) -> list[str]:
    answers = raw.answers[case_id]
    if raw.pathway == "pipot":
        return sorted(set(answers.get("threshold_limbs") or [])) or ["not_recorded"]
    found = sorted(set(answers.get("allegation_categories") or [])) or [answers.get("consultation_category")]
    return [value for value in found if value] or ["not_recorded"]


def _suspended(pathway: str, answers: dict) -> bool:
    if pathway == "pipot":
        return "suspension" in (answers.get("employment_decision"), answers.get("interim_measure"))
    return answers.get("subject_suspended") is True or answers.get("suspension_recommendation") == "suspension"


def _dbs(pathway: str, answers: dict) -> bool:
    if pathway == "pipot":
        return bool(answers.get("dbs_referral_made_on") or answers.get("mandatory_dbs_referral_made_on"))
    return answers.get("dbs_referral_made") is True


def _repeats(raw: Raw, opened: list[int]) -> int:
    return sum(1 for i in opened if any(other.subject_staff_number == raw.cases[i].subject_staff_number
                                        and other.opened_at < raw.cases[i].opened_at
                                        for other in raw.cases.values()))


def _clocks(raw: Raw, opened: list[int]) -> dict[str, Counter]:
    calendar = get_calendar()
    timer = {"pipot": {"pipot_meeting": "Timer_meeting_deadline", "lado_referral": "Timer_lado_deadline",
                       "first_steps": "Timer_first_steps_deadline", "referral_sent": "Timer_referral_deadline",
                       "referral_checked": "Timer_referral_check_deadline", "triage": "Timer_triage_deadline",
                       "meeting_lado_referral": "Timer_meeting_lado_deadline",
                       "first_steps_out_of_hours": "Timer_first_steps_on_call_deadline",
                       "investigation": "Timer_investigation_overdue", "outcome_meeting": "Timer_outcome_meeting_overdue"},
             "lado": {"initial_response": "Timer_initial_response"}}[raw.pathway]
    clocks: dict[str, Counter] = defaultdict(Counter)
    for i in opened:
        for key, bpmn_id in timer.items():
            state = raw.timers[i].get(bpmn_id)
            if state is not None:
                clocks[key][{"fired": "breached", "cancelled": "met", "waiting": "pending"}[state]] += 1
        if raw.pathway == "lado" and not raw.is_referral(i):
            continue
        if raw.pathway == "lado":
            aware, referred = raw.answers[i].get("employer_aware_date"), raw.answers[i].get("referred_date")
            clocks["lado_informed"]["met" if calendar.working_days_between(aware, referred) <= 1 else "breached"] += 1
        concluded = _concluded_at(raw, i)
        days = calendar.working_days_between(raw.cases[i].opened_at, concluded or NOW)
        for key, target in TARGETS.items():
            clocks[key]["met" if concluded and days <= target else "breached" if days > target else "pending"] += 1
    return clocks


def _concluded_at(raw: Raw, case_id: int) -> datetime | None:
    if raw.pathway == "lado":
        finals = [at for bpmn_id, at, _ in raw.completed[case_id] if bpmn_id == "Task_final_pot_meeting"]
        if finals:
            return finals[-1]
    return raw.cases[case_id].closed_at


def reported(report) -> dict:
    table = report.table
    return {
        "contacts": table("contacts").total,
        "referrals": table("contacts").count("referral"),
        "sources": Counter({row.key: row.count for row in table("source").rows}),
        "categories": Counter({row.key: row.count for row in table("category").rows}),
        "outcomes": Counter({row.key: row.count for row in table("outcome").rows if row.count}),
        "meetings": table("meetings").total,
        "suspended": table("suspensions").count("yes"),
        "dbs": table("dbs_referrals").count("yes"),
        "repeats": table("repeat_subjects").count("repeat"),
        "clocks": {t.key.split(":", 1)[1]: Counter({r.key: r.count for r in t.rows if r.count})
                   for t in report.clock_tables() if t.total},
    }


@pytest.mark.slow
def test_report_figures_match_counts_from_the_raw_rows(app_ctx, tmp_path):
    build_population(tmp_path, total=3000)
    _the_population_is_realistic()
    with time_machine.travel(NOW, tick=False):
        for pathway, keys in (("pipot", QUARTERS), ("lado", ["2024", "2025", "2026"])):
            raw = Raw(pathway)
            for key in keys:
                chosen = period(key)
                report = governance_report(pathway, chosen)
                assert reported(report) == expected_figures(raw, chosen), f"{pathway} {key}"
                _exports_hide_small_numbers(report)
            _process_audit_matches(pathway)


def _the_population_is_realistic() -> None:
    total = db.session.scalar(select(func.count()).select_from(Case))
    assert 2500 <= total <= 3500
    outcomes = set(db.session.scalars(select(Case.outcome).distinct()))
    assert {"substantiated", "unsubstantiated", "unfounded", "false", "malicious", "advice_given"} <= outcomes
    quarters = {(c.year, (c.month - 1) // 3) for c in db.session.scalars(select(Case.opened_at))}
    assert len(quarters) >= 8
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.status == "open")) > 200
    fired = dict(db.session.execute(select(Timer.bpmn_id, func.count()).where(Timer.status == "fired")
                                    .group_by(Timer.bpmn_id)).all())
    assert fired.get("Timer_meeting_deadline", 0) > 10 and fired.get("Timer_initial_response", 0) > 10


def _exports_hide_small_numbers(report) -> None:
    exported = report.suppressed()
    for original, table in zip(report.tables, exported.tables):
        assert derivable_cells(table) == [], table.title
        for before, after in zip(original.rows, table.rows):
            if 0 < before.count < report.threshold:
                assert after.count is None, (table.title, before.label)
            elif after.count is not None:
                assert after.count == before.count


def _process_audit_matches(pathway: str) -> None:
    audit = process_audit(pathway)
    calendar = get_calendar()
    figures = {element.bpmn_id: element for element in audit.elements}
    rows = db.session.execute(select(HumanTask.case_id, HumanTask.bpmn_id, HumanTask.created_at, HumanTask.completed_at,
                                     HumanTask.status, HumanTask.role_key).join(Case, Case.id == HumanTask.case_id)
                              .where(Case.pathway == pathway)).all()
    by_element = defaultdict(list)
    for row in rows:
        by_element[row.bpmn_id].append(row)
    for bpmn_id, tasks in by_element.items():
        assert figures[bpmn_id].cases == len({t.case_id for t in tasks}), bpmn_id
        waits = sorted(calendar.working_days_between(t.created_at, t.completed_at) for t in tasks
                       if t.status == "completed" and t.role_key != "staff")  # the first form is never waiting
        if waits:
            assert figures[bpmn_id].median_days == statistics.median(waits), bpmn_id
    fired = Counter(bpmn_id for bpmn_id, in db.session.execute(
        select(Timer.bpmn_id).join(Case, Case.id == Timer.case_id).where(Case.pathway == pathway, Timer.status == "fired")))
    for bpmn_id, count in fired.items():
        assert figures[bpmn_id].timers_fired == count, bpmn_id
