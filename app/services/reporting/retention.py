"""Retention of closed cases (DOMAIN.md, data protection): a review date set at closure, a daily job
that flags cases whose date has come, legal holds, and the list the pathway's manager works from.
Disposal itself, a two-person action, is app/services/reporting/disposal.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import not_, select

from app import clock
from app.extensions import db
from app.models import Case, DisposalRequest, Notification, RetentionRecord, User, user_role
from app.services.access import about_user_clause
from app.services.audit import lock_case, record_event
from app.services.errors import NotFound, ValidationFailed
from app.services.report_access import (
    PATHWAY_MANAGERS,
    is_auditor,
    managed_pathways,
    may_manage_retention,
    may_read_trail,
)
from app.services.reporting.periods import today

STATUSES = ("due", "retained", "held", "disposed", "all")
DUE_MESSAGE = "Closed cases are due for a retention review."


@dataclass
class RetentionLine:
    case: Case
    record: RetentionRecord
    pending: DisposalRequest | None


def flag_due_reviews(on: date | None = None) -> int:
    """The daily job: mark every retained case whose review date has come as due for review (audited)
    and tell the pathway's managers. Idempotent. Returns how many cases it flagged."""
    on = on or today()
    records = db.session.scalars(select(RetentionRecord).where(
        RetentionRecord.status == "retained", RetentionRecord.review_on <= on)).all()
    pathways = set()
    for record in records:
        lock_case(record.case_id)
        record.status, record.flagged_at = "due", clock.now()
        record_event("retention_review_due", case_id=record.case_id, data={"review_on": record.review_on})
        pathways.add(db.session.get(Case, record.case_id).pathway)
    _notify_managers(pathways)
    db.session.commit()
    return len(records)


def _notify_managers(pathways: set[str]) -> None:
    """A notification naming no case, linking to the list of cases due."""
    roles = set().union(*(PATHWAY_MANAGERS[p] for p in pathways)) if pathways else set()
    people = db.session.scalars(select(user_role.c.user_id).where(user_role.c.role_key.in_(roles)).distinct())
    for user_id in people:
        db.session.add(Notification(user_id=user_id, case_id=None, kind="retention", message=DUE_MESSAGE,
                                    link="/retention?status=due", created_at=clock.now()))


def retention_list(user: User, status: str = "due") -> list[RetentionLine]:
    """Closed cases of the pathways the person manages (every pathway for the auditor), by review date."""
    pathways = list(PATHWAY_MANAGERS) if is_auditor(user) else managed_pathways(user)
    query = (select(Case, RetentionRecord).join(RetentionRecord, RetentionRecord.case_id == Case.id)
             .where(Case.pathway.in_(pathways), not_(about_user_clause(user)))
             .order_by(RetentionRecord.review_on, Case.reference))
    if status == "held":
        query = query.where(RetentionRecord.legal_hold.is_(True))
    elif status in ("due", "retained", "disposed"):
        query = query.where(RetentionRecord.status == status)
    pending = _pending_requests()
    return [RetentionLine(case, record, pending.get(case.id)) for case, record in db.session.execute(query.limit(500))]


def retention_line(reference: str, user: User) -> RetentionLine:
    """One case's retention record, if the person manages its pathway or is the auditor."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    record = db.session.get(RetentionRecord, case.id) if case else None
    if record is None or not (may_manage_retention(user, case) or (is_auditor(user) and may_read_trail(user, case))):
        raise NotFound(f"No retention record for {reference}.")
    return RetentionLine(case, record, _pending_requests(case.id).get(case.id))


def _pending_requests(case_id: int | None = None) -> dict[int, DisposalRequest]:
    query = select(DisposalRequest).where(DisposalRequest.status == "pending")
    if case_id is not None:
        query = query.where(DisposalRequest.case_id == case_id)
    return {request.case_id: request for request in db.session.scalars(query)}


def managed_line(reference: str, user: User) -> RetentionLine:
    """The case's retention record, if this person may change it (else NotFound)."""
    line = retention_line(reference, user)
    if not may_manage_retention(user, line.case):
        raise NotFound(f"No retention record for {reference}.")
    return line


def place_legal_hold(reference: str, user: User, reason: str) -> None:
    """Stop the case being disposed of until the hold is lifted (a reason is required); audited."""
    line = managed_line(reference, user)
    _need(reason, "reason", "Enter why the record must be kept")
    if line.record.status == "disposed":
        raise ValidationFailed({"reason": "This case has already been disposed of."}, "The case has been disposed of.")
    lock_case(line.case.id)
    record = line.record
    record.legal_hold, record.legal_hold_reason = True, reason.strip()
    record.legal_hold_by_id, record.legal_hold_at = user.id, clock.now()
    record_event("legal_hold_placed", case_id=line.case.id, actor=user, data={"reason": reason.strip()})
    db.session.commit()


def lift_legal_hold(reference: str, user: User, reason: str) -> None:
    """Lift a legal hold (a reason is required); audited."""
    line = managed_line(reference, user)
    _need(reason, "reason", "Enter why the hold can be lifted")
    if not line.record.legal_hold:
        raise ValidationFailed({"reason": "This case is not on legal hold."}, "The case is not on legal hold.")
    lock_case(line.case.id)
    line.record.legal_hold = False
    line.record.legal_hold_by_id, line.record.legal_hold_at = user.id, clock.now()
    record_event("legal_hold_lifted", case_id=line.case.id, actor=user, data={"reason": reason.strip()})
    db.session.commit()


def _need(value: str, field: str, message: str) -> None:
    if not (value or "").strip():
        raise ValidationFailed({field: message}, message)
