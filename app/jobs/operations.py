"""The operations job: the audit chain anchor, appended to AUDIT_ANCHOR_FILE every
AUDIT_ANCHOR_SECONDS. Thin and safe in several workers at once (appends are made under a file lock)."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.jobs.runner import run_job
from app.services.operations.anchors import write_anchor


def anchor_job(app: Flask) -> None:
    """Append the heads of the audit chains that grew to the anchor file."""
    def work():
        return f"{write_anchor(Path(app.config['AUDIT_ANCHOR_FILE']))} chain head(s) anchored"

    run_job(app, "audit anchor", work)


def add_operations_jobs(scheduler, app: Flask) -> None:
    """The anchor job, when an anchor file is configured."""
    if app.config["AUDIT_ANCHOR_FILE"]:
        scheduler.add_job(anchor_job, "interval", args=[app], seconds=app.config["AUDIT_ANCHOR_SECONDS"],
                          id="audit_anchor", coalesce=True, max_instances=1, misfire_grace_time=None)
