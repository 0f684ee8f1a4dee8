"""The queue of open tasks a person may pick up: theirs, and the unclaimed tasks of each of their roles,
escalations first, then by due time (no due date last), then oldest first.

Read at national scale, a role can hold tens of thousands of open tasks, and a reader may hold ten roles.
The queue is therefore read as one statement of small parts: for each source (my tasks; each role's
unclaimed tasks) and each band (escalation or not; with or without a due date) the first `offset + limit`
rows in index order, merged and cut to the page. Every part is a range of an index whose order is the
queue's order, so a page costs about the same whatever the population. Counting is capped for the same
reason: the inbox says "more than 1,000" rather than counting every task of a busy role."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, literal, not_, or_, select, union_all

from app.extensions import db
from app.models import Case, HumanTask, User
from app.services.access import about_user_clause

COUNT_CAP = 1000


@dataclass(frozen=True)
class QueueFilter:
    pathway: str = ""
    role: str = ""
    due_before: datetime | None = None  # due at or before (inclusive) this instant
    due_strictly_before: bool = False   # make due_before exclusive


def _sources(user: User, role: str) -> list[tuple]:
    """One (where-clause, index order) per source: my tasks, and each of my roles' unclaimed tasks.

    The order is the whole key of the source's index (see HumanTask's indexes). Its leading columns
    are fixed within a source and band, so the order is the queue's order; naming them lets the
    planner see that the index already holds it (PostgreSQL does not infer that from `IS NULL`)."""
    mine = HumanTask.assignee_id == user.id
    if role:
        mine = and_(mine, HumanTask.role_key == role)
    tail = (HumanTask.escalation, HumanTask.due_at, HumanTask.id)
    roles = sorted(user.role_keys if not role else user.role_keys & {role})
    return [(mine, (HumanTask.status, HumanTask.assignee_id, *tail)),
            *((and_(HumanTask.role_key == key, HumanTask.assignee_id.is_(None)),
               (HumanTask.status, HumanTask.role_key, HumanTask.assignee_id, *tail)) for key in roles)]


def _escalation(flag: bool):
    return HumanTask.escalation == flag  # "= true", which an index can seek, unlike "IS true"


def _narrow(query, user: User, filters: QueueFilter):
    """The filters every part shares: the pathway, the due range, and never a case about the reader."""
    if filters.pathway:
        query = query.where(HumanTask.pathway == filters.pathway)
    if user.staff_number:
        query = query.join(Case, Case.id == HumanTask.case_id).where(not_(about_user_clause(user)))
    if filters.due_before is not None:
        query = query.where(HumanTask.due_at < filters.due_before if filters.due_strictly_before
                            else HumanTask.due_at <= filters.due_before)
    return query


def queue_ids(user: User, filters: QueueFilter, *, offset: int = 0, limit: int = 25) -> list[int]:
    """Task ids of one page of the queue, most urgent first."""
    page = queue_statement(user, filters, offset=offset, limit=limit)
    return [] if page is None else list(db.session.scalars(page))


def queue_statement(user: User, filters: QueueFilter, *, offset: int = 0, limit: int = 25):
    """The statement selecting one page of task ids (None when the reader has no sources at all)."""
    reach = offset + limit
    parts = []
    dated, undated = HumanTask.due_at.is_not(None), HumanTask.due_at.is_(None)
    # Four bands per source, each a range of the source's index: escalations with a due date (0)
    # and without (1), then the rest with a due date (2) and without (3). Dated bands run by due
    # time, undated ones oldest first; a due filter never matches a task without a due date.
    bands = [(0, _escalation(True), dated), (1, _escalation(True), undated),
             (2, _escalation(False), dated), (3, _escalation(False), undated)]
    if filters.due_before is not None:
        bands = [band for band in bands if band[2] is dated]
    for source, order in _sources(user, filters.role):
        for band, escalation, due in bands:
            query = select(HumanTask.id.label("id"), literal(band).label("band"), HumanTask.due_at.label("due_at")).where(
                HumanTask.status == "open", source, escalation, due)
            query = _narrow(query, user, filters)
            parts.append(select(query.order_by(*order).limit(reach).subquery()))
    if not parts:
        return None
    merged = union_all(*parts).subquery()
    # A task is in at most one source (held by me, or unclaimed in its one role), so no duplicates.
    return select(merged.c.id).order_by(merged.c.band, merged.c.due_at, merged.c.id).limit(limit).offset(offset)


def queue_count(user: User, filters: QueueFilter, cap: int = COUNT_CAP) -> int:
    """How many tasks the queue holds, counted up to `cap` + 1 (more than `cap` means "more than")."""
    query = _narrow(select(literal(1)).select_from(HumanTask).where(
        HumanTask.status == "open", or_(*(where for where, _order in _sources(user, filters.role)))), user, filters)
    return db.session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery()))


def queue_tasks(user: User, filters: QueueFilter, *, offset: int = 0, limit: int = 25) -> list[tuple[HumanTask, Case]]:
    """One page of the queue with each task's case, in queue order."""
    ids = queue_ids(user, filters, offset=offset, limit=limit)
    if not ids:
        return []
    found = {task.id: (task, case) for task, case in db.session.execute(
        select(HumanTask, Case).join(Case, Case.id == HumanTask.case_id).where(HumanTask.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
