"""The jobs beside the timer sweep: the email sender and the daily rota check. Thin and idempotent:
an app context and one service call each, safe in any number of workers at once."""
from __future__ import annotations

import logging
from datetime import time

from flask import Flask

from app.extensions import db

log = logging.getLogger(__name__)


def mail_job(app: Flask) -> None:
    """Send the emails that are due."""
    from app.jobs.scheduler import worker_id
    from app.services.delivery import send_due_mail

    with app.app_context():
        try:
            result = send_due_mail(worker_id())
            if result.emails or result.retrying or result.failed:
                log.info("mail: %s", result)
        except Exception:
            db.session.rollback()
            log.exception("the mail sender failed; it runs again shortly")
        finally:
            db.session.remove()


def rota_check_job(app: Flask) -> None:
    """Look for gaps in the on-call rota and tell the administrators."""
    from app.services.rota import check_rota

    with app.app_context():
        try:
            gaps = check_rota()
            if gaps:
                log.warning("on-call rota: %s gap(s) in the coming days", len(gaps))
        except Exception:
            db.session.rollback()
            log.exception("the rota check failed")
        finally:
            db.session.remove()


def add_notification_jobs(scheduler, app: Flask) -> None:
    """The sender (when SMTP is configured) every MAIL_SEND_SECONDS; the rota check every day at
    ROTA_CHECK_TIME (local time)."""
    config = app.config
    if config["SMTP_HOST"]:
        scheduler.add_job(mail_job, "interval", args=[app], seconds=config["MAIL_SEND_SECONDS"], id="mail_sender",
                          coalesce=True, max_instances=1, misfire_grace_time=None)
    at = time.fromisoformat(config["ROTA_CHECK_TIME"])
    scheduler.add_job(rota_check_job, "cron", args=[app], hour=at.hour, minute=at.minute,
                      timezone=config["CALENDAR_TIMEZONE"], id="rota_check", coalesce=True, max_instances=1,
                      misfire_grace_time=3600)
