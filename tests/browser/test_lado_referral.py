"""A LADO referral for a physical allegation made after an authorised restraint, in Debian's chromium,
with JavaScript and without: the answer revealed by ticking Physical is kept and the referral is made
(it used to say "Answer '…'" and clear the radio). axe-core checks every page (with JavaScript: it
runs in the page)."""
from __future__ import annotations

import json

import pytest
import time_machine

from app.extensions import db
from app.models import AuditEvent
from app.scenarios import ROOT, deploy_pathway
from tests.browser.forms import assert_accessible, fill_form
from tests.browser.walk import working_morning
from tests.web.conftest import staff
from tests.web.pages import PASSWORD

ANSWERS = json.loads((ROOT / "tests" / "scenarios" / "lado" / "pot_meeting_substantiated.json")
                     .read_text())["steps"][1]["start"]["answers"]


@pytest.mark.parametrize("javascript", [True, False])
def test_a_physical_allegation_after_restraint_is_referred(app_ctx, live_server, chromium, javascript):
    deploy_pathway({"pathway": "lado"})
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=javascript)
    context.set_default_timeout(0)  # no wall-clock limits, as the other browser tests
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    referrer = staff(name="Sam Okafor")
    answers = ANSWERS | {"after_authorised_restraint": True, "referred_date": "2026-11-23"}
    try:
        with time_machine.travel(working_morning(), tick=True):
            checked = assert_accessible if javascript else (lambda _page: None)  # axe needs JavaScript
            page.goto(f"{live_server}/sign-in")
            page.fill("#username", referrer.username)
            page.fill("#password", PASSWORD)
            page.click("main button:has-text('Sign in')")
            page.goto(f"{live_server}/cases/new/lado")
            checked(page)
            page.check("input[name='contact_type'][value='referral']")
            if not javascript:  # without JavaScript every revealed question is on the page already
                assert page.locator("input[name='after_authorised_restraint']").count() == 2
            fill_form(page, {k: v for k, v in answers.items() if k != "contact_type"})
            page.click("main button[value='submit']:visible" if page.locator("main button[value='submit']:visible").count()
                       else "main button:has-text('Send')")
            checked(page)
            assert "has been received" in page.locator("main").inner_text(), page.locator("main").inner_text()[:800]
        event = db.session.query(AuditEvent).filter(AuditEvent.event_type == "task_completed").order_by(AuditEvent.id.desc()).first()
        assert event.data["answers"]["after_authorised_restraint"] is True
        assert event.data["answers"]["allegation_categories"] == ["physical"]
    finally:
        context.close()
