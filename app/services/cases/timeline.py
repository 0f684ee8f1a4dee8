"""A case's audit events in plain English: who did what, when, with the answers they submitted."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.formkit import AnswerRow, describe_answers, form_specs
from app.models import AuditEvent, Case, HumanTask
from app.services.notifications.timeline_words import SENTENCES as NOTIFICATION_SENTENCES
from app.services.notifications.timeline_words import notification_words

SENTENCES = {
    "case_opened": "Opened the case",
    "case_closed": "The case closed",
    "case_linked": "Linked this case to {linked_case} ({reason})",
    "case_migrated": "Moved the case to version {version} of the process",
    "task_ready": "“{task}” is waiting for {role_name}",
    "escalation_raised": "Escalation: “{task}” is waiting for {role_name}",
    "task_claimed": "Picked up “{task}”",
    "task_unclaimed": "Gave back “{task}”",
    "task_reassigned": "Passed “{task}” to {to}: {reason}",
    "task_completed": "Completed “{task}”",
    "task_cancelled": "“{task}” was no longer needed",
    "timer_started": "Clock started: {timer}{on}",
    "timer_fired": "Clock ran out: {timer}{on}",
    "timer_cancelled": "Clock stopped: {timer}{on}",
    "called_now": "Called now: {what}. Why: {reason}",
    "case_note_added": "Added a case note",
    "team_member_added": "Added {name} to the case team: {reason}",
    "message_undelivered": "Could not start a linked case ({message}): {reason}",
    "process_stopped": "The process stopped at {element_id}: {message}. Nothing was saved; tell the process owner",
    **NOTIFICATION_SENTENCES,
}


@dataclass
class TimelineEntry:
    at: datetime
    actor: str
    text: str
    answers: list[AnswerRow] = field(default_factory=list)
    kind: str = "case"  # work, tasks, clocks, messages, case: for the timeline's filter


def timeline(case: Case, events: list[AuditEvent], tasks: dict[int, HumanTask],
             role_names: dict[str, str]) -> list[TimelineEntry]:
    """Every event of the case, oldest first, as sentences."""
    forms = case.instance.definition.forms
    return [_entry(event, forms, tasks, role_names) for event in events]


def _entry(event: AuditEvent, forms: dict, tasks: dict[int, HumanTask], role_names: dict) -> TimelineEntry:
    data = dict(event.data or {})
    data["role_name"] = role_names.get(data.get("role") or "", data.get("role") or "the team")
    data["on"] = f" on “{data['guards']}”" if data.get("guards") else ""
    data.update(notification_words(data))
    template = SENTENCES.get(event.event_type, event.event_type.replace("_", " ").capitalize())
    try:
        text = template.format_map(_Blank(data))
    except (ValueError, IndexError):
        text = template
    amended = data.get("amended") if event.event_type == "task_completed" else None
    if isinstance(amended, dict) and amended.get("reason"):
        text = f"{text}, changing an answer given earlier on the case. Why: {amended['reason']}"
    entry = TimelineEntry(at=event.at, actor=event.actor_label, text=text, kind=_kind(event.event_type))
    if event.event_type == "task_completed" and isinstance(data.get("answers"), dict):
        task = tasks.get(data.get("task_id"))
        specs = form_specs(forms, task.form_name, task.ui_form_name) if task else []
        entry.answers = describe_answers(specs, data["answers"])
    return entry


def _kind(event_type: str) -> str:
    if event_type == "task_completed":
        return "work"
    if event_type.startswith(("timer_", "escalation", "reminder", "called_now")):
        return "clocks"
    if event_type.startswith(("notification", "email", "mail")):
        return "messages"
    if event_type.startswith("task_"):
        return "tasks"
    return "case"


class _Blank(dict):
    def __missing__(self, key):
        return ""
