"""The scenario runner for the test suite: the steps are run by `app.scenarios` (the deploy-time scenario
check runs the same files); read its docstring for the step format. Here a scenario with a top-level
"known_defect" is reported as an expected failure while one of its expectations fails."""
from __future__ import annotations

import pytest

from app.scenarios import ROOT, Candidate, ScenarioRun, _run_step, deploy_pathway, load_scenario, run_steps

__all__ = ["ROOT", "Candidate", "ScenarioRun", "_run_step", "deploy_pathway", "load_scenario", "run_scenario"]


def run_scenario(scenario: dict) -> ScenarioRun:
    """Deploy the pathway, then run every step, asserting each expectation."""
    if scenario.get("known_defect"):
        return _run_known_defect(scenario)
    return run_steps(scenario)


def _run_known_defect(scenario: dict) -> ScenarioRun:
    try:
        run_steps(scenario)
    except AssertionError as err:
        pytest.xfail(f"known defect: {scenario['known_defect']} ({err})")
    raise AssertionError(f"known defect no longer reproduces, remove \"known_defect\": {scenario['known_defect']}")
