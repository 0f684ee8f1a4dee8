"""Runs a scenario file (tests/scenarios/<pathway>/<route>.json) through the application's services.

Used by the test suite (tests/scenarios/) and by the deploy-time scenario check (`flask scenario-check`,
run in a process of its own because time-machine moves the clock of the whole process).

A scenario is data, so process owners can read it and the same routes can be replayed against a
candidate version of a model. Steps, in order:

  {"at": "2026-11-23T10:00:00+00:00"}                       set the clock (scenarios start here)
  {"start": {"as": "staff", "answers": {...}}}              open a case; answers complete the first form
  {"complete": "Task_triage", "as": "triage_panel", "answers": {...}}
                                                            the open task with that BPMN id (the oldest, if
                                                            several are open), done by a user holding that
                                                            role (must be the task's role)
  {"expect_open": {"Task_triage": "triage_panel"}}          exactly these open tasks (BPMN id -> role)
  {"expect_open_count": {"Task_action_x": 2}}               how many open tasks have that BPMN id (one per
                                                            instance of a multi-instance task)
  {"expect_due": {"Task_arrange_meeting": "2026-11-27T17:00:00+00:00"}}
                                                            the open task's due time (UTC), or null for none
  {"expect_assigned": {"Task_x": ["scenario-reporting_manager", null]}}
                                                            who each open task with that BPMN id is assigned to
                                                            (oldest first; null: its role, nobody in particular)
  {"advance": {"hours": 2}} / {"advance": {"working_days": 3}} / {"advance_to": "<ISO>"}
                                                            move the clock, then run a timer sweep
  {"expect_case": {"status": "closed", "outcome": "complaint", "stage": "..."}}
  {"expect_data": {"quorate": false}}                       values in the case's workflow data
  {"expect_events": {"timer_fired": 1, "escalation_raised": 1}}   counts of audit events on the case
  {"expect_linked": {"pathway": "lado", "open": {"Task_x": "lado"}}}   a linked case exists (and its tasks)
  {"switch_to_linked": "lado"}                              later steps act on the linked case
  {"expect_error": {"complete": ..., "as": ..., "answers": ..., "fields": ["field"]}}
                                                            answers refused with these fields in error
  {"expect_start_error": {"as": "staff", "answers": {...}, "fields": ["field"]}}
                                                            a start refused with these fields in error;
                                                            no case is opened
  {"expect_error_message": {"complete": ..., "as": ..., "answers": ..., "field": "",
                            "contains": ["..."], "not_contains": ["..."]}}
                                                            answers refused with an error on that field
                                                            ("" for the whole form) whose message says, or
                                                            does not say, these words

A scenario with a top-level "known_defect" (what is wrong, in words) reproduces a defect that is not fixed
yet: the test suite reports it as an expected failure while one of its expectations fails, and fails once
they all pass (then remove "known_defect"); the scenario check counts it as passed while it still fails.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import time_machine
from sqlalchemy import func, select

from app import clock
from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import AuditEvent, Case, HumanTask, User
from app.services import definitions, people
from app.services.cases import lifecycle, records
from app.services.cases.timers import sweep_timers
from app.services.errors import ValidationFailed
from app.services.runtime import get_calendar
from app.services.tasks import human_tasks
from app.workflow import snapshot

ROOT = PROJECT_ROOT


@dataclass(frozen=True)
class Candidate:
    """A model to run the scenarios of its pathway against, instead of bpmn/<pathway>.bpmn."""

    process_key: str
    bpmn: bytes
    filename: str
    forms_dir: str


@dataclass
class ScenarioRun:
    pathway: str
    traveller: object
    case: Case | None = None
    users: dict[str, User] = field(default_factory=dict)
    # the cases there before the run: its clock moves, but only its own cases' timers fire
    cases_before: int = field(default_factory=lambda: db.session.scalar(select(func.max(Case.id))) or 0)

    def user(self, role: str) -> User:
        if role not in self.users:
            name = f"scenario-{role}"
            self.users[role] = (people.get_user(name) if people.user_exists(name)
                                else people.create_user(name, f"Scenario {role}", sorted({role, "staff"})))
        return self.users[role]


def load_scenario(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def deploy_pathway(scenario: dict, candidate: Candidate | None = None) -> None:
    """Deploy the scenario's pathway (the candidate, when it is that pathway) and any others it needs."""
    model = ROOT / scenario.get("model", f"bpmn/{scenario['pathway']}.bpmn")
    forms = ROOT / scenario.get("forms", "forms")
    people.seed_roles()
    for extra in scenario.get("also_deploy", []):
        extra_path = ROOT / extra
        definitions.deploy_definition(extra_path.read_bytes(), extra_path.name,
                                      load_form=definitions.forms_dir_loader(str(forms)))
    if candidate is not None and candidate.process_key == scenario["pathway"]:
        definitions.deploy_definition(candidate.bpmn, candidate.filename,
                                      load_form=definitions.forms_dir_loader(candidate.forms_dir))
        return
    definitions.deploy_definition(model.read_bytes(), model.name,
                                  load_form=definitions.forms_dir_loader(str(forms)))


def run_steps(scenario: dict, candidate: Candidate | None = None) -> ScenarioRun:
    """Deploy the pathway, then run every step; an expectation not met raises AssertionError."""
    deploy_pathway(scenario, candidate)
    steps = scenario["steps"]
    start_at = steps[0].get("at") if steps and "at" in steps[0] else "2026-11-23T10:00:00+00:00"
    with time_machine.travel(datetime.fromisoformat(start_at), tick=False) as traveller:
        run = ScenarioRun(pathway=scenario["pathway"], traveller=traveller)
        for number, step in enumerate(steps, 1):
            try:
                _run_step(run, step)
            except AssertionError as err:
                raise AssertionError(f"step {number} {json.dumps(step)[:200]}: {err}") from None
    return run


def _run_step(run: ScenarioRun, step: dict) -> None:
    for key, handler in _HANDLERS.items():
        if key in step:
            handler(run, step)
            return
    raise AssertionError(f"unknown step {step}")


def _at(run: ScenarioRun, step: dict) -> None:
    run.traveller.move_to(datetime.fromisoformat(step["at"]))


def _start(run: ScenarioRun, step: dict) -> None:
    spec = step["start"]
    run.case = lifecycle.start_case(run.pathway, spec.get("answers"), run.user(spec.get("as", "staff")))


def _open_task(run: ScenarioRun, bpmn_id: str) -> HumanTask:
    open_tasks = _open(run.case)
    matches = [t for t in open_tasks if t.bpmn_id == bpmn_id]
    assert matches, f"no open task {bpmn_id}; open: {sorted(t.bpmn_id for t in open_tasks)}"
    return matches[0]


def _complete(run: ScenarioRun, step: dict) -> None:
    task = _open_task(run, step["complete"])
    assert task.role_key == step["as"], f"{task.bpmn_id} is for {task.role_key}, not {step['as']}"
    human_tasks.complete_task(task.id, run.user(step["as"]), step.get("answers", {}))


def _expect_error(run: ScenarioRun, step: dict) -> None:
    spec = step["expect_error"]
    task = _open_task(run, spec["complete"])
    try:
        human_tasks.complete_task(task.id, run.user(spec["as"]), spec.get("answers", {}))
    except ValidationFailed as err:
        assert set(spec["fields"]) <= set(err.errors), f"errors were {err.errors}"
        return
    raise AssertionError("the answers were accepted")


def _expect_start_error(run: ScenarioRun, step: dict) -> None:
    spec = step["expect_start_error"]
    before = db.session.scalar(select(func.count()).select_from(Case))
    try:
        lifecycle.start_case(run.pathway, spec.get("answers"), run.user(spec.get("as", "staff")))
    except ValidationFailed as err:
        assert set(spec["fields"]) <= set(err.errors), f"errors were {err.errors}"
        assert db.session.scalar(select(func.count()).select_from(Case)) == before, "a case was opened"
        return
    raise AssertionError("the answers were accepted")


def _expect_error_message(run: ScenarioRun, step: dict) -> None:
    spec = step["expect_error_message"]
    task = _open_task(run, spec["complete"])
    try:
        human_tasks.complete_task(task.id, run.user(spec["as"]), spec.get("answers", {}))
    except ValidationFailed as err:
        message = err.errors.get(spec["field"])
        assert message is not None, f"errors were {err.errors}"
        for text in spec.get("contains", []):
            assert text in message, f"the message {message!r} does not say {text!r}"
        for text in spec.get("not_contains", []):
            assert text not in message, f"the message {message!r} says {text!r}"
        return
    raise AssertionError("the answers were accepted")


def _open(case: Case) -> list[HumanTask]:
    """Open tasks, oldest first (of several instances of one task, `complete` takes the oldest)."""
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id,
                                                      HumanTask.status == "open").order_by(HumanTask.id)).all()


def _expect_open(run: ScenarioRun, step: dict) -> None:
    found = {t.bpmn_id: t.role_key for t in _open(run.case)}
    assert found == step["expect_open"], f"open tasks {found}"


def _expect_open_count(run: ScenarioRun, step: dict) -> None:
    open_tasks = _open(run.case)
    for bpmn_id, expected in step["expect_open_count"].items():
        found = sum(1 for t in open_tasks if t.bpmn_id == bpmn_id)
        assert found == expected, f"{found} open {bpmn_id} tasks, expected {expected}"


def _expect_due(run: ScenarioRun, step: dict) -> None:
    for bpmn_id, expected in step["expect_due"].items():
        due = _open_task(run, bpmn_id).due_at
        actual = None if due is None else (due if due.tzinfo else due.replace(tzinfo=timezone.utc))
        wanted = None if expected is None else datetime.fromisoformat(expected)
        assert actual == wanted, f"{bpmn_id} is due {actual.isoformat() if actual else None}, expected {expected}"


def _expect_assigned(run: ScenarioRun, step: dict) -> None:
    names = {user.id: user.username for user in db.session.scalars(select(User))}
    for bpmn_id, expected in step["expect_assigned"].items():
        found = [names.get(t.assignee_id) for t in _open(run.case) if t.bpmn_id == bpmn_id]
        assert found == expected, f"{bpmn_id} is assigned to {found}, expected {expected}"


def _advance(run: ScenarioRun, step: dict) -> None:
    if "advance_to" in step:
        target = datetime.fromisoformat(step["advance_to"])
    elif "working_days" in step["advance"]:
        target = get_calendar().working_days_after(clock.now(), step["advance"]["working_days"]) + timedelta(minutes=1)
    else:
        target = clock.now() + timedelta(**step["advance"])
    run.traveller.move_to(target)
    sweep_timers("scenario", cases_after=run.cases_before)
    db.session.expire_all()


def _expect_case(run: ScenarioRun, step: dict) -> None:
    db.session.refresh(run.case)
    for name, expected in step["expect_case"].items():
        actual = getattr(run.case, name)
        assert actual == expected, f"case {name} is {actual!r}, expected {expected!r}"


def _expect_data(run: ScenarioRun, step: dict) -> None:
    db.session.refresh(run.case)
    workflow, model = lifecycle.load_workflow(run.case.instance)
    data = snapshot(workflow, model).data
    for name, expected in step["expect_data"].items():
        assert data.get(name) == expected, f"data {name} is {data.get(name)!r}, expected {expected!r}"


def _expect_events(run: ScenarioRun, step: dict) -> None:
    counts = dict(db.session.execute(
        select(AuditEvent.event_type, func.count()).where(AuditEvent.case_id == run.case.id)
        .group_by(AuditEvent.event_type)).all())
    for event_type, expected in step["expect_events"].items():
        assert counts.get(event_type, 0) == expected, f"{event_type}: {counts.get(event_type, 0)} events"


def _linked(run: ScenarioRun, pathway: str) -> Case:
    linked = [c for c in records.linked_cases(run.case) if c.pathway == pathway]
    assert linked, f"no linked {pathway} case"
    return linked[0]


def _expect_linked(run: ScenarioRun, step: dict) -> None:
    spec = step["expect_linked"]
    linked = _linked(run, spec["pathway"])
    if "open" in spec:
        found = {t.bpmn_id: t.role_key for t in _open(linked)}
        assert found == spec["open"], f"linked case open tasks {found}"


def _switch_to_linked(run: ScenarioRun, step: dict) -> None:
    run.case = _linked(run, step["switch_to_linked"])
    run.pathway = run.case.pathway


_HANDLERS = {
    "at": _at, "start": _start, "complete": _complete, "expect_error": _expect_error,
    "expect_start_error": _expect_start_error,
    "expect_error_message": _expect_error_message,
    "expect_open": _expect_open, "expect_open_count": _expect_open_count, "expect_due": _expect_due,
    "expect_assigned": _expect_assigned,
    "advance": _advance, "advance_to": _advance, "expect_case": _expect_case,
    "expect_data": _expect_data, "expect_events": _expect_events, "expect_linked": _expect_linked,
    "switch_to_linked": _switch_to_linked,
}
