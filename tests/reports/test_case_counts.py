"""The dashboard's open cases per pathway, unit and stage are counted by the steps themselves, in the
same transaction: after cases open, move through their stages, start linked cases and close, the
counts are those of the cases, and the dashboard shows them less the cases about the person looking."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, CaseCount
from app.services import people
from app.services.access import visible_cases_clause
from app.services.cases.counts import rebuild_case_counts
from app.services.reporting.dashboard import dashboard
from tests.reports.conftest import run_route


def _counted() -> dict:
    db.session.expire_all()
    return {(row.pathway, row.unit_id, row.stage): row.open_cases
            for row in db.session.scalars(select(CaseCount)) if row.open_cases}


def _from_cases() -> dict:
    rows = db.session.execute(select(Case.pathway, func.coalesce(Case.unit_id, 0), Case.stage, func.count())
                              .where(Case.status == "open").group_by(Case.pathway, Case.unit_id, Case.stage))
    return {(pathway, unit, stage): count for pathway, unit, stage, count in rows}


def test_the_steps_keep_the_counts_of_open_cases_by_pathway_unit_and_stage(app_ctx):
    run_route("lado/pot_meeting_unfounded")  # to its close
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.status == "closed")) >= 1
    run_route("pipot/children_lado_referral_made_in_time")  # a PiPoT case that opens a linked LADO case
    run_route("pipot/meeting_deadline_missed_over_christmas", before="Task_escalate_meeting_head")  # left open
    counted = _counted()
    assert counted == _from_cases()
    assert {pathway for pathway, _unit, _stage in counted} == {"pipot", "lado"}
    assert min(db.session.scalars(select(CaseCount.open_cases)).all()) >= 0  # never below nothing
    rebuild_case_counts()  # a recount from the cases agrees with what the steps kept
    assert _counted() == counted


def test_the_dashboard_counts_every_open_case_but_those_about_the_person_looking(app_ctx):
    run_route("pipot/meeting_deadline_missed_over_christmas", before="Task_escalate_meeting_head")
    run_route("pipot/dbs_referral_required", before="Task_triage")
    head = people.create_user("head", "Head", ["staff", "head_of_safeguarding"])
    board = dashboard("pipot", head)
    assert board.open_cases == 2 == sum(f.count for f in board.by_stage)

    subject_case = db.session.scalars(select(Case).where(Case.pathway == "pipot", Case.status == "open")
                                      .order_by(Case.id)).first()
    if not subject_case.subject_staff_number:  # the scenario's answers named nobody's staff number
        subject_case.subject_staff_number = "RDASH 4711"
        subject_case.subject_staff_number_key = people.staff_number_key("RDASH 4711")
        db.session.commit()
    about = people.create_user("head2", "Head who is a subject", ["staff", "head_of_safeguarding"],
                               staff_number=subject_case.subject_staff_number)
    assert about.staff_number_key and about.staff_number_key == subject_case.subject_staff_number_key
    seen = dict(db.session.execute(select(Case.stage, func.count()).where(
        Case.pathway == "pipot", Case.status == "open", visible_cases_clause(about, "pipot")).group_by(Case.stage)).all())
    board = dashboard("pipot", about)
    assert board.open_cases == 1 == sum(seen.values())
    assert {f.value: f.count for f in board.by_stage} == seen
