"""The accounts job: forgetting old sessions and closed sign-in windows. Thin and idempotent, safe
in any number of workers at once."""
from __future__ import annotations

from flask import Flask

from app.jobs.runner import run_job
from app.services.accounts.auth import tidy_sign_ins

TIDY_SECONDS = 3600


def sign_in_tidy_job(app: Flask) -> None:
    """Delete sessions ended long ago and sign-in counts whose window has closed."""
    def work():
        sessions, counts = tidy_sign_ins()
        return f"{sessions} old session(s), {counts} closed count(s) forgotten" if sessions or counts else None

    run_job(app, "sign-in tidy", work)


def add_account_jobs(scheduler, app: Flask) -> None:
    """The tidy every hour."""
    scheduler.add_job(sign_in_tidy_job, "interval", args=[app], seconds=TIDY_SECONDS, id="sign_in_tidy",
                      coalesce=True, max_instances=1, misfire_grace_time=None)
