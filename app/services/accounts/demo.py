"""The demo organisation (demo/organisation.json): its units and one person for each role where that
role is held. Idempotent: what exists is left as it is."""
from __future__ import annotations

import json
from pathlib import Path

from app import clock
from app.extensions import db
from app.models import OrgUnit
from app.services.audit import record_event
from app.services.people import create_user, set_role_holdings, user_exists
from app.services.units import unit_tree


def set_up_demo(path: Path, password: str) -> list[dict]:
    """Create the demo units and people that do not exist yet; returns the people described."""
    document = json.loads(path.read_text(encoding="utf-8"))
    for unit in document["units"]:
        tree = unit_tree()
        if unit["key"] not in tree.by_key:
            db.session.add(OrgUnit(key=unit["key"], name=unit["name"], kind=unit["kind"],
                                   parent_id=tree.by_key[unit["parent"]].id, created_at=clock.now()))
            record_event("unit_added", data={"key": unit["key"], "name": unit["name"], "demo": True})
            db.session.commit()
    for person in document["people"]:
        if not user_exists(person["username"]):
            user = create_user(person["username"], person["name"], ["staff"], password=password,
                               email=f"{person['username']}@example.org")
            set_role_holdings(user, [("staff", "all"), *(tuple(pair) for pair in person["holds"])])
            db.session.commit()
    return document["people"]
