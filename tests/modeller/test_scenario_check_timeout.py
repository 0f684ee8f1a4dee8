"""The scenario check's own process runs under a time limit (SCENARIO_CHECK_SECONDS): a run that
goes past it stops, and the deploy page says so instead of waiting for ever."""
from __future__ import annotations

import json
import shutil
import threading

import pytest

from app.scenario_run import run_suite
from app.services import definitions
from app.services.modeller import drafts, scenario_checks
from tests.conftest import ROOT
from tests.web.conftest import DATA

SIMPLE = DATA / "engine" / "simple.bpmn"
ROUTE = ROOT / "tests" / "scenarios" / "simple" / "deadline_missed_escalates.json"


@pytest.fixture
def long_suite_and_one_second(app, tmp_path):
    """Forty copies of the simple pathway's route, and one second to run them in."""
    suite = tmp_path / "scenarios" / "simple"
    suite.mkdir(parents=True)
    for n in range(40):
        shutil.copy(ROUTE, suite / f"route_{n:02d}.json")
    names = ("FORMS_DIR", "SCENARIO_CHECK_DIR", "SCENARIOS_DIR", "SCENARIO_CHECK_SECONDS")
    saved = {name: app.config[name] for name in names}
    app.config.update(FORMS_DIR=str(DATA / "engine" / "forms"), SCENARIO_CHECK_DIR=str(tmp_path / "checks"),
                      SCENARIOS_DIR=str(tmp_path / "scenarios"), SCENARIO_CHECK_SECONDS=1)
    yield
    app.config.update(saved)


def test_a_scenario_check_that_runs_past_its_time_is_stopped_and_says_so(app_ctx, owner, long_suite_and_one_second):
    definitions.deploy_definition(SIMPLE.read_bytes(), SIMPLE.name)
    draft = drafts.save_draft(drafts.start_draft("simple", 1, owner).id, SIMPLE.read_bytes(), owner)
    check = scenario_checks.wait_for_check(scenario_checks.start_check(draft.id, owner).id)
    assert check.status == "error"
    assert scenario_checks.failures(check) == ["The scenario check ran for more than 1 seconds and was stopped."]


def test_the_scenario_checks_own_run_tells_people_in_its_own_thread(app, tmp_path):
    """The check empties its scratch database between scenarios. A fan-out thread still telling people
    about the last scenario's tasks would hold SQLite's write lock meanwhile ("database is locked");
    the run tells them before each step returns, and every route passes."""
    suite_dir = tmp_path / "scenarios" / "simple"
    suite_dir.mkdir(parents=True)
    for n in range(3):
        shutil.copy(ROUTE, suite_dir / f"route_{n:02d}.json")
    before = {t.ident for t in threading.enumerate() if t.name == "task-ready-fanout"}
    document = run_suite(SIMPLE.read_bytes(), SIMPLE.name, "simple", str(DATA / "engine" / "forms"),
                         str(tmp_path / "scenarios"))
    started = {t.ident for t in threading.enumerate() if t.name == "task-ready-fanout"} - before
    assert document["error"] is None
    assert [r["passed"] for r in document["results"]] == [True, True, True]
    assert started == set()


def test_the_time_limit_holds_when_its_alarm_lands_in_a_weakref_callback(tmp_path, monkeypatch):
    """Python prints and drops an exception a signal handler raises while a weakref callback or a
    finaliser runs (seen in CI: the alarm landed in SQLAlchemy's clean-up of a collected engine during
    the migrations, and the forty routes ran on and passed). Here half the run's time is spent in such
    callbacks, the first alarm rings inside one: it must go on ringing until it stops the run."""
    import time
    import weakref

    from app import scenario_run

    def in_a_callback(seconds: float) -> None:
        held = type("Held", (), {})()
        ref = weakref.ref(held, lambda _ref: time.sleep(seconds))  # noqa: F841 (the callback is the point)
        del held  # the callback runs now

    def busy(seconds: float) -> None:
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            pass

    def run_that_collects(*_args) -> dict:
        in_a_callback(1.5)  # where the first alarm, after one second, rings
        ends = time.monotonic() + 20
        while time.monotonic() < ends:
            in_a_callback(0.05)
            busy(0.05)
        return {"results": [{"scenario": "simple/slow", "passed": True, "message": ""}], "error": None}

    monkeypatch.setattr(scenario_run, "run_suite", run_that_collects)
    out = tmp_path / "results.json"
    started = time.monotonic()
    assert scenario_run.main(["--model", str(SIMPLE), "--process", "simple", "--forms", str(tmp_path),
                              "--scenarios", str(tmp_path), "--out", str(out), "--timeout", "1"]) == 0
    document = json.loads(out.read_text())
    assert document == {"results": [], "error": "The scenario check ran for more than 1 seconds and was stopped."}
    assert time.monotonic() - started < 10
