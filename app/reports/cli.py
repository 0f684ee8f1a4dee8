"""Commands for reports and retention: `flask backfill-reporting`, `flask retention-review`,
`flask scheduled-processes`."""
from __future__ import annotations

import click
from flask import Flask

from app.jobs.runner import worker_id
from app.services.cases.scheduled_starts import open_scheduled_instances
from app.services.reporting.backfill import backfill_reporting
from app.services.reporting.draft_reports import attach_draft_reports
from app.services.reporting.retention import flag_due_reviews


def register_report_cli(app: Flask) -> None:
    for command in (backfill_reporting_command, retention_review_command, scheduled_processes_command):
        app.cli.add_command(command)


@click.command("backfill-reporting")
def backfill_reporting_command():
    """Rebuild every case's reporting facts and retention date from its workflow (after an upgrade)."""
    click.echo(f"{backfill_reporting()} case(s) brought up to date.")


@click.command("retention-review")
def retention_review_command():
    """Flag the closed cases whose retention review date has come (the daily job, now)."""
    click.echo(f"{flag_due_reviews()} case(s) now due for a retention review.")


@click.command("scheduled-processes")
def scheduled_processes_command():
    """Open the waiting instance of each timer-start process, and attach draft reports (the job, now)."""
    opened = open_scheduled_instances(worker_id())
    click.echo(f"{len(opened)} instance(s) opened: {', '.join(c.reference for c in opened) or 'none needed'}; "
               f"{attach_draft_reports()} draft report(s) attached.")
