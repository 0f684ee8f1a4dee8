"""The case timeline shows who an escalation went to, every notification, and its email's delivery state."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine

from tests.escalations.cases import on_call, person, pipot_meeting_due, send_mail, sweep
from tests.web.pages import PASSWORD, WebClient

TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
FRIDAY_5PM = datetime(2026, 11, 27, 17, 0, tzinfo=timezone.utc)


def test_the_timeline_shows_who_was_told_and_how_their_email_went(app, app_ctx, smtp):
    head = person("head_of_safeguarding", name="Hed Safe", password=PASSWORD)
    nia = person("on_call_manager", name="Nia Night")
    nobody = person("on_call_manager", name="No Address", email=False)
    crew = {role: person(role) for role in ("reporting_manager", "safeguarding_team", "triage_panel")}
    person("safeguarding_team", name="Off Line", email=False)
    web = WebClient(app, app.test_client())
    with time_machine.travel(TUESDAY, tick=False) as clock:
        on_call("on_call_manager", nia, FRIDAY_5PM, FRIDAY_5PM + timedelta(days=3))
        case = pipot_meeting_due(person(), crew)
        clock.move_to(FRIDAY_5PM + timedelta(minutes=1))
        sweep()
        clock.shift(timedelta(minutes=2))
        send_mail()
        web.sign_in(head.username)
        words = web.get(f"/cases/{case.reference}").words
    assert ("Escalation: “Escalation: PiPoT meeting not held in time” is waiting for On-call manager, "
            "given to Nia Night (on call)") in words
    assert "Notified Nia Night: an escalation needs attention now (email to follow)" in words
    assert "Email to Nia Night sent: an escalation needs attention now" in words
    assert "Notified Hed Safe: an escalation needs attention now (email to follow)" in words
    assert "Reminder: “Arrange the PiPoT meeting” is due soon" in words
    assert ("Notified Off Line: a new task is waiting for your team (no email address: shown in the service only)"
            in words)
    assert "No Address" not in words  # the escalation went to Nia, not to the role
    assert nobody.email is None
