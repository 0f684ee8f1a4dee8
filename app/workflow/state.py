"""Serializing running workflows.

A stored instance holds SpiffWorkflow's serialization *without* the process spec: the spec belongs
to the deployed definition and is parsed once per process and cached, so every instance does not
carry (and every save does not rewrite) a copy of the whole diagram.
"""
from __future__ import annotations

import json
import zlib
from copy import deepcopy
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


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


def _make_serializer() -> BpmnWorkflowSerializer:
    config = deepcopy(SPIFF_CONFIG)
    config[BpmnWorkflow] = _InstanceConverter
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
    return workflow
