"""The case diagram in the browser: the bpmn-js viewer replaces the server's picture with the same marks,
and clicking an element shows its history on this case. axe-core checks the page."""
from __future__ import annotations

import time_machine

from tests.browser.forms import assert_accessible
from tests.browser.test_modeller_imports import sign_in
from tests.browser.test_pipot_walk import pipot  # noqa: F401  (the deployed PiPoT fixture)
from tests.browser.walk import working_morning
from tests.modeller.conftest import open_pipot_case
from tests.web.conftest import staff


def _case_page_past_first_steps(live_server, page) -> None:
    """A PiPoT case just past the manager's first steps, its page open in the browser with the viewer."""
    manager = staff("reporting_manager", name="Jo Patel")
    case = open_pipot_case(manager, past_first_steps=True)
    sign_in(page, live_server, manager)
    page.goto(f"{live_server}/cases/{case.reference}")
    page.wait_for_selector("#case-diagram.app-diagram--enhanced .djs-element")
    assert_accessible(page)


def test_clicking_an_element_shows_its_history(pipot, live_server, browser_page):
    page = browser_page
    with time_machine.travel(working_morning(), tick=True):
        _case_page_past_first_steps(live_server, page)
        done = page.locator("#case-diagram .djs-element.app-mark--completed[data-element-id='Task_first_steps']")
        assert done.count() == 1
        assert page.locator("#case-diagram .djs-element.app-mark--current[data-element-id='Task_complete_referral']").count() == 1
        done.locator(".djs-hit").first.dispatch_event("click")
        page.wait_for_selector("#diagram-history h3")
        history = page.inner_text("#diagram-history")
        assert "Manager's first steps: notify and report on this case" in history
        assert "Completed “Manager's first steps: notify and report” (Jo Patel" in history
        assert_accessible(page)


def test_the_diagram_opens_readable_at_the_current_step_with_zoom_and_fit(pipot, live_server, browser_page):
    page = browser_page
    with time_machine.travel(working_morning(), tick=True):
        _case_page_past_first_steps(live_server, page)
        zoom = "() => document.querySelector('#case-diagram .viewport').transform.baseVal.consolidate().matrix.a"
        assert abs(page.evaluate(zoom) - 1) < 0.01  # not a thumbnail of the whole pathway
        current = page.locator("#case-diagram .djs-element.app-mark--current[data-element-id='Task_complete_referral']")
        box, canvas = current.bounding_box(), page.locator("#case-diagram .app-diagram__canvas").bounding_box()
        assert canvas["x"] <= box["x"] and box["x"] + box["width"] <= canvas["x"] + canvas["width"]  # in view
        page.click("#case-diagram button:has-text('Fit the whole diagram')")
        fitted = page.evaluate(zoom)
        assert fitted < 0.5
        page.click("#case-diagram button:has-text('Zoom in')")
        assert abs(page.evaluate(zoom) - fitted * 1.25) < 0.01
        page.click("#case-diagram button:has-text('Show where the case is')")
        assert abs(page.evaluate(zoom) - 1) < 0.01
