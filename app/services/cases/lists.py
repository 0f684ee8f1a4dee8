"""Lists and searches of cases. They only ever return cases the person may open, and every search
(it is a search for people) is written to the access log."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from app import clock
from app.extensions import db
from app.models import Case, CaseTeamMember, User
from app.services import access
from app.services.audit import record_event
from app.services.cases import records
from app.services.errors import NotFound, ValidationFailed
from app.services.notifications.notify import notify_user

LIMIT = 100


def list_cases(user: User, query: str = "", status: str = "open") -> list[Case]:
    """My cases (those I may open), newest first; with `query`, matching reference or subject. Searches are logged."""
    statement = select(Case).where(access.visible_cases_clause(user))
    if status in ("open", "closed"):
        statement = statement.where(Case.status == status)
    query = (query or "").strip()[:100]
    if query:
        like = f"%{query.lower()}%"
        statement = statement.where(or_(func.lower(Case.reference).like(like), func.lower(Case.subject_name).like(like),
                                        func.lower(Case.subject_known_as).like(like)))
    found = db.session.scalars(statement.order_by(Case.opened_at.desc(), Case.id.desc()).limit(LIMIT)).all()
    if query:
        access.log_access(user, None, "search_cases", {"query": query, "results": len(found)})
    return found


def add_team_member(reference: str, user: User, username: str, reason: str) -> Case:
    """Add someone to a case's team with a reason (the pathway's oversight roles only); audited."""
    case = records.view_case(reference, user, "add_team_member")
    if not access.oversees(user, case):
        raise NotFound(f"No case {reference}.")
    person = db.session.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower(),
                                                  User.is_active.is_(True)))
    errors = {}
    if person is None or access.is_about(person, case):
        errors["username"] = "Enter the username of an active member of staff who is not the subject of this case."
    if not (reason or "").strip():
        errors["reason"] = "Enter why this person needs to see the case."
    if errors:
        raise ValidationFailed(errors)
    if db.session.scalar(select(CaseTeamMember.id).where(CaseTeamMember.case_id == case.id,
                                                         CaseTeamMember.user_id == person.id)) is None:
        db.session.add(CaseTeamMember(case_id=case.id, user_id=person.id, reason=reason.strip(),
                                      added_by_id=user.id, added_at=clock.now()))
        record_event("team_member_added", case_id=case.id, actor=user,
                     data={"name": person.display_name, "user_id": person.id, "reason": reason.strip()})
        notify_user(person.id, case.id, "team", f"/cases/{case.reference}")
    db.session.commit()
    return case
