"""Keeping the projections (human tasks, timers, the case record) in step with a workflow.

Called inside the transaction that saves the workflow; every change it makes is audited.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Boolean, Integer, String, bindparam, cast, literal_column, null, select, true, union_all
from sqlalchemy.orm.attributes import set_committed_value

from app import clock, direct
from app.db import plain_row, refuse_clashes, transaction_cache, write_changes, written_in_transaction
from app.extensions import db
from app.models import Case, HumanTask, ProcessInstance, Timer, User
from app.services.access import is_about
from app.services.audit import chain_end, know_chain_end, record_event, stream_for, write_with_events
from app.services.cases.counts import count_key, move_count
from app.services.cases.dashboard_counts import OpenTask, marks_of, move_marks
from app.services.cases.facts import YES, update_reporting_projection
from app.services.cases.timer_rows import record_fired_unseen, sync_timers
from app.services.errors import Conflict
from app.services.notifications import fanout
from app.services.notifications.escalations import record_routings, route_new_task
from app.services.notifications.fanout import insert_tasks_ready, record_stage_change
from app.services.people import (
    active_user,
    holding_unit_and_held,
    role_lookup,
    staff_number_key,
)
from app.services.units import unit_tree
from app.workflow import ReadyTask, Snapshot

CASE_FIELDS = ("subject_name", "subject_known_as", "subject_staff_number")
UNIT_FIELD = "case_unit"  # a form field of this name (a unit key) places the case in that unit


class StaleInstance(Conflict):
    """The instance changed after it was read (another completion or a timer won)."""


_INSTANCE = ProcessInstance.__table__


def _save_statement(*also):
    """The versioned UPDATE of the state, RETURNING where the case's audit chain ends (and `also`),
    read after the case's lock (taken by the step's first query, or by `lock_case` before this
    statement), so that the step's events need no read of it. Built afresh for each use: SQLAlchemy
    remembers the columns a statement returns, and a copy made by adding to its RETURNING keeps those
    of the statement it was copied from."""
    return (_INSTANCE.update()
            .where(_INSTANCE.c.id == bindparam("saved_instance"), _INSTANCE.c.version == bindparam("expected"))
            .values(state=bindparam("new_state"), version=bindparam("new_version"),
                    completed=bindparam("is_completed"), updated_at=bindparam("now"))
            .returning(*chain_end(), *also))


_SAVE_STATE = _save_statement()


def save_state(instance: ProcessInstance, state: str, completed: bool, expected_version: int, case_id: int,
               along: tuple | None = None, new_tasks: int = 0):
    """Write the workflow state if nobody else has since `expected_version` was read; learn where the
    case's audit chain ends. The caller holds the case's lock.

    `along`: (an UPDATE of one row of another table RETURNING one column, its parameters), a write the
    step makes anyway (a completion closing its task). On PostgreSQL it rides in the same statement, a
    data-modifying WITH (one round trip); elsewhere it is the statement after. Returns its RETURNING
    value, None when it matched no row (the caller decides what that means).

    On PostgreSQL the same statement also reads the case's open tasks and waiting timers for the
    projection that follows (`_open_work`), leaving out a task `along` has just closed, and takes ids
    for up to `new_tasks` new tasks and their ready rows (`fanout.keep_ids_for_new_tasks`)."""
    params = {"saved_instance": instance.id, "expected": expected_version, "new_state": state,
              "new_version": expected_version + 1, "is_completed": completed, "now": clock.now(),
              "stream": stream_for(case_id)}
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        rows = direct.execute(db.session, _saving_reading(along[0] if along else None),
                              params | {"work_case": case_id, fanout.NEW_TASKS: new_tasks} | (along[1] if along else {}))
        saved = rows[0] if rows else None
        if saved is not None:
            fanout.keep_ids_for_new_tasks(case_id, saved.task_ids or [], saved.event_ids or [])
        ridden = saved.along if saved is not None and along is not None else None
        closed = ridden if along is not None and along[0].table is _TASKS else None
        transaction_cache(db.session)[_WORK_READ] = (case_id, [
            row for row in rows if row.kind is not None and not (row.kind == "task" and row.id == closed)])
    else:
        saved = next(iter(direct.execute(db.session, _SAVE_STATE, params)), None)
    if saved is None:
        raise StaleInstance("This case changed while you were working on it. Reload it and try again.")
    know_chain_end(case_id, saved.chain_seq, saved.chain_hash)
    for key, value in (("state", state), ("version", expected_version + 1), ("completed", completed)):
        set_committed_value(instance, key, value)  # what was written, known without reading it back
    db.session.expire(instance, ["updated_at"])
    if along is None:
        return None
    if postgres:
        return ridden
    written = direct.execute(db.session, *along)
    return written[0][0] if written else None


_SAVES: dict = {}  # the statement riding along (or None) -> the save with it
_WORK_READ = written_in_transaction("open work read with the save")  # (case id, rows)


def _saving_reading(statement):
    """On PostgreSQL: `_SAVE_STATE`, with `statement` (an UPDATE ... RETURNING one column, or None) as
    a data-modifying WITH, its returned value returned beside the chain's end (NULL when it updated
    nothing), and the case's open work (`_OPEN_WORK`) joined to the row the save returned: one row
    per task or timer, or one with no kind when there is none, or none at all when the save matched
    nothing. The statements share one set of parameters, and a Core UPDATE takes a parameter named as
    one of its table's columns as a value to set: no parameter of one may name a column of the
    other's table."""
    if statement not in _SAVES:
        ids = fanout.ids_for_new_tasks()
        save = _save_statement(*ids)
        if statement is not None:
            refuse_clashes(set(_SAVE_STATE.compile().params) | set(_OPEN_WORK.compile().params) | {fanout.NEW_TASKS},
                           _INSTANCE, statement.compile().params, statement.table)
            along = statement.cte("along")
            save = _save_statement(*ids, select(*along.c).scalar_subquery().label("along"))
        saved, work = save.cte("saved"), _OPEN_WORK.subquery("work")
        _SAVES[statement] = select(*saved.c, *work.c).select_from(saved.outerjoin(work, true()))
    return _SAVES[statement]


class StillOpen(NamedTuple):
    """A task open after the step, as the step left it."""

    id: int
    title: str
    due_at: datetime | None
    assignee_id: int | None


@dataclass(frozen=True)
class OpenWork:
    """What the projection knew of a case's work without reading it again: the timers that were
    waiting before the step (their rows, by task uuid) and the tasks open after it (by task uuid)."""

    timers_before: dict
    tasks_after: dict[str, StillOpen]


def apply_snapshot(case: Case, snap: Snapshot, *, actor: User | None,
                   state_of: Callable[[str], str | None], facts_held: dict | None = None,
                   new_case: bool = False) -> OpenWork:
    """Bring tasks, timers and the case record into line with `snap`; audit every change. The case's
    unit and subject come first: who a new task goes to depends on them. `new_case`: opened in this
    transaction (no open tasks or waiting timers to read). The case's counts for the dashboard
    move with its unit, stage, status, tasks and clocks. Returns what it knew of the case's work."""
    counted = None if new_case else count_key(case)
    _sync_people(case, snap.data)
    open_tasks, waiting_timers = ({}, {}) if new_case else _open_work(case.id)
    tasks_now, still_open = _sync_tasks(case, snap.ready_tasks, actor, open_tasks)
    started = sync_timers(case, snap.timers, actor, state_of, waiting_timers)
    record_fired_unseen(case, snap.fired, snap.timers, waiting_timers, actor, started)
    _sync_case(case, snap, actor)
    facts = update_reporting_projection(case, snap.data, facts_held)
    move_count(counted, count_key(case))
    move_marks(case, marks_of(case, tasks_now, [timer.due_at for timer in snap.timers],
                              YES in facts.get("suspended", ())))
    # the case row's UPDATE, not through the unit of work at the commit: with the step's audit events
    write_changes(db.session, case, send=write_with_events)
    return OpenWork(waiting_timers, still_open)


_TASKS, _TIMERS = HumanTask.__table__, Timer.__table__
_OPEN_WORK = union_all(  # the timers first: the union's column types are theirs
    select(literal_column("'timer'").label("kind"), _TIMERS.c.id, _TIMERS.c.task_uuid, _TIMERS.c.name.label("title"),
           _TIMERS.c.bpmn_id, _TIMERS.c.due_at, _TIMERS.c.guards, _TIMERS.c.interrupting,
           cast(null(), String).label("role_key"), cast(null(), Integer).label("assignee_id"),
           cast(null(), Boolean).label("escalation"))
    .where(_TIMERS.c.case_id == bindparam("work_case"), _TIMERS.c.status == "waiting"),
    select(literal_column("'task'"), _TASKS.c.id, _TASKS.c.task_uuid, _TASKS.c.title, _TASKS.c.bpmn_id,
           _TASKS.c.due_at, cast(null(), String), cast(null(), Boolean), _TASKS.c.role_key, _TASKS.c.assignee_id,
           _TASKS.c.escalation)
    .where(_TASKS.c.case_id == bindparam("work_case"), _TASKS.c.status == "open"))
_CANCEL_TASK = (_TASKS.update().where(_TASKS.c.id == bindparam("row_id"))
                .values(status="cancelled", completed_at=bindparam("at")))
_TASK_DUE = _TASKS.update().where(_TASKS.c.id == bindparam("row_id")).values(due_at=bindparam("due"))


def _open_work(case_id: int) -> tuple[dict, dict]:
    """The case's open tasks and waiting timers (by task uuid): read with the save on PostgreSQL
    (`save_state`), else in one prebuilt query."""
    known = transaction_cache(db.session).pop(_WORK_READ, None)
    rows = known[1] if known is not None and known[0] == case_id else direct.execute(
        db.session, _OPEN_WORK, {"work_case": case_id})
    tasks, timers = {}, {}
    for row in rows:
        (timers if row.kind == "timer" else tasks)[row.task_uuid] = row
    return tasks, timers


def _sync_tasks(case: Case, ready: list[ReadyTask], actor: User | None,
                open_rows: dict) -> tuple[list[OpenTask], dict[str, StillOpen]]:
    """Cancel the open tasks the workflow no longer waits on, add the new ones; the case's open
    tasks afterwards, as the dashboard counts them and by task uuid."""
    wanted = {task.task_uuid: task for task in ready}
    now = clock.now()
    open_now, still_open = [], {}
    for uuid, row in open_rows.items():
        if uuid not in wanted:
            direct.execute(db.session, _CANCEL_TASK, {"row_id": row.id, "at": now})
            record_event("task_cancelled", case_id=case.id, actor=actor,
                         data={"task": row.title, "task_id": row.id, "bpmn_id": row.bpmn_id})
    new = [task for uuid, task in wanted.items() if uuid not in open_rows]
    added = dict(zip([task.task_uuid for task in new], _add_tasks(case, new, now, actor), strict=True))
    for uuid, task in wanted.items():
        row = open_rows.get(uuid)
        if row is None:
            row = added[uuid]
        elif row.due_at != task.due_at:
            direct.execute(db.session, _TASK_DUE, {"row_id": row.id, "due": task.due_at})
        open_now.append(OpenTask(row.role_key, row.assignee_id, task.due_at, bool(row.escalation)))
        still_open[uuid] = StillOpen(row.id, row.title, task.due_at, row.assignee_id)
    return open_now, still_open


def _add_tasks(case: Case, tasks: list[ReadyTask], now, actor: User | None) -> list[HumanTask]:
    """The step's new tasks, each given to the person the model names or to whoever is on call where
    it must reach a person, before they are written: the tasks, their routings and their ready events
    each in one statement; an audit event for each."""
    if not tasks:
        return []
    roles = role_lookup()
    rows, said, routings, held = [], [], [], []
    for task in tasks:
        role_key = roles.get((task.lane or "").lower())
        unit_id, role_held = holding_unit_and_held(role_key, case.unit_id) if role_key else (None, True)
        row = plain_row(HumanTask, dict(
            instance_id=case.instance_id, case_id=case.id, pathway=case.pathway, task_uuid=task.task_uuid,
            bpmn_id=task.bpmn_id, title=task.title, role_key=role_key, lane=task.lane, unit_id=unit_id,
            form_name=task.form, ui_form_name=task.ui_form, instructions=task.instructions or "",
            escalation=bool(task.escalation), created_at=now, due_at=task.due_at, status="open", assignee_id=None,
            completed_by_id=None, completed_at=None,
        ))  # a plain row (`db.plain_row`): written as loaded by `insert_tasks_ready`
        routing, record = _named_person(case, row, task.assignee), None
        if not routing.get("named"):
            chosen, record = route_new_task(row)
            routing |= chosen
        rows.append(row)
        said.append(routing)
        routings.append(record)
        held.append(role_held)
    for row, routing, role_held in zip(rows, said, held, strict=True):
        if (row.role_key and row.assignee_id is None and not routing.get("rota_gap")  # a gap already tells them
                and not role_held):
            routing["nobody_holds_role"] = True  # the administrators are told: give someone the role there
    insert_tasks_ready([(row, bool(routing.get("rota_gap")), bool(routing.get("nobody_holds_role")))
                        for row, routing in zip(rows, said, strict=True)])
    record_routings([record | {"task_id": row.id} for row, record in zip(rows, routings, strict=True) if record])
    for row, task, routing in zip(rows, tasks, said, strict=True):
        record_event("escalation_raised" if task.escalation else "task_ready", case_id=case.id, actor=actor,
                     data={"task": row.title, "task_id": row.id, "bpmn_id": row.bpmn_id, "role": row.role_key,
                           "due_at": task.due_at, **routing})
    return rows


def _named_person(case: Case, row: HumanTask, username: str | None) -> dict:
    """Give the task to the person the model names from the case data (the manager the concern was
    raised with, the investigation manager appointed...), if they can take it: an active account that
    is not the subject of the case. Otherwise it stays with its lane's role."""
    person = active_user(username) if username else None
    if person is None or is_about(person, case):
        return {"named_person_unavailable": True} if username else {}
    row.assignee_id = person.id
    return {"assigned_to": person.display_name, "assigned_to_id": person.id, "named": True}


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
    and consulted at every stage) hear of each new stage: the holders in the nearest unit that has them,
    told after the step commits (one event row here, whatever the number of holders; none where nobody
    holds a watching role, which is known without a read)."""
    roles = [r for r in watchers if isinstance(r, str)] if isinstance(watchers, list) else []
    roles = [role for role in roles if holding_unit_and_held(role, case.unit_id)[1]]
    if roles:
        record_stage_change(case.id, stage, roles)


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None
