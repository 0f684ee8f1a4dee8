"""A case's audit trail for the auditor and the pathway's manager (seed 003, 12.1.5: a clear audit trail
of the decision-making process): every task and who did it, every decision with the answers given and
the process version it was made on, the access log, and the result of checking the hash chain."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import AccessLog, AuditEvent, Case, HumanTask, Role, User
from app.services import access
from app.services.audit import stream_for, verify_stream
from app.services.cases.documents import case_documents
from app.services.cases.records import case_events, get_case
from app.services.cases.timeline import TimelineEntry, timeline
from app.services.errors import NotFound
from app.services.report_access import may_read_trail


@dataclass
class TaskLine:
    task: HumanTask
    role_name: str
    holder: str | None
    completed_by: str | None


@dataclass
class Decision:
    entry: TimelineEntry
    seq: int
    version: int | None


@dataclass
class ChainCheck:
    intact: bool
    events: int
    problems: list[tuple[str, int, str]]
    checked_at: datetime = field(default_factory=clock.now)


@dataclass
class AuditTrail:
    case: Case
    version: int
    tasks: list[TaskLine]
    decisions: list[Decision]
    events: list[tuple[AuditEvent, TimelineEntry]]
    access_log: list[tuple[AccessLog, str]]
    chain: ChainCheck
    documents: dict = field(default_factory=dict)  # id -> Document, to name the files in answers


def find_trail_case(reference: str, user: User) -> Case:
    """The case, if the user may read its audit trail (else NotFound, with no hint that it exists)."""
    try:
        case = get_case(reference.strip().upper())
    except NotFound:
        case = None
    if case is None or not may_read_trail(user, case):
        raise NotFound(f"No case {reference}.")
    return case


def audit_trail(reference: str, user: User) -> AuditTrail:
    """Everything the audit trail page shows; the view is written to the access log."""
    case = find_trail_case(reference, user)
    access.log_access(user, case, "view_audit_trail")
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.id)).all()
    roles = dict(db.session.execute(select(Role.key, Role.name)).all())
    names = _names({t.assignee_id for t in tasks} | {t.completed_by_id for t in tasks})
    events = case_events(case)
    entries = timeline(case, events, {t.id: t for t in tasks}, roles)
    return AuditTrail(
        case=case, version=case.instance.definition.version,
        tasks=[TaskLine(t, roles.get(t.role_key, t.lane or ""), names.get(t.assignee_id), names.get(t.completed_by_id))
               for t in tasks],
        decisions=[Decision(entry, event.seq, (event.data or {}).get("version"))
                   for event, entry in zip(events, entries) if event.event_type == "task_completed"],
        events=list(zip(events, entries)),
        access_log=access.access_log(case, limit=1000),
        chain=check_chain(case, len(events)), documents={d.id: d for d in case_documents(case)})


def check_chain(case: Case, events: int | None = None) -> ChainCheck:
    """The result of verifying the case's hash chain now."""
    problems = verify_stream(stream_for(case.id))
    if events is None:
        events = len(case_events(case))
    return ChainCheck(intact=not problems, events=events, problems=problems)


def _names(ids: set) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
