"""A model with a script that would never finish: the step is stopped within the budget, names its
element, saves nothing, the case shows the problem, and the worker goes on with other cases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Case, CaseTeamMember, ProcessInstance, Timer
from app.services import definitions
from app.services.cases import lifecycle
from app.services.cases.timers import sweep_timers
from tests.factories import DATA, auth, deploy_test_model, make_user
from tests.web.conftest import staff
from tests.web.pages import WebClient

OPENED = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
FOLLOW_UP = {"follow_up_at": (OPENED + timedelta(hours=1)).isoformat()}


@pytest.fixture
def one_second_budget(app):
    previous = app.config["SCRIPT_STEP_SECONDS"]
    app.config["SCRIPT_STEP_SECONDS"] = 1.0
    app.extensions.pop("workflow_runtime", None)
    yield
    app.config["SCRIPT_STEP_SECONDS"] = previous
    app.extensions.pop("workflow_runtime", None)


def _events(case: Case, event_type: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                       AuditEvent.event_type == event_type)).all()


def test_a_never_ending_script_is_stopped_and_the_sweep_goes_on_with_other_cases(app_ctx, one_second_budget):
    deploy_test_model("hostile")
    deploy_test_model("timed")
    reporter, _ = make_user()
    with time_machine.travel(OPENED, tick=False) as traveller:
        hostile = lifecycle.start_case("hostile", FOLLOW_UP, reporter)
        timed = lifecycle.start_case("timed", FOLLOW_UP, reporter)
        version = db.session.get(ProcessInstance, hostile.instance_id).version
        traveller.move_to(OPENED + timedelta(hours=2))
        result = sweep_timers("test-worker")
        assert (result.instances, result.failures) == (1, 1)

        db.session.expire_all()
        assert db.session.get(Case, timed.id).status == "closed"  # the other case went on
        assert db.session.get(ProcessInstance, hostile.instance_id).version == version  # nothing saved
        assert _events(hostile, "timer_fired") == []
        [stopped] = _events(hostile, "process_stopped")
        assert stopped.data["element_id"] == "Script_spin"
        assert "ran for more than 1 second " in stopped.data["message"]

        traveller.move_to(OPENED + timedelta(hours=2, minutes=30))
        assert sweep_timers("test-worker").claimed == 0  # not retried at every sweep
        waiting = db.session.scalar(select(Timer).where(Timer.case_id == hostile.id))
        assert waiting.status == "waiting"  # retried later, or after the case is moved to a mended version


def test_the_case_page_shows_the_stop_to_its_team(app_ctx, one_second_budget, client):
    deploy_test_model("hostile")
    member = staff()
    with time_machine.travel(OPENED, tick=False) as traveller:
        hostile = lifecycle.start_case("hostile", FOLLOW_UP, staff())
        db.session.add(CaseTeamMember(case_id=hostile.id, user_id=member.id, reason="Test: on the team",
                                      added_at=OPENED))
        db.session.commit()
        traveller.move_to(OPENED + timedelta(hours=2))
        sweep_timers("test-worker")
    web = WebClient(app_ctx, client)
    web.sign_in(member.username)
    page = web.get(f"/cases/{hostile.reference}")
    assert "The process stopped at Script_spin" in page.words


def test_a_case_start_that_would_never_finish_is_refused_naming_the_element(app_ctx, client):
    deploy_test_model("hostile")
    _, reporter = make_user()
    spinning = (b'<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_request" targetRef="Script_spin" />')

    document = (DATA / "engine" / "hostile.bpmn").read_bytes().replace(
        b'<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_request" targetRef="Timer_follow_up" />', spinning)
    loader = definitions.forms_dir_loader(str(DATA / "engine" / "forms"))
    definitions.deploy_definition(document, "hostile.bpmn", load_form=loader)
    answer = client.post("/api/cases", json={"pathway": "hostile", "data": FOLLOW_UP}, headers=auth(reporter))
    assert answer.status_code == 500 and answer.is_json
    assert "Script_spin" in answer.json["message"] and "Nothing was saved" in answer.json["message"]
    assert db.session.scalar(select(Case.id).where(Case.pathway == "hostile")) is None


def test_the_process_owner_sees_the_stopped_case_on_the_process_page(app_ctx, one_second_budget, client):

    deploy_test_model("hostile")
    with time_machine.travel(OPENED, tick=False) as traveller:
        hostile = lifecycle.start_case("hostile", FOLLOW_UP, staff())
        traveller.move_to(OPENED + timedelta(hours=2))
        sweep_timers("test-worker")
        web = WebClient(app_ctx, client)
        web.sign_in(staff("process_owner").username)
        page = web.get("/processes/hostile")
    [row] = page.tree.xpath("//table[contains(@class,'app-stopped')]/tbody/tr")
    cells = [cell.text_content().strip() for cell in row.findall("td")]
    assert cells[0] == hostile.reference and cells[2] == "Script_spin"
    assert "stopped by the script budget" in cells[3] and "ran for more than 1 second" in cells[3]
