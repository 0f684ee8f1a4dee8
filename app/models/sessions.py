"""Signed-in sessions kept by the server: the cookie names one; ending the row ends the session."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class UserSession(db.Model):
    """One signed-in session of one person.

    Only a hash of the session id is stored, so a copy of the table signs nobody in. The session
    lasts until `expires_at` (a working day from sign-in, however active) unless it is ended first:
    `ended_reason` says why (signed out, idle, expired, account switched off, roles changed).
    `data` holds the session's values (Flask's tagged JSON), which never travel in the cookie.
    """

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text, default="")
