"""Running workflows: start, complete a user task, fire timers, and read what is waiting.

Callers hold a `ProcessModel` (parsed once per deployed version) and a script engine; they get
back SpiffWorkflow objects only to hand them to `snapshot()` and `dump_state()`.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from app import clock
from app.calendar import parse_when
from app.workflow.budget import BudgetExceeded, ScriptLimits, step_budget
from app.workflow.definition import ProcessModel

log = logging.getLogger(__name__)


class TaskNotReady(Exception):
    """The task is not waiting for a person (already completed, cancelled or unknown)."""


class WorkflowError(Exception):
    """The process could not run on: a script, condition or expression failed (or was refused
    by the sandbox). `element_id` names the element when known."""

    def __init__(self, message: str, element_id: str | None = None):
        super().__init__(message)
        self.message, self.element_id = message, element_id


@contextmanager
def _running(workflow: BpmnWorkflow):
    """One step: every script and expression in it shares one budget (``budget.py``); a failure
    becomes a WorkflowError naming the element."""
    try:
        with step_budget(_limits(workflow)):
            yield
    except (TaskNotReady, WorkflowError):
        raise
    except BudgetExceeded as err:
        raise WorkflowError(f"stopped by the script budget: {err}") from err
    except SpiffWorkflowException as err:
        spec = getattr(getattr(err, "task", None), "task_spec", None) or getattr(err, "task_spec", None)
        element = getattr(spec, "bpmn_id", None)
        raise WorkflowError(_describe(err), element) from err


def _limits(workflow: BpmnWorkflow) -> ScriptLimits:
    limits = getattr(getattr(workflow.script_engine, "environment", None), "limits", None)
    return limits if isinstance(limits, ScriptLimits) else ScriptLimits()


def _describe(err: Exception) -> str:
    original = err.__cause__ or err.__context__  # SpiffWorkflow wraps a script's error while handling it
    if isinstance(original, BudgetExceeded):  # said plainly, not as "BudgetExceeded:..."
        line = f" (line {err.line_number})" if getattr(err, "line_number", None) else ""
        return f"stopped by the script budget{line}: {original}"
    notes = [n for n in getattr(err, "__notes__", []) if n]
    text = str(err).splitlines()[0] if str(err) else err.__class__.__name__
    return "; ".join([text, *notes])


@dataclass(frozen=True)
class ReadyTask:
    task_uuid: str
    bpmn_id: str
    title: str
    lane: str | None
    form: str | None
    ui_form: str | None
    instructions: str
    escalation: bool
    due_at: datetime | None
    assignee: str | None = None  # the username the model's `assignee` property names, if any


@dataclass(frozen=True)
class WaitingTimer:
    task_uuid: str
    bpmn_id: str
    name: str
    guards: str
    interrupting: bool
    due_at: datetime


@dataclass(frozen=True)
class OutboundMessage:
    name: str
    payload: dict


@dataclass
class Snapshot:
    """What a workflow is waiting for after a step."""

    ready_tasks: list[ReadyTask] = field(default_factory=list)
    timers: list[WaitingTimer] = field(default_factory=list)
    fired: list[WaitingTimer] = field(default_factory=list)  # timers that ran out while this workflow object ran
    messages: list[OutboundMessage] = field(default_factory=list)
    completed: bool = False
    data: dict = field(default_factory=dict)


def start_workflow(model: ProcessModel, script_engine, data: dict, message: str | None = None) -> BpmnWorkflow:
    """A new workflow on `model` with `data` as its starting data, run to its first wait.

    A process may have a plain start event and message start events. Started by a person, the
    message start events are cancelled; started by `message`, every start event that does not
    catch it is cancelled (then deliver the message with `deliver_message`).
    """
    workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=script_engine)
    for task in workflow.get_tasks(spec_class=StartEvent):
        if _catches_message(task) != message and not (message is None and _catches_message(task) is None):
            task.cancel()
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    workflow.data[LATEST] = dict(data)
    with _running(workflow):
        _engine_steps(workflow)
    return workflow


def _engine_steps(workflow: BpmnWorkflow) -> None:
    workflow.do_engine_steps(did_complete_task=_record_changes)


def _catches_message(task) -> str | None:
    definition = task.task_spec.event_definition
    return definition.name if isinstance(definition, MessageEventDefinition) else None


def run_user_task(workflow: BpmnWorkflow, task_uuid: str, answers: dict) -> None:
    """Complete a ready user task with the person's answers and run on to the next wait."""
    task = _ready_manual_task(workflow, task_uuid)
    stamp = {f"{task.task_spec.bpmn_id}_completed_at": clock.now().isoformat()}
    task.set_data(**answers, **stamp)
    with _running(workflow):
        task.run()
        _record_changes(task)
        _engine_steps(workflow)


def deliver_message(workflow: BpmnWorkflow, name: str, payload: dict) -> bool:
    """Deliver a message to a workflow waiting for it (a message start or catch event).

    Returns False when nothing in the workflow was waiting for that message.
    """
    with _running(workflow):
        caught = workflow.event_manager.catch(
            BpmnEvent(SpiffMessageEventDefinition(name), payload=payload), internal=False)
        _engine_steps(workflow)
    return caught > 0


def fire_timers(workflow: BpmnWorkflow) -> None:
    """Fire every timer that has fallen due and run on to the next wait."""
    with _running(workflow):
        workflow.refresh_timers()
        _engine_steps(workflow)


def task_state(workflow: BpmnWorkflow, task_uuid: str) -> str | None:
    """The SpiffWorkflow state name of a task (COMPLETED, CANCELLED, ...), None if unknown."""
    task = workflow.get_task_from_id(UUID(task_uuid))
    return None if task is None else TaskState.get_name(task.state)


def bring_timer_forward(workflow: BpmnWorkflow, bpmn_id: str, when: datetime) -> bool:
    """Make the waiting timer `bpmn_id` fall due at `when` (someone calls now what it would start
    later); `fire_timers` then fires it. False when no such timer is waiting."""
    found = False
    for task in _timer_tasks(workflow):
        if task.task_spec.bpmn_id == bpmn_id and not task._get_internal_data("event_fired", False):
            task._set_internal_data(event_value=when.isoformat())
            found = True
    return found


def task_data(workflow: BpmnWorkflow, task_uuid: str) -> dict:
    """The data a task sees (the case data and, inside a multi-instance, its item); {} if unknown."""
    try:
        task = workflow.get_task_from_id(UUID(task_uuid))
    except (ValueError, KeyError):
        task = None
    return dict(task.data) if task is not None and isinstance(task.data, dict) else {}


def timer_guards(workflow: BpmnWorkflow, model: ProcessModel) -> dict[str, tuple[str, list[str]]]:
    """For each waiting boundary timer, its element and the ready user tasks it guards: the task it is
    attached to, or the ready tasks inside the sub-process it is attached to (this instance of it)."""
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    guards = {}
    for timer in _timer_tasks(workflow):
        info = model.timers.get(timer.task_spec.bpmn_id)
        split = timer.parent
        if info is None or not info.attached_to or split is None:
            continue
        attached = next((c for c in split.children if c.task_spec.bpmn_id == info.attached_to), None)
        if attached is not None:
            guards[str(timer.id)] = (timer.task_spec.bpmn_id, [str(t.id) for t in ready if attached.id in _lineage(t)])
    return guards


def _lineage(task):
    """The ids of a task and everything above it, through the sub-processes it runs in."""
    top = task.workflow.top_workflow
    while task is not None:
        yield task.id
        if task.parent is not None:
            task = task.parent
        else:
            parent_id = task.workflow.parent_task_id
            task = top.get_task_from_id(parent_id) if parent_id else None


def _ready_manual_task(workflow: BpmnWorkflow, task_uuid: str):
    try:
        task = workflow.get_task_from_id(UUID(task_uuid))
    except (ValueError, KeyError):
        task = None
    if task is None or task.state != TaskState.READY or not task.task_spec.manual:
        raise TaskNotReady(task_uuid)
    return task


def snapshot(workflow: BpmnWorkflow, model: ProcessModel) -> Snapshot:
    """Ready user tasks, waiting timers, outgoing messages and the data, read from `workflow`."""
    timers = [t for t in map(lambda task: _waiting_timer(task, model), _timer_tasks(workflow)) if t]
    ready = [_ready_task(task, model, timers) for task in workflow.get_tasks(state=TaskState.READY, manual=True)]
    fired = [t for t in (_waiting_timer(task, model) for task in getattr(workflow, FIRED_IN_STEP, ())) if t]
    return Snapshot(
        ready_tasks=ready,
        timers=timers,
        fired=fired,
        messages=_messages(workflow),
        completed=workflow.is_completed(),
        data=_latest_data(workflow),
    )


LATEST = "__latest__"
FIRED_IN_STEP = "_timers_fired_in_step"  # on the workflow object only: never serialised


def _record_changes(task) -> None:
    """Keep, in the workflow's own data, each field's latest value in completion order.

    Parallel branches each carry a copy of the data, and the branch that ends last is not the one
    that changed a field last; so a task's changes (against its parent's data) are recorded as the
    task completes, and the case record is read from this record.
    """
    top = task.workflow.top_workflow
    if isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
        # a clock that ran out in this run: it may never have been seen waiting (due before it started)
        top.__dict__.setdefault(FIRED_IN_STEP, []).append(task)
    latest = top.data.setdefault(LATEST, {})
    parent = task.parent.data if task.parent is not None else {}
    for key, value in task.data.items():
        if key not in parent or parent[key] != value:
            latest[key] = value


def _latest_data(workflow: BpmnWorkflow) -> dict:
    return dict(workflow.data.get(LATEST) or {})


def case_data(workflow: BpmnWorkflow) -> dict:
    """The data a snapshot of `workflow` would give now (each field's latest value), without the rest
    of the snapshot: what a step compares against after it has run."""
    return _latest_data(workflow)


def _timer_tasks(workflow: BpmnWorkflow):
    for task in workflow.event_manager.tasks.values():
        if isinstance(task.task_spec.event_definition, TimerEventDefinition):
            yield task


def _waiting_timer(task, model: ProcessModel) -> WaitingTimer | None:
    value = task._get_internal_data("event_value")
    if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition) and isinstance(value, dict):
        value = value.get("next")
    if not value:
        return None
    bpmn_id = task.task_spec.bpmn_id
    info = model.timers.get(bpmn_id)
    guards = model.element_names.get(info.attached_to, "") if info and info.attached_to else ""
    return WaitingTimer(
        task_uuid=str(task.id),
        bpmn_id=bpmn_id,
        name=info.name if info else (task.task_spec.bpmn_name or bpmn_id),
        guards=guards,
        interrupting=info.interrupting if info else False,
        due_at=_timer_due(value),
    )


def _timer_due(value) -> datetime:
    if isinstance(value, str) and value.upper().startswith("P"):
        raise ValueError(f"timer value {value!r} is a duration, not a time")
    return parse_when(value)


def _ready_task(task, model: ProcessModel, timers: list[WaitingTimer]) -> ReadyTask:
    spec = task.task_spec
    info = model.user_tasks.get(spec.bpmn_id)
    due = _due_from_expression(task, info.due_expression) if info and info.due_expression else None
    if due is None:
        due = min((t.due_at for t in timers if model.timers.get(t.bpmn_id) and
                   model.timers[t.bpmn_id].attached_to == spec.bpmn_id), default=None)
    return ReadyTask(
        task_uuid=str(task.id),
        bpmn_id=spec.bpmn_id,
        title=(info.name if info else None) or spec.bpmn_name or spec.bpmn_id,
        lane=(info.lane if info else None) or spec.lane,
        form=info.form if info else None,
        ui_form=info.ui_form if info else None,
        instructions=info.instructions if info else "",
        escalation=info.escalation if info else False,
        due_at=due,
        assignee=_assignee_from_expression(task, info.assignee_expression) if info and info.assignee_expression
        else None,
    )


def _assignee_from_expression(task, expression: str) -> str | None:
    """The username the task's `assignee` expression names in the case data (None: the lane's role).

    A bare name the data does not (yet) hold names nobody; it is not evaluated, and no expression is
    evaluated through the engine's error path, whose "did you mean" search over every data key cost
    more than the rest of a step's snapshot."""
    if expression.isidentifier() and expression not in task.data:
        return None
    try:
        value = task.workflow.script_engine.environment.evaluate(expression, task.data)
    except Exception:  # a rule that cannot be read here leaves the task with its lane's role
        log.debug("assignee expression %r did not name anyone on task %s", expression, task.task_spec.bpmn_id,
                  exc_info=True)
        return None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _due_from_expression(task, expression: str) -> datetime | None:
    try:
        return parse_when(task.workflow.script_engine.evaluate(task, expression))
    except Exception:  # a bad due rule must not stop the case; the task shows no due date
        log.warning("due date expression %r failed on task %s", expression, task.task_spec.bpmn_id,
                    exc_info=True)
        return None


def _messages(workflow: BpmnWorkflow) -> list[OutboundMessage]:
    messages = []
    for event in workflow.get_events():
        if isinstance(event.event_definition, MessageEventDefinition):
            payload = event.payload if isinstance(event.payload, dict) else {"value": event.payload}
            messages.append(OutboundMessage(event.event_definition.name, payload))
    return messages
