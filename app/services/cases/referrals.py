"""Start a case: the pathways any member of staff may start, and their referral or concern forms."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.formkit import (
    FieldSpec,
    PageError,
    answers_from,
    apply_action,
    file_fields,
    form_specs,
    page_errors,
    read_values,
)
from app.models import Case, Document, HumanTask, ProcessDefinition, User
from app.services.cases.documents import (
    DOCUMENT_PREFIX,
    FormPost,
    UploadRejected,
    attach_documents,
    document_ids,
    document_names,
    owned_document_ids,
    store_upload,
)
from app.services.cases.lifecycle import STARTING_ROLE, start_case
from app.services.definitions import latest_definition
from app.services.errors import NotFound, ValidationFailed
from app.services.forms import fill_lookups, signed_in_values
from app.services.people import role_lookup
from app.services.runtime import get_runtime, model_for
from app.workflow import ReadyTask, snapshot, start_workflow


@dataclass
class Pathway:
    key: str
    name: str
    task: ReadyTask


@dataclass
class ReferralForm:
    pathway: Pathway
    specs: list[FieldSpec]
    values: dict = field(default_factory=dict)
    errors: list[PageError] = field(default_factory=list)
    case: Case | None = None
    documents: dict[int, Document] = field(default_factory=dict)


def list_pathways() -> list[Pathway]:
    """Deployed processes whose first task is a form for a member of staff, by name."""
    keys = db.session.scalars(select(ProcessDefinition.process_key).distinct()).all()
    found = [_pathway(latest_definition(key)) for key in keys]
    return sorted((p for p in found if p is not None), key=lambda p: p.name.lower())


def _pathway(definition: ProcessDefinition) -> Pathway | None:
    cache = current_app.extensions.setdefault("starting_tasks", {})  # by content: a version never changes
    if definition.sha256 not in cache:
        cache[definition.sha256] = _starting_task(definition)
    task = cache[definition.sha256]
    return Pathway(definition.process_key, definition.name or definition.process_key, task) if task else None


def _starting_task(definition: ProcessDefinition) -> ReadyTask | None:
    """Run the model up to its first wait, in memory only, to see which form it starts with."""
    model, runtime = model_for(definition), get_runtime()
    now = clock.now()
    try:
        workflow = start_workflow(model, runtime.script_engine, {
            "case_reference": "", "case_opened_at": now.isoformat(),
            "out_of_hours": runtime.calendar.is_out_of_hours(now)})
    except Exception:  # a model that cannot start without a message is not started from this page
        return None
    roles = role_lookup()
    return next((t for t in snapshot(workflow, model).ready_tasks
                 if roles.get((t.lane or "").lower()) == STARTING_ROLE), None)


def open_referral(process_key: str, user: User | None = None) -> ReferralForm:
    """The form that starts a case of this pathway; with `user`, who they are is filled in from the sign-in."""
    pathway = next((p for p in list_pathways() if p.key == process_key), None)
    if pathway is None:
        raise NotFound(f"No pathway called {process_key} can be started here.")
    definition = latest_definition(process_key)
    specs = fill_lookups(form_specs(definition.forms, pathway.task.form, pathway.task.ui_form))
    return ReferralForm(pathway=pathway, specs=specs, values=signed_in_values(specs, user))


def post_referral(process_key: str, user: User, post: FormPost) -> ReferralForm:
    """Act on a posted referral form: add or remove items, or start the case with its answers."""
    form = open_referral(process_key)
    form.values = read_values(form.specs, post.posted)
    upload_errors = _store_uploads(form, user, post)
    if post.action.partition(":")[0] in ("add", "remove", "remove-file"):
        form.values = apply_action(form.values, post.action)
    elif upload_errors:
        form.errors = page_errors(form.specs, upload_errors)
    else:
        _start(form, user)
    form.documents = document_names(list(document_ids(form.values).values()))
    return form


def _store_uploads(form: ReferralForm, user: User, post: FormPost) -> dict[str, str]:
    errors = {}
    wanted = file_fields(form.specs, form.values)
    for name, upload in post.uploads.items():
        if name in wanted:
            try:
                form.values[name] = f"{DOCUMENT_PREFIX}{store_upload(upload, user, name, case_id=None, task_id=None).id}"
            except UploadRejected as rejected:
                errors[name.replace("-", ".")] = rejected.message
    return errors


def _start(form: ReferralForm, user: User) -> None:
    answers = answers_from(form.specs, form.values, zone=current_app.config["CALENDAR_TIMEZONE"])
    documents = document_ids(form.values)
    mine = owned_document_ids(list(documents.values()), user, case_id=None, task_id=None)
    missing = {name.replace("-", "."): "Upload the file again." for name, d in documents.items() if d not in mine}
    try:
        if missing:
            raise ValidationFailed(missing)
        form.case = start_case(form.pathway.key, answers, user)
    except ValidationFailed as failed:
        form.errors = page_errors(form.specs, failed.errors)
        return
    attach_documents(list(documents.values()), user, form.case.id, _first_task_id(form.case))
    db.session.commit()


def _first_task_id(case: Case) -> int | None:
    return db.session.scalar(select(func.min(HumanTask.id)).where(HumanTask.case_id == case.id))
