"""Notifications for new tasks, escalations, reminders, reassignments and being added to a case
team: in the app (a badge and a list) and by email through the outbox (app/services/notifications/outbox.py).
They say only that something needs attention and link to it: no names, no case details
(DOMAIN.md, data protection)."""
from __future__ import annotations

from sqlalchemy import func, not_, select, update

from app import clock
from app.extensions import db
from app.models import Case, HumanTask, Notification, User
from app.services.access import about_user_clause
from app.services.notifications.escalations import task_audience
from app.services.notifications.outbox import Notice, queue_notification


def task_ready_notices(case: Case, task, rota_gap: bool | None = None, no_holder: bool = False) -> list[Notice]:
    """Who is told of a new task: the person it was routed to (whoever was on call when it became
    ready), else its role's holders; an escalation nobody is on call for also goes to the
    administrators, and so does a task nobody holds the role of for the case's unit. `task`: the
    HumanTask, or what the step left of it (fanout.NewTask)."""
    return [Notice(case, task, user, kind, f"/tasks/{task.id}", f"task:{task.id}:{kind}:user:{user.id}")
            for user, kind in task_audience(task, rota_gap, no_holder)]


def reminder_notices(case: Case, task, timer_id: int) -> list[Notice]:
    """Who is reminded of an open task when its reminder timer (`timer_id`) fired: the person it is
    with, else its role's holders in its unit; once per timer, task and person."""
    return [Notice(case, task, user, "reminder", f"/tasks/{task.id}", f"reminder:{timer_id}:task:{task.id}:user:{user.id}")
            for user, _kind in task_audience(task, rota_gap=False)]


def notify_user(user_id: int, case_id: int | None, kind: str, link: str, key: str | None = None,
                task: HumanTask | None = None) -> None:
    """One notification for one person (a reassignment, being added to a team). Does not commit."""
    user, case = db.session.get(User, user_id), db.session.get(Case, case_id) if case_id else None
    if key is None:  # being added to a team happens once; a task may be passed to someone again
        key = f"{kind}:{link}:user:{user_id}" + ("" if kind == "team" else f":{clock.now():%Y%m%dT%H%M%S%f}")
    queue_notification(user, case, kind, link, key, task=task)


def _mine(user: User):
    about_me = select(Case.id).where(about_user_clause(user))
    return select(Notification).where(
        Notification.user_id == user.id,
        Notification.case_id.is_(None) | not_(Notification.case_id.in_(about_me)))


def count_unread(user: User) -> int:
    """The number on the badge."""
    query = _mine(user).where(Notification.read_at.is_(None))
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def list_notifications(user: User, limit: int = 50) -> list[Notification]:
    """The newest notifications first."""
    return db.session.scalars(_mine(user).order_by(Notification.created_at.desc(), Notification.id.desc())
                              .limit(limit)).all()


def mark_all_read(user: User) -> int:
    """Mark every unread notification read; returns how many."""
    result = db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=clock.now()))
    db.session.commit()
    return result.rowcount


def stage_notices(case: Case, stage: str, users: list[User]) -> list[Notice]:
    """The people who oversee a case (the roles the model names in `stage_watchers`) hear that it has
    moved to `stage`: once per person and stage, never the subject."""
    return [Notice(case, None, user, "stage", f"/cases/{case.reference}", f"stage:{case.id}:{stage}:user:{user.id}")
            for user in users]
