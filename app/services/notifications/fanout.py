"""Telling people about a new task, a reminder, or a case's new stage, after the step that made it has
committed.

The step writes one `task_ready_event` row per new task in its own transaction, with the tasks
(`insert_tasks_ready`), one per open task a reminder timer guarded when it fires (`record_reminders`),
and one `stage_change_event` row when the case moves to a stage its model has watchers for
(`record_stage_change`): the cost of the step no longer grows with the number of people told. After the
commit, a hook in the same process (`NOTIFY_FANOUT`: a thread, or inline before the call returns) turns
the event into the in-app notifications and outbox rows of the people concerned (`fan_out_many`); the
worker's sweep (`fan_out_pending`) is the safety net for an event the hook never took (the process
stopped, the hook failed). Whoever deletes the event row queues the notifications, in that one
transaction: exactly once, whichever of them gets there first. Who is told is decided as before
(`task_audience`): the person the step gave the task to, else the holders of its role in the unit it
went to; for a new stage, the holders of each watching role in the nearest unit of the case that has
them.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic

from flask import Flask, current_app, has_app_context
from sqlalchemy import String, any_, bindparam, insert, null, select
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from app import clock, direct
from app.db import (
    add_as_loaded,
    ids_from_sequence,
    insert_all_as_loaded,
    insert_from_json,
    json_rows,
    transaction_cache,
    values_as_loaded,
    written_in_transaction,
)
from app.extensions import db
from app.models import Case, HumanTask, StageChangeEvent, TaskReadyEvent
from app.services.audit import audit_batch, insert_with_events, lock_cases
from app.services.notifications.notify import reminder_notices, stage_notices, task_ready_notices
from app.services.notifications.outbox import Notice, queue_notices
from app.services.people import holding_unit, role_holders_once

log = logging.getLogger(__name__)
PENDING = "task_ready_pending"  # session.info: task-ready event ids written in the current transaction
STAGES_PENDING = "stage_change_pending"  # session.info: the same for stage-change events
_EVENTS, _STAGES, _TASKS_TABLE = TaskReadyEvent.__table__, StageChangeEvent.__table__, HumanTask.__table__
_INSERT = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)
_INSERT_STAGE = insert(_STAGES).returning(_STAGES.c.id)


@dataclass(frozen=True)
class NewTask:
    """What deciding who is told needs of a task, as the step that made it left it."""

    id: int
    case_id: int
    role_key: str | None
    unit_id: int | None
    escalation: bool
    assignee_id: int | None
    title: str = ""  # the in-app notification names the task and when it is due
    due_at: datetime | None = None


def record_tasks_ready(ready: list[tuple[HumanTask, bool, bool]]) -> list[int]:
    """Part of the step's transaction: for each (task, rota_gap, no_holder), one row saying the task
    is ready, all in one statement; the people concerned are told once the step has committed.
    Returns the events' ids."""
    return _record(_ready_rows(ready, [task.id for task, _gap, _no_holder in ready]))


def _ready_rows(ready: list[tuple[HumanTask, bool, bool]], task_ids: list[int]) -> list[dict]:
    """The row saying each (task, rota_gap, no_holder) of `ready` is ready, for the task of that id."""
    return [{"task_id": task_id, "case_id": task.case_id, "assignee_id": task.assignee_id, "rota_gap": rota_gap,
             "no_holder": no_holder, "reminder_timer_id": None}
            for (task, rota_gap, no_holder), task_id in zip(ready, task_ids, strict=True)]


def insert_tasks_ready(ready: list[tuple[HumanTask, bool, bool]]) -> list[int]:
    """Part of the step's transaction: write its new tasks (ORM rows, which go into the session as
    loaded) and, for each (task, rota_gap, no_holder), the row saying it is ready, as
    `record_tasks_ready` does. On PostgreSQL the tasks and their ready rows are one statement (a
    data-modifying WITH); otherwise the tasks are written, then their ready rows. Returns the tasks'
    ids in order."""
    rows = [task for task, _gap, _no_holder in ready]
    if not rows or db.session.get_bind().dialect.name != "postgresql":
        ids = insert_all_as_loaded(db.session, rows)
        record_tasks_ready(ready)
        return ids
    taken = transaction_cache(db.session).get(_IDS_TAKEN, {}).pop(rows[0].case_id, None)
    if taken is not None and len(taken[0]) >= len(rows):
        return _with_ids_taken(ready, taken[0][:len(rows)], taken[1][:len(rows)])
    params = {"new_task_rows": json_rows(values_as_loaded(rows)),
              "ready_gaps": [task.task_uuid for task, gap, _ in ready if gap],
              "ready_no_holders": [task.task_uuid for task, _, no_holder in ready if no_holder],
              "ready_at": clock.now()}
    written = {row.task_uuid: (row.task_id, row.event_id)
               for row in direct.execute(db.session, _TASKS_AND_READY, params)}
    db.session.info.setdefault(PENDING, []).extend(written[row.task_uuid][1] for row in rows)
    return add_as_loaded(db.session, rows, [written[row.task_uuid][0] for row in rows])


_IDS_TAKEN = written_in_transaction("ids taken for new tasks")  # case id -> (task ids, ready row ids)


NEW_TASKS = "new_task_ids"  # the parameter: how many ids to take for a step's new tasks, and for their ready rows


def ids_for_new_tasks() -> tuple:
    """Columns for a statement the step runs anyway (the save of its state, the new case's INSERT) on
    PostgreSQL: ids for as many new tasks, and for their ready rows, as the parameter NEW_TASKS says;
    the step gives them to `keep_ids_for_new_tasks`."""
    return ids_from_sequence(_TASKS_TABLE, NEW_TASKS, "task_ids"), ids_from_sequence(_EVENTS, NEW_TASKS, "event_ids")


def keep_ids_for_new_tasks(case_id: int, task_ids: list[int], event_ids: list[int]) -> None:
    """Ids the step took for the case's new tasks and their ready rows in a statement it ran anyway
    (the save of its state, on PostgreSQL): `insert_tasks_ready` gives them to the rows it writes."""
    if task_ids:
        transaction_cache(db.session).setdefault(_IDS_TAKEN, {})[case_id] = (list(task_ids), list(event_ids))


def _with_ids_taken(ready: list[tuple[HumanTask, bool, bool]], task_ids: list[int], event_ids: list[int]) -> list[int]:
    """The new tasks and their ready rows with the ids taken for them, sent with the step's audit
    events (`insert_with_events`): nothing in the step reads them back; the session holds the tasks
    as written."""
    rows = [task for task, _gap, _no_holder in ready]
    insert_with_events(_TASKS_TABLE, [values | {"id": task_id}
                                      for values, task_id in zip(values_as_loaded(rows), task_ids, strict=True)])
    now = clock.now()
    insert_with_events(_EVENTS, [row | {"id": event_id, "created_at": now}
                                 for row, event_id in zip(_ready_rows(ready, task_ids), event_ids, strict=True)])
    db.session.info.setdefault(PENDING, []).extend(event_ids)
    return add_as_loaded(db.session, rows, task_ids)


def _tasks_and_ready():
    """INSERT the tasks given as one JSON parameter WITH, INSERT their ready rows from what it returned;
    returns (task uuid, task id, event id) for each. One statement whatever the number of tasks. The
    parameters are named after no column of either table (an INSERT would take such a one as a value)."""
    tasks = HumanTask.__table__
    new = (insert_from_json(tasks, "new_task_rows")
           .returning(tasks.c.id, tasks.c.task_uuid, tasks.c.case_id, tasks.c.assignee_id).cte("new_task"))
    ready = (insert(_EVENTS).from_select(
        ["task_id", "case_id", "assignee_id", "rota_gap", "no_holder", "reminder_timer_id", "created_at"],
        select(new.c.id, new.c.case_id, new.c.assignee_id,
               new.c.task_uuid == any_(bindparam("ready_gaps", type_=ARRAY(String))),
               new.c.task_uuid == any_(bindparam("ready_no_holders", type_=ARRAY(String))), null(),
               bindparam("ready_at", type_=_EVENTS.c.created_at.type)))
        .returning(_EVENTS.c.task_id, _EVENTS.c.id).cte("ready"))
    return select(new.c.task_uuid, new.c.id.label("task_id"), ready.c.id.label("event_id")).join(
        ready, ready.c.task_id == new.c.id)


_TASKS_AND_READY = _tasks_and_ready()


def record_reminders(reminders: list[tuple[int, int, int | None, int]]) -> list[int]:
    """Part of the firing's transaction: for each (task id, case id, assignee id, timer id) of an open
    task a reminder timer guarded, one row saying its holders are to be reminded, all in one
    statement; they are told once the firing has committed. Returns the events' ids."""
    return _record([{"task_id": task_id, "case_id": case_id, "assignee_id": assignee_id, "rota_gap": False,
                     "no_holder": False, "reminder_timer_id": timer_id}
                    for task_id, case_id, assignee_id, timer_id in reminders])


def _record(rows: list[dict]) -> list[int]:
    if not rows:
        return []
    now = clock.now()
    rows = [row | {"created_at": now} for row in rows]
    event_ids = [row.id for row in direct.execute(db.session, _INSERT, rows)]
    db.session.info.setdefault(PENDING, []).extend(event_ids)
    return event_ids


def record_stage_change(case_id: int, stage: str, roles: list[str]) -> int:
    """Part of the step's transaction: one row saying the case moved to `stage` and the holders of
    `roles` are to be told once the step has committed. Returns the event's id."""
    event_id = db.session.execute(_INSERT_STAGE, {"case_id": case_id, "stage": stage, "roles": list(roles),
                                                  "created_at": clock.now()}).scalar_one()
    db.session.info.setdefault(STAGES_PENDING, []).append(event_id)
    return event_id


BATCH = 50  # events told about per transaction (a busy moment's commits are shared)
_TAKE = (_EVENTS.delete().where(_EVENTS.c.id.in_(bindparam("ids", expanding=True)))
         .returning(_EVENTS.c.task_id, _EVENTS.c.case_id, _EVENTS.c.assignee_id, _EVENTS.c.rota_gap, _EVENTS.c.no_holder,
                    _EVENTS.c.reminder_timer_id))
_TAKE_STAGES = (_STAGES.delete().where(_STAGES.c.id.in_(bindparam("ids", expanding=True)))
                .returning(_STAGES.c.id, _STAGES.c.case_id, _STAGES.c.stage, _STAGES.c.roles))
_TASKS = HumanTask.__table__
_TASK_FACTS = select(_TASKS.c.id, _TASKS.c.role_key, _TASKS.c.unit_id, _TASKS.c.escalation, _TASKS.c.status,
                     _TASKS.c.title, _TASKS.c.due_at).where(
    _TASKS.c.id.in_(bindparam("ids", expanding=True)))


def fan_out_many(event_ids: list[int], stage_event_ids: list[int] = ()) -> int:
    """Tell the people concerned by these task-ready and stage-change events and delete them, in one
    transaction: only those this transaction deletes are told about (the hook or another worker may
    have taken some). Returns how many it took."""
    taken = sorted(db.session.execute(_TAKE, {"ids": list(event_ids)}).all(),
                   key=lambda e: (e.case_id, e.task_id)) if event_ids else []
    stages = sorted(db.session.execute(_TAKE_STAGES, {"ids": list(stage_event_ids)}).all(),
                    key=lambda e: (e.case_id, e.id)) if stage_event_ids else []
    if not taken and not stages:
        db.session.rollback()
        return 0
    # the notifications are audited on the cases' chains: every case locked, in one order
    cases = lock_cases({event.case_id for event in taken} | {event.case_id for event in stages})
    tasks = {row.id: row for row in db.session.execute(
        _TASK_FACTS, {"ids": [event.task_id for event in taken]})} if taken else {}
    notices = []
    for event in taken:
        row, case = tasks.get(event.task_id), cases.get(event.case_id)
        if row is not None and row.status == "open" and case is not None:  # a task done or cancelled: nobody
            task = NewTask(event.task_id, event.case_id, row.role_key, row.unit_id, bool(row.escalation),
                           event.assignee_id, row.title or "", row.due_at)
            notices += (task_ready_notices(case, task, rota_gap=event.rota_gap, no_holder=event.no_holder)
                        if event.reminder_timer_id is None else reminder_notices(case, task, event.reminder_timer_id))
    for event in stages:
        if event.case_id in cases:
            notices += _stage_watchers(cases[event.case_id], event.stage, event.roles)
    with audit_batch():
        queue_notices(notices)
    db.session.commit()
    return len(taken) + len(stages)


def _stage_watchers(case: Case, stage: str, roles) -> list[Notice]:
    """The holders of each watching role in the nearest unit of the case that has them (read once in the
    fan-out's transaction for each role and unit, however many cases' stages it tells)."""
    return [notice for role in (r for r in roles or () if isinstance(r, str))
            for notice in stage_notices(case, stage, role_holders_once(role, holding_unit(role, case.unit_id)))]


def fan_out_pending(*, grace_seconds: float = 0, limit: int = 500) -> int:
    """The worker's safety net: every event older than `grace_seconds` (the hook's head start),
    oldest first, `BATCH` to a transaction. Returns how many this call fanned out."""
    before = clock.now() - timedelta(seconds=grace_seconds)
    ids, stage_ids = ([*db.session.scalars(select(model.id).where(model.created_at <= before)
                                          .order_by(model.id).limit(limit))]
                      for model in (TaskReadyEvent, StageChangeEvent))
    db.session.rollback()
    done = 0
    for start in range(0, max(len(ids), len(stage_ids)), BATCH):
        batch = ids[start:start + BATCH], stage_ids[start:start + BATCH]
        try:
            done += fan_out_many(*batch)
        except Exception:
            db.session.rollback()
            log.exception("telling people about task-ready events %s and stage-change events %s failed; "
                          "they are tried again", *batch)
    return done


# The hook: after a commit that wrote events, hand them to this process's dispatcher.

def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released (the sweep's cases): the events wait for the real commit
    ids, stage_ids = session.info.pop(PENDING, None) or [], session.info.pop(STAGES_PENDING, None) or []
    if not (ids or stage_ids) or not has_app_context():
        return
    app = current_app._get_current_object()
    mode = app.config.get("NOTIFY_FANOUT", "thread")
    if mode == "inline":
        _run_inline(app, ids, stage_ids)
    elif mode == "thread":
        _dispatcher(app).put(ids, stage_ids)


def _forget(session: Session, *_args) -> None:
    if session.get_nested_transaction() is not None:
        return  # one savepoint rolled back: the events before it still stand (the rest are never found)
    session.info.pop(PENDING, None)  # rolled back: the events were never written
    session.info.pop(STAGES_PENDING, None)


def _run_inline(app: Flask, ids: list[int], stage_ids: list[int]) -> None:
    with app.app_context():  # a session of its own: the caller's has just committed
        try:
            for start in range(0, max(len(ids), len(stage_ids)), BATCH):
                fan_out_many(ids[start:start + BATCH], stage_ids[start:start + BATCH])
        except Exception:
            db.session.rollback()
            log.exception("telling people about new tasks failed; the worker will")
        finally:
            db.session.remove()


class _Dispatcher:
    """One thread per process telling people about new tasks, in the order the steps committed. What
    commits within NOTIFY_FANOUT_GATHER_SECONDS of the first event it takes goes in the same
    transaction (up to BATCH events): on a busy server a transaction's fixed cost is shared, and
    nobody waits longer than that for the gathering."""

    def __init__(self, app: Flask):
        self.app, self.queue = app, queue.SimpleQueue()
        self.handed, self.done = 0, threading.Condition()  # commits handed over and not yet told about
        self.thread = threading.Thread(target=self._run, name="task-ready-fanout", daemon=True)
        self.thread.start()

    def put(self, ids: list[int], stage_ids: list[int]) -> None:
        with self.done:
            self.handed += 1
        self.queue.put((ids, stage_ids))

    def settle(self, timeout: float) -> bool:
        """Wait until everything handed over has been told about; False if `timeout` passed first."""
        with self.done:
            return self.done.wait_for(lambda: self.handed == 0, timeout)

    def _run(self) -> None:
        while True:
            first, first_stages = self.queue.get()
            ids, stage_ids, taken = list(first), list(first_stages), 1
            until = monotonic() + self.app.config["NOTIFY_FANOUT_GATHER_SECONDS"]
            while len(ids) + len(stage_ids) < BATCH:
                try:
                    more, more_stages = self.queue.get(timeout=max(until - monotonic(), 0.0))
                except queue.Empty:
                    break
                ids.extend(more)
                stage_ids.extend(more_stages)
                taken += 1
            try:
                _run_inline(self.app, ids, stage_ids)
            finally:
                with self.done:
                    self.handed -= taken
                    self.done.notify_all()


_dispatchers_lock = threading.Lock()


def _dispatcher(app: Flask) -> _Dispatcher:
    """Started on first use, so that a forking server starts it in each worker process."""
    with _dispatchers_lock:
        dispatcher = app.extensions.get("task_ready_dispatcher")
        if dispatcher is None or not dispatcher.thread.is_alive():
            dispatcher = app.extensions["task_ready_dispatcher"] = _Dispatcher(app)
        return dispatcher


def settle_fanout(app: Flask, timeout: float = 10) -> bool:
    """Wait until this process's thread has told about every commit handed to it (the test suite
    does, before it empties the tables for the next test); True at once when it has none."""
    dispatcher = app.extensions.get("task_ready_dispatcher")
    return dispatcher is None or dispatcher.settle(timeout)


def configure_fanout() -> None:
    """Listen for commits and rollbacks of every session (idempotent)."""
    if not sa_event.contains(Session, "after_commit", _after_commit):
        sa_event.listen(Session, "after_commit", _after_commit)
    if not sa_event.contains(Session, "after_rollback", _forget):
        sa_event.listen(Session, "after_rollback", _forget)
