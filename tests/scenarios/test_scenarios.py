"""Every scenario file under tests/scenarios/ runs through the engine and meets its expectations."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenarios.runner import load_scenario, run_scenario

HERE = Path(__file__).resolve().parent
SCENARIOS = sorted(HERE.glob("*/*.json"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[f"{p.parent.name}/{p.stem}" for p in SCENARIOS])
def test_scenario(app_ctx, path):
    run_scenario(load_scenario(path))
