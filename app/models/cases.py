"""Cases, the process instances that run them, and links between cases."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.definitions import ProcessDefinition
from app.models.types import UTCDateTime


class ProcessInstance(db.Model):
    """A running or finished workflow: SpiffWorkflow's serialized state plus a version for
    optimistic concurrency (DESIGN.md decisions 3 and 4)."""

    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    state: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed JSON (app.workflow.state)
    version: Mapped[int] = mapped_column(Integer, default=1)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    definition: Mapped[ProcessDefinition] = relationship(lazy="select")


class Case(db.Model):
    __tablename__ = "case_record"
    __table_args__ = (Index("ix_case_status_pathway", "status", "pathway"),
                      Index("ix_case_open_opened", "status", "pathway", "opened_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    pathway: Mapped[str] = mapped_column(String(120))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    stage: Mapped[str] = mapped_column(String(200), default="")
    subject_name: Mapped[str | None] = mapped_column(String(200), index=True)
    subject_known_as: Mapped[str | None] = mapped_column(String(200))
    subject_date_of_birth: Mapped[date | None] = mapped_column(Date)
    subject_staff_number: Mapped[str | None] = mapped_column(String(200))
    subject_staff_number_key: Mapped[str | None] = mapped_column(String(200), index=True)  # normalised when written
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)  # the unit its answers name
    outcome: Mapped[str | None] = mapped_column(String(60))
    out_of_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    key_dates: Mapped[dict] = mapped_column(JSON, default=dict)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the open case adds to the dashboard's counts ([unit, figure, holder, day], one per mark;
    # app/services/cases/dashboard_counts.py): a step compares it with what the case adds now.
    dashboard_marks: Mapped[list | None] = mapped_column(JSON)

    instance: Mapped[ProcessInstance] = relationship(lazy="select")


class CaseLink(db.Model):
    """Two cases about the same person on different pathways (PiPoT <-> LADO)."""

    __tablename__ = "case_link"
    __table_args__ = (UniqueConstraint("case_id", "linked_case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    linked_case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReferenceCounter(db.Model):
    """Last number issued per reference prefix and year (PIPOT-2026-0001)."""

    __tablename__ = "reference_counter"

    prefix: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class CaseNote(db.Model):
    """A case note: a call, an email, a contact with the police (when it happened, who, with whom,
    what). Append-only: a mistake is corrected by an addendum (`corrects_id`), never by an edit."""

    __tablename__ = "case_note"
    __table_args__ = (Index("ix_case_note_case", "case_id", "happened_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(30))
    with_whom: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("case_note.id"))
