"""Engine overhead against two floors, for the PiPoT process (issue 9, item 2; issue 18).

- service: `start_case` / `complete_task` (load, validate the form, run, serialize, projections,
  audit, commit), with the people concerned told afterwards (`fan_out`: timed on its own, per new task);
- in memory: the same workflow steps with nothing stored;
- durable floor: load the instance's JSON, complete the task, serialize, write that one blob back
  in one committed transaction, nothing else; for a start, run the first form and insert the blob.
  Its statements go to the database on a connection of their own (`BlobTable`), not through the
  bench's ORM session.
  Its samples are taken in turn with the service's, so a busy machine weighs on both alike.
"""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance
from app.services import definitions, people
from app.services.cases import lifecycle
from app.services.notifications.fanout import fan_out_pending
from app.services.runtime import get_runtime, model_for
from app.services.tasks import human_tasks
from app.workflow import dump_state_json, load_state, run_user_task, snapshot, start_workflow, state_json
from bench.answers import CONCERN, FIRST_STEPS, FIRST_STEPS_TASKS, MANAGER_ROLES
from bench.harness import BlobTable, signed_in, stopwatch, summary_ms


def _first_steps_task(case) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.status == "open", HumanTask.bpmn_id.in_(FIRST_STEPS_TASKS)))


def measure_service(iterations: int, progress=None) -> tuple[dict, dict]:
    """Starts and completions through the services, each followed by a sample of the durable floor
    (so that whatever else the machine is doing weighs on both alike). The people concerned by each
    new task are told afterwards, as the worker would (the hook's thread would compete with the
    stopwatch), and that is timed on its own: the fan-out's cost per new task. Returns (service, floor)."""
    reporter = people.create_user("bench-reporter", "Bench reporter", ["staff"])
    manager = people.create_user("bench-manager", "Bench manager", ["staff", *MANAGER_ROLES])
    floor = _Floor(iterations, reporter)
    fan_out_pending()  # the floor's own case: told about untimed
    starts, completions, fan_outs = [], [], []
    for n in range(iterations):
        reporter = signed_in(reporter)
        with stopwatch(starts):
            case = lifecycle.start_case("pipot", CONCERN, reporter)
        task_id = _first_steps_task(case).id
        manager = signed_in(manager)
        with stopwatch(completions):
            human_tasks.complete_task(task_id, manager, FIRST_STEPS)
        timed: list[float] = []
        with stopwatch(timed):
            told = fan_out_pending()
        fan_outs.extend([timed[0] / told] * told if told else [])
        floor.complete(n)
        floor.start(n)
        if progress and (n + 1) % 100 == 0:
            progress(f"PiPoT: {n + 1} of {iterations} starts and completions (and floor samples)")
    service = {"start": summary_ms(starts), "complete": summary_ms(completions),
               "fan_out_per_task": summary_ms(fan_outs)}
    return service, floor.close()


def _ready_id(workflow, model, bpmn_ids) -> str:
    return next(t.task_uuid for t in snapshot(workflow, model).ready_tasks if t.bpmn_id in bpmn_ids)


def measure_in_memory(iterations: int) -> dict:
    model, engine = model_for(definitions.latest_definition("pipot")), get_runtime().script_engine
    initial = {"case_reference": "PIPOT-2026-0001", "case_opened_at": "2026-11-23T10:00:00+00:00",
               "out_of_hours": False}
    starts, completions = [], []
    for _ in range(iterations):
        with stopwatch(starts):
            workflow = start_workflow(model, engine, dict(initial))
            run_user_task(workflow, _ready_id(workflow, model, {"Task_raise_concern"}), dict(CONCERN))
        task_uuid = _ready_id(workflow, model, set(FIRST_STEPS_TASKS))
        with stopwatch(completions):
            run_user_task(workflow, task_uuid, dict(FIRST_STEPS))
    return {"start": summary_ms(starts), "complete": summary_ms(completions)}


class _Floor:
    """The durable floor, a sample at a time: one blob read, one task completed, one blob written and
    committed; for a start, the first form run and the blob inserted and committed."""

    def __init__(self, iterations: int, reporter):
        self.model = model_for(definitions.latest_definition("pipot"))
        self.engine = get_runtime().script_engine
        case = lifecycle.start_case("pipot", CONCERN, reporter)
        instance = db.session.get(ProcessInstance, case.instance_id)
        state, self.task_uuid = state_json(instance.state), _first_steps_task(case).task_uuid
        self.iterations, self.completions, self.starts = iterations, [], []
        db.session.commit()
        self.blobs = BlobTable("bench_blob", [state] * iterations)

    def complete(self, n: int) -> None:
        with stopwatch(self.completions):
            workflow = load_state(self.blobs.read(n), self.model.spec, self.model.subprocess_specs, self.engine)
            run_user_task(workflow, self.task_uuid, dict(FIRST_STEPS))
            self.blobs.write(n, dump_state_json(workflow))

    def start(self, n: int) -> None:
        model = self.model
        with stopwatch(self.starts):
            workflow = start_workflow(model, self.engine, {"case_reference": f"PIPOT-2026-{n:04d}",
                                                           "case_opened_at": "2026-11-23T10:00:00+00:00",
                                                           "out_of_hours": False})
            run_user_task(workflow, _ready_id(workflow, model, {"Task_raise_concern"}), dict(CONCERN))
            self.blobs.insert(self.iterations + n, dump_state_json(workflow))

    def close(self) -> dict:
        self.blobs.drop()
        return {"complete": summary_ms(self.completions), "start": summary_ms(self.starts)}


def run(app, iterations: int, progress=None) -> dict:
    fanout = app.config["NOTIFY_FANOUT"]
    app.config["NOTIFY_FANOUT"] = "worker"  # told afterwards, timed apart (measure_service)
    try:
        with app.app_context():
            service, floor = measure_service(iterations, progress)
            memory = measure_in_memory(iterations)
            db.session.remove()
    finally:
        app.config["NOTIFY_FANOUT"] = fanout
    complete = service["complete"]["p50_ms"]
    return {
        "service": service, "in_memory": memory, "durable_floor": floor,
        "ratio_complete_vs_durable_floor": round(complete / floor["complete"]["p50_ms"], 2),
        "ratio_complete_vs_in_memory": round(complete / memory["complete"]["p50_ms"], 2),
        "ratio_start_vs_durable_floor": round(service["start"]["p50_ms"] / floor["start"]["p50_ms"], 2),
    }
