"""Shaping models for the API's schemas."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Case, HumanTask, User
from app.services.cases import linked_cases


def present_task(task: HumanTask) -> dict:
    case = db.session.get(Case, task.case_id)
    assignee = db.session.get(User, task.assignee_id) if task.assignee_id else None
    return {
        "id": task.id, "case_reference": case.reference, "title": task.title, "bpmn_id": task.bpmn_id,
        "role_key": task.role_key, "assignee": assignee.display_name if assignee else None,
        "form_name": task.form_name, "instructions": task.instructions, "escalation": task.escalation,
        "status": task.status, "created_at": task.created_at, "due_at": task.due_at,
        "completed_at": task.completed_at,
    }


def present_case(case: Case) -> Case:
    open_tasks = db.session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")
        .order_by(HumanTask.id)).all()
    case.open_tasks = [present_task(t) for t in open_tasks]
    case.linked_cases = [c.reference for c in linked_cases(case)]
    return case
