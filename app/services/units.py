"""Organisation units: a trust and its care groups or directorates, a local authority's LADO service,
an employer. A role is held in a unit, and so for every unit below it; a case belongs to the unit its
answers name. The tree is small and read whole, once per transaction."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.db import transaction_cache
from app.extensions import db
from app.models import ROOT_UNIT, OrgUnit
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


def unit_tree() -> UnitTree:
    """The whole tree, read once per transaction."""
    cache = transaction_cache(db.session)
    if "unit_tree" not in cache:
        rows = db.session.execute(select(OrgUnit.id, OrgUnit.key, OrgUnit.name, OrgUnit.kind, OrgUnit.parent_id)).all()
        cache["unit_tree"] = UnitTree([Unit(*row) for row in rows])
    return cache["unit_tree"]


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
