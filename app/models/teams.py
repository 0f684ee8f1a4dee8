"""Teams of staff, people added to a case team, and the on-call rota."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.people import User
from app.models.types import UTCDateTime

team_member = Table(
    "team_member",
    db.metadata,
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)


class Team(db.Model):
    """A group of staff (the trust safeguarding team, the LADO service, ...)."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")

    members: Mapped[list[User]] = relationship(secondary=team_member, lazy="selectin",
                                               order_by=User.display_name)


class CaseTeamMember(db.Model):
    """Someone added to a case's team by hand, with the reason (need to know)."""

    __tablename__ = "case_team_member"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OnCallShift(db.Model):
    """Who is on call for a role, from when to when (the on-call rota)."""

    __tablename__ = "on_call_shift"
    # every question asked of the rota is about shifts not yet ended (who is on call now, gaps ahead):
    # the index starts there, so the years of past shifts are never read
    __table_args__ = (Index("ix_on_call_shift_role_ends", "role_key", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role_key: Mapped[str] = mapped_column(ForeignKey("role.key"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
