"""The case page draws the case on its process: what is done, the current and overdue tasks, clocks that
ran out, with a legend; choosing an element shows its history on this case (no JavaScript needed)."""
from __future__ import annotations

import json
from datetime import timedelta

from tests.modeller.conftest import open_pipot_case
from tests.web.conftest import staff


def _marks(page) -> dict[str, str]:
    marks = {}
    for group in page.tree.xpath("//*[@id='case-diagram']//*[@data-element-id]"):
        for css in group.get("class", "").split():
            if css.startswith("app-mark--"):
                marks[group.get("data-element-id")] = css.removeprefix("app-mark--")
    return marks


def test_the_case_page_marks_done_current_and_overdue_elements(web, pipot, office_hours):
    manager = staff("reporting_manager", name="Jo Patel")
    case = open_pipot_case(manager)
    web.sign_in(manager.username)
    page = web.get(f"/cases/{case.reference}")
    marks = _marks(page)
    assert marks["Task_raise_concern"] == "completed" and marks["Script_initialise_case"] == "completed"
    assert marks["Task_first_steps"] == "current"
    assert "Task_triage" not in marks
    legend = [" ".join(li.itertext()).strip() for li in page.tree.xpath("//ul[contains(@class,'app-legend')]/li")]
    assert legend == ["Overdue task", "Current task or running clock", "Clock that ran out", "Done"]

    _make_overdue(case)
    assert _marks(web.get(f"/cases/{case.reference}"))["Task_first_steps"] == "overdue"


def _make_overdue(case) -> None:
    from sqlalchemy import update

    from app import clock
    from app.extensions import db
    from app.models import HumanTask

    db.session.execute(update(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")
                       .values(due_at=clock.now() - timedelta(days=1)))
    db.session.commit()


def test_an_element_shows_its_history_on_this_case(web, pipot, office_hours):
    manager = staff("reporting_manager", name="Jo Patel")
    case = open_pipot_case(manager, past_first_steps=True)
    web.sign_in(manager.username)
    page = web.get(f"/cases/{case.reference}?element=Task_first_steps")
    history = " ".join(" ".join(page.tree.xpath("//*[@id='diagram-history']")[0].itertext()).split())
    assert history.startswith("Manager's first steps: notify and report on this case")
    assert "Completed “Manager's first steps: notify and report” (Jo Patel" in history
    data = page.tree.xpath("//script[@id='case-diagram-data']")[0].text
    assert '"Task_first_steps"' in data and "history" in data


def test_a_clock_that_ran_out_is_marked(web, app_ctx):
    from datetime import datetime, timezone

    import time_machine

    from app.services import definitions
    from app.services.cases import lifecycle
    from app.services.cases.timers import sweep_timers
    from tests.web.conftest import DATA

    path = DATA / "engine" / "simple.bpmn"
    loader = definitions.forms_dir_loader(str(DATA / "engine" / "forms"))
    definitions.deploy_definition(path.read_bytes(), path.name, load_form=loader)
    reviewer = staff("safeguarding_team", name="Sam Carter")
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc), tick=False) as traveller:
        case = lifecycle.start_case("simple", {"subject_name": "Alex Example", "summary": "Shouted.", "immediate_danger": False},
                                reviewer)
        traveller.move_to(datetime(2026, 11, 23, 12, 1, tzinfo=timezone.utc))
        sweep_timers("test")
        web.sign_in(reviewer.username)
        page = web.get(f"/cases/{case.reference}")
    marks = json.loads(page.tree.xpath("//script[@id='case-diagram-data']")[0].text)["marks"]
    assert marks["Timer_reminder"] == "fired"
    assert marks["Timer_escalation"] == "current"
    assert marks["Task_review"] in ("current", "overdue")
