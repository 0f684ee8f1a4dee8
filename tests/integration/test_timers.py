"""Boundary timers fire when the clock passes their due time, and not before."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, HumanTask, Timer
from app.services import definitions
from app.services.audit import count_events, lock_case, record_event, verify_audit
from app.services.cases import lifecycle
from app.services.cases.timers import claim_due_timers, in_case_order, sweep_timers
from app.services.tasks import human_tasks
from tests.conftest import DATA
from tests.factories import deploy_test_model, make_user, open_timed_cases

OPENED = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
CONCERN = {"subject_name": "Alex Example", "summary": "Shouted at a patient.", "immediate_danger": False}


def _open_tasks(case_id):
    return {t.title: t for t in db.session.scalars(
        select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status == "open"))}


def test_reminder_and_escalation_fire_when_due_and_not_before(app_ctx):
    deploy_test_model("simple")
    reporter, _ = make_user()
    with time_machine.travel(OPENED, tick=False) as traveller:
        case = lifecycle.start_case("simple", CONCERN, reporter)
        review = _open_tasks(case.id)["Review the concern"]
        assert review.due_at == OPENED + timedelta(hours=4)
        waiting = db.session.scalars(select(Timer).where(Timer.case_id == case.id)).all()
        assert {(t.name, t.due_at, t.interrupting, t.guards) for t in waiting} == {
            ("Review reminder", OPENED + timedelta(hours=2), False, "Review the concern"),
            ("Review deadline", OPENED + timedelta(hours=4), True, "Review the concern")}

        traveller.move_to(OPENED + timedelta(hours=1, minutes=59))
        assert sweep_timers("test").claimed == 0
        assert set(_open_tasks(case.id)) == {"Review the concern"}

        traveller.move_to(OPENED + timedelta(hours=2, minutes=1))
        assert sweep_timers("test").claimed == 1
        open_now = _open_tasks(case.id)
        assert set(open_now) == {"Review the concern", "Reminder: review is due soon"}
        assert open_now["Reminder: review is due soon"].role_key == "safeguarding_team"
        assert count_events("timer_fired") == 1

        traveller.move_to(OPENED + timedelta(hours=3, minutes=59))
        assert sweep_timers("test").claimed == 0

        traveller.move_to(OPENED + timedelta(hours=4, minutes=1))
        assert sweep_timers("test").claimed == 1
        open_now = _open_tasks(case.id)
        assert set(open_now) == {"Reminder: review is due soon", "Escalation: review deadline missed"}
        escalation = open_now["Escalation: review deadline missed"]
        assert escalation.role_key == "on_call_manager" and escalation.escalation
        assert count_events("timer_fired") == 2
        assert count_events("escalation_raised") == 1
        assert count_events("task_cancelled") == 1  # the review, interrupted by the deadline


def test_completing_the_task_in_time_cancels_its_timers(app_ctx):
    deploy_test_model("simple")
    reporter, _ = make_user()
    lead, _ = make_user("safeguarding_team")
    with time_machine.travel(OPENED, tick=False) as traveller:
        case = lifecycle.start_case("simple", CONCERN, reporter)
        review = _open_tasks(case.id)["Review the concern"]
        traveller.move_to(OPENED + timedelta(hours=1))
        human_tasks.complete_task(review.id, lead, {"decision": "close"})
        traveller.move_to(OPENED + timedelta(days=3))
        assert sweep_timers("test").claimed == 0
        assert count_events("timer_fired") == 0
        assert count_events("timer_cancelled") == 2


def test_a_timer_due_while_nothing_ran_fires_at_the_next_sweep(app_ctx):
    deploy_test_model("timed")
    reporter, _ = make_user()
    with time_machine.travel(OPENED, tick=False) as traveller:
        [case] = open_timed_cases(reporter, OPENED, (60,))
        traveller.move_to(OPENED + timedelta(days=4))  # the system was down over a long weekend
        result = sweep_timers("test")
        assert (result.claimed, result.instances) == (1, 1)
        db.session.refresh(case)
        assert (case.status, case.stage, case.outcome) == ("closed", "Followed up", "no_further_action")


def test_a_worker_claims_every_due_timer_of_a_case_together(app_ctx):
    """Two timers of one case due at once go to one worker, so two workers never both load the case
    and one of them throw its work away."""
    deploy_test_model("simple")
    reporter, _ = make_user()
    with time_machine.travel(OPENED, tick=False) as traveller:
        case = lifecycle.start_case("simple", CONCERN, reporter)
        traveller.move_to(OPENED + timedelta(hours=5))  # the reminder and the deadline are both due
        claimed = claim_due_timers("worker-a", batch=1, claim_seconds=60)
        timers = db.session.scalars(select(Timer.id).where(Timer.case_id == case.id)).all()
        assert sorted(timer_id for timer_id, _instance, _uuid in claimed) == sorted(timers)
        assert claim_due_timers("worker-b", batch=1, claim_seconds=60) == []


def test_a_sweep_leaves_no_claim_behind(app_ctx):
    """A timer that fires gives up its claim as it closes; a claimed timer the workflow does not fire
    (its row said due, the workflow disagrees) takes the workflow's due time and is released at once,
    not left claimed until the claim expires."""
    deploy_test_model("simple")
    reporter, _ = make_user()
    with time_machine.travel(OPENED, tick=False) as traveller:
        case = lifecycle.start_case("simple", CONCERN, reporter)
        deadline = db.session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.name == "Review deadline")).one()
        deadline.due_at = OPENED + timedelta(minutes=30)  # the row disagrees with the workflow (due at 4 hours)
        db.session.commit()
        traveller.move_to(OPENED + timedelta(hours=3))  # the reminder is due; the deadline is not, whatever its row says
        result = sweep_timers("worker-a", claim_seconds=600)
        assert result.claimed == 2 and result.instances == 1
        rows = {t.name: t for t in db.session.scalars(select(Timer).where(Timer.case_id == case.id))}
        assert rows["Review reminder"].status == "fired" and rows["Review deadline"].status == "waiting"
        assert rows["Review deadline"].due_at == OPENED + timedelta(hours=4)
        assert [t.claimed_by for t in rows.values()] == [None, None]
        assert [t.claim_expires_at for t in rows.values()] == [None, None]


def _deploy_timed_failing_at(minute: str) -> None:
    """The `timed` model, whose script after the timer fails (a name it does not know) for a
    follow-up set at `minute` past the hour, and runs for any other."""
    document = (DATA / "engine" / "timed.bpmn").read_text().replace(
        'outcome = "no_further_action"',
        f'outcome = "no_further_action" if ":{minute}:" not in follow_up_at else name_nobody_set')
    definitions.deploy_definition(document.encode(), "timed.bpmn",
                                  load_form=definitions.forms_dir_loader(str(DATA / "engine" / "forms")))


def test_cases_fired_in_one_transaction_stand_or_fall_alone(app_ctx):
    """The sweep fires several cases to a commit, each in a savepoint: the case whose model fails is
    rolled back alone and recorded as stopped; the cases before and after it in the same transaction
    fire, and every audit chain (the cases' and the system's) still verifies."""
    _deploy_timed_failing_at("30")
    reporter, _ = make_user()
    with time_machine.travel(OPENED, tick=False) as traveller:
        cases = open_timed_cases(reporter, OPENED, (10, 30, 50))
        traveller.move_to(OPENED + timedelta(hours=1))
        result = sweep_timers("worker-a", per_commit=10)
    assert (result.claimed, result.instances, result.failures, result.conflicts) == (3, 2, 1, 0)
    for case in cases:
        db.session.refresh(case)
    assert [case.status for case in cases] == ["closed", "open", "closed"]
    stopped = db.session.scalars(select(AuditEvent).where(AuditEvent.event_type == "process_stopped")).all()
    assert [(event.case_id, event.data["element_id"]) for event in stopped] == [(cases[1].id, "Script_fired")]
    held = db.session.scalars(select(Timer).where(Timer.case_id == cases[1].id)).one()
    assert held.status == "waiting" and held.claimed_by != "worker-a"
    assert count_events("timer_fired") == 2
    assert verify_audit() == []


def test_an_audit_chain_survives_a_savepoint_rolled_back(app_ctx):
    """Events written in a savepoint that is rolled back leave no trace in the chain's cached end:
    the next event links to the last one that stayed."""
    reporter, _ = make_user()
    case = lifecycle.start_case("simple", CONCERN, reporter) if deploy_test_model("simple") else None
    savepoint = db.session.begin_nested()
    record_event("note_added", case_id=case.id, data={"n": 1})
    record_event("settings_changed", data={"n": 1})
    db.session.flush()
    savepoint.rollback()
    record_event("note_added", case_id=case.id, data={"n": 2})
    record_event("settings_changed", data={"n": 2})
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(AuditEvent.data["n"].as_integer() == 1)) == 0
    assert verify_audit() == []


def test_reads_kept_for_a_commit_outlive_its_savepoints(app_ctx):
    """What one transaction reads once (the organisation it routes on) stays read when a savepoint
    in it is released or rolled back, so the sweep's cases in one commit share it; what depends on
    the savepoint's own writes (a chain's last event, the cases locked) goes with a rollback; and the
    real commit forgets all of it."""
    from app.db import transaction_cache
    from app.services.units import organisation

    reporter, _ = make_user()
    case = lifecycle.start_case("simple", CONCERN, reporter) if deploy_test_model("simple") else None
    db.session.commit()
    known = organisation()
    savepoint = db.session.begin_nested()
    record_event("note_added", case_id=case.id, data={"n": 1})
    lock_case(case.id)
    savepoint.commit()
    assert transaction_cache(db.session)["organisation"] is known
    assert f"case:{case.id}" in transaction_cache(db.session)["audit_tails"]
    savepoint = db.session.begin_nested()
    record_event("note_added", case_id=case.id, data={"n": 2})
    savepoint.rollback()
    assert "audit_tails" not in transaction_cache(db.session) and "locked_cases" not in transaction_cache(db.session)
    assert organisation() is known  # its token read again; the units are not
    db.session.commit()
    assert transaction_cache(db.session) == {}
    assert verify_audit() == []


def test_the_sweep_fires_a_group_of_cases_to_a_commit_on_either_database(app_ctx):
    """Ten cases to a transaction on SQLite too (which takes its write lock before the first case is
    saved): one commit for the claim and one for the cases, not one per case."""
    from sqlalchemy import event

    deploy_test_model("timed")
    reporter, _ = make_user()
    with time_machine.travel(OPENED, tick=False) as traveller:
        open_timed_cases(reporter, OPENED, (10, 20, 30))
        traveller.move_to(OPENED + timedelta(hours=1))
        commits = []

        def committed(connection):
            commits.append(connection)

        event.listen(db.engine, "commit", committed)
        try:
            result = sweep_timers("worker-a", per_commit=10)
        finally:
            event.remove(db.engine, "commit", committed)
    assert (result.claimed, result.instances, result.failures) == (3, 3, 0)
    assert len(commits) == 2
    assert count_events("timer_fired") == 3 and verify_audit() == []


def test_a_sweep_fires_its_cases_in_the_order_every_other_writer_locks_them():
    """Two cases opened at the same moment: the later case's instance was written first. The sweep
    goes by case, as the fan-out and mail delivery do, so no two of them wait for each other."""
    from types import SimpleNamespace

    claimed = [SimpleNamespace(id=1, instance_id=10, task_uuid="a", case_id=6),
               SimpleNamespace(id=2, instance_id=11, task_uuid="b", case_id=5),
               SimpleNamespace(id=3, instance_id=10, task_uuid="c", case_id=6)]
    assert [instance for _id, instance, _uuid in in_case_order(claimed)] == [11, 10, 10]
