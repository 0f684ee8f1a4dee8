"""Other modellers' files: every MIWG reference model (tests/data/miwg/, some ISO-8859-1) is answered by
deploy validation with success or readable reasons, never a stack trace, and imports as a draft whose
page draws it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.services.definitions import validate_definition
from tests.web.conftest import DATA

MIWG = sorted((DATA / "miwg").glob("*.bpmn"))


def _executable(data: bytes) -> bytes:
    """The same model marked executable, so validation goes past the first refusal."""
    data = data.replace(b'isExecutable="false"', b'isExecutable="true"')
    return re.sub(rb"<((?:\w+:)?process) (?![^>]*isExecutable)", rb'<\1 isExecutable="true" ', data)


def test_all_the_reference_models_are_here():
    assert [p.stem for p in MIWG] == ["A.1.0", "A.2.0", "A.2.1", "A.3.0", "A.4.0", "A.4.1", "B.1.0", "B.2.0"]


@pytest.mark.parametrize("path", MIWG, ids=[p.stem for p in MIWG])
@pytest.mark.parametrize("variant", ["as_published", "executable"])
def test_validation_answers_with_readable_reasons(app_ctx, path: Path, variant):
    data = path.read_bytes() if variant == "as_published" else _executable(path.read_bytes())
    model, problems = validate_definition(data, path.name)
    assert model is not None or problems
    for problem in problems:
        assert problem.message and "Traceback" not in problem.message and "\n" not in problem.message
        assert problem.message[0].isupper(), problem.message


@pytest.mark.parametrize("path", MIWG, ids=[p.stem for p in MIWG])
def test_each_imports_as_a_draft_and_is_drawn(web, owner, path):
    web.sign_in(owner.username)
    page = web.submit(web.get("/processes"), files={"file": (path.name, path.read_bytes())}, form="/processes/import")
    assert page.tree.xpath("//*[@id='modeller']//svg//*[@data-element-id]"), "nothing was drawn"
    deploy = web.get(page.url + "/deploy")
    assert deploy.error_summary() or "Passed" in deploy.words
