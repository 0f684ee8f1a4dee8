"""Telling people about a new task after the step that made it has committed.

The step writes one `task_ready_event` row per new task in its own transaction (`record_tasks_ready`):
the cost of the step no longer grows with the number of people told. After the commit, a hook in the
same process (`NOTIFY_FANOUT`: a thread, or inline before the call returns) turns the event into the
in-app notifications and outbox rows of the people concerned (`fan_out`); the worker's sweep
(`fan_out_pending`) is the safety net for an event the hook never took (the process stopped, the hook
failed). Whoever deletes the event row queues the notifications, in that one transaction: exactly
once, whichever of them gets there first. Who is told is decided as before (`task_audience`): the
person the step gave the task to, else the holders of its role in the unit it went to.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import bindparam, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app import clock
from app.extensions import db
from app.models import HumanTask, TaskReadyEvent
from app.services.audit import audit_batch, lock_case
from app.services.notifications.notify import notify_task_ready

log = logging.getLogger(__name__)
PENDING = "task_ready_pending"  # session.info: event ids written in the current transaction
_EVENTS = TaskReadyEvent.__table__
_INSERT = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)


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
    if not ready:
        return []
    now = clock.now()
    rows = [{"task_id": task.id, "case_id": task.case_id, "assignee_id": task.assignee_id, "rota_gap": rota_gap,
             "no_holder": no_holder, "created_at": now} for task, rota_gap, no_holder in ready]
    event_ids = list(db.session.execute(_INSERT, rows[0] if len(rows) == 1 else rows).scalars())
    db.session.info.setdefault(PENDING, []).extend(event_ids)
    return event_ids


BATCH = 50  # events told about per transaction (a busy moment's commits are shared)
_TAKE = (_EVENTS.delete().where(_EVENTS.c.id.in_(bindparam("ids", expanding=True)))
         .returning(_EVENTS.c.task_id, _EVENTS.c.case_id, _EVENTS.c.assignee_id, _EVENTS.c.rota_gap, _EVENTS.c.no_holder))
_TASKS = HumanTask.__table__
_TASK_FACTS = select(_TASKS.c.id, _TASKS.c.role_key, _TASKS.c.unit_id, _TASKS.c.escalation, _TASKS.c.status,
                     _TASKS.c.title, _TASKS.c.due_at).where(
    _TASKS.c.id.in_(bindparam("ids", expanding=True)))


def fan_out(event_id: int) -> bool:
    """Tell the people concerned by one event and delete it, in one transaction; False when somebody
    else (the hook, another worker) has already taken it."""
    return fan_out_many([event_id]) == 1


def fan_out_many(event_ids: list[int]) -> int:
    """`fan_out` for several events in one transaction: only those this transaction deletes are told
    about (another may have taken some). Returns how many."""
    taken = sorted(db.session.execute(_TAKE, {"ids": list(event_ids)}).all(), key=lambda e: (e.case_id, e.task_id))
    if not taken:
        db.session.rollback()
        return 0
    for case_id in sorted({event.case_id for event in taken}):
        lock_case(case_id)  # the notifications are audited on the cases' chains; always in one order
    tasks = {row.id: row for row in db.session.execute(_TASK_FACTS, {"ids": [event.task_id for event in taken]})}
    with audit_batch():
        for event in taken:
            row = tasks.get(event.task_id)
            if row is not None and row.status == "open":  # a task already done or cancelled needs nobody told
                task = NewTask(event.task_id, event.case_id, row.role_key, row.unit_id, bool(row.escalation),
                               event.assignee_id, row.title or "", row.due_at)
                notify_task_ready(task, rota_gap=event.rota_gap, no_holder=event.no_holder)
    db.session.commit()
    return len(taken)


def fan_out_pending(*, grace_seconds: float = 0, limit: int = 500) -> int:
    """The worker's safety net: every event older than `grace_seconds` (the hook's head start),
    oldest first, `BATCH` to a transaction. Returns how many this call fanned out."""
    before = clock.now() - timedelta(seconds=grace_seconds)
    ids = db.session.scalars(select(TaskReadyEvent.id).where(TaskReadyEvent.created_at <= before)
                             .order_by(TaskReadyEvent.id).limit(limit)).all()
    db.session.rollback()
    done = 0
    for start in range(0, len(ids), BATCH):
        try:
            done += fan_out_many(ids[start:start + BATCH])
        except Exception:
            db.session.rollback()
            log.exception("telling people about task-ready events %s failed; they are tried again",
                          ids[start:start + BATCH])
    return done


# The hook: after a commit that wrote events, hand them to this process's dispatcher.

def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released (the sweep's cases): the events wait for the real commit
    ids = session.info.pop(PENDING, None)
    if not ids or not has_app_context():
        return
    app = current_app._get_current_object()
    mode = app.config.get("NOTIFY_FANOUT", "thread")
    if mode == "inline":
        _run_inline(app, ids)
    elif mode == "thread":
        _dispatcher(app).put(ids)


def _forget(session: Session, *_args) -> None:
    if session.get_nested_transaction() is not None:
        return  # one savepoint rolled back: the events before it still stand (the rest are never found)
    session.info.pop(PENDING, None)  # rolled back: the events were never written


def _run_inline(app: Flask, ids: list[int]) -> None:
    with app.app_context():  # a session of its own: the caller's has just committed
        try:
            for start in range(0, len(ids), BATCH):
                fan_out_many(ids[start:start + BATCH])
        except Exception:
            db.session.rollback()
            log.exception("telling people about new tasks failed; the worker will")
        finally:
            db.session.remove()


class _Dispatcher:
    """One thread per process telling people about new tasks, in the order the steps committed."""

    def __init__(self, app: Flask):
        self.app, self.queue = app, queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="task-ready-fanout", daemon=True)
        self.thread.start()

    def put(self, ids: list[int]) -> None:
        self.queue.put(ids)

    def _run(self) -> None:
        while True:
            ids = list(self.queue.get())
            while len(ids) < BATCH:  # what else has committed meanwhile goes in the same transaction
                try:
                    ids.extend(self.queue.get_nowait())
                except queue.Empty:
                    break
            _run_inline(self.app, ids)


_dispatchers_lock = threading.Lock()


def _dispatcher(app: Flask) -> _Dispatcher:
    """Started on first use, so that a forking server starts it in each worker process."""
    with _dispatchers_lock:
        dispatcher = app.extensions.get("task_ready_dispatcher")
        if dispatcher is None or not dispatcher.thread.is_alive():
            dispatcher = app.extensions["task_ready_dispatcher"] = _Dispatcher(app)
        return dispatcher


def configure_fanout() -> None:
    """Listen for commits and rollbacks of every session (idempotent)."""
    if not sa_event.contains(Session, "after_commit", _after_commit):
        sa_event.listen(Session, "after_commit", _after_commit)
    if not sa_event.contains(Session, "after_rollback", _forget):
        sa_event.listen(Session, "after_rollback", _forget)
