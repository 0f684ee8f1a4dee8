"""Administration for the system administrator: users and their roles, teams, the on-call rota.

Roles are the BPMN lane names (the role table); a person may hold several. Every change is
audited on the system stream, and every search for people is written to the access log.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import delete, func, or_, select

from app import clock
from app.extensions import db
from app.models import ROOT_UNIT, OnCallShift, Role, Team, User
from app.services.access import log_access
from app.services.accounts.auth import locked_until
from app.services.accounts.sessions import ROLES_CHANGED, SWITCHED_OFF, end_sessions
from app.services.audit import record_event
from app.services.errors import NotFound, ValidationFailed
from app.services.notifications.rota import upcoming_gaps
from app.services.people import create_user, holdings_of, set_role_holdings, set_staff_number
from app.services.runtime import get_calendar
from app.services.units import note_organisation_changed, unit_tree, units_of_kind


@dataclass
class UserDetails:
    user: User
    teams: list[Team]
    locked_until: datetime | None


def search_users(admin: User, query: str = "") -> list[User]:
    """Users by name, username or staff number; the search is logged."""
    statement = select(User).order_by(User.display_name)
    query = (query or "").strip()[:100]
    if query:
        like = f"%{query.lower()}%"
        statement = statement.where(or_(func.lower(User.display_name).like(like), func.lower(User.username).like(like),
                                        func.lower(User.staff_number).like(like)))
        log_access(admin, None, "search_people", {"query": query})
    return db.session.scalars(statement.limit(200)).all()


def list_roles() -> list[Role]:
    """Every role, by name."""
    return db.session.scalars(select(Role).order_by(Role.name)).all()


def list_teams() -> list[Team]:
    """Every team, by name."""
    return db.session.scalars(select(Team).order_by(Team.name)).all()


def get_user_details(user_id: int) -> UserDetails:
    """A user with their teams and any lockout."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    teams = [t for t in list_teams() if user in t.members]
    return UserDetails(user, teams, locked_until(user.username.lower()))


def add_user(admin: User, username: str, display_name: str, password: str, staff_number: str,
             email: str, role_keys: list[str], unit: str = ROOT_UNIT) -> User:
    """Create a local account holding the chosen roles (always `staff`) in `unit`."""
    username = (username or "").strip().lower()
    errors = _user_errors(display_name, staff_number)
    if not username or db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
        errors["username"] = "Enter a username that nobody else has."
    if len(password or "") < 12:
        errors["password"] = "Enter a password of at least 12 characters."
    if unit not in unit_tree().by_key:
        errors["unit"] = "Choose the unit the roles are held in."
    if errors:
        raise ValidationFailed(errors)
    user = create_user(username, display_name.strip(), sorted({*role_keys, "staff"}), password=password,
                       email=(email or "").strip() or None, staff_number=(staff_number or "").strip() or None,
                       unit=unit)
    record_event("user_created", actor=admin, data={"username": username, "roles": sorted({*role_keys, "staff"})})
    db.session.commit()
    return user


def update_user(admin: User, user_id: int, display_name: str, staff_number: str, email: str,
                role_keys: list[str], team_ids: list[int], active: bool, unit: str = ROOT_UNIT) -> User:
    """Change a user's details, roles, teams and whether they may sign in; audited. A role newly
    ticked is held in `unit`; a role left ticked keeps the units it is held in; an unticked role goes."""
    user = get_user_details(user_id).user
    errors = _user_errors(display_name, staff_number)
    if user.id == admin.id and (not active or "system_administrator" not in role_keys):
        errors["roles"] = "You cannot remove your own administrator role or switch off your own account."
    if unit not in unit_tree().by_key:
        errors["unit"] = "Choose the unit the new roles are held in."
    if errors:
        raise ValidationFailed(errors)
    before, was_active = holdings_of(user), user.is_active
    user.display_name, user.is_active = display_name.strip(), active
    set_staff_number(user, staff_number)
    user.email = (email or "").strip() or None
    held = {(role, unit_tree().by_id[unit_id].key) for role, unit_id in holdings_of(user) if role in role_keys}
    new = {(role, unit) for role in {*role_keys, "staff"} if role not in {r for r, _u in held}}
    set_role_holdings(user, sorted(held | new))
    for team in list_teams():
        if (team.id in team_ids) != (user in team.members):
            (team.members.append if team.id in team_ids else team.members.remove)(user)
    record_event("user_updated", actor=admin, data={
        "username": user.username, "roles": sorted(user.role_keys), "teams": sorted(team_ids), "active": active,
        "holdings": _holding_labels(user)})
    _end_access_that_changed(admin, user, was_active, before)
    db.session.commit()
    return user


def _end_access_that_changed(admin: User, user: User, was_active: bool, before: set[tuple[str, int]]) -> None:
    """A switched-off account loses its sessions and its API token; a change of roles, or of where they
    are held, ends the sessions (what the person may see is read again at their next sign-in)."""
    if was_active and not user.is_active:
        user.api_token_hash = None
        end_sessions(user.id, SWITCHED_OFF, actor=admin)
    elif before != holdings_of(user):
        end_sessions(user.id, ROLES_CHANGED, actor=admin)


def _user_errors(display_name: str, staff_number: str) -> dict[str, str]:
    errors = {}
    if not (display_name or "").strip():
        errors["display_name"] = "Enter the person’s full name."
    if len((staff_number or "").strip()) > 64:
        errors["staff_number"] = "Staff number must be 64 characters or fewer."
    return errors


def add_team(admin: User, name: str, description: str) -> Team:
    """A new team."""
    name = (name or "").strip()
    if not name or db.session.scalar(select(Team.id).where(func.lower(Team.name) == name.lower())):
        raise ValidationFailed({"name": "Enter a team name that is not already used."})
    team = Team(name=name[:120], description=(description or "").strip())
    db.session.add(team)
    record_event("team_created", actor=admin, data={"name": team.name})
    db.session.commit()
    return team


def list_rota(include_past: bool = False) -> list[OnCallShift]:
    """Shifts on the on-call rota, soonest first (current and future unless asked for the past)."""
    statement = select(OnCallShift).order_by(OnCallShift.starts_at, OnCallShift.role_key)
    if not include_past:
        statement = statement.where(OnCallShift.ends_at > clock.now())
    return db.session.scalars(statement).all()


def add_shift(admin: User, role_key: str, user_id: int | None, starts: dict, ends: dict) -> OnCallShift:
    """Put someone on call for a role from one local date and time to another; audited."""
    errors = {}
    user = db.session.get(User, user_id) if user_id else None
    if user is None or role_key not in user.role_keys:
        errors["user_id"] = "Choose someone who holds the role."
    starts_at, ends_at = _moment(starts), _moment(ends)
    if starts_at is None:
        errors["starts"] = "Enter a real start date and a time such as 17:00."
    if ends_at is None:
        errors["ends"] = "Enter a real end date and a time such as 09:00."
    elif starts_at is not None and ends_at <= starts_at:
        errors["ends"] = "The end must be after the start."
    if errors:
        raise ValidationFailed(errors)
    shift = OnCallShift(role_key=role_key, user_id=user.id, starts_at=starts_at, ends_at=ends_at)
    db.session.add(shift)
    record_event("on_call_added", actor=admin, data={"role": role_key, "username": user.username,
                                                     "starts_at": starts_at, "ends_at": ends_at})
    db.session.commit()
    return shift


def _moment(parts: dict) -> datetime | None:
    try:
        day = date(int(parts.get("year", "")), int(parts.get("month", "")), int(parts.get("day", "")))
        at = time.fromisoformat((parts.get("time") or "").strip().zfill(5))
    except ValueError:
        return None
    return datetime.combine(day, at, tzinfo=get_calendar().zone).astimezone(clock.now().tzinfo)


def remove_shift(admin: User, shift_id: int) -> None:
    """Take a shift off the rota; audited."""
    shift = db.session.get(OnCallShift, shift_id)
    if shift is None:
        raise NotFound("No such shift.")
    record_event("on_call_removed", actor=admin, data={"role": shift.role_key, "username": shift.user.username,
                                                       "starts_at": shift.starts_at})
    db.session.execute(delete(OnCallShift).where(OnCallShift.id == shift_id))
    note_organisation_changed(db.session)  # a Core write: this transaction reads the rota again
    db.session.commit()


@dataclass
class UserPage:
    details: UserDetails
    roles: list[Role]
    teams: list[Team]
    holdings: list[tuple[str, str, str, str]]  # role key, role name, unit key, unit name
    units: list[tuple[str, str]]  # unit key, name (the root first)


def user_page(user_id: int) -> UserPage:
    """What the edit-user page shows: the user, where they hold each role, every role, unit and team."""
    details, roles, tree = get_user_details(user_id), list_roles(), unit_tree()
    names = {role.key: role.name for role in roles}
    held = sorted((names.get(role, role), tree.label(unit), role, tree.by_id[unit].key)
                  for role, unit in holdings_of(details.user))
    return UserPage(details, roles, list_teams(), [(r, rn, u, un) for rn, un, r, u in held], unit_choices())


def unit_choices() -> list[tuple[str, str]]:
    """(key, name) of every unit a role can be held in, the root ("All units") first."""
    tree = unit_tree()
    return [(tree.root.key, tree.root.name)] + [(unit.key, unit.name) for unit in units_of_kind()]


@dataclass
class RotaPage:
    shifts: list[OnCallShift]
    roles: list[Role]
    people: list[User]
    gaps: list = field(default_factory=list)


def rota_page() -> RotaPage:
    """The rota from now on, the roles and the active people who could go on it, and the gaps in
    the coming days when nobody is on call for an on-call role."""
    people = db.session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.display_name)).all()
    return RotaPage(list_rota(), [r for r in list_roles() if r.key != "staff"], people, upcoming_gaps())


def _holding_labels(user: User) -> list[str]:
    tree = unit_tree()
    return sorted(f"{role} in {tree.label(unit)}" for role, unit in holdings_of(user))
