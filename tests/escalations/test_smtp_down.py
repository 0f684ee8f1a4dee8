"""With the SMTP server down the case carries on, each email is retried with longer and longer waits,
and when the attempts run out the administrator is told and sees the failure; sent again once the
server is back, it arrives."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine
from aiosmtpd.controller import Controller

from app.extensions import db
from app.models import Notification
from tests.escalations.cases import (
    complete,
    on_call,
    open_tasks,
    outbox_for,
    person,
    pipot_meeting_due,
    send_mail,
    sweep,
)
from tests.escalations.conftest import SmtpServer
from tests.web.pages import PASSWORD, WebClient

TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
FRIDAY_5PM = datetime(2026, 11, 27, 17, 0, tzinfo=timezone.utc)


def test_smtp_down_the_workflow_carries_on_sends_are_retried_and_the_administrator_sees_it(app, app_ctx, smtp_down):
    admin = person("system_administrator", name="Ada Admin", password=PASSWORD)
    head = person("head_of_safeguarding", name="Hed Safe", password=PASSWORD)
    manager = person("on_call_manager", name="Nia Night")
    crew = {role: person(role) for role in ("reporting_manager", "safeguarding_team", "triage_panel")}
    with time_machine.travel(TUESDAY, tick=False) as clock:
        on_call("on_call_manager", manager, FRIDAY_5PM, FRIDAY_5PM + timedelta(days=3))
        case = pipot_meeting_due(person(), crew)
        clock.move_to(FRIDAY_5PM + timedelta(minutes=1))
        sweep()
        clock.move_to(FRIDAY_5PM + timedelta(minutes=3))
        result = send_mail()
        assert result.emails == 0 and result.retrying >= 1
        [row] = [r for r in outbox_for(manager) if r.kind == "escalation"]
        assert (row.status, row.attempts) == ("retrying", 1) and "Connection" in row.last_error
        assert row.next_attempt_at == FRIDAY_5PM + timedelta(minutes=4)  # MAIL_RETRY_SECONDS after the failure

        complete(case, "Task_escalate_meeting_on_call", manager)  # the workflow never waits for email
        assert open_tasks(case, "Task_escalate_meeting_on_call") == []

        attempts = [1]
        for wait in (timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)):
            clock.shift(wait)
            send_mail()
            attempts.append(_row(manager).attempts)
        assert attempts == [1, 1, 2, 3, 4]  # not before its time; then every 1, 2, 4 minutes
        assert _row(manager).status == "failed"
        told = db.session.scalars(db.select(Notification).where(Notification.user_id == admin.id,
                                                                Notification.kind == "mail_failed")).all()
        assert told and told[0].link == "/admin/outbox"

        web, oversight = WebClient(app, app.test_client()), WebClient(app, app.test_client())
        web.sign_in(admin.username)
        page = web.get("/admin/outbox")
        assert "Failed" in page.words and "Nia Night" in page.words and case.reference in page.words
        assert "ConnectionRefusedError" in page.words
        oversight.sign_in(head.username)
        timeline = oversight.get(f"/cases/{case.reference}").words
        assert "Email to Nia Night not sent yet (attempt 1" in timeline
        assert "Email to Nia Night could not be sent after 4 attempts" in timeline

        server = SmtpServer(port=smtp_down["SMTP_PORT"])  # the server is back
        controller = Controller(server.inbox, hostname="127.0.0.1", port=server.port)
        controller.start()
        try:
            page = web.get("/admin/outbox")
            done = web.submit(page, form="/admin/outbox/retry")
            assert "will be sent again shortly" in done.words
            clock.shift(timedelta(minutes=1))
            send_mail()
            assert [m["To"] for m in server.messages].count(manager.email) == 1
            assert _row(manager).status == "sent"
        finally:
            controller.stop()


def _row(user):
    return [r for r in outbox_for(user) if r.kind == "escalation"][0]
