"""The bulk population path writes the rows the services would: clones behave like real cases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Case, HumanTask, ProcessInstance, Timer
from app.services import people
from app.services.audit import verify_audit
from app.services.cases.lifecycle import load_workflow
from app.services.tasks import human_tasks
from app.workflow import snapshot, state_json
from bench.population import SCENARIOS, build_templates, clone_population, default_base


def _counts(case_id: int) -> dict:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)
                                                   .where(model.case_id == case_id))
            for model in (HumanTask, Timer, AuditEvent)}


def test_clones_match_their_templates_and_keep_working(app_ctx):
    templates = build_templates(default_base(), [SCENARIOS / "simple" / "deadline_missed_escalates.json"],
                                cuts=(0.3, 1.0))
    assert {t.status for t in templates} == {"open", "closed"}
    before = db.session.scalar(select(func.count()).select_from(Case))
    assert clone_population(templates, 4, batch=3) == 4
    clones = db.session.scalars(select(Case).order_by(Case.id.desc()).limit(4)).all()
    assert db.session.scalar(select(func.count()).select_from(Case)) == before + 4
    assert verify_audit() == []
    for clone in clones:
        template = next(t for t in templates if t.status == clone.status and t.pathway == clone.pathway)
        assert _counts(clone.id) == {table: len(template.rows[table]) for table in _counts(clone.id)}
        captured = template.rows["case_record"][0]
        assert clone.reference != captured["reference"]
        assert (clone.stage, clone.subject_name, clone.outcome) == (captured["stage"], captured["subject_name"],
                                                                   captured["outcome"])
        workflow, model = load_workflow(db.session.get(ProcessInstance, clone.instance_id))
        ready = {t.task_uuid for t in snapshot(workflow, model).ready_tasks}
        open_rows = db.session.scalars(select(HumanTask).where(HumanTask.case_id == clone.id,
                                                               HumanTask.status == "open")).all()
        assert {row.task_uuid for row in open_rows} == ready
        assert f'"{clone.reference}"' in state_json(clone.instance.state)

    open_clone = next(c for c in clones if c.status == "open")
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == open_clone.id, HumanTask.status == "open"))
    user = people.create_user("clone-worker", "Clone worker", ["staff", task.role_key])
    answers = {"Task_review": {"decision": "close"}}.get(task.bpmn_id, {"action_taken": "Done"})
    done = human_tasks.complete_task(task.id, user, answers)
    assert done.status == "completed"
    assert verify_audit() == []


def _shape(template) -> tuple:
    """What a template is, leaving out its dates: status, stage, open tasks and its audit trail (but
    whom it told: storm control holds back people told of many tasks, as the earlier builds' were)."""
    case = template.rows["case_record"][0]
    return (template.status, case["stage"], sorted(t["bpmn_id"] for t in template.rows["human_task"]
                                                    if t["status"] == "open"),
            [event["event_type"] for event in template.rows["audit_event"]
             if event["event_type"] != "notification_queued"])


def test_the_bench_s_templates_are_the_same_whatever_the_day_and_hour_of_the_run(app_ctx):
    """A route written for a Monday at 10:00, built from 17:30 (out of hours: its first steps go to the
    on-call manager) or from a Saturday (its working-day clocks counted from the weekend), used to be
    skipped, and the population the pages and sizes are measured on followed the day of the run. Each
    route now starts at its own weekday and time of day, at or after the run's moment."""
    route = SCENARIOS / "pipot" / "outcome_unfounded.json"
    bases = [datetime(2027, 1, 11, 17, 30, tzinfo=timezone.utc),  # a Monday, after hours
             datetime(2027, 2, 6, 14, 0, tzinfo=timezone.utc),  # a Saturday
             datetime(2027, 3, 10, 10, 0, tzinfo=timezone.utc)]  # a Wednesday
    built = [build_templates(base, [route], keep_weekday=True) for base in bases]
    assert [len(templates) for templates in built] == [3, 3, 3]  # every cut, each time
    assert {t.status for t in built[0]} == {"open", "closed"}
    assert [_shape(t) for t in built[1]] == [_shape(t) for t in built[0]]
    assert [_shape(t) for t in built[2]] == [_shape(t) for t in built[0]]
    for base, templates in zip(bases, built):
        opened = min(event["at"] for event in templates[0].rows["audit_event"])
        opened = opened if opened.tzinfo else opened.replace(tzinfo=timezone.utc)
        assert (opened.weekday(), opened.hour, opened.minute) == (0, 10, 0)  # the route's own Monday 10:00
        assert base <= opened < base + timedelta(days=7)
