"""Checking answers against a task's form (JSON Schema 2020-12, DESIGN.md decision 2), and the choices
of the questions that name a person or an organisation unit (a picker, never typed)."""
from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.formkit import FieldSpec
from app.formkit.limits import with_length_limits
from app.models import Role, RoleHolding, User
from app.services.errors import ValidationFailed
from app.services.units import unit_tree, units_of_kind


@lru_cache(maxsize=256)
def _validator(schema_text: str) -> tuple[Draft202012Validator, dict]:
    schema = with_length_limits(json.loads(schema_text))
    return Draft202012Validator(schema, format_checker=FormatChecker()), schema


@lru_cache(maxsize=256)
def _quick_validator(schema_text: str) -> Draft202012Validator:
    """The form's schema with every list of choices (a `oneOf` of distinct text constants, with their
    titles: a radio or a select) as the `enum` of its values, which accepts exactly what the list
    does, in one lookup where `oneOf` tries every choice. Answers that fit it fit the form; answers it
    refuses are checked again against the form itself, for its messages."""
    return Draft202012Validator(_choices_as_enums(_validator(schema_text)[1]), format_checker=FormatChecker())


def _choices_as_enums(node):
    if isinstance(node, list):
        return [_choices_as_enums(item) for item in node]
    if not isinstance(node, dict):
        return node
    quick = {key: _choices_as_enums(value) for key, value in node.items()}
    choices = node.get("oneOf")
    if (isinstance(choices, list) and choices and "enum" not in node
            and all(isinstance(c, dict) and set(c) <= {"const", "title", "description"} and isinstance(c.get("const"), str)
                    for c in choices)
            and len({c["const"] for c in choices}) == len(choices)):
        del quick["oneOf"]
        quick["enum"] = [c["const"] for c in choices]
    return quick


def check_answers(schema_text: str, answers: dict) -> None:
    """Raise ValidationFailed with one message per field when `answers` do not fit the form."""
    if not isinstance(answers, dict):
        raise ValidationFailed({"": "Answers must be a JSON object of field names and values."})
    validator, schema = _validator(schema_text)
    errors: dict[str, str] = {}
    for field in _unknown_fields(schema, answers):
        errors[field] = "This is not a question on this form."
    errors.update(_unstorable_text(schema, answers))
    fit = _quick_validator(schema_text).is_valid(answers)
    for error in () if fit else sorted(validator.iter_errors(answers), key=lambda e: [str(p) for p in e.absolute_path]):
        if error.validator == "additionalProperties" and not error.absolute_path:
            continue  # reported per field above
        field, message = _describe(error, schema)
        errors.setdefault(field, message)
    for field, message in _lookup_errors(schema, answers).items():
        errors.setdefault(field, message)
    for field, message in date_sense(schema, answers).items():
        errors.setdefault(field, message)
    if errors:
        raise ValidationFailed(errors)


def shown_not_asked(schema_text: str, answers: dict, data: dict) -> dict[str, str]:
    """A form's read-only questions are shown from the case: an answer to one may only repeat it."""
    _validator_, schema = _validator(schema_text)
    return {field: "This is shown from the case and cannot be changed here."
            for field, prop in schema.get("properties", {}).items()
            if isinstance(prop, dict) and prop.get("readOnly") and field in answers and answers[field] != data.get(field)}


ADULT_AGES = (16, 100)


def date_sense(schema: dict, answers: dict, path: tuple = ()) -> dict[str, str]:
    """Dates that cannot be right, by the form's `"x-date"` on the question: `past` (today or before:
    when something happened, was done or became known), `birth` (in the past, of someone aged 16 to
    100: the person the allegation is about) or `child-birth` (in the past, under 18)."""
    found: dict[str, str] = {}
    today = _today()
    for name, prop in (schema.get("properties") or {}).items():
        value = answers.get(name) if isinstance(answers, dict) else None
        if not isinstance(prop, dict) or value is None:
            continue
        if isinstance(value, list) and isinstance(prop.get("items"), dict):
            for index, item in enumerate(value):
                found.update(date_sense(prop["items"], item, (*path, name, str(index))))
            continue
        rule, when = prop.get("x-date"), _as_date(value)
        if not rule or when is None:
            continue
        message = _date_problem(rule, when, today, prop.get("title") or name)
        if message:
            found[".".join((*path, name))] = message
    return found


def deadline_problems(schema_text: str, answers: dict, due_at) -> dict[str, str]:
    """A date answer after the task's deadline (`"x-by-deadline": "<reason question>"` on the date) is
    allowed only with a reason: said on the reason question, with the deadline in words."""
    if due_at is None:
        return {}
    _validator_, schema = _validator(schema_text)
    zone = ZoneInfo(current_app.config.get("CALENDAR_TIMEZONE", "Europe/London"))
    deadline = due_at.astimezone(zone).date()
    found = {}
    for name, prop in (schema.get("properties") or {}).items():
        reason = prop.get("x-by-deadline") if isinstance(prop, dict) else None
        when = _as_date(answers.get(name))
        if reason and when is not None and when > deadline and not str(answers.get(reason) or "").strip():
            found[reason] = (f"'{prop.get('title') or name}' is after the deadline ({deadline:%A %-d %B %Y}). "
                             "Say why it cannot be sooner.")
    return found


def _date_problem(rule: str, when: date, today: date, title: str) -> str | None:
    if when > today:
        return f"'{title}' must be today or in the past."
    age = today.year - when.year - ((today.month, today.day) < (when.month, when.day))
    if rule == "birth" and not ADULT_AGES[0] <= age <= ADULT_AGES[1]:
        return f"Check '{title}': it makes them {age}. Someone in a position of trust is {ADULT_AGES[0]} or older."
    if rule == "child-birth" and age >= 18:
        return f"Check '{title}': it makes them {age}, and a child is under 18."
    return None


def _today() -> date:
    zone = current_app.config.get("CALENDAR_TIMEZONE", "Europe/London") if current_app else "Europe/London"
    return clock.now().astimezone(ZoneInfo(zone)).date()


def _as_date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def _lookup_errors(schema: dict, answers: dict) -> dict[str, str]:
    """A person must be someone active holding one of the question's roles; a unit must exist and
    be of one of its kinds."""
    errors = {}
    for name, prop in schema.get("properties", {}).items():
        value = answers.get(name)
        if not isinstance(value, str) or not value:
            continue
        if prop.get("format") == "person" and value not in dict(person_choices(prop.get("x-roles") or ())):
            errors[name] = f"Choose '{prop.get('title') or name}' from the list."
        if prop.get("format") == "org-unit" and value not in dict(unit_choices(prop.get("x-unit-kinds") or ())):
            errors[name] = f"Choose '{prop.get('title') or name}' from the list."
    return errors


def person_choices(roles: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """(username, "Name, role in unit") of the active people holding any of `roles` (anyone if none)."""
    query = (select(User.username, User.display_name, RoleHolding.role_key, RoleHolding.unit_id)
             .join(RoleHolding, RoleHolding.user_id == User.id).where(User.is_active.is_(True)))
    if roles:
        query = query.where(RoleHolding.role_key.in_(list(roles)))
    tree, found = unit_tree(), {}
    for username, name, role, unit in db.session.execute(query.order_by(User.display_name, User.id)):
        where = f"{role.replace('_', ' ')}, {tree.label(unit)}" if len(roles) > 1 else tree.label(unit)
        found.setdefault(username, (name, []))[1].append(where)
    return [(username, f"{name} ({'; '.join(sorted(set(places)))})") for username, (name, places) in found.items()]


def unit_choices(kinds: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """(key, name) of the organisation units of `kinds` (every unit but the root if none)."""
    return [(unit.key, unit.name) for unit in units_of_kind(*kinds)]


def fill_lookups(specs: list[FieldSpec]) -> list[FieldSpec]:
    """Give every person or unit question its choices, as they are now."""
    for spec in specs:
        if spec.lookup == "person":
            spec.options = person_choices(spec.lookup_filter)
        elif spec.lookup == "unit":
            spec.options = unit_choices(spec.lookup_filter)
        fill_lookups(spec.children + spec.revealed())
    return specs


def _unknown_fields(schema: dict, answers: dict) -> list[str]:
    if schema.get("additionalProperties", False) is not False and "properties" not in schema:
        return []
    known = set(schema.get("properties", {}))
    return [name for name in answers if name not in known]


def _describe(error, schema: dict) -> tuple[str, str]:
    path = [str(p) for p in error.absolute_path]
    own = _own_message(schema, path, error)
    if own:
        return ".".join(path + ([_missing(error)] if error.validator == "required" else [])), own
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
        title = _title(schema, path) or missing
        return ".".join(path), f"Answer '{title}'."
    if error.validator in RULES:
        return ".".join(path), _rule_message(error, schema)
    title = _title(schema, path)
    label = f"'{title}'" if title else "This answer"
    if error.validator == "enum" or error.validator == "oneOf" or error.validator == "const":
        return ".".join(path), f"Choose one of the options for {label}."
    if error.validator in ("format", "pattern", "minItems"):
        return ".".join(path), _shape_message(error, schema, path, label)
    if error.validator == "type":
        return ".".join(path), f"{label} must be {_type_words(error.validator_value)}."
    if error.validator == "maxLength":
        return ".".join(path), f"{label} must be {error.validator_value:,} characters or fewer."
    return ".".join(path) or "", f"{label}: {error.message}."


def _shape_message(error, schema: dict, path: list[str], label: str) -> str:
    """A date, a format, a pattern or a list too short, said in words (never the pattern itself)."""
    if error.validator == "format" and error.validator_value == "date":
        return f"{label} must be a real date, for example 27 3 2026."
    if error.validator == "format":
        return f"{label} must be a valid {error.validator_value}."
    if error.validator == "pattern":
        hint = _node(schema, path).get("description")
        return f"{label} is not in the right form" + (f": {hint[0].lower()}{hint[1:]}" if hint else ".")
    return f"Add at least one entry to {label}."


def _unstorable_text(schema: dict, answers, path: tuple = ()) -> dict[str, str]:
    """Text with a NUL or a lone surrogate cannot be stored: one message per field that has it."""
    if isinstance(answers, dict):
        items = answers.items()
    elif isinstance(answers, list):
        items = enumerate(answers)
    else:
        return {}
    found: dict[str, str] = {}
    for key, value in items:
        where = (*path, str(key))
        if isinstance(value, str) and _unstorable(value):
            title = _title(schema, list(where))
            found[".".join(where)] = (f"Remove the invisible control character or broken symbol from "
                                      f"'{title or where[-1]}' and try again.")
        elif isinstance(value, (dict, list)):
            found.update(_unstorable_text(schema, value, where))
    return found


def _unstorable(text: str) -> bool:
    return "\x00" in text or not text.isprintable() and _has_lone_surrogate(text)


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


RULES = {"anyOf", "oneOf", "allOf", "not", "if", "then", "else", "dependentRequired", "dependentSchemas"}


def _rule_message(error, schema: dict) -> str:
    """A rule across several answers: its own description, else the questions it concerns."""
    if isinstance(error.schema, dict) and error.schema.get("description"):
        return error.schema["description"]
    rule = error.validator_value if error.validator in {"anyOf", "oneOf", "allOf"} else error.schema
    titles = [schema.get("properties", {}).get(name, {}).get("title", name) for name in _fields_in(rule)]
    if not titles:
        return "These answers do not fit together; check them and try again."
    return "Check these answers together: " + "; ".join(f"'{t}'" for t in titles) + "."


def _fields_in(rule) -> list[str]:
    """Field names a rule mentions (in `properties` or `required`), in order, once each."""
    found: list[str] = []
    if isinstance(rule, dict):
        for name in [*rule.get("properties", {}), *rule.get("required", [])]:
            if name not in found:
                found.append(name)
        for value in rule.values():
            if isinstance(value, (dict, list)):
                found += [n for n in _fields_in(value) if n not in found]
    elif isinstance(rule, list):
        for item in rule:
            found += [n for n in _fields_in(item) if n not in found]
    return found


def _title(schema: dict, path: list[str]) -> str | None:
    return _node(schema, path).get("title")


def _node(schema: dict, path: list[str]) -> dict:
    node = schema
    for part in path:
        if part.isdigit():
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(part, {})
    return node if isinstance(node, dict) else {}


def _missing(error) -> str:
    return error.message.split("'")[1] if "'" in error.message else ""


def _own_message(schema: dict, path: list[str], error) -> str | None:
    """The form's own words for this field (`"x-errors": {"required": "...", "pattern": "..."}`, or one
    text for every error but a missing answer): GOV.UK error messages written per field."""
    node = _node(schema, path + ([_missing(error)] if error.validator == "required" else []))
    own = node.get("x-errors")
    if isinstance(own, dict):
        return own.get(error.validator) or (own.get("invalid") if error.validator != "required" else None)
    if isinstance(own, str) and error.validator != "required":
        return own
    return None


def _type_words(kind) -> str:
    words = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "yes or no",
             "array": "a list", "object": "a group of answers"}
    if isinstance(kind, list):
        return " or ".join(words.get(k, k) for k in kind)
    return words.get(kind, kind)


NAME_QUESTIONS = {"your name", "your full name"}
ROLE_QUESTIONS = {"your role", "your job title", "your job title or role"}


def signed_in_values(specs: list[FieldSpec], user) -> dict:
    """Who is filling in the form comes from the sign-in: their name, and their role where the
    question offers one they hold (or, as text, the roles they hold). Only questions asking "Your
    name" / "Your role" are filled, and only as a starting value the person may change."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    roles = {key for key in user.role_keys if key != "staff"}
    names = dict(db.session.execute(select(Role.key, Role.name).where(Role.key.in_(roles))).all()) if roles else {}
    values = {}
    for spec in specs:
        label = spec.label.strip().rstrip("?").lower()
        if label in NAME_QUESTIONS and spec.widget == "text":
            values[spec.key] = user.display_name
        elif label in ROLE_QUESTIONS and spec.options:
            held = [value for value, _ in spec.options if value in roles]
            if len(held) == 1:
                values[spec.key] = held[0]
        elif label in ROLE_QUESTIONS and spec.widget == "text" and names:
            values[spec.key] = ", ".join(sorted(names.values()))
    return values
