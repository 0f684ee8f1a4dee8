"""Keeping the projections (human tasks, timers, the case record) in step with a workflow.

Called inside the transaction that saves the workflow; every change it makes is audited.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select, update

from app import clock
from app.extensions import db
from app.models import Case, HumanTask, ProcessInstance, Timer, User
from app.services.access import is_about
from app.services.audit import record_event
from app.services.cases.facts import update_reporting_projection
from app.services.errors import Conflict
from app.services.notifications.escalations import route_new_task
from app.services.notifications.notify import notify_stage, notify_task_ready
from app.services.people import active_user, holding_unit, role_holders, role_lookup, staff_number_key
from app.services.units import unit_tree
from app.workflow import ReadyTask, Snapshot, WaitingTimer

CASE_FIELDS = ("subject_name", "subject_known_as", "subject_staff_number")
UNIT_FIELD = "case_unit"  # a form field of this name (a unit key) places the case in that unit


class StaleInstance(Conflict):
    """The instance changed after it was read (another completion or a timer won)."""


def save_state(instance: ProcessInstance, state: str, completed: bool, expected_version: int) -> None:
    """Write the workflow state if nobody else has since `expected_version` was read."""
    result = db.session.execute(
        update(ProcessInstance)
        .where(ProcessInstance.id == instance.id, ProcessInstance.version == expected_version)
        .values(state=state, version=expected_version + 1, completed=completed, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleInstance("This case changed while you were working on it. Reload it and try again.")
    db.session.expire(instance)


def apply_snapshot(case: Case, snap: Snapshot, *, actor: User | None,
                   state_of: Callable[[str], str | None]) -> None:
    """Bring tasks, timers and the case record into line with `snap`; audit every change. The case's
    unit and subject come first: who a new task goes to depends on them."""
    _sync_people(case, snap.data)
    _sync_tasks(case, snap.ready_tasks, actor)
    _sync_timers(case, snap.timers, actor, state_of)
    _sync_case(case, snap, actor)
    update_reporting_projection(case, snap.data)


def _sync_tasks(case: Case, ready: list[ReadyTask], actor: User | None) -> None:
    open_rows = {row.task_uuid: row for row in db.session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open"))}
    wanted = {task.task_uuid: task for task in ready}
    now = clock.now()
    for uuid, row in open_rows.items():
        if uuid not in wanted:
            row.status, row.completed_at = "cancelled", now
            record_event("task_cancelled", case_id=case.id, actor=actor,
                         data={"task": row.title, "task_id": row.id, "bpmn_id": row.bpmn_id})
    roles = role_lookup()
    for uuid, task in wanted.items():
        if uuid in open_rows:
            open_rows[uuid].due_at = task.due_at
        else:
            _add_task(case, task, roles, now, actor)


def _add_task(case: Case, task: ReadyTask, roles: dict[str, str], now, actor: User | None) -> None:
    role_key = roles.get((task.lane or "").lower())
    row = HumanTask(
        instance_id=case.instance_id, case_id=case.id, pathway=case.pathway, task_uuid=task.task_uuid,
        bpmn_id=task.bpmn_id, title=task.title, role_key=role_key, lane=task.lane,
        unit_id=holding_unit(role_key, case.unit_id) if role_key else None,
        form_name=task.form, ui_form_name=task.ui_form, instructions=task.instructions,
        escalation=task.escalation, created_at=now, due_at=task.due_at, status="open",
    )
    db.session.add(row)
    db.session.flush()
    routing = _named_person(case, row, task.assignee)
    if not routing.get("named"):
        routing |= route_new_task(row)
    if (row.role_key and row.assignee_id is None and not routing.get("rota_gap")  # a gap already tells them
            and not role_holders(row.role_key, row.unit_id)):
        routing["nobody_holds_role"] = True  # the administrators are told: give someone the role there
    data = {"task": row.title, "task_id": row.id, "bpmn_id": row.bpmn_id, "role": row.role_key,
            "due_at": task.due_at, **routing}
    record_event("escalation_raised" if task.escalation else "task_ready", case_id=case.id,
                 actor=actor, data=data)
    notify_task_ready(row, rota_gap=bool(routing.get("rota_gap")), no_holder=bool(routing.get("nobody_holds_role")))


def _named_person(case: Case, row: HumanTask, username: str | None) -> dict:
    """Give the task to the person the model names from the case data (the manager the concern was
    raised with, the investigation manager appointed...), if they can take it: an active account that
    is not the subject of the case. Otherwise it stays with its lane's role."""
    person = active_user(username) if username else None
    if person is None or is_about(person, case):
        return {"named_person_unavailable": True} if username else {}
    row.assignee_id = person.id
    return {"assigned_to": person.display_name, "assigned_to_id": person.id, "named": True}


def _sync_timers(case: Case, waiting: list[WaitingTimer], actor: User | None,
                 state_of: Callable[[str], str | None]) -> None:
    rows = {row.task_uuid: row for row in db.session.scalars(
        select(Timer).where(Timer.case_id == case.id, Timer.status == "waiting"))}
    wanted = {timer.task_uuid: timer for timer in waiting}
    now = clock.now()
    for uuid, row in rows.items():
        if uuid not in wanted:
            _close_timer(case, row, state_of(uuid), now, actor)
    for uuid, timer in wanted.items():
        row = rows.get(uuid)
        if row is None:
            db.session.add(Timer(
                instance_id=case.instance_id, case_id=case.id, task_uuid=uuid, bpmn_id=timer.bpmn_id,
                name=timer.name, guards=timer.guards, interrupting=timer.interrupting,
                due_at=timer.due_at, status="waiting", created_at=now))
            record_event("timer_started", case_id=case.id, actor=actor, data={
                "timer": timer.name, "bpmn_id": timer.bpmn_id, "guards": timer.guards, "due_at": timer.due_at})
        elif row.due_at != timer.due_at:  # a cycle timer moved on to its next occurrence
            row.due_at, row.claimed_by, row.claim_expires_at = timer.due_at, None, None


def _close_timer(case: Case, row: Timer, spiff_state: str | None, now, actor: User | None) -> None:
    fired = spiff_state == "COMPLETED"
    row.status = "fired" if fired else "cancelled"
    row.fired_at = now if fired else None
    row.claimed_by = row.claim_expires_at = None
    record_event("timer_fired" if fired else "timer_cancelled", case_id=case.id, actor=actor, data={
        "timer_id": row.id, "timer": row.name, "bpmn_id": row.bpmn_id, "guards": row.guards, "due_at": row.due_at,
        "interrupting": row.interrupting})


def _sync_people(case: Case, data: dict) -> None:
    """The subject (with the staff-number key need to know compares) and the unit the answers name."""
    for field in CASE_FIELDS:
        if isinstance(data.get(field), str):
            setattr(case, field, data[field][:200])
    case.subject_staff_number_key = staff_number_key(case.subject_staff_number)
    unit = unit_tree().by_key.get(data.get(UNIT_FIELD)) if isinstance(data.get(UNIT_FIELD), str) else None
    if unit is not None:
        case.unit_id = unit.id


def _sync_case(case: Case, snap: Snapshot, actor: User | None) -> None:
    data = snap.data
    case.subject_date_of_birth = _date(data.get("subject_date_of_birth")) or case.subject_date_of_birth
    if isinstance(data.get("case_stage"), str):
        if case.stage and case.stage != data["case_stage"][:200]:
            _tell_watchers(case, data["case_stage"][:200], data.get("stage_watchers"))
        case.stage = data["case_stage"][:200]
    if isinstance(data.get("outcome"), str):
        case.outcome = data["outcome"][:60]
    case.out_of_hours = bool(data.get("out_of_hours", case.out_of_hours))
    case.key_dates = {k: v for k, v in data.items() if k.endswith("_at") and isinstance(v, str)}
    if snap.completed and case.status != "closed":
        case.status, case.closed_at = "closed", clock.now()
        record_event("case_closed", case_id=case.id, actor=actor, data={"outcome": case.outcome})


def _tell_watchers(case: Case, stage: str, watchers) -> None:
    """The roles a model names in `stage_watchers` (the PiPoT head of safeguarding, seed 003 5.1: notified
    and consulted at every stage) hear of each new stage: the holders in the nearest unit that has them."""
    if not isinstance(watchers, list):
        return
    for role in (r for r in watchers if isinstance(r, str)):
        notify_stage(case, stage, role_holders(role, holding_unit(role, case.unit_id)))


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None
