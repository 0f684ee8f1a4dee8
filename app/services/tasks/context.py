"""What a task page shows beside its form, read-only: what the task needs from the case.

Two sources, both declared in the model (bpmn/README.md "What a task page shows"):

- the task's own form's `"readOnly": true` questions, filled from the task's data (the action a
  meeting agreed, on the task that completes it);
- the user task's `context` property: forms (`pipot_referral.schema.json`: the latest answers given
  on that form in this case, with who gave them and when), data fields (`meeting_action`: with who
  agreed it, where and when) and `linked_cases` (the reference, status and outcome of each).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.formkit import AnswerRow, build_specs, describe_answers, read_only_fields, values_from
from app.models import AuditEvent, Case, HumanTask, ProcessInstance, User
from app.services.cases.at_a_glance import DECISIONS, OUTCOMES
from app.services.cases.lifecycle import load_workflow
from app.services.cases.records import linked_cases
from app.services.forms import signed_in_values
from app.services.runtime import model_for_id
from app.workflow import task_data

SHOWN_AT_ONCE = 6  # rows of a block shown before "Show the other answers" (a "No" waits behind them)


@dataclass(frozen=True)
class Source:
    verb: str  # "Given", "Agreed"
    actor: str
    task_title: str
    at: datetime


@dataclass
class ContextBlock:
    title: str
    rows: list[AnswerRow]
    source: Source | None = None  # who gave these answers, in which task, when
    links: list[tuple[str, str]] = field(default_factory=list)  # (reference, words) of linked cases

    @property
    def first_rows(self) -> list[AnswerRow]:
        """A summary: the first answers that say something (a plain "No" is left for the full list)."""
        telling = [row for row in self.rows if row.answer != "No"]
        return telling[:SHOWN_AT_ONCE] if len(self.rows) > SHOWN_AT_ONCE else self.rows

    @property
    def more_rows(self) -> list[AnswerRow]:
        shown = {id(row) for row in self.first_rows}
        return [row for row in self.rows if id(row) not in shown]


def task_context(task: HumanTask, case: Case) -> list[ContextBlock]:
    """The blocks the task page shows above the form, in the order the model declares them."""
    instance = db.session.get(ProcessInstance, task.instance_id)
    forms = instance.definition.forms or {}
    info = model_for_id(instance.definition_id).user_tasks.get(task.bpmn_id)
    entries = list(info.context) if info else []
    own = _schema(forms, task.form_name)
    read_only = read_only_fields(own) if own else {}
    if not entries and not read_only:
        return []
    data = _data(instance, task) if read_only or any(_is_field(e) for e in entries) else {}
    events = _completions(case)
    blocks = [_field_block(key, _richer(prop, _describing(forms, key, data.get(key))), data.get(key), events)
              for key, prop in read_only.items()]
    for entry in entries:
        if entry in read_only:
            continue
        if entry == "linked_cases":
            blocks.append(_linked_block(case))
        elif entry.endswith(".schema.json"):
            blocks.append(_form_block(entry, forms, events))
        else:
            blocks.append(_field_block(entry, _describing(forms, entry, data.get(entry)), data.get(entry), events))
    return [block for block in blocks if block is not None]


def _is_field(entry: str) -> bool:
    return entry != "linked_cases" and not entry.endswith(".schema.json")


def _schema(forms: dict, name: str | None) -> dict | None:
    try:
        document = json.loads(forms[name]) if name and name in forms else None
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _data(instance: ProcessInstance, task: HumanTask) -> dict:
    workflow, _model = load_workflow(instance)
    return task_data(workflow, task.task_uuid)


@dataclass
class _Completion:
    event: AuditEvent
    form_name: str | None
    title: str
    actor: str


def _completions(case: Case) -> list[_Completion]:
    """The case's completed tasks, latest first, with their form and who completed them."""
    rows = db.session.execute(
        select(AuditEvent, HumanTask.form_name, HumanTask.title, User.display_name)
        .join(HumanTask, HumanTask.id == AuditEvent.data["task_id"].as_integer())
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.case_id == case.id, AuditEvent.event_type == "task_completed")
        .order_by(AuditEvent.seq.desc())).all()
    return [_Completion(event, form, title, actor or "Someone") for event, form, title, actor in rows]


def _said_by(completion: _Completion, verb: str = "Given") -> Source:
    return Source(verb, completion.actor, completion.title, completion.event.at)


def _form_block(name: str, forms: dict, events: list[_Completion]) -> ContextBlock | None:
    schema = _schema(forms, name)
    done = next((c for c in events if c.form_name == name), None)
    if schema is None or done is None:
        return None
    answers = (done.event.data or {}).get("answers") or {}
    ui = _schema(forms, name.replace(".schema.json", ".uischema.json")) or {}
    specs = build_specs(schema, ui)
    first = [key for key in LEAD_WITH if key in answers]  # what matters before who filled it in
    rows = [row for key in first for row in describe_answers(specs, {key: answers[key]})]  # in this order
    rows += describe_answers(specs, {key: value for key, value in answers.items() if key not in first})
    return ContextBlock(title=schema.get("title") or done.title, rows=rows, source=_said_by(done))


LEAD_WITH = tuple(dict.fromkeys((
    "subject_name", "subject_known_as", "job_role", "allegation_summary", "allegation_categories",
    "after_authorised_restraint", "harmed_or_at_risk", "immediate_danger", "child_in_immediate_danger",
    "threshold_met", "threshold_rationale", "overall_outcome", "final_outcome", *OUTCOMES, "outcome_rationale",
    "investigation_findings", "recommended_finding")))


def _field_block(key: str, prop: dict | None, value, events: list[_Completion]) -> ContextBlock | None:
    if value in (None, "", [], {}):
        return None
    prop = prop or {}
    title = prop.get("title") or key.replace("_", " ").capitalize()
    if isinstance(value, dict):
        rows = describe_answers(build_specs(prop if prop.get("properties") else {"properties": {}}), value)
    else:
        rows = describe_answers(build_specs({"properties": {key: prop | {"readOnly": False}}}), {key: value})
    agreed = _where_agreed(value, events)
    return ContextBlock(title=title, rows=rows, source=_said_by(agreed, "Agreed") if agreed else None)


def _where_agreed(value, events: list[_Completion]) -> _Completion | None:
    """The latest completed task whose answers hold `value` as an item of a list (a meeting's actions)."""
    if not isinstance(value, dict):
        return None
    for completion in events:
        for answer in ((completion.event.data or {}).get("answers") or {}).values():
            if isinstance(answer, list) and any(_same_item(item, value) for item in answer):
                return completion
    return None


def _same_item(item, value: dict) -> bool:
    return isinstance(item, dict) and bool(item) and all(value.get(k) == v for k, v in item.items())


def _describing(forms: dict, key: str, value) -> dict | None:
    """The schema that describes a data field: for a record, the items of a list question whose items
    carry its keys (the action of a meeting's list of actions, with the names of its options); else
    a question of that name on a form of the process."""
    schemas = [s for s in (_schema(forms, n) for n in sorted(forms) if n.endswith(".schema.json")) if s]
    if isinstance(value, dict) and value:
        for schema in schemas:
            for name, prop in schema.get("properties", {}).items():
                items = prop.get("items") if isinstance(prop, dict) else None
                if isinstance(items, dict) and set(value) <= set(items.get("properties", {})):
                    return items | {"title": items.get("title") or _singular(prop.get("title") or name)}
    for schema in schemas:
        prop = schema.get("properties", {}).get(key)
        if isinstance(prop, dict):
            return prop
    return None


def _richer(prop: dict, described: dict | None) -> dict:
    """The read-only question's own title, with the option names a list's items give its parts."""
    if described and described.get("properties") and prop.get("properties"):
        return described | {"title": prop.get("title") or described.get("title")}
    return prop


def _singular(title: str) -> str:
    return title[:-1] if title.endswith("s") else title


def _linked_block(case: Case) -> ContextBlock:
    links = []
    for other in linked_cases(case):
        state = "closed" if other.status == "closed" else f"open, {other.stage or 'no stage yet'}"
        outcome = (other.outcome or "no outcome yet").replace("_", " ")
        links.append((other.reference, f"{other.pathway.upper()} case: {state}; {outcome}"))
    rows = [] if links else [AnswerRow("Linked cases", "None")]
    return ContextBlock(title="Linked cases", rows=rows, links=links)


@dataclass
class CameBack:
    """An open task that was done before on this case and has come back, and why, in words."""

    sent_by: Source | None  # the task whose completion brought it back
    reasons: list[AnswerRow]
    times: int  # how many times it was done before


def came_back(task: HumanTask, case: Case) -> CameBack | None:
    """Work that comes back (a returned referral, a meeting to re-arrange) says so at the top of the page."""
    if task.status != "open":
        return None
    before = db.session.scalars(select(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.bpmn_id == task.bpmn_id, HumanTask.status == "completed",
        HumanTask.id < task.id)).all()
    if not before:
        return None
    instance = db.session.get(ProcessInstance, task.instance_id)
    forms = instance.definition.forms or {}
    info = model_for_id(instance.definition_id).user_tasks.get(task.bpmn_id)
    sender = next((c for c in _completions(case) if c.event.at <= task.created_at), None)
    answers = (sender.event.data or {}).get("answers") or {} if sender else {}
    entries = list(info.returned) if info else []
    data = _data(instance, task) if any(e.partition("=")[0].strip() not in answers for e in entries) else {}
    reasons = []
    for entry in entries:
        name, _, label = (part.strip() for part in entry.partition("="))
        value = answers.get(name, data.get(name))
        if value in (None, "", [], {}):
            continue
        prop = _describing(forms, name, value) or {}
        title = label or prop.get("title") or name.replace("_", " ").capitalize()
        reasons.append(AnswerRow(title, _words(value, prop)))
    return CameBack(sent_by=_said_by(sender, "Sent back") if sender else None, reasons=reasons, times=len(before))


def _words(value, prop: dict) -> str:
    rows = describe_answers(build_specs({"properties": {"v": prop | {"readOnly": False}}}), {"v": value})
    text = rows[0].answer if rows else str(value)
    if isinstance(value, list) and text == ", ".join(str(v) for v in value):  # keys a script set: said plainly
        text = "; ".join(str(v).replace("_", " ") for v in value)
    return text


def carried_forward(task: HumanTask, case: Case, specs: list, user: User) -> dict:
    """The values a task's form opens with: what the case already knows.

    Work that came back opens with its own last answers; a `recurring` task (an update given again and
    again) with only the answers that property names from its last time. Otherwise each question opens with the latest
    answer of the same name on the case (the outcomes at closure, the actions at an interim meeting), and
    the pairs of the task's `carry` property (the people invited, into attendance). An action's task
    (a multi-instance) opens with nothing of another action's. Who is filling it in comes from the sign-in.
    """
    known, own = known_answers(task, case, specs)
    known.pop(CARRIED_FROM_ELSEWHERE, None)
    zone = current_app.config["CALENDAR_TIMEZONE"]
    values = values_from(specs, known, zone=zone)
    return values | signed_in_values(specs, user) if not own else values


def known_answers(task: HumanTask, case: Case, specs: list) -> tuple[dict, bool]:
    """(the answers the form is opened with, whether they are the task's own earlier answers)."""
    instance = db.session.get(ProcessInstance, task.instance_id)
    model = model_for_id(instance.definition_id)
    info = model.user_tasks.get(task.bpmn_id)
    events = list(reversed(_completions(case)))  # oldest first: the latest answer wins
    own = [c for c in events if c.event.data.get("bpmn_id") == task.bpmn_id and c.event.data.get("task_id") != task.id]
    known: dict = {}
    if own and info and info.recurring:  # new work each time: only what carries on from the last time
        last = (own[-1].event.data or {}).get("answers") or {}
        known, own = {key: last[key] for key in info.recurring if key in last}, []
    elif own:
        known = dict((own[-1].event.data or {}).get("answers") or {})
    elif not (model.loop_items & set(_data(instance, task))):
        done = []  # actions whose tasks are completed: an interim meeting carries forward the outstanding ones
        for completion in events:
            known.update((completion.event.data or {}).get("answers") or {})
            done += [item for item in ((completion.event.data or {}).get("about") or {}).values()]
        for key, value in list(known.items()):
            if isinstance(value, list) and done and any(isinstance(item, dict) and item in done for item in value):
                known[key] = [item for item in value if item not in done]
        for entry in (info.carry if info else ()):
            target, _, source = (part.strip() for part in entry.partition("="))
            if source in known and target not in known:
                known[target] = known[source]
                known.setdefault(CARRIED_FROM_ELSEWHERE, set()).add(target)
    asked = _keys(specs) | {CARRIED_FROM_ELSEWHERE}
    return {key: value for key, value in known.items() if key in asked}, bool(own)


CARRIED_FROM_ELSEWHERE = "__carried__"  # the keys a `carry` pair filled: a starting point, not the same answer


def amendments(task: HumanTask, case: Case, specs: list, answers: dict) -> dict:
    """Answers carried forward from earlier on the case that this submission changes: {key: {from, to}}."""
    known, own = known_answers(task, case, specs)
    if own:
        return {}  # work that came back is expected to change
    elsewhere = known.pop(CARRIED_FROM_ELSEWHERE, set())  # who was invited is not who attended
    return {key: {"from": known[key], "to": answers.get(key)} for key in known
            if key in AMENDABLE and key not in elsewhere and key in answers and answers[key] != known[key]}


# Facts of the case whose change, once recorded, is an amendment (an outcome, a decision, who the case
# is about, what is alleged); a meeting's actions or its next date change as a matter of course.
AMENDABLE = frozenset(OUTCOMES + DECISIONS + ("subject_name", "subject_known_as", "subject_date_of_birth",
                                             "allegation_summary", "incident_date"))


def _keys(specs: list) -> set[str]:
    return {key for spec in specs for key in (spec.key, *_keys(spec.revealed()))}
