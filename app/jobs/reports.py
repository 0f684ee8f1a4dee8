"""The reporting jobs: opening the next instance of each timer-start process (and attaching draft
reports to report tasks), and the daily retention review. Thin and idempotent: an app context and
service calls, safe in any number of workers at once."""
from __future__ import annotations

import logging
from datetime import time

from flask import Flask

from app.extensions import db

log = logging.getLogger(__name__)


def scheduled_processes_job(app: Flask) -> None:
    """Keep one instance of every timer-start process waiting; attach draft reports to report tasks."""
    from app.jobs.scheduler import worker_id
    from app.services.draft_reports import attach_draft_reports
    from app.services.scheduled_starts import open_scheduled_instances

    with app.app_context():
        try:
            opened = open_scheduled_instances(worker_id())
            attached = attach_draft_reports()
            if opened or attached:
                log.info("scheduled processes: %s opened, %s draft report(s) attached", len(opened), attached)
        except Exception:
            db.session.rollback()
            log.exception("the scheduled-process job failed; it runs again shortly")
        finally:
            db.session.remove()


def retention_review_job(app: Flask) -> None:
    """Flag the closed cases whose retention review date has come."""
    from app.services.retention import flag_due_reviews

    with app.app_context():
        try:
            flagged = flag_due_reviews()
            if flagged:
                log.info("retention review: %s case(s) now due", flagged)
        except Exception:
            db.session.rollback()
            log.exception("the retention review failed")
        finally:
            db.session.remove()


def add_report_jobs(scheduler, app: Flask) -> None:
    """Scheduled processes every SCHEDULED_STARTS_SECONDS; the retention review every day at
    RETENTION_REVIEW_TIME (local time)."""
    config = app.config
    scheduler.add_job(scheduled_processes_job, "interval", args=[app], seconds=config["SCHEDULED_STARTS_SECONDS"],
                      id="scheduled_processes", coalesce=True, max_instances=1, misfire_grace_time=None)
    at = time.fromisoformat(config["RETENTION_REVIEW_TIME"])
    scheduler.add_job(retention_review_job, "cron", args=[app], hour=at.hour, minute=at.minute,
                      timezone=config["CALENDAR_TIMEZONE"], id="retention_review", coalesce=True, max_instances=1,
                      misfire_grace_time=3600)
