"""The task queue behind the inbox and /api/tasks: every page, read from per-source index ranges, is the
same as sorting all the reader's visible tasks by urgency; counts are capped; cases about the reader stay out."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app import clock
from app.extensions import db
from app.models import Case, HumanTask
from app.services.access import is_about
from app.services.people import holdings_of
from app.services.tasks.inbox import page_numbers
from app.services.tasks.queue import QueueFilter, queue_count, queue_ids
from tests.integration.test_step_locks import statements
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


def test_the_queue_is_planned_for_the_values_it_is_read_with(app_ctx):
    """PostgreSQL plans a statement psycopg has prepared (after five runs on a connection) once for any
    values, when it judges that plan no worse on average; the queue's best plan depends on the role (one
    holds tens of thousands of open tasks, the next none), and at 100,000 cases such a plan counted the
    inbox by a sequential scan in 80 to 125 ms instead of 3. Its reads are planned for their own values,
    until the transaction ends, and the transaction still only read (it ends with a COMMIT that keeps
    the prepared statements)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("plans of prepared statements: PostgreSQL")
    reader = staff("safeguarding_team")
    open_concern(staff(), subject_name="Person")
    db.session.commit()
    assert db.session.scalar(text("SELECT current_setting('plan_cache_mode')")) == "auto"
    with statements() as seen:
        for _ in range(7):  # past psycopg's threshold for preparing a statement
            assert queue_count(reader, QueueFilter()) == 1
            assert len(queue_ids(reader, QueueFilter())) == 1
        assert db.session.scalar(text("SELECT current_setting('plan_cache_mode')")) == "force_custom_plan"
    assert [s for s in seen if s != "COMMIT" and not s.startswith("SELECT ")] == []
    assert len([s for s in seen if "set_config" in s]) == 1, "once a transaction"
    db.session.commit()
    assert db.session.scalar(text("SELECT current_setting('plan_cache_mode')")) == "auto"
