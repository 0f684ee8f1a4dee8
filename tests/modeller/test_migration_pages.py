"""Running cases stay on their version; a process owner moves those that can move, each move audited,
and one that cannot is refused with the reason."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, HumanTask
from app.services import definitions
from app.services.cases import lifecycle
from tests.modeller.conftest import concern_answers, open_pipot_case
from tests.modeller.models import pipot_with_manager_check
from tests.web.conftest import staff


def test_cases_that_can_move_are_moved_and_one_that_cannot_is_refused(web, owner, pipot, office_hours):
    manager = staff("reporting_manager", name="Jo Patel")
    ahead, past = open_pipot_case(manager), open_pipot_case(manager, past_first_steps=True)
    new, _ = definitions.deploy_definition(pipot_with_manager_check(), "pipot.bpmn", actor=owner, change_note="Check")
    newer = lifecycle.start_case("pipot", concern_answers(), manager)
    assert newer.instance.definition.version == 2 and ahead.instance.definition.version == 1

    web.sign_in(owner.username)
    page = web.get("/processes/pipot/versions/2/migrate")
    assert page.h1 == "Move running cases to version 2"
    assert page.tree.xpath(f"//input[@name='cases'][@value='{ahead.id}']")
    assert not page.tree.xpath(f"//input[@name='cases'][@value='{past.id}']")
    stuck = " ".join(" ".join(page.tree.xpath("//h2[@id='stuck']/following-sibling::table[1]")[0].itertext()).split())
    assert past.reference in stuck and "has been reached and the new version changes what follows it" in stuck
    assert "Alex Morgan" not in page.words  # references and stages only

    moved = web.post(page.url, {"csrf_token": page.form_data()[1]["csrf_token"][0], "cases": [str(ahead.id), str(past.id)]})
    assert f"Moved to version 2: {ahead.reference}." in moved.words
    assert f"{past.reference} cannot move: “Manager's first steps: notify and report” (Task_first_steps)" in moved.words
    db.session.expire_all()
    assert ahead.instance.definition.version == 2 and past.instance.definition.version == 1
    events = {e.case_id: e for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.event_type.in_(["case_migrated", "case_migration_refused"])))}
    assert events[ahead.id].event_type == "case_migrated" and events[ahead.id].actor_id == owner.id
    assert events[ahead.id].data["from_version"] == 1 and events[ahead.id].data["version"] == 2
    assert events[past.id].event_type == "case_migration_refused"


def test_a_moved_case_follows_the_new_version(pipot, owner, office_hours):
    from app.services.modeller import migrations
    from app.services.tasks import human_tasks
    from tests.modeller.conftest import first_steps_answers

    manager = staff("reporting_manager")
    case = open_pipot_case(manager)
    definitions.deploy_definition(pipot_with_manager_check(), "pipot.bpmn", actor=owner, change_note="Check")
    result = migrations.migrate_cases("pipot", 2, [case.id], owner)
    assert result.moved == [case.reference]
    first = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open"))
    assert first.bpmn_id == "Task_first_steps"
    human_tasks.complete_task(first.id, manager, first_steps_answers())
    assert [t.bpmn_id for t in db.session.scalars(select(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.status == "open"))] == ["Task_manager_check"]
