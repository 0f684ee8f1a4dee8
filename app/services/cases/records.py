"""Reading a case: by reference, with its audit events and linked cases, and as a person may see it."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Case, CaseLink, User
from app.services.access import can_view_case, log_access
from app.services.errors import NotFound


def view_case(reference: str, user: User, action: str = "view_case", detail: dict | None = None) -> Case:
    """The case, if the user may see it (else NotFound, never a hint that it exists); logged."""
    try:
        case = get_case(reference)
    except NotFound:
        case = None
    if case is None or not can_view_case(user, case):
        raise NotFound(f"No case {reference}.")
    log_access(user, case, action, detail)
    return case


def get_case(reference: str) -> Case:
    """The case with this reference (NotFound if there is none). No access check: see `view_case`."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise NotFound(f"No case {reference}.")
    return case


def case_events(case: Case) -> list[AuditEvent]:
    """The case's audit events, oldest first."""
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()


def linked_cases(case: Case) -> list[Case]:
    """The cases linked to this one (by message or by hand), by reference."""
    return db.session.scalars(
        select(Case).join(CaseLink, CaseLink.linked_case_id == Case.id).where(CaseLink.case_id == case.id)
        .order_by(Case.reference)).all()
