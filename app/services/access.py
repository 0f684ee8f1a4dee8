"""Need to know: who may see a case (DOMAIN.md, data protection), and the access log.

A case is visible to its case team (whoever opened it, holds or held one of its tasks, holds the
role of one of its open tasks, or was added to the team with a reason) and to the roles the
pathway names for oversight. Nobody sees a case about themselves: the case's subject staff number
is matched against the person's staff record, and that rule beats every other.
"""
from __future__ import annotations

from sqlalchemy import and_, exists, false, func, not_, or_, select

from app import clock
from app.extensions import db
from app.models import AccessLog, Case, CaseTeamMember, HumanTask, User

OVERSIGHT_ROLES = {"pipot": {"head_of_safeguarding"}, "lado": {"lado", "lado_manager"}}
ACCESS_LOG_ROLES = {"head_of_safeguarding", "lado_manager"}
EVERYONE = "staff"


def staff_number_key(staff_number: str | None) -> str:
    """Staff numbers compare without case or spaces ("RDASH 1234" is "rdash1234")."""
    return "".join((staff_number or "").split()).lower()


def is_about(user: User, case: Case) -> bool:
    """True when the case's subject is this person (by staff number)."""
    mine = staff_number_key(user.staff_number)
    return bool(mine) and staff_number_key(case.subject_staff_number) == mine


def about_user_clause(user: User):
    """SQL: the case (`Case`) is about this person (never NULL, so that its negation is safe too)."""
    mine = staff_number_key(user.staff_number)
    return about_clause(mine) if mine else false()


def about_clause(staff_number_key_):
    """SQL: the case's subject has this (normalised) staff number, a value or a bound parameter."""
    return and_(Case.subject_staff_number.is_not(None),
                func.replace(func.lower(func.trim(Case.subject_staff_number)), " ", "") == staff_number_key_)


def can_view_case(user: User, case: Case) -> bool:
    """The case team and the pathway's oversight roles, never the subject."""
    if is_about(user, case):
        return False
    if case.opened_by_id == user.id or OVERSIGHT_ROLES.get(case.pathway, set()) & user.role_keys:
        return True
    return db.session.scalar(select(or_(exists(_task_team(user).where(HumanTask.case_id == case.id)),
                                        exists(_added_team(user).where(CaseTeamMember.case_id == case.id)))))


def _task_team(user: User):
    # Everyone holds `staff`: an open task of that role does not put everyone on the team.
    team_roles = user.role_keys - {EVERYONE}
    return select(HumanTask.id).where(
        or_(HumanTask.assignee_id == user.id, HumanTask.completed_by_id == user.id,
            (HumanTask.status == "open") & HumanTask.role_key.in_(team_roles)))


def _added_team(user: User):
    return select(CaseTeamMember.id).where(CaseTeamMember.user_id == user.id)


def visible_cases_clause(user: User, pathway: str | None = None):
    """SQL: the case (`Case`) is one this person may open. Lists and searches filter by it.

    `pathway`: the caller reads only that pathway's cases; when the person oversees it, the team
    tests (a subquery per case) are not needed at all."""
    overseen = [key for key, roles in OVERSIGHT_ROLES.items() if roles & user.role_keys]
    if pathway is not None and pathway in overseen:
        return not_(about_user_clause(user))
    on_team = or_(
        *(Case.pathway == key for key in overseen),  # first: the cheap test decides most rows
        Case.opened_by_id == user.id,
        exists(_task_team(user).where(HumanTask.case_id == Case.id)),
        exists(_added_team(user).where(CaseTeamMember.case_id == Case.id)))
    return and_(on_team, not_(about_user_clause(user)))


def may_see_access_log(user: User, case: Case) -> bool:
    """The head of safeguarding and the LADO manager see who looked at a case."""
    return bool(ACCESS_LOG_ROLES & user.role_keys) and can_view_case(user, case)


def log_access(user: User, case: Case | None, action: str, detail: dict | None = None) -> None:
    """Write one line to the access log (who, what, when) and commit it."""
    db.session.add(AccessLog(user_id=user.id, case_id=case.id if case else None, action=action,
                             detail=detail or {}, at=clock.now()))
    db.session.commit()


def access_log(case: Case, limit: int = 200) -> list[tuple[AccessLog, str]]:
    """The latest views of a case, newest first, with who made them."""
    rows = db.session.execute(
        select(AccessLog, User.display_name).join(User, User.id == AccessLog.user_id, isouter=True)
        .where(AccessLog.case_id == case.id).order_by(AccessLog.at.desc(), AccessLog.id.desc())
        .limit(limit)).all()
    return [(row[0], row[1] or "Unknown") for row in rows]
