"""A PiPoT concern walked to closure in a real browser (Debian's chromium) by the people on it: the
reporting manager raises it (getting a question wrong first) and does the first steps and the referral
(saved as a draft and resumed); the safeguarding team checks it; the triage panel finds the threshold
met; the safeguarding team schedules the meeting; from there each task of the scenario
pipot/outcome_amended_at_closure is done on its page by the role it falls to (the long meeting forms a
section at a time), and the head of safeguarding closes the case amending the outcome the outcome
meeting decided, with a reason. axe-core checks every page."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import Case, HumanTask
from app.services import definitions
from tests.browser.forms import assert_accessible, fill_form
from tests.browser.walk import answer_task, open_task, shoot, sign_in, sign_out, submit, visit
from tests.web.conftest import staff

ROOT = Path(__file__).resolve().parent.parent.parent
SCENARIO = json.loads((ROOT / "tests" / "scenarios" / "pipot" / "outcome_amended_at_closure.json").read_text())
START = datetime.fromisoformat("2026-11-23T10:00:00+00:00")  # the scenario's Monday morning

CONCERN = {
    "raised_by_name": "Jo Patel", "raised_by_role": "Ward manager", "raised_by_contact": "jo.patel@example.nhs.uk",
    "concern_source": "colleague", "subject_name": "Alex Morgan", "subject_work_area": "Ward 4, older adults",
    "allegation_summary": "Seen handling a patient roughly during personal care.",
    "immediate_danger": False, "adult_at_risk_identified": True, "manager_informed": True, "anonymity_understood": True,
}
FIRST_STEPS = {
    "first_steps_manager_name": "Jo Patel", "safety_actions": "Moved to duties with no patient contact.",
    "nurse_director_name": "Dr Raj Shah", "incident_report_reference": "INC-55512", "children_involved": False,
    "works_with_children": False, "has_children": False, "employment_basis": "permanent", "colleague_aware": False,
}
REFERRAL_START = {"referrer_name": "Jo Patel", "referrer_role": "Ward manager", "referrer_contact": "jo.patel@example.nhs.uk"}
REFERRAL_REST = {
    "concern_source": "colleague", "adult_at_risk_identified": False, "subject_name": "Alex Morgan", "subject_date_of_birth": "1985-06-14",
    "subject_address": "1 High Street, Doncaster",
    "subject_aware_of_referral": False, "job_role": "Healthcare assistant",
    "subject_responsibilities": "Personal care on an older adults ward.",
    "needs_of_people_supported": "Frail older adults, some living with dementia.", "employer": "The trust",
    "allegation_summary": "Seen handling a patient roughly during personal care.",
    "harmed_or_at_risk": "A patient on ward 4.", "how_known": "Witnessed by a colleague.", "police_informed": False,
    "risk_to_children": False, "actions_already_taken": "Moved to duties with no patient contact.",
    "previous_concerns_known": False, "previous_cases_searched": True, "previous_cases_found": False,
    "subject_known_as": "Lex",
}
CHECK = {"referral_complete": True, "safeguarding_records_checked": True, "referral_recorded_securely": True,
         "forwarded_to": ["head_of_safeguarding", "nurse_director_backbone_services"]}
TRIAGE = {
    "triage_decided_by_name": "Pat Lee", "triage_decided_by_role": "head_of_safeguarding", "worker_type": "paid",
    "works_with_adults_with_care_needs": True, "triage_works_with_children": False,
    "threshold_limbs": ["harmed_or_may_have_harmed"], "concern_type": "allegation", "identifiable_adult_at_risk": True,
    "s42_concern_status": "yes", "children_or_transferable_risk": False, "possible_crime": False,
    "previous_concerns_found": False, "immediate_risk": False, "threshold_met": True,
    "threshold_rationale": "Alleged physical harm to an adult with care and support needs.",
}
MEETING = {
    "meeting_time": "14:00", "meeting_format": "online", "meeting_location": "Teams",
    "proposed_chair_role": "nurse_director_backbone_services", "papers_shared": True,
    "invitees": [{"name": "Nina Brown", "role": "named_nurse_safeguarding"},
                 {"name": "Dr Raj Shah", "role": "care_group_nurse_director"}],
}


@pytest.fixture
def pipot(app_ctx):
    path = ROOT / "bpmn" / "pipot.bpmn"
    if not path.exists():
        pytest.fail("bpmn/pipot.bpmn is missing")
    definition, _ = definitions.deploy_definition(path.read_bytes(), path.name)
    return definition


def test_a_pipot_concern_from_the_reporting_manager_to_closure_with_an_amended_outcome(pipot, live_server, browser_page):
    page, base = browser_page, live_server
    manager = staff("reporting_manager", name="Jo Patel")
    team = staff("safeguarding_team", name="Sam Carter")
    panel = staff("triage_panel", name="Pat Lee")
    today = START.date().isoformat()
    with time_machine.travel(START, tick=True) as traveller:
        sign_in(page, base, manager)
        page.click("nav a:has-text('Start a case')")
        assert_accessible(page)
        page.locator("main a", has_text=pipot.name).click()
        assert_accessible(page)

        # A concern with a question missed: the error summary links to it, the rest is kept.
        fill_form(page, {k: v for k, v in CONCERN.items() if k != "allegation_summary"} | {"date_became_aware": today})
        page.click("main button[value='submit']:visible")
        assert_accessible(page)
        assert page.title().startswith("Error: ")
        page.click(".govuk-error-summary a:has-text('What happened, or what is alleged?')")
        assert page.evaluate("document.activeElement.name") == "allegation_summary"
        assert page.input_value("[name='subject_name']") == "Alex Morgan"
        page.fill("[name='allegation_summary']", CONCERN["allegation_summary"])
        submit(page, "Your concern has been received")  # a receipt: the case is for the people on it
        reference = page.locator(".govuk-panel__body strong").inner_text()
        assert "OFFICIAL-SENSITIVE" in page.inner_text("body") and "Alex Morgan" not in page.inner_text("main")

        visit(page, f"{base}/inbox")
        open_task(page, "Manager's first steps: notify and report")
        fill_form(page, FIRST_STEPS | {"nurse_director_notified_on": today, "people_experience_notified_on": today})
        submit(page, "You completed")

        # The referral: begun, saved as a draft, resumed later.
        open_task(page, "Complete the PiPoT referral form")
        fill_form(page, REFERRAL_START)
        page.click("main button[value='draft']")
        assert_accessible(page)
        assert "saved as a draft" in page.locator("main").inner_text()
        sign_out(page)
        sign_in(page, base, manager)
        open_task(page, "Complete the PiPoT referral form")
        assert "You saved a draft of this task" in page.locator("main").inner_text()
        assert page.input_value("[name='referrer_contact']") == "jo.patel@example.nhs.uk"
        fill_form(page, REFERRAL_REST | {"referral_sent_on": today})
        submit(page, "You completed")
        sign_out(page)

        sign_in(page, base, team)
        open_task(page, "Check the referral and forward it for triage")
        fill_form(page, CHECK | {"forwarded_for_triage_on": today})
        submit(page, "You completed")
        sign_out(page)

        sign_in(page, base, panel)
        open_task(page, "Triage the referral: is the PiPoT threshold met?")
        fill_form(page, TRIAGE)
        submit(page, "You completed")
        sign_out(page)

        sign_in(page, base, team)
        open_task(page, "Arrange the PiPoT meeting")
        fill_form(page, MEETING | {"meeting_date": "2026-11-25"})
        submit(page, "You completed “Arrange the PiPoT meeting”")
        visit(page, f"{base}/cases/{reference}")
        case_text = page.locator("main").inner_text()
        assert "Record who attended the PiPoT meeting" in case_text  # the meeting is scheduled
        assert "Lex" in case_text
        page.click("#timeline-entries summary")  # the timeline is folded away under the summary
        case_text = page.locator("main").inner_text()
        for done in ("Completed “Triage the referral: is the PiPoT threshold met?”", "Completed “Arrange the PiPoT meeting”"):
            assert done in case_text
        page.click("details summary >> nth=-1")
        assert_accessible(page)
        sign_out(page)

        people = {"reporting_manager": manager, "safeguarding_team": team, "triage_panel": panel}
        _the_rest_of_the_scenario(page, base, traveller, people)
        _close_amending_the_outcome(page, base, reference, people)


def _the_rest_of_the_scenario(page, base: str, traveller, people: dict) -> None:
    """Each task of the scenario after the meeting is arranged, on its page, by the role it falls to."""
    steps = SCENARIO["steps"]
    arranged = next(i for i, step in enumerate(steps) if step.get("complete") == "Task_arrange_meeting")
    case = db.session.scalars(select(Case)).one()
    for step in steps[arranged + 1:]:
        if "advance_to" in step:
            traveller.move_to(datetime.fromisoformat(step["advance_to"]))
        if "complete" not in step or step["complete"] == "Task_close_case":
            continue
        person = people.setdefault(step["as"], staff(step["as"], name=f"A {step['as'].replace('_', ' ')}"))
        title = db.session.scalars(select(HumanTask.title).where(
            HumanTask.case_id == case.id, HumanTask.bpmn_id == step["complete"], HumanTask.status == "open")).first()
        assert title, f"{step['complete']} is not open"
        sign_in(page, base, person)
        open_task(page, title)
        shoot(page, f"pipot-{step['complete'].removeprefix('Task_')}")
        answer_task(page, step["answers"])
        submit(page, "You completed")
        sign_out(page)


def _close_amending_the_outcome(page, base: str, reference: str, people: dict) -> None:
    """The closure shows what the outcome meeting decided; amending it asks why, then closes the case."""
    answers = next(step["answers"] for step in SCENARIO["steps"] if step.get("complete") == "Task_close_case")
    sign_in(page, base, people["head_of_safeguarding"])
    open_task(page, "Close the case (PiPoT closure form)")
    shoot(page, "pipot-close-case")
    context = page.locator(".app-task-context").inner_text()
    assert "Overall outcome\tSubstantiated" in context, context
    fill_form(page, {k: v for k, v in answers.items() if k != "outcome_amendment_reason"})
    page.click("main button[value='submit']:visible")
    assert_accessible(page)
    page.click(".govuk-error-summary a[href='#outcome_amendment_reason']")
    assert page.evaluate("document.activeElement.name") == "outcome_amendment_reason"
    page.fill("[name='outcome_amendment_reason']", answers["outcome_amendment_reason"])
    submit(page, "You completed")
    visit(page, f"{base}/cases/{reference}")
    shoot(page, "pipot-case-page")
    summary = page.locator("main").inner_text()
    assert "Closed" in summary and "Unsubstantiated" in summary
    visit(page, f"{base}/cases/{reference}/chronology?kind=outcome")
    shoot(page, "pipot-chronology-outcomes")
    chronology = page.locator("main").inner_text()
    assert "Amended 'Overall outcome' from Substantiated to Unsubstantiated" in chronology, chronology[-1500:]
    assert f"Why: {answers['outcome_amendment_reason']}" in chronology
