"""Appendix G step 11 as a timer-start process: one instance always waits at its start event; on the
first working day of each quarter the timer fires, the draft report for the quarter just ended is
attached to the case, and the safeguarding team and the head of safeguarding get their tasks."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseFact, Document, HumanTask, ProcessSchedule, Timer
from app.services import definitions, people
from app.services.cases.scheduled_starts import open_scheduled_instances
from app.services.cases.timers import sweep_timers
from app.services.reporting.draft_reports import attach_draft_reports
from app.services.tasks import human_tasks

ROOT = Path(__file__).resolve().parents[2]
UTC = timezone.utc


def deploy_quarterly_report():
    people.seed_roles()
    path = ROOT / "bpmn" / "quarterly_report.bpmn"
    return definitions.deploy_definition(path.read_bytes(), path.name)[0]


def waiting_timers() -> list[Timer]:
    return db.session.scalars(select(Timer).where(Timer.status == "waiting").order_by(Timer.id)).all()


def open_task(case: Case) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open"))


def test_one_instance_waits_for_the_first_working_day_of_the_next_quarter(app_ctx):
    with time_machine.travel(datetime(2026, 11, 23, 10, tzinfo=UTC), tick=False):
        deploy_quarterly_report()
        opened = open_scheduled_instances("worker-1")
        assert len(opened) == 1 and opened[0].status == "open"
        assert open_scheduled_instances("worker-2") == []  # one is enough
    [timer] = waiting_timers()
    # 1 January 2027 is a Friday bank holiday: the quarter's first working day is Monday 4 January, 09:00.
    assert timer.bpmn_id == "StartEvent_quarter_begins"
    assert timer.due_at == datetime(2027, 1, 4, 9, tzinfo=UTC)


def test_a_worker_holding_the_claim_keeps_others_from_opening_a_second_instance(app_ctx):
    with time_machine.travel(datetime(2026, 11, 23, 10, tzinfo=UTC), tick=False) as traveller:
        deploy_quarterly_report()
        db.session.add(ProcessSchedule(process_key="quarterly_report", claimed_by="worker-1",
                                       claim_expires_at=datetime(2026, 11, 23, 10, 2, tzinfo=UTC)))
        db.session.commit()
        assert open_scheduled_instances("worker-2") == []
        traveller.move_to(datetime(2026, 11, 23, 10, 5, tzinfo=UTC))  # worker-1 died: its claim expired
        assert len(open_scheduled_instances("worker-2")) == 1
    assert db.session.get(ProcessSchedule, "quarterly_report").claimed_by is None


def test_the_quarter_starts_the_report_with_the_draft_attached_and_the_next_instance_waits(app_ctx, documents_dir):
    with time_machine.travel(datetime(2026, 11, 23, 10, tzinfo=UTC), tick=False) as traveller:
        deploy_quarterly_report()
        [case] = open_scheduled_instances("worker-1")
        traveller.move_to(datetime(2027, 1, 4, 8, 59, tzinfo=UTC))
        sweep_timers("worker-1")
        assert open_task(case) is None
        traveller.move_to(datetime(2027, 1, 4, 9, 1, tzinfo=UTC))
        sweep_timers("worker-1")
        db.session.refresh(case)
        task = open_task(case)
        assert (task.bpmn_id, task.role_key) == ("Task_check_quarterly_figures", "safeguarding_team")
        assert _facts(case) >= {("report_period", "2026-Q4"), ("report_period_start", "2026-10-01"),
                                ("report_period_end", "2027-01-01"), ("report_pathway", "pipot")}

        assert attach_draft_reports() == 1 and attach_draft_reports() == 0
        [draft] = db.session.scalars(select(Document).where(Document.case_id == case.id)).all()
        text = (documents_dir / draft.storage_key).read_text(encoding="utf-8")
        assert draft.filename == "pipot-report-2026-Q4-draft.csv"
        assert "PiPoT governance report" in text and "1 October 2026 to 31 December 2026" in text

        [following] = open_scheduled_instances("worker-1")
        assert following.id != case.id
        assert [t.due_at for t in waiting_timers()] == [datetime(2027, 4, 1, 8, tzinfo=UTC)]  # 09:00 BST

        _complete(task, "safeguarding_team", {"figures_checked": True, "adherence_audit_summary": "All clocks met."})
        task = open_task(case)
        assert (task.bpmn_id, task.role_key) == ("Task_present_quarterly_report", "head_of_safeguarding")
        _complete(task, "head_of_safeguarding", {
            "report_reviewed": True, "key_themes": "Boundaries.", "learning_to_share": "Supervision.",
            "smca_meeting_date": "2027-01-20", "sab_requested": False})
    db.session.refresh(case)
    assert (case.status, case.outcome) == ("closed", "report_presented")


def _complete(task: HumanTask, role: str, answers: dict) -> None:
    user = people.create_user(f"{role}-{task.id}", role, ["staff", role])
    human_tasks.complete_task(task.id, user, answers)


def _facts(case: Case) -> set[tuple[str, str]]:
    return set(db.session.execute(select(CaseFact.key, CaseFact.value).where(CaseFact.case_id == case.id)).all())
