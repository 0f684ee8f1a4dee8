"""What matters on a case, first: the allegation, the next deadline, meetings, decisions and outcomes,
read from the latest answers on the case (labelled as the forms ask them)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from app.formkit import AnswerRow, describe_answers, form_specs
from app.models import AuditEvent, HumanTask

# The answers each part of the summary shows, in order, whichever pathway's forms ask them.
ALLEGATION = ("allegation_summary", "consultation_question")
MEETINGS = ("meeting_date", "meeting_time", "meeting_held_on", "pot_meeting_date", "strategy_discussion_date",
            "interim_meeting_date", "next_meeting_date", "outcome_meeting_held_on", "final_meeting_date")
PLANNED_MEETINGS = ("pot_meeting_date", "next_meeting_date")  # set for a meeting still to come
DECISIONS = ("threshold_met", "below_threshold_route", "strategy_discussion_threshold_met", "police_threshold_met",
             "employment_decision", "investigation_decision", "police_decision", "lado_decision", "dbs_decision",
             "interim_measure", "case_to_answer", "met_route", "review_decision", "dbs_referral_required",
             "dbs_referral_decision", "dbs_referral_made", "regulator_referral_decision", "regulator_referral_made")
OUTCOMES = ("police_outcome", "asc_enquiry_outcome", "lado_enquiry_outcome", "pipot_investigation_outcome",
            "strand_outcomes", "overall_outcome", "final_outcome", "disciplinary_outcome")


@dataclass
class AtAGlance:
    allegation: str = ""
    meetings: list[AnswerRow] = field(default_factory=list)
    decisions: list[AnswerRow] = field(default_factory=list)
    outcomes: list[AnswerRow] = field(default_factory=list)


def at_a_glance(events: list[AuditEvent], tasks: dict[int, HumanTask], forms: dict) -> AtAGlance:
    """The latest answer to each question the summary shows, labelled by the form that asked it."""
    latest: dict[str, AnswerRow] = {}
    wanted = set(ALLEGATION + DECISIONS + OUTCOMES)
    for event in events:
        answers = (event.data or {}).get("answers") if event.event_type == "task_completed" else None
        if not isinstance(answers, dict) or not wanted & {k.removeprefix("amended_") for k in answers}:
            continue
        task = tasks.get((event.data or {}).get("task_id"))
        specs = form_specs(forms, task.form_name, task.ui_form_name) if task else []
        for key in wanted & set(answers):
            rows = describe_answers(specs, {key: answers[key]})
            if rows and (rows[0].answer or rows[0].items):
                latest[key] = rows[0]
        _amend(latest, specs, answers, task.title if task else "")
    allegation = next((latest[k].answer for k in ALLEGATION if k in latest), "")
    return AtAGlance(allegation=allegation, meetings=meetings(events, tasks, forms),
                     decisions=[latest[k] for k in DECISIONS if k in latest],
                     outcomes=[latest[k] for k in OUTCOMES if k in latest])


def _amend(latest: dict[str, AnswerRow], specs, answers: dict, where: str) -> None:
    """An outcome decided earlier and amended in these answers (`amended_<outcome>`) reads as amended."""
    if answers.get("outcome_amended") is False:
        return
    for key in OUTCOMES:
        after = describe_answers(specs, {f"amended_{key}": answers.get(f"amended_{key}")}) if key in latest else []
        if after and after[0].answer:
            before = latest[key].answer.split(": ", 1)[0]
            latest[key] = AnswerRow(latest[key].question, f"{after[0].answer.split(': ', 1)[0]} "
                                                          f"(amended in “{where}”, was {before})")


def is_planned(key: str, answers: dict) -> bool:
    """A date set for a meeting still to come: the next meeting, the POT meeting being convened, or a
    meeting being arranged (its date given with a start time); the others are dates meetings were held."""
    return key in PLANNED_MEETINGS or (key == "meeting_date" and "meeting_time" in answers)


@dataclass
class _MeetingDate:
    when: date
    row: AnswerRow
    planned: bool
    seq: int  # the order it was recorded in


def meetings(events: list[AuditEvent], tasks: dict[int, HumanTask], forms: dict) -> list[AnswerRow]:
    """Each meeting held, named by the form that recorded it, in date order; a meeting planned is shown
    (as planned) only while no meeting has been recorded as held since it was planned."""
    found = []
    for seq, event in enumerate(events):
        answers = (event.data or {}).get("answers") if event.event_type == "task_completed" else None
        if not isinstance(answers, dict):
            continue
        task = tasks.get((event.data or {}).get("task_id"))
        specs = form_specs(forms, task.form_name, task.ui_form_name) if task else []
        title = form_title(forms, task.form_name) if task else ""
        for key in MEETINGS:
            when, rows = _date(answers.get(key)), describe_answers(specs, {key: answers.get(key)})
            if when is None or not rows:
                continue
            planned = is_planned(key, answers)
            label = f"Planned: {rows[0].question}" if planned else (title or rows[0].question)
            found.append(_MeetingDate(when, AnswerRow(label, rows[0].answer), planned, seq))
    held = [m.seq for m in found if not m.planned]
    kept = [m for m in found if not m.planned or not any(seq > m.seq for seq in held)]
    return [m.row for m in sorted(kept, key=lambda m: (m.when, m.seq))]


def form_title(forms: dict, name: str | None) -> str:
    """The title of a form of the process (a meeting's record names the meeting), or ''."""
    try:
        schema = json.loads(forms[name]) if name in forms else {}
    except ValueError:
        return ""
    return schema.get("title", "") if isinstance(schema, dict) else ""


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None
