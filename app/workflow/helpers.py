"""The functions BPMN expressions may call (bpmn/README.md lists them for process owners).

They take and give ISO 8601 text, because SpiffWorkflow reads timer values as text and case
data must stay JSON.
"""
from __future__ import annotations

from datetime import timedelta

from app import clock
from app.calendar import WorkingCalendar, parse_when


def build_helpers(calendar: WorkingCalendar) -> dict:
    """The helper functions bound to one working-day calendar."""

    def now() -> str:
        return clock.now().isoformat()

    def today() -> str:
        return calendar.local(clock.now()).date().isoformat()

    def working_days_after(when, n) -> str:
        return calendar.working_days_after(when, int(n)).isoformat()

    def hours_after(when, hours) -> str:
        return (parse_when(when) + timedelta(hours=float(hours))).isoformat()

    def is_out_of_hours(when=None) -> bool:
        return calendar.is_out_of_hours(when if when is not None else clock.now())

    def working_days_between(start, end) -> int:
        return calendar.working_days_between(start, end)

    return {
        "now": now,
        "today": today,
        "working_days_after": working_days_after,
        "hours_after": hours_after,
        "is_out_of_hours": is_out_of_hours,
        "working_days_between": working_days_between,
    }
