"""The timer sweep at scale (issue 9, item 5): a sweep with nothing due, and two `flask worker`
processes firing 10,000 timers that fall due at once (BENCH_BACKLOG), each exactly once."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import AuditEvent, Timer
from app.services.cases.timers import claim_due_timers
from bench.harness import analyze, stopwatch, summary_ms
from bench.population import build_templates, clone_population, scenario_files

ROOT = Path(__file__).resolve().parents[1]


def empty_sweep(repeats: int = 200) -> dict:
    """Claiming when nothing is due: the cost every worker pays every few seconds."""
    assert db.session.scalar(select(func.count()).where(Timer.status == "waiting", Timer.due_at <= clock.now())) == 0
    times = []
    for _ in range(repeats):
        with stopwatch(times):
            claim_due_timers("bench-empty", batch=200, claim_seconds=120)
    waiting = db.session.scalar(select(func.count()).where(Timer.status == "waiting"))
    return summary_ms(times) | {"waiting_timers": waiting}


def _due_now(at=None) -> list[int]:
    return db.session.scalars(select(Timer.id).where(Timer.status == "waiting", Timer.due_at <= (at or clock.now()))).all()


BACKLOG_HOUR = 10  # UTC: in working hours in London all year


def backlog_moments(now: datetime) -> tuple[datetime, datetime]:
    """When the backlog's routes start, and the moment its workers' clocks read as they fire it: a
    Monday at 10:00 UTC, and the Monday two weeks later at the same time, the latest such Monday not
    after now. Ten working days lie between them, and the clocks start at the same hour, whatever the
    day and time of the run, so the number of cases that hold 10,000 due timers does not move with the
    date (with the routes 12 days back and the workers on the real clock it did: 5,000 cases on a
    Saturday, 6,364 on a Sunday)."""
    fired_at = (now - timedelta(days=now.weekday())).replace(hour=BACKLOG_HOUR, minute=0, second=0, microsecond=0)
    if fired_at > now:
        fired_at -= timedelta(days=7)
    return fired_at - timedelta(days=14), fired_at


def fire_backlog(database_url: str, count: int, workers: int = 2, timeout: float = 600) -> dict:
    """Clone cases whose clocks ran out days ago until `count` timers are due (a case may have more
    than one), then time `workers` workers firing them."""
    base, now = backlog_moments(clock.now())
    templates = [t for t in build_templates(base, scenario_files(per_pathway=3), cuts=(0.25, 0.6))
                 if any(row["status"] == "waiting" and row["due_at"] <= now for row in t.rows["timer"])]
    due_each = [sum(1 for row in t.rows["timer"] if row["status"] == "waiting" and row["due_at"] <= now)
                for t in templates]
    cases = due_count = 0
    while due_count < count:  # the clones go round the templates
        due_count += due_each[cases % len(templates)]
        cases += 1
    start_number = 900_000
    due_before = set(_due_now(now))
    clone_population(templates, cases, first_number=start_number)
    analyze()
    cutoff = now
    due = set(_due_now(cutoff)) - due_before
    db.session.remove()
    started = time.perf_counter()
    processes = [_worker(database_url, n, now) for n in range(workers)]
    # the backlog's timers still waiting, read through the due-timer index (not the ids one by one:
    # the bench's own polling should not weigh on the database it measures)
    still_waiting = select(func.count()).where(Timer.status == "waiting", Timer.due_at <= cutoff,
                                               Timer.id.between(min(due), max(due)))
    try:
        while time.perf_counter() - started < timeout:
            if not db.session.scalar(still_waiting):
                break
            db.session.remove()
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    fired = Counter(event.data.get("timer_id") for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.event_type == "timer_fired")))
    return {"timers_due": len(due), "cases": cases, "seconds": round(elapsed, 2),
            "fired": sum(1 for timer_id in due if fired.get(timer_id) == 1),
            "fired_more_than_once": sum(1 for timer_id in due if fired.get(timer_id, 0) > 1),
            "not_fired": sum(1 for timer_id in due if not fired.get(timer_id))}


def _worker(database_url: str, n: int, clock_from: datetime) -> subprocess.Popen:
    """`flask worker` in a process of its own, its clock running on from `clock_from`."""
    env = os.environ | {"DATABASE_URL": database_url, "TIMER_SWEEP_SECONDS": "1"}
    log = open(ROOT / "bench" / "results" / f"worker{n}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "bench.worker_at", clock_from.isoformat()],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
