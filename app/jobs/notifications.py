"""The jobs beside the timer sweep: telling people about new tasks (the safety net of the hook after
each step), the email sender and the daily rota check. Thin and idempotent:
one service call each, safe in any number of workers at once."""
from __future__ import annotations

from datetime import time

from flask import Flask

from app.jobs.runner import run_job, worker_id
from app.services.notifications.delivery import send_due_mail
from app.services.notifications.fanout import fan_out_pending
from app.services.notifications.rota import check_rota


def mail_job(app: Flask) -> None:
    """Send the emails that are due."""
    def work():
        result = send_due_mail(worker_id())
        return str(result) if result.emails or result.retrying or result.failed else None

    run_job(app, "mail", work)


def fanout_job(app: Flask) -> None:
    """Tell people about the new tasks the hook after the step did not (the safety net)."""
    def work():
        told = fan_out_pending(grace_seconds=app.config["NOTIFY_FANOUT_GRACE_SECONDS"])
        return f"{told} new task(s) told about" if told else None

    run_job(app, "task-ready fan-out", work)


def rota_check_job(app: Flask) -> None:
    """Look for gaps in the on-call rota and tell the administrators."""
    def work():
        gaps = check_rota()
        return f"{len(gaps)} gap(s) in the coming days" if gaps else None

    run_job(app, "on-call rota check", work)


def add_notification_jobs(scheduler, app: Flask) -> None:
    """The task-ready fan-out every NOTIFY_FANOUT_SECONDS; the sender (when SMTP is configured) every MAIL_SEND_SECONDS; the rota check every day at
    ROTA_CHECK_TIME (local time)."""
    config = app.config
    scheduler.add_job(fanout_job, "interval", args=[app], seconds=config["NOTIFY_FANOUT_SECONDS"], id="task_ready_fanout",
                      coalesce=True, max_instances=1, misfire_grace_time=None)
    if config["SMTP_HOST"]:
        scheduler.add_job(mail_job, "interval", args=[app], seconds=config["MAIL_SEND_SECONDS"], id="mail_sender",
                          coalesce=True, max_instances=1, misfire_grace_time=None)
    at = time.fromisoformat(config["ROTA_CHECK_TIME"])
    scheduler.add_job(rota_check_job, "cron", args=[app], hour=at.hour, minute=at.minute,
                      timezone=config["CALENDAR_TIMEZONE"], id="rota_check", coalesce=True, max_instances=1,
                      misfire_grace_time=3600)
