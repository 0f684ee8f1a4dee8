"""Unit tests for app.calendar (the working-day calendar) and app.clock.

Convention under test (DOMAIN.md "Timescales and clocks"): the local date of the
trigger is day 0; "within N working days" ends at 17:00 Europe/London on the Nth
working day after it. Results are aware UTC datetimes.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from app import clock
from app.calendar import WorkingCalendar, parse_when

LONDON = ZoneInfo("Europe/London")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# -- is_working_day -----------------------------------------------------------


def test_christmas_day_2026_friday_is_not_a_working_day(cal):
    assert cal.is_working_day(date(2026, 12, 25)) is False


def test_boxing_day_substitute_monday_2026_12_28_is_not_a_working_day(cal):
    assert cal.is_working_day(date(2026, 12, 28)) is False


def test_tuesday_2026_12_29_is_a_working_day(cal):
    assert cal.is_working_day(date(2026, 12, 29)) is True


def test_christmas_2027_substitute_days_27_and_28_december_are_not_working_days(cal):
    assert cal.is_working_day(date(2027, 12, 27)) is False
    assert cal.is_working_day(date(2027, 12, 28)) is False
    assert cal.is_working_day(date(2027, 12, 29)) is True


def test_easter_2027_good_friday_and_easter_monday_are_not_working_days(cal):
    assert cal.is_working_day(date(2027, 3, 26)) is False
    assert cal.is_working_day(date(2027, 3, 29)) is False


def test_weekend_days_are_not_working_days(cal):
    assert cal.is_working_day(date(2026, 11, 28)) is False  # Saturday
    assert cal.is_working_day(date(2026, 11, 29)) is False  # Sunday


def test_closure_day_is_not_a_working_day():
    cal = WorkingCalendar(closure_days=[date(2026, 12, 29)])
    assert cal.is_working_day(date(2026, 12, 29)) is False


def test_closure_days_may_be_given_as_iso_text():
    cal = WorkingCalendar(closure_days=["2026-12-29"])
    assert cal.is_working_day(date(2026, 12, 29)) is False


def test_holidays_are_loaded_for_distant_years_on_one_calendar(cal):
    assert cal.is_working_day(date(2026, 12, 25)) is False
    assert cal.is_working_day(date(2099, 12, 25)) is False
    assert cal.is_working_day(date(1999, 12, 28)) is False  # Tuesday substitute
    assert cal.is_working_day(date(2052, 6, 4)) is True  # a plain Tuesday between them


def test_is_working_day_rejects_a_datetime(cal):
    with pytest.raises(TypeError, match="expects a date"):
        cal.is_working_day(utc(2026, 12, 25, 10))


# -- working_days_after -------------------------------------------------------


def test_christmas_eve_trigger_with_one_day_ends_tuesday_29_december_17_00_utc(cal):
    due = cal.working_days_after(london(2026, 12, 24, 10, 0), 1)
    assert due == utc(2026, 12, 29, 17, 0)
    assert due.tzinfo is UTC


def test_easter_2027_thursday_trigger_with_one_day_ends_tuesday_30_march(cal):
    due = cal.working_days_after(london(2027, 3, 25, 10, 0), 1)
    assert cal.local(due) == london(2027, 3, 30, 17, 0)
    assert due == utc(2027, 3, 30, 16, 0)  # clocks went forward on 28 March


def test_friday_after_close_trigger_with_one_day_ends_monday_17_00(cal):
    due = cal.working_days_after(london(2026, 11, 27, 17, 30), 1)
    assert due == utc(2026, 11, 30, 17, 0)


def test_friday_after_close_is_out_of_hours(cal):
    assert cal.is_out_of_hours(london(2026, 11, 27, 17, 30)) is True


def test_bank_holiday_trigger_counts_from_that_day(cal):
    due = cal.working_days_after(london(2026, 12, 25, 11, 0), 1)
    assert due == utc(2026, 12, 29, 17, 0)


def test_three_working_days_from_a_wednesday_ends_the_following_monday(cal):
    due = cal.working_days_after(london(2026, 11, 18, 14, 0), 3)
    assert due == utc(2026, 11, 23, 17, 0)


def test_summer_close_of_business_is_16_00_utc(cal):
    due = cal.working_days_after(london(2026, 7, 1, 10, 0), 1)
    assert due == utc(2026, 7, 2, 16, 0)
    assert cal.local(due).time() == time(17, 0)


def test_deadline_across_the_autumn_clock_change_is_17_00_gmt(cal):
    due = cal.working_days_after(london(2026, 10, 23, 10, 0), 1)  # Friday in BST
    assert due == utc(2026, 10, 26, 17, 0)  # Monday in GMT


def test_day_0_is_the_local_date_not_the_utc_date(cal):
    # 23:30Z on Wednesday 1 July is 00:30 BST on Thursday 2 July, so day 0 is Thursday.
    due = cal.working_days_after(utc(2026, 7, 1, 23, 30), 1)
    assert due == utc(2026, 7, 3, 16, 0)


def test_closure_day_pushes_the_deadline_back():
    cal = WorkingCalendar(closure_days=[date(2026, 12, 29)])
    due = cal.working_days_after(london(2026, 12, 24, 10, 0), 1)
    assert due == utc(2026, 12, 30, 17, 0)


def test_zero_days_on_a_working_day_ends_close_of_business_that_day(cal):
    due = cal.working_days_after(london(2026, 11, 27, 10, 0), 0)
    assert due == utc(2026, 11, 27, 17, 0)


def test_zero_days_after_close_still_ends_that_day(cal):
    due = cal.working_days_after(london(2026, 11, 27, 18, 0), 0)
    assert due == utc(2026, 11, 27, 17, 0)


def test_zero_days_on_a_saturday_ends_monday(cal):
    due = cal.working_days_after(london(2026, 11, 28, 10, 0), 0)
    assert due == utc(2026, 11, 30, 17, 0)


def test_zero_days_on_christmas_day_2026_ends_tuesday_29_december(cal):
    due = cal.working_days_after(london(2026, 12, 25, 10, 0), 0)
    assert due == utc(2026, 12, 29, 17, 0)


def test_custom_business_end_sets_the_deadline_time():
    cal = WorkingCalendar(business_start=time(8, 30), business_end=time(16, 30))
    due = cal.working_days_after(london(2026, 11, 18, 14, 0), 1)
    assert due == utc(2026, 11, 19, 16, 30)


# -- subdivisions -------------------------------------------------------------


def test_2_january_2026_is_a_holiday_in_scotland_but_not_england():
    assert WorkingCalendar(subdivision="ENG").is_working_day(date(2026, 1, 2)) is True
    assert WorkingCalendar(subdivision="SCT").is_working_day(date(2026, 1, 2)) is False


def test_st_andrews_day_substitute_2025_12_01_is_a_holiday_only_in_scotland():
    assert WorkingCalendar(subdivision="ENG").is_working_day(date(2025, 12, 1)) is True
    assert WorkingCalendar(subdivision="SCT").is_working_day(date(2025, 12, 1)) is False


def test_easter_monday_2027_is_a_working_day_in_scotland():
    assert WorkingCalendar(subdivision="SCT").is_working_day(date(2027, 3, 29)) is True


def test_new_year_deadline_differs_between_england_and_scotland():
    trigger = london(2026, 1, 1, 10, 0)  # Thursday, New Year's Day
    england, scotland = WorkingCalendar(subdivision="ENG"), WorkingCalendar(subdivision="SCT")
    assert england.working_days_after(trigger, 1) == utc(2026, 1, 2, 17, 0)
    assert scotland.working_days_after(trigger, 1) == utc(2026, 1, 5, 17, 0)


# -- is_out_of_hours ----------------------------------------------------------


def test_08_59_local_is_out_of_hours(cal):
    assert cal.is_out_of_hours(london(2026, 11, 30, 8, 59)) is True


def test_09_00_local_is_in_hours(cal):
    assert cal.is_out_of_hours(london(2026, 11, 30, 9, 0)) is False


def test_16_59_local_is_in_hours(cal):
    assert cal.is_out_of_hours(london(2026, 11, 30, 16, 59)) is False


def test_17_00_local_is_out_of_hours(cal):
    assert cal.is_out_of_hours(london(2026, 11, 30, 17, 0)) is True


def test_business_hours_are_local_in_summer(cal):
    assert cal.is_out_of_hours(utc(2026, 7, 1, 8, 0)) is False  # 09:00 BST
    assert cal.is_out_of_hours(utc(2026, 7, 1, 16, 0)) is True  # 17:00 BST


def test_saturday_midday_is_out_of_hours(cal):
    assert cal.is_out_of_hours(london(2026, 11, 28, 12, 0)) is True


def test_bank_holiday_midday_is_out_of_hours(cal):
    assert cal.is_out_of_hours(london(2026, 12, 28, 12, 0)) is True


# -- working_days_between -----------------------------------------------------


def test_working_days_between_over_the_easter_2027_weekend(cal):
    assert cal.working_days_between(london(2027, 3, 25, 10), london(2027, 3, 30, 10)) == 1


def test_working_days_between_good_friday_and_easter_monday_is_zero(cal):
    assert cal.working_days_between(london(2027, 3, 26, 10), london(2027, 3, 29, 10)) == 0


def test_working_days_between_over_christmas_and_new_year_2026(cal):
    # 29, 30, 31 December and 4 January; 1 January is a bank holiday.
    assert cal.working_days_between(london(2026, 12, 24, 10), london(2027, 1, 4, 10)) == 4


def test_working_days_between_is_negative_when_end_is_before_start(cal):
    assert cal.working_days_between(london(2027, 3, 30, 10), london(2027, 3, 25, 10)) == -1


def test_working_days_between_on_the_same_local_date_is_zero(cal):
    assert cal.working_days_between(london(2026, 11, 30, 9), london(2026, 11, 30, 16)) == 0


def test_overdue_by_two_working_days(cal):
    due = cal.working_days_after(london(2026, 12, 24, 10), 1)  # Tue 29 December
    assert cal.working_days_between(due, london(2026, 12, 31, 12)) == 2


# -- next_working_day_start ---------------------------------------------------


def test_next_working_day_start_in_hours_is_the_moment_itself(cal):
    when = london(2026, 11, 30, 11, 15)
    assert cal.next_working_day_start(when) == when.astimezone(UTC)


def test_next_working_day_start_before_opening_is_09_00_that_day(cal):
    assert cal.next_working_day_start(london(2026, 11, 30, 7, 0)) == utc(2026, 11, 30, 9, 0)


def test_next_working_day_start_friday_evening_is_monday_09_00(cal):
    assert cal.next_working_day_start(london(2026, 11, 27, 17, 30)) == utc(2026, 11, 30, 9, 0)


def test_next_working_day_start_on_christmas_day_2026_is_29_december(cal):
    assert cal.next_working_day_start(london(2026, 12, 25, 11, 0)) == utc(2026, 12, 29, 9, 0)


def test_next_working_day_start_in_summer_is_08_00_utc(cal):
    assert cal.next_working_day_start(london(2026, 7, 4, 12, 0)) == utc(2026, 7, 6, 8, 0)


# -- input forms --------------------------------------------------------------


def test_iso_text_with_z_is_accepted(cal):
    assert cal.working_days_after("2026-12-24T10:00:00Z", 1) == utc(2026, 12, 29, 17, 0)


def test_iso_text_with_offset_is_accepted(cal):
    assert cal.is_out_of_hours("2026-07-01T09:00:00+01:00") is False


def test_naive_iso_text_is_taken_as_utc():
    assert parse_when("2026-07-01T08:30:00") == utc(2026, 7, 1, 8, 30)


def test_naive_datetime_is_taken_as_utc():
    assert parse_when(datetime(2026, 7, 1, 8, 30)) == utc(2026, 7, 1, 8, 30)


def test_parse_when_converts_an_aware_datetime_to_utc():
    result = parse_when(london(2026, 7, 1, 9, 30))
    assert result == utc(2026, 7, 1, 8, 30)
    assert result.tzinfo is UTC


def test_local_converts_to_london(cal):
    assert cal.local("2026-07-01T08:30:00Z").hour == 9
    assert cal.local("2026-07-01T08:30:00Z").tzinfo == LONDON


# -- errors -------------------------------------------------------------------


def test_negative_number_of_days_is_a_value_error(cal):
    with pytest.raises(ValueError, match="must not be negative, got -1"):
        cal.working_days_after(london(2026, 11, 30, 10), -1)


def test_non_integer_number_of_days_is_a_type_error(cal):
    with pytest.raises(TypeError, match="must be an int"):
        cal.working_days_after(london(2026, 11, 30, 10), 1.5)


def test_unparseable_text_is_a_value_error(cal):
    with pytest.raises(ValueError, match="not an ISO 8601 date-time: 'next Tuesday'"):
        cal.working_days_after("next Tuesday", 1)


def test_parse_when_rejects_other_types():
    with pytest.raises(TypeError, match="expected a datetime or ISO 8601 text"):
        parse_when(20261224)


def test_unknown_subdivision_is_a_value_error():
    with pytest.raises(ValueError, match="unknown UK subdivision 'XYZ'"):
        WorkingCalendar(subdivision="XYZ")


def test_unknown_time_zone_is_a_value_error():
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Atlantis'"):
        WorkingCalendar(timezone="Europe/Atlantis")


def test_business_start_after_end_is_a_value_error():
    with pytest.raises(ValueError, match="must be before business_end"):
        WorkingCalendar(business_start=time(17, 0), business_end=time(9, 0))


def test_bad_closure_day_text_is_a_value_error():
    with pytest.raises(ValueError, match="closure day is not an ISO 8601 date"):
        WorkingCalendar(closure_days=["29/12/2026"])


# -- clock --------------------------------------------------------------------


def test_clock_now_is_aware_utc_and_follows_time_machine():
    with time_machine.travel(utc(2026, 12, 24, 10, 0), tick=False):
        assert clock.now() == utc(2026, 12, 24, 10, 0)
        assert clock.now().utcoffset().total_seconds() == 0


def test_deadline_from_clock_now(cal):
    with time_machine.travel(utc(2026, 12, 24, 10, 0), tick=False):
        assert cal.working_days_after(clock.now(), 1) == utc(2026, 12, 29, 17, 0)
