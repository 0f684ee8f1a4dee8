"""Several `flask worker` processes share the timer table: each due timer fires exactly once,
including when one worker is killed (SIGKILL) in the middle of a sweep."""
from __future__ import annotations

import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import AuditEvent, Timer
from app.services.audit import verify_audit
from app.services.cases import lifecycle
from tests.factories import deploy_test_model, make_user
from tests.workers import fresh_count, start_worker, wait_for

CASES = 500


def _start_worker(database_url: str, log_dir: Path, n: int):
    return start_worker(database_url, log_dir, n, {"TIMER_SWEEP_SECONDS": "1", "TIMER_CLAIM_SECONDS": "3",
                                                   "TIMER_SWEEP_BATCH": "20"})


@pytest.mark.slow
def test_three_workers_fire_each_timer_exactly_once_even_when_one_is_killed(app_ctx, database_url, tmp_path):
    deploy_test_model("timed")
    reporter, _ = make_user()
    due = clock.now() - timedelta(minutes=5)
    with time_machine.travel(due - timedelta(hours=1), tick=False):
        for _ in range(CASES):
            lifecycle.start_case("timed", {"follow_up_at": due.isoformat()}, reporter)
    assert fresh_count(select(func.count()).where(Timer.status == "waiting")) == CASES

    fired = select(func.count()).where(AuditEvent.event_type == "timer_fired")
    victim = _start_worker(database_url, tmp_path, 0)
    workers = [victim]
    try:
        holding = select(func.count()).where(Timer.status == "waiting",
                                             Timer.claimed_by.like(f"%:{victim.pid}"))
        assert wait_for(lambda: fresh_count(holding) > 0, 120), "the first worker never claimed a timer"
        workers += [_start_worker(database_url, tmp_path, n) for n in (1, 2)]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        assert wait_for(lambda: fresh_count(fired) >= CASES, 240), f"only {fresh_count(fired)} of {CASES} fired"
        time.sleep(2)  # give any duplicate a chance to appear
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=10)

    assert fresh_count(fired) == CASES
    per_case = db.session.execute(
        select(AuditEvent.case_id, func.count()).where(AuditEvent.event_type == "timer_fired")
        .group_by(AuditEvent.case_id)).all()
    assert len(per_case) == CASES and {n for _, n in per_case} == {1}
    assert fresh_count(select(func.count()).where(Timer.status == "waiting")) == 0
    assert verify_audit() == []
