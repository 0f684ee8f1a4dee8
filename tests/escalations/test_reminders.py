"""Actions agreed at a meeting remind their owner before they are due and escalate to the meeting chair
when overdue, each action on its own clock; an open case is reviewed on a configurable cycle."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import Notification
from tests.escalations.cases import complete, open_tasks, person, pipot_actions_agreed, send_mail, sweep

TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
ACTIONS = [
    {"action": "Check the rota for other shifts worked with this patient.", "owner_role": "reporting_manager",
     "due_date": "2026-11-27"},
    {"action": "Collect the witness statements.", "owner_role": "people_experience", "due_date": "2026-12-02"},
]
DONE = {"action_status": "completed", "action_completed_on": "2026-11-27", "action_completion_summary": "Done."}
FOLLOWED_UP = {"action_overdue_acknowledged": True, "action_overdue_decision": "new_due_date",
               "action_overdue_new_due_date": "2026-12-04", "action_overdue_action_taken": "Agreed a new date."}


def _crew():
    return {role: person(role) for role in ("reporting_manager", "safeguarding_team", "triage_panel",
                                            "meeting_chair", "people_experience", "head_of_safeguarding")}


def _told(user, kind):
    return db.session.scalars(select(Notification.link).where(Notification.user_id == user.id,
                                                              Notification.kind == kind)).all()


def test_each_action_reminds_its_owner_and_escalates_to_the_chair_when_overdue(app_ctx, smtp):
    crew = _crew()
    with time_machine.travel(TUESDAY, tick=False) as clock:
        case = pipot_actions_agreed(person(), crew, ACTIONS)
        [check_rota] = open_tasks(case, "Task_meeting_action_reporting_manager")
        [statements] = open_tasks(case, "Task_meeting_action_people_experience")
        clock.shift(timedelta(minutes=5))
        send_mail()  # the new tasks
        smtp.messages.clear()

        clock.move_to(datetime(2026, 11, 26, 17, 1, tzinfo=timezone.utc))  # 24 hours before Friday's action
        sweep()
        assert _told(crew["reporting_manager"], "reminder") == [f"/tasks/{check_rota.id}"]
        assert _told(crew["people_experience"], "reminder") == []
        clock.shift(timedelta(minutes=2))
        send_mail()
        [reminder] = smtp.to(crew["reporting_manager"].email)
        assert "Reminder: a task is due soon" in reminder["Subject"]

        clock.move_to(datetime(2026, 11, 27, 17, 1, tzinfo=timezone.utc))  # Friday's action is overdue
        sweep()
        [chase] = open_tasks(case, "Task_overdue_meeting_action")
        assert chase.role_key == "meeting_chair" and chase.escalation
        assert _told(crew["meeting_chair"], "escalation") == [f"/tasks/{chase.id}"]
        complete(case, "Task_meeting_action_reporting_manager", crew["reporting_manager"], DONE)
        complete(case, "Task_overdue_meeting_action", crew["meeting_chair"], FOLLOWED_UP)

        clock.move_to(datetime(2026, 12, 1, 17, 1, tzinfo=timezone.utc))  # the day before the second is due
        sweep()
        assert _told(crew["people_experience"], "reminder") == [f"/tasks/{statements.id}"]
        complete(case, "Task_meeting_action_people_experience", crew["people_experience"], DONE)
        clock.move_to(datetime(2026, 12, 10, 9, 0, tzinfo=timezone.utc))
        sweep()
        assert len(open_tasks(case, "Task_overdue_meeting_action")) == 0  # done in time: no escalation
        assert len(_told(crew["meeting_chair"], "escalation")) == 1


def test_the_case_is_reviewed_on_a_configurable_cycle(app_ctx, smtp):
    crew = _crew()
    head = crew["head_of_safeguarding"]
    with time_machine.travel(TUESDAY, tick=False) as clock:
        case = pipot_actions_agreed(person(), crew, [])
        [review] = open_tasks(case, "Task_case_review")
        assert review.due_at == datetime(2026, 12, 22, 17, 0, tzinfo=timezone.utc)  # 20 working days
        clock.move_to(datetime(2026, 12, 22, 13, 1, tzinfo=timezone.utc))
        sweep()
        assert _told(head, "reminder") == [f"/tasks/{review.id}"]
        complete(case, "Task_case_review", head, {
            "case_review_progress": "Waiting for the police.", "interim_measures_review": "none_in_place",
            "colleague_kept_informed": True, "case_review_decision": "continue", "case_review_cycle_working_days": 5})
        [again] = open_tasks(case, "Task_case_review")
        assert again.id != review.id
        assert again.due_at == datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc)  # 5 working days, bank holidays skipped
        assert open_tasks(case, "Task_outcome_meeting") == []
        complete(case, "Task_support_colleague", crew["reporting_manager"])
        complete(case, "Task_case_review", head, {
            "case_review_progress": "Ready.", "interim_measures_review": "none_in_place",
            "colleague_kept_informed": True, "case_review_decision": "ready_for_outcome_meeting"})
        assert open_tasks(case, "Task_outcome_meeting")
