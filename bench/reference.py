"""A plain reference model beside the PiPoT step (issue 18): ten sequential user tasks in one lane,
one small form each, written for the bench. Its completions are timed through the services against
a durable floor of its own, measured in the same run, sample for sample in turn: load the instance's
JSON, complete the task, serialize, write the blob back and commit, nothing else (on a connection of
its own, `BlobTable`).

Each step is given its own answers (distinct values per step), so every step changes the data.
"""
from __future__ import annotations

import json

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask
from app.services import definitions, people
from app.services.cases import lifecycle
from app.services.runtime import get_runtime, model_for
from app.services.tasks import human_tasks
from app.workflow import dump_state_json, load_state, run_user_task, snapshot, start_workflow
from bench.harness import BlobTable, signed_in, stopwatch, summary_ms

PROCESS = "bench_reference"
STEPS = 10
LANE, ROLE = "Safeguarding team", "safeguarding_team"


def _form(n: int) -> str:
    return json.dumps({"title": f"Step {n}", "type": "object", "additionalProperties": False,
                       "required": [f"note_{n}", f"done_{n}"],
                       "properties": {f"note_{n}": {"type": "string", "title": f"Note for step {n}", "maxLength": 200},
                                      f"done_{n}": {"type": "boolean", "title": f"Step {n} done"}}})


def model_xml() -> bytes:
    """Start, ten user tasks in a row in one lane, end; no scripts, no gateways, no timers."""
    tasks = "".join(
        f'<bpmn:userTask id="Task_{n}" name="Step {n}"><bpmn:extensionElements><spiffworkflow:properties>'
        f'<spiffworkflow:property name="formJsonSchemaFilename" value="bench_step_{n}.schema.json" />'
        f'</spiffworkflow:properties></bpmn:extensionElements>'
        f'<bpmn:incoming>Flow_{n - 1}</bpmn:incoming><bpmn:outgoing>Flow_{n}</bpmn:outgoing></bpmn:userTask>'
        for n in range(1, STEPS + 1))
    flows = "".join(
        f'<bpmn:sequenceFlow id="Flow_{n}" sourceRef="{"Event_start" if n == 0 else f"Task_{n}"}" '
        f'targetRef="{"Event_end" if n == STEPS else f"Task_{n + 1}"}" />' for n in range(STEPS + 1))
    refs = "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>"
                   for ref in ["Event_start", *[f"Task_{n}" for n in range(1, STEPS + 1)], "Event_end"])
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_bench_reference" '
        'targetNamespace="http://bpmn.io/schema/bpmn">'
        '<bpmn:collaboration id="Collaboration_bench"><bpmn:participant id="Participant_bench" '
        f'name="Bench reference" processRef="{PROCESS}" /></bpmn:collaboration>'
        f'<bpmn:process id="{PROCESS}" name="Bench reference: ten steps in a row" isExecutable="true">'
        f'<bpmn:laneSet id="LaneSet_bench"><bpmn:lane id="Lane_team" name="{LANE}">{refs}</bpmn:lane></bpmn:laneSet>'
        '<bpmn:startEvent id="Event_start"><bpmn:outgoing>Flow_0</bpmn:outgoing></bpmn:startEvent>'
        f'{tasks}<bpmn:endEvent id="Event_end"><bpmn:incoming>Flow_{STEPS}</bpmn:incoming></bpmn:endEvent>{flows}'
        '</bpmn:process></bpmn:definitions>').encode()


def answers(step: int, case_number: int) -> dict:
    """Small answers, distinct for every step of every case."""
    return {f"note_{step}": f"Case {case_number}, step {step}: checked and recorded.", f"done_{step}": step % 2 == 0}


def deploy() -> None:
    forms = {f"bench_step_{n}.schema.json": _form(n) for n in range(1, STEPS + 1)}
    definitions.deploy_definition(model_xml(), "bench_reference.bpmn", load_form=forms.get)
    db.session.commit()


def _open_task(case_id: int) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status == "open"))


def _step_of(task: HumanTask) -> int:
    return int(task.bpmn_id.removeprefix("Task_"))


def measure(iterations: int, progress=None) -> tuple[dict, dict]:
    """`iterations` completions through `complete_task`, ten per case, every step of the model alike,
    each followed by a sample of the floor for the same step (so that whatever else the machine is
    doing weighs on both alike). Returns (service, floor)."""
    opener = people.create_user("bench-ref-opener", "Reference opener", ["staff"])
    clerk = people.create_user("bench-ref-clerk", "Reference clerk", ["staff", ROLE])
    floor = _Floor(iterations)
    completions, case_number = [], 0
    while len(completions) < iterations:
        case_number += 1
        case = lifecycle.start_case(PROCESS, None, opener)
        task = _open_task(case.id)
        while task is not None and len(completions) < iterations:
            task_id, step = task.id, _step_of(task)
            clerk = signed_in(clerk)
            with stopwatch(completions):
                human_tasks.complete_task(task_id, clerk, answers(step, case_number))
            floor.complete(len(completions) - 1)
            task = _open_task(case.id)
        if progress and case_number % 10 == 0:
            progress(f"reference model: {len(completions)} of {iterations} completions (and floor samples)")
    return {"complete": summary_ms(completions), "cases": case_number}, floor.close()


class _Floor:
    """The same completions with nothing but the blob: read, run, serialize, write, commit."""

    def __init__(self, iterations: int):
        definition = definitions.latest_definition(PROCESS)
        self.model, self.engine = model_for(definition), get_runtime().script_engine
        workflow = start_workflow(self.model, self.engine, {})
        self.states = []  # (state before the step, the ready task, its step)
        for _ in range(STEPS):
            ready = snapshot(workflow, self.model).ready_tasks[0]
            step = int(ready.bpmn_id.removeprefix("Task_"))
            self.states.append((dump_state_json(workflow), ready.task_uuid, step))
            run_user_task(workflow, ready.task_uuid, answers(step, 0))
        db.session.commit()
        self.blobs = BlobTable("bench_ref_blob", [self.states[n % STEPS][0] for n in range(iterations)])
        self.completions = []

    def complete(self, n: int) -> None:
        _state, task_uuid, step = self.states[n % STEPS]
        with stopwatch(self.completions):
            flow = load_state(self.blobs.read(n), self.model.spec, self.model.subprocess_specs, self.engine)
            run_user_task(flow, task_uuid, answers(step, n))
            self.blobs.write(n, dump_state_json(flow))

    def close(self) -> dict:
        self.blobs.drop()
        return {"complete": summary_ms(self.completions)}


def run(app, iterations: int, progress=None) -> dict:
    fanout = app.config["NOTIFY_FANOUT"]
    app.config["NOTIFY_FANOUT"] = "worker"  # as for PiPoT (bench/engine.py): nobody told inside the stopwatch
    try:
        with app.app_context():
            deploy()
            service, floor = measure(iterations, progress)
            db.session.remove()
    finally:
        app.config["NOTIFY_FANOUT"] = fanout
    return {"service": service, "durable_floor": floor,
            "ratio_complete_vs_durable_floor": round(service["complete"]["p50_ms"] / floor["complete"]["p50_ms"], 2)}

