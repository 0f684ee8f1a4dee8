"""Process owners' work on models: the process library, drafts, validation and deployment.

A draft is a model being edited (in the browser modeller) or imported (a file from Camunda Modeler,
bpmn.io or any BPMN modeller): nothing runs it. Deploying a draft validates it as `flask deploy` does,
asks the scenario check of its pathway (`app.services.scenario_checks`) and records who deployed it and
why. Every deploy and every acceptance of failed scenarios is an audit event.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Case, ModelDraft, ProcessDefinition, ProcessInstance, User
from app.services import scenario_checks
from app.services.audit import record_event
from app.services.definitions import content_hash, deploy_definition, forms_dir_loader, validate_definition
from app.services.errors import DeployRefused, NotFound, ValidationFailed
from app.workflow import Problem
from app.workflow.definition import BPMN_NS
from app.workflow.xmlsafe import UnsafeXmlError, XmlSyntaxError, parse_xml

PROCESS_OWNER = "process_owner"


@dataclass
class ProcessSummary:
    process_key: str
    latest: ProcessDefinition
    versions: int
    cases_running: int


@dataclass
class VersionRow:
    definition: ProcessDefinition
    deployed_by: str
    cases_running: int


@dataclass
class DraftCheck:
    """A draft's validation: its process key (when readable) and every problem."""

    process_key: str | None
    problems: list[Problem]

    @property
    def passed(self) -> bool:
        return not self.problems


def list_processes() -> list[ProcessSummary]:
    """Every deployed process: its latest version, how many versions, how many cases running."""
    running = _running_by_definition()
    summaries: dict[str, ProcessSummary] = {}
    for definition in db.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.version)):
        summary = summaries.setdefault(definition.process_key, ProcessSummary(definition.process_key, definition, 0, 0))
        summary.latest, summary.versions = definition, summary.versions + 1
        summary.cases_running += running.get(definition.id, 0)
    return sorted(summaries.values(), key=lambda s: (s.latest.name or s.process_key).lower())


def process_versions(process_key: str) -> list[VersionRow]:
    """The versions of a process, newest first, with who deployed each and the cases running on it."""
    definitions = db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_key == process_key)
                                     .order_by(ProcessDefinition.version.desc())).all()
    if not definitions:
        raise NotFound(f"No process {process_key}.")
    running = _running_by_definition()
    names = dict(db.session.execute(select(User.id, User.display_name)).all())
    return [VersionRow(d, names.get(d.deployed_by_id, "the command line"), running.get(d.id, 0)) for d in definitions]


def _running_by_definition() -> dict[int, int]:
    rows = db.session.execute(select(ProcessInstance.definition_id, func.count())
                              .join(Case, Case.instance_id == ProcessInstance.id)
                              .where(Case.status == "open").group_by(ProcessInstance.definition_id)).all()
    return dict(rows)


def get_version(process_key: str, version: int) -> ProcessDefinition:
    """One deployed version (NotFound if there is no such version)."""
    definition = db.session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.process_key == process_key, ProcessDefinition.version == version))
    if definition is None:
        raise NotFound(f"No version {version} of {process_key}.")
    return definition


def forms_archive(definition: ProcessDefinition) -> bytes:
    """A zip of the forms exactly as deployed with this version."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sorted((definition.forms or {}).items()):
            archive.writestr(f"forms/{name}", text or "")
    return buffer.getvalue()


def list_drafts() -> list[ModelDraft]:
    """Drafts not yet deployed or discarded, most recently changed first."""
    return db.session.scalars(select(ModelDraft).where(ModelDraft.status == "draft")
                              .order_by(ModelDraft.updated_at.desc())).all()


def get_draft(draft_id: int) -> ModelDraft:
    """A draft still being worked on (NotFound otherwise)."""
    draft = db.session.get(ModelDraft, draft_id)
    if draft is None or draft.status != "draft":
        raise NotFound(f"No draft {draft_id}.")
    return draft


def start_draft(process_key: str, version: int, actor: User) -> ModelDraft:
    """A new draft holding a copy of a deployed version."""
    definition = get_version(process_key, version)
    return _add_draft(definition.bpmn_xml, definition.filename, actor, based_on=definition)


def import_draft(filename: str, data: bytes, actor: User) -> ModelDraft:
    """A new draft from an uploaded .bpmn file. A file that is not safe, well-formed BPMN is refused
    (ValidationFailed with the reason) and not kept."""
    if not filename.lower().endswith((".bpmn", ".xml")):
        raise ValidationFailed({"file": "Choose a .bpmn file."})
    _check_bpmn(data, "file")
    return _add_draft(data, Path(filename).name, actor)


def save_draft(draft_id: int, data: bytes, actor: User) -> ModelDraft:
    """Replace a draft's BPMN with what the modeller sent (refused unless it is safe, well-formed BPMN)."""
    draft = get_draft(draft_id)
    _check_bpmn(data, "model")
    draft.bpmn_xml, draft.updated_by_id, draft.updated_at = data, actor.id, clock.now()
    _describe(draft)
    db.session.commit()
    return draft


def discard_draft(draft_id: int, actor: User) -> None:
    """Put a draft aside (it is kept, but no longer listed)."""
    draft = get_draft(draft_id)
    draft.status, draft.updated_by_id, draft.updated_at = "discarded", actor.id, clock.now()
    db.session.commit()


def _check_bpmn(data: bytes, field: str) -> None:
    if not data:
        raise ValidationFailed({field: "The file is empty."})
    try:
        root = parse_xml(data, max_bytes=current_app.config["MAX_BPMN_BYTES"])
    except (UnsafeXmlError, XmlSyntaxError) as err:
        raise ValidationFailed({field: str(err)}, "The file was not accepted.") from err
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise ValidationFailed({field: "This is not a BPMN 2.0 file (no bpmn:definitions)."}, "The file was not accepted.")


def _add_draft(data: bytes, filename: str, actor: User, based_on: ProcessDefinition | None = None) -> ModelDraft:
    now = clock.now()
    draft = ModelDraft(filename=filename, bpmn_xml=data, based_on_id=based_on.id if based_on else None,
                       status="draft", created_by_id=actor.id, updated_by_id=actor.id, created_at=now, updated_at=now,
                       process_key=based_on.process_key if based_on else None, name=based_on.name if based_on else "")
    _describe(draft)
    db.session.add(draft)
    db.session.commit()
    return draft


def _describe(draft: ModelDraft) -> None:
    """Keep the draft's process key and name in step with its content, when it can be read."""
    model, _ = validate_definition(draft.bpmn_xml, draft.filename)
    if model is not None:
        draft.process_key, draft.name = model.process_id, model.name


def check_draft(draft_id: int) -> DraftCheck:
    """Deploy validation of a draft (the checks `flask deploy` makes), each problem with its element."""
    draft = get_draft(draft_id)
    model, problems = validate_definition(draft.bpmn_xml, draft.filename)
    return DraftCheck(model.process_id if model else draft.process_key, problems)


def draft_hash(draft: ModelDraft) -> str:
    """The sha256 the version would have: the BPMN and every form it names, as they are now."""
    model, _ = validate_definition(draft.bpmn_xml, draft.filename)
    loader = forms_dir_loader()
    forms = {name: loader(name) or "" for name in sorted(model.form_names)} if model else {}
    return content_hash(draft.bpmn_xml, forms)


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
    from app.models import Role

    draft = get_draft(draft_id)
    based_on = db.session.get(ProcessDefinition, draft.based_on_id) if draft.based_on_id else None
    svg = _draft_svg(draft, {})
    roles = db.session.scalars(select(Role.name).order_by(Role.name)).all()
    return DraftPage(draft, based_on, svg, form_choices(), list(roles))


def form_choices() -> list[str]:
    """The forms a user task can name: every `*.schema.json` in forms/."""
    folder = Path(current_app.config["FORMS_DIR"])
    return sorted(p.name for p in folder.glob("*.schema.json")) if folder.is_dir() else []


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
    from app.services.definitions import latest_definition

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
    from app.workflow.svg import render_svg

    return render_svg(draft.bpmn_xml, max_bytes=current_app.config["MAX_BPMN_BYTES"], marks=marks,
                      label=f"Diagram of the draft {draft.name or draft.filename}", key="draft")
