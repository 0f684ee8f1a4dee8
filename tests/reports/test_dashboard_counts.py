"""The dashboard's clock-state figures come from counts the steps keep by day (tasks due by role and
person, each case's next clock, escalations, suspensions, the day a case opened). After steps, timers
firing, closures, claims and reassignments the kept counts are those a recount from scratch gives, and
every figure, for every kind of reader (oversight everywhere, oversight of one trust, a team member,
a head who is the subject of a case), is what counting the tasks, timers and cases they may see gives."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import and_, func, select

from app import clock
from app.extensions import db
from app.models import Case, DashboardCount, HumanTask
from app.services import people
from app.services.access import visible_cases_clause
from app.services.cases import lifecycle
from app.services.cases.counts import fold_count_changes
from app.services.cases.dashboard_counts import rebuild_dashboard_counts
from app.services.cases.timers import sweep_timers
from app.services.reporting.dashboard import dashboard, figure_cases
from app.services.runtime import get_calendar
from app.services.tasks import human_tasks, inbox
from tests.need_to_know.conftest import CONCERN, org  # noqa: F401  (the trust, its units and people)
from tests.reports.conftest import run_route


def _kept() -> tuple[dict, dict]:
    fold_count_changes()  # the steps' changes, added into the counts as the worker does
    db.session.expire_all()
    counts = {(r.pathway, r.unit_id, r.figure, r.holder, r.day): r.counted
              for r in db.session.scalars(select(DashboardCount)) if r.counted}
    marks = {case.id: sorted(map(tuple, case.dashboard_marks or [])) for case in db.session.scalars(select(Case))}
    return counts, marks


@pytest.fixture(autouse=True)
def monday_morning():
    """A Monday in business hours: the managers' first steps, not the on-call manager's."""
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), tick=True):
        yield


def _first_steps(case):
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open",
                                                     HumanTask.bpmn_id == "Task_first_steps"))


def _cases(org):
    """Concerns in care groups A and B and one naming no unit, one about a head of safeguarding; a
    task claimed, one given back, one passed to a colleague."""
    cases = [lifecycle.start_case("pipot", CONCERN | extra, org.person("raiser")) for extra in (
        {"case_unit": "care-group-a"}, {"case_unit": "care-group-a"}, {"case_unit": "care-group-b"},
        {"subject_staff_number": "HS 0001"})]
    manager = org.person("manager-a")
    human_tasks.claim_task(_first_steps(cases[0]).id, manager)
    task = _first_steps(cases[1])
    human_tasks.claim_task(task.id, manager)
    inbox.unclaim_task(task.id, manager)
    human_tasks.claim_task(task.id, manager)
    inbox.reassign_task(task.id, manager, org.person("manager-a2").id, "On leave from tomorrow")
    return cases


@pytest.fixture
def busy_dashboard(org):
    """Scenario routes (LADO to its close and part way, PiPoT timers fired to an escalation) and the
    concerns above; one more the next morning; that evening, Monday's first steps' clocks fire."""
    run_route("lado/pot_meeting_unfounded")
    run_route("lado/pot_meeting_unfounded", before="Task_action_social_care")  # left open
    run_route("pipot/meeting_deadline_missed_over_christmas", before="Task_escalate_meeting_head")
    run_route("pipot/investigation_and_outcome_meeting_overdue", before="Task_conduct_investigation")  # suspended
    cases = _cases(org)
    monday = clock.now()
    with time_machine.travel(monday + timedelta(days=1), tick=False):
        cases.append(lifecycle.start_case("pipot", CONCERN | {"case_unit": "care-group-b", "date_became_aware": "2026-11-24"},
                                          org.person("raiser")))
    with time_machine.travel(monday + timedelta(days=1, hours=8), tick=False):
        assert sweep_timers("test").claimed >= 1
    return cases


def test_the_kept_counts_are_those_a_recount_from_scratch_gives(busy_dashboard):
    kept = _kept()
    assert {figure for _p, _u, figure, _h, _d in kept[0]} == {"due", "clock", "escalation", "suspended", "opened"}
    assert {pathway for pathway, *_rest in kept[0]} == {"pipot", "lado"}
    assert min(db.session.scalars(select(DashboardCount.counted))) >= 0
    rebuild_dashboard_counts()
    assert _kept() == kept


def test_a_closed_case_adds_nothing(app_ctx):
    case = run_route("lado/pot_meeting_unfounded").case
    db.session.refresh(case)
    assert case.status == "closed" and not case.dashboard_marks
    assert not [r for r in db.session.scalars(select(DashboardCount)) if r.counted]


def _end_of_today(now):
    local = get_calendar().local(now)
    return (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).astimezone(now.tzinfo)


def _tasks_due(pathway, user, window, now, column) -> dict:
    """The open tasks due in the window of the cases the reader may see, counted one by one."""
    due = HumanTask.due_at < now if window == "overdue" else and_(HumanTask.due_at >= now,
                                                                   HumanTask.due_at < _end_of_today(now))
    visible = select(Case.id).where(Case.pathway == pathway, Case.status == "open", visible_cases_clause(user, pathway))
    rows = db.session.execute(select(column, func.count()).where(
        HumanTask.case_id.in_(visible), HumanTask.status == "open", due).group_by(column))
    kind = "role" if column is HumanTask.role_key else "person"
    return {f"{kind}:{key if key is not None else 'unassigned'}": count for key, count in rows}


def _readers(org):
    return {
        "head everywhere": people.create_user("head-all", "Head everywhere", ["staff", "head_of_safeguarding"]),
        "head of the trust": org.person("head-of-safeguarding"),
        "head who is a subject": people.create_user("head-subject", "Head subject", ["staff", "head_of_safeguarding"],
                                                    staff_number="hs 0001"),
        "team member": org.person("manager-a2"),
        "lado manager": people.create_user("lado-manager", "LADO manager", ["staff", "lado_manager", "lado"]),
    }


@pytest.mark.parametrize("later", [timedelta(hours=5), timedelta(days=1, hours=5), timedelta(days=1, hours=8),
                                   timedelta(days=3), timedelta(days=9), timedelta(days=40)])
def test_every_figure_is_what_counting_the_cases_the_reader_may_see_gives(org, busy_dashboard, later):
    readers = _readers(org)
    with time_machine.travel(clock.now() + later, tick=False):
        now = clock.now()
        for who, user in readers.items():
            for pathway in ("pipot", "lado"):
                board = dashboard(pathway, user)
                for window in ("overdue", "due_today"):
                    for kind, column in (("role", HumanTask.role_key), ("person", HumanTask.assignee_id)):
                        shown = {f.value: f.count for f in getattr(board, f"{window}_by_{kind}")}
                        assert shown == _tasks_due(pathway, user, window, now, column), (who, pathway, window, kind)
                for figure in [*board.headline, *board.open_longer]:
                    listed = figure_cases(pathway, user, figure.figure, figure.value)
                    assert figure.count == len(listed), (who, pathway, figure.figure, figure.value)
    assert dashboard("pipot", readers["head everywhere"]).open_cases > dashboard("pipot", readers["team member"]).open_cases


def test_a_head_never_counts_the_case_about_themselves(org, busy_dashboard):
    readers = _readers(org)
    about = db.session.scalar(select(Case).where(Case.subject_staff_number_key == people.staff_number_key("HS 0001")))
    with time_machine.travel(about.opened_at + timedelta(days=35), tick=False):
        everywhere = {f.value: f.count for f in dashboard("pipot", readers["head everywhere"]).open_longer}
        subject = {f.value: f.count for f in dashboard("pipot", readers["head who is a subject"]).open_longer}
    assert everywhere["1"] == subject["1"] + 1


def test_recount_dashboard_counts_the_cases_already_there(org, runner):
    """After the upgrade that adds the counts, the command counts the cases opened before it."""
    lifecycle.start_case("pipot", CONCERN | {"case_unit": "care-group-a"}, org.person("raiser"))
    kept = _kept()
    db.session.execute(DashboardCount.__table__.delete())
    db.session.execute(Case.__table__.update().values(dashboard_marks=None))
    db.session.commit()
    assert _kept() != kept
    result = runner.invoke(args=["recount-dashboard"])
    assert result.exit_code == 0, result.output
    assert _kept() == kept
