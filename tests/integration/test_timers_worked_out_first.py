"""On SQLite one writer holds the database at a time, so a sweep works out its cases' firings (restore
each workflow, fire what is due, serialize it) before it takes the write lock, and only saves them
under it: two workers' CPU work overlaps instead of taking turns. A firing worked out before the lock
is saved only if nobody saved its instance since; otherwise it is worked out again, under the lock,
on what the case is now."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import event, select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, Timer
from app.services.audit import count_events, verify_audit
from app.services.cases import lifecycle
from app.services.cases.timers import claim_due_timers, fire_instance_timers, sweep_timers, work_out_firing
from app.services.tasks import human_tasks
from tests.factories import deploy_test_model, make_user, open_timed_cases

OPENED = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
CONCERN = {"subject_name": "Alex Example", "summary": "Shouted at a patient.", "immediate_danger": False}


def _sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def test_a_sweep_on_sqlite_reads_and_fires_its_cases_before_it_takes_the_write_lock(app_ctx):
    if not _sqlite():
        pytest.skip("PostgreSQL locks one case at a time: its workers already overlap")
    deploy_test_model("timed")
    reporter, _ = make_user()
    with time_machine.travel(OPENED, tick=False) as traveller:
        open_timed_cases(reporter, OPENED, (10, 20, 30))
        traveller.move_to(OPENED + timedelta(hours=1))
        sent: list[str] = []

        def note(_conn, _cursor, statement, *_args):
            sent.append(" ".join(statement.split()))

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            result = sweep_timers("worker-a", per_commit=10)
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
    assert (result.claimed, result.instances, result.failures, result.conflicts) == (3, 3, 0, 0)
    lock = sent.index("BEGIN IMMEDIATE")
    reads = [n for n, statement in enumerate(sent) if statement.startswith("SELECT process_instance.")]
    assert len([n for n in reads if n < lock]) == 3  # each case read (and fired) before the lock
    assert sent.count("BEGIN IMMEDIATE") == 1  # and all three saved under one
    assert count_events("timer_fired") == 3 and verify_audit() == []


def _case_with_a_due_reminder(traveller):
    deploy_test_model("simple")
    reporter, _ = make_user()
    case = lifecycle.start_case("simple", CONCERN, reporter)
    traveller.move_to(OPENED + timedelta(hours=2, minutes=1))  # the reminder is due, the deadline not
    claimed = claim_due_timers("worker-a", batch=10, claim_seconds=600)
    return case, [uuid for _id, _instance, uuid in claimed]


def test_a_firing_worked_out_first_is_saved_as_it_was_worked_out(app_ctx):
    with time_machine.travel(OPENED, tick=True) as traveller:
        case, claimed = _case_with_a_due_reminder(traveller)
        worked_out = work_out_firing(case.instance_id)
        db.session.commit()
        fire_instance_timers(case.instance_id, "worker-a", claimed, worked_out=worked_out)
    instance = db.session.get(ProcessInstance, case.instance_id)
    db.session.refresh(instance)
    assert instance.state == worked_out.state  # its own serialization, not one made again (the clock ticks)
    assert count_events("timer_fired") == 1
    reminder = db.session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.name == "Review reminder")).one()
    assert reminder.status == "fired" and reminder.claimed_by is None
    assert verify_audit() == []


def test_a_firing_worked_out_before_a_colleague_step_is_worked_out_again_on_the_case_as_it_is(app_ctx):
    lead, _ = make_user("safeguarding_team")
    with time_machine.travel(OPENED, tick=True) as traveller:
        case, claimed = _case_with_a_due_reminder(traveller)
        worked_out = work_out_firing(case.instance_id)
        db.session.commit()
        # meanwhile a colleague completes the review: its reminder and deadline are cancelled
        review = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id,
                                                            HumanTask.status == "open")).one()
        human_tasks.complete_task(review.id, lead, {"decision": "close"})
        fire_instance_timers(case.instance_id, "worker-a", claimed, worked_out=worked_out)
    instance = db.session.get(ProcessInstance, case.instance_id)
    db.session.refresh(instance)
    assert instance.state != worked_out.state
    assert count_events("timer_fired") == 0 and count_events("timer_cancelled") == 2
    assert db.session.scalars(select(HumanTask.title).where(HumanTask.case_id == case.id,
                                                            HumanTask.status == "open")).all() == []
    assert verify_audit() == []
