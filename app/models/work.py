"""Projections of a workflow's state: the open human tasks and the waiting timers.

Lists, inboxes and the timer sweep read these; they never deserialize workflows.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class HumanTask(db.Model):
    __tablename__ = "human_task"
    __table_args__ = (
        # The task queue's order within each source (see app/services/tasks/queue.py); the pathway
        # last, for the pathway filter to read from the index without changing the order.
        Index("ix_human_task_queue_role", "status", "role_key", "unit_id", "assignee_id", "escalation", "due_at",
              "id", "pathway"),
        Index("ix_human_task_queue_assignee", "status", "assignee_id", "escalation", "due_at", "id", "pathway"),
        Index("ix_human_task_case", "case_id", "status"),
        Index("ix_human_task_due", "status", "pathway", "due_at"),  # the dashboard's tasks due today
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"))
    pathway: Mapped[str | None] = mapped_column(String(120))  # the case's (never changes), for the queue
    task_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    role_key: Mapped[str | None] = mapped_column(ForeignKey("role.key"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))  # whose holders of the role get it
    lane: Mapped[str | None] = mapped_column(String(255))
    form_name: Mapped[str | None] = mapped_column(String(255))
    ui_form_name: Mapped[str | None] = mapped_column(String(255))
    instructions: Mapped[str] = mapped_column(Text, default="")
    escalation: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Timer(db.Model):
    __tablename__ = "timer"
    __table_args__ = (Index("ix_timer_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    task_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    guards: Mapped[str] = mapped_column(String(255), default="")
    interrupting: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
