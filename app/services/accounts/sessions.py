"""Signed-in sessions the server keeps, and can end.

A session starts at sign-in with a random id that only its cookie carries (the table keeps a hash of
it). It lasts `SESSION_MAX_HOURS` from sign-in however active, and ends sooner after
`SESSION_IDLE_MINUTES` without a request, when the person signs out, or when their account is
switched off or their roles change: every request checks the row, so an ended session is over in
every browser and every copy of its cookie.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from app import clock
from app.extensions import db
from app.models import User, UserSession
from app.services.audit import record_event

SEEN_EVERY = timedelta(seconds=30)  # how stale `last_seen_at` may grow before a request rewrites it
KEPT_AFTER_ENDING = timedelta(days=30)  # ended sessions kept this long (sign-ins and outs are audited apart)

SIGNED_OUT, IDLE, EXPIRED = "signed out", "idle", "expired"
SWITCHED_OFF, ROLES_CHANGED = "account switched off", "roles changed"


@dataclass(frozen=True)
class StoredSession:
    """What a request needs to know of its session."""
    id: int
    user_id: int
    data: str
    expires_at: datetime
    last_seen_at: datetime
    ended_reason: str | None


@dataclass(frozen=True)
class NewSession:
    """A session just started: the id for the cookie (known only here and there) and the row."""
    token: str
    stored: StoredSession


def start_session(user: User) -> NewSession:
    """A new session for someone who has just signed in. Part of the sign-in's transaction."""
    now, token = clock.now(), secrets.token_urlsafe(32)
    row = UserSession(token_hash=_hash(token), user_id=user.id, created_at=now, last_seen_at=now, data="",
                      expires_at=now + timedelta(hours=current_app.config["SESSION_MAX_HOURS"]))
    db.session.add(row)
    db.session.flush()
    return NewSession(token, _stored(row))


def find_session(token: str) -> StoredSession | None:
    """The session a cookie names (ended or not), or None if there is no such session."""
    if not token or not isinstance(token, str):
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
    return _stored(row) if row is not None else None


def lapsed(stored: StoredSession) -> str | None:
    """`expired` after the working day, `idle` after too long without a request, else None."""
    now = clock.now()
    if now >= stored.expires_at:
        return EXPIRED
    if now - stored.last_seen_at > timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]):
        return IDLE
    return None


def note_activity(stored: StoredSession) -> None:
    """Record that the session was used now (at most every SEEN_EVERY, to spare the database).

    Written in a transaction of its own, apart from the request's work.
    """
    now = clock.now()
    if now - stored.last_seen_at >= SEEN_EVERY:
        _write_apart(stored.id, last_seen_at=now)


def save_session_values(session_id: int, data: str) -> None:
    """Keep a session's values (Flask's tagged JSON) on the server, once the request's work is done.

    Written in a transaction of its own, apart from the request's work; whatever the request left
    uncommitted is let go first, as the end of the request would let it go, so that it holds no lock.
    """
    db.session.rollback()
    _write_apart(session_id, data=data)


def _write_apart(session_id: int, **values) -> None:
    with db.engine.begin() as connection:
        connection.execute(update(UserSession).where(UserSession.id == session_id, UserSession.ended_at.is_(None))
                           .values(**values))


def end_session(session_id: int, reason: str) -> None:
    """End one session (idle, or past its working day). Part of the caller's transaction."""
    db.session.execute(update(UserSession).where(UserSession.id == session_id, UserSession.ended_at.is_(None))
                       .values(ended_at=clock.now(), ended_reason=reason))


def end_sessions(user_id: int, reason: str, actor: User | None = None) -> int:
    """End every open session of a person, in every browser; how many were open.

    Call it wherever what a person may see changes (signing out, switching the account off, a
    change of roles or of the roles they hold in a unit). Part of the caller's transaction, so the
    sessions end exactly when the change is committed; an administrator's ending is audited.
    """
    ended = db.session.execute(
        update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=clock.now(), ended_reason=reason)).rowcount
    if ended and actor is not None and actor.id != user_id:
        username = db.session.scalar(select(User.username).where(User.id == user_id))
        record_event("sessions_ended", actor=actor, data={"username": username, "reason": reason, "sessions": ended})
    return ended


def forget_old_sessions() -> int:
    """Delete the sessions that ended, or ran out, more than KEPT_AFTER_ENDING ago; how many. Does not commit."""
    before = clock.now() - KEPT_AFTER_ENDING
    return db.session.execute(delete(UserSession).where(
        or_(UserSession.ended_at < before, UserSession.expires_at < before))).rowcount


def _stored(row: UserSession) -> StoredSession:
    return StoredSession(row.id, row.user_id, row.data, row.expires_at, row.last_seen_at, row.ended_reason)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
