"""Case notes: what happened outside the process's tasks (a call, an email, a contact with the
police), written by someone on the case. A note is an event in the case's audit chain, so it can
never be edited or removed; it is corrected or added to only by an addendum beneath it."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app import clock
from app.calendar import parse_when
from app.extensions import db
from app.formkit import FieldSpec, PageError, answers_from, build_specs, page_errors, read_values
from app.models import AuditEvent, Case, User
from app.services.audit import lock_case, record_event
from app.services.cases import records
from app.services.errors import NotFound, ValidationFailed
from app.services.forms import check_answers

NOTE, ADDENDUM = "case_note", "case_note_addendum"
FORMS = Path(__file__).parent / "note_forms"
# A clock a few minutes fast on the writer's computer is not a note from the future.
FUTURE_GRACE = timedelta(minutes=10)
# Each field's message when it is left out or cannot be read, in the person's words.
MESSAGES = {
    "happened_at": "Enter the date and time it happened, for example 27 3 2026 and 14:30",
    "contact_kind": "Select what kind of contact it was",
    "with_whom": "Enter who it was with",
    "what_happened": "Enter what was said or agreed",
    "addendum": "Enter the correction or addition",
}


@dataclass
class Addendum:
    text: str
    by: str
    at: datetime


@dataclass
class CaseNote:
    """A note as written (`seq` is its place in the case's audit chain), with its addenda."""

    seq: int
    happened_at: datetime
    contact_kind: str
    with_whom: str
    text: str
    by: str
    recorded_at: datetime
    addenda: list[Addendum] = field(default_factory=list)


@dataclass
class NoteForm:
    """The note (or addendum) form as a page shows it: fields, what was typed, what is wrong."""

    case: Case
    specs: list[FieldSpec]
    values: dict = field(default_factory=dict)
    errors: list[PageError] = field(default_factory=list)
    note: CaseNote | None = None
    saved: bool = False


@lru_cache(maxsize=4)
def _form(name: str) -> tuple[str, list[FieldSpec]]:
    schema_text = (FORMS / f"{name}.schema.json").read_text()
    ui = json.loads((FORMS / f"{name}.uischema.json").read_text())
    return schema_text, build_specs(json.loads(schema_text), ui)


def kind_label(kind: str) -> str:
    """'phone_call' -> 'Phone call', from the form's own options."""
    _, specs = _form(NOTE)
    options = next(s.options for s in specs if s.key == "contact_kind")
    return dict(options).get(kind, kind.replace("_", " ").capitalize())


def open_note(reference: str, user: User) -> NoteForm:
    """A blank note form for a case this person may see (else NotFound)."""
    case = records.view_case(reference, user, "open_case_note")
    return NoteForm(case=case, specs=_form(NOTE)[1])


def add_note(reference: str, user: User, posted: dict[str, list[str]]) -> NoteForm:
    """Add a note from a posted form; the form comes back with its errors when an answer needs
    correcting, and nothing is written then."""
    case = records.view_case(reference, user, "add_case_note")
    specs = _form(NOTE)[1]
    form = NoteForm(case=case, specs=specs, values=read_values(specs, posted))
    try:
        _write_note(case, user, answers_from(specs, form.values, zone=current_app.config["CALENDAR_TIMEZONE"]))
    except ValidationFailed as failed:
        form.errors = page_errors(specs, failed.errors)
    else:
        form.saved = True
    return form


def record_note(reference: str, user: User, answers: dict) -> CaseNote:
    """Add a note from answers (the API): ValidationFailed with a message per field, or the note."""
    case = records.view_case(reference, user, "add_case_note")
    return notes_from([_write_note(case, user, answers)])[0]


def _write_note(case: Case, user: User, answers: dict) -> AuditEvent:
    answers = _trimmed(answers)
    errors = _errors(NOTE, answers)
    if "happened_at" not in errors:
        happened = _when(answers["happened_at"])
        if happened is None:
            errors["happened_at"] = MESSAGES["happened_at"]
        elif happened > clock.now() + FUTURE_GRACE:
            errors["happened_at"] = "The time it happened must be now or in the past"
    if errors:
        raise ValidationFailed(errors)
    lock_case(case.id)
    event = record_event(NOTE, case_id=case.id, actor=user, data={
        "happened_at": parse_when(answers["happened_at"]).isoformat(), "contact_kind": answers["contact_kind"],
        "with_whom": answers["with_whom"], "text": answers["what_happened"]})
    db.session.commit()
    return event


def open_addendum(reference: str, note_seq: int, user: User) -> NoteForm:
    """The addendum form under the note it corrects (NotFound for a note the case does not have)."""
    case = records.view_case(reference, user, "open_case_note")
    return NoteForm(case=case, specs=_form(ADDENDUM)[1], note=_note(case, note_seq))


def add_addendum(reference: str, note_seq: int, user: User, posted: dict[str, list[str]]) -> NoteForm:
    """Add an addendum beneath a note from a posted form; the note itself never changes."""
    case = records.view_case(reference, user, "add_case_note_addendum")
    specs = _form(ADDENDUM)[1]
    form = NoteForm(case=case, specs=specs, values=read_values(specs, posted), note=_note(case, note_seq))
    try:
        _write_addendum(case, form.note, user, answers_from(specs, form.values))
    except ValidationFailed as failed:
        form.errors = page_errors(specs, failed.errors)
    else:
        form.saved = True
    return form


def record_addendum(reference: str, note_seq: int, user: User, answers: dict) -> CaseNote:
    """Add an addendum from answers (the API); the note with its addenda."""
    case = records.view_case(reference, user, "add_case_note_addendum")
    _write_addendum(case, _note(case, note_seq), user, answers)
    return _note(case, note_seq)


def _write_addendum(case: Case, note: CaseNote, user: User, answers: dict) -> None:
    answers = _trimmed(answers)
    errors = _errors(ADDENDUM, answers)
    if errors:
        raise ValidationFailed(errors)
    lock_case(case.id)
    record_event(ADDENDUM, case_id=case.id, actor=user, data={"note_seq": note.seq, "text": answers["addendum"]})
    db.session.commit()


def _trimmed(answers: dict) -> dict:
    """Text without the spaces around it; an answer of only spaces is no answer."""
    trimmed = {key: value.strip() if isinstance(value, str) else value for key, value in answers.items()}
    return {key: value for key, value in trimmed.items() if value != ""}


def _when(text: str) -> datetime | None:
    try:
        return parse_when(text)
    except (TypeError, ValueError):
        return None


def _errors(name: str, answers: dict) -> dict[str, str]:
    """The form's checks, with the message for a missing or unreadable answer in plain words."""
    try:
        check_answers(_form(name)[0], answers)
    except ValidationFailed as failed:
        return {key: (message if "characters or fewer" in message or "control character" in message
                      else MESSAGES.get(key, message)) for key, message in failed.errors.items()}
    return {}


def _note(case: Case, seq: int) -> CaseNote:
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                         AuditEvent.event_type.in_((NOTE, ADDENDUM)))
                                .order_by(AuditEvent.seq)).all()
    note = next((n for n in notes_from(events) if n.seq == seq), None)
    if note is None:
        raise NotFound(f"Case {case.reference} has no note {seq}.")
    return note


def notes_from(events: list[AuditEvent]) -> list[CaseNote]:
    """The notes among a case's events, each with its addenda, in the order they happened."""
    notes = {event.seq: _read_note(event) for event in events if event.event_type == NOTE}
    for event in events:
        data = event.data or {}
        if event.event_type == ADDENDUM and data.get("note_seq") in notes:
            notes[data["note_seq"]].addenda.append(Addendum(str(data.get("text", "")), event.actor_label, parse_when(event.at)))
    return sorted(notes.values(), key=lambda note: (note.happened_at, note.seq))


def _read_note(event: AuditEvent) -> CaseNote:
    data = event.data or {}
    try:
        happened = parse_when(data.get("happened_at") or event.at)
    except (TypeError, ValueError):
        happened = event.at
    return CaseNote(seq=event.seq, happened_at=happened, contact_kind=str(data.get("contact_kind", "other")),
                    with_whom=str(data.get("with_whom", "")), text=str(data.get("text", "")),
                    by=event.actor_label, recorded_at=parse_when(event.at))
