"""The timers' backlog is the same on any day the bench runs. Its cases' routes start on a Monday and
its workers fire them with their clocks set to the Monday two weeks later, at the same time of day:
ten working days have passed, whatever the weekday of the run, so the mix of due timers per case (the
cost the figure measures) does not move with the date. From a fixed 12 days back, with the workers on
the real clock, it did: 10,000 due timers were 5,000 cases on a Saturday and 6,364 on a Sunday."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.calendar import WorkingCalendar
from bench.sweep import backlog_moments


def test_the_backlog_runs_ten_working_days_from_a_monday_whatever_the_day():
    calendar = WorkingCalendar()
    first = datetime(2026, 11, 30, 14, 5, tzinfo=timezone.utc)  # a Monday, no bank holiday near
    seen = set()
    for days in range(14):  # two weeks of bench days, weekends included
        now = first + timedelta(days=days)
        base, fired_at = backlog_moments(now)
        assert base.weekday() == 0 and base.time() == now.time(), (now, base)
        assert fired_at - base == timedelta(days=14)
        assert calendar.working_days_between(base, fired_at) == 10
        assert now - timedelta(days=7) < fired_at <= now  # no later than now: the population's clocks still run
        seen.add(base)
    assert len(seen) == 2  # one Monday per week of bench days
