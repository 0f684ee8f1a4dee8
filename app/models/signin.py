"""Sign-in attempts: the record of each, and the counters that rate limit and lock out repeated failures."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class SignInAttempt(db.Model):
    """One attempt to sign in (or an administrator lifting a lockout).

    `outcome` is `success`, `failure`, `refused` (tried while locked out) or `unlocked`.
    """

    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        Index("ix_sign_in_attempt_username", "username", "at"),
        Index("ix_sign_in_attempt_address", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignInCounter(db.Model):
    """Attempts to sign in against one username or from one address within a window.

    `scope` is `username` or `address`. An attempt is counted (one atomic upsert) before its password
    is checked, so attempts arriving together cannot all be checked; a success takes its count back.
    The window starts at the first attempt; reaching the limit extends it to a full window from then,
    which is how long the lockout lasts.
    """

    __tablename__ = "sign_in_counter"

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(120), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
