"""A PiPoT concern in care group A walked to the investigation: the nurse director of A (not of B)
appoints it, and the investigation goes to the investigation manager appointed, not to every
investigation manager of the trust."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import time_machine

from app.config import PROJECT_ROOT
from app.services.cases import lifecycle
from app.services.tasks import human_tasks
from tests.need_to_know.conftest import person
from tests.need_to_know.test_units_and_named_people import _open, _told

SCENARIO = PROJECT_ROOT / "tests" / "scenarios" / "pipot" / "outcome_substantiated.json"
TRUST_ROLES = ("meeting_chair", "people_experience", "chief_nursing_officer")


def _steps() -> list[dict]:
    return json.loads(SCENARIO.read_text(encoding="utf-8"))["steps"]


def _walk_to(org, case, last: str) -> None:
    """Complete the scenario's tasks, each as the person holding its role for care group A."""
    doer = {"reporting_manager": "manager-a", "safeguarding_team": "safeguarding-team",
            "triage_panel": "triage-panel", "head_of_safeguarding": "head-of-safeguarding",
            "care_group_nurse_director": "nurse-director-a", **{role: role for role in TRUST_ROLES}}
    moment = None  # each answer is given at the scenario's time (a meeting is held before it is recorded)
    for step in _steps():
        moment = step.get("advance_to") or step.get("at") or moment
        if "complete" not in step:
            continue
        task = _open(case, step["complete"])
        assert task is not None, f"{step['complete']} is not open"
        with time_machine.travel(datetime.fromisoformat(moment) if moment else datetime.now(timezone.utc), tick=True):
            human_tasks.complete_task(task.id, org.person(doer[step["as"]]), step.get("answers", {}))
        if step["complete"] == last:
            return


def test_the_care_groups_nurse_director_appoints_and_the_appointed_manager_investigates(org):
    for role in TRUST_ROLES:
        person(org, role, [(role, "riverside")])
    chosen = person(org, "investigator", [("investigation_manager", "riverside")])
    other = person(org, "other-investigator", [("investigation_manager", "riverside")])
    start = next(step["start"]["answers"] for step in _steps() if "start" in step)
    case = lifecycle.start_case("pipot", start | {"case_unit": "care-group-a"}, org.person("raiser"))
    _walk_to(org, case, "Task_support_colleague")
    appoint = _open(case, "Task_appoint_investigation")
    assert [t.id for t in human_tasks.list_tasks(org.person("nurse-director-a"))] == [appoint.id]
    assert human_tasks.list_tasks(org.person("nurse-director-b")) == [] and _told(org.person("nurse-director-b")) == 0
    answers = next(step["answers"] for step in _steps() if step.get("complete") == "Task_appoint_investigation")
    human_tasks.complete_task(appoint.id, org.person("nurse-director-a"),
                              answers | {"investigation_manager": chosen.username})
    investigation = _open(case, "Task_conduct_investigation")
    assert investigation.assignee_id == chosen.id
    assert [t.id for t in human_tasks.list_tasks(chosen)] == [investigation.id]
    assert human_tasks.list_tasks(other) == [] and _told(other) == 0
