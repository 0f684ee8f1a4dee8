"""Task pages: open a task's form, and act on a posted form (add or remove an item, save a draft,
submit). Answers are checked by the same `check_answers` path the API uses; whatever happens,
nothing the person typed is lost."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.formkit import (
    AnswerRow,
    FieldSpec,
    PageError,
    answers_from,
    apply_action,
    describe_answers,
    file_fields,
    form_specs,
    page_errors,
    read_values,
    sections_of,
)
from app.models import AuditEvent, Case, Document, HumanTask, ProcessInstance, User
from app.services.access import can_view_case, log_access
from app.services.cases.documents import (
    DOCUMENT_PREFIX,
    FormPost,
    Upload,
    UploadRejected,
    document_ids,
    document_names,
    owned_document_ids,
    store_upload,
)
from app.services.errors import AlreadyCompleted, Conflict, Forbidden, NotFound, ValidationFailed
from app.services.forms import check_answers, fill_lookups
from app.services.runtime import forms_of
from app.services.tasks import drafts, human_tasks
from app.services.tasks.context import (
    AMENDABLE,
    CARRIED_FROM_ELSEWHERE,
    CameBack,
    ContextBlock,
    amendments,
    came_back,
    carried_forward,
    known_answers,
    task_context,
)


@dataclass
class TaskForm:
    task: HumanTask
    case: Case
    specs: list[FieldSpec]
    values: dict
    instance_version: int
    errors: list[PageError] = field(default_factory=list)
    outcome: str = "show"  # show, completed, draft_saved
    conflict: str = ""  # completed, stale, assigned
    notice: str = ""
    draft_saved_at: datetime | None = None
    submitted: list[AnswerRow] = field(default_factory=list)
    typed: list[AnswerRow] = field(default_factory=list)
    documents: dict[int, Document] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    restricted: bool = False  # off the case team now: only the outcome of their own submission
    context: list[ContextBlock] = field(default_factory=list)  # what the task needs, read-only
    task_instance_definition_id: int | None = None
    carried: bool = False  # it opened with earlier answers of the case: a change needs a reason
    amendment_reason: str = ""
    came_back: CameBack | None = None  # done before on this case, and back: why
    sent_back: list[str] = field(default_factory=list)  # after completing: work it brought back, in words
    sections: list[SectionView] = field(default_factory=list)  # a long form asked a section at a time
    section: int | None = None  # the section on this page (None: the list of sections)

    def shown_specs(self) -> list[FieldSpec]:
        """The fields this page asks: one section's, or all of them for a form without sections."""
        if self.section is None or not self.sections:
            return self.specs
        keys = set(self.sections[self.section].keys)
        return [spec for spec in self.specs if spec.key in keys]


@dataclass
class SectionView:
    title: str
    keys: tuple[str, ...]
    status: str = "Not started"  # Not started, In progress, Completed


def open_task_form(task_id: int, user: User, section: int | None = None) -> TaskForm:
    """A task the user may work on, with their draft if they saved one; the view is logged. A long
    form (with sections) shows the list of its sections, or the one section asked for."""
    form = _load(task_id, user)
    log_access(user, form.case, "view_task", {"task_id": task_id})
    _start_values(form, user)
    if form.task.status == "completed":
        form.submitted = submitted_answers(form.task, form.specs)
    _choose_section(form, section)
    return _with_documents(form)


def _start_values(form: TaskForm, user: User) -> None:
    if form.task.status == "open" and not form.restricted:
        known, own = known_answers(form.task, form.case, form.specs)
        form.carried = bool(AMENDABLE & (set(known) - set(known.get(CARRIED_FROM_ELSEWHERE, ())))) and not own
    draft = drafts.get_draft(form.task.id, user)
    if draft is not None and form.task.status == "open":
        form.values, form.draft_saved_at = dict(draft.values), draft.saved_at
    elif form.task.status == "open" and not form.conflict:
        form.values = carried_forward(form.task, form.case, form.specs, user)


def _choose_section(form: TaskForm, section: int | None) -> None:
    if not form.sections:
        return
    form.section = section if section is not None and 0 <= section < len(form.sections) else None
    if form.section is None:
        _section_states(form)


def _section_states(form: TaskForm) -> None:
    """Each section: not started (nothing typed), completed (typed, and nothing in it refused), or in progress."""
    answers = answers_from(form.specs, form.values, zone=current_app.config["CALENDAR_TIMEZONE"])
    refused = set(_refusals(form, answers))
    for view in form.sections:
        nested = {key for spec in form.specs if spec.key in view.keys for key in _all_keys(spec)}
        if not nested & set(answers):
            view.status = "Not started"
        else:
            view.status = "In progress" if nested & refused else "Completed"


def _all_keys(spec: FieldSpec) -> set[str]:
    return {spec.key} | {key for child in spec.revealed() for key in _all_keys(child)}


def _refusals(form: TaskForm, answers: dict) -> set[str]:
    try:
        check_answers(forms_of(form.task_instance_definition_id)[form.task.form_name], answers)
    except ValidationFailed as failed:
        return {key.split(".")[0] for key in failed.errors}
    except KeyError:
        return set()
    return set()


def post_task_form(task_id: int, user: User, post: FormPost, section: int | None = None) -> TaskForm:
    """Act on a posted task form; the result says whether to show it again or move on. A section of a
    long form is kept in the person's draft ("Save and continue"); the form is submitted from the list
    of sections with everything the draft holds."""
    form = _load(task_id, user, posting=True)
    form.amendment_reason = (post.posted.get(AMENDMENT_REASON) or [""])[0]
    if form.sections:
        return _post_section(form, user, post, section)
    form.values = read_values(form.specs, post.posted)
    upload_errors = _store_uploads(form, user, post.uploads)
    verb = post.action.partition(":")[0]
    if verb in ("add", "remove", "remove-file"):
        form.values = apply_action(form.values, post.action)
    elif post.action == "draft":
        form.draft_saved_at = drafts.save_draft(task_id, user, form.values).saved_at
        form.outcome = "show" if upload_errors else "draft_saved"  # a refused file is said on the page
    else:
        _submit(form, user, post.instance_version, upload_errors)
    if upload_errors and form.outcome == "show" and not form.errors:
        form.errors = page_errors(form.specs, upload_errors)
    return _with_documents(form)


def _post_section(form: TaskForm, user: User, post: FormPost, section: int | None) -> TaskForm:
    _start_values(form, user)
    form.draft_saved_at = None
    on_page = section if section is not None and 0 <= section < len(form.sections) else None
    if on_page is not None:
        form.section = on_page
        form.values = form.values | read_values(form.shown_specs(), post.posted)
        upload_errors = _store_uploads(form, user, post.uploads)
        if post.action.partition(":")[0] in ("add", "remove", "remove-file"):
            form.values = apply_action(form.values, post.action)
            return _with_documents(form)
        form.draft_saved_at = drafts.save_draft(form.task.id, user, form.values).saved_at
        if upload_errors:
            form.errors = page_errors(form.specs, upload_errors)
            return _with_documents(form)
        form.outcome = "section_saved"
        return form
    _submit(form, user, post.instance_version, {})
    if form.outcome != "completed":
        _choose_section(form, None)
        form.errors = [_to_section(form, error) for error in form.errors]
    return _with_documents(form)


def _to_section(form: TaskForm, error: PageError) -> PageError:
    """An error on the list of sections links to the field on its section's page."""
    base = error.name.split("-")[0]
    index = next((n for n, view in enumerate(form.sections)
                  if any(base in _all_keys(spec) for spec in form.specs if spec.key in view.keys)), None)
    if index is None:
        return error
    return PageError(error.name, f"{error.text.rstrip('.')} ({form.sections[index].title}).",
                     f"?section={index}{error.href}")


def _load(task_id: int, user: User, posting: bool = False) -> TaskForm:
    task = human_tasks.get_task(task_id, user)
    case = db.session.get(Case, task.case_id)
    restricted = not can_view_case(user, case)
    if restricted and not (posting and task.status != "open"):
        raise NotFound(f"No task {task_id}.")
    instance = db.session.get(ProcessInstance, task.instance_id)
    specs = fill_lookups(form_specs(instance.definition.forms, task.form_name, task.ui_form_name))
    form = TaskForm(task=task, case=case, specs=specs, values={}, instance_version=instance.version,
                    restricted=restricted)
    form.task_instance_definition_id = instance.definition_id
    if task.status == "open":
        ui = json.loads(instance.definition.forms[task.ui_form_name]) if task.ui_form_name in instance.definition.forms else {}
        form.sections = [SectionView(s.title, s.keys) for s in sections_of(ui, specs)]
    if task.assignee_id not in (None, user.id) and task.status == "open":
        form.conflict = "assigned"
    return form


def _store_uploads(form: TaskForm, user: User, uploads: dict[str, Upload]) -> dict[str, str]:
    errors = {}
    wanted = file_fields(form.specs, form.values)
    for name, upload in uploads.items():
        if name not in wanted:
            continue
        try:
            document = store_upload(upload, user, name, case_id=form.case.id, task_id=form.task.id)
        except UploadRejected as rejected:
            errors[name.replace("-", ".")] = rejected.message
            continue
        form.values[name] = f"{DOCUMENT_PREFIX}{document.id}"
    return errors


AMENDMENT_REASON = "_amendment_reason"


def _submit(form: TaskForm, user: User, instance_version: int | None, upload_errors: dict[str, str]) -> None:
    zone = current_app.config["CALENDAR_TIMEZONE"]
    answers = answers_from(form.specs, form.values, zone=zone)
    try:
        _check_documents(form, user)
        if upload_errors:
            raise ValidationFailed(upload_errors)
        changed = amendments(form.task, form.case, form.specs, answers)
        if changed and not form.amendment_reason.strip():
            titles = [row.question for row in describe_answers(form.specs, {k: answers[k] for k in changed})]
            raise ValidationFailed({AMENDMENT_REASON: "You changed an answer given earlier on the case ("
                                    + "; ".join(f"'{t}'" for t in titles) + "). Say why you changed it."})
        amendment = {"reason": form.amendment_reason.strip(), "changed": changed} if changed else None
        human_tasks.complete_task(form.task.id, user, answers, expected_version=instance_version, amendment=amendment)
    except ValidationFailed as failed:
        form.errors = page_errors(form.specs, failed.errors | upload_errors)
    except AlreadyCompleted as done:
        db.session.refresh(form.task)
        form.conflict, form.notice = "completed", done.message
        form.typed = describe_answers(form.specs, answers)
    except (Conflict, Forbidden) as refused:
        _refresh(form)
        form.conflict, form.notice = "stale", refused.message
    else:
        form.outcome = "completed"
        form.sent_back = _brought_back(form)


def _brought_back(form: TaskForm) -> list[str]:
    """Tasks this completion opened that were done before on the case (a meeting to arrange again), said in words."""
    reopened = db.session.scalars(select(HumanTask).where(
        HumanTask.case_id == form.case.id, HumanTask.status == "open", HumanTask.id > form.task.id)).all()
    said = []
    for task in reopened:
        back = came_back(task, form.case)
        if back is None:
            continue
        why = "; ".join(f"{row.question.rstrip('?')}: {row.answer}" for row in back.reasons)
        said.append(f"“{task.title}” has come back to be done again" + (f". {why}." if why else "."))
    return said


def _check_documents(form: TaskForm, user: User) -> None:
    wanted = document_ids(form.values)
    mine = owned_document_ids(list(wanted.values()), user, case_id=form.case.id, task_id=form.task.id)
    errors = {name.replace("-", "."): "Upload the file again." for name, doc in wanted.items() if doc not in mine}
    if errors:
        raise ValidationFailed(errors)


def _refresh(form: TaskForm) -> None:
    db.session.rollback()
    instance = db.session.get(ProcessInstance, form.task.instance_id)
    db.session.refresh(instance)
    db.session.refresh(form.task)
    form.instance_version = instance.version


def _with_documents(form: TaskForm) -> TaskForm:
    if not form.restricted and form.outcome == "show":
        form.context = task_context(form.task, form.case)
        form.came_back = came_back(form.task, form.case)
    ids = list(document_ids(form.values).values())
    ids += [row.document_id for block in form.context for row in _flatten(block.rows) if row.document_id]
    ids += [row.document_id for row in _flatten(form.submitted) if row.document_id]
    form.documents = document_names(ids)
    people = {form.task.assignee_id, form.task.completed_by_id} - {None}
    form.names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(people))).all())
    return form


def _flatten(rows: list[AnswerRow]):
    for row in rows:
        yield row
        for item in row.items:
            yield from _flatten(item)


def submitted_answers(task: HumanTask, specs: list[FieldSpec]) -> list[AnswerRow]:
    """The answers a completed task was submitted with, read from its audit event."""
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.case_id == task.case_id, AuditEvent.event_type == "task_completed")
        .order_by(AuditEvent.seq.desc()).where(AuditEvent.data["task_id"].as_integer() == task.id).limit(1))
    answers = (event.data or {}).get("answers") if event is not None else None
    return describe_answers(specs, answers) if isinstance(answers, dict) else []
