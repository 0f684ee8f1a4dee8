"""Save as draft: what a person typed into a task's form, kept while the task is open. When the task is
completed or cancelled, the database deletes every draft of it (a trigger on its status, migration 0023)."""
from __future__ import annotations

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import TaskDraft, User


def save_draft(task_id: int, user: User, values: dict) -> TaskDraft:
    """Keep the form's values for this person and task (replacing an earlier draft)."""
    draft = get_draft(task_id, user) or TaskDraft(task_id=task_id, user_id=user.id)
    draft.values, draft.saved_at = dict(values), clock.now()
    db.session.add(draft)
    db.session.commit()
    return draft


def get_draft(task_id: int, user: User) -> TaskDraft | None:
    """This person's draft of this task, if any."""
    return db.session.scalar(select(TaskDraft).where(TaskDraft.task_id == task_id, TaskDraft.user_id == user.id))


def drafted_task_ids(user: User) -> set[int]:
    """Tasks this person has a draft of (the inbox marks them)."""
    return set(db.session.scalars(select(TaskDraft.task_id).where(TaskDraft.user_id == user.id)))
