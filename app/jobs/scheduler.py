"""APScheduler wiring. Each process has its own in-memory job store (never shared: APScheduler's
documentation forbids sharing one between processes); the row claims in the timer table are what
make several workers safe."""
from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from app import clock
from app.jobs.accounts import add_account_jobs
from app.jobs.notifications import add_notification_jobs
from app.jobs.operations import add_operations_jobs
from app.jobs.reports import add_report_jobs
from app.jobs.runner import worker_id
from app.jobs.timers import sweep_job

log = logging.getLogger(__name__)


def _add_jobs(scheduler, app: Flask) -> None:
    scheduler.add_job(sweep_job, "interval", args=[app], seconds=app.config["TIMER_SWEEP_SECONDS"],
                      id="timer_sweep", coalesce=True, max_instances=1, misfire_grace_time=None,
                      next_run_time=clock.now())
    add_notification_jobs(scheduler, app)
    add_report_jobs(scheduler, app)
    add_account_jobs(scheduler, app)
    add_operations_jobs(scheduler, app)


def run_blocking_worker(app: Flask) -> None:
    """`flask worker`: sweep until stopped."""
    scheduler = BlockingScheduler(timezone="UTC")
    _add_jobs(scheduler, app)
    log.info("worker %s sweeping every %ss", worker_id(), app.config["TIMER_SWEEP_SECONDS"])
    scheduler.start()


def start_background_scheduler(app: Flask) -> BackgroundScheduler:
    """The same sweep in the web process (`make run`)."""
    scheduler = BackgroundScheduler(timezone="UTC", daemon=True)
    _add_jobs(scheduler, app)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    return scheduler
