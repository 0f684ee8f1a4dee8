"""Command-line entry points: `flask deploy`, `flask verify-audit`, `flask worker`, ..."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app

from app.config import PROJECT_ROOT
from app.extensions import db
from app.jobs.runner import worker_id
from app.jobs.scheduler import run_blocking_worker
from app.notification_cli import register_notification_cli
from app.operations_cli import register_operations_cli
from app.services import definitions, people
from app.services.accounts.demo import set_up_demo
from app.services.audit import verify_audit
from app.services.cases.dashboard_counts import rebuild_dashboard_counts
from app.services.cases.timers import sweep_timers
from app.services.errors import DeployRefused, NotFound
from app.services.operations.anchors import check_anchors
from app.services.reporting.audit_checks import chain_label

DEMO_PASSWORD = "demo-password-1"


def register_cli(app: Flask) -> None:
    for command in (deploy, verify_audit_command, worker, sweep, seed_roles, create_user, create_token,
                    demo_setup, recount_dashboard):
        app.cli.add_command(command)
    register_notification_cli(app)
    register_operations_cli(app)


@click.command("deploy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--note", default="", help="Change note recorded with the new version.")
@click.option("--by", "username", default=None, help="Username of the person deploying (recorded).")
def deploy(paths, note, username):
    """Validate and deploy BPMN files; prints every problem and exits 1 if any file fails."""
    people.seed_roles()
    try:
        actor = people.get_user(username) if username else None
    except NotFound as err:
        raise click.ClickException(err.message) from None
    failed = False
    for path in paths:
        failed |= not _deploy_one(Path(path), note, actor)
    sys.exit(1 if failed else 0)


def _deploy_one(path: Path, note: str, actor=None) -> bool:
    try:
        definition, created = definitions.deploy_definition(path.read_bytes(), path.name, change_note=note,
                                                            actor=actor)
    except DeployRefused as refused:
        click.echo(f"{path.name}: not deployed, {len(refused.problems)} problem(s):", err=True)
        for problem in refused.problems:
            element = f" [{problem.element_id}]" if problem.element_id else ""
            click.echo(f"  {problem.file}{element}: {problem.message}", err=True)
        return False
    state = "deployed as" if created else "unchanged, still"
    click.echo(f"{path.name}: {state} {definition.process_key} version {definition.version} "
               f"(sha256 {definition.sha256[:12]})")
    return True


@click.command("verify-audit")
@click.option("--anchor", "anchors", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="An anchor file of chain heads written by the worker: report any anchored event that is missing.")
def verify_audit_command(anchors):
    """Check every audit chain (and the anchors given); names each broken case and exits 1."""
    broken = [(stream, seq, what) for stream, seq, what in verify_audit()]
    for path in anchors:
        with open(path, encoding="utf-8") as lines:
            broken += [(p.stream, p.seq, f"anchored on {p.anchored_at} {p.what}") for p in check_anchors(lines)]
    if not broken:
        click.echo("Audit trail intact." + (f" Every anchored event is present ({len(anchors)} anchor file(s))."
                                            if anchors else ""))
        return
    for stream, seq, what in broken:
        click.echo(f"BROKEN {chain_label(stream)} event {seq}: {what}")
    sys.exit(1)


@click.command("worker")
def worker():
    """Run the timer worker (APScheduler, blocking) until stopped."""
    run_blocking_worker(current_app._get_current_object())


@click.command("sweep")
def sweep():
    """Run one timer sweep now and print what it did."""
    click.echo(str(sweep_timers(worker_id())))


@click.command("recount-dashboard")
def recount_dashboard():
    """Count the open cases for the dashboard from scratch (once, after the upgrade that adds the counts)."""
    rebuild_dashboard_counts()
    db.session.commit()
    click.echo("Dashboard counts rebuilt.")


@click.command("seed-roles")
def seed_roles():
    """Add the roles of bpmn/roles.json that the role table lacks."""
    click.echo(f"{people.seed_roles()} role(s) added.")


@click.command("create-user")
@click.argument("username")
@click.argument("display_name")
@click.option("--role", "roles", multiple=True, required=True)
@click.option("--password", default=None)
@click.option("--email", default=None)
@click.option("--staff-number", default=None, help="From their staff record (need to know hides cases about them).")
def create_user(username, display_name, roles, password, email, staff_number):
    """Create a user holding the given roles."""
    try:
        people.create_user(username, display_name, list(roles), password=password, email=email,
                           staff_number=staff_number)
    except NotFound as err:
        raise click.ClickException(err.message) from None
    click.echo(f"Created {username}.")


@click.command("create-token")
@click.argument("username")
def create_token(username):
    """Issue a new API token for a user (printed once)."""
    try:
        click.echo(people.issue_api_token(username))
    except NotFound as err:
        raise click.ClickException(err.message) from None


@click.command("demo-setup")
def demo_setup():
    """Roles, the bundled process models, and the demo organisation: units and a person for each role
    where it is held (idempotent)."""
    people.seed_roles()
    bpmn_dir = Path(current_app.config["BPMN_DIR"])
    for path in sorted(bpmn_dir.glob("*.bpmn")):
        if not _deploy_one(path, "bundled model"):
            sys.exit(1)
    described = set_up_demo(PROJECT_ROOT / "demo" / "organisation.json", DEMO_PASSWORD)
    click.echo(f"{len(described)} demo users, each with the password {DEMO_PASSWORD!r} (README: the demo users).")
