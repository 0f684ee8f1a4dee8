"""Reporting periods: calendar quarters (`2026-Q1`, January to March) and reporting years (`2026`,
starting in REPORT_YEAR_START_MONTH of 2026: April to March by default). A period runs from local
midnight on its first day to local midnight after its last, in the calendar's time zone."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from flask import current_app

from app import clock
from app.services.cases.retention_rules import add_years
from app.services.errors import NotFound
from app.services.runtime import get_calendar

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    first_day: date
    next_day: date  # the day after the last day
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.next_day.toordinal() - 1)


def period(key: str) -> Period:
    """The period a key names; NotFound for anything else."""
    if match := QUARTER.match(key or ""):
        year, quarter = int(match[1]), int(match[2])
        first = date(year, 3 * quarter - 2, 1)
        return _period(key, first, add_years(first, 0, 3))
    if match := YEAR.match(key or ""):
        first = date(int(match[1]), _year_start_month(), 1)
        return _period(key, first, add_years(first, 1))
    raise NotFound(f"No reporting period {key!r}.")


def _period(key: str, first: date, after: date) -> Period:
    last = date.fromordinal(after.toordinal() - 1)
    label = f"{first:%-d %B %Y} to {last:%-d %B %Y}"
    return Period(key, label, first, after, _midnight(first), _midnight(after))


def _midnight(day: date) -> datetime:
    zone = get_calendar().zone
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _year_start_month() -> int:
    return int(current_app.config["REPORT_YEAR_START_MONTH"])


def today() -> date:
    return get_calendar().local(clock.now()).date()


def quarter_key(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def year_key(day: date) -> str:
    return str(day.year if day.month >= _year_start_month() else day.year - 1)


def last_complete(kind: str, on: date | None = None) -> Period:
    """The latest quarter (or reporting year) that ended before `on` (today)."""
    current = period(quarter_key(on or today()) if kind == "quarter" else year_key(on or today()))
    return period(quarter_key(date.fromordinal(current.first_day.toordinal() - 1)) if kind == "quarter"
                  else year_key(date.fromordinal(current.first_day.toordinal() - 1)))


def recent_periods(kind: str, count: int = 8) -> list[Period]:
    """The current period and the ones before it, newest first (for a choice of period)."""
    found, day = [], today()
    for _ in range(count):
        chosen = period(quarter_key(day) if kind == "quarter" else year_key(day))
        found.append(chosen)
        day = date.fromordinal(chosen.first_day.toordinal() - 1)
    return found
