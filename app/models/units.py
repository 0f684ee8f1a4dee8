"""Organisation units and where people hold their roles (need to know: a role is held somewhere)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime

ROOT_UNIT = "all"  # the top of the tree: a role held here is held for every unit


class OrgUnit(db.Model):
    """A trust, a care group or directorate, a local authority's LADO service, an employer..."""

    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="unit")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RoleHolding(db.Model):
    """A person holds a role in a unit (and so for every unit below it)."""

    __tablename__ = "role_holding"
    __table_args__ = (UniqueConstraint("user_id", "role_key", "unit_id"),
                      Index("ix_role_holding_role_unit", "role_key", "unit_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role_key: Mapped[str] = mapped_column(ForeignKey("role.key", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))


class OrganisationVersion(db.Model):
    """One row whose token changes with every change to the units, to who holds which role where, or
    to whether an account is active (database triggers write it, whatever made the change): a process
    keeps what it read of the organisation while the token it reads back is the same."""

    __tablename__ = "organisation_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
