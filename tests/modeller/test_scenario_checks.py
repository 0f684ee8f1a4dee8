"""The scenario check on deploy: a candidate version runs its pathway's scenarios in a process of its own,
the deploy page shows each result, and a version that breaks one is deployed only if the process owner
accepts the failures (audited)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.services import definitions
from app.services.errors import ValidationFailed
from app.services.modeller import deployment, drafts, scenario_checks
from tests.web.conftest import DATA

SIMPLE = DATA / "engine" / "simple.bpmn"


@pytest.fixture
def engine_forms(app, tmp_path):
    saved = app.config["FORMS_DIR"], app.config["SCENARIO_CHECK_DIR"]
    app.config["FORMS_DIR"], app.config["SCENARIO_CHECK_DIR"] = str(DATA / "engine" / "forms"), str(tmp_path)
    yield
    app.config["FORMS_DIR"], app.config["SCENARIO_CHECK_DIR"] = saved


@pytest.fixture
def simple(app_ctx, engine_forms):
    definition, _ = definitions.deploy_definition(SIMPLE.read_bytes(), SIMPLE.name)
    return definition


def _draft(owner, bpmn: bytes):
    draft = drafts.start_draft("simple", 1, owner)
    return drafts.save_draft(draft.id, bpmn, owner)


def _run(draft, owner):
    check = scenario_checks.start_check(draft.id, owner)
    return scenario_checks.wait_for_check(check.id)


def test_a_version_that_keeps_every_route_passes_and_deploys(web, owner, simple):
    draft = _draft(owner, SIMPLE.read_bytes().replace(b'name="Mark stage"', b'name="Mark the stage"'))
    check = _run(draft, owner)
    assert check.status == "passed", check.message
    assert [r["scenario"] for r in check.results] == ["simple/deadline_missed_escalates"]
    web.sign_in(owner.username)
    page = web.get(f"/processes/drafts/{draft.id}/deploy")
    assert "Passed Every scenario passed." in page.words
    done = web.submit(page, {"change_note": "Clearer name"}, form=f"/processes/drafts/{draft.id}/deploy")
    assert "Version 2 of Simple concern is deployed" in done.words


def test_a_version_that_breaks_a_route_is_refused_unless_the_failures_are_accepted(web, owner, simple):
    slower = SIMPLE.read_bytes().replace(b"hours_after(case_opened_at, 2)", b"hours_after(case_opened_at, 3)")
    draft = _draft(owner, slower)
    with pytest.raises(ValidationFailed, match="has not been run"):
        deployment.deploy_draft(draft.id, owner, "Slower reminder")
    check = _run(draft, owner)
    assert check.status == "failed"
    [failure] = scenario_checks.failures(check)
    assert failure.startswith("Review deadline missed")
    web.sign_in(owner.username)
    page = web.get(f"/processes/drafts/{draft.id}/deploy")
    assert "Failed 1 of 1 scenarios failed." in page.words
    refused = web.submit(page, {"change_note": "Slower reminder"}, form=f"/processes/drafts/{draft.id}/deploy", status=400)
    assert refused.error_summary()[0][1] == "#accept_failures"
    done = web.submit(refused, {"accept_failures": "yes"}, form=f"/processes/drafts/{draft.id}/deploy")
    assert "Version 2 of Simple concern is deployed" in done.words
    accepted = db.session.scalar(select(AuditEvent).where(AuditEvent.event_type == "scenario_failures_accepted"))
    assert accepted.actor_id == owner.id and accepted.data["failures"] == [failure]
