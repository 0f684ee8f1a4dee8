"""Human tasks: listing, claiming and completing them (DESIGN.md decision 4)."""
from __future__ import annotations

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app import clock, direct
from app.db import columns_to_read, commit_keeping, row_as_read
from app.extensions import db
from app.models import Case, HumanTask, ProcessInstance, User
from app.services.access import is_about, may_act_on_task
from app.services.audit import (
    audit_batch,
    lock_case,
    locked_as_read,
    record_event,
)
from app.services.cases.dashboard_counts import recount_case
from app.services.cases.facts import facts_for
from app.services.cases.lifecycle import load_workflow, process_step, project_step, save_workflow
from app.services.cases.projections import StaleInstance
from app.services.errors import AlreadyCompleted, Conflict, Forbidden, NotFound, ValidationFailed
from app.services.forms import check_answers, deadline_problems, shown_not_asked
from app.services.runtime import forms_of, version_of
from app.services.tasks.queue import QueueFilter, queue_tasks
from app.services.units import organisation_token, read_organisation_token
from app.workflow import TaskNotReady, case_data, run_user_task, task_data


def list_tasks(user: User, *, limit: int = 100, offset: int = 0) -> list[HumanTask]:
    """Open tasks assigned to `user` and unclaimed tasks of their roles, most urgent first."""
    return [task for task, _case in queue_tasks(user, QueueFilter(), offset=offset, limit=limit)]


def get_task(task_id: int, user: User) -> HumanTask:
    """A task the user may act on: theirs, or their role's. Anything else is NotFound."""
    return _task_and_case(task_id, user)[0]


def _task_and_case(task_id: int, user: User) -> tuple[HumanTask, Case]:
    """The task (as `get_task`) and its case; nobody acts on a case about themselves (need to know)."""
    task = db.session.get(HumanTask, task_id)
    case = db.session.get(Case, task.case_id) if task is not None else None
    if task is None or not may_act_on_task(user, task) or is_about(user, case):
        raise NotFound(f"No task {task_id}.")
    return task, case


def claim_task(task_id: int, user: User) -> HumanTask:
    """Take an unclaimed task of one of your roles."""
    task = get_task(task_id, user)
    _check_open(task)
    lock_case(task.case_id)
    result = db.session.execute(
        update(HumanTask).where(HumanTask.id == task.id, HumanTask.status == "open",
                                or_(HumanTask.assignee_id.is_(None), HumanTask.assignee_id == user.id))
        .values(assignee_id=user.id).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(task)
        _check_open(task)
        raise Conflict(f"This task has already been claimed by {_name(task.assignee_id)}.")
    set_committed_value(task, "assignee_id", user.id)  # as written
    record_event("task_claimed", case_id=task.case_id, actor=user, data={"task": task.title, "task_id": task.id})
    case = db.session.get(Case, task.case_id)
    recount_case(case)  # the task is now the person's, not the role's
    commit_keeping(db.session, user, task, fixed=((case, ("reference",)),))  # nothing read back
    return task


# the case's row is locked as it is read (PostgreSQL): every writer to a case locks it before its instance;
# the rows are taken as read, not as the session held them (`row_as_read`): what the lock waited for
_STEP_READ = (HumanTask, Case, ProcessInstance)
_TASK, _CASE, _INSTANCE = (cls.__table__ for cls in _STEP_READ)
_STEP_ROWS = (select(*(column for cls in _STEP_READ for column in columns_to_read(cls)), organisation_token())
              .select_from(_TASK.join(_CASE, _CASE.c.id == _TASK.c.case_id)
                           .join(_INSTANCE, _INSTANCE.c.id == _TASK.c.instance_id))
              .where(_TASK.c.id == bindparam("task_id")).with_for_update(of=_CASE))
# still open, and still nobody else's: read before the case's lock was waited for, it may have changed
_MARK_COMPLETED = (_TASK.update().where(_TASK.c.id == bindparam("task_id"), _TASK.c.status == "open",
                                        or_(_TASK.c.assignee_id.is_(None), _TASK.c.assignee_id == bindparam("by")))
                   .values(status="completed", completed_by_id=bindparam("by"), completed_at=bindparam("at"),
                           assignee_id=bindparam("holder"))
                   .returning(_TASK.c.id))


def complete_task(task_id: int, user: User, answers: dict, *, expected_version: int | None = None,
                  amendment: dict | None = None) -> HumanTask:
    """Complete a task with the person's answers.

    `amendment` ({"reason", "changed": {key: {"from", "to"}}}) records answers carried forward from
    earlier on the case that this submission changed, and why.

    Of two concurrent completions exactly one wins; the other raises AlreadyCompleted (or
    StaleInstance when something else changed the case) and nothing is saved. The person's draft
    of the task goes in the same transaction.
    """
    try:
        task, case, instance = _step_rows(task_id, user)
        read_version = _check_completion(task, instance, user, answers, expected_version)
    except Exception:
        db.session.rollback()  # refused: nothing was written, and the case's lock is let go
        raise
    try:
        with process_step(), db.session.no_autoflush, audit_batch():
            _complete(task, case, instance, user, answers, read_version, amendment)
        # nothing read back: the step knows what it wrote
        commit_keeping(db.session, user, task, fixed=((case, ("reference",)),))
    except Conflict:
        db.session.rollback()
        _raise_if_taken(task_id, user)
        raise
    except Exception:
        db.session.rollback()
        raise
    return task


def _step_rows(task_id: int, user: User) -> tuple[HumanTask, Case, ProcessInstance]:
    """The task, its case (locked) and its instance in one query, on the terms of `get_task`."""
    db.session.flush()  # as a query through the session would, first
    found = direct.execute(db.session, _STEP_ROWS, {"task_id": task_id})
    if not found:
        raise NotFound(f"No task {task_id}.")
    values, taken = found[0], []
    for cls in _STEP_READ:
        width = len(columns_to_read(cls))
        taken.append(row_as_read(db.session, cls, values[:width]))
        values = values[width:]
    task, case, instance = taken
    if not may_act_on_task(user, task) or is_about(user, case):
        raise NotFound(f"No task {task_id}.")
    locked_as_read(case.id)
    read_organisation_token(values[0])  # where the step's new tasks go: read along, not on its own
    return task, case, instance


def _check_completion(task: HumanTask, instance: ProcessInstance, user: User, answers: dict,
                      expected_version: int | None) -> int:
    """Whether this person may complete the task now with these answers; returns the instance's version."""
    _check_open(task)
    if task.assignee_id not in (None, user.id):
        raise Forbidden(f"This task is assigned to {_name(task.assignee_id)}.")
    if expected_version is not None and expected_version != instance.version:
        raise StaleInstance("This case changed since you opened the task. Reload it and try again.")
    if task.form_name:
        check_answers(forms_of(instance.definition_id)[task.form_name], answers)
        late = deadline_problems(forms_of(instance.definition_id)[task.form_name], answers, task.due_at)
        if late:
            raise ValidationFailed(late)
    return instance.version


def _complete(task: HumanTask, case: Case, instance: ProcessInstance, user: User, answers: dict,
              read_version: int, amendment: dict | None = None) -> None:
    workflow, model = load_workflow(instance)
    facts_held = facts_for(case, case_data(workflow))  # what the last step left: compared, not read
    before = task_data(workflow, task.task_uuid)
    about = {name: before[name] for name in sorted(model.loop_items) if name in before}  # the action it completes
    if task.form_name and (changed := shown_not_asked(forms_of(instance.definition_id)[task.form_name], answers, before)):
        raise ValidationFailed(changed)
    try:
        run_user_task(workflow, task.task_uuid, answers)
    except TaskNotReady:
        raise StaleInstance("This task is no longer waiting for an answer.") from None
    done = _completion(task, user)  # with the state, before the projection, which must not count it as cancelled
    if save_workflow(case, instance, workflow, read_version, along=(_MARK_COMPLETED, done), model=model) is None:
        raise Conflict("This task was completed or taken by someone else.")
    for key, value in (("status", "completed"), ("completed_by_id", done["by"]), ("completed_at", done["at"]),
                       ("assignee_id", done["holder"])):
        set_committed_value(task, key, value)  # what was written, known without reading it back
    record_event("task_completed", case_id=case.id, actor=user, data={
        "task": task.title, "task_id": task.id, "bpmn_id": task.bpmn_id, "answers": answers,
        "version": version_of(instance.definition_id)} | ({"about": about} if about else {})
        | ({"amended": amendment} if amendment else {}))
    project_step(case, workflow, model, user, facts_held)
    # the drafts of the task go as its status changes (a trigger, migration 0023)


def _completion(task: HumanTask, user: User) -> dict:
    """`_MARK_COMPLETED`'s parameters: the task (still open, and nobody else's), who completes it and
    when, and who holds it after."""
    return {"task_id": task.id, "by": user.id, "at": clock.now(), "holder": task.assignee_id or user.id}


def _check_open(task: HumanTask) -> None:
    if task.status == "completed":
        raise AlreadyCompleted(_name(task.completed_by_id), task.completed_at)
    if task.status != "open":
        raise Conflict("This task is no longer needed: the case moved on without it.")


def _raise_if_taken(task_id: int, user: User) -> None:
    """After a completion lost a race: who won it, if anyone (a completion, or a claim)."""
    task = db.session.get(HumanTask, task_id)
    db.session.refresh(task)
    _check_open(task)
    if task.assignee_id not in (None, user.id):
        raise Forbidden(f"This task is assigned to {_name(task.assignee_id)}.")


def _name(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.display_name if user else "someone else"
