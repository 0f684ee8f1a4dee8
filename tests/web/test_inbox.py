"""The inbox: my tasks and my roles' unclaimed tasks, most urgent first, with due dates in working
days; claim, give back and reassign (with a reason, audited); filters; pages; notifications."""
from __future__ import annotations

from datetime import datetime, timezone

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.services.cases import timers
from tests.web.conftest import open_concern, open_task_id, staff

# Monday 23 November 2026, 10:00 in London (GMT)
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def _rows(page) -> list[list[str]]:
    return [[" ".join(td.text_content().split()) for td in tr.findall("td")]
            for tr in page.tree.xpath("//table[contains(@class,'app-inbox')]/tbody/tr")]


def test_due_dates_are_told_in_working_days(web):
    lead = staff("safeguarding_team")
    with time_machine.travel(MONDAY, tick=False):
        case = open_concern(staff())
        web.sign_in(lead.username)
        rows = _rows(web.get("/inbox"))
    assert rows[0][0].startswith("Triage the concern")
    assert rows[0][1].startswith(case.reference)
    assert rows[0][3].startswith("Due in 2 working days")
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc), tick=False):
        assert _rows(web.sign_in(lead.username))[0][3].startswith("Due today at 17:00")
    with time_machine.travel(datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc), tick=False):
        assert _rows(web.sign_in(lead.username))[0][3].startswith("Overdue by 2 working days")


def test_escalations_come_first_and_the_on_call_manager_is_told(web, other_web, app):
    on_call = staff("on_call_manager", name="Olu On-call")
    with time_machine.travel(MONDAY, tick=False):
        open_concern(staff())
        open_concern(staff())
    with time_machine.travel(datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc), tick=False):
        timers.sweep_timers("test")
        web.sign_in(on_call.username)
        inbox = web.get("/inbox")
        # nobody is on the rota: each escalation is tagged so in the inbox
        assert [r[0] for r in _rows(inbox)] == [
            "Escalation Nobody on call Escalation: triage overdue for case CONCERN-2026-0001",
            "Escalation Nobody on call Escalation: triage overdue for case CONCERN-2026-0002"]
        assert "Notifications 2 unread" in inbox.all_words
        notes = web.get("/notifications")
        assert notes.words.count("An escalation needs attention now: “Escalation: triage overdue”, case CONCERN-") == 2
        assert "Alex" not in notes.words  # the task and the reference, never who the case is about
        case_page = web.get("/cases/CONCERN-2026-0001")
        assert "Triage deadline (on “Triage the concern”) ran out on 25 November 2026 at 17:00" in case_page.words
        assert "Clock ran out: Triage deadline on “Triage the concern”" in case_page.words


def test_claim_give_back_and_reassign_with_a_reason(web, other_web):
    lead = staff("safeguarding_team", name="Sam Lead")
    colleague = staff("safeguarding_team", name="Casey Colleague")
    case = open_concern(staff())
    task_id = open_task_id(case, "Triage the concern")
    web.sign_in(lead.username)
    page = web.get(f"/tasks/{task_id}")
    claimed = web.submit(page, form=f"/tasks/{task_id}/claim")
    assert "You are working on this" in claimed.words
    other_web.sign_in(colleague.username)
    assert "Triage the concern" not in other_web.get("/inbox").words  # claimed: gone from colleagues' inboxes
    back = web.submit(claimed, form=f"/tasks/{task_id}/unclaim")
    assert "You gave back “Triage the concern”" in back.words
    assert "Triage the concern" in other_web.get("/inbox").words
    form = web.get(f"/tasks/{task_id}/reassign")
    assert form.h1 == "Pass a task to a colleague"
    refused = web.submit(form, {})
    assert refused.error_summary() == [("Choose who to pass this task to.", "#colleague"),
                                       ("Enter why you are passing this task on.", "#reason")]
    done = web.submit(refused, {"colleague": str(colleague.id), "reason": "Sam is on leave from tomorrow"})
    assert "You passed “Triage the concern” to a colleague." in done.words
    mine = other_web.get("/inbox")
    assert "You" in _rows(mine)[0][4]
    assert "A task has been passed to you: “Triage the concern”, case CONCERN-" in other_web.get("/notifications").words
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event_type == "task_reassigned"))
    assert (event.actor_label, event.data["to"], event.data["reason"]) == (
        "Sam Lead", "Casey Colleague", "Sam is on leave from tomorrow")
    timeline = other_web.get(f"/cases/{case.reference}").words
    assert "Passed “Triage the concern” to Casey Colleague: Sam is on leave from tomorrow" in timeline


def test_filters_and_pages(web, app):
    lead = staff("safeguarding_team", "meeting_chair")
    for _ in range(3):
        open_concern(staff())
    web.sign_in(lead.username)
    assert len(_rows(web.get("/inbox?role=meeting_chair"))) == 0
    assert len(_rows(web.get("/inbox?role=safeguarding_team&pathway=concern"))) == 3
    assert len(_rows(web.get("/inbox?pathway=elsewhere"))) == 0
    assert "that match these filters" in web.get("/inbox?due=overdue").words
    app.config["INBOX_PAGE_SIZE"] = 2
    try:
        first, second = web.get("/inbox"), web.get("/inbox?page=2")
    finally:
        app.config["INBOX_PAGE_SIZE"] = 25
    assert len(_rows(first)) == 2 and len(_rows(second)) == 1
    assert "Next" in first.words and "Previous" in second.words


def test_a_new_task_is_a_notification_for_the_role(web):
    lead = staff("safeguarding_team")
    case = open_concern(staff())
    inbox = web.sign_in(lead.username)
    assert "Notifications 1 unread" in inbox.all_words
    notes = web.get("/notifications")
    # it names the task and the case (it used to say only that a task was waiting)
    assert f"A new task is waiting for your team: “Triage the concern”, case {case.reference}" in notes.words
    read = web.submit(notes, form="/notifications/read")
    assert "unread" not in read.all_words


def test_out_of_hours_marks_the_task_that_became_ready_out_of_hours_not_every_task_of_the_case(web):
    from app.services.tasks import human_tasks

    lead, chair = staff("safeguarding_team", "meeting_chair"), staff()
    with time_machine.travel(datetime(2026, 11, 28, 22, 0, tzinfo=timezone.utc), tick=False):  # a Saturday night
        case = open_concern(chair)
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc), tick=False):  # Monday morning
        web.sign_in(lead.username)
        first = web.get("/inbox")
        row = next(r for r in first.tree.xpath("//tbody/tr") if "Triage the concern" in " ".join(r.itertext()))
        assert "Out of hours" in " ".join(row.itertext())
        human_tasks.complete_task(open_task_id(case, "Triage the concern"), lead,
                                  {"decision": "meeting", "risk_level": "high"})
        later = web.get("/inbox")
        row = next(r for r in later.tree.xpath("//tbody/tr") if "Schedule the meeting" in " ".join(r.itertext()))
        assert "Out of hours" not in " ".join(row.itertext())
