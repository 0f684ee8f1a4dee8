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
from app.services.notifications.outbox import load_preferences, queue_notification, queue_notifications


def notify_task_ready(task, rota_gap: bool | None = None, no_holder: bool = False) -> None:
    """Tell whoever may pick up a new task: the person it was routed to (whoever was on call when
    it became ready), else its role's holders; an escalation nobody is on call for also goes to
    the administrators, and so does a task nobody holds the role of for the case's unit. `task`: the
    HumanTask, or what the step left of it (fanout.NewTask). Part of the caller's transaction: does
    not commit."""
    case = db.session.get(Case, task.case_id)
    audience = task_audience(task, rota_gap, no_holder)
    load_preferences([user.id for user, _kind in audience])
    queue_notifications(case, [(user, kind, f"/tasks/{task.id}", f"task:{task.id}:{kind}:user:{user.id}")
                               for user, kind in audience], task)


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


def notify_stage(case: Case, stage: str, users: list[User]) -> None:
    """Tell the people who oversee a case (the roles the model names in `stage_watchers`) that it has
    moved to `stage`: once per person and stage, never the subject. Does not commit."""
    load_preferences([user.id for user in users])
    queue_notifications(case, [(user, "stage", f"/cases/{case.reference}", f"stage:{case.id}:{stage}:user:{user.id}")
                               for user in users])
