"""Cases whose process stopped: a step (a timer firing in the worker) failed because the model
could not run on, for example a script stopped by its budget.

Nothing of the step is saved. The case records what stopped it (a `process_stopped` event in its
own chain, once for each distinct problem), and its waiting timers are held back for
STOPPED_RETRY, so that the sweep does not run the failing step at every turn but still tries again
(a process owner may have moved the case to a mended version meanwhile).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app import clock
from app.extensions import db
from app.models import AuditEvent, Case, ProcessDefinition, ProcessInstance, Timer
from app.services.audit import record_event, stream_for

STOPPED_RETRY = timedelta(hours=1)
HELD_BY = "stopped"


def record_stopped_case(case_id: int, element_id: str | None, message: str, *, during: str) -> None:
    """Record on the case that its process stopped at `element_id`, hold its timers back, commit.

    Call after the failed step was rolled back. `during` says what was being done (e.g. "timer").
    """
    detail = {"element_id": element_id, "message": message[:1000], "during": during}
    if not _already_recorded(case_id, detail):
        record_event("process_stopped", case_id=case_id, actor_label="Timer worker", data=detail)
    db.session.execute(
        update(Timer).where(Timer.case_id == case_id, Timer.status == "waiting")
        .values(claimed_by=HELD_BY, claim_expires_at=clock.now() + STOPPED_RETRY)
        .execution_options(synchronize_session=False))
    db.session.commit()


def _already_recorded(case_id: int, detail: dict) -> bool:
    """Whether the case's latest event already records this same stop."""
    last = db.session.scalar(select(AuditEvent).where(AuditEvent.stream == stream_for(case_id))
                             .order_by(AuditEvent.seq.desc()).limit(1))
    return last is not None and last.event_type == "process_stopped" and last.data == detail


@dataclass(frozen=True)
class StoppedCase:
    """A case of a process held back by a stop, as its process owner sees it (no names)."""

    reference: str
    version: int
    element_id: str | None
    message: str
    at: datetime


def stopped_cases(process_key: str) -> list[StoppedCase]:
    """The open cases of a process whose timers are held back by a stop, with what stopped them."""
    rows = db.session.execute(
        select(Case.id, Case.reference, ProcessDefinition.version)
        .join(ProcessInstance, ProcessInstance.id == Case.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(Case.pathway == process_key, Case.status == "open",
               Case.id.in_(select(Timer.case_id).where(Timer.status == "waiting", Timer.claimed_by == HELD_BY)))
        .order_by(Case.reference)).all()
    return [_stopped(row) for row in rows]


def _stopped(row) -> StoppedCase:
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.stream == stream_for(row.id),
                                                       AuditEvent.event_type == "process_stopped")
                              .order_by(AuditEvent.seq.desc()).limit(1))
    data = event.data if event is not None else {}
    return StoppedCase(row.reference, row.version, data.get("element_id"), data.get("message", ""),
                       event.at if event is not None else clock.now())
