"""Tasks and cases as the JSON API shows them: plain values, each list read with its names at once."""
from __future__ import annotations

from sqlalchemy import select

from app.db import held
from app.extensions import db
from app.models import Case, HumanTask, User
from app.services.cases.records import linked_cases


def task_summaries(tasks: list[HumanTask]) -> list[dict]:
    """The tasks as the API shows them; their case references and assignees' names as the session
    holds them (a step's own task, case and person), the others' in one query."""
    if not tasks:
        return []
    names = {task.id: known for task in tasks if (known := _held_names(task)) is not None}
    unknown = [task.id for task in tasks if task.id not in names]
    if unknown:
        names |= {row.id: (row.reference, row.display_name) for row in db.session.execute(
            select(HumanTask.id, Case.reference, User.display_name)
            .join(Case, Case.id == HumanTask.case_id)
            .outerjoin(User, User.id == HumanTask.assignee_id)
            .where(HumanTask.id.in_(unknown)))}
    return [_summary(task, *names[task.id]) for task in tasks]


def _held_names(task: HumanTask) -> tuple[str, str | None] | None:
    """The task's case reference and assignee's name, if the session holds both loaded; else None."""
    case = held(db.session, Case, task.case_id, "reference")
    if case is None:
        return None
    if task.assignee_id is None:
        return case.reference, None
    person = held(db.session, User, task.assignee_id, "display_name")
    return (case.reference, person.display_name) if person is not None else None


def task_summary(task: HumanTask) -> dict:
    """One task as the API shows it."""
    return task_summaries([task])[0]


def _summary(task: HumanTask, reference: str, assignee: str | None) -> dict:
    return {
        "id": task.id, "case_reference": reference, "title": task.title, "bpmn_id": task.bpmn_id,
        "role_key": task.role_key, "assignee": assignee, "form_name": task.form_name,
        "instructions": task.instructions, "escalation": task.escalation, "status": task.status,
        "created_at": task.created_at, "due_at": task.due_at, "completed_at": task.completed_at,
    }


def case_summary(case: Case) -> Case:
    """The case with its open tasks and the references of its linked cases, as the API shows it."""
    open_tasks = db.session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")
        .order_by(HumanTask.id)).all()
    case.open_tasks = task_summaries(list(open_tasks))
    case.linked_cases = [other.reference for other in linked_cases(case)]
    return case
