"""Deploy validation: every reason a model cannot be deployed, each pinned to an element."""
from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from jsonschema import Draft202012Validator, SchemaError
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.workflow.definition import DefinitionError, Problem, ProcessModel, read_process
from app.workflow.sandbox import ALLOWED_BUILTINS, check_source, trial_evaluate

FormLoader = Callable[[str], "str | None"]


def validate_process(bpmn: bytes, filename: str, *, load_form: FormLoader, role_names: set[str],
                     helpers: Mapping, max_bytes: int) -> tuple[ProcessModel | None, list[Problem]]:
    """Read and check a BPMN file; returns the model (None when unreadable) and every problem.

    `role_names` holds the role keys and names, lower-cased; `load_form(name)` returns a form's
    text or None when it does not exist.
    """
    try:
        model = read_process(bpmn, filename, max_bytes=max_bytes)
    except DefinitionError as err:
        return None, err.problems
    problems = [
        *_reserved_id_problems(model),
        *_lane_problems(model, role_names),
        *_form_problems(model, load_form),
        *_expression_problems(model),
        *_assignee_problems(model, load_form),
        *_context_problems(model, load_form),
        *_returned_problems(model, load_form),
        *_carry_problems(model, load_form),
        *_timer_problems(model, helpers),
    ]
    return model, problems


RESERVED_IDS = {"Start", "End", "Root"}


def _reserved_id_problems(model: ProcessModel):
    for element_id in sorted(RESERVED_IDS & set(model.element_names)):
        yield Problem(model.filename, element_id,
                      f"The id '{element_id}' is reserved by the workflow engine; rename the element "
                      f"(for example '{element_id}Event_1').")


def _lane_problems(model: ProcessModel, role_names: set[str]):
    for lane_id, name in model.lanes.items():
        if name.lower() not in role_names:
            yield Problem(model.filename, lane_id,
                          f"Lane '{name}' is not a role. Name the lane after a role in the role table.")
    for task in model.user_tasks.values():
        if not task.lane:
            yield Problem(model.filename, task.bpmn_id,
                          f"User task '{task.name}' is not in a lane, so nobody would be given it.")


def _form_problems(model: ProcessModel, load_form: FormLoader):
    checked: dict[str, str | None] = {}
    for task in model.user_tasks.values():
        if not task.form:
            yield Problem(model.filename, task.bpmn_id,
                          f"User task '{task.name}' names no form (property formJsonSchemaFilename).")
        for name in (task.form, task.ui_form):
            if not name:
                continue
            if name not in checked:
                checked[name] = _form_problem(name, load_form)
            if checked[name]:
                yield Problem(model.filename, task.bpmn_id, checked[name])


def _form_problem(name: str, load_form: FormLoader) -> str | None:
    text = load_form(name)
    if text is None:
        return f"Form '{name}' does not exist in forms/."
    try:
        document = json.loads(text)
    except ValueError as err:
        return f"Form '{name}' is not valid JSON: {err}."
    if name.endswith(".uischema.json"):
        return None if isinstance(document, dict) else f"UI schema '{name}' must be a JSON object."
    try:
        Draft202012Validator.check_schema(document)
    except SchemaError as err:
        return f"Form '{name}' is not a valid JSON Schema: {err.message}."
    return None


def _assignee_problems(model: ProcessModel, load_form: FormLoader):
    """An `assignee` reads the case data: each name it uses must be asked by a person question
    (`"format": "person"`) on a form of this process, so that it can only ever name a person."""
    asked = _person_questions(model, load_form)
    for task in model.user_tasks.values():
        if not task.assignee_expression:
            continue
        try:
            names = {node.id for node in ast.walk(ast.parse(task.assignee_expression, mode="eval"))
                     if isinstance(node, ast.Name)}
        except SyntaxError:
            continue  # reported with the other expressions
        for name in sorted(names - asked - set(ALLOWED_BUILTINS)):
            yield Problem(model.filename, task.bpmn_id,
                          f"assignee: '{name}' is not a person question (\"format\": \"person\") on any form of "
                          "this process, so it cannot name who does this task.")


CONTEXT_SPECIAL = {"linked_cases"}


def _context_problems(model: ProcessModel, load_form: FormLoader):
    """Each entry of a task's `context` must be something the case can have: a form a task of this
    process asks, a question on one of its forms, the item of a multi-instance, or `linked_cases`."""
    questions = _questions(model, load_form)
    for task in model.user_tasks.values():
        for entry in task.context:
            if entry in CONTEXT_SPECIAL:
                continue
            if entry.endswith(".schema.json"):
                if entry not in model.form_names:
                    yield Problem(model.filename, task.bpmn_id,
                                  f"context: no task of this process asks the form '{entry}', so there are no "
                                  "answers of it to show.")
            elif entry not in questions and entry not in model.loop_items:
                yield Problem(model.filename, task.bpmn_id,
                              f"context: '{entry}' is not a question on any form of this process nor the item of "
                              "a multi-instance, so there is nothing to show. Name a form "
                              "(name.schema.json), a question, or linked_cases.")


def _returned_problems(model: ProcessModel, load_form: FormLoader):
    """Each field a task's `returned` names must be a question on a form of this process or set by one
    of its scripts, so that there is something to say when the task comes back."""
    known = _questions(model, load_form) | _script_assigned(model)
    for task in model.user_tasks.values():
        for entry in task.returned:
            name = entry.partition("=")[0].strip()
            if name not in known:
                yield Problem(model.filename, task.bpmn_id,
                              f"returned: '{name}' is not a question on any form of this process nor set by one "
                              "of its scripts, so it cannot say why the task came back.")


def _carry_problems(model: ProcessModel, load_form: FormLoader):
    """`carry` pairs a question of the task's form with an earlier answer: both must be questions."""
    questions = _questions(model, load_form)
    for task in model.user_tasks.values():
        for entry in task.carry:
            target, _, source = (part.strip() for part in entry.partition("="))
            for name in (target, source):
                if not name or name not in questions:
                    yield Problem(model.filename, task.bpmn_id,
                                  f"carry: '{entry}' must be question=earlier_question, both questions on forms "
                                  "of this process.")
                    break


def _script_assigned(model: ProcessModel) -> set[str]:
    names = set()
    for expression in model.expressions:
        if expression.mode == "exec":
            names |= set(re.findall(r"^\s*([A-Za-z_]\w*)\s*=(?!=)", expression.source, flags=re.MULTILINE))
    return names


def _questions(model: ProcessModel, load_form: FormLoader) -> set[str]:
    asked = set()
    for properties in _form_properties(model, load_form):
        asked |= set(properties)
    return asked


def _person_questions(model: ProcessModel, load_form: FormLoader) -> set[str]:
    asked = set()
    for properties in _form_properties(model, load_form):
        asked |= _person_keys(properties)
        for prop in properties.values():  # a person question inside a repeating group (an agreed action's owner)
            items = prop.get("items") if isinstance(prop, dict) else None
            if isinstance(items, dict) and isinstance(items.get("properties"), dict):
                asked |= _person_keys(items["properties"])
    return asked


def _form_properties(model: ProcessModel, load_form: FormLoader):
    """The top-level questions of each of the model's forms that can be read (the others are reported
    with the other form problems)."""
    for name in model.form_names:
        try:
            document = json.loads(load_form(name) or "{}")
        except ValueError:
            continue
        if isinstance(document, dict) and isinstance(document.get("properties"), dict):
            yield document["properties"]


def _person_keys(properties: dict) -> set[str]:
    return {key for key, prop in properties.items() if isinstance(prop, dict) and prop.get("format") == "person"}


def _expression_problems(model: ProcessModel):
    for expression in model.expressions:
        for message in check_source(expression.source, expression.mode):
            yield Problem(model.filename, expression.element_id, f"{expression.what}: {message}")


_UNQUOTED_LITERAL = re.compile(r"R?\d*/?P[\dT][\w.,/:-]*|\d{4}-\d\d-\d\d[\w.:+-]*")


class _SampleValue(str):
    """A sample field value: a time as ISO 8601 text that also reads as a number of days or hours,
    so `working_days_after(received_at, review_cycle_days)` can be tried."""

    def __int__(self):
        return 20

    def __float__(self):
        return 20.0

    def __index__(self):
        return 20

    def __neg__(self):  # `hours_after(deadline, -reminder_hours)`
        return -20

    def __getitem__(self, key):  # a record, such as the item of a multi-instance: `action["due_date"]`
        return self if isinstance(key, str) else str.__getitem__(self, key)


class _SampleData(dict):
    """Case data for a trial evaluation: any field the expression reads holds a sample value
    (helpers and builtins are looked up in the globals as usual)."""

    def __init__(self, reserved):
        super().__init__()
        self.reserved = set(reserved)

    def __missing__(self, key):
        if key in self.reserved or key.startswith("_"):  # helpers, builtins and the sandbox's guards
            raise KeyError(key)
        return _SampleValue(datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc).isoformat())


def _timer_problems(model: ProcessModel, helpers: Mapping):
    for timer in model.timers.values():
        message = _timer_problem(timer.kind, timer.expression, helpers)
        if message:
            yield Problem(model.filename, timer.bpmn_id, f"Timer '{timer.name}': {message}")


def _timer_problem(kind: str, expression: str, helpers: Mapping) -> str | None:
    if not expression:
        return "the timer has no expression."
    if _UNQUOTED_LITERAL.fullmatch(expression):
        return f'the expression is evaluated as Python: quote a literal value ("{expression}", not {expression}).'
    unsafe = check_source(expression, "eval")
    if unsafe:
        return "; ".join(unsafe)
    try:
        value = trial_evaluate(expression, dict(helpers), _SampleData({*helpers, *ALLOWED_BUILTINS}))
    except Exception as err:
        return f"the expression does not evaluate ({err.__class__.__name__}: {err})."
    return _timer_value_problem(kind, value)


def _timer_value_problem(kind: str, value) -> str | None:
    if not isinstance(value, str):
        hint = ' Quote a literal duration: "P3D", not P3D.' if kind == "timeDuration" else ""
        return f"the expression gives {type(value).__name__}, not ISO 8601 text.{hint}"
    try:
        if kind == "timeDate":
            parsed = TimerEventDefinition.parse_time_or_duration(value)
            if not isinstance(parsed, datetime):
                return f"'{value}' is a duration; a timeDate needs a date and time."
        elif kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        else:
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception:
        return f"'{value}' is not a valid ISO 8601 {kind[4:].lower()}."
    return None
