"""What a task page shows beside its form is edited in the modeller's properties panel (Debian's
chromium) and checked by validation, pinned to the task."""
from __future__ import annotations

import time_machine

from tests.browser.test_modeller_imports import open_modeller, sign_in
from tests.browser.test_modeller_walk import _validate
from tests.browser.test_pipot_walk import pipot  # noqa: F401  (the deployed PiPoT fixture)
from tests.browser.walk import working_morning
from tests.web.conftest import staff

SELECT = "(id) => window.appModeller.get('selection').select(window.appModeller.get('elementRegistry').get(id))"


def test_the_task_context_is_edited_in_the_properties_panel_and_validated(pipot, live_server, browser_page):
    page, base = browser_page, live_server
    owner = staff("process_owner", name="Pat Owner")
    with time_machine.travel(working_morning(), tick=True):
        sign_in(page, base, owner)
        page.click("nav a:has-text('Processes')")
        page.locator("main a", has_text=pipot.name).click()
        page.click("main button:has-text('Edit a copy of version 1')")
        open_modeller(page, page.url)
        page.evaluate(SELECT, "Task_triage")
        page.locator(".bio-properties-panel-group-header", has_text="Task for a person").first.click()
        shown = page.get_by_label("What the page shows beside the form", exact=True)
        assert shown.input_value() == "pipot_referral.schema.json, pipot_referral_check.schema.json"
        shown.fill("pipot_referral.schema.json, nothing_asked")
        page.wait_for_timeout(600)  # the panel's debounce
        _validate(page, "problem")
        assert page.locator(".djs-overlay .app-problem[data-element-id='Task_triage']").is_visible()
        assert "context: 'nothing_asked' is not a question" in page.inner_text("#problem-list")
        shown.fill("pipot_referral.schema.json, linked_cases")
        page.wait_for_timeout(600)
        _validate(page, "passed every check")
