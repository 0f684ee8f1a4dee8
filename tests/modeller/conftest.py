"""Fixtures for the modeller's tests: a process owner, the bundled PiPoT model deployed, cases on it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import time_machine

from app.services import definitions
from tests.modeller.models import ROOT, pipot_bytes
from tests.web.conftest import other_web, staff, web  # noqa: F401  (fixtures shared with the page tests)

MONDAY_MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def office_hours():
    """Monday 23 November 2026, 10:00: cases start in hours (the reporting manager's first steps)."""
    with time_machine.travel(MONDAY_MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def owner(app_ctx):
    return staff("process_owner", name="Pat Owner")


@pytest.fixture
def pipot(app_ctx):
    definition, _ = definitions.deploy_definition(pipot_bytes(), "pipot.bpmn")
    return definition


def concern_answers() -> dict:
    from app import clock
    from app.scenarios import load_scenario
    from app.services.runtime import get_calendar

    scenario = load_scenario(ROOT / "tests" / "scenarios" / "pipot" / "outcome_false.json")
    # the manager became aware today: the clocks before the threshold count from then
    today = get_calendar().local(clock.now()).date().isoformat()
    return scenario["steps"][1]["start"]["answers"] | {"date_became_aware": today}


def first_steps_answers() -> dict:
    from app.scenarios import load_scenario

    scenario = load_scenario(ROOT / "tests" / "scenarios" / "pipot" / "outcome_false.json")
    return next(s for s in scenario["steps"] if s.get("complete") == "Task_first_steps")["answers"]


def open_pipot_case(manager, *, past_first_steps: bool = False):
    """A PiPoT case raised by `manager` (a reporting manager), at the first steps or just past them."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import HumanTask
    from app.services.cases import lifecycle
    from app.services.tasks import human_tasks

    case = lifecycle.start_case("pipot", concern_answers(), manager)
    if past_first_steps:
        task_id = db.session.scalar(select(HumanTask.id).where(HumanTask.case_id == case.id,
                                                               HumanTask.bpmn_id == "Task_first_steps"))
        human_tasks.complete_task(task_id, manager, first_steps_answers())
    return case
