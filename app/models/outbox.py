"""The notification outbox (one row per notification per person), email preferences, and how work
that must reach a named person was routed by the on-call rota."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class OutboxNotification(db.Model):
    """One notification for one person, and the state of its email.

    `key` is deterministic (what it is about, its kind and the recipient) and unique: a second
    worker, a step retried after a conflict or a restart cannot queue the same notification twice.
    An email is built from `kind`, `reference` and `link` only, never from case data.
    `status`: pending, retrying, sent, failed, or skipped (nobody to email: no address).
    """

    __tablename__ = "outbox_notification"
    __table_args__ = (
        UniqueConstraint("key", name="uq_outbox_notification_key"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_user", "user_id", "status"),
        Index("ix_outbox_case", "case_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(40), default="")
    link: Mapped[str] = mapped_column(String(255))
    delivery: Mapped[str] = mapped_column(String(10), default="immediate")  # or digest
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    email_kind: Mapped[str | None] = mapped_column(String(20))  # single, summary or digest: what carried it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationPreference(db.Model):
    """How a person wants their emails: each at once, or a daily digest at a local time.
    Escalations are always sent at once."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    email_delivery: Mapped[str] = mapped_column(String(10), default="immediate")
    digest_time: Mapped[str] = mapped_column(String(5), default="08:00")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TaskRouting(db.Model):
    """Where a task that must reach a named person went when it became ready: to whoever the rota
    had on call for its role at that moment, or nobody (`rota_gap`)."""

    __tablename__ = "task_routing"

    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id"), primary_key=True)
    role_key: Mapped[str | None] = mapped_column(String(64))
    on_call_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    rota_gap: Mapped[bool] = mapped_column(Boolean, default=False)
    routed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TaskReadyEvent(db.Model):
    """A task became ready, or a reminder timer guarding it fired (`reminder_timer_id`), and the people
    concerned are still to be told (app/services/notifications/fanout.py). Written by the step in its
    transaction; deleted by whoever tells them (the hook after the commit, or the worker), in the
    transaction that queues the notifications: exactly once."""

    __tablename__ = "task_ready_event"
    __table_args__ = (Index("ix_task_ready_event_created", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    assignee_id: Mapped[int | None] = mapped_column(Integer)  # who the step gave it to, if anyone
    rota_gap: Mapped[bool] = mapped_column(Boolean, default=False)
    no_holder: Mapped[bool] = mapped_column(Boolean, default=False)
    reminder_timer_id: Mapped[int | None] = mapped_column(Integer)  # a reminder, not a new task: the timer's row
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StageChangeEvent(db.Model):
    """A case moved to a new stage and the roles its model names in `stage_watchers` are still to be
    told: written by the step, told and deleted after it commits, exactly like a `TaskReadyEvent`. Who
    holds the roles is decided when they are told."""

    __tablename__ = "stage_change_event"
    __table_args__ = (Index("ix_stage_change_event_created", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list] = mapped_column(JSON)  # the watching roles' keys
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
