"""The bulk population path writes the rows the services would: clones behave like real cases."""
from __future__ import annotations

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
