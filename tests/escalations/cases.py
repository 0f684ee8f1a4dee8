"""PiPoT and LADO cases driven through the services, with the answers of the scenario files; people
with email addresses; the on-call rota."""
from __future__ import annotations

import json
from datetime import datetime
from itertools import count
from pathlib import Path

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Case, HumanTask, OnCallShift, OutboxNotification, User
from app.services import definitions, people
from app.services.cases import lifecycle
from app.services.cases.timers import sweep_timers
from app.services.definitions import latest_definition
from app.services.notifications.delivery import send_due_mail
from app.services.runtime import get_calendar
from app.services.tasks import human_tasks

ROOT = Path(__file__).resolve().parents[2]
_numbers = count(1)


def scenario_answers(relative: str) -> tuple[dict, dict]:
    """(the start's answers, task id -> the first answers given to it) from a scenario file."""
    steps = json.loads((ROOT / "tests" / "scenarios" / relative).read_text(encoding="utf-8"))["steps"]
    start = next(step["start"]["answers"] for step in steps if "start" in step)
    answers: dict[str, dict] = {}
    for step in steps:
        if "complete" in step:
            answers.setdefault(step["complete"], step.get("answers", {}))
    return start, answers


# Forms refuse a "became aware" or "completed on" date after today; these tests reuse the answers of
# scenarios that start later than their own clocks, so such dates are moved before any of them.
PAST = {"date_became_aware", "incident_date", "referral_sent_on", "meeting_held_on", "action_completed_on",
        "investigation_completed_on", "employer_aware_date", "referred_date", "action_closed_on"}
EARLIEST_CLOCK = "2026-11-16"


def _dated_before_the_tests(answers: dict) -> dict:
    for key in PAST & set(answers):
        if isinstance(answers[key], str) and answers[key] > EARLIEST_CLOCK:
            answers[key] = EARLIEST_CLOCK
    return answers


def _scenario(relative: str) -> tuple[dict, dict]:
    start, answers = scenario_answers(relative)
    return _dated_before_the_tests(start), {task: _dated_before_the_tests(a) for task, a in answers.items()}


PIPOT_START, PIPOT = _scenario("pipot/meeting_deadline_missed_over_christmas.json")
PIPOT_OUTCOME_START, PIPOT_OUTCOME = _scenario("pipot/outcome_substantiated.json")
LADO_START, LADO = _scenario("lado/missed_initial_response_escalation.json")
PIPOT_REFERRAL = PIPOT["Task_complete_referral"]
PIPOT["Task_escalate_meeting_director"] = PIPOT["Task_escalate_lado_director"] = {
    "director_escalation_acknowledged": True, "director_escalation_on_call_manager_contacted": True,
    "director_escalation_action": "Rang the on-call manager, who is dealing with it."}
# what no email may ever contain: the person the allegation is about and what is alleged
SUBJECT_NAME, SUBJECT_DOB = PIPOT_START["subject_name"], PIPOT_REFERRAL["subject_date_of_birth"]
ALLEGATION = PIPOT_START["allegation_summary"]


def deploy(pathway: str) -> None:
    """Deploy bpmn/<pathway>.bpmn with the forms in forms/ (once per test)."""
    if latest_definition(pathway, required=False) is None:
        path = ROOT / "bpmn" / f"{pathway}.bpmn"
        definitions.deploy_definition(path.read_bytes(), path.name,
                                      load_form=definitions.forms_dir_loader(str(ROOT / "forms")))


def person(*roles: str, name: str | None = None, email: bool = True, password: str | None = None) -> User:
    """A member of staff holding `roles`, with an email address unless told otherwise."""
    n = next(_numbers)
    username = f"staff{n}"
    return people.create_user(username, name or f"Staff Member {n}", sorted({*roles, "staff"}),
                              email=f"{username}@trust.example.org" if email else None, password=password)


def on_call(role_key: str, user: User, starts: datetime, ends: datetime) -> None:
    db.session.add(OnCallShift(role_key=role_key, user_id=user.id, starts_at=starts, ends_at=ends))
    db.session.commit()


def open_tasks(case: Case, bpmn_id: str | None = None) -> list[HumanTask]:
    db.session.expire_all()
    statement = select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")
    if bpmn_id:
        statement = statement.where(HumanTask.bpmn_id == bpmn_id)
    return list(db.session.scalars(statement.order_by(HumanTask.id)))


def complete(case: Case, bpmn_id: str, user: User, answers: dict | None = None) -> HumanTask:
    """Complete the (oldest) open task with that id as `user`, with the scenario's answers by default."""
    [task, *_] = open_tasks(case, bpmn_id) or [None]
    assert task is not None, f"no open {bpmn_id}: {[t.bpmn_id for t in open_tasks(case)]}"
    source = {**PIPOT, **PIPOT_OUTCOME} if case.pathway == "pipot" else LADO
    return human_tasks.complete_task(task.id, user, answers if answers is not None else source[bpmn_id])


def pipot_meeting_due(reporter: User, crew: dict[str, User], **start_answers) -> Case:
    """A PiPoT case whose threshold was met just now: the PiPoT meeting is due in 3 working days."""
    deploy("pipot")
    case = lifecycle.start_case("pipot", PIPOT_START | {"date_became_aware": today()} | start_answers, reporter)
    sent_today = {"Task_complete_referral": PIPOT["Task_complete_referral"] | {"referral_sent_on": today()}}
    for bpmn_id, role in (("Task_first_steps", "reporting_manager"), ("Task_complete_referral", "reporting_manager"),
                          ("Task_check_referral", "safeguarding_team"), ("Task_triage", "triage_panel")):
        complete(case, bpmn_id, crew[role], sent_today.get(bpmn_id))
    return case


def lado_referral(referrer: User) -> Case:
    """A LADO referral received just now: the initial response is due in 1 working day."""
    deploy("lado")
    return lifecycle.start_case("lado", LADO_START, referrer)


def today() -> str:
    """Today where the service keeps time: a case raised the day its manager became aware of it, so
    the clocks before the threshold count from the moment the test starts."""
    return get_calendar().local(clock.now()).date().isoformat()


def sweep() -> None:
    sweep_timers("test")
    db.session.expire_all()


def send_mail():
    result = send_due_mail("test")
    db.session.expire_all()
    return result


def outbox_for(user: User) -> list[OutboxNotification]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxNotification).where(OutboxNotification.user_id == user.id)
                                   .order_by(OutboxNotification.id)))


ACTION_OWNERS = ("reporting_manager", "safeguarding_team", "triage_panel", "meeting_chair", "people_experience",
                 "head_of_safeguarding")


def pipot_actions_agreed(reporter: User, crew: dict[str, User], actions: list[dict]) -> Case:
    """A PiPoT case whose meeting has just agreed `actions` (no investigation, no interim measures)."""
    case = pipot_meeting_due(reporter, crew)
    complete(case, "Task_arrange_meeting", crew["safeguarding_team"], PIPOT_OUTCOME["Task_arrange_meeting"])
    complete(case, "Task_record_attendance", crew["safeguarding_team"], PIPOT_OUTCOME["Task_record_attendance"])
    decisions = PIPOT_OUTCOME["Task_record_meeting_decisions"] | {
        "meeting_actions": actions, "employment_decision": "no_change", "investigation_decision": "no_investigation",
        "public_interest": False, "police_decision": "not_required"}
    for field in ("police_liaison", "public_interest_details"):
        decisions.pop(field, None)
    complete(case, "Task_record_meeting_decisions", crew["meeting_chair"], decisions)
    return case
