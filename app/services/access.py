"""Need to know: who may see a case (DOMAIN.md, data protection), and the access log.

A case is seen by its team, and nobody else:
- whoever one of its tasks was given to, or who completed one (raising the concern excepted);
- while a task is open and nobody has it, holders of its role in the unit it went to (the nearest
  unit, from the case's own up, where someone holds the role: app.services.people.holding_unit);
- people added to the team with a reason;
- holders of the pathway's oversight roles in a unit covering the case's unit.
Nobody sees a case about themselves (the subject, compared on the normalised staff-number key
stored when each is written), and that rule beats every other. The person who raised a concern
sees a receipt, never the case. Everything else is "not found".
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, false, not_, or_, select

from app import clock
from app.extensions import db
from app.models import AccessLog, Case, CaseTeamMember, HumanTask, Role, RoleHolding, User
from app.services.people import holdings_of
from app.services.units import unit_tree

OVERSIGHT_ROLES = {"pipot": {"head_of_safeguarding"}, "lado": {"lado", "lado_manager"}}
ACCESS_LOG_ROLES = {"head_of_safeguarding", "lado_manager"}
EVERYONE = "staff"


def is_about(user: User, case: Case) -> bool:
    """True when the case's subject is this person (by staff-number key)."""
    return bool(user.staff_number_key) and case.subject_staff_number_key == user.staff_number_key


def about_user_clause(user: User):
    """SQL: the case (`Case`) is about this person (never NULL, so that its negation is safe too)."""
    return about_clause(user.staff_number_key) if user.staff_number_key else false()


def about_clause(key):
    """SQL: the case's subject has this staff-number key (a value or a bound parameter)."""
    return and_(Case.subject_staff_number_key.is_not(None), Case.subject_staff_number_key == key)


def oversight_units(user: User, pathway: str) -> set[int]:
    """The units in which this person holds an oversight role of the pathway."""
    roles = OVERSIGHT_ROLES.get(pathway, set())
    return {unit for role, unit in holdings_of(user) if role in roles}


def oversees(user: User, case: Case) -> bool:
    """The person holds an oversight role of the case's pathway in a unit covering the case."""
    tree = unit_tree()
    return any(tree.covers(unit, case.unit_id) for unit in oversight_units(user, case.pathway))


def can_view_case(user: User, case: Case) -> bool:
    """The case team and the pathway's oversight roles for the case's unit, never the subject."""
    if is_about(user, case):
        return False
    if oversees(user, case):
        return True
    return db.session.scalar(select(or_(exists(_task_team(user).where(HumanTask.case_id == case.id)),
                                        exists(_added_team(user).where(CaseTeamMember.case_id == case.id)))))


def may_act_on_task(user: User, task: HumanTask) -> bool:
    """The task's assignee or completer, or (while it is open and nobody has it) a holder of its role
    in the unit it went to. A task of the role everyone holds (raising a concern) is nobody's key to
    the case, not even its raiser's: they keep a receipt."""
    if task.role_key == EVERYONE:
        return False
    if task.assignee_id == user.id or task.completed_by_id == user.id:
        return True
    return (task.status == "open" and task.assignee_id is None
            and (task.role_key, task.unit_id) in holdings_of(user))


def _task_team(user: User):
    held = [and_(HumanTask.role_key == role, HumanTask.unit_id == unit)
            for role, unit in sorted(holdings_of(user)) if role != EVERYONE]
    return select(HumanTask.id).where(HumanTask.role_key.is_distinct_from(EVERYONE), or_(
        HumanTask.assignee_id == user.id, HumanTask.completed_by_id == user.id,
        and_(HumanTask.status == "open", HumanTask.assignee_id.is_(None), or_(*held) if held else false())))


def _added_team(user: User):
    return select(CaseTeamMember.id).where(CaseTeamMember.user_id == user.id)


def overseen_clause(user: User, pathway: str):
    """SQL: a case of `pathway` in a unit this person oversees (a case with no unit is the root's)."""
    tree = unit_tree()
    held = oversight_units(user, pathway)
    if not held:
        return false()
    units = tree.below(held)
    in_units = Case.unit_id.in_(sorted(units))
    return and_(Case.pathway == pathway, or_(in_units, Case.unit_id.is_(None)) if tree.root.id in held else in_units)


def visible_cases_clause(user: User, pathway: str | None = None):
    """SQL: the case (`Case`) is one this person may open. Lists and searches filter by it.

    `pathway`: the caller reads only that pathway's cases; where the person oversees the pathway in
    every unit (the root), the team tests (a subquery per case) are not needed at all."""
    pathways = [pathway] if pathway is not None else list(OVERSIGHT_ROLES)
    if pathway is not None and unit_tree().root.id in oversight_units(user, pathway):
        return not_(about_user_clause(user))
    on_team = or_(
        *(overseen_clause(user, key) for key in pathways),  # first: the cheap test decides most rows
        exists(_task_team(user).where(HumanTask.case_id == Case.id)),
        exists(_added_team(user).where(CaseTeamMember.case_id == Case.id)))
    return and_(on_team, not_(about_user_clause(user)))


def may_see_access_log(user: User, case: Case) -> bool:
    """The head of safeguarding and the LADO manager of the case's unit see who looked at a case."""
    tree = unit_tree()
    held = {unit for role, unit in holdings_of(user) if role in ACCESS_LOG_ROLES}
    return any(tree.covers(unit, case.unit_id) for unit in held) and can_view_case(user, case)


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


@dataclass(frozen=True)
class Viewer:
    """Someone who can see a case now, and the rule that lets them."""

    user_id: int
    name: str
    rule: str


def who_can_see(case: Case) -> list[Viewer]:
    """Everyone who can see the case now, each with every rule that lets them (the access review).
    The same rules as `can_view_case`: a test holds the two together."""
    rules: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    for user, rule in [*_overseers(case), *_task_people(case), *_added_people(case)]:
        if user.is_active and not is_about(user, case):
            rules.setdefault(user.id, []).append(rule)
            names[user.id] = user.display_name
    return sorted((Viewer(uid, names[uid], "; ".join(dict.fromkeys(found))) for uid, found in rules.items()),
                  key=lambda viewer: viewer.name.lower())


def _overseers(case: Case):
    tree, roles = unit_tree(), OVERSIGHT_ROLES.get(case.pathway, set())
    rows = db.session.execute(select(User, RoleHolding.role_key, RoleHolding.unit_id)
                              .join(RoleHolding, RoleHolding.user_id == User.id)
                              .where(RoleHolding.role_key.in_(roles), RoleHolding.unit_id.in_(tree.chain(case.unit_id))))
    for user, role, unit in rows:
        yield user, f"oversees {case.pathway.upper()} cases as {_role_name(role)} for {tree.label(unit)}"


def _task_people(case: Case):
    tree = unit_tree()
    for task in db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id,
                                                           HumanTask.role_key.is_distinct_from(EVERYONE))):
        if task.assignee_id:
            yield db.session.get(User, task.assignee_id), f"was given “{task.title}”"
        if task.completed_by_id:
            yield db.session.get(User, task.completed_by_id), f"completed “{task.title}”"
        if task.status == "open" and task.assignee_id is None:
            holders = db.session.scalars(select(User).join(RoleHolding, RoleHolding.user_id == User.id).where(
                RoleHolding.role_key == task.role_key, RoleHolding.unit_id == task.unit_id))
            for user in holders:
                yield user, (f"holds {_role_name(task.role_key)} in {tree.label(task.unit_id)} "
                             f"while “{task.title}” waits for someone")


def _added_people(case: Case):
    for member, by in db.session.execute(
            select(CaseTeamMember, User.display_name).join(User, User.id == CaseTeamMember.added_by_id, isouter=True)
            .where(CaseTeamMember.case_id == case.id)):
        yield db.session.get(User, member.user_id), f"added to the team by {by or 'someone'}: {member.reason}"


def _role_name(role_key: str) -> str:
    role = db.session.get(Role, role_key)
    return role.name if role is not None else role_key
