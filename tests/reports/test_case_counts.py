"""The dashboard's open cases per pathway, unit and stage are counted by the steps themselves, in the
same transaction: after cases open, move through their stages, start linked cases and close, the
counts are those of the cases, and the dashboard shows them less the cases about the person looking."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, CaseCount, CaseCountChange, DashboardCount, DashboardCountChange
from app.services import people
from app.services.access import visible_cases_clause
from app.services.cases.counts import counted_by_stage, fold_count_changes, rebuild_case_counts
from app.services.reporting.dashboard import dashboard
from tests.reports.conftest import run_route


def _counted() -> dict:
    fold_count_changes()  # the steps' changes, added into the counts as the worker does
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


def test_steps_only_insert_their_changes_and_the_fold_adds_them_in(app_ctx):
    """A step never updates a shared count row (two steps in different processes would wait there for
    each other's commit): it inserts its changes. Readers add up counts and changes, so the figures
    are the same before and after the worker folds them in; a second fold finds nothing."""
    run_route("pipot/meeting_deadline_missed_over_christmas", before="Task_escalate_meeting_head")
    run_route("lado/pot_meeting_unfounded")  # opened and closed: its changes add up to nothing
    assert db.session.scalar(select(func.count()).select_from(CaseCount)) == 0
    assert db.session.scalar(select(func.count()).select_from(DashboardCount)) == 0
    changes = db.session.scalar(select(func.count()).select_from(CaseCountChange))
    marks = db.session.scalar(select(func.count()).select_from(DashboardCountChange))
    assert changes > 2 and marks > 2
    before = {pathway: counted_by_stage(pathway) for pathway in ("pipot", "lado")}
    assert sum(before["pipot"].values()) == 1 and before["lado"] == {}
    assert fold_count_changes() == changes + marks
    assert db.session.scalar(select(func.count()).select_from(CaseCountChange)) == 0
    assert db.session.scalar(select(func.count()).select_from(DashboardCountChange)) == 0
    assert {pathway: counted_by_stage(pathway) for pathway in ("pipot", "lado")} == before
    assert fold_count_changes() == 0
    assert _counted() == _from_cases()
