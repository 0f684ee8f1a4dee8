"""A PiPoT meeting deadline passes on a Friday evening: the on-call manager on the rota at that moment
gets exactly one email and one task; if they do not acknowledge it, the director on call gets it; once
acknowledged, nothing more is escalated."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, TaskRouting
from app.services.tasks import human_tasks
from tests.escalations.cases import (
    PIPOT,
    complete,
    on_call,
    open_tasks,
    outbox_for,
    person,
    pipot_meeting_due,
    send_mail,
    sweep,
)

TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)      # the threshold is decided
FRIDAY_5PM = datetime(2026, 11, 27, 17, 0, tzinfo=timezone.utc)   # 3 working days later: the meeting deadline
MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def _crew():
    return {role: person(role) for role in ("reporting_manager", "safeguarding_team", "triage_panel")}


def _rota():
    """Dee is on call on Friday in hours; Nia from Friday 17:00 to Monday 09:00; Dir is director on call."""
    dee, nia = person("on_call_manager", name="Dee Day"), person("on_call_manager", name="Nia Night")
    director = person("director_on_call", name="Dir Ector")
    on_call("on_call_manager", dee, FRIDAY_5PM - timedelta(hours=8), FRIDAY_5PM)
    on_call("on_call_manager", nia, FRIDAY_5PM, MONDAY_9AM)
    on_call("director_on_call", director, FRIDAY_5PM, MONDAY_9AM)
    return dee, nia, director


def _to_friday_evening(clock, smtp):
    """The case, the rota, and the sweep just after the deadline; then the sender."""
    head = person("head_of_safeguarding", name="Hed Safe")
    dee, nia, director = _rota()
    case = pipot_meeting_due(person(), _crew())
    clock.move_to(FRIDAY_5PM + timedelta(minutes=1))
    sweep()
    clock.move_to(FRIDAY_5PM + timedelta(minutes=3))
    send_mail()
    return case, head, dee, nia, director


def test_the_on_call_manager_on_the_rota_at_that_moment_gets_one_email_and_one_task(app_ctx, smtp):
    with time_machine.travel(TUESDAY, tick=False) as clock:
        case, head, dee, nia, director = _to_friday_evening(clock, smtp)

        [escalation] = open_tasks(case, "Task_escalate_meeting_on_call")
        assert escalation.assignee_id == nia.id  # resolved from the rota when the timer fired, not Dee's shift
        assert [t.id for t in human_tasks.list_tasks(nia)] == [escalation.id]
        assert human_tasks.list_tasks(dee) == []
        [mail] = smtp.to(nia.email)
        assert "Escalation" in mail["Subject"] and case.reference in mail["Subject"]
        assert f"https://cases.example.org/tasks/{escalation.id}" in mail.get_payload()
        assert smtp.to(dee.email) == [] and smtp.to(director.email) == []
        assert len(smtp.to(head.email)) == 1  # the PiPoT lead's own escalation, to the role
        routing = db.session.get(TaskRouting, escalation.id)
        assert (routing.on_call_user_id, routing.rota_gap) == (nia.id, False)
        raised = db.session.scalar(select(AuditEvent).where(
            AuditEvent.case_id == case.id, AuditEvent.event_type == "escalation_raised",
            AuditEvent.data["task_id"].as_integer() == escalation.id))
        assert raised.data["assigned_to"] == "Nia Night" and raised.data["on_call"] is True

        clock.move_to(MONDAY_9AM - timedelta(minutes=5))  # Nia never acknowledges, nothing else is due
        sweep()
        send_mail()
        assert len(smtp.to(nia.email)) == 1


def test_an_escalation_nobody_acknowledges_reaches_the_director_on_call(app_ctx, smtp):
    with time_machine.travel(TUESDAY, tick=False) as clock:
        case, head, dee, nia, director = _to_friday_evening(clock, smtp)
        clock.move_to(FRIDAY_5PM + timedelta(hours=1, minutes=59))
        sweep()
        assert open_tasks(case, "Task_escalate_meeting_director") == []

        clock.move_to(FRIDAY_5PM + timedelta(hours=2, minutes=2))  # escalation_ack_hours = 2
        sweep()
        clock.move_to(FRIDAY_5PM + timedelta(hours=2, minutes=5))
        send_mail()
        [second] = open_tasks(case, "Task_escalate_meeting_director")
        assert second.assignee_id == director.id and second.escalation
        [mail] = smtp.to(director.email)
        assert "Escalation" in mail["Subject"]
        assert len(smtp.to(nia.email)) == 1
        assert open_tasks(case, "Task_escalate_meeting_on_call"), "the on-call manager's task carries on"

        complete(case, "Task_escalate_meeting_director", director)
        complete(case, "Task_escalate_meeting_on_call", nia)
        clock.move_to(MONDAY_9AM + timedelta(days=2))
        sweep()
        assert open_tasks(case, "Task_escalate_meeting_director") == []


def test_acknowledging_the_escalation_stops_it_going_further(app_ctx, smtp):
    with time_machine.travel(TUESDAY, tick=False) as clock:
        case, head, dee, nia, director = _to_friday_evening(clock, smtp)
        clock.move_to(FRIDAY_5PM + timedelta(minutes=40))
        complete(case, "Task_escalate_meeting_on_call", nia, PIPOT["Task_escalate_meeting_on_call"])

        clock.move_to(MONDAY_9AM + timedelta(days=1))
        sweep()
        send_mail()
        assert open_tasks(case, "Task_escalate_meeting_director") == []
        assert smtp.to(director.email) == [] and outbox_for(director) == []
        cancelled = db.session.scalars(select(AuditEvent.data).where(
            AuditEvent.case_id == case.id, AuditEvent.event_type == "timer_cancelled")).all()
        assert [e["timer"] for e in cancelled if e["bpmn_id"] == "Timer_meeting_unacknowledged"] == \
            ["Not acknowledged in time"]
