"""Roles, users, where they hold their roles, and API tokens."""
from __future__ import annotations

import hashlib
import json
import secrets
import time
import unicodedata
from pathlib import Path

from argon2 import PasswordHasher
from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload, lazyload

from app import clock
from app.db import transaction_cache
from app.extensions import db
from app.models import ROOT_UNIT, OnCallShift, Role, RoleHolding, User
from app.services.errors import NotFound
from app.services.units import organisation, unit_by_key

_hasher = PasswordHasher()


def seed_roles() -> int:
    """Add the roles of `bpmn/roles.json` that the role table lacks; returns how many were added."""
    path = Path(current_app.config["BPMN_DIR"]) / "roles.json"
    existing = set(db.session.scalars(select(Role.key)))
    added = 0
    for entry in json.loads(path.read_text(encoding="utf-8")):
        if entry["key"] not in existing:
            db.session.add(Role(key=entry["key"], name=entry["name"], description=entry.get("description", "")))
            added += 1
    db.session.commit()
    forget_roles()
    return added


ROLE_LOOKUP_SECONDS = 60


def role_lookup(*, fresh: bool = False) -> dict[str, str]:
    """Lower-cased role names and keys -> role key (lanes may use either).

    Read on every workflow step, so kept for a minute per process; `fresh=True` reads the table
    (deploy validation does), and `forget_roles()` drops this process's copy after an edit.
    """
    cached = current_app.extensions.get("role_lookup")
    if not fresh and cached and cached[0] > time.monotonic():
        return cached[1]
    lookup = {}
    for role in db.session.scalars(select(Role)):
        lookup[role.key.lower()] = role.key
        lookup[role.name.lower()] = role.key
    current_app.extensions["role_lookup"] = (time.monotonic() + ROLE_LOOKUP_SECONDS, lookup)
    return lookup


def forget_roles() -> None:
    current_app.extensions.pop("role_lookup", None)


def staff_number_key(staff_number: str | None) -> str | None:
    """Staff numbers compare as this key: Unicode NFKC, no whitespace of any kind, case-folded
    ("RDASH 1234", "rdash\u00a01234" and "ＲＤＡＳＨ1234" are one person). Stored beside the number
    when it is written, so that SQL compares the same key."""
    key = "".join(unicodedata.normalize("NFKC", staff_number or "").split()).casefold()
    return key or None


def set_staff_number(user: User, staff_number: str | None) -> None:
    """Write a person's staff number with its key."""
    user.staff_number = (staff_number or "").strip()[:64] or None
    user.staff_number_key = staff_number_key(user.staff_number)


def create_user(username: str, display_name: str, role_keys: list[str], *, password: str | None = None,
                email: str | None = None, staff_number: str | None = None, unit: str = ROOT_UNIT) -> User:
    """A new user holding the given roles in `unit` (by default the root: for every unit)."""
    user = User(username=username, display_name=display_name, email=email,
                password_hash=_hasher.hash(password) if password else None, created_at=clock.now())
    set_staff_number(user, staff_number)
    set_role_holdings(user, [(key, unit) for key in role_keys])
    db.session.add(user)
    db.session.commit()
    return user


def set_role_holdings(user: User, holdings: list[tuple[str, str]]) -> None:
    """Replace where the person holds their roles: (role key, unit key) pairs. Their roles are the
    roles they hold anywhere. Does not commit."""
    roles = {role.key: role for role in db.session.scalars(
        select(Role).where(Role.key.in_({key for key, _unit in holdings})))}
    missing = {key for key, _unit in holdings} - roles.keys()
    if missing:
        raise NotFound(f"Unknown role(s): {', '.join(sorted(missing))}")
    wanted = {(key, unit_by_key(unit).id) for key, unit in holdings}
    user.holdings = [h for h in user.holdings if (h.role_key, h.unit_id) in wanted]
    kept = {(h.role_key, h.unit_id) for h in user.holdings}
    user.holdings += [RoleHolding(role_key=key, unit_id=unit_id) for key, unit_id in sorted(wanted - kept)]
    user.roles = sorted({roles[key] for key, _unit in wanted}, key=lambda role: role.key)


def holdings_of(user: User) -> set[tuple[str, int]]:
    """(role key, unit id) of every role the person holds, where they hold it."""
    return {(holding.role_key, holding.unit_id) for holding in user.holdings}


def active_user(username: str) -> User | None:
    """The active account with this username, if there is one."""
    user = db.session.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower()))
    return user if user is not None and user.is_active else None


def get_user(username: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise NotFound(f"No user called {username}.")
    return user


def issue_api_token(username: str) -> str:
    """A new API token for the user (shown once; only its hash is kept)."""
    user = get_user(username)
    token = secrets.token_urlsafe(32)
    user.api_token_hash = _token_hash(token)
    db.session.commit()
    return token


# A person with their roles and where they hold them, in one statement (every request needs all three)
WITH_ROLES = (joinedload(User.roles), joinedload(User.holdings))


def user_for_token(token: str) -> User | None:
    if not token:
        return None
    user = db.session.scalars(select(User).options(*WITH_ROLES)
                              .where(User.api_token_hash == _token_hash(token))).unique().one_or_none()
    return user if user is not None and user.is_active else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_exists(username: str) -> bool:
    return db.session.scalar(select(func.count()).where(func.lower(User.username) == username.lower())) > 0


def role_holders_once(role_key: str, unit_id: int | None = None) -> list[User]:
    """`role_holders`, read once per transaction for each role and unit: for telling people, where one
    transaction tells many about tasks of the same roles (not for changing who holds what)."""
    cache = transaction_cache(db.session).setdefault("role_holders", {})
    if (role_key, unit_id) not in cache:
        cache[(role_key, unit_id)] = role_holders(role_key, unit_id)
    return cache[(role_key, unit_id)]


_HOLDERS = (select(User).options(lazyload(User.roles), lazyload(User.holdings))
            .join(RoleHolding, RoleHolding.user_id == User.id)
            .where(RoleHolding.role_key == bindparam("role_key"), User.is_active.is_(True)))
_HOLDERS_ANYWHERE = _HOLDERS.distinct().order_by(User.id)
_HOLDERS_IN = _HOLDERS.where(RoleHolding.unit_id == bindparam("unit_id")).distinct().order_by(User.id)


def role_holders(role_key: str, unit_id: int | None = None) -> list[User]:
    """The active people holding a role: in `unit_id` exactly, or anywhere when it is None."""
    if unit_id is None:
        return list(db.session.scalars(_HOLDERS_ANYWHERE, {"role_key": role_key}))
    return list(db.session.scalars(_HOLDERS_IN, {"role_key": role_key, "unit_id": unit_id}))


def holding_unit(role_key: str, case_unit_id: int | None) -> int:
    """The unit whose holders of `role_key` get a case's task of that role: the nearest unit, from the
    case's own up to the root, where someone active holds it (the case's own unit when nobody does)."""
    return holding_unit_and_held(role_key, case_unit_id)[0]


_HOLDING, _USER = RoleHolding.__table__, User.__table__
_HELD_IN = (select(_HOLDING.c.unit_id).join(_USER, _USER.c.id == _HOLDING.c.user_id)
            .where(_HOLDING.c.role_key == bindparam("role_key"), _HOLDING.c.unit_id.in_(bindparam("chain", expanding=True)),
                   _USER.c.is_active.is_(True)))


def holding_unit_and_held(role_key: str, case_unit_id: int | None) -> tuple[int, bool]:
    """`holding_unit`, and whether anyone active holds the role there (False: nobody in the chain does).
    Read once for each role and unit while the organisation stays the same (`units.organisation`)."""
    known = organisation()
    cache = known.holding_units
    if (role_key, case_unit_id) not in cache:
        chain = known.tree.chain(case_unit_id)
        held = set(db.session.execute(_HELD_IN, {"role_key": role_key, "chain": chain}).scalars())
        unit_id = next((unit_id for unit_id in chain if unit_id in held), None)
        cache[(role_key, case_unit_id)] = (unit_id, True) if unit_id is not None else (chain[0], False)
    return cache[(role_key, case_unit_id)]


def on_call_roles_of(user_id: int) -> set[str]:
    """The roles the rota has this person on call for at this moment."""
    now = clock.now()
    return set(db.session.scalars(select(OnCallShift.role_key).where(
        OnCallShift.user_id == user_id, OnCallShift.starts_at <= now, OnCallShift.ends_at > now)))
