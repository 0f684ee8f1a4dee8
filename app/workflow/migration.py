"""Moving a running workflow onto another version of its process (DESIGN.md decision 10).

SpiffWorkflow 3.2 aligns the task specs of two versions by BPMN id (`SpecDiff`) and lists the tasks of
a workflow whose specs were changed or removed (`WorkflowDiff`). A workflow may move only when none of
those tasks has been reached: an element it has completed, is doing or is waiting at must be the same
in both versions, and every sub-process it is running must still exist. Predicted tasks (not reached
yet) are re-predicted along the new version.
"""
from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff
from SpiffWorkflow.util.task import TaskState

from app.workflow.definition import ProcessModel
from app.workflow.engine import _engine_steps, _running
from app.workflow.state import _SERIALIZER

REACHED = TaskState.COMPLETED | TaskState.STARTED | TaskState.READY | TaskState.WAITING | TaskState.ERROR
RESET = TaskState.READY | TaskState.WAITING
UNDER_WAY = RESET | TaskState.STARTED  # what follows these is re-predicted, so it may change

# What a changed attribute of a task spec means, in words a process owner uses.
CHANGES = {
    "outputs": "what follows it", "inputs": "what leads to it", "extensions": "its form, instructions or due rule",
    "lane": "its lane", "bpmn_name": "its name", "typename": "its type of element", "cond_task_specs": "its conditions",
    "default_task_spec": "its default flow", "event_definition": "its event (timer, message or escalation)",
    "prescript": "its pre-script", "postscript": "its post-script", "script": "its script",
    "condition": "its loop condition", "task_spec": "its repeated task", "cancel_activity": "whether it interrupts",
}


@dataclass(frozen=True)
class Blocker:
    """An element a workflow has reached that the new version changes or removes."""

    bpmn_id: str
    name: str
    reason: str


def migration_blockers(workflow, old_model: ProcessModel, new_model: ProcessModel) -> list[Blocker]:
    """Why `workflow` (running on `old_model`) cannot move to `new_model`; empty when it can."""
    registry = _SERIALIZER.registry
    names = {**new_model.element_names, **old_model.element_names}
    blockers = _workflow_blockers(workflow, SpecDiff(registry, workflow.spec, new_model.spec), names)
    for subworkflow in workflow.subprocesses.values():
        new_spec = new_model.subprocess_specs.get(subworkflow.spec.name)
        if new_spec is None:
            name = subworkflow.spec.name
            blockers.append(Blocker(name, names.get(name, name),
                                    "it is running this sub-process, which the new version no longer has"))
            continue
        blockers.extend(_workflow_blockers(subworkflow, SpecDiff(registry, subworkflow.spec, new_spec), names))
    return _unique(blockers)


def _workflow_blockers(workflow, spec_diff: SpecDiff, names: dict[str, str]) -> list[Blocker]:
    found = []
    diff = WorkflowDiff(workflow, spec_diff)
    for task in diff.removed:
        element = _element_of(task.task_spec, names)
        if task.has_state(REACHED) and element:
            found.append(_blocker(element, names, "it has been reached and the new version removes it"))
    changed = spec_diff.changed
    for task in diff.changed:
        element = _element_of(task.task_spec, names)
        changes = changed[task.task_spec]
        if task.has_state(UNDER_WAY):
            changes = [c for c in changes if c != "outputs"]
        if task.has_state(REACHED) and element and changes:
            what = ", ".join(dict.fromkeys(CHANGES.get(k, k.replace("_", " ")) for k in changes))
            found.append(_blocker(element, names, f"it has been reached and the new version changes {what}"))
    return found


def _element_of(spec, names: dict[str, str]) -> str | None:
    """The BPMN element a spec belongs to: engine-made specs such as `Task_x.BoundaryEventSplit` belong
    to `Task_x`; the engine's own Start and End belong to none."""
    if spec.bpmn_id is not None:
        return spec.bpmn_id
    owner = spec.name.split(".")[0]
    return owner if owner in names else None


def _blocker(element: str, names: dict[str, str], reason: str) -> Blocker:
    return Blocker(element, names.get(element, element), reason)


def _unique(blockers: list[Blocker]) -> list[Blocker]:
    return list({(b.bpmn_id, b.reason): b for b in blockers}.values())


def migrate_workflow(workflow, new_model: ProcessModel) -> None:
    """Re-attach `workflow` to `new_model` in place and run on to its next wait; call only when
    `migration_blockers` is empty (raises WorkflowError when the new version cannot run on).

    Like SpiffWorkflow's `migrate_workflow`, tasks that are ready or waiting are reset so that what
    follows them is predicted from the new version; unlike it, they keep their own data and a waiting
    timer keeps the time it falls due (resetting would restart a duration from now).
    """
    registry = _SERIALIZER.registry
    subworkflows = list(workflow.subprocesses.values())
    diffs = [(sub, SpecDiff(registry, sub.spec, new_model.subprocess_specs[sub.spec.name]),
              new_model.subprocess_specs[sub.spec.name]) for sub in subworkflows]
    top = SpecDiff(registry, workflow.spec, new_model.spec)
    workflow.subprocess_specs = new_model.subprocess_specs
    _move(workflow, WorkflowDiff(workflow, top), new_model.spec)
    for sub, spec_diff, new_spec in diffs:
        _move(sub, WorkflowDiff(sub, spec_diff), new_spec)
    with _running(workflow):
        _engine_steps(workflow)


def _move(workflow, diff: WorkflowDiff, spec) -> None:
    workflow.spec = spec
    for task in workflow.tasks.values():
        if diff.alignment.get(task) is not None:
            task.task_spec = diff.alignment[task]
    for task in list(workflow.get_tasks(state=RESET, skip_subprocesses=True)):
        if task.id not in workflow.tasks:
            continue  # dropped with an ancestor's branch
        due = task.internal_data.get("event_value")
        task.reset_branch(deepcopy(task.data))
        if due is not None:
            task.internal_data["event_value"] = due
    for task in workflow.get_tasks(state=TaskState.STARTED, skip_subprocesses=True):
        task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = None
