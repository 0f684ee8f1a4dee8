"""Telling people about a new task after the step that made it has committed.

The step writes one `task_ready_event` row per new task in its own transaction (`record_task_ready`):
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
from datetime import timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session

from app import clock
from app.extensions import db
from app.models import HumanTask, TaskReadyEvent
from app.services.audit import audit_batch, lock_case
from app.services.notifications.notify import notify_task_ready

log = logging.getLogger(__name__)
PENDING = "task_ready_pending"  # session.info: event ids written in the current transaction
_EVENTS = TaskReadyEvent.__table__
_INSERT = insert(_EVENTS).returning(_EVENTS.c.id)


@dataclass(frozen=True)
class NewTask:
    """What deciding who is told needs of a task, as the step that made it left it."""

    id: int
    case_id: int
    role_key: str | None
    unit_id: int | None
    escalation: bool
    assignee_id: int | None


def record_task_ready(task: HumanTask, *, rota_gap: bool, no_holder: bool) -> int:
    """Part of the step's transaction: one row saying the task is ready; the people concerned are
    told once the step has committed. Returns the event's id."""
    event_id = db.session.execute(_INSERT, {
        "task_id": task.id, "case_id": task.case_id, "assignee_id": task.assignee_id, "rota_gap": rota_gap,
        "no_holder": no_holder, "created_at": clock.now()}).scalar_one()
    db.session.info.setdefault(PENDING, []).append(event_id)
    return event_id


def fan_out(event_id: int) -> bool:
    """Tell the people concerned by one event and delete it, in one transaction; False when somebody
    else (the hook, another worker) has already taken it."""
    taken = db.session.execute(delete(TaskReadyEvent).where(TaskReadyEvent.id == event_id).returning(
        TaskReadyEvent.task_id, TaskReadyEvent.case_id, TaskReadyEvent.assignee_id, TaskReadyEvent.rota_gap,
        TaskReadyEvent.no_holder)).first()
    if taken is None:
        db.session.rollback()
        return False
    lock_case(taken.case_id)  # the notifications are audited on the case's chain
    row = db.session.execute(select(HumanTask.role_key, HumanTask.unit_id, HumanTask.escalation, HumanTask.status)
                             .where(HumanTask.id == taken.task_id)).first()
    if row is not None and row.status == "open":  # a task already done or cancelled needs nobody told
        task = NewTask(taken.task_id, taken.case_id, row.role_key, row.unit_id, bool(row.escalation),
                       taken.assignee_id)
        with audit_batch():
            notify_task_ready(task, rota_gap=taken.rota_gap, no_holder=taken.no_holder)
    db.session.commit()
    return True


def fan_out_pending(*, grace_seconds: float = 0, limit: int = 500) -> int:
    """The worker's safety net: every event older than `grace_seconds` (the hook's head start),
    oldest first. Returns how many this call fanned out."""
    before = clock.now() - timedelta(seconds=grace_seconds)
    ids = db.session.scalars(select(TaskReadyEvent.id).where(TaskReadyEvent.created_at <= before)
                             .order_by(TaskReadyEvent.id).limit(limit)).all()
    db.session.rollback()
    done = 0
    for event_id in ids:
        try:
            done += fan_out(event_id)
        except Exception:
            db.session.rollback()
            log.exception("telling people about task-ready event %s failed; it is tried again", event_id)
    return done


# The hook: after a commit that wrote events, hand them to this process's dispatcher.

def _after_commit(session: Session) -> None:
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
    session.info.pop(PENDING, None)  # rolled back: the events were never written


def _run_inline(app: Flask, ids: list[int]) -> None:
    with app.app_context():  # a session of its own: the caller's has just committed
        try:
            for event_id in ids:
                fan_out(event_id)
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
            _run_inline(self.app, self.queue.get())


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
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
    if not event.contains(Session, "after_rollback", _forget):
        event.listen(Session, "after_rollback", _forget)
