"""Serializing running workflows.

A stored instance holds SpiffWorkflow's serialization *without* the process spec: the spec belongs
to the deployed definition and is parsed once per process and cached, so every instance does not
carry (and every save does not rewrite) a copy of the whole diagram.
"""
from __future__ import annotations

import json
import zlib
from copy import copy, deepcopy
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState


class _InstanceConverter(BpmnWorkflowConverter):
    """Leaves the specs out on the way in, takes live spec objects on the way out."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = []  # outbound messages are routed by the step that threw them, never again
        return dct

    def from_dict(self, dct):
        workflow = self.target_class(dct.pop("spec"), dct.pop("subprocess_specs"), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _TaskConverter(TaskConverter):
    """SpiffWorkflow's task converter, restoring a task's data from its parent's as a plain copy: the
    same values as its generic deep merge into an empty dict (each list, dict or set at the top copied,
    the rest shared), without walking every key of every task's inherited data through the merge."""

    def from_dict(self, dct, workflow):
        task = self.target_class(workflow, workflow.spec.task_specs.get(dct["task_spec"]), state=dct["state"],
                                 id=UUID(dct["id"]))
        task._parent = UUID(dct["parent"]) if dct["parent"] is not None else None
        task._children = [UUID(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = self.registry.restore(dct["internal_data"])
        if isinstance(task.task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        if delta and task.parent is not None:
            data = {key: copy(value) if isinstance(value, _COPIED) else value
                    for key, value in task.parent.data.items()}
            data.update(self.registry.restore(delta.get("updates", {})))
            for key in delta.get("deletions", ()):
                data.pop(key, None)
        else:
            data = self.registry.restore(dct["data"])
        task.data = data
        return task


_COPIED = (dict, list, set)


def _make_serializer() -> BpmnWorkflowSerializer:
    config = deepcopy(SPIFF_CONFIG)
    config[BpmnWorkflow] = _InstanceConverter
    config[Task] = _TaskConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_SERIALIZER = _make_serializer()


def dump_state_json(workflow) -> str:
    """The workflow's state without its spec, as JSON text (uncompressed)."""
    return _SERIALIZER.serialize_json(workflow)


def dump_state(workflow) -> bytes:
    """The workflow's state without its spec: JSON, zlib-compressed (fast level; JSON of a task
    tree compresses about sevenfold)."""
    return zlib.compress(dump_state_json(workflow).encode("utf-8"), 1)


def state_json(state: bytes | str) -> str:
    """The JSON text of a stored state (plain text is accepted as it is)."""
    return state if isinstance(state, str) else zlib.decompress(state).decode("utf-8")


def load_state(state: bytes | str, spec, subprocess_specs: dict, script_engine):
    """Restore a workflow from `dump_state` output onto its (cached) spec."""
    dct = json.loads(state_json(state))
    _SERIALIZER.migrate(dct)
    dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
    workflow = _SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine
    _share_ids(workflow)
    return workflow


def _share_ids(workflow) -> None:
    """Make every reference to a task (its workflow's key for it, its parent's list of children, its
    children's parent) the task's own id object. Restored from text, each was a UUID of its own: equal,
    but every lookup the engine makes by a child's or parent's id (thousands a step, in its walks of the
    tree) then compared two UUIDs in Python where the same object matches at once. Tasks the engine
    adds share their ids this way already."""
    workflows = [workflow, *workflow.subprocesses.values()]
    own = {task.id: task.id for each in workflows for task in each.tasks.values()}
    for each in workflows:
        tasks = list(each.tasks.values())
        each.tasks.clear()  # the same dict, keyed again in the same order
        each.tasks.update((task.id, task) for task in tasks)
        for task in tasks:
            if task._parent is not None:
                task._parent = own.get(task._parent, task._parent)
            task._children = [own.get(child, child) for child in task._children]
