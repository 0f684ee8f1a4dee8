"""The timer sweep job: thin and idempotent, safe in any number of workers at once."""
from __future__ import annotations

from flask import Flask

from app.jobs.runner import run_job, worker_id
from app.services.cases.timers import sweep_timers
from app.services.operations.health import record_sweep


def sweep_job(app: Flask) -> None:
    """One timer sweep."""
    def work():
        result = sweep_timers(worker_id(), batch=app.config["TIMER_SWEEP_BATCH"],
                              claim_seconds=app.config["TIMER_CLAIM_SECONDS"])
        record_sweep(worker_id())  # for the health check
        return str(result) if result.claimed else None

    run_job(app, "timer sweep", work)
