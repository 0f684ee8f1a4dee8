"""The retention rule (DOMAIN.md, data protection; KCSIE Part Four): a record about an allegation is
kept until the subject reaches normal pension age or for 10 years from the allegation, whichever is
longer. Both parts are settings: RETENTION_YEARS_FROM_ALLEGATION (10) and RETENTION_PENSION_AGE
(`state`, the UK State Pension age for the date of birth, or a number of years).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# (born on or after, pension age in years, plus one month for every month born after that date)
# The Pensions Acts 1995-2014 as they apply to everyone born after 5 October 1954; the earlier
# transitions (women's equalisation) are taken as 65 because the record does not hold sex.
STATE_PENSION_AGES = (
    (date(1978, 4, 6), 68, False),
    (date(1977, 4, 6), 67, True),
    (date(1961, 3, 6), 67, False),
    (date(1960, 4, 6), 66, True),
    (date(1954, 10, 6), 66, False),
)
DEFAULT_PENSION_AGE = 65


@dataclass(frozen=True)
class RetentionDate:
    review_on: date
    rule: str


def add_years(day: date, years: int, months: int = 0) -> date:
    """`day` plus whole years and months (29 February becomes 28 February in other years)."""
    total = day.year * 12 + day.month - 1 + years * 12 + months
    year, month = divmod(total, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    raise ValueError(f"cannot add {years} years to {day}")


def state_pension_age(born: date) -> tuple[int, int]:
    """(years, months) of the UK State Pension age for someone born on `born`."""
    for since, years, stepping in STATE_PENSION_AGES:
        if born >= since:
            if not stepping:
                return years, 0
            months = (born.year - since.year) * 12 + born.month - since.month + (1 if born.day >= 6 else 0)
            return years, min(max(months, 1), 11)
    return DEFAULT_PENSION_AGE, 0


def pension_date(born: date, pension_age: str) -> tuple[date, str]:
    """The date the subject reaches normal pension age, and the rule in words."""
    if pension_age.strip().isdigit():
        years, months = int(pension_age), 0
    else:
        years, months = state_pension_age(born)
    age = f"{years}" + (f" years and {months} months" if months else "")
    return add_years(born, years, months), f"normal pension age ({age}) on {add_years(born, years, months):%-d %B %Y}"


def retention_review_date(allegation_on: date, born: date | None, *, years_from_allegation: int = 10,
                          pension_age: str = "state") -> RetentionDate:
    """The later of the subject's normal pension age and `years_from_allegation` after the allegation."""
    by_allegation = add_years(allegation_on, years_from_allegation)
    allegation_rule = f"{years_from_allegation} years from the allegation ({allegation_on:%-d %B %Y})"
    if born is None:
        return RetentionDate(by_allegation, allegation_rule + "; date of birth not recorded")
    by_pension, pension_rule = pension_date(born, pension_age)
    if by_pension > by_allegation:
        return RetentionDate(by_pension, pension_rule + ", later than " + allegation_rule)
    return RetentionDate(by_allegation, allegation_rule + ", later than " + pension_rule)
