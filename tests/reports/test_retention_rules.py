"""The retention rule (KCSIE): until normal pension age or 10 years from the allegation, whichever
is longer, for subjects of different ages."""
from __future__ import annotations

from datetime import date

from app.services.cases.retention_rules import add_years, retention_review_date, state_pension_age

ALLEGATION = date(2026, 11, 23)


def test_a_young_subject_is_kept_until_pension_age():
    result = retention_review_date(ALLEGATION, date(1995, 3, 14))
    assert result.review_on == date(2063, 3, 14)  # State Pension age 68
    assert "normal pension age (68)" in result.rule


def test_a_subject_near_retirement_is_kept_for_10_years_from_the_allegation():
    result = retention_review_date(ALLEGATION, date(1962, 5, 1))  # 67 on 1 May 2029
    assert result.review_on == date(2036, 11, 23)
    assert result.rule.startswith("10 years from the allegation")


def test_a_subject_past_pension_age_is_kept_for_10_years():
    assert retention_review_date(ALLEGATION, date(1950, 1, 1)).review_on == date(2036, 11, 23)


def test_when_pension_age_falls_just_after_the_ten_years_it_wins():
    born = date(1970, 6, 30)  # 67 on 30 June 2037
    assert retention_review_date(ALLEGATION, born).review_on == date(2037, 6, 30)


def test_the_1960_transition_adds_months():
    assert state_pension_age(date(1960, 4, 6)) == (66, 1)
    assert state_pension_age(date(1960, 9, 10)) == (66, 6)
    assert state_pension_age(date(1961, 3, 5)) == (66, 11)
    assert state_pension_age(date(1961, 3, 6)) == (67, 0)
    assert retention_review_date(date(2020, 1, 6), date(1960, 9, 10)).review_on == date(2030, 1, 6)
    assert retention_review_date(date(2015, 1, 6), date(1960, 9, 10)).review_on == date(2027, 3, 10)


def test_an_unknown_date_of_birth_falls_back_to_ten_years_and_says_so():
    result = retention_review_date(ALLEGATION, None)
    assert result.review_on == date(2036, 11, 23) and "date of birth not recorded" in result.rule


def test_both_parts_are_settings():
    assert retention_review_date(ALLEGATION, date(1995, 3, 14), pension_age="65").review_on == date(2060, 3, 14)
    assert retention_review_date(ALLEGATION, date(1950, 1, 1), years_from_allegation=6).review_on == date(2032, 11, 23)


def test_a_leap_day_birthday():
    assert add_years(date(2000, 2, 29), 68) == date(2068, 2, 29)
    assert add_years(date(2000, 2, 29), 67) == date(2067, 2, 28)
