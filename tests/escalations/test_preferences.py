"""Email preferences: each email at once, or one daily digest at a chosen time; escalations are always
sent at once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine

from app.services.notifications import outbox
from tests.escalations.cases import on_call, outbox_for, person, pipot_meeting_due, send_mail, sweep
from tests.web.pages import PASSWORD, WebClient

TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
FRIDAY_5PM = datetime(2026, 11, 27, 17, 0, tzinfo=timezone.utc)


def test_a_person_chooses_a_daily_digest_on_their_settings_page(app, app_ctx):
    someone = person("safeguarding_team", password=PASSWORD)
    web = WebClient(app, app.test_client())
    with time_machine.travel(TUESDAY, tick=False):
        web.sign_in(someone.username)
        page = web.get("/notifications")
        settings = web.get(page.links()["Email settings"])
        assert settings.field("email_delivery") == ["immediate"]
        refused = web.submit(settings, {"email_delivery": "digest", "digest_time": "tea time"})
        assert refused.error_summary() == [("Enter a time such as 08:00.", "#digest_time")]
        saved = web.submit(refused, {"email_delivery": "digest", "digest_time": "7:30"})
        assert "Your email settings are saved." in saved.words
        assert saved.field("email_delivery") == ["digest"] and saved.field("digest_time") == "07:30"


def test_a_digest_collects_the_day_and_escalations_still_go_at_once(app_ctx, smtp):
    reader = person("safeguarding_team", "on_call_manager", name="Di Gest")
    crew = {role: person(role) for role in ("reporting_manager", "safeguarding_team", "triage_panel")}
    with time_machine.travel(TUESDAY, tick=False) as clock:
        outbox.save_preferences(reader, "digest", "08:00")
        on_call("on_call_manager", reader, FRIDAY_5PM, FRIDAY_5PM + timedelta(days=3))
        case = pipot_meeting_due(person(), crew)  # two new tasks for the safeguarding team
        clock.shift(timedelta(minutes=5))
        send_mail()
        assert smtp.to(reader.email) == []
        assert {(r.kind, r.delivery, r.status) for r in outbox_for(reader)} == {("task", "digest", "pending")}
        assert outbox_for(reader)[0].next_attempt_at == datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)

        clock.move_to(datetime(2026, 11, 25, 8, 1, tzinfo=timezone.utc))
        send_mail()
        [digest] = smtp.to(reader.email)
        assert digest["Subject"] == "Safeguarding cases: your daily digest (2 notifications)"
        assert digest.get_payload(decode=True).decode().count(case.reference) == 2

        clock.move_to(FRIDAY_5PM + timedelta(minutes=1))  # the meeting deadline: an escalation for Di, on call
        sweep()
        clock.shift(timedelta(minutes=2))
        send_mail()
        escalation = [m for m in smtp.to(reader.email) if "Escalation" in m["Subject"]]
        assert len(escalation) == 1, "escalations do not wait for the digest"


def test_going_back_to_immediate_emails_sends_what_was_waiting(app_ctx, smtp):
    reader = person("safeguarding_team")
    crew = {role: person(role) for role in ("reporting_manager", "safeguarding_team", "triage_panel")}
    with time_machine.travel(TUESDAY, tick=False) as clock:
        outbox.save_preferences(reader, "digest", "18:00")
        pipot_meeting_due(person(), crew)
        clock.shift(timedelta(minutes=5))
        outbox.save_preferences(reader, "immediate", "")
        clock.shift(timedelta(minutes=1))
        send_mail()
    assert len(smtp.to(reader.email)) == 2
