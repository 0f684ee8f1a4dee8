"""Command line for running the service: `flask backup`, `flask restore ARCHIVE`, `flask write-anchor`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app

from app import clock
from app.services.operations.anchors import write_anchor
from app.services.operations.backup import BackupFailed, create_backup
from app.services.operations.postgres import ToolFailed
from app.services.operations.restore import restore_backup

SHOWN_TABLES = ("case_record", "audit_event", "human_task", "timer", "document", "user_account",
                "process_definition")


def register_operations_cli(app: Flask) -> None:
    for command in (backup, restore, write_anchor_command):
        app.cli.add_command(command)


@click.command("backup")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="The archive to write (default BACKUP_DIR/safeguarding-<UTC time>.tar.gz).")
def backup(out):
    """Back up the database and the uploaded documents into one archive with a manifest of sha256 digests."""
    config = current_app.config
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    path = Path(out) if out else Path(config["BACKUP_DIR"]) / f"safeguarding-{stamp}.tar.gz"
    try:
        report = create_backup(path, Path(config["DOCUMENTS_DIR"]))
    except (BackupFailed, ToolFailed) as failed:
        raise click.ClickException(str(failed)) from None
    click.echo(f"Backup written: {report.path} ({report.size:,} bytes, {report.dialect}, "
               f"{report.documents} document file(s)), a snapshot as of {report.started_at.isoformat()}.")
    _echo_counts(report.counts)


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
def restore(archive, yes):
    """Check a backup archive, restore it over the database and documents, verify the audit trail."""
    if not yes:
        click.confirm("This replaces the database and restores the documents. Stop the web and worker "
                      "processes first. Go on?", abort=True)
    try:
        report = restore_backup(Path(archive), Path(current_app.config["DOCUMENTS_DIR"]))
    except (BackupFailed, ToolFailed) as failed:
        raise click.ClickException(str(failed)) from None
    click.echo(f"Restored the backup begun {report.manifest['started_at']} "
               f"({report.documents} document file(s)).")
    _echo_counts(report.counts, report.manifest["counts"])
    _echo_verification(report)
    sys.exit(0 if report.intact else 1)


def _echo_counts(counts: dict[str, int], expected: dict[str, int] | None = None) -> None:
    for table in SHOWN_TABLES:
        note = "" if expected is None or expected.get(table) == counts.get(table) else \
            f" (the backup recorded {expected.get(table)})"
        click.echo(f"  {table}: {counts.get(table, 0):,}{note}")


def _echo_verification(report) -> None:
    for stream, seq, what in report.broken:
        click.echo(f"BROKEN {stream} event {seq}: {what}")
    for problem in report.missing:
        click.echo(f"BROKEN {problem.stream} event {problem.seq}: anchored {problem.what}")
    if report.intact:
        click.echo("Audit trail intact; every chain head recorded by the backup is present.")


@click.command("write-anchor")
@click.option("--file", "path", type=click.Path(dir_okay=False), default=None,
              help="The anchor file (default AUDIT_ANCHOR_FILE).")
def write_anchor_command(path):
    """Append the heads of the audit chains to the anchor file now (the worker does it every AUDIT_ANCHOR_SECONDS)."""
    target = Path(path or current_app.config["AUDIT_ANCHOR_FILE"])
    click.echo(f"Anchored {write_anchor(target)} chain head(s) in {target}.")
