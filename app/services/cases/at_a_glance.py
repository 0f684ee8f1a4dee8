"""What matters on a case, first: the allegation, the next deadline, meetings, decisions and outcomes,
read from the latest answers on the case (labelled as the forms ask them)."""
from __future__ import annotations

from dataclasses import dataclass, field

from app.formkit import AnswerRow, describe_answers, form_specs
from app.models import AuditEvent, HumanTask

# The answers each part of the summary shows, in order, whichever pathway's forms ask them.
ALLEGATION = ("allegation_summary", "consultation_question")
MEETINGS = ("meeting_date", "meeting_time", "meeting_held_on", "pot_meeting_date", "strategy_discussion_date",
            "interim_meeting_date", "next_meeting_date", "outcome_meeting_held_on", "final_meeting_date")
PLANNED_MEETINGS = ("pot_meeting_date", "next_meeting_date")  # set for a meeting still to come
DECISIONS = ("threshold_met", "below_threshold_route", "strategy_discussion_threshold_met", "police_threshold_met",
             "employment_decision", "investigation_decision", "police_decision", "lado_decision", "dbs_decision",
             "interim_measure", "case_to_answer")
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
    wanted = set(ALLEGATION + MEETINGS + DECISIONS + OUTCOMES)
    for event in events:
        answers = (event.data or {}).get("answers") if event.event_type == "task_completed" else None
        if not isinstance(answers, dict) or not wanted & set(answers):
            continue
        task = tasks.get((event.data or {}).get("task_id"))
        specs = form_specs(forms, task.form_name, task.ui_form_name) if task else []
        for key in wanted & set(answers):
            rows = describe_answers(specs, {key: answers[key]})
            if rows and (rows[0].answer or rows[0].items):
                latest[key] = rows[0]
    allegation = next((latest[k].answer for k in ALLEGATION if k in latest), "")
    return AtAGlance(allegation=allegation, meetings=[latest[k] for k in MEETINGS if k in latest],
                     decisions=[latest[k] for k in DECISIONS if k in latest],
                     outcomes=[latest[k] for k in OUTCOMES if k in latest])
