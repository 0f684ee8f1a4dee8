"""Test data builders: users with roles and tokens, deployed test models."""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from pathlib import Path

from app.models import Case, User
from app.services import definitions, people
from app.services.cases import lifecycle

DATA = Path(__file__).resolve().parent / "data"
_numbers = count(1)


def make_user(*roles: str, name: str | None = None) -> tuple[User, str]:
    """A user holding `roles` (and staff), with an API token; returns (user, token)."""
    n = next(_numbers)
    username = f"user{n}"
    user = people.create_user(username, name or f"Test User {n}", sorted({*roles, "staff"}))
    return user, people.issue_api_token(username)


def deploy_test_model(name: str, forms_dir: Path | None = None):
    """Deploy tests/data/engine/<name>.bpmn with its forms; returns the definition."""
    path = DATA / "engine" / f"{name}.bpmn"
    loader = definitions.forms_dir_loader(str(forms_dir or DATA / "engine" / "forms"))
    definition, _ = definitions.deploy_definition(path.read_bytes(), path.name, load_form=loader)
    return definition


def open_timed_cases(reporter: User, opened: datetime, minutes: tuple[int, ...]) -> list[Case]:
    """Cases of the `timed` test model (deployed already), one for each of `minutes`, whose follow-up
    timer falls due that many minutes after `opened`."""
    return [lifecycle.start_case("timed", {"follow_up_at": (opened + timedelta(minutes=m)).isoformat()}, reporter)
            for m in minutes]


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
