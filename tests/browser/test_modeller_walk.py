"""A process owner changes the PiPoT model in the browser modeller (Debian's chromium): adds a user task with
a form in a lane, validates it (a problem pinned to the element), fixes it, runs the scenario check,
deploys; a new case runs on the new version while older cases stay on theirs; a case that can move is
moved, and one that cannot is refused with the reason. axe-core checks every page."""
from __future__ import annotations

import time_machine

from app.services.cases import lifecycle
from tests.browser.forms import assert_accessible
from tests.browser.test_modeller_imports import open_modeller, sign_in
from tests.browser.test_pipot_walk import pipot  # noqa: F401  (the deployed PiPoT fixture)
from tests.browser.walk import working_morning
from tests.modeller.conftest import concern_answers, open_pipot_case
from tests.web.conftest import staff

FLOW = "Flow_first_steps_to_merge"  # from the manager's first steps on, in the reporting manager's lane
FLOW_MIDDLE = """(flowId) => {
  const modeller = window.appModeller, canvas = modeller.get('canvas')
  const flow = modeller.get('elementRegistry').get(flowId)
  canvas.zoom(1)
  canvas.scrollToElement(flow)
  const [a, b] = flow.waypoints, box = canvas.viewbox(), rect = canvas.getContainer().getBoundingClientRect()
  return [rect.left + ((a.x + b.x) / 2 - box.x) * box.scale, rect.top + ((a.y + b.y) / 2 - box.y) * box.scale]
}"""


def _add_user_task_on_flow(page) -> str:
    x, y = page.evaluate(FLOW_MIDDLE, FLOW)
    page.click(".djs-palette .entry.bpmn-icon-task")
    page.mouse.move(x - 40, y - 40, steps=5)
    page.mouse.move(x, y, steps=5)
    page.mouse.click(x, y)
    page.click(".djs-context-pad .entry[data-action='replace']")
    page.click(".djs-popup [data-id='replace-with-user-task']")
    task_id = page.evaluate("window.appModeller.get('selection').get()[0].id")
    assert page.evaluate("(id) => window.appModeller.get('elementRegistry').get(id).type", task_id) == "bpmn:UserTask"
    assert page.evaluate("(id) => window.appModeller.get('elementRegistry').get(id).incoming[0].source.id",
                         task_id) == "Task_first_steps"
    return task_id


def _name_task(page, name: str) -> None:
    page.locator(".bio-properties-panel-group-header", has_text="General").first.click()
    page.get_by_label("Name", exact=True).fill(name)


def _validate(page, expect: str) -> None:
    page.click("#validate")
    page.locator("#modeller-status").filter(has_text=expect).wait_for()
    assert_accessible(page)


def _run_scenario_check(page) -> str:
    page.click("#run-scenarios")
    assert_accessible(page)
    while "Running" in page.inner_text("#scenario-status"):  # the check runs in its own process
        page.wait_for_timeout(1000)
        page.reload()
    assert_accessible(page)
    return page.inner_text("#scenario-status")


def test_a_process_owner_changes_pipot_deploys_it_and_moves_the_cases_that_can_move(pipot, live_server, browser_page):
    page, base = browser_page, live_server
    owner = staff("process_owner", name="Pat Owner")
    manager = staff("reporting_manager", name="Jo Patel")
    with time_machine.travel(working_morning(), tick=True):
        ahead, past = open_pipot_case(manager), open_pipot_case(manager, past_first_steps=True)
        sign_in(page, base, owner)
        page.click("nav a:has-text('Processes')")
        assert_accessible(page)
        page.locator("main a", has_text=pipot.name).click()
        assert_accessible(page)
        page.click("main button:has-text('Edit a copy of version 1')")
        open_modeller(page, page.url)

        task_id = _add_user_task_on_flow(page)
        _name_task(page, "Check the first steps")
        _validate(page, "problem")
        assert page.locator(f".djs-overlay .app-problem[data-element-id='{task_id}']").is_visible()
        assert f"{task_id}: User task 'Check the first steps' names no form" in page.inner_text("#problem-list")

        page.evaluate("(id) => window.appModeller.get('selection').select(window.appModeller.get('elementRegistry').get(id))",
                      task_id)  # the new task overlaps its neighbours, so choose it as the search pad would
        page.locator(".bio-properties-panel-group-header", has_text="Task for a person").first.click()
        page.get_by_label("Form", exact=True).select_option("pipot_lessons_learned.schema.json")
        _validate(page, "passed every check")
        assert page.locator(".djs-overlay .app-problem").count() == 0

        page.click("#go-deploy")
        assert_accessible(page)
        status = _run_scenario_check(page)
        page.fill("#change_note", "The reporting manager checks the first steps before the referral.")
        if "Failed" in status:  # the new task changes the routes the scenarios walk
            assert page.locator("#scenario-results").is_visible()
            page.check("#accept_failures")
        page.click("#deploy")
        assert_accessible(page)
        assert "Version 2 of" in page.inner_text("main") and "is deployed" in page.inner_text("main")

        newer = lifecycle.start_case("pipot", concern_answers(), manager)
        assert newer.instance.definition.version == 2
        assert ahead.instance.definition.version == 1 and past.instance.definition.version == 1

        page.click("main a:has-text('Move running cases to version 2')")
        assert_accessible(page)
        stuck = page.inner_text("#stuck + table")
        assert past.reference in stuck and "has been reached and the new version changes what follows it" in stuck
        page.check(f"input[name='cases'][value='{ahead.id}']")
        page.click("main button:has-text('Move the chosen cases to version 2')")
        assert_accessible(page)
        assert f"Moved to version 2: {ahead.reference}." in page.inner_text("main")
    from app.extensions import db

    db.session.expire_all()
    assert ahead.instance.definition.version == 2 and past.instance.definition.version == 1
