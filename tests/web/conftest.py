"""Fixtures for page tests: a checking browser (`web`), staff with passwords, deployed models."""
from __future__ import annotations

from itertools import count
from pathlib import Path

import pytest

from app.services import definitions, people
from tests.web.pages import PASSWORD, WebClient

DATA = Path(__file__).resolve().parent.parent / "data"
_numbers = count(1)


@pytest.fixture
def web(app_ctx, client):
    """A browser whose every page is checked (valid HTML, a title, one h1, no duplicate ids)."""
    return WebClient(app_ctx, client)


@pytest.fixture
def other_web(app):
    """A second browser with its own cookies (a colleague at another desk)."""
    return WebClient(app, app.test_client())


@pytest.fixture
def documents_dir(app, tmp_path):
    previous = app.config["DOCUMENTS_DIR"]
    app.config["DOCUMENTS_DIR"] = str(tmp_path / "documents")
    yield tmp_path / "documents"
    app.config["DOCUMENTS_DIR"] = previous


def staff(*roles: str, name: str | None = None, staff_number: str | None = None):
    """A signed-up member of staff holding `roles`, with the test password."""
    n = next(_numbers)
    return people.create_user(f"person{n}", name or f"Person {n}", sorted({*roles, "staff"}), password=PASSWORD,
                              staff_number=staff_number)


def deploy(folder: str, name: str):
    """Deploy tests/data/<folder>/<name>.bpmn with the forms beside it."""
    path = DATA / folder / f"{name}.bpmn"
    loader = definitions.forms_dir_loader(str(DATA / folder / "forms"))
    definition, _ = definitions.deploy_definition(path.read_bytes(), path.name, load_form=loader)
    return definition


CONCERN_ANSWERS = {"subject_name": "Alex Example", "summary": "Shouted at a patient.", "immediate_danger": False}


def open_concern(reporter, **answers):
    """A case on the test concern pathway, opened by `reporter` (deploys the model if needed)."""
    from app.services.cases.lifecycle import start_case
    from app.services.definitions import latest_definition

    if latest_definition("concern", required=False) is None:
        deploy("web", "concern")
    return start_case("concern", CONCERN_ANSWERS | answers, reporter)


def open_task_id(case, title: str) -> int:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import HumanTask

    return db.session.scalar(select(HumanTask.id).where(HumanTask.case_id == case.id, HumanTask.title == title,
                                                        HumanTask.status == "open"))
