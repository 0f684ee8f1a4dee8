"""Signing in and out: argon2 passwords, lockout after repeated failures, an audit event for each.

Attempts are counted per username (a lockout) and per network address (a rate limit) before the
password is checked (`attempts`); a sign-in starts a session the server keeps (`sessions`).
"""
from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import ROOT_UNIT, Role, SignInAttempt, User
from app.services.accounts import attempts, sessions
from app.services.audit import record_event
from app.services.errors import ServiceError
from app.services.people import WITH_ROLES, holdings_of, set_role_holdings, set_staff_number
from app.services.units import unit_tree

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password")


class SignInRefused(ServiceError):
    """Wrong details, a locked account or too many attempts; the message is safe to show, and so is
    `username` (the one tried, as it was looked up)."""

    def __init__(self, message: str, username: str = ""):
        super().__init__(message)
        self.username = username


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, and the session the server started for them."""
    user: User
    session: sessions.NewSession


def sign_in(username: str, password: str, address: str) -> SignedIn:
    """The user whose password this is, signed in, or SignInRefused. Every outcome is recorded and audited.

    The attempt is counted before the password is checked, and that count is committed first, so
    that attempts arriving together see each other: at most the limit of them are checked.
    """
    username, address = _plain_username(username), (address or "")[:64]
    place = _count_or_refuse(username, address)
    user = _check_password(username, password)
    if user is None:
        _refuse_wrong_password(username, address, locks=place == attempts.limits()[attempts.USERNAME])
    attempts.clear(attempts.USERNAME, username)
    attempts.take_back(attempts.ADDRESS, address)
    _record(username, address, "success", "signed_in", user)
    return _signed_in(user)


def _plain_username(username: str | None) -> str:
    """The username as accounts are named: printable characters only (no NUL, which PostgreSQL
    refuses, nor other control characters), trimmed, lower case, at most 120 characters."""
    return "".join(ch for ch in username or "" if ch.isprintable()).strip().lower()[:120]


def _count_or_refuse(username: str, address: str) -> int:
    """Count the attempt against the address and the username; refuse it past either's limit.
    Returns the attempt's place in the username's window."""
    limits = attempts.limits()
    if attempts.count_attempt(attempts.ADDRESS, address) > limits[attempts.ADDRESS]:
        _refuse(username, address, "sign_in_rate_limited",
                "There have been too many attempts to sign in from this device. Try again later.")
    place = attempts.count_attempt(attempts.USERNAME, username)
    if place > limits[attempts.USERNAME]:
        attempts.take_back(attempts.ADDRESS, address)  # not checked, so not a failure from the address
        _refuse(username, address, "sign_in_locked_out", _locked_message())
    db.session.commit()  # the counts are seen by every other attempt before this one's slow check
    return place


def _refuse(username: str, address: str, event: str, message: str) -> None:
    _record(username, address, "refused", event, commit=True)
    raise SignInRefused(message, username)


def _refuse_wrong_password(username: str, address: str, *, locks: bool) -> None:
    """A wrong password; the one that takes the last attempt the window allows locks the account."""
    _record(username, address, "failure", "sign_in_failed")
    if locks:
        record_event("account_locked", actor_label=username, data={"username": username})
    db.session.commit()
    raise SignInRefused(_locked_message() if locks else "Enter a correct username and password.", username)


def _signed_in(user: User) -> SignedIn:
    """Start the session (the sign-in's own record is already in this transaction) and commit both."""
    started = sessions.start_session(user)
    db.session.commit()
    return SignedIn(user, started)


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


def _record(username: str, address: str, outcome: str, event: str, user: User | None = None, *,
            commit: bool = False) -> None:
    db.session.add(SignInAttempt(username=username, address=address, outcome=outcome, at=clock.now()))
    record_event(event, actor=user, actor_label=None if user else (username or "unknown"),
                 data={"username": username, "address": address})
    if commit:
        db.session.commit()


def locked_until(username: str):
    """When a lockout on this username ends, or None if it is not locked."""
    return attempts.locked_until(username.lower())


def _locked_message() -> str:
    minutes = current_app.config["SIGNIN_LOCKOUT_MINUTES"]
    return (f"This account is locked after too many attempts to sign in. Try again in {minutes} minutes, "
            "or ask your system administrator to unlock it.")


def unlock_account(username: str, actor: User) -> None:
    """Lift a lockout (system administrator); audited."""
    username = username.lower()
    attempts.clear(attempts.USERNAME, username)
    db.session.add(SignInAttempt(username=username, address="", outcome="unlocked", at=clock.now()))
    record_event("account_unlocked", actor=actor, data={"username": username})
    db.session.commit()


def sign_out(user: User) -> None:
    """The person signs out: every session of theirs ends on the server, in every browser; audited."""
    sessions.end_sessions(user.id, sessions.SIGNED_OUT)
    _signed_out(user, sessions.SIGNED_OUT)


def end_lapsed_session(user: User | None, session_id: int, reason: str) -> None:
    """A session that lapsed (idle, past its working day, or its account gone) ends; the person's
    other sessions go on."""
    sessions.end_session(session_id, reason)
    if user is None:
        db.session.commit()
    else:
        _signed_out(user, reason)


def _signed_out(user: User, reason: str) -> None:
    record_event("signed_out", actor=user, data={"username": user.username, "reason": reason})
    db.session.commit()


def tidy_sign_ins() -> tuple[int, int]:
    """Forget old sessions and closed sign-in windows (a periodic job); how many of each."""
    tidied = sessions.forget_old_sessions(), attempts.forget_closed_windows()
    db.session.commit()
    return tidied


def load_user(user_id: int) -> User | None:
    """The signed-in person for a session, if still active."""
    user = db.session.get(User, user_id, options=WITH_ROLES)
    return user if user is not None and user.is_active else None


def sign_in_with_claims(claims: dict, address: str) -> SignedIn:
    """Sign in someone an OpenID Connect provider vouched for; their groups set their roles.

    The account is created on first sign-in. Roles follow the provider at every sign-in:
    `OIDC_ROLE_MAP` maps group names to role keys (`group=role_key;...`, or `group=role_key@unit_key`
    for a role held in one unit); a group named after a role key or role name maps to that role, held
    in every unit. Everyone holds `staff`. A change of roles, or of where they are held, ends the
    person's other sessions.
    """
    settings = current_app.config
    username = _plain_username(str(claims.get(settings["OIDC_USERNAME_CLAIM"]) or claims.get("sub") or ""))
    if not username:
        raise SignInRefused("Your organisation account did not say who you are.")
    address = (address or "")[:64]
    user = db.session.scalar(select(User).where(func.lower(User.username) == username))
    if user is not None and not user.is_active:
        _record(username, address, "failure", "sign_in_failed", commit=True)
        raise SignInRefused("Your account has been switched off. Ask your system administrator.")
    if user is None:
        user = User(username=username, display_name=username, created_at=clock.now())
        db.session.add(user)
    _take_claims(user, claims)
    _record(username, address, "success", "signed_in", user)
    return _signed_in(user)


def _take_claims(user: User, claims: dict) -> None:
    settings = current_app.config
    user.display_name = str(claims.get("name") or user.display_name)[:200]
    user.email = claims.get("email") or user.email
    if settings["OIDC_STAFF_NUMBER_CLAIM"] and claims.get(settings["OIDC_STAFF_NUMBER_CLAIM"]):
        set_staff_number(user, str(claims[settings["OIDC_STAFF_NUMBER_CLAIM"]]))
    held = holdings_of(user) if user.id is not None else None
    set_role_holdings(user, holdings_for_groups(claims.get(settings["OIDC_GROUPS_CLAIM"]) or []))
    db.session.flush()
    if held is not None and held != holdings_of(user):
        sessions.end_sessions(user.id, sessions.ROLES_CHANGED)


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
