"""Disposal of a closed case at the end of its retention: a two-person action (one person requests it
with a reason, a different person approves it), refused while the case is on legal hold or before its
review date, and audited.

What is kept is a minimal tombstone: the case record's reference, pathway, dates and outcome, its
retention record with who requested and approved the disposal, and its audit events with their
hashes but without their content. The hash chain and the append-only trail coexist like this: the
content of each event (answers, names) is replaced by `{"disposed": true}` while its `hash` and
`prev_hash` are kept, so the links between events still check; a `case_disposed` event in the
system chain (which is never disposed of) records how many events were emptied and a digest of
their hashes, and `verify_audit` checks the emptied events against that record instead of their
own content. A `case_disposed` event closes the case's own chain, hashed as usual.
"""
from __future__ import annotations

import zlib
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, select, update

from app import clock
from app.extensions import db
from app.models import (
    AccessLog,
    AuditEvent,
    Case,
    CaseFact,
    CaseNote,
    CaseTeamMember,
    DisposalRequest,
    Document,
    HumanTask,
    ProcessInstance,
    TaskDraft,
    Timer,
    User,
)
from app.services.audit import DISPOSED, chain_digest, lock_case, record_event, stream_for
from app.services.errors import Forbidden, NotFound, ValidationFailed
from app.services.reporting.periods import today
from app.services.reporting.retention import managed_line

DISPOSED_STATE = zlib.compress(b'{"disposed": true}', 1)


def request_disposal(reference: str, user: User, reason: str) -> DisposalRequest:
    """The first person asks for the case to be disposed of; a second must approve."""
    line = managed_line(reference, user)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": "Enter why the record can be disposed of"}, "Enter a reason.")
    _check_disposable(line)
    if line.pending is not None:
        raise ValidationFailed({"reason": "A disposal has already been requested."}, "Already requested.")
    lock_case(line.case.id)
    request = DisposalRequest(case_id=line.case.id, reason=reason.strip(), status="pending",
                              requested_by_id=user.id, requested_at=clock.now())
    db.session.add(request)
    record_event("disposal_requested", case_id=line.case.id, actor=user, data={"reason": reason.strip()})
    db.session.commit()
    return request


def cancel_disposal(reference: str, user: User) -> None:
    """Withdraw a pending request (either person may)."""
    line = managed_line(reference, user)
    if line.pending is None:
        raise NotFound("No disposal is waiting for approval.")
    lock_case(line.case.id)
    line.pending.status, line.pending.decided_by_id, line.pending.decided_at = "cancelled", user.id, clock.now()
    record_event("disposal_cancelled", case_id=line.case.id, actor=user)
    db.session.commit()


def approve_disposal(reference: str, user: User) -> None:
    """The second person approves: the case is disposed of, keeping its tombstone."""
    line = managed_line(reference, user)
    request = line.pending
    if request is None:
        raise NotFound("No disposal is waiting for approval.")
    if request.requested_by_id == user.id:
        raise Forbidden("A disposal needs a second person: someone else must approve it.")
    _check_disposable(line)
    lock_case(line.case.id)
    request.status, request.decided_by_id, request.decided_at = "approved", user.id, clock.now()
    record_event("disposal_approved", case_id=line.case.id, actor=user, data={"request_id": request.id})
    db.session.flush()
    _dispose(line.case, request, user)
    line.record.status, line.record.disposed_at = "disposed", clock.now()
    db.session.commit()


def _check_disposable(line) -> None:
    if line.record.status == "disposed":
        raise ValidationFailed({"reason": "This case has already been disposed of."}, "Already disposed of.")
    if line.record.legal_hold:
        raise ValidationFailed({"reason": "This case is on legal hold and cannot be disposed of."}, "On legal hold.")
    if line.record.review_on > today():
        raise ValidationFailed({"reason": f"This case is kept until {line.record.review_on:%-d %B %Y}."},
                               "The retention period has not ended.")


def _dispose(case: Case, request: DisposalRequest, approver: User) -> None:
    """Remove the personal data of a case, keeping the tombstone and the hash chain's links."""
    _remove_documents(case)
    task_ids = select(HumanTask.id).where(HumanTask.case_id == case.id).scalar_subquery()
    db.session.execute(delete(TaskDraft).where(TaskDraft.task_id.in_(task_ids)))
    db.session.execute(delete(CaseFact).where(CaseFact.case_id == case.id))
    db.session.execute(delete(CaseTeamMember).where(CaseTeamMember.case_id == case.id))
    db.session.execute(update(CaseNote).where(CaseNote.case_id == case.id).values(corrects_id=None))
    db.session.execute(delete(CaseNote).where(CaseNote.case_id == case.id))
    db.session.execute(update(AccessLog).where(AccessLog.case_id == case.id).values(detail={}))
    db.session.execute(update(Timer).where(Timer.case_id == case.id, Timer.status == "waiting").values(status="cancelled"))
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == case.instance_id).values(state=DISPOSED_STATE))
    case.subject_name = case.subject_known_as = case.subject_staff_number = None
    case.subject_date_of_birth, case.key_dates, case.stage = None, {}, "Disposed of"
    _empty_trail(case, request, approver)


def _remove_documents(case: Case) -> None:
    folder = Path(current_app.config["DOCUMENTS_DIR"])
    for document in db.session.scalars(select(Document).where(Document.case_id == case.id)):
        (folder / document.storage_key).unlink(missing_ok=True)
        db.session.delete(document)


def _empty_trail(case: Case, request: DisposalRequest, approver: User) -> None:
    stream = stream_for(case.id)
    db.session.flush()
    hashes = db.session.scalars(select(AuditEvent.hash).where(AuditEvent.stream == stream).order_by(AuditEvent.seq)).all()
    db.session.execute(update(AuditEvent).where(AuditEvent.stream == stream).values(data=DISPOSED))
    summary = {"stream": stream, "reference": case.reference, "events": len(hashes), "digest": chain_digest(hashes),
               "requested_by_id": request.requested_by_id, "approved_by_id": approver.id}
    record_event("case_disposed", actor=approver, data=summary)
    record_event("case_disposed", case_id=case.id, actor=approver, data=summary)
