"""The scenario check on deploy: a candidate version of a pathway must still pass its scenario suite.

The scenario files (`SCENARIOS_DIR/*/*.json`, the format of `app.scenarios`) whose "pathway" is the
process key form its suite. The runner moves the clock with time-machine, which patches the whole
process, so a check never runs inside a web request: `start_check` launches `python -m app.scenario_run`
in a process of its own, against a throwaway SQLite database, and the deploy page reads the results
it writes (`refresh_check`).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app import clock
from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import ModelDraft, ScenarioCheck, User
from app.services.modeller.drafts import draft_hash, get_draft

_RUNNING: dict[int, subprocess.Popen] = {}  # checks started by this process, so their exit can be seen
GRACE_SECONDS = 60  # past SCENARIO_CHECK_SECONDS, a run that has not stopped itself is stopped from here
PASSING_ENV = ("BPMN_DIR", "FORMS_DIR", "CALENDAR_SUBDIVISION", "CALENDAR_TIMEZONE", "BUSINESS_HOURS_START",
               "BUSINESS_HOURS_END", "MAX_BPMN_BYTES")


def suite(process_key: str | None) -> list[Path]:
    """The scenario files of a pathway, in name order."""
    folder = Path(current_app.config["SCENARIOS_DIR"])
    if not process_key or not folder.is_dir():
        return []
    return [path for path in sorted(folder.glob("*/*.json")) if _pathway(path) == process_key]


def _pathway(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("pathway")
    except (OSError, ValueError, AttributeError):
        return None


def has_suite(process_key: str | None) -> bool:
    """True when the pathway has scenarios that a new version must pass."""
    return bool(suite(process_key))


def start_check(draft_id: int, actor: User) -> ScenarioCheck:
    """Start running the draft's pathway scenarios against it, in a separate process."""
    draft = get_draft(draft_id)
    check = ScenarioCheck(draft_id=draft.id, process_key=draft.process_key or "", sha256=draft_hash(draft),
                          status="running", results=[], message="", started_by_id=actor.id, started_at=clock.now())
    db.session.add(check)
    db.session.commit()
    folder = _folder(check)
    model = folder / "candidate.bpmn"
    model.write_bytes(draft.bpmn_xml)
    _RUNNING[check.id] = _launch(check, model, folder)
    return check


def _folder(check: ScenarioCheck) -> Path:
    folder = Path(current_app.config["SCENARIO_CHECK_DIR"]) / str(check.id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _launch(check: ScenarioCheck, model: Path, folder: Path) -> subprocess.Popen:
    config = current_app.config
    env = {**os.environ, **{name: str(config[name]) for name in PASSING_ENV},
           "DATABASE_URL": f"sqlite:///{folder / 'unused.sqlite3'}", "SCHEDULER_IN_PROCESS": "0"}
    command = [sys.executable, "-m", "app.scenario_run", "--model", str(model),
               "--process", check.process_key, "--forms", str(config["FORMS_DIR"]),
               "--scenarios", str(config["SCENARIOS_DIR"]), "--out", str(folder / "results.json"),
               "--timeout", str(config["SCENARIO_CHECK_SECONDS"])]
    with open(folder / "output.log", "wb") as log:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)


def latest_check(draft_id: int, sha256: str | None = None) -> ScenarioCheck | None:
    """The draft's most recent check (of this content, when `sha256` is given), brought up to date."""
    query = select(ScenarioCheck).where(ScenarioCheck.draft_id == draft_id)
    if sha256:
        query = query.where(ScenarioCheck.sha256 == sha256)
    check = db.session.scalar(query.order_by(ScenarioCheck.id.desc()).limit(1))
    return refresh_check(check) if check is not None else None


def refresh_check(check: ScenarioCheck) -> ScenarioCheck:
    """Take in the results of a finished run (or note that the run died)."""
    if check.status != "running":
        return check
    folder = Path(current_app.config["SCENARIO_CHECK_DIR"]) / str(check.id)
    results = folder / "results.json"
    process = _RUNNING.get(check.id)
    if results.exists():
        _take_results(check, json.loads(results.read_text(encoding="utf-8")))
    elif _overdue(check):
        _stop(check, process)
    elif process is not None and process.poll() is not None:
        log = (folder / "output.log").read_text(encoding="utf-8", errors="replace") if (folder / "output.log").exists() else ""
        check.status, check.finished_at = "error", clock.now()
        check.message = "The scenario check stopped before it finished: " + (log.strip().splitlines() or ["no output"])[-1]
    else:
        return check
    _RUNNING.pop(check.id, None)
    db.session.commit()
    return check


def _limit() -> int:
    return int(current_app.config["SCENARIO_CHECK_SECONDS"])


def _overdue(check: ScenarioCheck) -> bool:
    """A run past its time and the grace after it: it did not stop itself (it stops at its time)."""
    return (clock.now() - check.started_at).total_seconds() > _limit() + GRACE_SECONDS


def _stop(check: ScenarioCheck, process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()
    check.status, check.finished_at = "error", clock.now()
    check.message = f"The scenario check ran for more than {_limit()} seconds and was stopped."


def _take_results(check: ScenarioCheck, document: dict) -> None:
    check.results = document.get("results", [])
    check.message = document.get("error") or ""
    passed = not check.message and all(r.get("passed") for r in check.results)
    check.status = "passed" if passed else ("error" if check.message else "failed")
    check.finished_at = clock.now()


def wait_for_check(check_id: int) -> ScenarioCheck:
    """Wait for a check started by this process to finish (it stops itself after SCENARIO_CHECK_SECONDS;
    past the grace after that it is killed), then read its results."""
    process = _RUNNING.get(check_id)
    if process is not None:
        try:
            process.wait(timeout=_limit() + GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return refresh_check(db.session.get(ScenarioCheck, check_id))


def failures(check: ScenarioCheck) -> list[str]:
    """What failed, one line each (the run's error when it could not finish)."""
    if check.status == "error":
        return [check.message or "The scenario check could not finish."]
    return [f"{r.get('name') or r.get('scenario')}: {r.get('message', '')}" for r in check.results if not r.get("passed")]


def draft_of(check: ScenarioCheck) -> ModelDraft:
    return db.session.get(ModelDraft, check.draft_id)
