"""In-app notifications (a badge and a list) for new tasks, escalations, reassignments and being
added to a case team. They say only that something needs attention and link to it: no names,
no case details (DOMAIN.md, data protection)."""
from __future__ import annotations

from sqlalchemy import func, not_, select, update

from app import clock
from app.extensions import db
from app.models import Case, HumanTask, Notification, OnCallShift, User, user_role
from app.services.access import about_user_clause

MESSAGES = {
    "task": "A new task is waiting for your team.",
    "escalation": "An escalation needs attention now.",
    "reassigned": "A task has been passed to you.",
    "team": "You have been added to a case team.",
}


def notify_task_ready(task: HumanTask) -> None:
    """Tell everyone who may pick up a new task (its role's holders, and whoever is on call for the
    role if it is an escalation). Part of the caller's transaction: does not commit."""
    if task.role_key is None:
        return
    kind = "escalation" if task.escalation else "task"
    with db.session.no_autoflush:  # reads people only: no need to flush the step being saved
        people = set(db.session.scalars(
            select(User.id).join(user_role, user_role.c.user_id == User.id)
            .where(user_role.c.role_key == task.role_key, User.is_active.is_(True))))
        if task.escalation:
            people |= set(on_call_now(task.role_key))
    for user_id in sorted(people):
        _add(user_id, task.case_id, kind, f"/tasks/{task.id}")


def notify_user(user_id: int, case_id: int | None, kind: str, link: str) -> None:
    """One notification for one person (a reassignment, being added to a team). Does not commit."""
    _add(user_id, case_id, kind, link)


def _add(user_id: int, case_id: int | None, kind: str, link: str) -> None:
    db.session.add(Notification(user_id=user_id, case_id=case_id, kind=kind, message=MESSAGES[kind],
                                link=link, created_at=clock.now()))


def on_call_now(role_key: str) -> list[int]:
    """Who the rota has on call for a role at this moment."""
    now = clock.now()
    return list(db.session.scalars(select(OnCallShift.user_id).where(
        OnCallShift.role_key == role_key, OnCallShift.starts_at <= now, OnCallShift.ends_at > now)))


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
