"""Case facts: the reportable answers of each case, kept as a projection (DESIGN.md decision 3).

Reports need pathway answers that the case record does not hold (where a concern came from, the
kind of allegation, suspensions, DBS and regulator referrals, meetings, timeliness). The engine
step that changes a case calls `update_reporting_projection` in its own transaction, so the facts
are never behind the workflow and no report deserializes one. `app.services.reporting.backfill`
rebuilds them for cases saved before this projection existed (`flask backfill-reporting`).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import current_app
from sqlalchemy import bindparam, select, tuple_

from app import clock
from app.extensions import db
from app.models import Case, CaseFact, RetentionRecord
from app.services.audit import insert_with_events, record_event
from app.services.cases.clock_rules import reason_fields
from app.services.cases.retention_rules import retention_review_date
from app.services.report_access import PATHWAY_MANAGERS
from app.services.runtime import get_calendar

Facts = dict[str, list[str]]
YES, NO = "yes", "no"
REPORT_FIELDS = ("report_pathway", "report_period", "report_period_start", "report_period_end")
LADO_THEMES = {
    "historical_allegation": "historical_allegation",
    "closely_associated_person": "closely_associated_person",
    "transferable_risk_private_life": "transferable_risk",
    "after_authorised_restraint": "after_authorised_restraint",
    "no_named_children": "no_named_children",
    "subject_health_professional": "health_professional",
    "media_interest": "media_interest",
}


_FACTS = CaseFact.__table__
_CASE_FACTS = select(_FACTS.c.id, _FACTS.c.key, _FACTS.c.value).where(_FACTS.c.case_id == bindparam("case_id"))
_DELETE_FACTS = _FACTS.delete().where(_FACTS.c.id.in_(bindparam("ids", expanding=True)))
_DELETE_PAIRS = _FACTS.delete().where(_FACTS.c.case_id == bindparam("case_id"),
                                      tuple_(_FACTS.c.key, _FACTS.c.value).in_(bindparam("pairs", expanding=True)))


def update_reporting_projection(case: Case, data: dict, held: Facts | None = None) -> Facts:
    """Bring the case's facts (and, once it is closed, its retention review date) into line with the
    workflow data of the step being saved, and return them. `held`: the facts the case is known to
    have (those of its data before the step; {} for a new case), so that nothing is read when nothing
    reportable changed. Part of the caller's transaction: does not commit."""
    facts = sync_case_facts(case, data, held)
    if case.status == "closed":
        set_retention_review(case)
    return facts


def sync_case_facts(case: Case, data: dict, held: Facts | None = None) -> Facts:
    """Replace the case's facts with those `data` gives (only the differences are written); return them.
    `held`: the facts stored now, when the caller knows them (those its workflow data gave before the
    step: every step keeps them so, and `flask backfill-reporting` after an upgrade that changes what
    is reported): the difference is written without reading them. Otherwise they are read."""
    facts = facts_for(case, data)
    wanted = _pairs(facts)
    if held is not None:
        known = _pairs(held)
        if wanted == known:
            return facts  # nothing reportable changed: no read, no write
        gone = known - wanted
        if gone:
            db.session.execute(_DELETE_PAIRS, {"case_id": case.id, "pairs": sorted(gone)})
        _insert_facts(case.id, wanted - known)
        return facts
    have = {(row.key, row.value): row.id for row in db.session.execute(_CASE_FACTS, {"case_id": case.id})}
    gone = [row_id for pair, row_id in have.items() if pair not in wanted]
    if gone:
        db.session.execute(_DELETE_FACTS, {"ids": gone})
    _insert_facts(case.id, wanted - have.keys())
    return facts


def _pairs(facts: Facts) -> set[tuple[str, str]]:
    return {(key, value) for key, values in facts.items() for value in values}


def _insert_facts(case_id: int, pairs: set[tuple[str, str]]) -> None:
    # nothing in the step reads them back; another step's reads wait for its commit
    insert_with_events(_FACTS, [{"case_id": case_id, "key": key, "value": value} for key, value in sorted(pairs)])


def facts_for(case: Case, data: dict) -> Facts:
    """The facts a case's data gives: pathway answers, breach reasons, report periods."""
    extract = EXTRACTORS.get(case.pathway)
    facts = extract(data) if extract else {}
    facts |= _reasons(data)
    facts |= {field: _one(data.get(field)) for field in REPORT_FIELDS}
    return {key: [value[:255] for value in values] for key, values in facts.items() if values}


def _pipot(data: dict) -> Facts:
    return {
        "referral": [YES if data.get("referral_received_at") else NO],
        "threshold_met": _flag(data.get("threshold_met")),
        "source": _one(data.get("concern_source")),
        "sector": _one(data.get("employment_basis")),
        "category": _many(data.get("threshold_limbs")),
        "theme": _many(data.get("learning_themes")),
        "suspended": [YES] if "suspension" in (data.get("employment_decision"), data.get("interim_measure")) else [],
        "dbs_referral": _pipot_dbs(data),
        "decisions_carried_out": _flag(data.get("decisions_carried_out")),
        "regulator_referral": _decided(data.get("regulator_referral_decision"), "referred",
                                       data.get("regulator") or "other"),
        "meetings": [str(len(data.get("meeting_history") or []) + (1 if data.get("outcome_meeting_held_on") else 0))],
        "lessons_recorded_at": _one(data.get("Task_lessons_learned_completed_at")),
        "days_to_conclusion": _days_between(data.get("case_opened_at"), data.get("closed_at")),
    }


def _pipot_dbs(data: dict) -> list[str]:
    """A DBS referral made (referrals out or the mandatory referral give its date, or the meeting's decision
    to refer was carried out), not one only decided."""
    if data.get("dbs_referral_made_on") or data.get("mandatory_dbs_referral_made_on") or _decision_done(data, "dbs_referral"):
        return [YES]
    return [NO] if data.get("dbs_referral_decision") == "not_required" else []


def _decision_done(data: dict, decision: str) -> bool:
    done = data.get("meeting_actions_done")
    return isinstance(done, list) and any(isinstance(a, dict) and a.get("decision") == decision
                                          and a.get("status") == "completed" for a in done)


def _lado(data: dict) -> Facts:
    consultation = data.get("contact_type") == "consultation"
    return {
        "referral": [NO if consultation else YES],
        "threshold_met": _flag(data.get("threshold_met")),
        "met_route": _one(data.get("met_route")) if data.get("threshold_met") is True else [],
        "decisions_carried_out": _flag(data.get("decisions_carried_out")),
        "source": _one(data.get("referrer_agency_type")) or (["pipot_case"] if data.get("started_by_message") else []),
        "sector": _one(data.get("organisation_status")),
        "category": _many(data.get("allegation_categories")) or _one(data.get("consultation_category")),
        "theme": [theme for field, theme in LADO_THEMES.items() if data.get(field) is True],
        "suspended": [YES] if data.get("subject_suspended") is True
        or data.get("suspension_recommendation") == "suspension" else [],
        "dbs_referral": _flag(data.get("dbs_referral_made")),
        "regulator_referral": _lado_regulator(data),
        "meetings": [str(_lado_meetings(data))],
        "lessons_recorded_at": _one(data.get("Task_final_pot_meeting_completed_at")) if data.get("lessons_learnt") else [],
        "days_to_initial_response": _number(data.get("days_to_initial_response")),
        "days_to_threshold_decision": _number(data.get("days_to_threshold_decision")),
        "days_to_conclusion": _number(data.get("days_to_conclusion")),
        "lado_informed_in_time": _flag(data.get("employer_informed_within_1_working_day")),
        "initial_response_in_time": _flag(data.get("initial_response_within_1_working_day")),
    }


def _lado_regulator(data: dict) -> list[str]:
    regulator = data.get("regulator_referral")
    if data.get("regulator_referral_made") is True:
        return [regulator if regulator and regulator != "none" else "other"]
    if isinstance(regulator, str) and regulator:
        return [regulator]
    return []


def _lado_meetings(data: dict) -> int:
    held = [data.get("strategy_discussion_recorded_at"), data.get("pot_meeting_recorded_at"),
            data.get("final_meeting_date")]
    interim = data.get("interim_meetings_held")
    return sum(1 for moment in held if moment) + (interim if isinstance(interim, int) else 0)


EXTRACTORS: dict[str, Callable[[dict], Facts]] = {"pipot": _pipot, "lado": _lado}


def _reasons(data: dict) -> Facts:
    facts = {}
    for clock_name, fields in reason_fields().items():
        texts = [str(data[field]).strip() for field in fields if isinstance(data.get(field), str) and data[field].strip()]
        if texts:
            facts[f"reason:{clock_name}"] = [" ".join(_sentence(text.replace("_", " ")) for text in texts)]
    return facts


def _sentence(text: str) -> str:
    return text if text[-1] in ".!?" else text + "."


def _one(value) -> list[str]:
    return [value] if isinstance(value, str) and value else []


def _many(values) -> list[str]:
    return sorted({v for v in values if isinstance(v, str) and v}) if isinstance(values, list) else []


def _flag(value) -> list[str]:
    return [YES if value else NO] if isinstance(value, bool) else []


def _number(value) -> list[str]:
    return [str(value)] if isinstance(value, int) and not isinstance(value, bool) else []


def _decided(decision, positive: str, value: str) -> list[str]:
    if decision == positive:
        return [value]
    return ["none"] if isinstance(decision, str) and decision else []


def _days_between(start, end) -> list[str]:
    if not (isinstance(start, str) and isinstance(end, str) and start and end):
        return []
    try:
        return [str(get_calendar().working_days_between(start, end))]
    except (TypeError, ValueError):
        return []


def set_retention_review(case: Case) -> RetentionRecord | None:
    """Give a closed case of a safeguarding pathway its retention review date (once); audited.
    Part of the caller's transaction: does not commit."""
    if case.pathway not in PATHWAY_MANAGERS or db.session.get(RetentionRecord, case.id) is not None:
        return None
    config = current_app.config
    rule = retention_review_date(
        _allegation_date(case), case.subject_date_of_birth,
        years_from_allegation=int(config["RETENTION_YEARS_FROM_ALLEGATION"]),
        pension_age=str(config["RETENTION_PENSION_AGE"]))
    record = RetentionRecord(case_id=case.id, review_on=rule.review_on, rule=rule.rule[:255], status="retained",
                             legal_hold=False, legal_hold_reason="", created_at=clock.now())
    db.session.add(record)
    record_event("retention_review_set", case_id=case.id, data={"review_on": rule.review_on, "rule": rule.rule})
    return record


def _allegation_date(case: Case) -> date:
    return get_calendar().local(case.opened_at).date()
