"""Meeting records: what a meeting's tasks recorded (attendees and apologies, quoracy, each agenda item
with what was said and decided, actions with owners and dates) as one printable record to circulate.
A user task with the property `record` makes one; tasks with the same record title make one record
(the PiPoT meeting's attendance with its decisions)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.formkit import AnswerRow, describe_answers, form_specs
from app.models import AuditEvent, Case, HumanTask, ProcessInstance, User
from app.services.cases.lifecycle import load_workflow
from app.services.cases.records import view_case
from app.services.errors import NotFound
from app.services.runtime import model_for_id
from app.workflow import task_data


@dataclass
class RecordPart:
    task_title: str
    completed_by: str
    completed_at: datetime
    rows: list[AnswerRow]


@dataclass
class MeetingRecord:
    case: Case
    title: str
    task_id: int
    held: datetime
    parts: list[RecordPart] = field(default_factory=list)
    printed_by: str = ""
    printed_at: datetime | None = None


@dataclass(frozen=True)
class RecordLink:
    title: str
    task_id: int
    at: datetime


def record_links(case: Case) -> list[RecordLink]:
    """The case's meeting records, oldest first: one per completed task closing a record."""
    titles = _titles(case)
    done = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "completed",
                                                      HumanTask.bpmn_id.in_(list(titles)))
                              .order_by(HumanTask.completed_at, HumanTask.id)).all() if titles else []
    return [RecordLink(titles[task.bpmn_id], task.id, task.completed_at) for task in done
            if _closes(task.bpmn_id, titles[task.bpmn_id], titles)]


def meeting_record(reference: str, user: User, task_id: int) -> MeetingRecord:
    """The printable record a completed task closes (NotFound unless the person may see the case)."""
    case = view_case(reference, user, "view_meeting_record", {"task_id": task_id})
    titles = _titles(case)
    task = db.session.get(HumanTask, task_id)
    if task is None or task.case_id != case.id or task.status != "completed" or task.bpmn_id not in titles:
        raise NotFound(f"No record {task_id}.")
    title = titles[task.bpmn_id]
    same = [bpmn_id for bpmn_id, t in titles.items() if t == title]
    earlier = db.session.scalars(select(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.status == "completed", HumanTask.bpmn_id.in_(same),
        HumanTask.completed_at <= task.completed_at).order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())).all()
    parts_tasks, seen = [], set()
    for other in earlier:  # the latest of each task of this record, up to the one asked for
        if other.bpmn_id in seen:
            if other.bpmn_id == task.bpmn_id:
                break
            continue
        seen.add(other.bpmn_id)
        parts_tasks.append(other)
    forms = case.instance.definition.forms or {}
    parts = [_part(other, forms) for other in reversed(parts_tasks)]
    quoracy = _quoracy(case, parts_tasks)
    for part in parts:
        held = next((row.answer for row in (part.rows if part else []) if row.question == "Date the meeting was held"), None)
        if part and quoracy and held:
            part.rows.append(quoracy.get(held) or AnswerRow("Quorate", "Not checked"))
    return MeetingRecord(case, title, task.id, task.completed_at, [p for p in parts if p], user.display_name,
                         clock.now())


def _quoracy(case: Case, tasks: list[HumanTask]) -> dict[str, AnswerRow]:
    """Whether each meeting was quorate (the process checks it: `meeting_history`), by the date it was held."""
    workflow, _model = load_workflow(db.session.get(ProcessInstance, case.instance_id))
    history = []
    for task in tasks:
        found = task_data(workflow, task.task_uuid).get("meeting_history")
        if isinstance(found, list) and len(found) > len(history):
            history = found
    rows = {}
    for entry in history:
        if not isinstance(entry, dict) or not entry.get("held_on"):
            continue
        missing = "; ".join(str(m).replace("_", " ") for m in entry.get("missing") or [])
        words = "Yes" if entry.get("quorate") else f"No: no {missing}" if missing else "No"
        rows[_long(entry["held_on"])] = AnswerRow("Quorate (Appendix G step 7)", words)
    return rows


def _long(value: str) -> str:
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%-d %B %Y")
    except ValueError:
        return str(value)


def _part(task: HumanTask, forms: dict) -> RecordPart | None:
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.case_id == task.case_id, AuditEvent.event_type == "task_completed",
        AuditEvent.data["task_id"].as_integer() == task.id).limit(1))
    answers = (event.data or {}).get("answers") if event is not None else None
    if not isinstance(answers, dict):
        return None
    rows = describe_answers(form_specs(forms, task.form_name, task.ui_form_name), answers)
    return RecordPart(task.title, event.actor_label, task.completed_at, rows)


def _titles(case: Case) -> dict[str, str]:
    tasks = model_for_id(case.instance.definition_id).user_tasks
    return {bpmn_id: info.record for bpmn_id, info in tasks.items() if info.record}


def _closes(bpmn_id: str, title: str, titles: dict[str, str]) -> bool:
    """The last task of a record in the model's order closes it (the decisions after the attendance)."""
    same = [b for b, t in titles.items() if t == title]
    return bpmn_id == same[-1]
