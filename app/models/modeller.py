"""Drafts of process models being edited, and the scenario checks run on candidate versions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class ModelDraft(db.Model):
    """A model a process owner is editing (or imported): not run by anything until deployed."""

    __tablename__ = "model_draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str | None] = mapped_column(String(120), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    filename: Mapped[str] = mapped_column(String(255))
    bpmn_xml: Mapped[bytes] = mapped_column(LargeBinary)
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft, deployed, discarded
    deployed_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScenarioCheck(db.Model):
    """A run of a pathway's scenario suite against a candidate model, in a process of its own."""

    __tablename__ = "scenario_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("model_draft.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running, passed, failed, error
    results: Mapped[list] = mapped_column(JSON, default=list)  # [{"scenario", "name", "passed", "message"}]
    message: Mapped[str] = mapped_column(Text, default="")
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
