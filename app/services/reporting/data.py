"""Reading the projections reports are made from: case records, case facts, timers and audit events.

Each loader takes a `select(Case.id)` naming the cases and reads in one query; none loads a
workflow.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, or_, select

from app.extensions import db
from app.models import AuditEvent, Case, CaseFact, Timer
from app.services.runtime import get_calendar


@dataclass
class CaseRow:
    id: int
    reference: str
    opened_at: datetime
    closed_at: datetime | None
    outcome: str | None
    stage: str
    subject_name: str | None
    subject_date_of_birth: date | None
    subject_staff_number: str | None
    facts: dict[str, list[str]] = field(default_factory=dict)
    timers: dict[str, "TimerState"] = field(default_factory=dict)

    def fact(self, key: str) -> str | None:
        values = self.facts.get(key)
        return values[0] if values else None

    def is_yes(self, key: str) -> bool:
        return self.fact(key) == "yes"


@dataclass
class TimerState:
    status: str  # waiting, fired, cancelled
    fired_at: datetime | None


def active_cases(pathway: str, start: datetime, end: datetime) -> Select:
    """Cases of the pathway open at any time in [start, end)."""
    return select(Case.id).where(Case.pathway == pathway, Case.opened_at < end,
                                 or_(Case.closed_at.is_(None), Case.closed_at >= start))


def load_cases(case_ids: Select, *, timer_ids: set[str] = frozenset()) -> list[CaseRow]:
    """The named cases with their facts (and the state of the named timers)."""
    subquery = case_ids.scalar_subquery()
    rows = db.session.execute(
        select(Case.id, Case.reference, Case.opened_at, Case.closed_at, Case.outcome, Case.stage,
               Case.subject_name, Case.subject_date_of_birth, Case.subject_staff_number)
        .where(Case.id.in_(subquery)).order_by(Case.opened_at, Case.id)).all()
    cases = {row.id: CaseRow(*row) for row in rows}
    for case_id, key, value in db.session.execute(
            select(CaseFact.case_id, CaseFact.key, CaseFact.value).where(CaseFact.case_id.in_(subquery))
            .order_by(CaseFact.id)):
        cases[case_id].facts.setdefault(key, []).append(value)
    if timer_ids:
        _add_timers(cases, subquery, timer_ids)
    return list(cases.values())


def _add_timers(cases: dict[int, CaseRow], subquery, timer_ids: set[str]) -> None:
    rows = db.session.execute(
        select(Timer.case_id, Timer.bpmn_id, Timer.status, Timer.fired_at)
        .where(Timer.case_id.in_(subquery), Timer.bpmn_id.in_(sorted(timer_ids))).order_by(Timer.id))
    for case_id, bpmn_id, status, fired_at in rows:
        known = cases[case_id].timers.get(bpmn_id)
        if known is None or known.status != "fired":  # a timer that fired once stays a breach
            cases[case_id].timers[bpmn_id] = TimerState(status, fired_at)


def completed_tasks(pathway: str, bpmn_ids: set[str], start: datetime, end: datetime) -> list[tuple[int, str, datetime]]:
    """(case id, BPMN id, when) of every completion of the named tasks in [start, end), from the
    audit trail."""
    bpmn_id = AuditEvent.data["bpmn_id"].as_string()
    return [tuple(row) for row in db.session.execute(
        select(AuditEvent.case_id, bpmn_id, AuditEvent.at)
        .join(Case, Case.id == AuditEvent.case_id)
        .where(AuditEvent.event_type == "task_completed", Case.pathway == pathway,
               AuditEvent.at >= start, AuditEvent.at < end, bpmn_id.in_(sorted(bpmn_ids))))]


def subjects_before(pathway: str, end: datetime) -> list[tuple[int, datetime, str | None]]:
    """(case id, opened at, subject key) of every case of the pathway opened before `end`."""
    rows = db.session.execute(
        select(Case.id, Case.opened_at, Case.subject_name, Case.subject_date_of_birth, Case.subject_staff_number)
        .where(Case.pathway == pathway, Case.opened_at < end))
    return [(row.id, row.opened_at, subject_key(row.subject_name, row.subject_date_of_birth,
                                                 row.subject_staff_number)) for row in rows]


def subject_key(name: str | None, born: date | None, staff_number: str | None) -> str | None:
    """Who a case is about, for counting repeat subjects: the staff number when recorded, else the
    name with the date of birth. None when neither identifies the person."""
    if staff_number and staff_number.strip():
        return "staff:" + "".join(staff_number.split()).lower()
    if name and name.strip() and born:
        return f"person:{' '.join(name.lower().split())}:{born.isoformat()}"
    return None


def open_between(case: CaseRow, moment: datetime) -> bool:
    """True if the case was open at `moment` (opened before it and not closed by then)."""
    return case.opened_at <= moment and (case.closed_at is None or case.closed_at > moment)


def group_facts(cases: list[CaseRow], key: str) -> dict[str, int]:
    """How many of the cases have each value of a fact (a case counts once per value)."""
    counts: dict[str, int] = defaultdict(int)
    for case in cases:
        for value in set(case.facts.get(key, [])):
            counts[value] += 1
    return dict(counts)


def in_period(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


class WorkingDays:
    """`working_days_between` of the service's calendar, remembered per pair of local dates (a report
    asks the same question for many cases)."""

    def __init__(self):
        self.calendar = get_calendar()
        self._known: dict[tuple[date, date], int] = {}

    def between(self, start: datetime, end: datetime) -> int:
        key = (self.calendar.local(start).date(), self.calendar.local(end).date())
        if key not in self._known:
            self._known[key] = self.calendar.working_days_between(start, end)
        return self._known[key]
