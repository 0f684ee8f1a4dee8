"""`python -m bench` (`make bench`): every benchmark on SQLite and, when it answers, PostgreSQL.

BENCH_CASES sets the population (default 100,000); BENCH_BACKLOG the number of timers that
fall due at once (default 10,000); BENCH_ITERATIONS the samples for the engine timings (default 300).
Prints one table and writes bench/results/latest.json.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

from app import clock
from app.extensions import db
from app.services.cases.counts import fold_count_changes
from bench import durability, engine, reads, reference, size, sweep, throughput
from bench.harness import RESULTS, analyze, make_app, postgres_database, sqlite_database
from bench.population import build_templates, clone_population, scenario_files
from bench.report import render_plans, render_table


def _settings() -> dict:
    return {"cases": int(os.environ.get("BENCH_CASES", 100_000)),
            "backlog": int(os.environ.get("BENCH_BACKLOG", 10_000)),
            "iterations": int(os.environ.get("BENCH_ITERATIONS", 300)),
            "clients": 8, "per_client": int(os.environ.get("BENCH_PER_CLIENT", 50))}


def run_database(database, settings: dict, log) -> dict:
    app = make_app(database)
    result = {}
    with app.app_context():
        started = time.perf_counter()
        # each route from its own weekday and hour, within the week from now: the same templates
        # whatever the day and hour of the run (tests/bench/test_population.py), clocks still running
        templates = build_templates(clock.now(), scenario_files(), keep_weekday=True)
        clone_population(templates, settings["cases"])
        analyze()
        result["population"] = {"cases": settings["cases"], "templates": len(templates),
                                "seconds": round(time.perf_counter() - started, 1)}
        db.session.remove()
    log(f"{database.name}: population of {settings['cases']} in {result['population']['seconds']} s")
    progress = lambda message: log(f"{database.name}: {message}")  # noqa: E731
    result["engine"] = engine.run(app, settings["iterations"], progress)
    log(f"{database.name}: PiPoT step: {result['engine']['ratio_complete_vs_durable_floor']}x its floor")
    result["reference"] = reference.run(app, settings["iterations"], progress)
    log(f"{database.name}: reference model: {result['reference']['ratio_complete_vs_durable_floor']}x its floor")
    result["durability"] = durability.run(app, settings["iterations"])
    log(f"{database.name}: engine timings done")
    with app.app_context():  # the steps' count changes, folded as the worker does every few seconds
        fold_count_changes()
        db.session.remove()
    result["reads"] = reads.run(app)
    log(f"{database.name}: reads done")
    with app.app_context():
        result["sweep_empty"] = sweep.empty_sweep()
        result["size"] = size.run()
        result["backlog"] = sweep.fire_backlog(database.url, settings["backlog"])
        db.session.remove()
    log(f"{database.name}: sweeps done")
    with app.app_context():
        result["throughput"] = throughput.run(database.url, settings["clients"], settings["per_client"])
        db.session.remove()
    log(f"{database.name}: throughput done")
    return result


def main() -> int:
    settings = _settings()
    log = lambda message: print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)  # noqa: E731
    results = {"when": clock.now().isoformat(), "settings": settings,
               "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}, "databases": {}}
    wanted = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
    factories = {"sqlite": lambda: sqlite_database("run"), "postgresql": postgres_database}
    for name in wanted:
        database = factories[name.strip()]()
        if database is None:
            log("PostgreSQL did not answer: skipped")
            continue
        try:
            results["databases"][database.name] = run_database(database, settings, log)
        finally:
            database.close()
    out = Path(os.environ.get("BENCH_RESULTS", RESULTS))
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    print(render_table(results))
    print()
    print(render_plans(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
