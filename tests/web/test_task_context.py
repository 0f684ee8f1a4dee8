"""The task page shows what the task needs from the case, read-only: the action a meeting agreed (with
who agreed it and when it is due), the referral on triage and the check. Walked on the real PiPoT
model through its scenario, then on the pages."""
from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask
from app.scenarios import ROOT, run_steps
from tests.web.pages import PASSWORD

SCENARIOS = ROOT / "tests" / "scenarios" / "pipot"


def _walk_until(bpmn_id: str, *, nth: int = 1, route: str = "outcome_substantiated", pathway: str = "pipot"):
    """Run a route up to (not including) the `nth` completion of `bpmn_id`."""
    scenario = json.loads((SCENARIOS.parent / pathway / f"{route}.json").read_text())
    seen, steps = 0, []
    for step in scenario["steps"]:
        if step.get("complete") == bpmn_id or step.get("advance_to") == bpmn_id:
            seen += 1
            if seen == nth:
                break
        if not any(key.startswith("expect") for key in step):  # the route, not what the scenario checks
            steps.append(step)
    return run_steps(scenario | {"steps": steps})


def _signed_in(web, run, role: str):
    user = run.user(role)
    user.password_hash = PasswordHasher().hash(PASSWORD)
    db.session.commit()
    web.sign_in(user.username)
    return user


def _open(run, bpmn_id: str) -> HumanTask:
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == run.case.id, HumanTask.bpmn_id == bpmn_id,
                                                      HumanTask.status == "open")).first()


def test_an_action_task_shows_the_action_who_agreed_it_and_when_due_and_completes(web):
    run = _walk_until("Task_meeting_action_reporting_manager")
    _signed_in(web, run, "reporting_manager")
    task = _open(run, "Task_meeting_action_reporting_manager")
    page = web.get(f"/tasks/{task.id}")
    context = " ".join(page.tree.xpath("string(//section[@class='app-task-context'])").split())
    assert "Check the rota for other shifts worked with this patient." in context
    assert "Agreed by Scenario meeting_chair in “Record the PiPoT meeting decisions and actions”" in context
    assert "Who owns the action Reporting manager" in context
    assert "Due date 4 December 2026" in context
    assert not page.has_field("meeting_action")  # shown, never an empty box to type in
    done = web.submit(page, {"action_status": "completed", "action_completed_on-day": "3",
                             "action_completed_on-month": "12", "action_completed_on-year": "2026",
                             "action_completion_summary": "No other shifts with this patient."})
    assert done.error_summary() == []
    assert "You completed" in done.words
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).status == "completed"
    case_page = web.get(f"/cases/{run.case.reference}")
    rows = [" ".join(" ".join(r.itertext()).split()) for r in case_page.tree.xpath("//table[.//caption[contains(., 'Meeting actions')]]//tbody/tr")]
    checked = next(r for r in rows if "Check the rota" in r)
    assert "Completed on 3 December 2026" in checked and "Agreed" not in checked  # it used to say Agreed
    others = [r for r in rows if "Check the rota" not in r]
    assert others and all("Agreed" in r for r in others)  # the rest are still to do


def test_triage_and_the_check_show_the_referral(web):
    run = _walk_until("Task_check_referral")
    _signed_in(web, run, "safeguarding_team")
    page = web.get(f"/tasks/{_open(run, 'Task_check_referral').id}")
    context = " ".join(page.tree.xpath("string(//section[@class='app-task-context'])").split())
    assert "Seen handling a patient roughly during personal care." in context
    assert "PIPOT-2024-0012" in context or "Show the other" in context
    assert "Given by Scenario reporting_manager" in context


def test_the_api_cannot_overwrite_what_the_task_shows(web):
    from app.services.errors import ValidationFailed
    from app.services.tasks import human_tasks

    run = _walk_until("Task_meeting_action_reporting_manager")
    task = _open(run, "Task_meeting_action_reporting_manager")
    try:
        human_tasks.complete_task(task.id, run.user("reporting_manager"), {
            "meeting_action": {"action": "Something else"}, "action_status": "completed",
            "action_completed_on": "2026-12-03", "action_completion_summary": "Done."})
    except ValidationFailed as refused:
        assert "meeting_action" in refused.errors
    else:
        raise AssertionError("a read-only answer was accepted")


def _banner(page) -> str:
    return " ".join(page.tree.xpath("string(//div[@aria-labelledby='came-back-title'])").split())


def test_a_returned_referral_says_what_was_missing_and_opens_with_the_earlier_answers(web):
    run = _walk_until("Task_complete_referral", nth=2, route="referral_sent_back_incomplete")
    _signed_in(web, run, "reporting_manager")
    page = web.get(f"/tasks/{_open(run, 'Task_complete_referral').id}")
    banner = _banner(page)
    assert banner.startswith("Sent back This has come back to you: Scenario safeguarding_team sent it back")
    assert "What is missing?: Who saw it happen, and what the patient needs (dementia?)." in banner
    assert page.field("subject_name") == "Alex Morgan"  # not a blank form
    assert page.field("allegation_summary")


def test_an_inquorate_meeting_says_so_after_attendance_and_on_the_reopened_task(web):
    run = _walk_until("Task_record_attendance", route="meeting_inquorate_then_quorate")
    _signed_in(web, run, "safeguarding_team")
    page = web.get(f"/tasks/{_open(run, 'Task_record_attendance').id}")
    # the people invited and the date arranged are carried into attendance
    assert page.field("meeting_attendees-0-name") and page.field("meeting_held_on-day")
    scenario = json.loads((SCENARIOS / "meeting_inquorate_then_quorate.json").read_text())
    answers = next(s for s in scenario["steps"] if s.get("complete") == "Task_record_attendance")["answers"]
    changes = {"meeting_attendees-count": str(len(answers["meeting_attendees"])),
               "meeting_chair_name": answers["meeting_chair_name"], "meeting_chair_role": answers["meeting_chair_role"]}
    for index, person in enumerate(answers["meeting_attendees"]):
        changes |= {f"meeting_attendees-{index}-name": person["name"], f"meeting_attendees-{index}-role": person["role"]}
    for key, value in answers.items():
        if isinstance(value, bool):
            changes[key] = "true" if value else "false"
        elif isinstance(value, str) and key not in changes and page.has_field(key):
            changes[key] = value
    done = web.submit(page, changes)
    assert done.error_summary() == []
    flashed = " ".join(done.tree.xpath("string(//div[starts-with(@aria-labelledby, 'flash-title-')][2])").split())
    assert "“Arrange the PiPoT meeting” has come back to be done again" in flashed  # not only a success banner
    assert "safeguarding expertise" in flashed
    again = web.get(f"/tasks/{_open(run, 'Task_arrange_meeting').id}")
    banner = _banner(again)
    assert "This has come back to you" in banner and "Record who attended" in banner
    assert "What the last meeting lacked to be quorate: safeguarding expertise" in banner


def test_an_in_app_notification_names_the_task_the_case_and_when_it_is_due(web):
    run = _walk_until("Task_meeting_action_reporting_manager")
    _signed_in(web, run, "reporting_manager")
    notes = web.get("/notifications")
    assert (f"“Complete an action agreed at the PiPoT meeting”, case {run.case.reference}, "
            "due Friday 4 December 2026 at 17:00") in notes.words
    from app.models import OutboxNotification

    rows = db.session.scalars(select(OutboxNotification).where(OutboxNotification.case_id == run.case.id)).all()
    assert rows and all(set(vars(r)) and "Complete an action" not in str(r.link) for r in rows)  # emails: no task


def test_the_case_page_leads_with_a_summary_and_keeps_the_timeline_folded_and_filterable(web):
    run = _walk_until("Task_outcome_meeting")
    _signed_in(web, run, "head_of_safeguarding")
    page = web.get(f"/cases/{run.case.reference}")
    summary = " ".join(" ".join(page.tree.xpath("//dl[contains(@class,'app-case-summary')]")[0].itertext()).split())
    assert "Allegation Seen handling a patient roughly during personal care." in summary
    assert "About Alex Morgan (known as Lex), born 14 June 1985" in summary
    # the colleague's next update (every four weeks in this route) falls due before the outcome meeting
    assert "Next deadline “Update the colleague on progress”: Due" in summary
    assert "Meetings PiPoT meeting: 25 November 2026 Decisions" in summary  # held: named, once, not also as planned
    assert "Decisions Is the PiPoT threshold met?: Yes" in summary
    assert "Suspension or redeployment while the allegation is investigated: Suspension" in summary
    # the summary comes before the timeline, which is folded away
    headings = [h.text_content() for h in page.tree.xpath("//h2")]
    assert headings.index("Summary") < headings.index("Timeline")
    folded = page.tree.xpath("//details[@id='timeline-entries']")[0]
    assert folded.get("open") is None
    work = web.get(f"/cases/{run.case.reference}?timeline=clocks")
    entries = [" ".join(e.itertext()) for e in work.tree.xpath("//ol[@class='app-timeline']/li")]
    assert entries and all("Clock" in e or "Escalation" in e or "Reminder" in e for e in entries)
    assert work.tree.xpath("//details[@id='timeline-entries']")[0].get("open") is not None


def test_the_lado_calls_the_review_now_to_call_an_interim_meeting_before_the_clock(web):
    from datetime import datetime, timezone

    import time_machine

    run = _walk_until("Task_action_employer", route="pot_meeting_substantiated", pathway="lado")
    with time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc), tick=False):
        assert _open(run, "Task_investigation_review") is None  # the review waits ten working days
        _signed_in(web, run, "lado")
        page = web.get(f"/cases/{run.case.reference}")
        form = "/cases/" + run.case.reference + "/call-now"
        assert "Review the investigations now (to call an interim POT meeting)" in page.words
        refused = web.submit(page, {"reason": ""}, form=form)
        assert "Enter why it is needed now." in refused.words
        done = web.submit(refused, {"reason": "The police have charged him; the employer needs to meet."}, form=form)
        assert "the work it starts is open now" in done.words
        review = _open(run, "Task_investigation_review")
        assert review is not None and review.role_key == "lado"
        assert "Called now: Review the investigations now" in web.get(f"/cases/{run.case.reference}?timeline=clocks").words
        chronology = web.get(f"/cases/{run.case.reference}/chronology?kind=clock").words
        assert "Called now: Review the investigations now (to call an interim POT meeting)" in chronology
        assert "Why: The police have charged him; the employer needs to meet." in chronology
        assert "Clock ran out" not in chronology  # it did not: it was called before its time
        case_page = web.get(f"/cases/{run.case.reference}").words
        assert "Review due was called now on 1 December 2026 at 10:00 (it would have run out on" in case_page
        assert "Review due ran out" not in case_page


def test_only_the_oversight_role_is_offered_a_call_now(web):
    run = _walk_until("Task_action_employer", route="pot_meeting_substantiated", pathway="lado")
    _signed_in(web, run, "employer_case_manager")
    page = web.get(f"/cases/{run.case.reference}")
    assert "Review the investigations now" not in page.words


def test_a_meeting_makes_a_printable_record_with_attendance_decisions_and_actions(web):
    run = _walk_until("Task_oversight_review")
    _signed_in(web, run, "head_of_safeguarding")
    page = web.get(f"/cases/{run.case.reference}")
    [link] = [a for a in page.tree.xpath("//h2[@id='records']/following-sibling::ul[1]//a")]
    assert link.text_content().startswith("PiPoT meeting, recorded")
    record = web.get(link.get("href"))
    assert record.h1 == "PiPoT meeting record"
    parts = [h.text_content() for h in record.tree.xpath("//section[@class='app-record-part']/h2")]
    assert parts == ["Record who attended the PiPoT meeting", "Record the PiPoT meeting decisions and actions"]
    words = record.words
    assert "Check the rota for other shifts worked with this patient." in words  # an action, with its owner
    assert "Chris Hall" in words
    assert "Quorate (Appendix G step 7) Yes" in words
    web.get(f"/cases/{run.case.reference}/records/{_open(run, 'Task_oversight_review').id}", status=404)


def _answer_section_by_section(web, run, task, role: str, answers: dict, textarea: tuple[int, str]) -> None:
    """Save each section of a long form with its part of `answers`, as a person would, page by page."""
    from app.formkit import values_from
    from app.services.tasks.task_forms import open_task_form

    values = values_from(open_task_form(task.id, run.user(role)).specs, answers)
    count = len(web.get(f"/tasks/{task.id}").tree.xpath("//ul[contains(@class,'govuk-task-list')]/li"))
    for index in range(count):
        page = web.get(f"/tasks/{task.id}?section={index}")
        if index == textarea[0]:
            assert page.tree.xpath(f"//textarea[@name='{textarea[1]}']")  # an agenda item: room to write
        groups = {name.removesuffix("-count") for name in values if name.endswith("-count") and page.has_field(name)}
        mine = {name: value for name, value in values.items()
                if page.has_field(name) or name.split("-")[0] in groups}
        saved = web.submit(page, mine, button=("_action", "section"))
        assert saved.error_summary() == [], (index, saved.error_summary())
        assert "is saved" in saved.words


def test_the_pot_meeting_is_asked_a_section_at_a_time_and_submitted_from_the_list(web):

    run = _walk_until("Task_pot_meeting", route="pot_meeting_substantiated", pathway="lado")
    scenario = json.loads((SCENARIOS.parent / "lado" / "pot_meeting_substantiated.json").read_text())
    answers = next(s for s in scenario["steps"] if s.get("complete") == "Task_pot_meeting")["answers"]
    _signed_in(web, run, "lado")
    task = _open(run, "Task_pot_meeting")
    overview = web.get(f"/tasks/{task.id}")
    sections = [" ".join(li.itertext()).split() for li in overview.tree.xpath("//ul[contains(@class,'govuk-task-list')]/li")]
    assert [" ".join(words) for words in sections][0] == "The meeting and who attended In progress"  # carried forward
    assert [" ".join(words) for words in sections][1] == "The investigations Not started"
    assert len(sections) == 6 and not overview.has_field("scope_of_investigation")  # not 10,000 px at once
    refused = web.submit(overview, {})
    summary = refused.error_summary()
    assert summary and all(href.startswith("?section=") for _text, href in summary)
    assert ("Answer 'Date of the meeting' (The meeting and who attended).", "?section=0#meeting_date-day") in summary
    _answer_section_by_section(web, run, task, "lado", answers, textarea=(1, "scope_of_investigation"))
    listed = web.get(f"/tasks/{task.id}")
    statuses = [" ".join(" ".join(li.itertext()).split()) for li in listed.tree.xpath("//ul[contains(@class,'govuk-task-list')]/li")]
    assert all(s.endswith("Completed") for s in statuses), statuses
    done = web.submit(listed, {})
    assert "You completed" in done.words, done.error_summary()


def test_closure_shows_the_decided_outcomes_and_a_change_is_an_explicit_amendment_with_a_reason(web):
    """Outcomes are decided once, at the outcome meeting: the closure shows them (its context) and does
    not ask them again; changing the overall outcome is an amendment that needs its reason. The whole
    amendment is walked in the scenario pipot/outcome_amended_at_closure."""
    run = _walk_until("Task_close_case")
    _signed_in(web, run, "head_of_safeguarding")
    task = _open(run, "Task_close_case")
    page = web.get(f"/tasks/{task.id}")
    assert not page.has_field("overall_outcome") and not page.has_field("police_outcome")
    assert "Overall outcome Substantiated" in page.words or "Overall outcomeSubstantiated" in page.words
    shown = [" ".join(dt.text_content().split()) for dt in page.tree.xpath(
        "//section[@class='app-task-context']//div[contains(@class,'govuk-summary-card__content')]/dl//dt")]
    assert shown[:5] == ["Overall outcome", "Outcome of any police investigation",  # each strand, not behind a fold
                         "Outcome of any adult social care (section 42) enquiry", "Outcome of any LADO enquiry",
                         "Outcome of the PiPoT investigation"], shown
    refused = web.submit(page, {"outcome_amended": "true", "amended_overall_outcome": "unsubstantiated"})
    assert ("Enter why the outcome is being amended" in refused.words
            or "#outcome_amendment_reason" in [href for _message, href in refused.error_summary()])


def test_a_meeting_set_after_its_deadline_asks_why(web):
    from app.services.errors import ValidationFailed
    from app.services.tasks import human_tasks

    run = _walk_until("Task_arrange_meeting")
    scenario = json.loads((SCENARIOS / "outcome_substantiated.json").read_text())
    answers = next(s for s in scenario["steps"] if s.get("complete") == "Task_arrange_meeting")["answers"]
    task = _open(run, "Task_arrange_meeting")
    late = answers | {"meeting_date": "2026-12-03"}  # the deadline is Friday 27 November
    try:
        human_tasks.complete_task(task.id, run.user("safeguarding_team"), late)
    except ValidationFailed as refused:
        assert refused.errors == {"late_meeting_reason": "'Date of the meeting' is after the deadline "
                                                         "(Friday 27 November 2026). Say why it cannot be sooner."}
    else:
        raise AssertionError("a meeting after its deadline went through without a word")
    human_tasks.complete_task(task.id, run.user("safeguarding_team"),
                              late | {"late_meeting_reason": "The chair is on leave until 3 December."})
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).status == "completed"


def test_an_interim_meeting_opens_with_the_actions_still_outstanding(web):
    run = _walk_until("Task_interim_pot_meeting", route="pot_meeting_substantiated", pathway="lado")
    _signed_in(web, run, "lado")
    page = web.get(f"/tasks/{_open(run, 'Task_interim_pot_meeting').id}?section=3")  # actions and the next meeting
    carried = [page.field(f"actions-{i}-description") for i in range(int(page.field("actions-count")))]
    # the employer's investigation was done before the interim meeting; the interview was not
    assert carried == ["Interview the member of staff"]


def test_the_next_update_to_the_colleague_opens_blank_with_the_agreed_support_above_it(web):
    run = _walk_until("Task_support_update", nth=2)  # the first update was given; the second is open
    _signed_in(web, run, "reporting_manager")
    page = web.get(f"/tasks/{_open(run, 'Task_support_update').id}")
    assert "Update the colleague on progress" in page.words
    assert page.field("support_update_summary") == ""  # not the last update's words
    assert page.field("support_update_given_on-day") == ""
    assert page.field("update_frequency") == ["every_four_weeks"]  # as agreed at the last update
    assert "Their point of contact" in page.words  # the support agreed with them, read-only above the form


MEETING_FORMS = [  # route, pathway, task, role, sections, a question asked on its own page, an agenda item (section, key)
    ("pot_meeting_substantiated", "lado", "Task_interim_pot_meeting", "lado",
     ["The meeting and who attended", "The actions agreed last time", "The investigations and the people involved",
      "Actions and the next meeting"], "next_steps", (2, "police_investigation_progress")),
    ("pot_meeting_substantiated", "lado", "Task_final_pot_meeting", "lado",
     ["The meeting and who attended", "The outcome", "Barring and regulator referrals", "Who tells whom, and lessons learnt"],
     "outcome_rationale", (1, "outcome_rationale")),
    ("outcome_substantiated", "pipot", "Task_outcome_meeting", "meeting_chair",
     ["The meeting and who attended", "The outcome of each strand", "The overall outcome", "What happens next"],
     "overall_outcome", (2, "outcome_rationale")),
]


@pytest.mark.parametrize("route, pathway, bpmn_id, role, titles, apart, agenda", MEETING_FORMS,
                         ids=[m[2] for m in MEETING_FORMS])
def test_the_long_meeting_forms_are_asked_a_section_at_a_time(web, route, pathway, bpmn_id, role, titles, apart, agenda):
    from datetime import datetime

    import time_machine

    run = _walk_until(bpmn_id, route=route, pathway=pathway)
    scenario = json.loads((SCENARIOS.parent / pathway / f"{route}.json").read_text())
    steps = scenario["steps"]
    at = next(i for i, s in enumerate(steps) if s.get("complete") == bpmn_id)
    moment = next(s["advance_to"] for s in reversed(steps[:at]) if "advance_to" in s)
    with time_machine.travel(datetime.fromisoformat(moment), tick=False):
        _signed_in(web, run, role)
        task = _open(run, bpmn_id)
        overview = web.get(f"/tasks/{task.id}")
        listed = [" ".join(li.xpath(".//a")[0].text_content().split())
                  for li in overview.tree.xpath("//ul[contains(@class,'govuk-task-list')]/li")]
        assert listed == titles
        assert not overview.has_field(apart)  # asked on its section's page, not all at once
        _answer_section_by_section(web, run, task, role, steps[at]["answers"], textarea=agenda)
        for shown in (web.get(f"/tasks/{task.id}"), web.get(f"/tasks/{task.id}?section=1")):
            assert "You saved a draft" not in shown.words  # sections are saved as you go; the list says so
        if bpmn_id == "Task_final_pot_meeting":
            assert "Strand 1" in web.get(f"/tasks/{task.id}?section=1").words
        done = web.submit(web.get(f"/tasks/{task.id}"), {})
        assert "You completed" in done.words, done.error_summary()


def test_the_lados_initial_response_and_threshold_decision_show_the_referral(web):
    """The LADO referral is the form that opens the case: the first tasks on it show it too."""
    run = _walk_until("Task_initial_response", route="pot_meeting_substantiated", pathway="lado")
    _signed_in(web, run, "lado")
    page = web.get(f"/tasks/{_open(run, 'Task_initial_response').id}")
    context = " ".join(page.tree.xpath("string(//section[@class='app-task-context'])").split())
    assert "A pupil says he was pushed against a wall." in context
    assert "Given by Scenario staff" in context


def test_the_case_summary_names_each_meeting_held_in_date_order_and_a_planned_one_as_planned(web):
    run = _walk_until("Task_final_pot_meeting", route="pot_meeting_substantiated", pathway="lado")
    _signed_in(web, run, "lado")
    page = web.get(f"/cases/{run.case.reference}")
    meetings = [" ".join(li.text_content().split()) for li in page.tree.xpath(
        "//dl[contains(@class,'app-case-summary')]/div[dt[normalize-space()='Meetings']]//li")]
    assert meetings == ["Position of Trust (POT) meeting: 27 November 2026", "Interim POT meeting: 16 December 2026",
                        "Planned: Date of the next meeting or discussion: 11 January 2027"]


def test_a_long_forms_list_of_sections_comes_before_what_the_task_needs(web):
    run = _walk_until("Task_pot_meeting", route="pot_meeting_substantiated", pathway="lado")
    _signed_in(web, run, "lado")
    page = web.get(f"/tasks/{_open(run, 'Task_pot_meeting').id}")
    order = [el.tag for el in page.tree.iter() if el.get("class") in ("govuk-task-list", "app-task-context")]
    assert order == ["ul", "section"]  # the sections first; the referral and decisions after them


def test_the_case_summary_gives_an_outcome_amended_at_closure_not_the_one_it_replaced(web):
    scenario = json.loads((SCENARIOS / "outcome_amended_at_closure.json").read_text())
    run = run_steps(scenario | {"steps": [s for s in scenario["steps"] if not any(k.startswith("expect") for k in s)]})
    _signed_in(web, run, "head_of_safeguarding")
    page = web.get(f"/cases/{run.case.reference}")
    outcomes = [" ".join(li.text_content().split()) for li in page.tree.xpath(
        "//dl[contains(@class,'app-case-summary')]/div[dt[normalize-space()='Outcomes']]//li")]
    [overall] = [o for o in outcomes if o.startswith("Overall outcome")]
    assert overall.startswith("Overall outcome: Unsubstantiated")
    assert "amended in “Close the case (PiPoT closure form)”, was Substantiated" in overall
    assert "Outcome of the disciplinary hearing: Dismissal" in outcomes  # not a bare "Outcome: Dismissal"


def test_calling_a_clock_now_locks_the_case_before_it_reads_its_chain_or_saves_its_instance(web):
    from datetime import datetime, timezone

    import time_machine
    from sqlalchemy import event

    from app.services.cases.call_now import call_now, callable_now

    run = _walk_until("Task_action_employer", route="pot_meeting_substantiated", pathway="lado")
    lado = run.user("lado")
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    with time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc), tick=False):
        [offered] = callable_now(run.case, lado)
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            call_now(run.case.reference, lado, offered.bpmn_id, "The police have charged him.")
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    lock = next(n for n, s in enumerate(seen) if ("FOR UPDATE" in s and "case_record" in s)
                or s.startswith("UPDATE case_record SET id="))  # PostgreSQL; SQLite takes its write lock
    chain = next(n for n, s in enumerate(seen) if "FROM audit_event" in s)
    saved = next(n for n, s in enumerate(seen) if "UPDATE process_instance" in s)  # on PostgreSQL inside a WITH
    assert lock < chain and lock < saved, seen[:lock + 1]
