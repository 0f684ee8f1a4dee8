"""The head of safeguarding is notified at every stage of a PiPoT case (seed 003, 5.1: "notified and
consulted at every stage"): the model names the role in `stage_watchers`, and each new stage tells the
holders, in the service and by email with no case details; nobody else is told."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import Notification
from app.services.cases import lifecycle
from app.services.tasks import human_tasks
from tests.escalations.cases import ALLEGATION, PIPOT, PIPOT_START, SUBJECT_NAME, deploy, open_tasks, person, send_mail

MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def test_the_head_of_safeguarding_hears_of_each_new_stage(app_ctx, smtp):
    deploy("pipot")
    head = person("head_of_safeguarding", name="Hana Head")
    manager, team = person("reporting_manager"), person("safeguarding_team")
    with time_machine.travel(MONDAY_10AM, tick=False) as clock:
        case = lifecycle.start_case("pipot", PIPOT_START, person())
        for bpmn_id, who in (("Task_first_steps", manager), ("Task_complete_referral", manager),
                             ("Task_check_referral", team)):
            [task] = open_tasks(case, bpmn_id)
            human_tasks.complete_task(task.id, who, PIPOT[bpmn_id])
        clock.shift(timedelta(minutes=5))
        send_mail()
    notes = db.session.scalars(select(Notification).where(Notification.user_id == head.id,
                                                          Notification.kind == "stage")).all()
    assert len(notes) == 2  # first steps -> Referral, Referral -> Triage: one per new stage
    assert {note.link for note in notes} == {f"/cases/{case.reference}"}
    assert not db.session.scalars(select(Notification).where(Notification.user_id == manager.id,
                                                             Notification.kind == "stage")).all()
    mail = smtp.to(head.email)
    assert mail and all(SUBJECT_NAME not in m.as_string() and ALLEGATION[:30] not in m.as_string() for m in mail)
