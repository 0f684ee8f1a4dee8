"""Case notes: what happened outside the tasks (a call, an email, a contact with the police), written
down by the case team. Append-only: nothing is edited or deleted; a mistake is corrected by an
addendum to the note, which the chronology shows with it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Case, CaseNote, User
from app.services.audit import lock_case, record_event
from app.services.cases.records import view_case
from app.services.errors import NotFound, ValidationFailed

KINDS = {"phone_call": "Phone call", "email": "Email", "meeting": "Meeting or visit",
         "police": "Contact with the police", "letter": "Letter", "other": "Something else"}
MAX_SUMMARY = 10_000


@dataclass
class NoteRow:
    note: CaseNote
    author: str
    kind_text: str
    addenda: list[NoteRow] = field(default_factory=list)


def case_notes(case: Case) -> list[NoteRow]:
    """The case's notes by when they happened, each with its addenda (oldest first)."""
    rows = db.session.execute(select(CaseNote, User.display_name).join(User, User.id == CaseNote.author_id)
                              .where(CaseNote.case_id == case.id)
                              .order_by(CaseNote.happened_at, CaseNote.id)).all()
    made = {note.id: NoteRow(note, author, KINDS.get(note.kind, note.kind)) for note, author in rows}
    top = []
    for note, _author in rows:
        if note.corrects_id and note.corrects_id in made:
            made[note.corrects_id].addenda.append(made[note.id])
        else:
            top.append(made[note.id])
    return top


def note_to_correct(case: Case, note_id: int | None) -> CaseNote | None:
    if not note_id:
        return None
    note = db.session.get(CaseNote, note_id)
    if note is None or note.case_id != case.id:
        raise NotFound(f"No note {note_id}.")
    return note


def add_note(reference: str, user: User, values: dict) -> CaseNote:
    """Record a note (or, with `corrects`, an addendum to one) on a case the person may see."""
    case = view_case(reference, user, "add_case_note")
    corrects = note_to_correct(case, _int(values.get("corrects")))
    kind, happened, with_whom, summary = _checked(values, corrects)
    lock_case(case.id)
    note = CaseNote(case_id=case.id, author_id=user.id, recorded_at=clock.now(), happened_at=happened,
                    kind=kind, with_whom=with_whom, summary=summary, corrects_id=corrects.id if corrects else None)
    db.session.add(note)
    db.session.flush()
    record_event("case_note_added", case_id=case.id, actor=user, data={
        "note_id": note.id, "kind": kind, "happened_at": happened.isoformat(), "with_whom": with_whom,
        "summary": summary, "corrects": corrects.id if corrects else None})
    db.session.commit()
    return note


def _checked(values: dict, corrects: CaseNote | None) -> tuple[str, datetime, str, str]:
    errors: dict[str, str] = {}
    kind = (values.get("kind") or "").strip()
    if corrects is not None:
        kind = kind or corrects.kind
    if kind not in KINDS:
        errors["kind"] = "Select what kind of contact it was."
    with_whom = (values.get("with_whom") or "").strip()
    if len(with_whom) > 300:
        errors["with_whom"] = "Who it was with must be 300 characters or fewer."
    summary = (values.get("summary") or "").strip()
    if not summary:
        errors["summary"] = ("Enter what the correction is." if corrects is not None else
                             "Enter what was said or done.")
    elif len(summary) > MAX_SUMMARY:
        errors["summary"] = f"What was said or done must be {MAX_SUMMARY:,} characters or fewer."
    happened = _happened(values, errors)
    if errors:
        raise ValidationFailed(errors)
    return kind, happened, with_whom, summary


def _happened(values: dict, errors: dict) -> datetime | None:
    zone = ZoneInfo(current_app.config["CALENDAR_TIMEZONE"])
    parts = [str(values.get(f"happened-{p}") or "").strip() for p in ("day", "month", "year")]
    at = str(values.get("happened-time") or "").strip()
    if not any(parts):
        errors["happened"] = "Enter the date it happened."
        return None
    try:
        day = date(int(parts[2]), int(parts[1]), int(parts[0]))
        moment = time.fromisoformat(at.replace(".", ":").zfill(5)) if at else time(0, 0)  # midnight: no time given
    except ValueError:
        errors["happened"] = "Enter a real date, like 27 3 2026, and a time like 14:30."
        return None
    happened = datetime.combine(day, moment, tzinfo=zone)
    if happened.date() > clock.now().astimezone(zone).date():
        errors["happened"] = "The date it happened must be today or in the past."
    return happened


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def add_note_from_answers(reference: str, user: User, answers: dict) -> CaseNote:
    """`add_note` for the API: `happened_at` is ISO 8601 text (a date, or a date and time where the
    service keeps time); `corrects` the id of the note an addendum corrects."""
    values = {key: answers.get(key) for key in ("kind", "with_whom", "summary", "corrects")}
    happened = str(answers.get("happened_at") or "").strip()
    try:
        moment = datetime.fromisoformat(happened) if happened else None
    except ValueError:
        raise ValidationFailed({"happened_at": "Enter when it happened as a date, like 2026-03-27, or a date and "
                                               "time, like 2026-03-27T14:30."}) from None
    if moment is not None:
        if moment.tzinfo is not None:
            moment = moment.astimezone(ZoneInfo(current_app.config["CALENDAR_TIMEZONE"]))
        values |= {"happened-day": moment.day, "happened-month": moment.month, "happened-year": moment.year,
                   "happened-time": f"{moment:%H:%M}" if "T" in happened or " " in happened else ""}
    try:
        return add_note(reference, user, values)
    except ValidationFailed as failed:  # the form's names for the API's
        raise ValidationFailed({("happened_at" if key == "happened" else key): message
                                for key, message in failed.errors.items()}) from None
