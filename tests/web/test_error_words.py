"""Errors written for the person: no raw patterns or "group of answers"; dates that cannot be right are
caught (a date of birth in the future or of a child, "became aware" tomorrow, an action done next week)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import time_machine

from app.services.errors import ValidationFailed
from app.services.forms import check_answers

FORMS = Path(__file__).resolve().parents[2] / "forms"
TODAY = datetime(2026, 12, 4, 11, 0, tzinfo=timezone.utc)


def _errors(form: str, answers: dict) -> dict[str, str]:
    with time_machine.travel(TODAY, tick=False):
        try:
            check_answers((FORMS / f"{form}.schema.json").read_text(), answers)
        except ValidationFailed as failed:
            return failed.errors
    return {}


def test_a_time_typed_as_2pm_is_told_how_to_write_it_not_shown_a_pattern(app_ctx):
    errors = _errors("pipot_meeting_arrangements", {"meeting_time": "2pm"})
    assert errors["meeting_time"] == "Enter the time of the meeting using the 24-hour clock, like 14:00."
    assert not any("^" in message or "does not match" in message for message in errors.values())


def test_a_childs_initials_are_refused_in_words(app_ctx):
    errors = _errors("lado_referral", {"contact_type": "referral", "children": [{"child_full_name": "A.B."}]})
    assert errors["children.0.child_full_name"] == "Enter the child's first name and surname in full, not initials."


@pytest.mark.parametrize(("form", "answers", "field", "message"), [
    ("lado_referral", {"subject_date_of_birth": "2031-02-01"}, "subject_date_of_birth",
     "'Their date of birth' must be today or in the past."),
    ("lado_referral", {"subject_date_of_birth": "2019-02-01"}, "subject_date_of_birth",
     "Check 'Their date of birth': it makes them 7. Someone in a position of trust is 16 or older."),
    ("pipot_concern", {"date_became_aware": "2030-01-01"}, "date_became_aware",
     "'When did you become aware of it?' must be today or in the past."),
    ("pipot_meeting_action", {"action_completed_on": "2026-12-11"}, "action_completed_on",
     "'Date completed, or date it stopped being needed' must be today or in the past."),
    ("lado_referral", {"children": [{"child_date_of_birth": "1990-01-01"}]}, "children.0.child_date_of_birth",
     "Check 'Child's date of birth': it makes them 36, and a child is under 18."),
])
def test_dates_that_cannot_be_right_are_caught(app_ctx, form, answers, field, message):
    assert _errors(form, answers)[field] == message


def test_sensible_dates_pass(app_ctx):
    errors = _errors("lado_referral", {"subject_date_of_birth": "1985-06-14", "incident_date": "2026-12-04"})
    assert "subject_date_of_birth" not in errors and "incident_date" not in errors


def test_an_empty_list_of_people_says_what_to_add(app_ctx):
    import json

    from app.formkit import build_specs, page_errors

    schema = json.loads((FORMS / "pipot_meeting_attendance.schema.json").read_text())
    specs = build_specs(schema)
    [error] = page_errors(specs, {"meeting_attendees": "Answer 'Who attended, apart from the chair'."})
    assert error.text == "Add at least one entry to 'Who attended, apart from the chair'."
