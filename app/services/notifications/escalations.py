"""Escalations reach a person.

The policy (when to remind, when to escalate, to which role, when to go to the director on call)
is in the BPMN. This module does what the diagrams cannot: when an escalation task, or any task of
an on-call role, becomes ready it goes to whoever the rota has on call for the role at that
moment; a gap in the rota leaves it with the role, flagged, and the role's holders and the
administrators are told. (When a reminder timer fires, the timer sweep records a reminder for each
task it guarded, app/services/cases/timers.py, and the fan-out tells their holders.)
"""
from __future__ import annotations

from app import clock
from app.extensions import db
from app.models import Case, HumanTask, TaskRouting, User
from app.services.access import is_about
from app.services.audit import insert_with_events
from app.services.notifications.rota import is_on_call_role, on_call_people
from app.services.people import holdings_of, role_holders_once
from app.services.units import unit_tree

ADMINISTRATOR = "system_administrator"


def needs_a_person(task: HumanTask) -> bool:
    """Escalations, and work for an on-call role (out of hours work that must not wait)."""
    return task.role_key is not None and (task.escalation or is_on_call_role(task.role_key))


def route_new_task(task: HumanTask) -> tuple[dict, dict | None]:
    """Give a new task that must reach a person, before it is written, to whoever is on call for its
    role now: sets its assignee. Returns what its audit event should say (who it went to, or that the
    rota has a gap) and its routing record, for `record_routings` once the task has its id (None when
    it needs none). Does not write."""
    if not needs_a_person(task):
        return {}, None
    case = db.session.get(Case, task.case_id)
    person = next((p for p in on_call_people(task.role_key) if not is_about(p, case) and _holds_for(p, task, case)),
                  None)
    gap = person is None and is_on_call_role(task.role_key)
    if person is None and not gap:
        return {}, None  # an escalation to a role without a rota (the head of safeguarding): the role's holders
    routing = {"role_key": task.role_key, "rota_gap": gap, "routed_at": clock.now(),
               "on_call_user_id": person.id if person else None}
    if gap:
        return {"rota_gap": True}, routing
    task.assignee_id = person.id
    return {"assigned_to": person.display_name, "assigned_to_id": person.id, "on_call": True}, routing


def record_routings(routings: list[dict]) -> None:
    """The routing records of a step's new tasks (each with its `task_id`), in one statement (with the
    step's audit events where the database allows: nothing reads them before the step commits, and the
    people concerned are told after it). Part of the caller's transaction: does not commit."""
    insert_with_events(TaskRouting.__table__, routings)


def _holds_for(person: User, task: HumanTask, case: Case) -> bool:
    """The person on call holds the task's role for the case's unit (each authority, each trust, its own rota)."""
    tree = unit_tree()
    return any(role == task.role_key and tree.covers(unit, case.unit_id) for role, unit in holdings_of(person))


def task_audience(task: HumanTask, rota_gap: bool | None = None, no_holder: bool = False) -> list[tuple[User, str]]:
    """Who is told about a new task, and as what: its assignee (named by the case, or routed from the
    rota), else its role's holders in the unit it went to; plus the administrators when the rota had nobody on call for it (`rota_gap`,
    when the caller knows it from routing the task, else read from the task's routing record)."""
    kind = "escalation" if task.escalation else "task"
    if task.assignee_id is not None:  # routed from the rota: work that must not wait, never held for a digest
        return [(db.session.get(User, task.assignee_id), kind if task.escalation else "on_call")]
    audience = [(user, kind) for user in role_holders_once(task.role_key, task.unit_id)] if task.role_key else []
    if _flagged_gap(task) if rota_gap is None else rota_gap:
        audience += [(user, "rota_gap") for user in role_holders_once(ADMINISTRATOR)]
    if no_holder:
        audience += [(user, "no_holder") for user in role_holders_once(ADMINISTRATOR)]
    return audience


def _flagged_gap(task: HumanTask) -> bool:
    with db.session.no_autoflush:
        routing = db.session.get(TaskRouting, task.id)
    if routing is None:  # added in this step and not flushed yet
        routing = next((obj for obj in db.session.new if isinstance(obj, TaskRouting) and obj.task_id == task.id),
                       None)
    return bool(routing and routing.rota_gap)
