"""Need to know: who may see a case (DOMAIN.md, data protection), and the access log."""
from __future__ import annotations

from sqlalchemy import exists, or_, select

from app import clock
from app.extensions import db
from app.models import AccessLog, Case, HumanTask, User
from app.services.cases import get_case
from app.services.errors import NotFound

OVERSIGHT_ROLES = {"pipot": {"head_of_safeguarding"}, "lado": {"lado", "lado_manager"}}


def can_view_case(user: User, case: Case) -> bool:
    """The case team (opened it, holds or held a task, or its role holds an open task) and the
    pathway's oversight roles."""
    if case.opened_by_id == user.id or OVERSIGHT_ROLES.get(case.pathway, set()) & user.role_keys:
        return True
    on_team = select(HumanTask.id).where(
        HumanTask.case_id == case.id,
        or_(HumanTask.assignee_id == user.id, HumanTask.completed_by_id == user.id,
            (HumanTask.status == "open") & HumanTask.role_key.in_(user.role_keys)))
    return db.session.scalar(select(exists(on_team)))


def view_case(reference: str, user: User, action: str = "view_case") -> Case:
    """The case, if the user may see it (else NotFound, never a hint that it exists); logged."""
    try:
        case = get_case(reference)
    except NotFound:
        case = None
    if case is None or not can_view_case(user, case):
        raise NotFound(f"No case {reference}.")
    log_access(user, case, action)
    return case


def log_access(user: User, case: Case | None, action: str, detail: dict | None = None) -> None:
    db.session.add(AccessLog(user_id=user.id, case_id=case.id if case else None, action=action,
                             detail=detail or {}, at=clock.now()))
    db.session.commit()
