"""The inbox: my tasks and my roles' unclaimed tasks, most urgent first; unclaim and reassign."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Case, HumanTask, ProcessDefinition, Role, TaskRouting, User
from app.services.access import is_about
from app.services.audit import lock_case, record_event
from app.services.cases.clocks import Due, describe_due
from app.services.cases.dashboard_counts import recount_case
from app.services.errors import Conflict, Forbidden, ValidationFailed
from app.services.notifications.notify import notify_user
from app.services.people import on_call_roles_of, role_holders
from app.services.runtime import get_calendar
from app.services.tasks.drafts import drafted_task_ids
from app.services.tasks.human_tasks import get_task
from app.services.tasks.queue import COUNT_CAP, QueueFilter, queue_count, queue_tasks

DUE_FILTERS = {"overdue": "Overdue", "today": "Due today", "week": "Due within 5 working days"}


@dataclass
class InboxRow:
    task: HumanTask
    case: Case
    role_name: str
    assignee_name: str | None
    due: Due
    rota_gap: bool = False  # it needed the person on call, and the rota had nobody
    out_of_hours: bool = False  # this task became ready out of hours (not: the case was raised out of hours)


@dataclass
class InboxPage:
    rows: list[InboxRow]
    page: int
    pages: int
    total: int
    filters: dict
    more: bool = False  # more tasks than were counted (COUNT_CAP)
    pathways: list[tuple[str, str]] = field(default_factory=list)
    roles: list[tuple[str, str]] = field(default_factory=list)
    on_call_roles: list[str] = field(default_factory=list)
    drafts: set[int] = field(default_factory=set)

    @property
    def page_links(self) -> list[int | None]:
        return page_numbers(self.page, self.pages)


def list_inbox(user: User, *, pathway: str = "", role: str = "", due: str = "", page: int = 1,
               page_size: int = 25) -> InboxPage:
    """Open tasks assigned to me and unclaimed tasks of my roles, escalations first, then by due time."""
    filters = QueueFilter(pathway=pathway, role=role, **_due_filter(due))
    total = queue_count(user, filters)
    pages = max(1, math.ceil(min(total, COUNT_CAP) / page_size))
    page = min(max(page, 1), pages)
    found = queue_tasks(user, filters, offset=(page - 1) * page_size, limit=page_size)
    return InboxPage(rows=_rows(found), page=page, pages=pages, total=min(total, COUNT_CAP),
                     more=total > COUNT_CAP, filters={"pathway": pathway, "role": role, "due": due},
                     pathways=_pathways(), roles=_roles(user), on_call_roles=_on_call_roles(user),
                     drafts=drafted_task_ids(user))


def _due_filter(due: str) -> dict:
    now, calendar = clock.now(), get_calendar()
    if due == "overdue":
        return {"due_before": now}
    if due == "today":
        local = calendar.local(now)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=calendar.zone)
        return {"due_before": midnight.astimezone(timezone.utc), "due_strictly_before": True}
    if due == "week":
        return {"due_before": calendar.working_days_after(now, 5)}
    return {}


def page_numbers(page: int, pages: int) -> list[int | None]:
    """The page links to show: the first, the last, and the pages either side of this one; None is a gap."""
    shown = sorted({1, pages, *range(max(1, page - 1), min(pages, page + 1) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def _rows(found) -> list[InboxRow]:
    names = dict(db.session.execute(select(Role.key, Role.name)).all())
    people = _names({task.assignee_id for task, _ in found})
    calendar = get_calendar()
    ids = [task.id for task, _ in found]
    gaps = set(db.session.scalars(select(TaskRouting.task_id).where(
        TaskRouting.task_id.in_(ids), TaskRouting.rota_gap.is_(True)))) if ids else set()
    return [InboxRow(task=task, case=case, role_name=names.get(task.role_key, task.lane or ""),
                     assignee_name=people.get(task.assignee_id), due=describe_due(task.due_at),
                     rota_gap=task.id in gaps, out_of_hours=calendar.is_out_of_hours(task.created_at))
            for task, case in found]


def _names(ids: set) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _pathways() -> list[tuple[str, str]]:
    rows = db.session.execute(select(ProcessDefinition.process_key, func.max(ProcessDefinition.name))
                              .group_by(ProcessDefinition.process_key).order_by(ProcessDefinition.process_key))
    return [(key, name or key) for key, name in rows]


def _roles(user: User) -> list[tuple[str, str]]:
    return sorted(((r.key, r.name) for r in user.roles if r.key != "staff"), key=lambda pair: pair[1])


def _on_call_roles(user: User) -> list[str]:
    on_call = on_call_roles_of(user.id)
    return sorted(r.name for r in user.roles if r.key in on_call)


def unclaim_task(task_id: int, user: User) -> HumanTask:
    """Give back a task I hold, so anyone with its role can pick it up."""
    task = get_task(task_id, user)
    _check_open(task)
    if task.assignee_id != user.id:
        raise Forbidden("Only the person who holds a task can give it back.")
    lock_case(task.case_id)
    task.assignee_id = None
    record_event("task_unclaimed", case_id=task.case_id, actor=user, data={"task": task.title, "task_id": task.id})
    recount_case(db.session.get(Case, task.case_id))
    db.session.commit()
    return task


def colleagues_for(task_id: int, user: User) -> tuple[HumanTask, list[User]]:
    """The task and the people it could be passed to: active holders of its role in the unit it went
    to, not its case's subject."""
    task = get_task(task_id, user)
    case = db.session.get(Case, task.case_id)
    people = sorted(role_holders(task.role_key, task.unit_id), key=lambda person: person.display_name)
    return task, [p for p in people if p.id != task.assignee_id and not is_about(p, case)]


def reassign_task(task_id: int, user: User, colleague_id: int | None, reason: str) -> HumanTask:
    """Pass a task to a named colleague who holds its role, with a reason; audited and notified."""
    task, candidates = colleagues_for(task_id, user)
    _check_open(task)
    colleague = next((p for p in candidates if p.id == colleague_id), None)
    errors = {}
    if colleague is None:
        errors["colleague"] = "Choose who to pass this task to."
    if not (reason or "").strip():
        errors["reason"] = "Enter why you are passing this task on."
    if errors:
        raise ValidationFailed(errors)
    lock_case(task.case_id)
    previous = _names({task.assignee_id}).get(task.assignee_id)
    task.assignee_id = colleague.id
    record_event("task_reassigned", case_id=task.case_id, actor=user, data={
        "task": task.title, "task_id": task.id, "from": previous, "to": colleague.display_name,
        "to_user_id": colleague.id, "reason": reason.strip()})
    notify_user(colleague.id, task.case_id, "reassigned", f"/tasks/{task.id}", task=task)
    recount_case(db.session.get(Case, task.case_id))
    db.session.commit()
    return task


def _check_open(task: HumanTask) -> None:
    if task.status != "open":
        raise Conflict("This task is no longer open.")
