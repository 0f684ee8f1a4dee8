"""A LADO case walked to closure in Debian's chromium by the people on it: a school's designated
safeguarding lead refers a physical allegation made after an authorised restraint; the LADO responds,
finds the harm threshold met, convenes and chairs the POT meeting (a section at a time); the employer
completes the action agreed; the LADO calls the review now (before its ten working days) to call an
interim meeting, then again for the final meeting, which agrees a DBS referral; the employer makes
it; the LADO manager approves the closure. axe-core checks every page."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import Case
from app.scenarios import ROOT, deploy_pathway
from tests.browser.forms import assert_accessible, fill_form
from tests.browser.walk import answer_in_sections, open_task, shoot, sign_in, sign_out, submit, visit
from tests.web.conftest import staff

SCENARIO = json.loads((ROOT / "tests" / "scenarios" / "lado" / "pot_meeting_substantiated.json").read_text())
STEPS = {step["complete"]: step["answers"] for step in SCENARIO["steps"] if "complete" in step}
REFERRAL = SCENARIO["steps"][1]["start"]["answers"] | {
    "after_authorised_restraint": True,
    "allegation_summary": "A pupil says he was held too hard, and bruised, when staff restrained him in the corridor.",
}
ATTENDEES = [{"name": "Jo Lado", "role": "lado", "agency": "Northshire LADO service", "attended": True},
             {"name": "PC Smith", "role": "police", "agency": "Northshire Police", "attended": True},
             {"name": "Kim Reyes", "role": "social_worker", "agency": "Northshire children's services", "attended": True},
             {"name": "Ann Head", "role": "employer", "agency": "Oakfield Primary School", "attended": True}]
POT_MEETING = STEPS["Task_pot_meeting"] | {
    "attendees": ATTENDEES,
    "reasonable_force_considered": "The restraint was authorised; whether the force used was reasonable is for the police.",
    "actions": [{"description": "Review the restraint records and the corridor camera", "owner_role": "employer_case_manager",
                 "owner_name": "Ann Head", "agency": "Oakfield Primary School", "due_date": "2026-12-04"}],
}
INTERIM = {k: v for k, v in STEPS["Task_interim_pot_meeting"].items() if k != "actions"} | {  # no new actions
    "interim_meeting_date": "2026-12-03", "interim_attendees": ATTENDEES[:2],
    "actions_review": [{"description": "Review the restraint records and the corridor camera",
                        "owner_role": "employer_case_manager", "status": "completed"}],
    "police_investigation_progress": "The police have charged him with assault.",
    "next_meeting_date": "2026-12-17",
}
REVIEW = STEPS["Task_investigation_review"] | {"staff_member_updated_on": "2026-12-02", "children_updated_on": "2026-12-02"}
FINAL = STEPS["Task_final_pot_meeting"] | {"final_meeting_date": "2026-12-08", "final_attendees": ATTENDEES[:2]}
CLOSURE = STEPS["Task_case_closure"] | {"staff_member_informed_on": "2026-12-10", "parents_informed_on": "2026-12-10",
                                        "closure_date": "2026-12-10"}


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 11 if day > 20 else 12, day, hour, 0, tzinfo=timezone.utc)


def _call_now(page, base: str, reference: str, words: str, reason: str) -> None:
    visit(page, f"{base}/cases/{reference}")
    page.click(f"#call-now summary:has-text('{words}')")
    page.locator("#call-now details[open] textarea[name='reason']").fill(reason)
    page.click(f"#call-now details[open] button:has-text('{words}')")
    assert_accessible(page)
    assert "the work it starts is open now" in page.locator("main").inner_text()


def test_a_lado_case_from_a_physical_allegation_after_restraint_to_closure(app_ctx, live_server, browser_page):
    page, base = browser_page, live_server
    deploy_pathway({"pathway": "lado"})
    referrer = staff(name="Sam Okafor")
    lado = staff("lado", name="Jo Lado")
    employer = staff("employer_case_manager", name="Ann Head")
    manager = staff("lado_manager", name="Lee Manager")
    with time_machine.travel(_at(23, 10), tick=True) as traveller:
        sign_in(page, base, referrer)
        visit(page, f"{base}/cases/new/lado")
        page.check("input[name='contact_type'][value='referral']")
        fill_form(page, {k: v for k, v in REFERRAL.items() if k != "contact_type"})
        submit(page, "has been received")
        reference = db.session.scalars(select(Case.reference)).one()
        sign_out(page)

        traveller.move_to(_at(23, 11))
        sign_in(page, base, lado)
        open_task(page, "Make the initial response")
        shoot(page, "lado-initial-response")
        assert "during an authorised physical restraint?\tYes" in page.locator("main").inner_text()  # not behind a fold
        fill_form(page, STEPS["Task_initial_response"])
        submit(page, "You completed")
        open_task(page, "Decide whether the harm threshold is met")
        fill_form(page, STEPS["Task_threshold_decision"])
        submit(page, "You completed")
        open_task(page, "Convene the POT meeting")
        fill_form(page, STEPS["Task_convene_pot_meeting"] | {"invitees": ATTENDEES})
        submit(page, "You completed")
        sign_out(page)

        traveller.move_to(_at(27, 15))
        sign_in(page, base, lado)
        open_task(page, "Chair the POT meeting and record it")
        assert answer_in_sections(page, POT_MEETING, shot="lado-pot-meeting") == [
            "The meeting and who attended", "The investigations", "Safeguarding the children and support",
            "Suspension, risk and management", "Who is told what, and when", "Actions and the next meeting"]
        submit(page, "You completed")
        sign_out(page)

        traveller.move_to(_at(1, 10))
        sign_in(page, base, employer)
        open_task(page, "Complete the action (employer)")
        assert "Review the restraint records and the corridor camera" in page.locator("main").inner_text()
        fill_form(page, STEPS["Task_action_employer"] | {"action_closed_on": "2026-12-01"})
        submit(page, "You completed")
        sign_out(page)

        # Ten working days are not up, but the police have charged him: the LADO calls the review now.
        traveller.move_to(_at(2, 10))
        sign_in(page, base, lado)
        _call_now(page, base, reference, "Review the investigations now",
                  "The police have charged him; the school needs to meet before the hearing.")
        visit(page, f"{base}/inbox")
        open_task(page, "Review the police and internal investigations")
        fill_form(page, REVIEW | {"review_decision": "interim_meeting", "proposed_meeting_date": "2026-12-03"})
        submit(page, "You completed")
        sign_out(page)

        traveller.move_to(_at(3, 14))
        sign_in(page, base, lado)
        open_task(page, "Chair the interim POT meeting and record it")
        answer_in_sections(page, INTERIM)
        submit(page, "You completed")
        sign_out(page)

        traveller.move_to(_at(4, 10))
        sign_in(page, base, lado)
        _call_now(page, base, reference, "Review the investigations now", "The police have concluded; ready for the final meeting.")
        visit(page, f"{base}/inbox")
        open_task(page, "Review the police and internal investigations")
        fill_form(page, REVIEW | {"review_decision": "final_meeting", "proposed_meeting_date": "2026-12-08",
                                  "staff_member_updated_on": "2026-12-04", "children_updated_on": "2026-12-04"})
        submit(page, "You completed")
        sign_out(page)

        traveller.move_to(_at(8, 14))
        sign_in(page, base, lado)
        open_task(page, "Chair the final meeting and record the outcome")
        answer_in_sections(page, FINAL, shot="lado-final-meeting")
        submit(page, "You completed")
        sign_out(page)

        traveller.move_to(_at(9, 10))
        sign_in(page, base, employer)
        open_task(page, "Make the DBS and regulator referrals")
        fill_form(page, STEPS["Task_dbs_referral"] | {"dbs_referral_date": "2026-12-09", "regulator_referral_date": "2026-12-09"})
        submit(page, "You completed")
        sign_out(page)

        traveller.move_to(_at(10, 10))
        sign_in(page, base, manager)
        open_task(page, "Approve the closure of the case")
        fill_form(page, CLOSURE)
        submit(page, "You completed")
        visit(page, f"{base}/cases/{reference}")
        shoot(page, "lado-case-page")
        summary = page.locator("main").inner_text()
        assert "Closed" in summary and "Substantiated" in summary
        visit(page, f"{base}/cases/{reference}/chronology")
        shoot(page, "lado-chronology")
        chronology = page.locator("main").inner_text()
        for happened in ("Called now", "Interim POT meeting held (recorded in “Chair the interim POT meeting and record it”)",
                         "The case was closed"):
            assert happened in chronology, happened
