"""Due dates in the words staff use: "due today", "overdue by 2 working days"."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app import clock
from app.services.runtime import get_calendar


@dataclass(frozen=True)
class Due:
    text: str
    state: str  # overdue, today, soon, later, none
    local: datetime | None = None


def describe_due(due_at: datetime | None, now: datetime | None = None) -> Due:
    """How far off a due time is, counted in working days on the service's calendar."""
    if due_at is None:
        return Due("No due date", "none")
    calendar, now = get_calendar(), now or clock.now()
    local = calendar.local(due_at)
    if due_at <= now:
        late = calendar.working_days_between(due_at, now)
        if late == 0:
            return Due(f"Overdue: was due at {local:%H:%M} today", "overdue", local)
        return Due(f"Overdue by {late} working day{'s' if late != 1 else ''}", "overdue", local)
    ahead = calendar.working_days_between(now, due_at)
    if calendar.local(now).date() == local.date():
        return Due(f"Due today at {local:%H:%M}", "today", local)
    if ahead <= 0:
        return Due(f"Due {local:%A} at {local:%H:%M}", "soon", local)
    return Due(f"Due in {ahead} working day{'s' if ahead != 1 else ''}", "soon" if ahead <= 2 else "later", local)
