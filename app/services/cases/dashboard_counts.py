"""The dashboard's clock-state figures counted as the steps go, so that reading them does not scan the
open cases (app/services/reporting/dashboard.py).

An open case carries marks, each `(unit, figure, holder, day)`:
- `due`: one per open task with a due time, twice (`role:<key>` and `person:<id>`, `unassigned` when
  nobody), on the local date the task falls due;
- `clock`: the local date its next clock (the earliest waiting timer) runs out, and whether by the
  close of business that day (`by_close`) or after it (`after_close`): the horizon of clocks at risk
  is a close of business, so the figure is whole rows (after a change of business hours, recount);
- `escalation`: it has an open escalation task; `suspended`: a suspension is in place;
- `opened`: the local date it opened.
`dashboard_count` holds, per pathway, how many marks of each kind there are. The case row keeps the
marks it added (`dashboard_marks`), so a step works out the case's marks now, compares, and writes only
the difference, in its own transaction, as rows of its own (`dashboard_count_change`, folded into the
counts by the worker: see counts.py). A closed case has none.

`rebuild_dashboard_counts` recounts everything from the tasks, timers and facts (after a bulk load or
the migration that adds the counts); the tests hold the kept counts to it.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import Case, CaseFact, DashboardCount, DashboardCountChange, HumanTask, Timer
from app.services.audit import insert_with_events
from app.services.runtime import get_calendar

UNDATED = date(1970, 1, 1)  # the day of marks that have none
UNASSIGNED = "unassigned"
Mark = tuple[int, str, str, str]  # unit id (0: none), figure, holder, ISO day

_COUNTS, _CHANGES = DashboardCount.__table__, DashboardCountChange.__table__


@dataclass(frozen=True)
class OpenTask:
    """What the dashboard needs of an open task."""

    role_key: str | None
    assignee_id: int | None
    due_at: datetime | None
    escalation: bool


def marks_of(case: Case, tasks: Iterable[OpenTask], timer_dues: Iterable[datetime | None],
             suspended: bool) -> Counter:
    """The marks of `case` given its open tasks, its waiting timers' due times and its suspension."""
    if case.status != "open":
        return Counter()
    unit, local_day = case.unit_id or 0, _local_day
    marks = Counter({(unit, "opened", "", local_day(case.opened_at)): 1})
    for task in tasks:
        if task.due_at is not None:
            day = local_day(task.due_at)
            marks[(unit, "due", holder("role", task.role_key), day)] += 1
            marks[(unit, "due", holder("person", task.assignee_id), day)] += 1
        if task.escalation:
            marks[(unit, "escalation", "", UNDATED.isoformat())] = 1
    dues = [due for due in timer_dues if due is not None]
    if dues:
        marks[(unit, "clock", _by_close(min(dues)), local_day(min(dues)))] = 1
    if suspended:
        marks[(unit, "suspended", "", UNDATED.isoformat())] = 1
    return marks


def holder(kind: str, key) -> str:
    """`role:<key>` or `person:<id>`, `unassigned` standing for nobody."""
    return f"{kind}:{key if key is not None else UNASSIGNED}"


def _by_close(when: datetime) -> str:
    calendar = get_calendar()
    return "by_close" if calendar.local(when).time() <= calendar.business_end else "after_close"


def _local_day(when: datetime) -> str:
    return get_calendar().local(when).date().isoformat()


def held_marks(case: Case) -> Counter:
    """The marks the case added to the counts when last counted (none before its first count)."""
    return Counter({tuple(mark[:4]): mark[4] for mark in case.dashboard_marks or []})


def move_marks(case: Case, marks: Counter) -> None:
    """The case carries `marks` now: move the counts by the difference from what it added before,
    and keep `marks` on the case. Part of the caller's transaction."""
    held = held_marks(case)
    if marks == held:
        return
    delta = Counter(marks)
    delta.subtract(held)
    rows = [{"pathway": case.pathway, "unit_id": unit, "figure": figure, "holder": who,
             "day": date.fromisoformat(day), "counted": change}
            for (unit, figure, who, day), change in sorted(delta.items()) if change]
    insert_with_events(_CHANGES, rows)  # folded into the counts by the worker (counts.py)
    case.dashboard_marks = [[*mark, number] for mark, number in sorted(marks.items())]


_CASE_TASKS = (select(HumanTask.role_key, HumanTask.assignee_id, HumanTask.due_at, HumanTask.escalation)
               .where(HumanTask.case_id == bindparam("case_id"), HumanTask.status == "open"))
_CASE_TIMERS = select(Timer.due_at).where(Timer.case_id == bindparam("case_id"), Timer.status == "waiting")
_CASE_SUSPENDED = select(CaseFact.id).where(CaseFact.case_id == bindparam("case_id"), CaseFact.key == "suspended",
                                            CaseFact.value == "yes")


def recount_case(case: Case) -> None:
    """Count the case again from its open tasks, waiting timers and facts as they stand in this
    transaction (after a task was claimed, given back or passed on). Part of the caller's transaction."""
    db.session.flush()
    params = {"case_id": case.id}
    tasks = [OpenTask(*row) for row in db.session.execute(_CASE_TASKS, params)]
    dues = db.session.scalars(_CASE_TIMERS, params).all()
    suspended = db.session.scalar(_CASE_SUSPENDED.limit(1), params) is not None
    move_marks(case, marks_of(case, tasks, dues, suspended))


def rebuild_dashboard_counts() -> None:
    """Count every open case from scratch, and keep each case's marks (after a bulk load). Does not commit."""
    tasks: dict[int, list[OpenTask]] = {}
    for case_id, *row in db.session.execute(select(HumanTask.case_id, HumanTask.role_key, HumanTask.assignee_id,
                                                   HumanTask.due_at, HumanTask.escalation)
                                            .where(HumanTask.status == "open")):
        tasks.setdefault(case_id, []).append(OpenTask(*row))
    dues: dict[int, list] = {}
    for case_id, due in db.session.execute(select(Timer.case_id, Timer.due_at).where(Timer.status == "waiting")):
        dues.setdefault(case_id, []).append(due)
    suspended = set(db.session.scalars(select(CaseFact.case_id).where(CaseFact.key == "suspended",
                                                                      CaseFact.value == "yes")))
    totals: Counter = Counter()
    marks_by_case = []
    for case in db.session.scalars(select(Case).where(Case.status == "open").execution_options(yield_per=2000)):
        marks = marks_of(case, tasks.get(case.id, ()), dues.get(case.id, ()), case.id in suspended)
        totals.update({(case.pathway, *mark): number for mark, number in marks.items()})
        marks_by_case.append({"case_id": case.id, "marks": [[*mark, n] for mark, n in sorted(marks.items())]})
    db.session.execute(_COUNTS.delete())
    db.session.execute(_CHANGES.delete())
    cases = Case.__table__
    db.session.execute(cases.update().where(cases.c.dashboard_marks.is_not(None)).values(dashboard_marks=None))
    if marks_by_case:
        db.session.execute(cases.update().where(cases.c.id == bindparam("case_id"))
                           .values(dashboard_marks=bindparam("marks")), marks_by_case)
    if totals:
        db.session.execute(_COUNTS.insert(), [
            {"pathway": pathway, "unit_id": unit, "figure": figure, "holder": who, "day": date.fromisoformat(day),
             "counted": number} for (pathway, unit, figure, who, day), number in sorted(totals.items())])
    db.session.expire_all()
