"""The timers' backlog is the same on any day the bench runs. Its cases' routes start on a Monday and
its workers fire them with their clocks set to the Monday two weeks later, both at 10:00 UTC: ten
working days have passed, from the same hour, whatever the day and time of the run, so the mix of due timers per case (the
cost the figure measures) does not move with the date. From a fixed 12 days back, with the workers on
the real clock, it did: 10,000 due timers were 5,000 cases on a Saturday and 6,364 on a Sunday."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from app.calendar import WorkingCalendar
from bench.sweep import backlog_moments


def test_the_backlog_runs_ten_working_days_from_a_monday_whatever_the_day():
    calendar = WorkingCalendar()
    first = datetime(2026, 11, 30, 0, 5, tzinfo=timezone.utc)  # a Monday, no bank holiday near
    seen = set()
    for hours in range(0, 14 * 24, 5):  # two weeks of bench runs, at all hours, weekends included
        now = first + timedelta(hours=hours)
        base, fired_at = backlog_moments(now)
        assert base.weekday() == 0 and base.time() == time(10, 0) and base.tzinfo == timezone.utc, (now, base)
        assert fired_at - base == timedelta(days=14)
        assert calendar.working_days_between(base, fired_at) == 10
        assert now - timedelta(days=7) < fired_at <= now  # no later than now: the population's clocks still run
        seen.add(base)
    assert len(seen) == 3  # the Monday before the first run's, then one a week
