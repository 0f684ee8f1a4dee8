"""The scenario check's own process: a pathway's scenarios run against a candidate model.

Started by the deploy page (`app.services.modeller.scenario_checks.start_check`) as
`python -m app.scenario_run --model F --process KEY --forms DIR --scenarios DIR --out F`. The scenarios
move the clock with time-machine, which patches the whole process, so they never run inside a web
request; each runs on an empty throwaway SQLite database.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from flask import current_app
from flask_migrate import upgrade

from app import create_app
from app.config import PROJECT_ROOT
from app.db import empty_tables
from app.extensions import db
from app.scenarios import Candidate, load_scenario, run_steps
from app.services.modeller.scenario_checks import suite
from app.services.people import seed_roles


class CheckTimedOut(BaseException):
    """The run went past --timeout. A BaseException, so that no scenario's `except Exception` keeps it."""


def _time_out(_signal, _frame):
    # Python prints and drops an exception a signal handler raises while a weakref callback or a
    # finaliser runs: ring again shortly, until one stops the run (`main` silences it then), after a
    # varying pause, so that no steady rhythm of the run keeps catching it in the same place
    signal.setitimer(signal.ITIMER_REAL, random.uniform(0.05, 0.15))
    raise CheckTimedOut()


def main(argv: list[str] | None = None) -> int:
    """Run the suite (stopped after --timeout seconds), write the results atomically to --out, print
    a one-line summary."""
    args = _parser().parse_args(argv)
    model = Path(args.model)
    signal.signal(signal.SIGALRM, _time_out)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    try:
        document = run_suite(model.read_bytes(), model.name, args.process, args.forms, args.scenarios)
    except CheckTimedOut:
        signal.setitimer(signal.ITIMER_REAL, 0)
        document = {"results": [], "error": f"The scenario check ran for more than {args.timeout} seconds "
                                            "and was stopped."}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    out = Path(args.out)
    partial = out.with_suffix(".partial")
    partial.write_text(json.dumps(document, indent=1), encoding="utf-8")
    os.replace(partial, out)  # the page sees either no results or all of them
    failed = [r["scenario"] for r in document["results"] if not r["passed"]]
    print(f"{len(document['results']) - len(failed)} passed, {len(failed)} failed")
    if document["error"]:
        print(f"error: {document['error']}", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.scenario_run", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the candidate BPMN file")
    parser.add_argument("--process", required=True, help="the process key whose scenarios to run")
    parser.add_argument("--forms", required=True, help="the forms folder")
    parser.add_argument("--scenarios", required=True, help="the scenarios folder")
    parser.add_argument("--out", required=True, help="where to write the results (JSON)")
    parser.add_argument("--timeout", type=int, default=600, help="stop the run after this many seconds")
    return parser


def run_suite(bpmn: bytes, filename: str, process_key: str, forms_dir: str, scenarios_dir: str) -> dict:
    """Run every scenario of `process_key` against the candidate model, each on an empty throwaway
    SQLite database; returns {"results": [...], "error": None or what stopped the run}."""
    with tempfile.TemporaryDirectory(prefix="scenario-check-") as scratch:
        # people are told about new tasks before each step returns ("inline"): a fan-out thread would
        # still be writing to the scratch database while the next scenario empties it
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(scratch) / 'check.sqlite3'}",
                          "SCHEDULER_IN_PROCESS": False, "NOTIFY_FANOUT": "inline",
                          "SCENARIOS_DIR": scenarios_dir, "FORMS_DIR": forms_dir})
        with app.app_context():
            try:
                _prepare_database()
                paths = suite(process_key)
                return {"results": [_run_one(path, bpmn, filename, process_key, forms_dir) for path in paths],
                        "error": None}
            except Exception as err:  # the run itself failed: say so rather than leave the page waiting
                traceback.print_exc()
                return {"results": [], "error": f"{err.__class__.__name__}: {err}"}
            finally:
                db.session.remove()
                db.engine.dispose()


def _prepare_database() -> None:
    upgrade(directory=str(PROJECT_ROOT / "migrations"), revision="heads")
    seed_roles()


def _run_one(path: Path, bpmn: bytes, filename: str, process_key: str, forms_dir: str) -> dict:
    scenario = load_scenario(path)
    name = f"{path.parent.name}/{path.stem}"
    result = {"scenario": name, "name": scenario.get("name", name), "passed": True, "message": ""}
    try:
        run_steps(scenario, Candidate(process_key, bpmn, filename, forms_dir))
        if scenario.get("known_defect"):
            result["message"] = "A known defect no longer reproduces: remove \"known_defect\" from the scenario."
    except AssertionError as err:
        if not scenario.get("known_defect"):
            result.update(passed=False, message=str(err))
    except Exception as err:  # a model that cannot run, a refused deploy: the scenario fails, the run goes on
        result.update(passed=False, message=f"{err.__class__.__name__}: {getattr(err, 'message', err)}")
    # Not in a `finally`: when the run's time is up (CheckTimedOut, which may interrupt a step holding
    # SQLite's write lock) the scratch database is left as it is; emptying it then could fail with
    # "database is locked" and report that instead of the time limit.
    _empty_tables()
    return result


def _empty_tables() -> None:
    db.session.remove()
    empty_tables(db.engine, db.metadata)
    for cached in ("workflow_runtime", "role_lookup"):
        current_app.extensions.pop(cached, None)


if __name__ == "__main__":
    sys.exit(main())
