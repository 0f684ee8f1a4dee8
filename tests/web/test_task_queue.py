"""The task queue behind the inbox and /api/tasks: every page, read from per-source index ranges, is the
same as sorting all the reader's visible tasks by urgency; counts are capped; cases about the reader stay out."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Case, HumanTask
from app.services.access import is_about
from app.services.people import holdings_of
from app.services.tasks.inbox import page_numbers
from app.services.tasks.queue import QueueFilter, queue_count, queue_ids
from tests.web.conftest import open_concern, staff


def _urgency(task: HumanTask):
    return (not task.escalation, task.due_at is None, task.due_at or clock.now(), task.id)


def _visible(reader, tasks, filters: QueueFilter):
    def shown(task):
        if task.status != "open":
            return False
        if filters.role and task.role_key != filters.role:
            return False
        if filters.due_before is not None and (task.due_at is None or task.due_at > filters.due_before):
            return False
        about = is_about(reader, db.session.get(Case, task.case_id))
        mine = task.assignee_id == reader.id
        theirs = task.assignee_id is None and (task.role_key, task.unit_id) in holdings_of(reader)
        return (mine or theirs) and not about
    return sorted((t for t in tasks if shown(t)), key=_urgency)


def _shuffle_tasks(reader, others, seed=7):
    """Spread the open tasks over roles, holders, escalation and due times (ties included)."""
    rng = random.Random(seed)
    base = clock.now()
    dues = [None, base - timedelta(days=2), base, base + timedelta(days=3), base + timedelta(days=3)]
    roles = ["safeguarding_team", "meeting_chair", "triage_panel", "lado"]
    tasks = db.session.scalars(select(HumanTask)).all()
    for task in tasks:
        task.role_key = rng.choice(roles)
        task.assignee_id = rng.choice([None, None, reader.id, others[0].id])
        task.escalation = rng.random() < 0.25
        task.due_at = rng.choice(dues)
        task.status = rng.choice(["open"] * 5 + ["completed"])
    db.session.commit()
    return tasks


def test_every_page_is_the_urgency_order_of_everything_visible(app_ctx):
    reader = staff("safeguarding_team", "meeting_chair", staff_number="E77")
    others = [staff("safeguarding_team")]
    for n in range(14):
        open_concern(staff(), subject_name=f"Person {n}")
    open_concern(staff(), subject_name="The reader", subject_staff_number="e77")
    tasks = _shuffle_tasks(reader, others)
    for filters in (QueueFilter(), QueueFilter(role="meeting_chair"),
                    QueueFilter(due_before=clock.now()), QueueFilter(pathway="concern"),
                    QueueFilter(pathway="elsewhere")):
        expected = [] if filters.pathway == "elsewhere" else [t.id for t in _visible(reader, tasks, filters)]
        pages = [queue_ids(reader, filters, offset=offset, limit=4) for offset in range(0, len(expected) + 4, 4)]
        assert [i for page in pages for i in page] == expected, filters
        assert queue_count(reader, filters) == len(expected)
    about = db.session.scalar(select(Case.id).where(Case.subject_staff_number == "e77"))
    assert not {t.id for t in tasks if t.case_id == about} & set(queue_ids(reader, QueueFilter(), limit=100))


def test_the_count_stops_at_its_cap(app_ctx):
    reader = staff("safeguarding_team")
    for n in range(4):
        open_concern(staff(), subject_name=f"Person {n}")
    assert queue_count(reader, QueueFilter()) == 4
    assert queue_count(reader, QueueFilter(), cap=2) == 3  # "more than 2"


def test_page_links_keep_the_ends_and_the_neighbours():
    assert page_numbers(1, 1) == [1]
    assert page_numbers(1, 3) == [1, 2, 3]
    assert page_numbers(5, 40) == [1, None, 4, 5, 6, None, 40]
    assert page_numbers(40, 40) == [1, None, 39, 40]
