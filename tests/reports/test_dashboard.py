"""The operational dashboard's figures, each against the rows behind it, and the lists they link to."""
from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, Timer
from app.services import people
from app.services.reporting.dashboard import dashboard, describe_figure, figure_cases
from app.services.runtime import get_calendar
from tests.reports.conftest import run_route


def test_every_figure_matches_the_tasks_and_clocks_of_the_open_case(app_ctx):
    case = run_route("pipot/meeting_deadline_missed_over_christmas", before="Task_escalate_meeting_head").case
    head = people.create_user("head", "Head", ["staff", "head_of_safeguarding"])
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")).all()
    timers = db.session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.status == "waiting")).all()
    moment = min(t.due_at for t in tasks if t.due_at) + timedelta(minutes=1)  # one task just overdue
    with time_machine.travel(moment, tick=False):
        board = dashboard("pipot", head)
        overdue = sum(1 for t in tasks if t.due_at and t.due_at < moment)
        assert board.open_cases == 1
        assert [(f.label, f.count) for f in board.by_stage] == [(case.stage, 1)]
        assert sum(f.count for f in board.overdue_by_role) == overdue == sum(f.count for f in board.overdue_by_person)
        headline = {f.figure: f.count for f in board.headline}
        assert overdue >= 1 and any(t.escalation for t in tasks)
        assert headline["escalations"] == 1
        horizon = get_calendar().working_days_after(moment, 2)
        assert headline["clocks_at_risk"] == (1 if any(moment <= t.due_at <= horizon for t in timers) else 0)
        for figure in [*board.by_stage, *board.overdue_by_role, *board.headline, *board.open_longer]:
            listed = figure_cases("pipot", head, figure.figure, figure.value)
            assert [c.id for c in listed] == ([case.id] if figure.count else []), describe_figure(figure.figure, figure.value)
    with time_machine.travel(case.opened_at + timedelta(days=95), tick=False):
        assert [f.count for f in dashboard("pipot", head).open_longer] == [1, 1, 0]
