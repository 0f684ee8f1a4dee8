"""Counting attempts to sign in, per username (a lockout) and per address (a rate limit).

Each attempt is counted by one atomic upsert before its password is checked, and the count it gets
decides whether the password is checked at all: of any number of attempts arriving together, no
more than the limit are checked. An attempt that turns out not to be a failure takes its count back.
The counts live in the database, so every web process sees the same ones.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import clock
from app.extensions import db
from app.models import SignInCounter
from app.models.types import UTCDateTime

USERNAME, ADDRESS = "username", "address"


def limits() -> dict[str, int]:
    """How many attempts each scope allows within the window."""
    settings = current_app.config
    return {USERNAME: settings["SIGNIN_MAX_FAILURES"], ADDRESS: settings["SIGNIN_MAX_FAILURES_PER_ADDRESS"]}


def count_attempt(scope: str, value: str) -> int:
    """Count one attempt against `value` and return its place in the window (1 for the first).

    The window opens at the first attempt and lasts SIGNIN_LOCKOUT_MINUTES; the attempt that reaches
    the limit extends it to a full window from then (the lockout). Does not commit.
    """
    now, limit, counter = clock.now(), limits()[scope], SignInCounter
    fresh_window = literal(now + _window(), UTCDateTime)
    lapsed = counter.window_ends_at <= literal(now, UTCDateTime)
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(counter).values(scope=scope, value=value, attempts=1, window_ends_at=now + _window())
        .on_conflict_do_update(index_elements=["scope", "value"], set_={
            "attempts": case((lapsed, 1), else_=counter.attempts + 1),
            "window_ends_at": case((lapsed, fresh_window), (counter.attempts + 1 == limit, fresh_window),
                                   else_=counter.window_ends_at),
        })
        .returning(counter.attempts))
    return db.session.execute(statement).scalar_one()


def take_back(scope: str, value: str) -> None:
    """An attempt counted against `value` was not a failure after all. Does not commit."""
    db.session.execute(update(SignInCounter).where(
        SignInCounter.scope == scope, SignInCounter.value == value, SignInCounter.attempts > 0)
        .values(attempts=SignInCounter.attempts - 1))


def clear(scope: str, value: str) -> None:
    """Forget the attempts against `value` (a success, or an administrator's unlock). Does not commit."""
    db.session.execute(delete(SignInCounter).where(SignInCounter.scope == scope, SignInCounter.value == value))


def locked_until(username: str) -> datetime | None:
    """When a lockout on this username ends, or None if it is not locked."""
    counter = db.session.scalar(select(SignInCounter).where(
        SignInCounter.scope == USERNAME, SignInCounter.value == username))
    if counter is None or counter.attempts < limits()[USERNAME] or counter.window_ends_at <= clock.now():
        return None
    return counter.window_ends_at


def forget_closed_windows() -> int:
    """Delete the counts whose window has closed (they would start again from one); how many. Does not commit."""
    return db.session.execute(delete(SignInCounter).where(SignInCounter.window_ends_at <= clock.now())).rowcount


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["SIGNIN_LOCKOUT_MINUTES"])
