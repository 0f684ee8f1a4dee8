"""Roles, users and API tokens."""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from pathlib import Path

from argon2 import PasswordHasher
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from app import clock
from app.extensions import db
from app.models import OnCallShift, Role, User, user_role
from app.services.errors import NotFound

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


def create_user(username: str, display_name: str, role_keys: list[str], *, password: str | None = None,
                email: str | None = None, staff_number: str | None = None) -> User:
    """A new user holding the given roles."""
    roles = db.session.scalars(select(Role).where(Role.key.in_(role_keys))).all()
    missing = set(role_keys) - {r.key for r in roles}
    if missing:
        raise NotFound(f"Unknown role(s): {', '.join(sorted(missing))}")
    user = User(username=username, display_name=display_name, email=email, staff_number=staff_number,
                password_hash=_hasher.hash(password) if password else None, created_at=clock.now(),
                roles=list(roles))
    db.session.add(user)
    db.session.commit()
    return user


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


def user_for_token(token: str) -> User | None:
    if not token:
        return None
    user = db.session.scalar(select(User).where(User.api_token_hash == _token_hash(token)))
    return user if user is not None and user.is_active else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_exists(username: str) -> bool:
    return db.session.scalar(select(func.count()).where(func.lower(User.username) == username.lower())) > 0


def demo_users() -> list[tuple[str, str, list[str]]]:
    """One demo user per role, each also a member of staff (username = role key)."""
    roles = db.session.scalars(select(Role).order_by(Role.key)).all()
    return [(role.key.replace("_", "-"), f"Demo {role.name}", sorted({role.key, "staff"})) for role in roles]


def role_holders(role_key: str) -> list[User]:
    """The active people holding a role (their own roles are read only if asked for)."""
    return list(db.session.scalars(
        select(User).options(lazyload(User.roles)).join(user_role, user_role.c.user_id == User.id)
        .where(user_role.c.role_key == role_key, User.is_active.is_(True)).order_by(User.id)))


def on_call_roles_of(user_id: int) -> set[str]:
    """The roles the rota has this person on call for at this moment."""
    now = clock.now()
    return set(db.session.scalars(select(OnCallShift.role_key).where(
        OnCallShift.user_id == user_id, OnCallShift.starts_at <= now, OnCallShift.ends_at > now)))
