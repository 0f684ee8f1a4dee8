"""The process library: every deployed process, its versions, downloads, and the forms a task can name."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, ProcessDefinition, ProcessInstance, User
from app.services.errors import NotFound

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

def form_choices() -> list[str]:
    """The forms a user task can name: every `*.schema.json` in forms/."""
    folder = Path(current_app.config["FORMS_DIR"])
    return sorted(p.name for p in folder.glob("*.schema.json")) if folder.is_dir() else []
