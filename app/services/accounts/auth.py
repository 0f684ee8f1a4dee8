"""Signing in and out: argon2 passwords, lockout after repeated failures, an audit event for each.

Attempts are counted per username (a lockout) and per network address (a rate limit), in the
database so that every web process sees the same counts.
"""
from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import ROOT_UNIT, Role, SignInAttempt, User
from app.services.audit import record_event
from app.services.errors import ServiceError
from app.services.people import set_role_holdings, set_staff_number
from app.services.units import unit_tree

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password")


class SignInRefused(ServiceError):
    """Wrong details, a locked account or too many attempts; the message is safe to show."""


def sign_in(username: str, password: str, address: str) -> User:
    """The user whose password this is, or SignInRefused. Every outcome is recorded and audited."""
    username = (username or "").strip().lower()[:120]
    if _too_many_from(address):
        _record(username, address, "refused", "sign_in_rate_limited")
        raise SignInRefused("There have been too many attempts to sign in from this device. Try again later.")
    if locked_until(username) is not None:
        _record(username, address, "refused", "sign_in_locked_out")
        raise SignInRefused(_locked_message())
    user = _check_password(username, password)
    if user is None:
        _record(username, address, "failure", "sign_in_failed")
        if locked_until(username) is not None:
            record_event("account_locked", actor_label=username, data={"username": username})
            db.session.commit()
            raise SignInRefused(_locked_message())
        raise SignInRefused("Enter a correct username and password.")
    _record(username, address, "success", "signed_in", user)
    return user


def _check_password(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(func.lower(User.username) == username))
    stored = user.password_hash if user is not None and user.is_active and user.password_hash else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password or "")  # same work whether or not the user exists
    except (VerificationError, InvalidHashError):
        return None
    if stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return user


def _record(username: str, address: str, outcome: str, event: str, user: User | None = None) -> None:
    db.session.add(SignInAttempt(username=username, address=(address or "")[:64], outcome=outcome,
                                 at=clock.now()))
    record_event(event, actor=user, actor_label=None if user else (username or "unknown"),
                 data={"username": username, "address": address or ""})
    db.session.commit()


def locked_until(username: str):
    """When a lockout on this username ends, or None if it is not locked."""
    settings = current_app.config
    window = timedelta(minutes=settings["SIGNIN_LOCKOUT_MINUTES"])
    since = clock.now() - window
    last_clear = db.session.scalar(
        select(func.max(SignInAttempt.at)).where(SignInAttempt.username == username,
                                                 SignInAttempt.outcome.in_(("success", "unlocked"))))
    failures = db.session.scalars(
        select(SignInAttempt.at).where(SignInAttempt.username == username, SignInAttempt.outcome == "failure",
                                       SignInAttempt.at > max(since, last_clear or since))
        .order_by(SignInAttempt.at.desc())).all()
    if len(failures) < settings["SIGNIN_MAX_FAILURES"]:
        return None
    return failures[0] + window


def _too_many_from(address: str) -> bool:
    since = clock.now() - timedelta(minutes=current_app.config["SIGNIN_LOCKOUT_MINUTES"])
    count = db.session.scalar(select(func.count()).where(
        SignInAttempt.address == (address or "")[:64], SignInAttempt.outcome == "failure", SignInAttempt.at > since))
    return count >= current_app.config["SIGNIN_MAX_FAILURES_PER_ADDRESS"]


def _locked_message() -> str:
    minutes = current_app.config["SIGNIN_LOCKOUT_MINUTES"]
    return (f"This account is locked after too many attempts to sign in. Try again in {minutes} minutes, "
            "or ask your system administrator to unlock it.")


def unlock_account(username: str, actor: User) -> None:
    """Lift a lockout (system administrator); audited."""
    db.session.add(SignInAttempt(username=username.lower(), address="", outcome="unlocked", at=clock.now()))
    record_event("account_unlocked", actor=actor, data={"username": username.lower()})
    db.session.commit()


def sign_out(user: User, reason: str = "signed out") -> None:
    """Record that the person signed out (or was signed out after being idle)."""
    record_event("signed_out", actor=user, data={"username": user.username, "reason": reason})
    db.session.commit()


def load_user(user_id: str) -> User | None:
    """The signed-in person for a session, if still active."""
    user = db.session.get(User, int(user_id)) if str(user_id).isdigit() else None
    return user if user is not None and user.is_active else None


def sign_in_with_claims(claims: dict, address: str) -> User:
    """Sign in someone an OpenID Connect provider vouched for; their groups set their roles.

    The account is created on first sign-in. Roles follow the provider at every sign-in:
    `OIDC_ROLE_MAP` maps group names to role keys (`group=role_key;...`, or `group=role_key@unit_key`
    for a role held in one unit); a group named after a role key or role name maps to that role, held
    in every unit. Everyone holds `staff`.
    """
    settings = current_app.config
    username = str(claims.get(settings["OIDC_USERNAME_CLAIM"]) or claims.get("sub") or "").strip().lower()
    if not username:
        raise SignInRefused("Your organisation account did not say who you are.")
    user = db.session.scalar(select(User).where(func.lower(User.username) == username))
    if user is not None and not user.is_active:
        _record(username, address, "failure", "sign_in_failed")
        raise SignInRefused("Your account has been switched off. Ask your system administrator.")
    if user is None:
        user = User(username=username, display_name=username, created_at=clock.now())
        db.session.add(user)
    user.display_name = str(claims.get("name") or user.display_name)[:200]
    user.email = claims.get("email") or user.email
    if settings["OIDC_STAFF_NUMBER_CLAIM"] and claims.get(settings["OIDC_STAFF_NUMBER_CLAIM"]):
        set_staff_number(user, str(claims[settings["OIDC_STAFF_NUMBER_CLAIM"]]))
    set_role_holdings(user, holdings_for_groups(claims.get(settings["OIDC_GROUPS_CLAIM"]) or []))
    db.session.flush()
    _record(username, address, "success", "signed_in", user)
    return user


def holdings_for_groups(groups) -> list[tuple[str, str]]:
    """The (role key, unit key) pairs an identity provider's groups give (always `staff`). A mapped
    role may name its unit (`group=role_key@unit_key`); otherwise it is held in every unit."""
    if isinstance(groups, str):
        groups = [groups]
    mapping = _role_map(current_app.config["OIDC_ROLE_MAP"])
    roles = db.session.scalars(select(Role)).all()
    by_name = {r.key.lower(): r.key for r in roles} | {r.name.lower(): r.key for r in roles}
    wanted = {("staff", ROOT_UNIT)}
    for group in groups:
        target = mapping.get(str(group).lower()) or by_name.get(str(group).lower())
        if target:
            key, _at, unit = target.partition("@")
            key, unit = by_name.get(key.strip().lower()), unit.strip() or ROOT_UNIT
            if key and unit in unit_tree().by_key:  # a map naming what does not exist gives nothing
                wanted.add((key, unit))
    return sorted(wanted)


def _role_map(text: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in text.replace(",", ";").split(";") if "=" in item)
    return {group.strip().lower(): role.strip() for group, role in pairs}
