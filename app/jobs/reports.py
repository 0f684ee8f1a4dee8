"""The reporting jobs: opening the next instance of each timer-start process (and attaching draft
reports to report tasks), and the daily retention review. Thin and idempotent, safe in any number
of workers at once."""
from __future__ import annotations

from datetime import time

from flask import Flask

from app.jobs.runner import run_job, worker_id
from app.services.cases.counts import fold_count_changes
from app.services.cases.scheduled_starts import open_scheduled_instances
from app.services.reporting.draft_reports import attach_draft_reports
from app.services.reporting.retention import flag_due_reviews


def scheduled_processes_job(app: Flask) -> None:
    """Keep one instance of every timer-start process waiting; attach draft reports to report tasks."""
    def work():
        opened = open_scheduled_instances(worker_id())
        attached = attach_draft_reports()
        return f"{len(opened)} opened, {attached} draft report(s) attached" if opened or attached else None

    run_job(app, "scheduled processes", work)


def retention_review_job(app: Flask) -> None:
    """Flag the closed cases whose retention review date has come."""
    def work():
        flagged = flag_due_reviews()
        return f"{flagged} case(s) now due" if flagged else None

    run_job(app, "retention review", work)


def count_fold_job(app: Flask) -> None:
    """Fold the steps' changes to the open-case and dashboard counts into the counts."""
    def work():
        folded = fold_count_changes()
        return f"{folded} count change(s) folded" if folded else None

    run_job(app, "count fold", work)


def add_report_jobs(scheduler, app: Flask) -> None:
    """Scheduled processes every SCHEDULED_STARTS_SECONDS; the count fold every COUNT_FOLD_SECONDS;
    the retention review every day at RETENTION_REVIEW_TIME (local time)."""
    config = app.config
    scheduler.add_job(count_fold_job, "interval", args=[app], seconds=config["COUNT_FOLD_SECONDS"],
                      id="count_fold", coalesce=True, max_instances=1, misfire_grace_time=None)
    scheduler.add_job(scheduled_processes_job, "interval", args=[app], seconds=config["SCHEDULED_STARTS_SECONDS"],
                      id="scheduled_processes", coalesce=True, max_instances=1, misfire_grace_time=None)
    at = time.fromisoformat(config["RETENTION_REVIEW_TIME"])
    scheduler.add_job(retention_review_job, "cron", args=[app], hour=at.hour, minute=at.minute,
                      timezone=config["CALENDAR_TIMEZONE"], id="retention_review", coalesce=True, max_instances=1,
                      misfire_grace_time=3600)
