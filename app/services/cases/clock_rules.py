"""The statutory clocks the reports measure adherence against, per pathway.

A clock is met or breached according to a case fact (`lado_informed_in_time` = `yes`/`no`, from
the pathway's own timeliness fields) and/or the firing of a BPMN timer (the timer that escalates
when the clock runs out). The reasons recorded for a breach are the answers to the fields named
in `reason_fields` (the escalation forms), kept as case facts `reason:<clock key>`.

Resolution targets (1 week, 1 month, 3 months, 12 months, in working days) come from the
REPORT_RESOLUTION_TARGETS setting.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class ClockRule:
    key: str
    pathway: str
    title: str
    fact: str | None = None
    timer: str | None = None
    reason_fields: tuple[str, ...] = ()
    target_days: int | None = None  # resolution clocks: working days from referral to conclusion


CLOCK_RULES = (
    ClockRule("lado_informed", "lado", "LADO informed within 1 working day of the employer becoming aware",
              fact="lado_informed_in_time"),
    ClockRule("initial_response", "lado", "Initial response within 1 working day of the referral",
              fact="initial_response_in_time", timer="Timer_initial_response",
              reason_fields=("escalation_action_taken",)),
    ClockRule("first_steps", "pipot", "Manager's first steps within 1 working day of becoming aware",
              timer="Timer_first_steps_deadline",
              reason_fields=("first_steps_escalation_action", "first_steps_escalation_notes")),
    ClockRule("first_steps_out_of_hours", "pipot",
              "On-call manager's first steps (out of hours) within 1 working day of becoming aware",
              timer="Timer_first_steps_on_call_deadline", reason_fields=("director_escalation_action",)),
    ClockRule("referral_sent", "pipot", "Referral sent within 2 working days of becoming aware",
              timer="Timer_referral_deadline", reason_fields=("referral_escalation_action", "referral_escalation_notes")),
    ClockRule("referral_checked", "pipot", "Referral checked and forwarded within 1 working day of being sent",
              timer="Timer_referral_check_deadline",
              reason_fields=("referral_check_escalation_action", "referral_check_escalation_notes")),
    ClockRule("triage", "pipot", "Threshold decided within 1 working day of the referral being forwarded",
              timer="Timer_triage_deadline", reason_fields=("triage_escalation_action", "triage_escalation_notes")),
    ClockRule("lado_decisions_carried_out", "lado", "Every decision of the POT meeting to act now carried out",
              fact="decisions_carried_out", reason_fields=("decisions_not_carried_out",)),
    ClockRule("lado_referral", "pipot", "LADO referral within 1 working day of becoming aware (children involved)",
              timer="Timer_lado_deadline", reason_fields=("lado_escalation_action", "lado_escalation_notes")),
    ClockRule("meeting_lado_referral", "pipot",
              "LADO referral the PiPoT meeting decided made within 1 working day of the meeting",
              timer="Timer_meeting_lado_deadline", reason_fields=("lado_escalation_action", "lado_escalation_notes")),
    ClockRule("investigation", "pipot", "Investigation complete by its target date",
              timer="Timer_investigation_overdue",
              reason_fields=("investigation_escalation_action", "investigation_escalation_notes")),
    ClockRule("outcome_meeting", "pipot", "Outcome meeting held by its target date",
              timer="Timer_outcome_meeting_overdue",
              reason_fields=("outcome_meeting_escalation_action", "outcome_meeting_escalation_notes")),
    ClockRule("decisions_carried_out", "pipot", "Every decision of the PiPoT meeting to act now carried out",
              fact="decisions_carried_out", reason_fields=("decisions_not_carried_out",)),
    ClockRule("pipot_meeting", "pipot", "PiPoT meeting within 3 working days of the threshold decision",
              timer="Timer_meeting_deadline",
              reason_fields=("meeting_escalation_head_action", "meeting_escalation_on_call_action",
                             "rearrangement_reason")),
)


def resolution_targets() -> list[tuple[str, str, int]]:
    """(key, label, working days) of each resolution target, from REPORT_RESOLUTION_TARGETS
    (`1 week=5;1 month=20;3 months=65;12 months=260`)."""
    targets = []
    for part in current_app.config["REPORT_RESOLUTION_TARGETS"].split(";"):
        label, _, days = part.partition("=")
        if label.strip() and days.strip().isdigit():
            key = "resolved_" + label.strip().replace(" ", "_")
            targets.append((key, label.strip(), int(days)))
    return targets


def clock_rules(pathway: str) -> list[ClockRule]:
    """The clocks measured for a pathway: its own, then the resolution targets."""
    rules = [rule for rule in CLOCK_RULES if rule.pathway == pathway]
    rules += [ClockRule(key, pathway, f"Concluded within {label} ({days} working days)", target_days=days)
              for key, label, days in resolution_targets()]
    return rules


def reason_fields() -> dict[str, tuple[str, ...]]:
    """Clock key -> the data fields whose answers explain a breach."""
    return {rule.key: rule.reason_fields for rule in CLOCK_RULES if rule.reason_fields}
