"""Sign-in attempts: the record that rate limits and locks out repeated failures."""
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
