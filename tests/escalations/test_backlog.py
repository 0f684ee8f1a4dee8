"""A backlog: 200 LADO referrals whose reminders and initial-response deadlines all fell due while
nothing ran (an outage of three days and more), then two `flask worker` processes started at once. Each person
gets one summary email, each escalation task exists once, and the audit shows every timer fired once."""
from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import AuditEvent, Case, HumanTask, OutboxNotification
from app.services.audit import verify_audit
from app.services.runtime import get_calendar
from tests.escalations.cases import lado_referral, on_call, person, send_mail
from tests.workers import fresh_count, start_worker, wait_for

CASES = 200


def _referrals_received_at() -> datetime:
    """10:00 on a working day at least eight days ago: the 1 working day ran out long before now."""
    calendar = get_calendar()
    day = calendar.local(clock.now()).date() - timedelta(days=8)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, clock_time(10, 0), tzinfo=calendar.zone).astimezone(clock.now().tzinfo)


def _start_worker(database_url: str, smtp_port: int, log_dir: Path, n: int):
    return start_worker(database_url, log_dir, n, {
        "TIMER_SWEEP_SECONDS": "1", "TIMER_CLAIM_SECONDS": "60", "TIMER_SWEEP_BATCH": "20",
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_SECURITY": "none",
        "MAIL_SEND_SECONDS": "1", "MAIL_QUIET_SECONDS": "3", "MAIL_MAX_HOLD_SECONDS": "900",
        "MAIL_SUMMARY_THRESHOLD": "3", "PUBLIC_BASE_URL": "https://cases.example.org"})


@pytest.mark.slow
def test_a_backlog_after_an_outage_is_one_summary_per_person_and_each_timer_fires_once(
        app_ctx, smtp, database_url, tmp_path):
    ladoes = [person("lado", name="Lee Ado"), person("lado", name="Lou Ado")]
    manager = person("lado_manager", name="Manny Ager")
    referrer = person(name="Rita Referrer")
    on_call("lado_manager", manager, clock.now() - timedelta(hours=1), clock.now() + timedelta(days=1))
    received = _referrals_received_at()
    with time_machine.travel(received, tick=False) as traveller:
        references = [lado_referral(referrer).reference for _ in range(CASES)]
        traveller.shift(timedelta(minutes=2))
        send_mail()  # the new tasks were emailed when they arrived, before the outage
    assert {m["To"] for m in smtp.messages} == {lado.email for lado in ladoes}
    smtp.messages.clear()

    fired = select(func.count()).where(AuditEvent.event_type == "timer_fired")
    workers = [_start_worker(database_url, smtp.port, tmp_path, n) for n in (1, 2)]
    try:
        done = wait_for(lambda: fresh_count(fired) >= 2 * CASES and len(smtp.messages) >= 3, 600)
        assert done, f"{fresh_count(fired)} timers fired, {len(smtp.messages)} emails"
        time.sleep(4)  # give a duplicate the chance to appear
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)

    for someone in [*ladoes, manager]:
        [summary] = smtp.to(someone.email)  # one email each, however many notifications
        body = summary.get_payload(decode=True).decode()
        assert f"{CASES} notifications" in summary["Subject"]
        assert all(reference in body for reference in references)
    assert "urgent" in smtp.to(manager.email)[0]["Subject"]

    escalations = db.session.execute(
        select(HumanTask.case_id, func.count(), func.min(HumanTask.assignee_id)).where(
            HumanTask.bpmn_id == "Task_escalation_initial_response_manager").group_by(HumanTask.case_id)).all()
    assert len(escalations) == CASES and {(n, who) for _, n, who in escalations} == {(1, manager.id)}
    per_timer = Counter((case_id, data["bpmn_id"]) for case_id, data in db.session.execute(
        select(AuditEvent.case_id, AuditEvent.data).where(AuditEvent.event_type == "timer_fired")))
    assert len(per_timer) == 2 * CASES and set(per_timer.values()) == {1}
    assert {bpmn_id for _, bpmn_id in per_timer} == {"Timer_initial_response", "Timer_initial_response_reminder"}
    assert fresh_count(select(func.count()).select_from(Case)) == CASES
    assert fresh_count(select(func.count()).where(OutboxNotification.status != "sent")) == 0
    assert verify_audit() == []
