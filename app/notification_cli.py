"""Command line for escalations and notifications: `flask check-rota`, `flask send-mail`,
`flask import-rota FILE`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask

from app.jobs.runner import worker_id
from app.services.errors import NotFound, ValidationFailed
from app.services.notifications.delivery import send_due_mail
from app.services.notifications.rota import check_rota, import_rota
from app.services.people import get_user
from app.web.templating import short


def register_notification_cli(app: Flask) -> None:
    for command in (check_rota_command, send_mail_command, import_rota_command):
        app.cli.add_command(command)


@click.command("check-rota")
def check_rota_command():
    """Look for gaps in the on-call rota over the coming days; tells the administrators; exits 1 on gaps."""
    gaps = check_rota()
    for gap in gaps:
        click.echo(f"GAP {gap.role_name}: nobody on call from {short(gap.starts_at)} to {short(gap.ends_at)}")
    if not gaps:
        click.echo("The on-call rota has no gaps.")
    sys.exit(1 if gaps else 0)


@click.command("send-mail")
def send_mail_command():
    """Send the emails that are due now (what the worker's sender job does) and print what it did."""
    click.echo(str(send_due_mail(worker_id())))


@click.command("import-rota")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--by", "username", required=True, help="Username of the administrator importing (recorded).")
def import_rota_command(path, username):
    """Import on-call shifts from a CSV file (role,username,starts,ends); all or nothing."""
    try:
        count = import_rota(get_user(username), Path(path).read_text(encoding="utf-8-sig"))
    except NotFound as err:
        raise click.ClickException(err.message) from None
    except ValidationFailed as failed:
        for message in failed.errors.values():
            click.echo(message, err=True)
        raise click.ClickException(failed.message) from None
    click.echo(f"{count} shift(s) added to the rota.")
