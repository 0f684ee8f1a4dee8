"""Reading a case: by reference, with its audit events and linked cases, and as a person may see it;
and the receipt the person who raised a concern keeps of it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Case, CaseLink, ProcessDefinition, ProcessInstance, User
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


@dataclass(frozen=True)
class Receipt:
    """What the person who raised a concern sees of it afterwards: that it arrived, nothing more
    (seed 003 section 5.9: nothing about the person is discussed outside the process)."""

    reference: str
    pathway: str
    pathway_name: str
    raised_at: datetime

    @property
    def received_by(self) -> str:
        return RECEIVED_BY.get(self.pathway, "the team that handles it")


RECEIVED_BY = {"pipot": "the trust's safeguarding team", "lado": "the LADO service"}


def receipt(reference: str, user: User) -> Receipt:
    """The receipt of a concern this person raised (NotFound for anyone else); the view is logged."""
    found = _receipts(user, Case.reference == reference)
    if not found:
        raise NotFound(f"No case {reference}.")
    log_access(user, get_case(reference), "view_receipt")
    return found[0]


def my_receipts(user: User, limit: int = 50) -> list[Receipt]:
    """Receipts of the concerns this person raised, newest first."""
    return _receipts(user, None, limit)


def _receipts(user: User, where, limit: int = 1) -> list[Receipt]:
    query = (select(Case.reference, Case.pathway, ProcessDefinition.name, Case.opened_at)
             .join(ProcessInstance, ProcessInstance.id == Case.instance_id)
             .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
             .where(Case.opened_by_id == user.id))
    if where is not None:
        query = query.where(where)
    rows = db.session.execute(query.order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit))
    return [Receipt(ref, pathway, name or pathway, opened) for ref, pathway, name, opened in rows]
