"""Processes that start on a timer (bpmn/quarterly_report.bpmn, Appendix G step 11).

The engine runs a timer start event like any other timer: an instance opened now waits at its start
event, the sweep fires it when it falls due, and the process runs on. What the engine lacks is
someone to open that waiting instance, and the next one once it has started: `open_scheduled_instances`
(a scheduler job) keeps exactly one instance of every deployed timer-start process waiting. Several
workers may run it at once: each process's row in `process_schedule` is claimed (compare-and-set with
an expiry, as timers are) before an instance is opened.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import clock
from app.extensions import db
from app.models import Case, ProcessDefinition, ProcessSchedule, Timer
from app.services.cases.lifecycle import start_case
from app.services.definitions import latest_definition
from app.services.runtime import model_for

CLAIM_SECONDS = 120


def timer_start_processes() -> dict[str, list[str]]:
    """Process key -> the ids of its timer start events, for the latest version of each process."""
    found = {}
    for key in db.session.scalars(select(ProcessDefinition.process_key).distinct()).all():
        model = model_for(latest_definition(key))
        if model.timer_starts:
            found[key] = model.timer_starts
    return found


def open_scheduled_instances(worker_id: str) -> list[Case]:
    """Open an instance of each timer-start process that has none waiting; returns those opened."""
    opened = []
    for process_key, start_ids in timer_start_processes().items():
        if waiting_instance(process_key, start_ids) is not None or not _claim(process_key, worker_id):
            continue
        try:
            if waiting_instance(process_key, start_ids) is None:
                case = start_case(process_key, None, None)
                opened.append(case)
                _remember(process_key, case.id)
        finally:
            _release(process_key, worker_id)
    return opened


def waiting_instance(process_key: str, start_ids: list[str]) -> Case | None:
    """The open instance of the process still waiting for a start timer, if there is one."""
    return db.session.scalar(
        select(Case).join(Timer, Timer.case_id == Case.id)
        .where(Case.pathway == process_key, Case.status == "open", Timer.status == "waiting",
               Timer.bpmn_id.in_(start_ids)).order_by(Case.id).limit(1))


def _claim(process_key: str, worker_id: str) -> bool:
    now = clock.now()
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(ProcessSchedule).values(process_key=process_key)
                       .on_conflict_do_nothing(index_elements=["process_key"]))
    claimed = db.session.execute(
        update(ProcessSchedule).where(ProcessSchedule.process_key == process_key,
                                      or_(ProcessSchedule.claim_expires_at.is_(None),
                                          ProcessSchedule.claim_expires_at < now))
        .values(claimed_by=worker_id, claim_expires_at=now + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return claimed == 1


def _remember(process_key: str, case_id: int) -> None:
    db.session.execute(update(ProcessSchedule).where(ProcessSchedule.process_key == process_key)
                       .values(waiting_case_id=case_id).execution_options(synchronize_session=False))
    db.session.commit()


def _release(process_key: str, worker_id: str) -> None:
    db.session.rollback()
    db.session.execute(update(ProcessSchedule).where(ProcessSchedule.process_key == process_key,
                                                     ProcessSchedule.claimed_by == worker_id)
                       .values(claimed_by=None, claim_expires_at=None).execution_options(synchronize_session=False))
    db.session.commit()
