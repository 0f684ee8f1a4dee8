"""Deploying process definitions: validate, version, store (DESIGN.md decision 10)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app import clock, direct
from app.db import held, plain_row
from app.extensions import db
from app.models import ProcessDefinition, User
from app.services.audit import record_event
from app.services.errors import DeployRefused, NotFound
from app.services.people import role_lookup
from app.services.runtime import get_runtime, model_for
from app.services.units import organisation_token, read_organisation_token
from app.workflow import Problem, ProcessModel, validate_process


def forms_dir_loader(forms_dir: str | None = None):
    """A form loader reading `forms/<name>`; refuses names that leave the folder."""
    folder = Path(forms_dir or current_app.config["FORMS_DIR"]).resolve()

    def load(name: str) -> str | None:
        path = (folder / name).resolve()
        if path.parent != folder or not path.is_file():
            return None
        return path.read_text(encoding="utf-8")

    return load


def validate_definition(bpmn: bytes, filename: str, load_form=None) -> tuple[ProcessModel | None, list[Problem]]:
    """Every problem that would stop this model being deployed."""
    return validate_process(
        bpmn, filename,
        load_form=load_form or forms_dir_loader(),
        role_names=set(role_lookup(fresh=True)),
        helpers=get_runtime().helpers,
        max_bytes=current_app.config["MAX_BPMN_BYTES"],
    )


def deploy_definition(bpmn: bytes, filename: str, *, actor: User | None = None, change_note: str = "",
                      load_form=None) -> tuple[ProcessDefinition, bool]:
    """Deploy a model as a new version; returns (definition, created).

    Refuses (DeployRefused) a model with any problem. Unchanged content is a no-op that returns
    the latest version.
    """
    load_form = load_form or forms_dir_loader()
    model, problems = validate_definition(bpmn, filename, load_form)
    if problems:
        raise DeployRefused(problems)
    forms = {name: load_form(name) for name in sorted(model.form_names)}
    digest = content_hash(bpmn, forms)
    latest = latest_definition(model.process_id, required=False)
    if latest is not None and latest.sha256 == digest:
        return latest, False
    definition = ProcessDefinition(
        process_key=model.process_id, version=(latest.version + 1) if latest else 1, sha256=digest,
        filename=Path(filename).name, bpmn_xml=bpmn, forms=forms, name=model.name,
        deployed_by_id=actor.id if actor else None, deployed_at=clock.now(), change_note=change_note,
    )
    db.session.add(definition)
    db.session.flush()
    record_event("definition_deployed", actor=actor, data={
        "process_key": definition.process_key, "version": definition.version, "sha256": digest,
        "change_note": change_note,
    })
    db.session.commit()
    return definition, True


def content_hash(bpmn: bytes, forms: dict[str, str]) -> str:
    """sha256 of the BPMN bytes and every form it uses, in name order."""
    digest = hashlib.sha256(bpmn)
    for name in sorted(forms):
        digest.update(b"\0" + name.encode() + b"\0" + forms[name].encode())
    return digest.hexdigest()


_LATEST = (select(ProcessDefinition).where(ProcessDefinition.process_key == bindparam("process_key"))
           .order_by(ProcessDefinition.version.desc()).limit(1))
# a case's start: what it runs on, and the organisation its tasks are routed in, in one query
_DEFINITIONS = ProcessDefinition.__table__
_TO_START = ("id", "process_key", "version", "name")
_LATEST_TO_START = (select(*(_DEFINITIONS.c[key] for key in _TO_START), organisation_token().label("token"))
                    .where(_DEFINITIONS.c.process_key == bindparam("process_key"))
                    .order_by(_DEFINITIONS.c.version.desc()).limit(1))


def latest_definition(process_key: str, *, required: bool = True) -> ProcessDefinition | None:
    """The latest deployed version of a process."""
    definition = db.session.scalar(_LATEST, {"process_key": process_key})
    if definition is None and required:
        raise NotFound(f"No process '{process_key}' has been deployed.")
    return definition


def definition_to_start(process_key: str) -> ProcessDefinition:
    """The latest version of a process, to start a case on: its id, key, version and name only (the
    step takes the model and forms from the runtime's cache; the rest loads if touched), with the
    organisation's version token read along (`units.read_organisation_token`). One prebuilt statement
    (`app.direct`); where the session holds the version, its own copy, given what was read."""
    rows = direct.execute(db.session, _LATEST_TO_START, {"process_key": process_key})
    if not rows:
        raise NotFound(f"No process '{process_key}' has been deployed.")
    *values, token = rows[0]
    read_organisation_token(token)
    definition = held(db.session, ProcessDefinition, values[0])
    if definition is None:
        definition = plain_row(ProcessDefinition, dict(zip(_TO_START, values, strict=True)))
        make_transient_to_detached(definition)  # persistent once added: the columns not read load if touched
        db.session.add(definition)
    else:  # held, perhaps expired by a commit since: what was read is what it holds, not read again
        for key, value in zip(_TO_START, values, strict=True):
            set_committed_value(definition, key, value)
    return definition


def definition_for_message(message_name: str) -> ProcessDefinition | None:
    """The latest version of the process whose message start event catches `message_name`."""
    keys = db.session.scalars(select(ProcessDefinition.process_key).distinct()).all()
    for key in keys:
        definition = latest_definition(key)
        if message_name in model_for(definition).message_starts:
            return definition
    return None


def list_definitions() -> list[ProcessDefinition]:
    return db.session.scalars(
        select(ProcessDefinition).order_by(ProcessDefinition.process_key, ProcessDefinition.version)
    ).all()


def count_versions(process_key: str) -> int:
    return db.session.scalar(select(func.count()).where(ProcessDefinition.process_key == process_key))
