"""A form's lists of choices (a `oneOf` of text constants with their titles) are checked as one lookup
of the answer among the values, and that check accepts exactly what the form does: every bundled form's
every choice, and answers that are not one of them, get the same verdict both ways; answers that do not
fit are refused with the form's own messages."""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from app.config import PROJECT_ROOT
from app.services import forms
from app.services.errors import ValidationFailed
from bench.answers import CONCERN

FORMS = sorted((PROJECT_ROOT / "forms").glob("*.schema.json"))


def _choice_lists(node, path=()):
    """(path, the choices' values) of every `oneOf` of constants in a schema."""
    if isinstance(node, dict):
        choices = node.get("oneOf")
        if isinstance(choices, list) and all(isinstance(c, dict) and "const" in c for c in choices):
            yield path, [c["const"] for c in choices]
        for key, value in node.items():
            yield from _choice_lists(value, (*path, key))
    elif isinstance(node, list):
        for n, item in enumerate(node):
            yield from _choice_lists(item, (*path, n))


def _at(schema: dict, path: tuple) -> dict:
    for step in path:
        schema = schema[step]
    return schema


NOT_CHOICES = ("", "Other", "yes ", None, 0, 1, True, ["yes"], {"const": "yes"})


@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.name)
def test_every_choice_and_every_non_choice_gets_the_forms_own_verdict(path):
    text = path.read_text(encoding="utf-8")
    _full, schema = forms._validator(text)
    quick = forms._quick_validator(text)
    lists = list(_choice_lists(schema))
    for where, values in lists:
        question = _at(schema, where)
        quick_question = _at(quick.schema, where)
        assert "oneOf" not in quick_question and quick_question["enum"] == values, where
        full_check = Draft202012Validator(question, format_checker=FormatChecker())
        quick_check = Draft202012Validator(quick_question, format_checker=FormatChecker())
        for answer in (*values, *(f"{v}!" for v in values), *(v.upper() for v in values), *NOT_CHOICES):
            assert quick_check.is_valid(answer) == full_check.is_valid(answer), (path.name, where, answer)


def test_the_bundled_forms_have_choice_lists_to_check():
    counted = sum(len(list(_choice_lists(json.loads(p.read_text(encoding="utf-8"))))) for p in FORMS)
    assert counted >= 20, counted


def test_answers_that_fit_are_not_checked_twice(app_ctx, monkeypatch):
    schema = (PROJECT_ROOT / "forms" / "pipot_concern.schema.json").read_text(encoding="utf-8")
    answers = dict(CONCERN)
    full, _schema = forms._validator(schema)
    quick = forms._quick_validator(schema)
    assert quick.is_valid(answers) and not list(full.iter_errors(answers))

    class Refusing:
        def iter_errors(self, _answers):
            raise AssertionError("the form's full check ran for answers that fit")

    monkeypatch.setattr(forms, "_validator", lambda _text: (Refusing(), _schema))
    forms.check_answers(schema, answers)


def test_an_answer_that_is_not_a_choice_gets_the_forms_message(app_ctx):
    schema = (PROJECT_ROOT / "forms" / "pipot_concern.schema.json").read_text(encoding="utf-8")
    with pytest.raises(ValidationFailed) as refused:
        forms.check_answers(schema, {"concern_source": "rumour"})
    assert "concern_source" in refused.value.errors
    assert refused.value.errors["concern_source"] != "This is not a question on this form."
