"""Administration of organisation units and of where people hold their roles: pages and a CSV import
(`username,role,unit`), all or nothing, like the rota. Every change is audited on the system stream,
and a change to where someone holds their roles ends their sessions."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import ROOT_UNIT, OrgUnit, Role, RoleHolding, User
from app.services.accounts.sessions import ROLES_CHANGED, end_sessions
from app.services.audit import record_event
from app.services.errors import NotFound, ValidationFailed
from app.services.people import holdings_of, set_role_holdings
from app.services.units import unit_tree

KINDS = {"root": "Whole installation", "trust": "NHS trust", "care_group": "Care group", "directorate": "Corporate directorate",
         "local_authority": "Local authority", "lado_service": "LADO service", "employer": "Employer",
         "police": "Police force", "social_care": "Children's social care", "unit": "Other unit"}
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
MAX_CSV_LINES = 5000


@dataclass
class UnitRow:
    key: str
    name: str
    kind: str
    depth: int
    people: int


def list_units() -> list[UnitRow]:
    """Every unit as a tree (each under its parent, by name), with how many people hold a role in it."""
    tree = unit_tree()
    people = dict(db.session.execute(select(RoleHolding.unit_id, func.count(func.distinct(RoleHolding.user_id)))
                                     .group_by(RoleHolding.unit_id)).all())
    children: dict[int | None, list] = {}
    for unit in tree.by_id.values():
        children.setdefault(unit.parent_id, []).append(unit)
    rows: list[UnitRow] = []

    def walk(parent_id, depth):
        for unit in sorted(children.get(parent_id, []), key=lambda u: u.name.lower()):
            rows.append(UnitRow(unit.key, unit.name, KINDS.get(unit.kind, unit.kind), depth, people.get(unit.id, 0)))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return rows


def add_unit(admin: User, key: str, name: str, kind: str, parent: str) -> OrgUnit:
    """A new unit under `parent` (a unit key); audited."""
    key, name, parent = (key or "").strip().lower(), (name or "").strip(), (parent or ROOT_UNIT).strip()
    tree, errors = unit_tree(), {}
    if not KEY_PATTERN.match(key) or key in tree.by_key:
        errors["key"] = "Enter a short key nobody else uses: lower-case letters, numbers and hyphens."
    if not name or len(name) > 200 or any(u.name.lower() == name.lower() for u in tree.by_id.values()):
        errors["name"] = "Enter a name, different from every other unit's."
    if kind not in KINDS or kind == "root":
        errors["kind"] = "Choose what kind of unit it is."
    if parent not in tree.by_key:
        errors["parent"] = "Choose the unit it belongs to."
    if errors:
        raise ValidationFailed(errors)
    unit = OrgUnit(key=key, name=name, kind=kind, parent_id=tree.by_key[parent].id, created_at=clock.now())
    db.session.add(unit)
    record_event("unit_added", actor=admin, data={"key": key, "name": name, "kind": kind, "parent": parent})
    db.session.commit()
    return unit


def add_holding(admin: User, user_id: int, role_key: str, unit: str) -> None:
    """The person holds `role_key` in `unit` as well; audited."""
    person = _person(user_id)
    if db.session.get(Role, role_key or "") is None:
        raise ValidationFailed({"role": "Choose a role."})
    if unit not in unit_tree().by_key:
        raise ValidationFailed({"unit": "Choose the unit the role is held in."})
    _set(admin, person, _held(person) | {(role_key, unit)})


def remove_holding(admin: User, user_id: int, role_key: str, unit: str) -> None:
    """The person no longer holds `role_key` in `unit`; audited. Everyone keeps `staff` somewhere."""
    person = _person(user_id)
    left = _held(person) - {(role_key, unit)}
    if not any(role == "staff" for role, _unit in left):
        raise ValidationFailed({"role": "Everyone holds the member of staff role somewhere."})
    if person.id == admin.id and not any(role == "system_administrator" for role, _unit in left):
        raise ValidationFailed({"role": "You cannot remove your own administrator role."})
    _set(admin, person, left)


def import_holdings(admin: User, text: str) -> int:
    """Add the role holdings of a CSV file (`username,role,unit`, a header line first), all or nothing:
    each wrong line is named and nothing changes. Returns how many holdings were added."""
    wanted, errors = _read_holdings_csv(text)
    if errors:
        raise ValidationFailed(errors, "The file was not imported: correct the lines listed and try again.")
    added = 0
    for person, pairs in wanted.items():
        before = _held(person)
        added += len(pairs - before)
        set_role_holdings(person, sorted(before | pairs))
        if pairs - before:
            end_sessions(person.id, ROLES_CHANGED, actor=admin)
    record_event("role_holdings_imported", actor=admin, data={"added": added, "people": len(wanted)})
    db.session.commit()
    return added


def _read_holdings_csv(text: str) -> tuple[dict[User, set[tuple[str, str]]], dict[str, str]]:
    rows = list(csv.reader(io.StringIO(text or "")))
    if not rows or [cell.strip().lower() for cell in rows[0]] != ["username", "role", "unit"]:
        return {}, {"file": "The first line must be the header: username,role,unit"}
    if len(rows) > MAX_CSV_LINES + 1:
        return {}, {"file": f"Import at most {MAX_CSV_LINES} lines at a time."}
    roles = {key: key for key in db.session.scalars(select(Role.key))} | {
        name.lower(): key for key, name in db.session.execute(select(Role.key, Role.name))}
    users = {u.username.lower(): u for u in db.session.scalars(select(User))}
    wanted, errors = {}, {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        username, role, unit = ([cell.strip() for cell in row] + ["", "", ""])[:3]
        problem = _holding_problem(users.get(username.lower()), roles.get(role.lower()), unit)
        if problem:
            errors[f"line-{number}"] = f"Line {number}: {problem}"
        else:
            wanted.setdefault(users[username.lower()], set()).add((roles[role.lower()], unit))
    return wanted, errors


def _holding_problem(user: User | None, role_key: str | None, unit: str) -> str:
    if user is None:
        return "no such username."
    if role_key is None:
        return "no such role."
    if unit not in unit_tree().by_key:
        return "no such unit (use the unit's key)."
    return ""


def _person(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        raise NotFound("No such user.")
    return person


def _held(person: User) -> set[tuple[str, str]]:
    tree = unit_tree()
    return {(role, tree.by_id[unit].key) for role, unit in holdings_of(person)}


def _set(admin: User, person: User, holdings: set[tuple[str, str]]) -> None:
    set_role_holdings(person, sorted(holdings))
    end_sessions(person.id, ROLES_CHANGED, actor=admin)  # what they may see is read again at sign-in
    record_event("role_holdings_changed", actor=admin, data={
        "username": person.username, "holdings": sorted(f"{role}@{unit}" for role, unit in holdings)})
    db.session.commit()
