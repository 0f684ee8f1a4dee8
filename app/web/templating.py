"""Jinja: GOV.UK Frontend macros, date filters in the service's time zone, and what every page knows."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_login import current_user
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from app.calendar import parse_when
from app.formkit import item_count, option_value
from app.services.notifications.notify import count_unread


def init_templating(app: Flask) -> None:
    """Templates from app/templates, then `govuk_frontend_jinja/...` from its package."""
    app.jinja_loader = ChoiceLoader([
        app.jinja_loader,
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(when=when, day=day, day_short=day_short, short=short, clock_time=clock_time, option_value=option_value)
    app.jinja_env.globals.update(item_count=item_count)
    app.context_processor(_page_globals)


def _local(value) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return parse_when(value).astimezone(ZoneInfo(current_app.config["CALENDAR_TIMEZONE"]))


def when(value) -> str:
    """`24 November 2026 at 10:30` (local time)."""
    moment = _local(value)
    return f"{moment:%-d %B %Y} at {moment:%H:%M}" if moment else ""


def day(value) -> str:
    """`Tuesday 24 November 2026`."""
    moment = _local(value)
    return f"{moment:%A %-d %B %Y}" if moment else ""


def clock_time(value) -> str:
    """`10:30`."""
    moment = _local(value)
    return f"{moment:%H:%M}" if moment else ""


def day_short(value) -> str:
    """`24 Nov 2026` (a date without a time of day)."""
    moment = _local(value)
    return f"{moment:%-d %b %Y}" if moment else ""


def short(value) -> str:
    """`24 Nov 2026, 10:30`."""
    moment = _local(value)
    return f"{moment:%-d %b %Y, %H:%M}" if moment else ""


def _page_globals() -> dict:
    signed_in = current_user.is_authenticated
    unread = 0
    if signed_in:
        unread = count_unread(current_user)
    return {
        "service_name": current_app.config["SERVICE_NAME"],
        "signed_in": signed_in,
        "unread_notifications": unread,
        "is_admin": signed_in and "system_administrator" in current_user.role_keys,
        # who is signed in, and in which roles, for the header; the auditor changes nothing, so is not
        # offered a case to start
        "signed_in_as": (current_user.display_name, ", ".join(sorted(
            {role.name for role in current_user.roles if role.key != "staff"}) or ["Member of staff"]))
        if signed_in else None,
        "may_write": signed_in and "auditor" not in current_user.role_keys,
        "may_start_cases": signed_in and "staff" in current_user.role_keys and "auditor" not in current_user.role_keys,
        "oidc_enabled": bool(current_app.config["OIDC_CLIENT_ID"]),
    }
