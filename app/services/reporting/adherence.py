"""Adherence to the statutory clocks: how many cases met each clock, which breached it, and the
reasons recorded for each breach (seed 003, 12.2.1: audit of adherence to the procedure)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Case
from app.services.access import about_user_clause
from app.services.cases.clock_rules import ClockRule, clock_rules
from app.services.reporting.data import CaseRow, WorkingDays
from app.services.reporting.suppression import rate

MET, BREACHED, PENDING = "met", "breached", "pending"
NO_REASON = "No reason recorded"


@dataclass
class ClockFigure:
    rule: ClockRule
    met: int = 0
    breached: int = 0
    pending: int = 0

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def percent_met(self) -> float | None:
        return rate(self.met, self.decided)


@dataclass
class Breach:
    case_id: int
    reference: str
    clock: str
    clock_key: str
    when: datetime | None
    reason: str


@dataclass
class Adherence:
    figures: list[ClockFigure] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)


def timer_ids(pathway: str) -> set[str]:
    """The BPMN timers whose firing breaches one of the pathway's clocks."""
    return {rule.timer for rule in clock_rules(pathway) if rule.timer}


def measure_adherence(pathway: str, cases: list[CaseRow], as_of: datetime) -> Adherence:
    """Each clock of the pathway over `cases` (loaded with their facts and the clock timers), with
    every breach and its reason. Open cases count against a resolution target once they pass it."""
    counter, result = WorkingDays(), Adherence()
    for rule in clock_rules(pathway):
        figure = ClockFigure(rule)
        for case in cases:
            outcome = clock_result(rule, case, as_of, counter, pathway)
            if outcome == BREACHED:
                result.breaches.append(_breach(rule, case))
            if outcome:
                setattr(figure, outcome, getattr(figure, outcome) + 1)
        result.figures.append(figure)
    result.breaches.sort(key=lambda b: (b.clock_key, b.reference))
    return result


def clock_result(rule: ClockRule, case: CaseRow, as_of: datetime, counter: WorkingDays,
                 pathway: str) -> str | None:
    """met, breached or pending; None when the clock does not apply to the case."""
    if rule.target_days is not None:
        return _resolution(rule.target_days, case, as_of, counter, pathway)
    timer = case.timers.get(rule.timer) if rule.timer else None
    fact = case.fact(rule.fact) if rule.fact else None
    if fact == "no" or (timer is not None and timer.status == "fired"):
        return BREACHED
    if fact == "yes" or (timer is not None and timer.status == "cancelled"):
        return MET
    return PENDING if timer is not None else None


def _resolution(target: int, case: CaseRow, as_of: datetime, counter: WorkingDays, pathway: str) -> str | None:
    if pathway == "lado" and case.fact("referral") == "no":
        return None  # an advice-only consultation is not a referral to resolve
    days = case.fact("days_to_conclusion")
    if days is None and case.closed_at is not None and case.closed_at <= as_of:
        days = counter.between(case.opened_at, case.closed_at)
    if days is not None:
        return MET if int(days) <= target else BREACHED
    return BREACHED if counter.between(case.opened_at, as_of) > target else PENDING


def _breach(rule: ClockRule, case: CaseRow) -> Breach:
    timer = case.timers.get(rule.timer) if rule.timer else None
    reason = case.fact(f"reason:{rule.key}") or NO_REASON
    return Breach(case.id, case.reference, rule.title, rule.key, timer.fired_at if timer else None, reason)


def breaches_visible_to(adherence: Adherence, user) -> Adherence:
    """The same figures, with the breaches of cases about `user` left out of the list (need to know)."""
    ids = {b.case_id for b in adherence.breaches}
    about = set(db.session.scalars(select(Case.id).where(Case.id.in_(ids), about_user_clause(user)))) if ids else set()
    return Adherence(adherence.figures, [b for b in adherence.breaches if b.case_id not in about])
