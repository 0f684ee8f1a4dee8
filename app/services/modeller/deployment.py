"""Deploying a draft: validated as `flask deploy` does, checked against its pathway's scenarios
(`app.services.modeller.scenario_checks`), with who deployed it and why. Every deploy and every
acceptance of failed scenarios is an audit event."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import ModelDraft, ProcessDefinition, Role, User
from app.services.audit import record_event
from app.services.definitions import deploy_definition, latest_definition
from app.services.errors import DeployRefused, ValidationFailed
from app.services.modeller import scenario_checks
from app.services.modeller.drafts import DraftCheck, check_draft, draft_hash, get_draft
from app.services.modeller.library import form_choices
from app.workflow import render_svg


def deploy_draft(draft_id: int, actor: User, change_note: str, accept_failures: bool = False) -> ProcessDefinition:
    """Deploy a draft as a new version: it must validate, have a change note and pass its pathway's
    scenario check (or the process owner accepts the listed failures, which is audited)."""
    draft = get_draft(draft_id)
    if not change_note.strip():
        raise ValidationFailed({"change_note": "Say what changed in this version and why."})
    check = check_draft(draft_id)
    if not check.passed:
        raise DeployRefused(check.problems)
    failures = _scenario_failures(draft, accept_failures)
    if failures:
        record_event("scenario_failures_accepted", actor=actor, data={
            "process_key": check.process_key, "draft_id": draft.id, "sha256": draft_hash(draft), "failures": failures})
    definition, created = deploy_definition(draft.bpmn_xml, draft.filename, actor=actor, change_note=change_note.strip())
    if not created:
        raise ValidationFailed({"change_note": f"This model and its forms are the same as version {definition.version}: "
                                               "there is nothing new to deploy."}, "Nothing to deploy.")
    draft.status, draft.deployed_definition_id = "deployed", definition.id
    draft.updated_by_id, draft.updated_at = actor.id, clock.now()
    db.session.commit()
    return definition


def _scenario_failures(draft: ModelDraft, accept_failures: bool) -> list[str]:
    """The failed scenarios being accepted (empty when all passed or the pathway has no scenarios)."""
    if not scenario_checks.has_suite(draft.process_key):
        return []
    check = scenario_checks.latest_check(draft.id, draft_hash(draft))
    if check is None:
        raise ValidationFailed({"scenarios": "Run the scenario check on this version before deploying it."},
                               "The scenario check has not been run.")
    if check.status == "running":
        raise ValidationFailed({"scenarios": "The scenario check is still running: wait for it to finish."},
                               "The scenario check is still running.")
    failures = scenario_checks.failures(check)
    if failures and not accept_failures:
        raise ValidationFailed({"accept_failures": "This version fails scenarios of its pathway. Fix the model, or "
                                                   "confirm that you accept the failures listed."},
                               "The scenario check failed.")
    return failures


@dataclass
class DraftPage:
    draft: ModelDraft
    based_on: ProcessDefinition | None
    svg: str
    forms: list[str]
    roles: list[str]


def draft_page(draft_id: int) -> DraftPage:
    """What the modeller page needs: the draft, its static picture, the forms and roles to choose from."""
    draft = get_draft(draft_id)
    based_on = db.session.get(ProcessDefinition, draft.based_on_id) if draft.based_on_id else None
    svg = _draft_svg(draft, {})
    roles = db.session.scalars(select(Role.name).order_by(Role.name)).all()
    return DraftPage(draft, based_on, svg, form_choices(), list(roles))

@dataclass
class DeployPage:
    draft: ModelDraft
    check: DraftCheck
    scenarios: int
    scenario_check: object | None
    failures: list[str]
    latest: ProcessDefinition | None
    svg: str = ""

    @property
    def marks(self) -> dict[str, str]:
        """The elements with a problem, for the diagram."""
        return {p.element_id: "problem" for p in self.check.problems if p.element_id}


def deploy_page(draft_id: int) -> DeployPage:
    """The draft's validation, its scenario check (for this content) and the version it would follow."""
    draft = get_draft(draft_id)
    check = check_draft(draft_id)
    suite = scenario_checks.suite(check.process_key)
    run = scenario_checks.latest_check(draft.id, draft_hash(draft)) if suite and check.passed else None
    failures = scenario_checks.failures(run) if run is not None and run.status != "running" else []
    latest = latest_definition(check.process_key, required=False) if check.process_key else None
    page = DeployPage(draft, check, len(suite), run, failures, latest)
    page.svg = _draft_svg(draft, page.marks)
    return page


def _draft_svg(draft: ModelDraft, marks: dict[str, str]) -> str:
    return render_svg(draft.bpmn_xml, max_bytes=current_app.config["MAX_BPMN_BYTES"], marks=marks,
                      label=f"Diagram of the draft {draft.name or draft.filename}", key="draft")
