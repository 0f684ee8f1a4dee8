"""The queue of open tasks a person may pick up: theirs, and the unclaimed tasks of each role they hold in
the unit where they hold it,
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
from functools import lru_cache

from sqlalchemy import Integer, String, and_, bindparam, func, literal, not_, select, union_all

from app.db import plan_for_values
from app.extensions import db
from app.models import Case, HumanTask, User
from app.services.access import EVERYONE, about_clause
from app.services.people import holdings_of

COUNT_CAP = 1000


@dataclass(frozen=True)
class QueueFilter:
    pathway: str = ""
    role: str = ""
    due_before: datetime | None = None  # due at or before (inclusive) this instant
    due_strictly_before: bool = False   # make due_before exclusive


@dataclass(frozen=True)
class _Shape:
    """What a queue statement's structure depends on; the values (the reader, the pathway, the due
    limit, the page) are bound parameters, so one statement serves every reader of the same shape."""
    holdings: tuple[tuple[str, int], ...]  # (role key, unit id): where the reader holds each role
    role: str
    pathway: bool
    about: bool  # the reader has a staff number: leave out cases about them
    due: str  # "", "<=" or "<"


def _shape(user: User, filters: QueueFilter) -> _Shape:
    holdings = {(role, unit) for role, unit in holdings_of(user)
                if role != EVERYONE and (not filters.role or role == filters.role)}
    due = "" if filters.due_before is None else ("<" if filters.due_strictly_before else "<=")
    return _Shape(tuple(sorted(holdings)), filters.role, bool(filters.pathway), bool(user.staff_number_key), due)


def _values(user: User, filters: QueueFilter) -> dict:
    return {"reader_id": user.id, "pathway": filters.pathway, "me": user.staff_number_key,
            "due_before": filters.due_before}


def _sources(shape: _Shape) -> list[tuple]:
    """One (where-clause, index order) per source: my tasks, and the unclaimed tasks of each role I hold,
    in the unit where I hold it.

    The order is the whole key of the source's index (see HumanTask's indexes). Its leading columns
    are fixed within a source and band, so the order is the queue's order; naming them lets the
    planner see that the index already holds it (PostgreSQL does not infer that from `IS NULL`)."""
    mine = HumanTask.assignee_id == bindparam("reader_id", type_=Integer)
    if shape.role:
        mine = and_(mine, HumanTask.role_key == shape.role)
    tail = (HumanTask.escalation, HumanTask.due_at, HumanTask.id)
    return [(mine, (HumanTask.status, HumanTask.assignee_id, *tail)),
            *((and_(HumanTask.role_key == key, HumanTask.unit_id == unit, HumanTask.assignee_id.is_(None)),
               (HumanTask.status, HumanTask.role_key, HumanTask.unit_id, HumanTask.assignee_id, *tail))
              for key, unit in shape.holdings)]


def _escalation(flag: bool):
    return HumanTask.escalation == flag  # "= true", which an index can seek, unlike "IS true"


def _narrow(query, shape: _Shape):
    """The filters every part shares: the pathway, the due range, and never a case about the reader."""
    if shape.pathway:
        query = query.where(HumanTask.pathway == bindparam("pathway", type_=String))
    if shape.about:
        query = query.join(Case, Case.id == HumanTask.case_id).where(
            not_(about_clause(bindparam("me", type_=String))))
    if shape.due:
        due_before = bindparam("due_before", type_=HumanTask.due_at.type)
        query = query.where(HumanTask.due_at < due_before if shape.due == "<" else HumanTask.due_at <= due_before)
    return query


def queue_ids(user: User, filters: QueueFilter, *, offset: int = 0, limit: int = 25) -> list[int]:
    """Task ids of one page of the queue, most urgent first."""
    shape = _shape(user, filters)
    plan_for_values(db.session)
    return list(db.session.scalars(_page_statement(shape),
                                   _values(user, filters) | {"reach": offset + limit, "limit": limit, "offset": offset}))


def queue_statement(user: User, filters: QueueFilter, *, offset: int = 0, limit: int = 25):
    """The statement of one page with this reader's values in it (for reading its query plan)."""
    return _page_statement(_shape(user, filters)).params(
        _values(user, filters) | {"reach": offset + limit, "limit": limit, "offset": offset})


@lru_cache(maxsize=512)
def _page_statement(shape: _Shape):
    """The statement selecting one page of task ids, built once per shape.

    For each source and band, the first `reach` (offset + limit) rows in index order, merged and cut
    to the page. Four bands per source, each a range of the source's index: escalations with a due
    date (0) and without (1), then the rest with a due date (2) and without (3). Dated bands run by due
    time, undated ones oldest first; a due filter never matches a task without a due date."""
    reach = bindparam("reach", type_=Integer)
    dated, undated = HumanTask.due_at.is_not(None), HumanTask.due_at.is_(None)
    bands = [(0, _escalation(True), dated), (1, _escalation(True), undated),
             (2, _escalation(False), dated), (3, _escalation(False), undated)]
    if shape.due:
        bands = [band for band in bands if band[2] is dated]
    parts = []
    for source, order in _sources(shape):
        for band, escalation, due in bands:
            query = select(HumanTask.id.label("id"), literal(band, Integer).label("band"),
                           HumanTask.due_at.label("due_at")).where(HumanTask.status == "open", source, escalation, due)
            parts.append(select(_narrow(query, shape).order_by(*order).limit(reach).subquery()))
    merged = union_all(*parts).subquery()
    # A task is in at most one source (held by me, or unclaimed in its one role and unit), so no duplicates.
    return (select(merged.c.id).order_by(merged.c.band, merged.c.due_at, merged.c.id)
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)))


def queue_count(user: User, filters: QueueFilter, cap: int = COUNT_CAP) -> int:
    """How many tasks the queue holds, counted up to `cap` + 1 (more than `cap` means "more than")."""
    plan_for_values(db.session)
    return db.session.scalar(_count_statement(_shape(user, filters), cap), _values(user, filters))


@lru_cache(maxsize=512)
def _count_statement(shape: _Shape, cap: int):
    """The sources are read one after another, each on its own index range, until `cap` + 1 rows (each
    part is limited too, so that the planner reads the range rather than a bitmap of all of it)."""
    parts = [select(_narrow(select(literal(1, Integer).label("one")).select_from(HumanTask).where(
                        HumanTask.status == "open", where), shape)
                    .limit(cap + 1).subquery())
             for where, _order in _sources(shape)]
    return select(func.count()).select_from(select(union_all(*parts).subquery()).limit(cap + 1).subquery())


def queue_tasks(user: User, filters: QueueFilter, *, offset: int = 0, limit: int = 25) -> list[tuple[HumanTask, Case]]:
    """One page of the queue with each task's case, in queue order."""
    ids = queue_ids(user, filters, offset=offset, limit=limit)
    if not ids:
        return []
    found = {task.id: (task, case) for task, case in db.session.execute(
        select(HumanTask, Case).join(Case, Case.id == HumanTask.case_id).where(HumanTask.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
