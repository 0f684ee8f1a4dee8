"""Reporting projections and records governance keeps: case facts, retention, disposal requests,
and the schedule that keeps timer-start processes waiting."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class CaseFact(db.Model):
    """One reportable answer of a case (`source` = `colleague`, `category` = `physical`, ...).

    A reporting projection: kept in step with the workflow by the engine step that changes it
    (app/services/cases/facts.py), so reports never deserialize workflows. A key may have several
    values (categories, themes).
    """

    __tablename__ = "case_fact"
    __table_args__ = (Index("ix_case_fact_key", "key", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    value: Mapped[str] = mapped_column(String(255))


class RetentionRecord(db.Model):
    """When a closed case is due for a retention review, whether it is on legal hold, and (after
    disposal) the minimal tombstone: who requested and approved it, and when."""

    __tablename__ = "retention_record"
    __table_args__ = (Index("ix_retention_due", "status", "review_on"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), primary_key=True)
    review_on: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="retained")  # retained, due, disposed
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_hold_reason: Mapped[str] = mapped_column(Text, default="")
    legal_hold_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    legal_hold_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DisposalRequest(db.Model):
    """The first of the two people a disposal needs; the second approves (or anyone cancels)."""

    __tablename__ = "disposal_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, approved, cancelled
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProcessSchedule(db.Model):
    """A process that starts on a timer (the quarterly report): the instance waiting for its start
    timer, and a short claim so that of several workers only one opens the next instance."""

    __tablename__ = "process_schedule"

    process_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    waiting_case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"))
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseCount(db.Model):
    """The open cases of a pathway in a unit (0: none named yet) at a stage, kept up by the engine step
    that opens, moves or closes a case, in its own transaction (app/services/cases/counts.py): the
    dashboard reads these rows rather than counting the cases."""

    __tablename__ = "case_count"

    pathway: Mapped[str] = mapped_column(String(120), primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(200), primary_key=True)
    open_cases: Mapped[int] = mapped_column(Integer, default=0)


class CaseCountChange(db.Model):
    """A step's change to `case_count`, a row of its own: steps only ever insert here, so two steps
    never wait for each other on a shared count; the worker folds the changes into `case_count`
    (app/services/cases/counts.py) and readers add up both."""

    __tablename__ = "case_count_change"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    pathway: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(200))
    open_cases: Mapped[int] = mapped_column(Integer)


class DashboardCount(db.Model):
    """How many open tasks or open cases of a pathway in a unit carry one mark of the dashboard: a
    task due on a day for a role or a person, a case whose next clock runs out on a day, a case with
    an open escalation or a suspension, a case opened on a day (days are local dates). Kept up by the
    steps in their own transaction (app/services/cases/dashboard_counts.py)."""

    __tablename__ = "dashboard_count"

    pathway: Mapped[str] = mapped_column(String(120), primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    figure: Mapped[str] = mapped_column(String(20), primary_key=True)
    holder: Mapped[str] = mapped_column(String(140), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    counted: Mapped[int] = mapped_column(Integer, default=0)


class DashboardCountChange(db.Model):
    """A step's change to `dashboard_count`, a row of its own, folded in by the worker (as
    `CaseCountChange`)."""

    __tablename__ = "dashboard_count_change"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    pathway: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int] = mapped_column(Integer)
    figure: Mapped[str] = mapped_column(String(20))
    holder: Mapped[str] = mapped_column(String(140))
    day: Mapped[date] = mapped_column(Date)
    counted: Mapped[int] = mapped_column(Integer)
