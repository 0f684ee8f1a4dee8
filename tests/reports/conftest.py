"""Fixtures for the reports tests: scenario routes run through the services, and staff by role."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenarios.runner import load_scenario, run_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def run_route(name: str, *, before: str | None = None):
    """Run the steps of tests/scenarios/<name>.json through the services, leaving out its expectations
    (the scenario suite checks those), and stopping before the step that completes `before` if given;
    returns the run (its case and users)."""
    scenario = load_scenario(SCENARIOS / f"{name}.json")
    steps = [step for step in scenario["steps"] if not any(key.startswith("expect") for key in step)]
    cut = next((n for n, step in enumerate(steps) if before and step.get("complete") == before), len(steps))
    scenario["steps"] = steps[:cut]
    scenario.pop("known_defect", None)
    return run_scenario(scenario)


@pytest.fixture
def documents_dir(app, tmp_path):
    previous = app.config["DOCUMENTS_DIR"]
    app.config["DOCUMENTS_DIR"] = str(tmp_path / "documents")
    yield tmp_path / "documents"
    app.config["DOCUMENTS_DIR"] = previous


from tests.web.conftest import other_web, web  # noqa: E402,F401  (the checking browser, for page tests)
