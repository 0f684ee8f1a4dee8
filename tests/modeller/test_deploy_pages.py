"""Drafts, import, validation and deployment through the pages (and the modeller's JSON calls)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ModelDraft, ProcessDefinition
from tests.modeller.models import pipot_bytes, with_task_after
from tests.web.conftest import DATA, deploy

UNSAFE = DATA / "unsafe"


def _import(web, name: str, content: bytes, status: int = 200):
    page = web.get("/processes")
    return web.submit(page, files={"file": (name, content)}, form="/processes/import", status=status)


@pytest.fixture
def concern(app_ctx):
    """The page tests' small concern pathway (it has no scenario suite)."""
    return deploy("web", "concern")


@pytest.fixture
def web_forms(app):
    previous = app.config["FORMS_DIR"]
    app.config["FORMS_DIR"] = str(DATA / "web" / "forms")
    yield
    app.config["FORMS_DIR"] = previous


def test_an_xxe_upload_is_refused_with_the_reason(web, owner):
    web.sign_in(owner.username)
    page = _import(web, "xxe.bpmn", (UNSAFE / "xxe_file.bpmn").read_bytes(), status=400)
    assert page.title.startswith("Error: ")
    assert any("declares XML entities" in m or "document type declaration" in m for m, _ in page.error_summary())
    assert db.session.scalar(select(ModelDraft.id)) is None


def test_a_sandbox_escape_is_refused_on_deploy_with_the_reason(web, owner):
    web.sign_in(owner.username)
    draft = _import(web, "escape.bpmn", (UNSAFE / "sandbox_escape_script.bpmn").read_bytes())
    assert draft.h1 == "Sandbox escape through a script task"
    page = web.get(draft.url + "/deploy")
    reasons = " ".join(m for m, _ in page.error_summary())
    assert "escape_script: script:" in reasons and "__class__" in reasons
    refused = web.post(draft.url + "/deploy", {"csrf_token": _token(page), "change_note": "Try"}, status=400)
    assert "escape_script" in " ".join(m for m, _ in refused.error_summary())
    assert db.session.scalar(select(ProcessDefinition.id)) is None


def test_a_lane_that_is_not_a_role_is_refused_with_the_reason(web, owner, pipot, office_hours):
    web.sign_in(owner.username)
    wizards = pipot_bytes().replace(b'name="Triage panel"', b'name="Wizards"')
    draft = _import(web, "pipot.bpmn", wizards)
    checked = web.submit(draft, form=draft.url + "/validate")
    assert ("Lane_triage_panel: Lane 'Wizards' is not a role. Name the lane after a role in the role table.",
            "#element-Lane_triage_panel") in checked.error_summary()


def test_a_draft_saved_by_the_modeller_needs_the_csrf_token(web, owner, concern, web_forms):
    web.sign_in(owner.username)
    draft = web.submit(web.get("/processes/concern"), form="/processes/concern/versions/1/draft")
    xml = concern.bpmn_xml.decode().replace("Raise a concern", "Report a concern")
    with web.app.app_context():
        refused = web.client.post(draft.url + "/save", json={"xml": xml})
        saved = web.client.post(draft.url + "/save", json={"xml": xml}, headers={"X-CSRFToken": _token(draft)})
        unsafe = web.client.post(draft.url + "/save", json={"xml": (UNSAFE / "xxe_network.bpmn").read_text()},
                                 headers={"X-CSRFToken": _token(draft)})
        checked = web.client.post(draft.url + "/validate", json={}, headers={"X-CSRFToken": _token(draft)})
    assert refused.status_code == 400 and saved.status_code == 200 and saved.json["saved"]
    assert unsafe.status_code == 400 and not unsafe.json["saved"]
    assert checked.json == {"passed": True, "problems": []}


def test_validation_pins_each_problem_to_its_element(web, owner, concern, web_forms):
    web.sign_in(owner.username)
    draft = web.submit(web.get("/processes/concern"), form="/processes/concern/versions/1/draft")
    broken = with_task_after(concern.bpmn_xml, _first_flow(concern.bpmn_xml), "Task_new", "New task", _first_lane(concern.bpmn_xml), form=None)
    with web.app.app_context():
        web.client.post(draft.url + "/save", json={"xml": broken.decode()}, headers={"X-CSRFToken": _token(draft)})
        checked = web.client.post(draft.url + "/validate", json={}, headers={"X-CSRFToken": _token(draft)})
    assert checked.json["passed"] is False
    assert {"element_id": "Task_new", "message": "User task 'New task' names no form (property formJsonSchemaFilename)."} \
        in checked.json["problems"]


def test_a_deploy_needs_a_change_note_and_records_who_deployed(web, owner, concern, web_forms):
    web.sign_in(owner.username)
    draft = web.submit(web.get("/processes/concern"), form="/processes/concern/versions/1/draft")
    xml = concern.bpmn_xml.replace(b"Raise a concern", b"Report a concern")
    with web.app.app_context():
        web.client.post(draft.url + "/save", json={"xml": xml.decode()}, headers={"X-CSRFToken": _token(draft)})
    page = web.get(draft.url + "/deploy")
    assert "This process has no scenarios to run." in page.words
    missing = web.submit(page, {"change_note": ""}, form=draft.url + "/deploy", status=400)
    assert missing.error_summary() == [("Say what changed in this version and why.", "#change_note")]
    done = web.submit(missing, {"change_note": "Plainer task name"}, form=draft.url + "/deploy")
    assert "Version 2 of" in done.words and "is deployed" in done.words
    version = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.version == 2))
    assert version.deployed_by_id == owner.id and version.change_note == "Plainer task name"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event_type == "definition_deployed")
                              .order_by(AuditEvent.id.desc()).limit(1))
    assert event.actor_id == owner.id and event.data["version"] == 2


def _token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _first_flow(bpmn: bytes) -> str:
    return re.search(rb'<bpmn:sequenceFlow id="([^"]+)" sourceRef="StartEvent', bpmn).group(1).decode()


def _first_lane(bpmn: bytes) -> str:
    return re.search(rb'<bpmn:lane id="([^"]+)"', bpmn).group(1).decode()
