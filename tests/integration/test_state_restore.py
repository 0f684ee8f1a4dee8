"""A stored workflow is restored with every task's data as SpiffWorkflow's own converter restores it
(its parent's data, then the task's own changes and deletions), and no task shares a list or dict at
the top of its data with its parent: changing one task's answers never changes another's."""
from __future__ import annotations

import json
from copy import deepcopy
from datetime import datetime, timezone

import time_machine
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from app.extensions import db
from app.models import ProcessInstance
from app.services.cases.lifecycle import load_workflow
from app.workflow.state import _InstanceConverter, state_json
from tests.escalations.cases import person, pipot_actions_agreed


def _stock_serializer() -> BpmnWorkflowSerializer:
    """SpiffWorkflow's own task converter, with the instance converter that leaves the specs out."""
    config = deepcopy(SPIFF_CONFIG)
    config[BpmnWorkflow] = _InstanceConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


def test_restored_task_data_matches_spiffworkflows_own_restore_and_is_not_shared(app_ctx):
    crew = {role: person(role) for role in ("reporting_manager", "safeguarding_team", "triage_panel",
                                            "meeting_chair", "people_experience", "head_of_safeguarding")}
    actions = [{"action": "Collect the witness statements.", "owner_role": "people_experience",
                "due_date": "2026-12-02"}]
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc), tick=False):
        case = pipot_actions_agreed(person(), crew, actions)
    instance = db.session.get(ProcessInstance, case.instance_id)
    ours, model = load_workflow(instance)

    dct = json.loads(state_json(instance.state))
    serializer = _stock_serializer()
    serializer.migrate(dct)
    dct["spec"], dct["subprocess_specs"] = model.spec, model.subprocess_specs
    stock = serializer.from_dict(dct)

    assert issubclass(_InstanceConverter, BpmnWorkflowConverter)
    tasks = {task.id: task for task in ours.get_tasks()}
    assert len(tasks) > 30 and set(tasks) == {task.id for task in stock.get_tasks()}
    nested = 0
    for task in stock.get_tasks():
        assert tasks[task.id].data == task.data, task.task_spec.name
        parent = tasks[task.id].parent
        if parent is None:
            continue
        for key, value in tasks[task.id].data.items():
            if isinstance(value, (dict, list)) and key in parent.data:
                nested += 1
                assert value is not parent.data[key], (task.task_spec.name, key)
    assert nested > 0  # the meeting's actions, the form's lists: there were some to check
