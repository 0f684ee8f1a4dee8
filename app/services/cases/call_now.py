"""Calling now what a clock would start later (a LADO review, where an interim POT meeting is called,
before its ten working days are up): a timer whose model gives it `call_now` words is brought forward
by the pathway's oversight role, with a reason, audited."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Case, ProcessInstance, Timer, User
from app.services.access import oversees
from app.services.audit import lock_case, record_event
from app.services.cases.lifecycle import load_workflow, process_step, save_step
from app.services.cases.records import view_case
from app.services.errors import NotFound, ValidationFailed
from app.services.runtime import model_for_id
from app.workflow import bring_timer_forward, fire_timers


@dataclass(frozen=True)
class CallNow:
    bpmn_id: str
    words: str


def callable_now(case: Case, user: User) -> list[CallNow]:
    """The waiting clocks of the case this person may bring forward, with the words of their button."""
    if case.status != "open" or not oversees(user, case):
        return []
    timers = model_for_id(case.instance.definition_id).timers
    waiting = db.session.scalars(select(Timer.bpmn_id).where(Timer.case_id == case.id, Timer.status == "waiting")).all()
    return [CallNow(bpmn_id, timers[bpmn_id].call_now) for bpmn_id in dict.fromkeys(waiting)
            if bpmn_id in timers and timers[bpmn_id].call_now]


def call_now(reference: str, user: User, bpmn_id: str, reason: str) -> Case:
    """Bring the waiting clock forward to now and fire it: what it starts is ready at once."""
    case = view_case(reference, user, "call_now")
    offered = {c.bpmn_id: c for c in callable_now(case, user)}
    if bpmn_id not in offered:
        raise NotFound("Nothing to call now on this case.")
    if not reason.strip():
        raise ValidationFailed({"reason": "Enter why it is needed now."})
    lock_case(case.id)  # before its chain or its instance is read, as every writer to a case
    instance = db.session.get(ProcessInstance, case.instance_id)
    read_version = instance.version
    try:
        with process_step(), db.session.no_autoflush:
            workflow, model = load_workflow(instance)
            bring_timer_forward(workflow, bpmn_id, clock.now() - timedelta(seconds=1))
            record_event("called_now", case_id=case.id, actor=user, data={
                "timer": model.timers[bpmn_id].name, "bpmn_id": bpmn_id, "what": offered[bpmn_id].words,
                "reason": reason.strip()})
            fire_timers(workflow)
            save_step(case, instance, workflow, model, user, read_version)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return case
