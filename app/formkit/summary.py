"""Answers shown back as questions and answers (the timeline, a completed task, what was typed)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from app.formkit.spec import FieldSpec, all_specs, option_value

DOCUMENT_PREFIX = "document:"


@dataclass
class AnswerRow:
    question: str
    answer: str = ""
    document_id: int | None = None
    items: list[list[AnswerRow]] = field(default_factory=list)
    item_label: str = ""


def describe_answers(specs: list[FieldSpec], answers: dict) -> list[AnswerRow]:
    """A row per answered question, in the form's order; answers the form no longer asks come last."""
    rows = []
    known = set()
    for spec in all_specs(specs):
        known.add(spec.key)
        if spec.key in answers:
            rows.append(_row(spec, answers[spec.key]))
    for key, value in answers.items():
        if key not in known:
            rows.append(AnswerRow(question=key.replace("_", " ").capitalize(), answer=_plain(value)))
    return rows


def _row(spec: FieldSpec, value) -> AnswerRow:
    if spec.widget == "group" and isinstance(value, list):
        items = [describe_answers(spec.children, item) for item in value if isinstance(item, dict)]
        return AnswerRow(question=spec.label, items=items, item_label=spec.item_label)
    if isinstance(value, str) and value.startswith(DOCUMENT_PREFIX) and value[len(DOCUMENT_PREFIX):].isdigit():
        return AnswerRow(question=spec.label, answer="", document_id=int(value[len(DOCUMENT_PREFIX):]))
    if spec.single:
        return AnswerRow(spec.label, _plain(bool(value)))
    labels = {option_value(v): label for v, label in spec.options}
    if isinstance(value, list):
        return AnswerRow(spec.label, ", ".join(labels.get(option_value(v), _plain(v)) for v in value))
    if spec.options:
        return AnswerRow(spec.label, labels.get(option_value(value), _plain(value)))
    if spec.widget == "date":
        return AnswerRow(spec.label, _long_date(value))
    return AnswerRow(spec.label, _plain(value))


def _long_date(value) -> str:
    try:
        return date.fromisoformat(value).strftime("%-d %B %Y")
    except (TypeError, ValueError):
        return _plain(value)


def _plain(value) -> str:
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)
