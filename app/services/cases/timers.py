"""The timer sweep: claim due timers, fire them, save (DESIGN.md decision 5).

Any number of workers may sweep at once. A claim is a row update committed before firing
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the single writer makes the conditional update
a compare-and-set). Firing and saving are one transaction guarded by the instance version, so a
timer fires once; a claim left by a dead worker expires and the timer is claimed again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from time import monotonic

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import OperationalError

from app import clock
from app.db import begin_writing
from app.extensions import db
from app.models import Case, ProcessInstance, Timer
from app.services.audit import audit_batch, locked_as_read, record_event
from app.services.cases.facts import facts_for
from app.services.cases.lifecycle import load_workflow, project_step, save_workflow
from app.services.cases.projections import OpenWork
from app.services.cases.stopped import record_stopped_case
from app.services.errors import Conflict
from app.services.notifications.fanout import record_reminders
from app.workflow import WorkflowError, case_data, dump_state, fire_timers, task_state, timer_guards

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    claimed: int = 0
    instances: int = 0
    conflicts: int = 0
    failures: int = 0


CASES_PER_COMMIT = 10  # cases fired in one transaction, each in a savepoint of its own,
GROUP_SECONDS = 0.5  # or fewer when they have taken this long (on SQLite nobody else writes meanwhile)


def sweep_timers(worker_id: str, *, batch: int = 50, claim_seconds: int = 120, max_batches: int = 1000,
                 per_commit: int = CASES_PER_COMMIT, cases_after: int | None = None) -> SweepResult:
    """Fire every timer that is due, in batches, until none is left unclaimed (`cases_after`: only
    the timers of cases with a higher id, the cases a scenario run made while its clock moves).

    The cases of a batch are fired `per_commit` to a transaction, each in a savepoint: a case that
    fails or conflicts is rolled back alone, and the cases before and after it in the transaction
    still fire. On SQLite the transaction takes the write lock before the first case is saved
    (`begin_writing`): one writer at a time, a group of cases at a time, not a case at a time; each
    case of the group is worked out before it (`work_out_firing`), so that two workers' CPU work
    overlaps, and only saved under the lock."""
    result = SweepResult()
    size, fire = (per_commit, _fire_in_savepoint) if per_commit > 1 else (1, _fire_alone)
    first = size > 1 and db.session.get_bind().dialect.name == "sqlite"
    for _ in range(max_batches):
        claimed = claim_due_timers(worker_id, batch=batch, claim_seconds=claim_seconds, cases_after=cases_after)
        result.claimed += len(claimed)
        instances = list(dict.fromkeys(instance_id for _, instance_id, _ in claimed))  # in their cases' order
        for start in range(0, len(instances), size):
            group = instances[start:start + size]
            worked_out = {instance_id: _worked_out_or_none(instance_id) for instance_id in group} if first else {}
            began = monotonic()
            for instance_id in group:
                fire(instance_id, worker_id, result, [uuid for _, of, uuid in claimed if of == instance_id],
                     worked_out.get(instance_id))
                if monotonic() - began > GROUP_SECONDS:  # SQLite's lock is held meanwhile
                    db.session.commit()
                    began = monotonic()
            db.session.commit()
        if len(claimed) < batch:
            break
    return result


@dataclass(frozen=True)
class WorkedOut:
    """A case's firing worked out in memory: the instance's version it was read at, the workflow with
    what was due fired, its model, the case's facts before, what each timer guarded, and the state to
    save (None: serialized as it is saved)."""
    version: int
    workflow: object
    model: object
    facts_held: dict
    guards: dict
    state: bytes | None


def work_out_firing(instance_id: int) -> WorkedOut:
    """Read the instance and fire what is due on its workflow, in memory: nothing is written, nothing
    locked. `fire_instance_timers` saves it if nobody saved the instance since."""
    instance, case = db.session.execute(_FIRE_ROWS, {"instance_id": instance_id}).one()
    return _fired_in_memory(instance, case, serialized=True)


def _fired_in_memory(instance: ProcessInstance, case: Case, *, serialized: bool) -> WorkedOut:
    workflow, model = load_workflow(instance)
    facts_held = facts_for(case, case_data(workflow))  # what the last step left: compared, not read
    guards = timer_guards(workflow, model)  # what each timer guards, read before it fires
    fire_timers(workflow)
    return WorkedOut(instance.version, workflow, model, facts_held, guards, dump_state(workflow) if serialized else None)


def _worked_out_or_none(instance_id: int) -> WorkedOut | None:
    """The firing worked out, or None when that failed (a model that cannot run on, say): the firing
    under the lock then meets the failure again and handles it (records a stopped case, keeps the claim)."""
    try:
        return work_out_firing(instance_id)
    except Exception:  # noqa: BLE001 (handled where the firing is saved)
        db.session.rollback()  # nothing was written; the read is let go
        return None


def claim_due_timers(worker_id: str, *, batch: int, claim_seconds: int,
                     cases_after: int | None = None) -> list[tuple[int, int, str]]:
    """Claim the due, unclaimed (or expired-claim) timers of up to `batch` due timers' instances, every
    due timer of an instance together (two workers never fire one case at once); returns (timer id,
    instance id, task uuid) in their cases' order, the order in which every writer to several cases in
    one transaction locks them. On PostgreSQL a timer another worker is claiming is skipped, and one it
    claimed meanwhile no longer matches when its lock is released."""
    now = clock.now()
    instances = due_timers_statement(now, batch).with_only_columns(Timer.instance_id)
    if cases_after is not None:
        instances = instances.where(Timer.case_id > cases_after)
    rows = db.session.execute(
        update(Timer)
        .where(Timer.instance_id.in_(instances.scalar_subquery()))
        .where(*_claimable(now))
        .values(claimed_by=worker_id, claim_expires_at=now + timedelta(seconds=claim_seconds))
        .returning(Timer.id, Timer.instance_id, Timer.task_uuid, Timer.case_id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return in_case_order(rows)


def in_case_order(rows) -> list[tuple[int, int, str]]:
    """Claimed timers (with their case ids) as (timer id, instance id, task uuid), by case, then timer.
    Cases are locked in this order by every writer to several (the fan-out, mail delivery): a case's
    instance may be younger than a later case's, when two cases opened at the same moment."""
    return [(row.id, row.instance_id, row.task_uuid) for row in sorted(rows, key=lambda row: (row.case_id, row.id))]


def _claimable(now) -> list:
    return [Timer.status == "waiting", Timer.due_at <= now,
            or_(Timer.claim_expires_at.is_(None), Timer.claim_expires_at < now)]


def due_timers_statement(now, batch: int):
    """Due, unclaimed (or expired-claim) timers, oldest first; locked rows are skipped on PostgreSQL."""
    return (
        select(Timer.id)
        .where(*_claimable(now))
        .order_by(Timer.due_at).limit(batch)
        .with_for_update(skip_locked=True)
    )


def _fire_in_savepoint(instance_id: int, worker_id: str, result: SweepResult, claimed: list[str],
                       worked_out: WorkedOut | None = None) -> None:
    """One case's firing in a savepoint of the sweep's transaction (the caller commits). The first case
    of a transaction begins it as a writer (again after a stopped case's record has committed)."""
    try:
        begin_writing(db.session)
    except OperationalError:  # SQLite: another writer held the lock past the busy timeout
        db.session.rollback()
        result.failures += 1
        log.warning("instance %s not fired: the database stayed locked; its claim will expire", instance_id)
        return
    savepoint = db.session.begin_nested()
    _fire(instance_id, worker_id, result, claimed, savepoint.commit, savepoint.rollback, worked_out)


def _fire_alone(instance_id: int, worker_id: str, result: SweepResult, claimed: list[str],
                worked_out: WorkedOut | None = None) -> None:
    """One case's firing in a transaction of its own."""
    _fire(instance_id, worker_id, result, claimed, db.session.commit, db.session.rollback, worked_out)


def _fire(instance_id: int, worker_id: str, result: SweepResult, claimed: list[str], done, undo,
          worked_out: WorkedOut | None) -> None:
    try:
        fire_instance_timers(instance_id, worker_id, claimed, commit=False, worked_out=worked_out)
        done()
        result.instances += 1
    except Conflict:
        undo()
        result.conflicts += 1
        _clear_claims(instance_id, worker_id)
    except WorkflowError as stopped:  # the model cannot run on: the case says so, its timers wait
        undo()
        result.failures += 1
        log.warning("instance %s stopped at %s: %s", instance_id, stopped.element_id, stopped.message)
        record_stopped_case(_case_id(instance_id), stopped.element_id, stopped.message, during="timer")
    except Exception:
        undo()
        result.failures += 1
        log.exception("firing timers of instance %s failed; its claim will expire and be retried", instance_id)


def _case_id(instance_id: int) -> int:
    return db.session.scalar(select(Case.id).where(Case.instance_id == instance_id))


_FIRE_ROWS = (select(ProcessInstance, Case).join(Case, Case.instance_id == ProcessInstance.id)
              .where(ProcessInstance.id == bindparam("instance_id")).with_for_update(of=Case)  # the case's lock
              .execution_options(populate_existing=True))


def fire_instance_timers(instance_id: int, worker_id: str | None = None, claimed: list[str] | None = None,
                         *, commit: bool = True, worked_out: WorkedOut | None = None) -> None:
    """Fire whatever is due on one instance and save it, in one transaction (`commit=False`: the
    caller's, which commits it). A timer that fired or
    was cancelled gives up its claim as it closes; `claimed` (the task uuids of the timers the worker
    claimed) tells whether any still waits with the worker's claim on it, to be released.
    `worked_out`: the firing as `work_out_firing` left it, saved as it is if the instance is still at
    the version it was read at (else worked out again here, on the case as it is now)."""
    instance, case = db.session.execute(_FIRE_ROWS, {"instance_id": instance_id}).one()
    locked_as_read(case.id)
    read_version = instance.version
    if worked_out is None or worked_out.version != read_version:
        worked_out = _fired_in_memory(instance, case, serialized=False)
    workflow, model, guards = worked_out.workflow, worked_out.model, worked_out.guards
    with db.session.no_autoflush, audit_batch():
        save_workflow(case, instance, workflow, read_version, model=model, state=worked_out.state)
        work = project_step(case, workflow, model, None, worked_out.facts_held)
        _remind_guarded_tasks(case, model, guards, {u for u in guards if task_state(workflow, u) == "COMPLETED"}, work)
    if worker_id and (claimed is None or any(task_state(workflow, uuid) not in _CLOSED for uuid in claimed)):
        _clear_claims(instance_id, worker_id)
    if commit:
        db.session.commit()


def _remind_guarded_tasks(case: Case, model, guards: dict[str, tuple[str, list[str]]], fired: set[str],
                          work: OpenWork) -> int:
    """After a sweep fired timers: for each reminder timer that fired (a timer the model marks
    `reminder`), remind the holders of the tasks it guarded that are still open. `guards`: for each
    waiting timer before the sweep, its element and the tasks it guarded; `work`: what the firing's
    projection knew (projections.OpenWork: the timers' rows before it, the tasks open after it), so
    nothing is read. Each reminder is audited here; its people are told after the firing commits (one
    event row each, all in one statement). Returns how many tasks were reminded."""
    reminders = []
    for timer_uuid in sorted(fired & set(guards)):
        bpmn_id, guarded = guards[timer_uuid]
        timer = work.timers_before.get(timer_uuid)
        if timer is None or not getattr(model.timers.get(bpmn_id), "reminder", False):
            continue
        for task in sorted((work.tasks_after[uuid] for uuid in guarded if uuid in work.tasks_after),
                           key=lambda task: task.id):
            record_event("reminder_raised", case_id=case.id, data={
                "task": task.title, "task_id": task.id, "timer": timer.title, "due_at": task.due_at})
            reminders.append((task.id, case.id, task.assignee_id, timer.id))
    record_reminders(reminders)
    return len(reminders)


_CLOSED = {"COMPLETED", "CANCELLED"}  # the projection closed its row, claim and all


def _clear_claims(instance_id: int, worker_id: str) -> None:
    db.session.execute(
        update(Timer).where(Timer.instance_id == instance_id, Timer.status == "waiting",
                            Timer.claimed_by == worker_id)
        .values(claimed_by=None, claim_expires_at=None).execution_options(synchronize_session=False))
