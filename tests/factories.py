"""Test data builders: users with roles and tokens, deployed test models."""
from __future__ import annotations

from itertools import count
from pathlib import Path

from app.models import User
from app.services import definitions, people

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


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
