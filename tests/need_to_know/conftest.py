"""A trust with two care groups and two local authorities with their LADO services, the real PiPoT
and LADO models deployed, and people holding their roles where they work."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import count

import pytest
import time_machine

from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import User
from app.services import definitions, people
from app.services.accounts.units import add_unit
from tests.web.pages import PASSWORD

_numbers = count(1)

CONCERN = {
    "raised_by_name": "Sam Carter", "raised_by_role": "Staff nurse", "raised_by_contact": "sam@example.nhs.uk",
    "concern_source": "colleague", "subject_name": "Alex Morgan", "subject_staff_number": "RD 1234",
    "subject_work_area": "Ward 4, older adults",
    "allegation_summary": "Seen handling a patient roughly during personal care.", "date_became_aware": "2026-11-23",
    "immediate_danger": False, "adult_at_risk_identified": True, "manager_informed": False,
    "anonymity_understood": True,
}


@dataclass
class Organisation:
    people: dict[str, User] = field(default_factory=dict)

    def person(self, key: str) -> User:
        return self.people[key]


def person(org: Organisation, key: str, holdings: list[tuple[str, str]], staff_number: str | None = None) -> User:
    """Someone holding `holdings` ((role, unit key) pairs), with the test password."""
    n = next(_numbers)
    user = people.create_user(f"{key}-{n}", key.replace("-", " ").title(), ["staff"], password=PASSWORD,
                              staff_number=staff_number)
    people.set_role_holdings(user, [("staff", "all"), *holdings])
    db.session.commit()
    org.people[key] = user
    return user


@pytest.fixture(autouse=True)
def monday_morning():
    """A Monday in business hours: the manager's first steps, not the on-call manager's."""
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc), tick=True):
        yield


@pytest.fixture
def org(app_ctx):
    """Riverside trust (care groups A and B) and two LADO services, with their people."""
    admin = people.create_user("unit-admin", "Unit Admin", ["system_administrator", "staff"])
    add_unit(admin, "riverside", "Riverside NHS Trust", "trust", "all")
    add_unit(admin, "care-group-a", "Adult mental health care group", "care_group", "riverside")
    add_unit(admin, "care-group-b", "Learning disability care group", "care_group", "riverside")
    add_unit(admin, "northshire-lado", "Northshire LADO service", "lado_service", "all")
    add_unit(admin, "southby-lado", "Southby LADO service", "lado_service", "all")
    org = Organisation()
    for unit in ("a", "b"):
        person(org, f"nurse-director-{unit}", [("care_group_nurse_director", f"care-group-{unit}")])
        person(org, f"manager-{unit}", [("reporting_manager", f"care-group-{unit}")])
    person(org, "manager-a2", [("reporting_manager", "care-group-a")])
    person(org, "safeguarding-team", [("safeguarding_team", "riverside")])
    person(org, "head-of-safeguarding", [("head_of_safeguarding", "riverside")])
    person(org, "triage-panel", [("triage_panel", "riverside")])
    person(org, "lado-north", [("lado", "northshire-lado")])
    person(org, "lado-south", [("lado", "southby-lado")])
    person(org, "raiser", [])
    person(org, "colleague", [])
    person(org, "subject", [], staff_number="rd\t1234")
    for key in ("pipot", "lado"):
        path = PROJECT_ROOT / "bpmn" / f"{key}.bpmn"
        definitions.deploy_definition(path.read_bytes(), path.name)
    return org
