"""A case's chronology: notes, meetings, decisions, outcomes, clocks and what happened to the case,
in the order they happened (not the order they were written down), for the team, a court, a
regulator or a subject access request. Read from the audit chain, so it shows only what was recorded.

Which answers make an entry is read from the forms: a `_decision` or `_outcome` answer (with its
`_rationale`), and a date question marked `"x-chronology"` in its form file (a meeting held, the
incident as reported), `{"kind": "meeting" | "case", "says": "..."}`."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app import clock
from app.calendar import parse_when
from app.extensions import db
from app.formkit import AnswerRow, describe_answers, form_specs
from app.models import AuditEvent, Case, HumanTask, Role, User
from app.services.cases import records
from app.services.cases.notes import CaseNote, kind_label, notes_from
from app.services.cases.records import case_events
from app.services.cases.timeline import timeline
from app.services.errors import NotFound

KINDS = {
    "note": "Case notes",
    "meeting": "Meetings",
    "decision": "Decisions",
    "outcome": "Outcomes",
    "clock": "Clocks and escalations",
    "case": "The case: raised, linked, people added, closed",
    "work": "Other work done",
}
# The word beside each entry.
TAGS = {"note": "Note", "meeting": "Meeting", "decision": "Decision", "outcome": "Outcome", "clock": "Clock",
        "case": "Case", "work": "Work"}
CASE_EVENTS = {"case_opened", "case_linked", "case_migrated", "case_closed", "team_member_added",
               "task_reassigned", "message_undelivered", "process_stopped"}
# A clock in the chronology when it runs out (a deadline missed, an escalation); the clocks that are
# running are on the case page.
CLOCK_EVENTS = {"timer_fired", "escalation_raised"}


@dataclass
class ChronologyEntry:
    at: datetime
    kinds: set[str]
    title: str
    who: str
    recorded_at: datetime
    date_only: bool = False
    details: list[AnswerRow] = field(default_factory=list)
    note: CaseNote | None = None
    record_seq: int | None = None  # a meeting's: its record is at /cases/<reference>/meetings/<seq>

    @property
    def kind(self) -> str:
        """The kind shown beside the entry (the first that applies, in the order of KINDS)."""
        return next(k for k in KINDS if k in self.kinds)


@dataclass
class Chronology:
    case: Case
    pathway_name: str
    entries: list[ChronologyEntry]
    shown: list[str]
    total: int
    printed_by: str
    printed_at: datetime


def case_chronology(reference: str, user: User, shown: list[str] | None = None) -> Chronology:
    """The chronology of a case this person may see (else NotFound), filtered to `shown` kinds; logged."""
    case = records.view_case(reference, user, "view_chronology")
    events = case_events(case)
    tasks = {t.id: t for t in db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    roles = dict(db.session.execute(select(Role.key, Role.name)).all())
    sentences = timeline(case, events, tasks, roles)
    forms = case.instance.definition.forms
    entries = [_note_entry(note) for note in notes_from(events)]
    for event, sentence in zip(events, sentences, strict=True):
        entries.extend(_event_entries(event, sentence.text, forms, tasks))
    entries.sort(key=lambda e: (e.at, e.recorded_at))
    wanted = [k for k in (shown or []) if k in KINDS] or list(KINDS)
    return Chronology(case=case, pathway_name=case.instance.definition.name or case.pathway,
                      entries=[e for e in entries if e.kinds & set(wanted)], shown=wanted, total=len(entries),
                      printed_by=user.display_name, printed_at=clock.now())


def _note_entry(note: CaseNote) -> ChronologyEntry:
    return ChronologyEntry(at=note.happened_at, kinds={"note"}, title=f"{kind_label(note.contact_kind)} with "
                           f"{note.with_whom}", who=note.by, recorded_at=note.recorded_at, note=note)


def _event_entries(event: AuditEvent, text: str, forms: dict, tasks: dict[int, HumanTask]) -> list[ChronologyEntry]:
    at = parse_when(event.at)
    base = {"who": event.actor_label, "recorded_at": at}
    if event.event_type in CASE_EVENTS:
        kinds = {"case", "outcome"} if event.event_type == "case_closed" else {"case"}
        return [ChronologyEntry(at=at, kinds=kinds, title=_closed(event) or text, **base)]
    if event.event_type in CLOCK_EVENTS:
        return [ChronologyEntry(at=at, kinds={"clock"}, title=text, **base)]
    if event.event_type != "task_completed":
        return []
    data = event.data or {}
    answers = data.get("answers") if isinstance(data.get("answers"), dict) else {}
    task = tasks.get(data.get("task_id"))
    form_name = task.form_name if task else None
    marks = _marks(forms, form_name)
    specs = form_specs(forms, form_name, task.ui_form_name if task else None)
    found = _dated(answers, marks, data.get("task", ""), base)
    meeting = next((e for e in found if "meeting" in e.kinds), None)
    kinds = {"decision"} if any(_is_decision(k) for k in answers) else set()
    kinds |= {"outcome"} if any(_is_outcome(k) for k in answers) else set()
    details = describe_answers(specs, {k: v for k, v in answers.items()
                                       if _is_decision(k) or _is_outcome(k) or k.endswith("_rationale")})
    if meeting is not None:  # the decisions belong to the meeting that made them
        meeting.record_seq = event.seq
        meeting.kinds |= kinds
        meeting.details = details
    else:
        found.append(ChronologyEntry(at=at, kinds=kinds or {"work"}, title=text, details=details, **base))
    return found


def _dated(answers: dict, marks: dict[str, dict], task_title: str, base: dict) -> list[ChronologyEntry]:
    """An entry for each marked date answered: the meeting held, the incident as reported."""
    found = []
    for key, mark in marks.items():
        moment = _moment(answers.get(key))
        if moment is not None:
            at, date_only = moment
            kind = mark.get("kind") if mark.get("kind") in KINDS else "case"
            title = mark.get("says") or task_title
            found.append(ChronologyEntry(at=at, kinds={kind}, title=title, date_only=date_only, **base))
    return found


def _marks(forms: dict, form_name: str | None) -> dict[str, dict]:
    if not form_name or form_name not in forms:
        return {}
    try:
        properties = json.loads(forms[form_name]).get("properties", {})
    except ValueError:
        return {}
    marks = {}
    for key, prop in properties.items():
        mark = prop.get("x-chronology") if isinstance(prop, dict) else None
        if isinstance(mark, str):
            mark = {"kind": mark}
        if isinstance(mark, dict):
            marks[key] = mark
    return marks


def _moment(value) -> tuple[datetime, bool] | None:
    """A date answer as the start of that day where the service keeps time, or a date and time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            zone = ZoneInfo(current_app.config["CALENDAR_TIMEZONE"])
            return datetime.combine(day, time(0, 0), tzinfo=zone), True
        return parse_when(value), False
    except ValueError:
        return None


def _is_decision(key: str) -> bool:
    return key.endswith(("_decision", "threshold_met", "_route")) or key == "decision"


def _is_outcome(key: str) -> bool:
    return key.endswith("_outcome") or key == "outcome"


def _closed(event: AuditEvent) -> str:
    if event.event_type != "case_closed":
        return ""
    outcome = (event.data or {}).get("outcome")
    return f"The case closed: {str(outcome).replace('_', ' ')}" if outcome else ""


@dataclass
class MeetingPart:
    """One form's answers in a meeting's record: the arrangements, what was recorded at it, the decisions."""

    title: str
    by: str
    at: datetime
    rows: list[AnswerRow]


@dataclass
class MeetingRecord:
    case: Case
    title: str
    held: datetime
    date_only: bool
    parts: list[MeetingPart]
    printed_by: str
    printed_at: datetime


def meeting_record(reference: str, seq: int, user: User) -> MeetingRecord:
    """The record of a meeting to circulate: the task that recorded it (a `task_completed` event
    whose form marks the date held) with the forms its mark names before and after it (else NotFound)."""
    case = records.view_case(reference, user, "view_meeting_record")
    events = case_events(case)
    event = next((e for e in events if e.seq == seq and e.event_type == "task_completed"), None)
    tasks = {t.id: t for t in db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    forms = case.instance.definition.forms
    found = _meeting_of(event, forms, tasks) if event is not None else None
    if found is None:
        raise NotFound(f"Case {reference} has no meeting record {seq}.")
    mark, held = found
    completions = [e for e in events if e.event_type == "task_completed"]
    before = [e for e in completions if e.seq < seq and _form_of(e, tasks) in mark.get("record", {}).get("before", [])]
    after = [e for e in completions if e.seq > seq and _form_of(e, tasks) in mark.get("record", {}).get("after", [])]
    chosen = before[-1:] + [event] + after[:1]
    return MeetingRecord(case=case, title=mark.get("says") or "Meeting", held=held[0], date_only=held[1],
                         parts=[_part(e, forms, tasks) for e in chosen], printed_by=user.display_name,
                         printed_at=clock.now())


def _meeting_of(event: AuditEvent, forms: dict, tasks: dict[int, HumanTask]) -> tuple[dict, tuple] | None:
    answers = (event.data or {}).get("answers") or {}
    for key, mark in _marks(forms, _form_of(event, tasks)).items():
        moment = _moment(answers.get(key)) if mark.get("kind") == "meeting" else None
        if moment is not None:
            return mark, moment
    return None


def _form_of(event: AuditEvent, tasks: dict[int, HumanTask]) -> str | None:
    task = tasks.get((event.data or {}).get("task_id"))
    return task.form_name if task else None


def _part(event: AuditEvent, forms: dict, tasks: dict[int, HumanTask]) -> MeetingPart:
    data = event.data or {}
    task = tasks.get(data.get("task_id"))
    specs = form_specs(forms, task.form_name, task.ui_form_name) if task else []
    answers = data.get("answers") if isinstance(data.get("answers"), dict) else {}
    return MeetingPart(title=str(data.get("task", "")), by=event.actor_label, at=parse_when(event.at),
                       rows=describe_answers(specs, answers))
