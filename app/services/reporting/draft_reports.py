"""The draft report a report process hands to people (bpmn/quarterly_report.bpmn): when a case of a
report process reaches a task and carries `report_pathway` and `report_period` (set by its script),
the governance report for that period is attached to the case as a document, small numbers
suppressed, so the task can be done from the case page."""
from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import exists, select

from app import clock
from app.extensions import db
from app.models import Case, CaseFact, Document, HumanTask, User
from app.services.audit import lock_case, record_event
from app.services.reporting.export import governance_csv
from app.services.reporting.governance import governance_report
from app.services.reporting.periods import period

DRAFT_FIELD = "draft_report"
SERVICE_ACCOUNT = "reporting-service"


def attach_draft_reports() -> int:
    """Attach the draft report to every report case with an open task and no draft yet; returns how many."""
    waiting = db.session.execute(
        select(HumanTask.case_id, HumanTask.id).where(
            HumanTask.status == "open",
            exists(select(CaseFact.id).where(CaseFact.case_id == HumanTask.case_id, CaseFact.key == "report_period")),
            ~exists(select(Document.id).where(Document.case_id == HumanTask.case_id, Document.field == DRAFT_FIELD)))
        .order_by(HumanTask.id)).all()
    done = set()
    for case_id, task_id in waiting:
        if case_id not in done:
            attach_draft_report(db.session.get(Case, case_id), task_id)
            done.add(case_id)
    return len(done)


def attach_draft_report(case: Case, task_id: int | None) -> Document:
    """Make the report named by the case's facts and attach it (audited); commits."""
    facts = dict(db.session.execute(select(CaseFact.key, CaseFact.value).where(CaseFact.case_id == case.id)).all())
    chosen = period(facts["report_period"])
    content = governance_csv(governance_report(facts.get("report_pathway", "pipot"), chosen)).encode("utf-8")
    key = secrets.token_hex(16)
    folder = Path(current_app.config["DOCUMENTS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(content)
    lock_case(case.id)
    document = Document(case_id=case.id, task_id=task_id, field=DRAFT_FIELD,
                        filename=f"{facts.get('report_pathway', 'pipot')}-report-{chosen.key}-draft.csv",
                        content_type="text/csv", size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                        storage_key=key, uploaded_by_id=_service_account().id, uploaded_at=clock.now())
    db.session.add(document)
    record_event("draft_report_attached", case_id=case.id, data={"period": chosen.key, "filename": document.filename})
    db.session.commit()
    return document


def _service_account() -> User:
    """The account generated documents are attributed to: it cannot sign in and holds no role."""
    user = db.session.scalar(select(User).where(User.username == SERVICE_ACCOUNT))
    if user is None:
        user = User(username=SERVICE_ACCOUNT, display_name="Reporting service", is_active=False,
                    password_hash=None, created_at=clock.now())
        db.session.add(user)
        db.session.flush()
    return user
