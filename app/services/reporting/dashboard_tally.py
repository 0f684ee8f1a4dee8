"""The dashboard's figures for one person, from the counts the steps keep by day
(app/services/cases/dashboard_counts.py), with the few rows at the edge of a day read exactly.

The counts are per unit; someone who oversees the pathway in some units reads those units' counts,
less the marks of the cases about themselves there, plus the marks of the cases they may see
elsewhere (their tasks, their team); anyone else, the marks of the cases they may see. Only the
edges are read from tasks, timers and cases: the tasks due today that are already late, the cases
whose next clock has run out unfired (the sweep's backlog), the cases opened on a cut-off day.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import distinct, exists, func, not_, or_, select, true

from app.extensions import db
from app.models import Case, DashboardCount, DashboardCountChange, HumanTask, Timer, User
from app.services.access import about_user_clause, overseen_clause, oversight_units, visible_cases_clause
from app.services.cases.counts import with_changes
from app.services.cases.dashboard_counts import holder
from app.services.runtime import get_calendar
from app.services.units import unit_tree


@dataclass(frozen=True)
class Days:
    """The moments the figures turn on: now, the start of today, the horizon of clocks at risk
    (close of business on the nth working day) and the start of its day."""

    now: datetime
    today: date
    horizon: datetime
    horizon_day: date

    @classmethod
    def at(cls, now: datetime, working_days: int) -> Days:
        horizon = get_calendar().working_days_after(now, working_days)
        return cls(now, local_date(now), horizon, local_date(horizon))


def local_date(when: datetime) -> date:
    return get_calendar().local(when).date()


def start_of(day: date) -> datetime:
    """The first moment of a local date, in UTC."""
    return datetime.combine(day, time.min, tzinfo=get_calendar().zone).astimezone(UTC)


_DUE_TASK = HumanTask.__table__.alias("due_task")
_OTHER_TIMER = Timer.__table__.alias("other_timer")


@dataclass
class Tally:
    """The marks of the open cases of a pathway that a person may see, by figure, holder and day."""

    pathway: str
    user: User
    days: Days
    marks: Counter

    @classmethod
    def of(cls, pathway: str, user: User, days: Days) -> Tally:
        tally = cls(pathway, user, days, Counter())
        held = oversight_units(user, pathway)
        tree = unit_tree()
        everywhere = tree.root.id in held
        if held:
            tally._add_counts(None if everywhere else sorted(tree.below(held)))
            tally._add_marks(about_user_clause(user), overseen_clause(user, pathway), sign=-1)
        if not everywhere:
            tally._add_marks(visible_cases_clause(user, pathway),
                             not_(overseen_clause(user, pathway)) if held else true(), sign=1)
        return tally

    def _add_counts(self, units: list[int] | None) -> None:
        days = self.days
        counts = with_changes(DashboardCount.__table__, DashboardCountChange.__table__,
                              ["pathway", "unit_id", "figure", "holder", "day"], "counted").c
        query = (select(counts.figure, counts.holder, counts.day, func.sum(counts.counted))
                 .where(counts.pathway == self.pathway,
                        or_(counts.figure != "due", counts.day <= days.today),
                        or_(counts.figure != "clock", counts.day <= days.horizon_day))
                 .group_by(counts.figure, counts.holder, counts.day))
        if units is not None:
            query = query.where(counts.unit_id.in_(units))
        for figure, who, day, number in db.session.execute(query):
            self.marks[(figure, who, day)] += int(number or 0)

    def _add_marks(self, *clauses, sign: int) -> None:
        for marks in db.session.scalars(select(Case.dashboard_marks).where(*self._open(), *clauses)):
            for _unit, figure, who, day, number in marks or []:
                self.marks[(figure, who, date.fromisoformat(day))] += sign * number

    def _open(self) -> list:
        return [Case.pathway == self.pathway, Case.status == "open"]

    def _visible(self) -> list:
        return [*self._open(), visible_cases_clause(self.user, self.pathway)]

    def total(self, figure: str, before: date | None = None) -> int:
        """The marks of a figure (on days before `before`)."""
        return sum(number for (f, _who, day), number in self.marks.items()
                   if f == figure and (before is None or day < before))

    def tasks_due(self) -> tuple[Counter, Counter]:
        """Open tasks overdue, and due later today, per holder (`role:<key>`, `person:<id>`)."""
        late_today = self._late_today()
        overdue, due_today = Counter(late_today), Counter()
        for (figure, who, day), number in self.marks.items():
            if figure == "due" and day < self.days.today:
                overdue[who] += number
            elif figure == "due" and day == self.days.today:
                due_today[who] += number
        due_today.subtract(late_today)
        return overdue, due_today

    def _late_today(self) -> Counter:
        days, late = self.days, Counter()
        task = _DUE_TASK.c  # not `HumanTask`: the need-to-know clause has task subqueries of its own
        rows = db.session.execute(
            select(task.role_key, task.assignee_id, func.count())
            .join(Case, Case.id == task.case_id)
            .where(task.status == "open", task.pathway == self.pathway,
                   task.due_at >= start_of(days.today), task.due_at < days.now, *self._visible())
            .group_by(task.role_key, task.assignee_id))
        for role_key, assignee_id, number in rows:
            late[holder("role", role_key)] += number
            late[holder("person", assignee_id)] += number
        return late

    def clocks_at_risk(self) -> int:
        """Cases with a clock running out between now and the horizon (a close of business): those
        whose next clock runs out before the horizon's day or on it by the close, less those whose
        next clock has run out unfired and that have no other clock running out by the horizon."""
        days = self.days
        run_out = self._cases_with_timers(lambda t: [t.due_at < days.now],
                                          lambda t: [t.due_at >= days.now, t.due_at <= days.horizon])
        by_the_horizon = self.marks[("clock", "by_close", days.horizon_day)]
        return self.total("clock", before=days.horizon_day) + by_the_horizon - run_out

    def _cases_with_timers(self, due, but_none) -> int:
        """The cases seen with a waiting timer whose due time is `due`, and none that is `but_none`
        (each a function of the timer table giving clauses)."""
        other = _OTHER_TIMER.c
        return db.session.scalar(
            select(func.count(distinct(Timer.case_id))).join(Case, Case.id == Timer.case_id)
            .where(Timer.status == "waiting", *due(Timer), *self._visible(),
                   not_(exists().where(other.case_id == Timer.case_id, other.status == "waiting", *but_none(other)))))

    def opened_before(self, cutoff: datetime) -> int:
        """Open cases opened before `cutoff`: whole days from the counts, the cut-off's day exactly."""
        day = local_date(cutoff)
        on_the_day = db.session.scalar(select(func.count()).select_from(Case).where(
            *self._visible(), Case.opened_at >= start_of(day), Case.opened_at < cutoff))
        return self.total("opened", before=day) + on_the_day
