"""The operational dashboard of a pathway (head of safeguarding, LADO manager): open cases by stage,
tasks due today and overdue by role and by person, clocks at risk in the next 2 working days, open
escalations, suspensions in place, and cases open for longer than 1, 3 and 12 months.

Every figure counts only the cases the person may open (need to know), and `figure_cases` lists
the cases behind a figure with the same filter, so a figure and its list always agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select

from app import clock
from app.extensions import db
from app.models import Case, CaseFact, HumanTask, Role, Timer, User
from app.services.access import about_user_clause, oversight_units, visible_cases_clause
from app.services.cases.counts import counted_by_stage
from app.services.cases.dashboard_counts import UNASSIGNED
from app.services.cases.retention_rules import add_years
from app.services.errors import NotFound
from app.services.reporting.dashboard_tally import Days, Tally
from app.services.runtime import get_calendar
from app.services.units import unit_tree

OPEN_FOR_MONTHS = (1, 3, 12)
AT_RISK_WORKING_DAYS = 2


@dataclass
class Figure:
    figure: str
    value: str
    label: str
    count: int


@dataclass
class Dashboard:
    pathway: str
    open_cases: int
    by_stage: list[Figure] = field(default_factory=list)
    due_today_by_role: list[Figure] = field(default_factory=list)
    overdue_by_role: list[Figure] = field(default_factory=list)
    due_today_by_person: list[Figure] = field(default_factory=list)
    overdue_by_person: list[Figure] = field(default_factory=list)
    headline: list[Figure] = field(default_factory=list)
    open_longer: list[Figure] = field(default_factory=list)


def dashboard(pathway: str, user: User) -> Dashboard:
    """Every figure of the pathway's dashboard, over the open cases `user` may see.

    The figures come from the counts the steps keep by day (app/services/reporting/dashboard_tally.py);
    only the edges of a day are read from the tasks, timers and cases themselves. None of it grows
    with the number of open cases."""
    now = clock.now()
    by_stage = _by_stage(pathway, user)
    board = Dashboard(pathway, sum(by_stage.values()))
    board.by_stage = [Figure("stage", stage, stage or "Not set", count) for stage, count in sorted(by_stage.items())]
    days = Days.at(now, AT_RISK_WORKING_DAYS)
    tally = Tally.of(pathway, user, days)
    for figure, counts in zip(("overdue", "due_today"), tally.tasks_due(), strict=True):
        for kind in ("role", "person"):
            found = [Figure(figure, holder, _who(holder), count) for holder, count in counts.items()
                     if count > 0 and holder.startswith(f"{kind}:")]
            setattr(board, f"{figure}_by_{kind}", sorted(found, key=lambda f: (-f.count, f.label)))
    board.headline = [
        Figure("clocks_at_risk", "", "Clocks running out in the next 2 working days", tally.clocks_at_risk()),
        Figure("escalations", "", "Cases with an open escalation", tally.total("escalation")),
        Figure("suspended", "", "Cases with a suspension in place", tally.total("suspended")),
    ]
    board.open_longer = [Figure("open_over", str(months), f"Open longer than {_months(months)}",
                                tally.opened_before(_months_ago(now, months)))
                         for months in OPEN_FOR_MONTHS]
    return board


def _by_stage(pathway: str, user: User) -> dict[str, int]:
    """Open cases by stage. Someone who oversees the pathway everywhere sees every open case but those
    about themselves: the counts the steps keep (app/services/cases/counts.py), less those; anyone
    else's are counted over the cases they may open."""
    if unit_tree().root.id not in oversight_units(user, pathway):
        return dict(db.session.execute(select(Case.stage, func.count()).where(*_open_cases(pathway, user))
                                       .group_by(Case.stage)).all())
    counts = counted_by_stage(pathway)
    if user.staff_number_key:
        for stage, about in db.session.execute(select(Case.stage, func.count()).where(
                Case.pathway == pathway, Case.status == "open", about_user_clause(user)).group_by(Case.stage)):
            counts[stage] = counts.get(stage, 0) - about
    return {stage: count for stage, count in counts.items() if count > 0}


def figure_cases(pathway: str, user: User, figure: str, value: str) -> list[Case]:
    """The open cases behind one figure of the dashboard, oldest first."""
    clause = _filter(figure, value, clock.now())
    return db.session.scalars(select(Case).where(*_open_cases(pathway, user), clause)
                              .order_by(Case.opened_at, Case.id)).all()


def describe_figure(figure: str, value: str) -> str:
    """What a figure counts, in words (the heading of its list)."""
    if figure in ("due_today", "overdue"):
        when = "due today" if figure == "due_today" else "overdue"
        return f"Cases with tasks {when} for {_who(value)}"
    if figure == "stage":
        return f"Open cases at stage “{value or 'Not set'}”"
    if figure == "open_over":
        return f"Cases open longer than {_months(int(value))}"
    return {"clocks_at_risk": "Cases with a clock running out in the next 2 working days",
            "escalations": "Cases with an open escalation", "suspended": "Cases with a suspension in place"}[figure]


def _open_cases(pathway: str, user: User) -> list:
    return [Case.pathway == pathway, Case.status == "open", visible_cases_clause(user, pathway)]


def _due_window(window: str, now: datetime):
    if window == "overdue":
        return HumanTask.due_at < now
    return and_(HumanTask.due_at >= now, HumanTask.due_at < _end_of_today(now))


def _end_of_today(now: datetime) -> datetime:
    calendar = get_calendar()
    local = calendar.local(now)
    return (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).astimezone(now.tzinfo)


def _filter(figure: str, value: str, now: datetime):
    """SQL: the case (`Case`) is behind this figure.

    The task, timer and fact tests are uncorrelated (`case id IN (...)`): the set is read once
    through its own index, rather than once per open case."""
    if figure == "stage":
        return Case.stage == value
    if figure in ("due_today", "overdue"):
        return Case.id.in_(select(HumanTask.case_id).where(HumanTask.status == "open", _due_window(figure, now),
                                                           _holder(value)))
    if figure == "clocks_at_risk":
        horizon = get_calendar().working_days_after(now, AT_RISK_WORKING_DAYS)
        return Case.id.in_(select(Timer.case_id).where(Timer.status == "waiting", Timer.due_at >= now,
                                                       Timer.due_at <= horizon))
    if figure == "escalations":
        return Case.id.in_(select(HumanTask.case_id).where(HumanTask.status == "open",
                                                           HumanTask.escalation.is_(True)))
    if figure == "suspended":
        return Case.id.in_(select(CaseFact.case_id).where(CaseFact.key == "suspended", CaseFact.value == "yes"))
    if figure == "open_over" and value.isdigit():
        return Case.opened_at < _months_ago(now, int(value))
    raise NotFound(f"No dashboard figure {figure!r}.")


def _holder(value: str):
    kind, _, key = value.partition(":")
    if kind == "role":
        return HumanTask.role_key.is_(None) if key == UNASSIGNED else HumanTask.role_key == key
    if kind == "person":
        return HumanTask.assignee_id.is_(None) if key == UNASSIGNED else HumanTask.assignee_id == int(key or 0)
    raise NotFound(f"No holder {value!r}.")


def _who(value: str) -> str:
    kind, _, key = value.partition(":")
    if key == UNASSIGNED:
        return "no role" if kind == "role" else "nobody yet (not picked up)"
    if kind == "role":
        return db.session.scalar(select(Role.name).where(Role.key == key)) or key
    user = db.session.get(User, int(key)) if key.isdigit() else None
    return user.display_name if user else "someone"


def _months_ago(now: datetime, months: int) -> datetime:
    day = add_years(now.date(), 0, -months)
    return now.replace(year=day.year, month=day.month, day=day.day)


def _months(months: int) -> str:
    return "1 month" if months == 1 else f"{months} months"
