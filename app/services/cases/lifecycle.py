"""Starting cases, reading them, and saving a workflow step with its projections."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import clock, direct
from app.db import (
    add_as_loaded,
    commit_keeping,
    insert_all_as_loaded,
    transaction_cache,
    values_as_loaded,
    written_in_transaction,
)
from app.extensions import db
from app.models import Case, CaseLink, HumanTask, ProcessDefinition, ProcessInstance, ReferenceCounter, User
from app.services.audit import audit_batch, lock_case, new_stream, record_event
from app.services.cases.projections import OpenWork, apply_snapshot, save_state
from app.services.cases.records import Receipt
from app.services.definitions import definition_for_message, definition_to_start
from app.services.errors import ProcessFailed, ValidationFailed
from app.services.forms import check_answers
from app.services.notifications.fanout import NEW_TASKS, ids_for_new_tasks, keep_ids_for_new_tasks
from app.services.people import role_lookup
from app.services.runtime import forms_of, get_runtime, model_for, model_for_id
from app.workflow import (
    OutboundMessage,
    ProcessModel,
    WorkflowError,
    deliver_message,
    dump_state,
    load_state,
    run_user_task,
    snapshot,
    start_workflow,
    task_state,
)

STARTING_ROLE = "staff"


def start_case(process_key: str, answers: dict | None, actor: User | None) -> Case:
    """Open a case on the latest version of `process_key`.

    With `answers`, the first task of the `Member of staff` lane (the referral or concern form) is
    completed at once by `actor`. Invalid answers raise ValidationFailed and nothing is saved.
    """
    definition = definition_to_start(process_key)
    try:
        with process_step(), db.session.no_autoflush, audit_batch():
            case = _open_case(definition, answers, actor, message=None)
        commit_keeping(db.session, *([actor] if actor else []), case)  # nothing read back after it
    except Exception:
        db.session.rollback()
        raise
    return case


def raise_concern(process_key: str, answers: dict, actor: User) -> Receipt:
    """Open a case with the answers to its first form, and give the person who raised it their
    receipt (the API's answer: they do not see the case afterwards)."""
    case = start_case(process_key, answers, actor)
    return Receipt(case.reference, case.pathway, case.instance.definition.name or process_key, case.opened_at)


@contextmanager
def process_step():
    """Turn a model that cannot run on into ProcessFailed (the caller rolls back)."""
    try:
        yield
    except WorkflowError as err:
        raise ProcessFailed(err.message, err.element_id) from err


def _open_case(definition: ProcessDefinition, answers: dict | None, actor: User | None,
               message: OutboundMessage | None, linked_from: Case | None = None) -> Case:
    model, runtime, now = model_for(definition), get_runtime(), clock.now()
    reference = _next_reference(definition.process_key.upper(), runtime.calendar.local(now).year)
    initial = {"case_reference": reference, "case_opened_at": now.isoformat(),
               "out_of_hours": runtime.calendar.is_out_of_hours(now)}
    if message is not None:
        initial |= message.payload
    workflow = start_workflow(model, runtime.script_engine, initial, message.name if message else None)
    if message is not None:
        deliver_message(workflow, message.name, message.payload)
    first = _complete_first_task(workflow, model, definition, answers) if answers is not None else None
    ready = len(_snapshot_for_projection(workflow, model).ready_tasks)
    case, first_id = _insert_case(definition, workflow, reference, actor, now, first, ready)
    record_event("case_opened", case_id=case.id, actor=actor, data={
        "reference": reference, "pathway": definition.process_key, "version": definition.version,
        "linked_from": linked_from.reference if linked_from else None})
    if first is not None:
        record_event("task_completed", case_id=case.id, actor=actor, data={
            "task": first.title, "task_id": first_id, "bpmn_id": first.bpmn_id, "answers": answers,
            "version": definition.version})
    _after_step(case, workflow, model, actor, facts_held={}, new_case=True)  # no tasks, timers or facts yet
    return case


def _complete_first_task(workflow, model: ProcessModel, definition: ProcessDefinition, answers: dict):
    roles = role_lookup()
    first = next((t for t in snapshot(workflow, model).ready_tasks
                  if roles.get((t.lane or "").lower()) == STARTING_ROLE), None)
    if first is None:
        raise ValidationFailed({"": "This process does not start with a form for a member of staff."},
                               "This process cannot be started with answers.")
    if first.form:
        check_answers(forms_of(definition.id)[first.form], answers)
    run_user_task(workflow, first.task_uuid, answers)
    return first


_INSTANCES, _CASES, _TASKS = ProcessInstance.__table__, Case.__table__, HumanTask.__table__
_INSERT_INSTANCE = insert(_INSTANCES).returning(_INSTANCES.c.id)
_INSERT_TASK = insert(_TASKS).returning(_TASKS.c.id)


def _insert_case(definition: ProcessDefinition, workflow, reference: str, actor: User | None, now,
                 first, new_tasks: int) -> tuple[Case, int | None]:
    """The new case's instance, its row and, when the step completed it (`first`), its first task:
    one statement on PostgreSQL (`_OPENING`, which also takes ids for up to `new_tasks` new tasks
    and their ready rows), one each on SQLite. Returns the case, in the session as written, and the
    first task's id."""
    instance = {"definition_id": definition.id, "state": dump_state(workflow), "version": 1, "completed": False,
                "created_at": now, "updated_at": now}
    case = Case(reference=reference, pathway=definition.process_key, instance_id=None,
                status="open", stage="", opened_by_id=actor.id if actor else None, opened_at=now,
                key_dates={}, subject_name=None, subject_known_as=None, subject_date_of_birth=None,
                subject_staff_number=None, subject_staff_number_key=None, unit_id=None, outcome=None,
                out_of_hours=False, closed_at=None, dashboard_marks=None)
    task = _first_task_row(case, first, actor, now) if first is not None else None
    if db.session.get_bind().dialect.name == "postgresql":
        values = values_as_loaded([case])[0]
        del values["instance_id"]  # the new instance's, in the statement
        row = direct.execute(db.session, _OPENING[task is not None], _prefixed(
            ("instance_", instance), ("case_", values), ("task_", task or {})) | {NEW_TASKS: new_tasks})[0]
        case.instance_id, first_id = row.instance_id, (row.id if task is not None else None)
        add_as_loaded(db.session, [case], [row.case_id if task is not None else row.id])
        keep_ids_for_new_tasks(case.id, row.task_ids or [], row.event_ids or [])
    else:
        [(case.instance_id,)] = direct.execute(db.session, _INSERT_INSTANCE, instance)
        insert_all_as_loaded(db.session, [case])  # what the step changes next is one UPDATE
        first_id = direct.execute(db.session, _INSERT_TASK, task | {"instance_id": case.instance_id,
                                                                     "case_id": case.id})[0].id if task else None
    new_stream(case.id)
    return case, first_id


def _first_task_row(case: Case, first, actor: User | None, now) -> dict:
    """The first task's row, completed by `actor` (but its case's and instance's ids)."""
    return {"pathway": case.pathway, "task_uuid": first.task_uuid, "bpmn_id": first.bpmn_id, "title": first.title,
            "role_key": STARTING_ROLE, "unit_id": None, "lane": first.lane, "form_name": first.form,
            "ui_form_name": None, "instructions": first.instructions, "escalation": False, "created_at": now,
            "due_at": None, "status": "completed", "assignee_id": actor.id if actor else None,
            "completed_by_id": actor.id if actor else None, "completed_at": now}


def _prefixed(*parts: tuple[str, dict]) -> dict:
    return {f"{prefix}{key}": value for prefix, values in parts for key, value in values.items()}


def _opening(with_task: bool):
    """PostgreSQL: INSERT the instance, then the case row naming it, then (`with_task`) the first task
    naming both, as data-modifying WITHs; one statement, returning the new ids. Parameters: each
    table's columns, prefixed `instance_`, `case_`, `task_`."""
    def given(table, prefix: str, linked: dict):
        columns = [column for column in table.columns if column.key != "id" and column.key not in linked]
        values = [bindparam(f"{prefix}{column.key}", type_=column.type) for column in columns]
        return [column.key for column in columns] + list(linked), values + list(linked.values())

    new_instance = insert(_INSTANCES).values(dict(zip(*given(_INSTANCES, "instance_", {}), strict=True)))
    new_instance = new_instance.returning(_INSTANCES.c.id).cte("new_instance")
    keys, values = given(_CASES, "case_", {"instance_id": new_instance.c.id})
    new_case = insert(_CASES).from_select(keys, select(*values))
    if not with_task:
        return new_case.returning(_CASES.c.id, _CASES.c.instance_id, *ids_for_new_tasks()).add_cte(
            new_instance, nest_here=True)
    new_case = new_case.returning(_CASES.c.id, _CASES.c.instance_id).cte("new_case")
    keys, values = given(_TASKS, "task_", {"case_id": new_case.c.id, "instance_id": new_case.c.instance_id})
    return (insert(_TASKS).from_select(keys, select(*values))
            .returning(_TASKS.c.id, _TASKS.c.case_id, _TASKS.c.instance_id, *ids_for_new_tasks())
            .add_cte(new_instance, nest_here=True).add_cte(new_case, nest_here=True))


_OPENING = {with_task: _opening(with_task) for with_task in (False, True)}


def _after_step(case: Case, workflow, model: ProcessModel, actor: User | None, facts_held: dict | None = None,
                new_case: bool = False) -> OpenWork:
    """Projections, then any cases this step starts by message. `facts_held`: the case's facts before
    the step, when the caller knows them (see facts.update_reporting_projection); `new_case`: opened
    in this transaction, so it has no open tasks or timers to read. Returns what the projection knew
    of the case's work."""
    snap = transaction_cache(db.session).get(_SNAPSHOTS, {}).pop(id(workflow), None) or snapshot(workflow, model)
    work = apply_snapshot(case, snap, actor=actor, state_of=lambda uuid: task_state(workflow, uuid),
                          facts_held=facts_held, new_case=new_case)
    for message in snap.messages:
        _route_message(case, message, actor)
    return work


def save_step(case: Case, instance: ProcessInstance, workflow, model: ProcessModel,
              actor: User | None, expected_version: int) -> None:
    """Persist a step taken on a loaded workflow: state (version-checked), projections, audit."""
    save_workflow(case, instance, workflow, expected_version, model=model)
    _after_step(case, workflow, model, actor)


def save_workflow(case: Case, instance: ProcessInstance, workflow, expected_version: int, along: tuple | None = None,
                  model: ProcessModel | None = None, state: bytes | None = None):
    """The step's first write: the state, if nobody saved the instance since `expected_version`. The
    case's row is locked before it, unless the step's first query locked it (`locked_as_read`); on
    SQLite the write itself takes the database's write lock. `along`: a write that goes with it
    (projections.save_state), whose RETURNING value is returned. `model`: the snapshot the projection
    after it reads is taken now, and the save takes ids for as many new tasks as it has ready tasks
    (on PostgreSQL the new tasks then go with the step's audit events). `state`: the workflow already
    serialized (`dump_state`), when the caller did it before taking the lock."""
    lock_case(case.id, writing=True)
    ready = len(_snapshot_for_projection(workflow, model).ready_tasks) if model is not None else 0
    return save_state(instance, dump_state(workflow) if state is None else state, workflow.is_completed(),
                      expected_version, case.id, along, new_tasks=ready)


_SNAPSHOTS = written_in_transaction("snapshots taken at the save")  # id(workflow) -> its snapshot


def _snapshot_for_projection(workflow, model: ProcessModel):
    """The workflow's snapshot, taken as its step saves it, kept for the projection that follows
    (`_after_step`): its ready tasks say how many ids the save takes for new tasks."""
    snap = transaction_cache(db.session).setdefault(_SNAPSHOTS, {})[id(workflow)] = snapshot(workflow, model)
    return snap


def project_step(case: Case, workflow, model: ProcessModel, actor: User | None,
                 facts_held: dict | None = None) -> OpenWork:
    """Bring tasks, timers, the case record and its facts into line with the saved step; audited.
    Returns what the projection knew of the case's work (the timers waiting before, the tasks open after)."""
    return _after_step(case, workflow, model, actor, facts_held)


def load_workflow(instance: ProcessInstance):
    """The instance's workflow, restored on its own version's (cached) model."""
    model = model_for_id(instance.definition_id)
    workflow = load_state(instance.state, model.spec, model.subprocess_specs, get_runtime().script_engine)
    return workflow, model


def _route_message(source: Case, message: OutboundMessage, actor: User | None) -> None:
    definition = definition_for_message(message.name)
    if definition is None:
        if not _deliver_to_linked(source, message, actor):
            record_event("message_undelivered", case_id=source.id, actor=actor, data={
                "message": message.name, "reason": "no deployed process starts with it and no linked case waits for it"})
        return
    payload = dict(message.payload) | {"linked_case_reference": source.reference}
    linked = _open_case(definition, None, actor, OutboundMessage(message.name, payload), linked_from=source)
    link_cases(source, linked, f"{message.name} message", actor)


def _deliver_to_linked(source: Case, message: OutboundMessage, actor: User | None) -> bool:
    """A message no process starts with goes to the open cases linked to `source` that wait for it (a LADO
    case's conclusion reaching the PiPoT case that referred it); True when one caught it."""
    linked_ids = db.session.scalars(select(CaseLink.linked_case_id).where(CaseLink.case_id == source.id)).all()
    delivered = False
    for other in db.session.scalars(select(Case).where(Case.id.in_(linked_ids), Case.status == "open")
                                    .order_by(Case.id)):
        lock_case(other.id, writing=True)  # before its instance is read; the source's step has written already
        instance = db.session.get(ProcessInstance, other.instance_id)
        workflow, model = load_workflow(instance)
        payload = dict(message.payload) | {"linked_case_reference": source.reference}
        with process_step():
            caught = deliver_message(workflow, message.name, payload)
        if not caught:
            continue
        for one, two in ((source, other), (other, source)):
            record_event("message_delivered", case_id=one.id, actor=actor,
                         data={"message": message.name, "from": source.reference, "to": other.reference,
                               "linked_case": two.reference})
        save_step(other, instance, workflow, model, actor, instance.version)
        delivered = True
    return delivered


def link_cases(case: Case, other: Case, reason: str, actor: User | None) -> None:
    """Record a two-way link between cases, audited on both."""
    now = clock.now()
    db.session.add_all([CaseLink(case_id=case.id, linked_case_id=other.id, reason=reason, created_at=now),
                        CaseLink(case_id=other.id, linked_case_id=case.id, reason=reason, created_at=now)])
    for one, two in ((case, other), (other, case)):
        record_event("case_linked", case_id=one.id, actor=actor,
                     data={"linked_case": two.reference, "reason": reason})


def _next_reference(prefix: str, year: int) -> str:
    """The next reference for the prefix and year, e.g. PIPOT-2026-0001 (gap-free, concurrency-safe)."""
    dialect = db.session.get_bind().dialect.name
    if dialect not in _NEXT_NUMBER:
        insert_, counters = (pg_insert if dialect == "postgresql" else sqlite_insert), ReferenceCounter.__table__
        _NEXT_NUMBER[dialect] = (
            insert_(counters).values(prefix=bindparam("prefix"), year=bindparam("year"), last_number=1)
            .on_conflict_do_update(index_elements=["prefix", "year"],
                                   set_={"last_number": counters.c.last_number + 1})
            .returning(counters.c.last_number))
    [(number,)] = direct.execute(db.session, _NEXT_NUMBER[dialect], {"prefix": prefix, "year": year})
    return f"{prefix}-{year}-{number:04d}"


_NEXT_NUMBER: dict[str, object] = {}  # per dialect, built once
