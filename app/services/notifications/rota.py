"""The on-call rota: who is on call now, where the rota has gaps, and importing it from CSV.

On-call roles (`ON_CALL_ROLES`: the on-call manager, the director on call, the out-of-hours team)
must always have someone on call; a time when nobody is on call for one of them is a gap.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, select

from app import clock
from app.db import held, transaction_cache
from app.extensions import db
from app.models import OnCallShift, Role, User
from app.services import units
from app.services.audit import record_event
from app.services.errors import ValidationFailed
from app.services.notifications.outbox import queue_notification
from app.services.people import role_holders
from app.services.runtime import get_calendar

CSV_COLUMNS = ("role", "username", "starts", "ends")
MAX_IMPORT_LINES = 5000


@dataclass(frozen=True)
class RotaGap:
    role_key: str
    role_name: str
    starts_at: datetime
    ends_at: datetime


def on_call_roles() -> list[str]:
    """The role keys that must always have someone on call (setting ON_CALL_ROLES)."""
    return [key.strip() for key in current_app.config["ON_CALL_ROLES"].split(",") if key.strip()]


def is_on_call_role(role_key: str | None) -> bool:
    """Whether the role must always have someone on call."""
    return bool(role_key) and role_key in on_call_roles()


def on_call_people(role_key: str, at: datetime | None = None) -> list[User]:
    """Everyone the rota has on call for a role at a moment, the most recent shift first. Now: from
    the shifts this process read of every on-call role at once (a step's tasks are often of several),
    read again only when the rota or the organisation changed (the organisation's version token,
    units.organisation) or a day after they were read; the answer is kept for the transaction, which
    routes several tasks of a step (or a sweep's cases) on the same rota."""
    if at is not None:
        return _on_call([role_key], at)[role_key]
    organisation, cache = units.organisation(), transaction_cache(db.session)
    if cache.get(_ON_CALL_NOW, (None,))[0] is not organisation:  # the organisation changed in the transaction
        cache[_ON_CALL_NOW] = (organisation, {})
    known = cache[_ON_CALL_NOW][1]
    if role_key not in known:
        now = clock.now()
        shifts = _shifts(organisation.rota, sorted({role_key, *on_call_roles()} - known.keys()), now)
        users = _users({user_id for role_shifts in shifts.values() for user_id in role_shifts})
        known.update({key: [users[user_id] for user_id in role_shifts] for key, role_shifts in shifts.items()})
    return list(known[role_key])


_ON_CALL_NOW = "on_call_now"  # the transaction cache's entry: (the organisation, role key -> people on call)
KEPT_FOR = timedelta(days=1)  # how far ahead the shifts read reach, and so how long they are kept
_ON_CALL = (select(OnCallShift.role_key, User).join(OnCallShift, OnCallShift.user_id == User.id)
            .where(OnCallShift.role_key.in_(bindparam("roles", expanding=True)), OnCallShift.starts_at <= bindparam("at"),
                   OnCallShift.ends_at > bindparam("at"), User.is_active.is_(True))
            .order_by(OnCallShift.starts_at.desc(), OnCallShift.id))
_SHIFTS_AHEAD = (select(OnCallShift.role_key, OnCallShift.user_id, OnCallShift.starts_at, OnCallShift.ends_at)
                 .join(User, User.id == OnCallShift.user_id)
                 .where(OnCallShift.role_key.in_(bindparam("roles", expanding=True)),
                        OnCallShift.ends_at > bindparam("read_at"), OnCallShift.starts_at < bindparam("until"),
                        User.is_active.is_(True))
                 .order_by(OnCallShift.starts_at.desc(), OnCallShift.id))


def _shifts(rota: dict, role_keys: list[str], now: datetime) -> dict[str, list[int]]:
    """For each role, the ids of the people on call `now`, from `rota` (role key -> (read at, kept
    until, its shifts of active people that had not ended then and began before `kept until`, the most
    recent first)); the roles it lacks, or holds for another time, are read first, in one statement."""
    stale = [key for key in role_keys if key not in rota or not rota[key][0] <= now < rota[key][1]]
    if stale:
        read = {key: [] for key in stale}
        for role_key, *shift in db.session.execute(_SHIFTS_AHEAD, {"roles": stale, "read_at": now,
                                                                    "until": now + KEPT_FOR}):
            read[role_key].append(tuple(shift))
        rota.update({key: (now, now + KEPT_FOR, tuple(shifts)) for key, shifts in read.items()})
    return {key: [user_id for user_id, starts_at, ends_at in rota[key][2] if starts_at <= now < ends_at]
            for key in role_keys}


def _users(user_ids: set[int]) -> dict[int, User]:
    """The people of these ids: those the session holds, and the others in one statement."""
    found = {user_id: held(db.session, User, user_id) for user_id in user_ids}
    missing = [user_id for user_id, user in found.items() if user is None]
    if missing:
        found.update({user.id: user for user in db.session.scalars(select(User).where(User.id.in_(missing)))})
    return found


def _on_call(role_keys: list[str], at: datetime) -> dict[str, list[User]]:
    """Who is on call at `at` for each of `role_keys` (an empty list for a role nobody is on call for)."""
    found: dict[str, list[User]] = {key: [] for key in role_keys}
    for role_key, user in db.session.execute(_ON_CALL, {"roles": role_keys, "at": at}):
        found[role_key].append(user)
    return found


def find_gaps(start: datetime, end: datetime, role_keys: list[str] | None = None) -> list[RotaGap]:
    """Every stretch between `start` and `end` when nobody is on call for an on-call role."""
    names = dict(db.session.execute(select(Role.key, Role.name)).all())
    gaps = []
    for role_key in role_keys if role_keys is not None else on_call_roles():
        if role_key in names:
            gaps.extend(RotaGap(role_key, names[role_key], a, b) for a, b in _uncovered(role_key, start, end))
    return sorted(gaps, key=lambda gap: (gap.starts_at, gap.role_name))


def _uncovered(role_key: str, start: datetime, end: datetime):
    shifts = db.session.execute(
        select(OnCallShift.starts_at, OnCallShift.ends_at).join(User, User.id == OnCallShift.user_id)
        .where(OnCallShift.role_key == role_key, OnCallShift.ends_at > start, OnCallShift.starts_at < end,
               User.is_active.is_(True))
        .order_by(OnCallShift.starts_at)).all()
    covered_to = start
    for starts_at, ends_at in shifts:
        if starts_at > covered_to:
            yield covered_to, starts_at
        covered_to = max(covered_to, ends_at)
    if covered_to < end:
        yield covered_to, end


def upcoming_gaps(days: int | None = None) -> list[RotaGap]:
    """Gaps from now over the next ROTA_CHECK_DAYS days (what the rota page warns about)."""
    now = clock.now()
    return find_gaps(now, now + timedelta(days=days or current_app.config["ROTA_CHECK_DAYS"]))


@dataclass
class ParsedShift:
    """One line of an imported rota, checked."""

    line: int
    role_key: str
    user: User
    starts_at: datetime
    ends_at: datetime


def import_rota(admin: User, text: str) -> int:
    """Add every shift of a CSV rota (role, username, starts, ends; local times) or none of them.

    Raises ValidationFailed naming each line that is wrong (`line-<n>` keys); nothing is saved then.
    """
    shifts, errors = _parse_csv(text)
    if errors:
        raise ValidationFailed(errors, "The rota was not imported: correct the lines listed and try again.")
    for shift in shifts:
        db.session.add(OnCallShift(role_key=shift.role_key, user_id=shift.user.id, starts_at=shift.starts_at,
                                   ends_at=shift.ends_at))
    record_event("on_call_imported", actor=admin, data={"shifts": len(shifts), "roles": sorted({s.role_key for s in shifts})})
    db.session.commit()
    return len(shifts)


def _parse_csv(text: str) -> tuple[list[ParsedShift], dict[str, str]]:
    rows = list(csv.reader(io.StringIO((text or "").lstrip("\ufeff"))))
    if not rows or [c.strip().lower() for c in rows[0]] != list(CSV_COLUMNS):
        return [], {"file": "The first line must be the headings: role,username,starts,ends"}
    body = [(n, row) for n, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]
    if not body:
        return [], {"file": "The file has no shifts in it."}
    if len(body) > MAX_IMPORT_LINES:
        return [], {"file": f"Import at most {MAX_IMPORT_LINES} shifts at a time."}
    lookup = _RotaLookup()
    shifts, errors = [], {}
    for number, row in body:
        parsed = _parse_row(number, row, lookup)
        if isinstance(parsed, str):
            errors[f"line-{number}"] = f"Line {number}: {parsed}"
        else:
            shifts.append(parsed)
    return shifts, errors


class _RotaLookup:
    """Roles by key or name and users by username, read once per import."""

    def __init__(self):
        self.roles = {}
        for key, name in db.session.execute(select(Role.key, Role.name)).all():
            self.roles[key.lower()] = self.roles[name.lower()] = key
        self.users: dict[str, User | None] = {}

    def user(self, username: str) -> User | None:
        if username not in self.users:
            self.users[username] = db.session.scalar(select(User).where(func.lower(User.username) == username))
        return self.users[username]


def _parse_row(number: int, row: list[str], lookup: _RotaLookup) -> ParsedShift | str:
    if len(row) != len(CSV_COLUMNS):
        return f"expected 4 values (role, username, starts, ends), found {len(row)}."
    role_text, username, starts_text, ends_text = (cell.strip() for cell in row)
    role_key = lookup.roles.get(role_text.lower())
    if role_key is None or role_key == "staff":
        return f"“{role_text}” is not a role."
    user = lookup.user(username.lower())
    if user is None or not user.is_active:
        return f"there is no active user called “{username}”."
    if role_key not in user.role_keys:
        return f"{user.display_name} does not hold the role {role_text}."
    starts_at, ends_at = _moment(starts_text), _moment(ends_text)
    if starts_at is None or ends_at is None:
        return "write the start and end as YYYY-MM-DD HH:MM (for example 2026-11-27 17:00)."
    if ends_at <= starts_at:
        return "the shift must end after it starts."
    return ParsedShift(number, role_key, user, starts_at, ends_at)


def _moment(text: str) -> datetime | None:
    """A local date and time (`2026-11-27 17:00`, or ISO 8601 with an offset) as UTC."""
    try:
        value = datetime.fromisoformat(text.replace("T", " ").strip())
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=get_calendar().zone)
    return value.astimezone(clock.now().tzinfo)


def check_rota() -> list[RotaGap]:
    """The daily check: gaps over the coming ROTA_CHECK_DAYS days. When there are any, each
    administrator is told, once a day however many workers run the check. Commits."""
    gaps = upcoming_gaps()
    if gaps:
        day = get_calendar().local(clock.now()).date().isoformat()
        for admin in role_holders("system_administrator"):
            queue_notification(admin, None, "rota_check", "/admin/rota", f"rota_check:{day}:user:{admin.id}")
    db.session.commit()
    return gaps
