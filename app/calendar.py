"""The one working-day calendar: working days, business hours and out of hours.

A working day is a weekday that is neither a UK bank holiday for the configured
subdivision (England by default, from the ``holidays`` package) nor a local
closure day. Business hours default to 09:00-17:00 Europe/London.

Clock convention (DOMAIN.md, "Timescales and clocks"): the local calendar date of
the trigger is day 0, whether or not it is a working day or in business hours;
"within N working days" ends at close of business on the Nth working day after it.

Moments may be given as aware datetimes or as ISO 8601 text. Naive datetimes and
text without an offset are taken to be UTC (stored times are UTC); date-only text
means midnight UTC. Every moment returned is an aware UTC datetime.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = ["WorkingCalendar", "parse_when"]

_COUNTRY = "GB"
_WEEKEND = frozenset({6, 0})  # date.toordinal() % 7: ordinal 1 (1 January, year 1) is a Monday
_DECADE = 10


def parse_when(value: datetime | str) -> datetime:
    """Return ``value`` as an aware UTC datetime.

    Accepts an aware datetime, a naive datetime (taken to be UTC) or ISO 8601
    text (text without an offset is taken to be UTC). Raises ValueError for
    text that is not ISO 8601 and TypeError for anything else.
    """
    if isinstance(value, str):
        value = _parse_text(value)
    elif not isinstance(value, datetime):
        raise TypeError(f"expected a datetime or ISO 8601 text, got {type(value).__name__}")
    if value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _parse_text(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}") from None


@lru_cache(maxsize=None)
def _bank_holidays(subdivision: str, first_year: int, last_year: int) -> frozenset[int]:
    """Day ordinals of the bank holidays for ``subdivision`` in the given years (inclusive)."""
    years = range(first_year, last_year + 1)
    found = holidays.country_holidays(_COUNTRY, subdiv=subdivision, years=years)
    return frozenset(day.toordinal() for day in found)


class WorkingCalendar:
    """Working days, business hours and out of hours for one organisation."""

    def __init__(
        self,
        *,
        subdivision: str = "ENG",
        timezone: str = "Europe/London",
        business_start: time = time(9, 0),
        business_end: time = time(17, 0),
        closure_days: Iterable[date] = (),
    ) -> None:
        self.subdivision = _check_subdivision(subdivision)
        self.zone = _zone(timezone)
        self.business_start, self.business_end = _check_hours(business_start, business_end)
        self.closure_days = frozenset(_as_date(day) for day in closure_days)
        # Non-working weekday ordinals: closure days now, bank holidays loaded by decade.
        self._closed = frozenset(day.toordinal() for day in self.closure_days)
        self._lo, self._hi = 1, 0  # ordinal bounds of the years whose bank holidays are loaded

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(subdivision={self.subdivision!r}, timezone={self.zone.key!r}, "
            f"business_start={self.business_start!r}, business_end={self.business_end!r}, "
            f"closure_days={len(self.closure_days)} days)"
        )

    # -- public API ---------------------------------------------------------

    def local(self, when: datetime | str) -> datetime:
        """Return ``when`` converted to the calendar's time zone."""
        return parse_when(when).astimezone(self.zone)

    def is_working_day(self, day: date) -> bool:
        """True unless ``day`` is a Saturday, Sunday, bank holiday or closure day."""
        if isinstance(day, datetime) or not isinstance(day, date):
            raise TypeError(
                f"is_working_day expects a date, got {type(day).__name__}; "
                "use calendar.local(when).date() for a moment"
            )
        return self._is_working(day.toordinal())

    def is_out_of_hours(self, when: datetime | str) -> bool:
        """True if ``when`` is outside business hours locally, or not on a working day.

        Business hours include their start and exclude their end (09:00 is in
        hours, 17:00 is out of hours).
        """
        local = self.local(when)
        if not self._is_working(local.toordinal()):
            return True
        return not self.business_start <= local.time() < self.business_end

    def working_days_after(self, when: datetime | str, n: int) -> datetime:
        """Close of business on the nth working day after the local date of ``when``.

        The local date of ``when`` is day 0, whatever the time of day and whether
        or not it is a working day. ``n=0`` means close of business on day 0 if it
        is a working day, otherwise on the next working day. Returns aware UTC.
        """
        _check_count(n)
        day0 = self.local(when).toordinal()
        # n=0 is "the first working day on or after day 0", i.e. the 1st after day -1.
        due = self._nth_working_after(day0 - 1, 1) if n == 0 else self._nth_working_after(day0, n)
        return self._at(due, self.business_end)

    def working_days_between(self, start: datetime | str, end: datetime | str) -> int:
        """Count working days d with local date of ``start`` < d <= local date of ``end``.

        Negative when ``end`` falls before ``start``; zero on the same local date.
        """
        first, last = self.local(start).toordinal(), self.local(end).toordinal()
        if last < first:
            return -self._count_working(last, first)
        return self._count_working(first, last)

    def next_working_day_start(self, when: datetime | str) -> datetime:
        """The next working moment at or after ``when``, as aware UTC.

        ``when`` itself if it is in business hours; otherwise start of business on
        the same day (if a working day before opening) or on the next working day.
        """
        moment = parse_when(when)
        local = moment.astimezone(self.zone)
        today = local.toordinal()
        if self._is_working(today):
            if local.time() < self.business_start:
                return self._at(today, self.business_start)
            if local.time() < self.business_end:
                return moment
        return self._at(self._nth_working_after(today, 1), self.business_start)

    # -- internals ----------------------------------------------------------

    def _is_working(self, ordinal: int) -> bool:
        if not self._lo <= ordinal <= self._hi:
            self._load_years_around(ordinal)
        return ordinal % 7 not in _WEEKEND and ordinal not in self._closed

    def _nth_working_after(self, ordinal: int, n: int) -> int:
        while n:
            ordinal += 1
            if self._is_working(ordinal):
                n -= 1
        return ordinal

    def _count_working(self, after: int, upto: int) -> int:
        return sum(1 for ordinal in range(after + 1, upto + 1) if self._is_working(ordinal))

    def _at(self, ordinal: int, clock_time: time) -> datetime:
        local = datetime.combine(date.fromordinal(ordinal), clock_time, tzinfo=self.zone)
        return local.astimezone(UTC)

    def _load_years_around(self, ordinal: int) -> None:
        """Load bank holidays, a decade at a time, so the loaded years cover ``ordinal``."""
        year = date.fromordinal(ordinal).year
        first, last = year // _DECADE * _DECADE, year // _DECADE * _DECADE + _DECADE - 1
        if self._lo <= self._hi:  # keep the loaded range contiguous
            first = min(first, date.fromordinal(self._lo).year)
            last = max(last, date.fromordinal(self._hi).year)
        first, last = max(first, 1), min(last, 9999)
        closed = set(self._closed)
        for start in range(first, last + 1, _DECADE):
            closed |= _bank_holidays(self.subdivision, start, min(start + _DECADE - 1, last))
        # Publish the holidays before widening the bounds, so a reader never sees a gap.
        self._closed = frozenset(closed)
        self._lo, self._hi = date(first, 1, 1).toordinal(), date(last, 12, 31).toordinal()


def _check_subdivision(subdivision: str) -> str:
    known = holidays.list_supported_countries()[_COUNTRY]
    if subdivision not in known:
        choices = ", ".join(known)
        raise ValueError(f"unknown UK subdivision {subdivision!r}; expected one of {choices}")
    return subdivision


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _check_hours(start: time, end: time) -> tuple[time, time]:
    if not (isinstance(start, time) and isinstance(end, time)):
        raise TypeError("business_start and business_end must be datetime.time values")
    if start.tzinfo is not None or end.tzinfo is not None:
        raise ValueError("business hours are local wall-clock times; give them without a tzinfo")
    if start >= end:
        raise ValueError(f"business_start {start} must be before business_end {end}")
    return start, end


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"number of working days must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"number of working days must not be negative, got {n}")


def _as_date(day: date | str) -> date:
    if isinstance(day, str):
        try:
            return date.fromisoformat(day.strip())
        except ValueError:
            raise ValueError(f"closure day is not an ISO 8601 date: {day!r}") from None
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"closure days must be dates, got {type(day).__name__}")
    return day
