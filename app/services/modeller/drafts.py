"""Drafts: a model being edited (in the browser modeller) or imported (a file from Camunda Modeler,
bpmn.io or any BPMN modeller); nothing runs it. Its validation is the check `flask deploy` makes."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import ModelDraft, ProcessDefinition, User
from app.services.definitions import content_hash, forms_dir_loader, validate_definition
from app.services.errors import NotFound, ValidationFailed
from app.services.modeller.library import get_version
from app.workflow import BPMN_NS, Problem, UnsafeXmlError, XmlSyntaxError, parse_xml


@dataclass
class DraftCheck:
    """A draft's validation: its process key (when readable) and every problem."""

    process_key: str | None
    problems: list[Problem]

    @property
    def passed(self) -> bool:
        return not self.problems

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
