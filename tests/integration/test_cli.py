"""`flask deploy` and `flask verify-audit`."""
from __future__ import annotations

from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, ProcessDefinition
from app.services.cases import lifecycle
from tests.conftest import DATA
from tests.factories import deploy_test_model, make_user

CONCERN = {"subject_name": "Alex Example", "summary": "Shouted at a patient.", "immediate_danger": False}


def test_unsafe_models_are_refused_with_readable_reasons(app_ctx, runner):
    unsafe = DATA / "unsafe"
    result = runner.invoke(args=["deploy", str(unsafe / "xxe_file.bpmn"), str(unsafe / "entity_bomb.bpmn"),
                                 str(unsafe / "sandbox_escape_script.bpmn"),
                                 str(unsafe / "sandbox_import_condition.bpmn")])
    assert result.exit_code == 1
    output = result.output
    assert "xxe_file.bpmn: not deployed" in output
    assert "entity_bomb.bpmn: not deployed" in output
    assert "declares XML entities" in output
    assert "[escape_script]" in output and "'__class__' is not allowed" in output
    assert "'__import__' is not allowed" in output
    assert "root:" not in output
    assert db.session.scalar(select(ProcessDefinition.id)) is None


def test_a_lane_that_is_not_a_role_and_a_missing_form_are_refused(app_ctx, runner, tmp_path):
    bad = (DATA / "engine" / "simple.bpmn").read_text().replace('name="On-call manager"', 'name="Duty wizard"')
    bad = bad.replace("simple_ack.schema.json", "no_such_form.schema.json")
    path = tmp_path / "bad.bpmn"
    path.write_text(bad)
    result = runner.invoke(args=["deploy", str(path)])
    assert result.exit_code == 1
    assert "[Lane_on_call]: Lane 'Duty wizard' is not a role" in result.output
    assert "[Task_escalated]: Form 'no_such_form.schema.json' does not exist" in result.output


def test_deploying_unchanged_content_is_a_no_op(app_ctx):
    first = deploy_test_model("simple")
    again = deploy_test_model("simple")
    assert (first.id, first.version) == (again.id, 1)


def test_a_changed_model_is_a_new_version_and_running_cases_stay_on_theirs(app_ctx, tmp_path):
    from app.services.definitions import deploy_definition, forms_dir_loader

    reporter, _ = make_user()
    deploy_test_model("simple")
    old_case = lifecycle.start_case("simple", CONCERN, reporter)
    changed = (DATA / "engine" / "simple.bpmn").read_bytes().replace(b'case_stage = "Review"', b'case_stage = "Triage"')
    definition, created = deploy_definition(changed, "simple.bpmn",
                                            load_form=forms_dir_loader(str(DATA / "engine" / "forms")))
    assert created and definition.version == 2
    new_case = lifecycle.start_case("simple", CONCERN, reporter)
    assert (old_case.instance.definition.version, old_case.stage) == (1, "Review")
    assert (new_case.instance.definition.version, new_case.stage) == (2, "Triage")


def test_verify_audit_names_a_case_whose_trail_was_edited(app_ctx, runner):
    deploy_test_model("simple")
    reporter, _ = make_user()
    tampered = lifecycle.start_case("simple", CONCERN, reporter)
    untouched = lifecycle.start_case("simple", CONCERN | {"subject_name": "Jo Other"}, reporter)
    assert runner.invoke(args=["verify-audit"]).output.strip() == "Audit trail intact."

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == tampered.id,
                                                       AuditEvent.event_type == "task_completed"))
    db.session.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                       .values(data=event.data | {"answers": {"summary": "Nothing happened."}}))
    db.session.commit()

    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 1
    assert f"BROKEN {tampered.reference} event {event.seq}: content does not match its hash" in result.output
    assert untouched.reference not in result.output


def test_verify_audit_notices_a_deleted_event(app_ctx, runner):
    deploy_test_model("simple")
    reporter, _ = make_user()
    case = lifecycle.start_case("simple", CONCERN, reporter)
    second = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.seq == 2))
    db.session.delete(second)
    db.session.commit()
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 1
    assert f"BROKEN {case.reference} event 3: event 2 is missing" in result.output


def test_deploy_records_who_deployed_and_the_change_note(app_ctx, runner):
    from app.config import PROJECT_ROOT

    user, _ = make_user("process_owner", name="Pat Owner")
    result = runner.invoke(args=["deploy", str(PROJECT_ROOT / "bpmn" / "pipot.bpmn"), "--by", user.username,
                                 "--note", "First version"])
    assert result.exit_code == 0, result.output
    assert "pipot.bpmn: deployed as pipot version 1" in result.output
    definition = db.session.scalar(select(ProcessDefinition))
    assert (definition.deployed_by_id, definition.change_note) == (user.id, "First version")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event_type == "definition_deployed"))
    assert event.actor_label == "Pat Owner" and event.data["sha256"] == definition.sha256
    again = runner.invoke(args=["deploy", str(PROJECT_ROOT / "bpmn" / "pipot.bpmn")])
    assert "unchanged, still pipot version 1" in again.output
