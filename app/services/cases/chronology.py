"""A case's chronology: notes, decisions, meetings, clocks and outcomes in the order they happened, for
a court, a regulator or a subject access request (filterable; printed from the browser)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.formkit import AnswerRow, describe_answers, form_specs
from app.models import AuditEvent, Case, HumanTask, User
from app.services.cases.at_a_glance import DECISIONS, MEETINGS, OUTCOMES, form_title, is_planned
from app.services.cases.notes import NoteRow, case_notes
from app.services.cases.records import case_events, view_case

KINDS = {"note": "Case notes", "decision": "Decisions and work done", "meeting": "Meetings",
         "clock": "Clocks and escalations", "outcome": "Outcomes and closure"}


@dataclass
class ChronologyEntry:
    at: datetime
    kind: str
    what: str
    who: str = ""
    details: list[str] = field(default_factory=list)
    note: NoteRow | None = None
    date_only: bool = False  # a meeting's date, with no time of day
    planned: bool = False  # a meeting's date set before it was held
    recorded_at: datetime | None = None  # when a meeting's date was recorded

    @property
    def kind_text(self) -> str:
        return KINDS.get(self.kind, self.kind)


@dataclass
class Chronology:
    case: Case
    entries: list[ChronologyEntry]
    kind: str = ""
    printed_by: str = ""
    printed_at: datetime | None = None


def chronology(reference: str, user: User, kind: str = "") -> Chronology:
    """The case's chronology as this person may see it (NotFound otherwise); logged as a view."""
    case = view_case(reference, user, "view_chronology")
    tasks = {t.id: t for t in db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    forms = case.instance.definition.forms or {}
    zone = ZoneInfo(current_app.config["CALENDAR_TIMEZONE"])
    entries = [ChronologyEntry(row.note.happened_at, "note", _note_what(row), row.author, [row.note.summary], row,
                               date_only=_no_time(row.note.happened_at, zone))
               for row in case_notes(case)]
    decided: dict[str, AnswerRow] = {}  # each outcome as last decided, for an amendment to say from what
    for event in case_events(case):
        entries += _from_event(event, tasks, forms, zone, decided)
    entries = _held_or_planned(entries)
    entries.sort(key=lambda e: e.at)
    if kind in KINDS:
        entries = [e for e in entries if e.kind == kind]
    return Chronology(case, entries, kind if kind in KINDS else "", user.display_name, clock.now())


def _no_time(moment: datetime, zone: ZoneInfo) -> bool:
    return moment.astimezone(zone).time() == time(0, 0)


def _note_what(row: NoteRow) -> str:
    with_whom = f" with {row.note.with_whom}" if row.note.with_whom else ""
    return f"{row.kind_text}{with_whom}"


def _from_event(event: AuditEvent, tasks: dict, forms: dict, zone: ZoneInfo,
                decided: dict[str, AnswerRow]) -> list[ChronologyEntry]:
    data = event.data or {}
    if event.event_type == "task_completed" and isinstance(data.get("answers"), dict):
        task = tasks.get(data.get("task_id"))
        specs = form_specs(forms, task.form_name, task.ui_form_name) if task else []
        title = form_title(forms, task.form_name) if task else ""
        return _from_completion(event, specs, zone, decided) + _meetings(event, specs, title, zone)
    return _from_case_event(event)


def _from_case_event(event: AuditEvent) -> list[ChronologyEntry]:
    data, who = event.data or {}, event.actor_label
    if event.event_type == "case_opened":
        return [ChronologyEntry(event.at, "decision", "The case was opened", who)]
    if event.event_type == "case_closed":
        return [ChronologyEntry(event.at, "outcome", "The case was closed", who)]
    if event.event_type == "called_now":
        return [ChronologyEntry(event.at, "clock", f"Called now: {data.get('what')}", who, [f"Why: {data.get('reason')}"])]
    if event.event_type == "timer_fired" and _before_due(event):
        return []  # brought forward by a person: the "Called now" entry says so, and why
    if event.event_type in ("timer_fired", "escalation_raised"):
        words = (f"Clock ran out: {data.get('timer')}" if event.event_type == "timer_fired"
                 else f"Escalation: “{data.get('task')}”")
        return [ChronologyEntry(event.at, "clock", words, who)]
    return []


def _from_completion(event: AuditEvent, specs, zone: ZoneInfo, decided: dict[str, AnswerRow]) -> list[ChronologyEntry]:
    data, who = event.data, event.actor_label
    answers, task = data["answers"], data.get("task")
    found = [ChronologyEntry(event.at, "decision", f"Completed “{task}”", who,
                             _said(specs, answers, DECISIONS) + _amended(specs, data.get("amended")))]
    outcomes = _said(specs, answers, OUTCOMES)
    if outcomes:
        found.append(ChronologyEntry(event.at, "outcome", f"Outcome recorded in “{task}”", who, outcomes))
    amended = _outcome_amended(specs, answers, decided)
    if amended:
        found.append(ChronologyEntry(event.at, "outcome", f"Outcome amended in “{task}”", who, amended))
    for key in OUTCOMES:
        decided.update({key: row for row in describe_answers(specs, {key: answers[key]})} if key in answers else {})
    return found


def _meetings(event: AuditEvent, specs, record: str, zone: ZoneInfo) -> list[ChronologyEntry]:
    """The meeting dates a completion records: a meeting held, named by its record; a date planned."""
    answers, found = event.data["answers"], []
    for key in MEETINGS:
        when = _date(answers.get(key))
        if when is not None:
            label = (describe_answers(specs, {key: answers[key]}) or [None])[0]
            title = label.question if label else key.replace("_", " ").capitalize()
            planned = is_planned(key, answers)
            what = f"Planned: {title}" if planned else (f"{record} held" if record else title)
            found.append(ChronologyEntry(datetime.combine(when, time(0), tzinfo=zone), "meeting",
                                         f"{what} (recorded in “{event.data.get('task')}”)",
                                         event.actor_label, date_only=True, planned=planned, recorded_at=event.at))
    return found


def _held_or_planned(entries: list[ChronologyEntry]) -> list[ChronologyEntry]:
    """A meeting once: on the day it was held; on its planned day only while no meeting has been
    recorded as held since the plan was made."""
    held = [e.recorded_at for e in entries if e.kind == "meeting" and not e.planned]
    return [e for e in entries if not e.planned or not any(at > e.recorded_at for at in held)]


def _outcome_amended(specs, answers: dict, decided: dict[str, AnswerRow]) -> list[str]:
    """An outcome decided earlier and changed here (`amended_<outcome>`, e.g. at closure), in words: from
    what to what, and why."""
    if answers.get("outcome_amended") is False:
        return []
    lines = []
    for key, before in list(decided.items()):
        after = describe_answers(specs, {f"amended_{key}": answers.get(f"amended_{key}")})
        if after and after[0].answer and after[0].answer != before.answer:
            lines.append(f"Amended '{before.question}' from {_named(before.answer)} to {_named(after[0].answer)}")
            decided[key] = AnswerRow(before.question, after[0].answer)
    reasons = [value for key, value in answers.items() if key.endswith("amendment_reason") and value]
    return lines + [f"Why: {reason}" for reason in reasons] if lines else []


def _named(outcome: str) -> str:
    """An outcome by its name, without the definition its option carries ("Unfounded: no evidence ...")."""
    return outcome.split(": ", 1)[0]


def _before_due(event: AuditEvent) -> bool:
    due = (event.data or {}).get("due_at")
    try:
        due = datetime.fromisoformat(due) if isinstance(due, str) else due
    except ValueError:
        return False
    return isinstance(due, datetime) and due.tzinfo is not None and event.at < due


def _amended(specs, amended) -> list[str]:
    """An amendment in words: each changed answer, from what to what, and why."""
    if not isinstance(amended, dict) or not isinstance(amended.get("changed"), dict):
        return []
    lines = []
    for key, change in amended["changed"].items():
        before = describe_answers(specs, {key: change.get("from")})
        after = describe_answers(specs, {key: change.get("to")})
        if before and after:
            lines.append(f"Amended '{before[0].question}' from {before[0].answer} to {after[0].answer}")
    return lines + ([f"Why: {amended['reason']}"] if amended.get("reason") else [])


def _said(specs, answers: dict, keys: tuple[str, ...]) -> list[str]:
    rows = describe_answers(specs, {k: answers[k] for k in keys if k in answers})
    return [f"{row.question}: {row.answer}" for row in rows if row.answer]


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None
