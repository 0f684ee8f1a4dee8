"""Deployed versions of process definitions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class ProcessDefinition(db.Model):
    """One deployed version: the BPMN and its forms exactly as deployed."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("process_key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    # Large and immutable: loaded only when read (the runtime keeps parsed copies per version).
    bpmn_xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    forms: Mapped[dict] = mapped_column(JSON, default=dict, deferred=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    change_note: Mapped[str] = mapped_column(Text, default="")
