"""A step's commit keeps loaded what it knows is still true (the person acting, the case's reference
for the step's answer) and lets go of the rest: a session that takes step after step (the worker, a
script, the benchmarks) holds no more after the hundredth than after the first."""
from __future__ import annotations

import gc
import weakref

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask
from app.services.cases import lifecycle
from app.services.tasks import human_tasks
from bench.answers import CONCERN, FIRST_STEPS, FIRST_STEPS_TASKS, MANAGER_ROLES
from tests.escalations.cases import deploy, person


def test_a_session_taking_step_after_step_lets_go_of_the_cases_of_earlier_steps(app_ctx):
    deploy("pipot")
    reporter, manager = person(), person(*MANAGER_ROLES)
    cases = []
    for _ in range(3):
        case = lifecycle.start_case("pipot", CONCERN, reporter)
        task = db.session.scalar(select(HumanTask).where(
            HumanTask.case_id == case.id, HumanTask.status == "open", HumanTask.bpmn_id.in_(FIRST_STEPS_TASKS)))
        human_tasks.complete_task(task.id, manager, FIRST_STEPS)
        cases.append(weakref.ref(case))
        del case, task
    gc.collect()
    # the last step's case is kept for its answer (its reference, without a read); the others are let go
    assert [ref() is not None for ref in cases] == [False, False, True]
    assert len(db.session.identity_map) < 10
