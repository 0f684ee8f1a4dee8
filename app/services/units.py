"""Organisation units: a trust and its care groups or directorates, a local authority's LADO service,
an employer. A role is held in a unit, and so for every unit below it; a case belongs to the unit its
answers name. The tree is small and read whole, again only when it changed."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.db import transaction_cache, written_in_transaction
from app.extensions import db
from app.models import ROOT_UNIT, OnCallShift, OrganisationVersion, OrgUnit, RoleHolding, User
from app.services.errors import NotFound


@dataclass(frozen=True)
class Unit:
    id: int
    key: str
    name: str
    kind: str
    parent_id: int | None


class UnitTree:
    """Every unit, by id and by key, with the walks need to know makes."""

    def __init__(self, units: list[Unit]):
        self.by_id = {unit.id: unit for unit in units}
        self.by_key = {unit.key: unit for unit in units}
        self.root = self.by_key[ROOT_UNIT]

    def chain(self, unit_id: int | None) -> list[int]:
        """The unit and the units above it, nearest first, ending at the root (the root alone for None)."""
        found, seen = [], set()
        current = self.by_id.get(unit_id) if unit_id is not None else None
        while current is not None and current.id not in seen:
            found.append(current.id)
            seen.add(current.id)
            current = self.by_id.get(current.parent_id) if current.parent_id is not None else None
        if self.root.id not in seen:
            found.append(self.root.id)
        return found

    def below(self, unit_ids: set[int]) -> set[int]:
        """The units given and every unit under them."""
        return {unit.id for unit in self.by_id.values() if set(self.chain(unit.id)) & unit_ids}

    def covers(self, holding_unit_id: int, case_unit_id: int | None) -> bool:
        """A role held in `holding_unit_id` is held for a case of `case_unit_id`."""
        return holding_unit_id in self.chain(case_unit_id)

    def label(self, unit_id: int | None) -> str:
        unit = self.by_id.get(unit_id) if unit_id is not None else None
        return unit.name if unit is not None else self.root.name


@dataclass(frozen=True)
class Organisation:
    """What this process has read of the organisation at one version: the unit tree, for each
    (role, case unit) the unit whose holders get its tasks (people.holding_unit_and_held), and for each
    on-call role the shifts of its rota read (rota.on_call_people)."""
    token: str | None
    tree: UnitTree
    holding_units: dict = field(default_factory=dict)
    rota: dict = field(default_factory=dict)


ORGANISATION = written_in_transaction("organisation")  # the transaction cache's entry
_VERSION = select(OrganisationVersion.token).where(OrganisationVersion.id == 1)
_UNITS = select(OrgUnit.id, OrgUnit.key, OrgUnit.name, OrgUnit.kind, OrgUnit.parent_id)


def organisation() -> Organisation:
    """The organisation as this transaction sees it. Its version token is read once per transaction;
    while it is the one this process last read the units at, they are not read again (nor who holds
    which role where, nor the rota). Triggers change the token with any change to the units, the role
    holdings, an account's active flag or the on-call rota, so a change made by any process is seen by
    the next transaction here."""
    cache = transaction_cache(db.session)
    if ORGANISATION not in cache:
        read_organisation_token(db.session.execute(_VERSION).scalar())
    return cache[ORGANISATION]


def organisation_token():
    """The organisation's version token, as a scalar subquery: a step's first query reads it along
    (`read_organisation_token`), which spares `organisation` a statement of its own."""
    return _VERSION.scalar_subquery()


def read_organisation_token(token: str | None) -> None:
    """This transaction's organisation is the one of `token` (read in this transaction)."""
    cache = transaction_cache(db.session)
    if ORGANISATION not in cache:
        kept = current_app.extensions.get("organisation")
        if token is None or kept is None or kept.token != token or cache.get(CHANGED):
            kept = Organisation(token, UnitTree([Unit(*row) for row in db.session.execute(_UNITS)]))
            if token is not None and not cache.get(CHANGED):  # nothing is kept of an emptied database,
                current_app.extensions["organisation"] = kept  # nor what this transaction's changes show
        cache[ORGANISATION] = kept


# Kept until the transaction ends, savepoints or not: a change made before a savepoint that is rolled
# back is still this transaction's own, and not committed.
CHANGED = "organisation_changed"
_USER_CHANGES = ("is_active", "holdings", "roles")


def _note_organisation_changes(session: Session, _context, _instances) -> None:
    """A transaction that changes the units, a holding, an account or the rota reads the organisation
    again, for itself alone: what it sees is not committed, and is not kept for other transactions.
    (The services change them through the ORM; a Core write to these tables calls
    `note_organisation_changed` itself, as taking a shift off the rota does.)"""
    if any(_changes_organisation(obj, deleted=False) for obj in (*session.new, *session.dirty)) or any(
            _changes_organisation(obj, deleted=True) for obj in session.deleted):
        note_organisation_changed(session)


def _changes_organisation(obj, *, deleted: bool) -> bool:
    if isinstance(obj, (OrgUnit, RoleHolding, OnCallShift)):
        return True
    if isinstance(obj, User):  # a holding removed from a person is an orphan, not yet deleted, here
        attrs = inspect(obj).attrs
        return deleted or any(attrs[key].history.has_changes() for key in _USER_CHANGES)
    return False


def note_organisation_changed(session: Session) -> None:
    cache = transaction_cache(session)
    cache[CHANGED] = True
    cache.pop(ORGANISATION, None)


def configure_organisation_reads() -> None:
    """Listen for flushes of every session (idempotent)."""
    if not event.contains(Session, "before_flush", _note_organisation_changes):
        event.listen(Session, "before_flush", _note_organisation_changes)


def unit_tree() -> UnitTree:
    """The whole tree (read again only when the organisation changed: `organisation`)."""
    return organisation().tree


def unit_by_key(key: str) -> Unit:
    """The unit with this key (NotFound if there is none)."""
    unit = unit_tree().by_key.get((key or "").strip())
    if unit is None:
        raise NotFound(f"No unit {key}.")
    return unit


def units_of_kind(*kinds: str) -> list[Unit]:
    """Units of these kinds (every unit but the root when none are named), by name."""
    units = [u for u in unit_tree().by_id.values() if u.key != ROOT_UNIT and (not kinds or u.kind in kinds)]
    return sorted(units, key=lambda unit: unit.name.lower())
