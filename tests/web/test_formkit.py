"""Forms as data: what a person types becomes the answers the schema checks, and back."""
from __future__ import annotations

from app.formkit import answers_from, apply_action, build_specs, describe_answers, read_values, values_from

MEETING = {
    "type": "object",
    "properties": {
        "held_on": {"type": "string", "format": "date", "title": "Held on"},
        "starts_at": {"type": "string", "format": "date-time", "title": "Starts at"},
        "quorate": {"type": "boolean", "title": "Was it quorate?"},
        "headcount": {"type": "integer", "title": "How many attended?"},
        "agreed": {"type": "boolean", "const": True, "title": "I agree"},
        "colour": {"type": "string", "enum": ["red", "amber", "green"], "title": "Rating"},
        "attendees": {"type": "array", "items": {"type": "object", "title": "Attendee",
                                                  "properties": {"name": {"type": "string", "title": "Name"}}}},
    },
}
UI = {"ui:order": ["quorate", "*"], "agreed": {"ui:widget": "checkboxes"}, "colour": {"ui:widget": "select"}}


def _posted(**values):
    return {k: v if isinstance(v, list) else [v] for k, v in values.items()}


def test_fields_come_in_the_ui_order_with_the_right_widgets():
    specs = build_specs(MEETING, UI)
    assert [(s.key, s.widget) for s in specs] == [
        ("quorate", "radios"), ("held_on", "date"), ("starts_at", "datetime"), ("headcount", "number"),
        ("agreed", "checkboxes"), ("colour", "select"), ("attendees", "group")]
    assert specs[-1].item_label == "Attendee" and specs[-1].add_label == "Add another attendee"


def test_typed_values_become_answers_of_the_right_types():
    specs = build_specs(MEETING, UI)
    values = read_values(specs, _posted(**{
        "quorate": "false", "held_on-day": "5", "held_on-month": "1", "held_on-year": "2027",
        "starts_at-day": "1", "starts_at-month": "7", "starts_at-year": "2027", "starts_at-time": "14:30",
        "headcount": "7", "agreed": "true", "colour": "amber", "attendees-count": "2",
        "attendees-0-name": "Ann", "attendees-1-name": ""}))
    assert answers_from(specs, values) == {
        "quorate": False, "held_on": "2027-01-05", "starts_at": "2027-07-01T14:30:00+01:00", "headcount": 7,
        "agreed": True, "colour": "amber", "attendees": [{"name": "Ann"}]}


def test_text_that_is_not_a_date_or_number_is_passed_on_for_the_schema_to_refuse():
    specs = build_specs(MEETING, UI)
    values = read_values(specs, _posted(**{"held_on-day": "31", "held_on-month": "2", "held_on-year": "2027",
                                           "headcount": "seven"}))
    assert answers_from(specs, values) == {"held_on": "2027-2-31", "headcount": "seven"}


def test_removing_an_item_moves_the_later_ones_up():
    values = {"attendees-count": "3", "attendees-0-name": "Ann", "attendees-1-name": "Bob", "attendees-2-name": "Cat"}
    assert apply_action(values, "remove:attendees:1") == {
        "attendees-count": "2", "attendees-0-name": "Ann", "attendees-1-name": "Cat"}
    assert apply_action(values, "add:attendees")["attendees-count"] == "4"


def test_answers_read_back_as_questions_and_answers():
    specs = build_specs(MEETING, UI)
    rows = describe_answers(specs, {"quorate": True, "held_on": "2027-01-05", "agreed": True, "colour": "amber",
                                    "attendees": [{"name": "Ann"}], "retired_question": "kept"})
    assert [(r.question, r.answer) for r in rows] == [
        ("Was it quorate?", "Yes"), ("Held on", "5 January 2027"), ("I agree", "Yes"), ("Rating", "Amber"),
        ("Attendees", ""), ("Retired question", "kept")]
    assert [[(i.question, i.answer) for i in item] for item in rows[4].items] == [[("Name", "Ann")]]


def test_a_question_revealed_inside_a_revealed_question_is_read_and_kept():
    """The LADO referral: 'after an authorised restraint?' is revealed by ticking Physical, itself
    revealed by choosing a referral. Its answer used to be dropped ("Answer '…'" and a cleared radio)."""
    import json
    from pathlib import Path

    forms = Path(__file__).resolve().parents[2] / "forms"
    specs = build_specs(json.loads((forms / "lado_referral.schema.json").read_text()),
                        json.loads((forms / "lado_referral.uischema.json").read_text()))
    values = read_values(specs, _posted(contact_type="referral", allegation_categories=["physical"],
                                        after_authorised_restraint="true"))
    assert values["after_authorised_restraint"] == "true"
    answers = answers_from(specs, values)
    assert answers["allegation_categories"] == ["physical"]
    assert answers["after_authorised_restraint"] is True
    # unticking Physical drops the answer typed under it
    values = read_values(specs, _posted(contact_type="referral", allegation_categories=["sexual"],
                                        after_authorised_restraint="true"))
    assert "after_authorised_restraint" not in answers_from(specs, values)


def test_answers_open_a_form_again_as_the_values_that_make_them():
    """Carry forward: a form opens with what the case knows, and submitting it unchanged gives the same answers."""
    specs = build_specs(MEETING, UI)
    answers = {"quorate": False, "held_on": "2027-01-05", "starts_at": "2027-07-01T14:30:00+01:00", "headcount": 7,
               "agreed": True, "colour": "amber", "attendees": [{"name": "Ann"}, {"name": "Bob"}]}
    values = values_from(specs, answers)
    assert values["held_on-day"] == "5" and values["starts_at-time"] == "14:30" and values["attendees-count"] == "2"
    assert answers_from(specs, values) == answers
